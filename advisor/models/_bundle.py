"""Model bundles: a folder that stores trained models without pickle, and its model card.

Layout (every file's SHA-256 is listed in ``model_card.json`` and checked on load)::

    model_card.json        provenance, metrics, library versions, file hashes
    model_card.sha256      the card's own SHA-256 (``sha256sum -c`` format)
    feature_space.json     the model's features, kinds and categories, in order
    constraints.yaml       the constraint file the models were trained with (when known)
    catalog.json           the product catalogue (recommender bundles)
    models/<name>/         one folder per model ("propensity", or one per product):
        model.json         family, parameters, target, classes, calibration method
        calibrator.skops   the calibrator (scikit-learn, via skops)
        leaderboard.json   every trial of the study
        xgboost.json | logistic.skops | mlp.json + mlp.pt + scaler.skops

XGBoost is stored in its own JSON format, torch weights as a ``state_dict`` read with
``weights_only=True``, scikit-learn parts with skops restricted to an explicit list of types.
The loader reads only files the card lists, never through a symbolic link nor outside the
folder, each once: its bytes are hashed, then parsed. The hashes detect corruption and
edits; they are not a signature.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from advisor.errors import BundleError
from advisor.models._automl import TrainingResult
from advisor.models._bundle_io import (
    BUNDLE_FORMAT,
    CARD_HASH_NAME,
    CARD_NAME,
    FORMAT_VERSION,
    BundleReader,
    check_target,
    parse_json,
    read_card,
    replace_folder,
)
from advisor.models._card import (
    MODEL_NAME_PATTERN,
    ConstraintFileRecord,
    DataRecord,
    ModelCard,
    ModelEntry,
    ModelFileRecord,
)
from advisor.models._families import load_estimator
from advisor.models._products import ProductCatalog, ProductRecommender, RecommenderTraining
from advisor.models._propensity import Calibrator, PropensityModel
from advisor.models._skops import loads_sklearn, save_sklearn
from constraints import ConstraintError, parse_constraint_file
from counterfactuals import CounterfactualError, FeatureSpace

__all__ = ["BUNDLE_FORMAT", "BundleIntegrity", "ModelBundle", "load_bundle", "save_bundle"]

_LIBRARIES = ("levers", "numpy", "pandas", "scikit-learn", "xgboost", "torch", "optuna", "skops")


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleIntegrity:
    """What :func:`load_bundle` verified.

    Parameters
    ----------
    card_verified
        The card matched ``model_card.sha256``; False when the bundle has no such file
        (written before Levers kept it: re-save the bundle to add it).
    n_files
        Files of the card's list read through and matching their SHA-256 (all of them).
    """

    card_verified: bool
    n_files: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelBundle:
    """A loaded bundle: its card, its model(s), leaderboards and constraint file text."""

    path: Path
    card: ModelCard
    models: dict[str, PropensityModel]
    leaderboards: dict[str, pd.DataFrame]
    recommender: ProductRecommender | None
    constraint_text: str | None
    integrity: BundleIntegrity

    @property
    def model(self) -> PropensityModel:
        """The propensity model of a single-model bundle (the first product's otherwise)."""
        return next(iter(self.models.values()))

    @property
    def id_column(self) -> str | None:
        """The data's column of client ids, or None.

        The card's (recorded at training), else the constraint file's ``id_column``; pass
        it as ``recorded=`` to :func:`advisor.datasets.index_clients`.
        """
        if self.card.data.id_column is not None:
            return self.card.data.id_column
        if self.constraint_text is None:
            return None
        try:
            return parse_constraint_file(self.constraint_text).id_column
        except ConstraintError:  # the binding reports the file's problems
            return None

    @staticmethod
    def check_target(directory: str | Path, *, overwrite: bool = False) -> Path:
        """Check, before any work, that :func:`save_bundle` may write ``directory``.

        Raises
        ------
        BundleError
            ``directory`` is a file or a link, a non-empty folder that is not a bundle (even
            with ``overwrite``), an existing bundle without ``overwrite``, or its nearest
            existing folder is not writable.
        """
        return check_target(directory, overwrite=overwrite)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions() -> dict[str, str]:
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _write_json(path: Path, payload: Any, *, sort_keys: bool = True) -> None:
    path.write_text(json.dumps(_json_safe(payload), indent=2, sort_keys=sort_keys) + "\n")


def _save_model(result: TrainingResult, folder: Path) -> None:
    folder.mkdir(parents=True)
    model = result.model
    model.estimator.save(folder)
    save_sklearn(model.calibrator.model, folder / "calibrator.skops")
    _write_json(
        folder / "model.json",
        {
            "family": model.family,
            "params": model.params,
            "target": model.target,
            "classes": list(model.classes),
            "calibration": model.calibrator.method,
        },
    )
    board = result.leaderboard.to_dict(orient="records")
    _write_json(folder / "leaderboard.json", board)


def save_bundle(
    training: TrainingResult | RecommenderTraining,
    directory: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Write a trained model (or recommender) as a bundle folder; return its path.

    The folder is written into a temporary sibling and renamed into place at the end, so a
    failed or interrupted save leaves the old bundle (or nothing), never half a bundle, and
    removes the temporary folder. An existing folder is replaced only with
    ``overwrite=True`` and only when it is a bundle itself; a file or a non-empty folder
    that is not a bundle is never replaced.
    """
    target = check_target(directory, overwrite=overwrite)
    _check_model_names(training)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=target.parent))
    except OSError as exc:
        raise BundleError(
            f"{target}: its folder must be writable. Got {type(exc).__name__} "
            f"({exc.strerror or exc})."
        ) from exc
    try:
        card = _write_contents(training, staging)
        files = {
            str(p.relative_to(staging).as_posix()): _sha256(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file()
        }
        card = card.model_copy(update={"files": files})
        payload = json.dumps(_json_safe(card.model_dump(mode="json")), indent=2) + "\n"
        (staging / CARD_NAME).write_bytes(payload.encode("utf-8"))  # products in order
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        (staging / CARD_HASH_NAME).write_text(f"{digest}  {CARD_NAME}\n", encoding="ascii")
        check_target(target, overwrite=overwrite)  # the folder may have changed meanwhile
        replace_folder(staging, target)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise BundleError(
                f"{target}: the bundle could not be written. Got {type(exc).__name__} "
                f"({exc.strerror or exc}); nothing was written."
            ) from exc
        raise
    return target


def _check_model_names(training: TrainingResult | RecommenderTraining) -> None:
    if not isinstance(training, RecommenderTraining):
        return
    bad = [name for name in training.results if not re.fullmatch(MODEL_NAME_PATTERN, name)]
    if bad:
        raise BundleError(
            f"products: every name must be a plain identifier ({MODEL_NAME_PATTERN}), as it "
            f"names a folder of the bundle. Got {', '.join(map(repr, bad))}."
        )


def _write_contents(training: TrainingResult | RecommenderTraining, folder: Path) -> ModelCard:
    """Write the bundle's files into ``folder``; return its card (``files`` still empty)."""
    if isinstance(training, TrainingResult):
        results = {"propensity": training}
        text = training.report.constraint_text
        kind: Literal["propensity", "recommender"] = "propensity"
        seed = training.report.seed
    elif isinstance(training, RecommenderTraining):
        results = dict(training.results)
        text = training.constraint_text
        kind = "recommender"
        seed = training.seed
        _write_json(  # catalogue order is the products order
            folder / "catalog.json", training.recommender.catalog.model_dump(), sort_keys=False
        )
    else:
        raise BundleError(
            f"training: must be a TrainingResult or a RecommenderTraining. Got "
            f"{type(training).__name__}."
        )
    first = next(iter(results.values()))
    _write_json(folder / "feature_space.json", first.model.space.to_dict())
    if text is not None:
        (folder / "constraints.yaml").write_text(text, encoding="utf-8")
    for name, result in results.items():
        _save_model(result, folder / "models" / name)
    return ModelCard(
        format=BUNDLE_FORMAT,
        format_version=FORMAT_VERSION,
        kind=kind,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=seed,
        features=first.model.space.names,
        data=DataRecord(
            sha256={name: r.report.data_sha256 for name, r in results.items()},
            ignored_columns=first.report.ignored_columns,
            id_column=first.report.id_column,
        ),
        constraint_file=ConstraintFileRecord(
            name=first.constraints.name,
            sha256=None if text is None else hashlib.sha256(text.encode()).hexdigest(),
        ),
        models={name: ModelEntry.from_training(r) for name, r in results.items()},
        libraries=_versions(),
        files={},
    )


def _load_model(
    reader: BundleReader, name: str, entry: ModelEntry, space: FeatureSpace
) -> tuple[PropensityModel, pd.DataFrame]:
    prefix = f"models/{name}"
    where = reader.root / prefix
    try:
        meta = ModelFileRecord.model_validate_json(reader.read(f"{prefix}/model.json"), strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BundleError(
            f"{where / 'model.json'}: {'.'.join(map(str, first['loc']))[:200] or '(top)'}: "
            f"{first['msg']}. Got {len(exc.errors())} problem(s)."
        ) from exc
    if meta.family != entry.family:
        raise BundleError(
            f"{where / 'model.json'}: family must be the card's ({entry.family}). Got "
            f"{meta.family[:64]!r}."
        )
    estimator = load_estimator(meta.family, lambda file: reader.read(f"{prefix}/{file}"), where)
    expected = LogisticRegression if meta.calibration == "sigmoid" else IsotonicRegression
    calibrator = loads_sklearn(
        reader.read(f"{prefix}/calibrator.skops"), expected, where / "calibrator.skops"
    )
    model = PropensityModel(
        space=space,
        estimator=estimator,
        calibrator=Calibrator(meta.calibration, calibrator),
        params=dict(meta.params),
        target=meta.target,
        classes=meta.classes,
    )
    rows = parse_json(reader.read(f"{prefix}/leaderboard.json"), where / "leaderboard.json")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BundleError(
            f"{where / 'leaderboard.json'}: must be a list of trials (objects). Got a "
            f"{type(rows).__name__}."
        )
    return model, pd.DataFrame(rows)


def _read_constraints(reader: BundleReader, card: ModelCard) -> str | None:
    name = "constraints.yaml"
    if not reader.listed(name):
        if card.constraint_file.sha256 is not None:
            raise BundleError(
                f"{reader.root / name}: must be listed in the model card (the card records a "
                "constraint file). Got no entry in files."
            )
        return None
    data = reader.read(name)
    if hashlib.sha256(data).hexdigest() != card.constraint_file.sha256:
        raise BundleError(
            f"{reader.root / name}: must match constraint_file.sha256 of the model card. Got "
            "a different file."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{reader.root / name}: must be UTF-8 text. Got {exc.reason}.") from exc


def load_bundle(directory: str | Path) -> ModelBundle:
    """Read a bundle folder, checking every file against the card; never unpickles.

    Only files the card lists are read, each once (its bytes hashed, then parsed), never
    through a symbolic link nor outside the folder; the card itself is checked against
    ``model_card.sha256`` when the bundle has one (see :class:`BundleIntegrity`).

    Raises
    ------
    BundleError
        The folder is missing, the card is not a Levers card (or is too large, or does not
        match its hash), a file is missing, linked, unlisted, too large, corrupted or
        edited, or holds an untrusted type.
    """
    given = Path(directory)
    folder = given.resolve() if given.is_dir() else given
    card, card_verified = read_card(folder)
    reader = BundleReader(folder, card.files)
    try:
        space = FeatureSpace.from_dict(
            parse_json(reader.read("feature_space.json"), folder / "feature_space.json")
        )
    except (CounterfactualError, TypeError, KeyError, AttributeError) as exc:
        raise BundleError(f"{folder / 'feature_space.json'}: {str(exc)[:300]}") from exc
    if tuple(space.names) != tuple(card.features):
        raise BundleError(
            f"{folder / 'feature_space.json'}: its features must be the card's, in order. Got "
            f"{len(space.names)} features for the card's {len(card.features)} (or another order)."
        )
    models: dict[str, PropensityModel] = {}
    boards: dict[str, pd.DataFrame] = {}
    for name, entry in card.models.items():
        models[name], boards[name] = _load_model(reader, name, entry, space)
    recommender = None
    if card.kind == "recommender":
        raw = parse_json(reader.read("catalog.json"), folder / "catalog.json")
        try:
            catalog = ProductCatalog.model_validate(raw)
        except ValidationError as exc:
            raise BundleError(f"{folder / 'catalog.json'}: must be a product catalogue.") from exc
        recommender = ProductRecommender(catalog=catalog, models=models)
    constraint_text = _read_constraints(reader, card)
    reader.read_rest()
    return ModelBundle(
        path=given,
        card=card,
        models=models,
        leaderboards=boards,
        recommender=recommender,
        constraint_text=constraint_text,
        integrity=BundleIntegrity(card_verified=card_verified, n_files=len(reader.files)),
    )
