"""Model bundles: a folder that stores trained models without pickle, and its model card.

Layout (every file's SHA-256 is listed in ``model_card.json`` and checked on load)::

    model_card.json        provenance, metrics, library versions, file hashes
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
The hashes detect corruption and edits; they are not a signature.
"""

from __future__ import annotations

import hashlib
import json
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
from advisor.models._card import ConstraintFileRecord, DataRecord, ModelCard, ModelEntry
from advisor.models._families import load_estimator
from advisor.models._products import ProductCatalog, ProductRecommender, RecommenderTraining
from advisor.models._propensity import Calibrator, PropensityModel
from advisor.models._skops import load_sklearn, save_sklearn
from counterfactuals import CounterfactualError, FeatureSpace

__all__ = ["BUNDLE_FORMAT", "ModelBundle", "load_bundle", "save_bundle"]

BUNDLE_FORMAT: Literal["levers-model-bundle"] = "levers-model-bundle"
FORMAT_VERSION = 1
_LIBRARIES = ("levers", "numpy", "pandas", "scikit-learn", "xgboost", "torch", "optuna", "skops")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelBundle:
    """A loaded bundle: its card, its model(s), leaderboards and constraint file text."""

    path: Path
    card: ModelCard
    models: dict[str, PropensityModel]
    leaderboards: dict[str, pd.DataFrame]
    recommender: ProductRecommender | None
    constraint_text: str | None

    @property
    def model(self) -> PropensityModel:
        """The propensity model of a single-model bundle (the first product's otherwise)."""
        return next(iter(self.models.values()))


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

    The folder is written next to its destination and moved in place at the end, so a
    failed save never leaves half a bundle. An existing folder is replaced only with
    ``overwrite=True`` and only when it is a bundle itself.
    """
    target = Path(directory)
    if target.exists():
        if not overwrite:
            raise BundleError(
                f"{target}: must not exist yet. Got an existing path. Hint: pass "
                "overwrite=True (--force on the CLI) or choose another folder."
            )
        if not (target / "model_card.json").is_file():
            raise BundleError(
                f"{target}: can only be overwritten when it is a model bundle. Got a folder "
                "without model_card.json; refusing to delete it."
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=target.parent))
    try:
        card = _write_contents(training, staging)
        files = {
            str(p.relative_to(staging).as_posix()): _sha256(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file()
        }
        card = card.model_copy(update={"files": files})
        payload = card.model_dump(mode="json")
        _write_json(staging / "model_card.json", payload, sort_keys=False)  # products in order
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


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
        ),
        constraint_file=ConstraintFileRecord(
            name=first.constraints.name,
            sha256=None if text is None else hashlib.sha256(text.encode()).hexdigest(),
        ),
        models={name: ModelEntry.from_training(r) for name, r in results.items()},
        libraries=_versions(),
        files={},
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{path}: must exist in the bundle. Got no such file.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: must be valid JSON. Got a corrupted file ({exc}).") from exc


def _read_card(folder: Path) -> ModelCard:
    if not folder.is_dir():
        raise BundleError(
            f"{folder}: must be a model bundle folder. Got no such folder. Hint: create one "
            "with `levers train ... --out DIR` (or `levers train --demo`)."
        )
    raw = _read_json(folder / "model_card.json")
    if isinstance(raw, dict) and raw.get("format") == BUNDLE_FORMAT:
        found = raw.get("format_version")
        if found != FORMAT_VERSION:
            raise BundleError(
                f"{folder / 'model_card.json'}: format_version must be {FORMAT_VERSION}. Got "
                f"{found!r}. Hint: retrain the model with this version of Levers."
            )
    try:
        return ModelCard.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "(top)"
        raise BundleError(
            f"{folder / 'model_card.json'}: {where}: {first['msg']}. Got "
            f"{len(exc.errors())} problem(s); the card is not a Levers model card."
        ) from exc


def _verify_files(folder: Path, card: ModelCard) -> None:
    for name, digest in card.files.items():
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise BundleError(f"{folder}: file names must stay inside the bundle. Got {name!r}.")
        if not path.is_file():
            raise BundleError(f"{path}: must exist (listed in the model card). Got no such file.")
        if _sha256(path) != digest:
            raise BundleError(
                f"{path}: must match the SHA-256 recorded in the model card. Got a different "
                "file (corrupted or edited after training). Hint: retrain or restore the bundle."
            )


def _load_model(folder: Path, space: FeatureSpace) -> tuple[PropensityModel, pd.DataFrame]:
    meta = _read_json(folder / "model.json")
    if not isinstance(meta, dict) or not {"family", "params", "target", "classes"} <= set(meta):
        raise BundleError(f"{folder / 'model.json'}: must describe a model. Got {meta!r}.")
    estimator = load_estimator(str(meta["family"]), folder)
    method = meta.get("calibration")
    expected = LogisticRegression if method == "sigmoid" else IsotonicRegression
    calibrator = load_sklearn(folder / "calibrator.skops", expected)
    model = PropensityModel(
        space=space,
        estimator=estimator,
        calibrator=Calibrator("sigmoid" if method == "sigmoid" else "isotonic", calibrator),
        params=dict(meta["params"]),
        target=str(meta["target"]),
        classes=(meta["classes"][0], meta["classes"][1]),
    )
    board = pd.DataFrame(_read_json(folder / "leaderboard.json"))
    return model, board


def load_bundle(directory: str | Path) -> ModelBundle:
    """Read a bundle folder, checking every file against the card; never unpickles.

    Raises
    ------
    BundleError
        The folder is missing, the card is not a Levers card, a file is missing, corrupted
        or edited, or holds an untrusted type.
    """
    folder = Path(directory)
    card = _read_card(folder)
    _verify_files(folder, card)
    try:
        space = FeatureSpace.from_dict(_read_json(folder / "feature_space.json"))
    except CounterfactualError as exc:
        raise BundleError(f"{folder / 'feature_space.json'}: {exc}") from exc
    models: dict[str, PropensityModel] = {}
    boards: dict[str, pd.DataFrame] = {}
    for name in card.models:
        models[name], boards[name] = _load_model(folder / "models" / name, space)
    recommender = None
    if card.kind == "recommender":
        try:
            catalog = ProductCatalog.model_validate(_read_json(folder / "catalog.json"))
        except ValidationError as exc:
            raise BundleError(f"{folder / 'catalog.json'}: must be a product catalogue.") from exc
        recommender = ProductRecommender(catalog=catalog, models=models)
    constraints = folder / "constraints.yaml"
    return ModelBundle(
        path=folder,
        card=card,
        models=models,
        leaderboards=boards,
        recommender=recommender,
        constraint_text=constraints.read_text(encoding="utf-8") if constraints.is_file() else None,
    )
