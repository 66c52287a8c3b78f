"""Model diagnostics for the model page: held-out clients, permutation importance, constraints.

- :func:`held_out_clients` finds a bundle model's test clients again in the data it was
  trained on (same rows, same stratified split), checking the data against the card's hash.
- :func:`permutation_importance` measures how much a test metric drops when one business
  feature is shuffled (all its design columns together), every permutation scored in a few
  batched calls.
- :func:`validate_constraint_text` re-validates a bundle's constraint file against data and
  lists every problem, never raising on a bad file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score

from advisor.errors import ModelError
from advisor.models._bundle import ModelBundle
from advisor.models._data import frame_sha256, training_split
from advisor.models._propensity import PropensityModel
from constraints import (
    ConstraintFileError,
    ConstraintSet,
    FileProblem,
    OneOf,
    ParamSpec,
    Whole,
    bind_constraints,
    check_params,
    inspect_constraint_file,
)

__all__ = [
    "IMPORTANCE_PARAMS",
    "METRICS",
    "ConstraintStatus",
    "HeldOut",
    "RowSplit",
    "held_out_clients",
    "permutation_importance",
    "split_rows",
    "validate_constraint_text",
]

FloatArray = NDArray[np.float64]
Metric = Literal["roc_auc", "average_precision", "brier", "log_loss"]
METRICS: tuple[Metric, ...] = ("roc_auc", "average_precision", "brier", "log_loss")
_HIGHER_IS_BETTER = {"roc_auc": True, "average_precision": True, "brier": False, "log_loss": False}
IMPORTANCE_PARAMS: ParamSpec = {
    "n_repeats": Whole(1),
    "seed": Whole(0),
    "metric": OneOf(METRICS),
    "batch_rows": Whole(1),
}
"""The rules of :func:`permutation_importance`'s options."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldOut:
    """A bundle model's held-out test clients.

    Parameters
    ----------
    clients
        The test clients in business values (rows of the data, in split order).
    y
        Their 0/1 labels (1 = the model's positive class).
    """

    clients: pd.DataFrame
    y: NDArray[np.int64]


def held_out_clients(bundle: ModelBundle, data: pd.DataFrame, name: str) -> HeldOut:
    """Return the test clients of the bundle's model ``name``, found again in ``data``.

    For a recommender the model was trained on the clients not holding the product; the
    rows and their labels must hash to the card's ``data_sha256``, so the split is exactly
    the one :func:`~advisor.models.train` held out.

    Raises
    ------
    ModelError
        ``name`` is not a model of the bundle, or ``data`` is not the data it was trained on.
    """
    if name not in bundle.models:
        raise ModelError(f"name: must be one of the bundle's models. Got {name!r}.")
    if not isinstance(data, pd.DataFrame):
        raise ModelError(f"data: must be a pandas DataFrame. Got {type(data).__name__}.")
    entry, model = bundle.card.models[name], bundle.models[name]
    rows = data
    if bundle.recommender is not None:
        held = bundle.recommender.catalog.products[name].held
        rows = data.loc[~data[held].astype(bool)] if held in data.columns else data
    split = split_rows(model, rows, seed=bundle.card.seed, data_sha256=entry.data_sha256, name=name)
    if len(split.test) != entry.n_test:
        raise ModelError(
            f"model {name!r}: the held-out split must have {entry.n_test} rows (the "
            f"card's n_test). Got {len(split.test)}."
        )
    return HeldOut(clients=rows.iloc[split.test], y=split.y[split.test])


@dataclass(frozen=True, slots=True, kw_only=True)
class RowSplit:
    """Positions of a model's training and test rows in its data, and the rows' 0/1 labels."""

    train: NDArray[np.int64]
    test: NDArray[np.int64]
    y: NDArray[np.int64]


def split_rows(
    model: PropensityModel,
    rows: pd.DataFrame,
    *,
    seed: int,
    data_sha256: str | None,
    name: str = "model",
) -> RowSplit:
    """Split ``rows`` exactly as :func:`~advisor.models.train` did for ``model``.

    ``rows`` must be the data the model was trained on (for a recommender: the clients not
    holding the product): features and target must hash to ``data_sha256`` (the card's).

    Raises
    ------
    ModelError
        The rows are not the model's training data.
    """
    columns = [*model.space.names, model.target]
    missing = [c for c in columns if c not in rows.columns]
    if missing or data_sha256 is None or frame_sha256(rows[columns]) != data_sha256:
        got = f"missing columns {missing}" if missing else "other rows or values"
        raise ModelError(
            f"data: must be the data model {name!r} was trained on (its card's data_sha256). "
            f"Got {got}. Hint: regenerate the demo portfolio with the bundle's size and seed."
        )
    y = np.asarray(rows[model.target].to_numpy(dtype=object) == model.classes[1], dtype=np.int64)
    train, test = training_split(y, seed=seed)
    return RowSplit(train=train, test=test, y=y)


def _labels01(model: PropensityModel, y: ArrayLike, n: int) -> NDArray[np.int64]:
    labels = np.asarray(y, dtype=object).reshape(-1)
    if len(labels) != n:
        raise ModelError(f"y: must have one label per client ({n}). Got {len(labels)}.")
    known = np.isin(labels, np.array(model.classes, dtype=object))
    if not known.all():
        raise ModelError(
            f"y: labels must be the model's classes {model.classes!r}. Got {labels[~known][0]!r}."
        )
    y01 = np.asarray(labels == model.classes[1], dtype=np.int64)
    if y01.min() == y01.max():
        raise ModelError("y: must hold both classes to measure a drop. Got only one.")
    return y01


def _scores(metric: Metric, y: NDArray[np.int64], p: FloatArray) -> FloatArray:
    """Return the metric of every row of ``p`` (k, n) against labels ``y`` (n,)."""
    if metric == "roc_auc":
        pos = y.astype(bool)
        n_pos, n_neg = int(pos.sum()), int((~pos).sum())
        ranks = rankdata(p, axis=1)
        return np.asarray(
            (ranks[:, pos].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg),
            dtype=np.float64,
        )
    if metric == "brier":
        return np.asarray(((p - y) ** 2).mean(axis=1), dtype=np.float64)
    if metric == "log_loss":
        q = np.clip(p, 1e-12, 1 - 1e-12)
        return np.asarray(-(y * np.log(q) + (1 - y) * np.log(1 - q)).mean(axis=1))
    return np.array([average_precision_score(y, row) for row in p], dtype=np.float64)


def permutation_importance(
    model: PropensityModel,
    data: pd.DataFrame,
    y: ArrayLike,
    *,
    n_repeats: int = 5,
    seed: int = 0,
    metric: Metric = "roc_auc",
    batch_rows: int = 250_000,
) -> pd.DataFrame:
    """Return how much ``metric`` worsens when each business feature is shuffled.

    A feature is permuted as a whole (its code column, hence all its one-hot design columns
    together), ``n_repeats`` times with seeded permutations; every permuted copy of the data
    is scored in batches of at most ``batch_rows`` rows.

    Parameters
    ----------
    model
        A calibrated propensity model.
    data
        Held-out clients in business values (see :func:`held_out_clients`).
    y
        Their labels (the model's classes, or 0/1 / booleans for (False, True) classes).
    n_repeats, seed
        Permutations per feature and their seed.
    metric
        ``roc_auc`` or ``average_precision`` (higher is better), ``brier`` or ``log_loss``.
    batch_rows
        Rows scored per model call at most (memory bound).

    Returns
    -------
    pandas.DataFrame
        One row per feature, most important first: ``feature``, ``drop_mean``, ``drop_std``
        (worsening of the metric; > 0 means the model relies on the feature).
        ``attrs`` holds ``metric`` and ``baseline`` (the metric on the intact data).
    """
    checked = check_params(
        {"n_repeats": n_repeats, "seed": seed, "metric": metric, "batch_rows": batch_rows},
        IMPORTANCE_PARAMS,
        error=ModelError,
    )
    n_repeats, seed, batch_rows = checked["n_repeats"], checked["seed"], checked["batch_rows"]
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise ModelError("data: must be a non-empty pandas DataFrame of clients.")
    codes = model.space.to_codes(data)
    n, d = codes.shape
    y01 = _labels01(model, y, n)
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(np.arange(n), (d * n_repeats, 1)), axis=1)
    per_batch = max(1, batch_rows // n)
    results = np.empty(d * n_repeats, dtype=np.float64)
    for start in range(0, d * n_repeats, per_batch):
        jobs = range(start, min(start + per_batch, d * n_repeats))
        block = np.tile(codes, (len(jobs), 1))
        for i, job in enumerate(jobs):
            j = job // n_repeats
            block[i * n : (i + 1) * n, j] = codes[perms[job], j]
        p = model.score_codes(block).reshape(len(jobs), n)
        results[start : start + len(jobs)] = _scores(metric, y01, p)
    baseline = float(_scores(metric, y01, model.score_codes(codes)[None, :])[0])
    sign = 1.0 if _HIGHER_IS_BETTER[metric] else -1.0
    drops = sign * (baseline - results.reshape(d, n_repeats))
    frame = pd.DataFrame(
        {
            "feature": list(model.space.names),
            "drop_mean": drops.mean(axis=1),
            "drop_std": drops.std(axis=1),
        }
    )
    frame = frame.sort_values("drop_mean", ascending=False, kind="stable", ignore_index=True)
    frame.attrs = {"metric": metric, "baseline": baseline}
    return frame


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstraintStatus:
    """A constraint file re-validated against data.

    Parameters
    ----------
    ok
        True when the file has no error (warnings allowed).
    problems
        Every error and warning found (the file's, the binding's notes, the feature order's).
    constraints
        The bound constraint set; ``None`` when the file does not load.
    """

    ok: bool
    problems: tuple[FileProblem, ...]
    constraints: ConstraintSet | None

    @property
    def n_errors(self) -> int:
        """Number of errors (warnings left out)."""
        return sum(p.severity == "error" for p in self.problems)

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: ``severity``, ``line``, ``path``, ``message``, ``hint``."""
        columns = ["severity", "line", "path", "message", "hint"]
        rows: list[dict[str, Any]] = [{c: getattr(p, c) for c in columns} for p in self.problems]
        return pd.DataFrame(rows, columns=columns)


def _order_problem(
    source: str, found: Sequence[str], features: Sequence[str]
) -> FileProblem | None:
    if list(found) == list(features):
        return None
    return FileProblem(
        source=source,
        line=0,
        path="features",
        message=(
            f"must list the model's {len(features)} features in its order. Got "
            f"{len(found)} features{' in another order' if set(found) == set(features) else ''}."
        ),
        hint="use the constraint file the model was trained with.",
    )


def validate_constraint_text(
    text: str,
    data: pd.DataFrame | None = None,
    *,
    features: Sequence[str] | None = None,
    source: str = "constraints.yaml",
) -> ConstraintStatus:
    r"""Validate a constraint file's text, bind it to ``data`` and compare its features.

    Never raises on a bad file: every problem is returned.

    Examples
    --------
    >>> status = validate_constraint_text("name: t\nfeatures:\n  a: {kind: binary}")
    >>> status.ok, status.problems[0].path
    (False, 'features.a.role')
    """
    if not isinstance(text, str):
        raise ModelError(f"text: must be the constraint file's text. Got {type(text).__name__}.")
    doc, found = inspect_constraint_file(text, source)
    problems = list(found)
    constraints = None
    if doc is not None:
        try:
            constraints = bind_constraints(doc, data)
        except ConstraintFileError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(constraints.notes)
            if features is not None:
                order = _order_problem(source, constraints.feature_names, features)
                problems.extend([order] if order else [])
    ok = constraints is not None and not any(p.severity == "error" for p in problems)
    return ConstraintStatus(ok=ok, problems=tuple(problems), constraints=constraints)
