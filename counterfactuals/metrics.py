"""Quality metrics of counterfactuals, as pure functions on codes arrays.

Every function takes codes (see :meth:`constraints.ConstraintSet.to_array`): counterfactuals
as an (n, d) array and the clients as one (d,) row or one row per counterfactual (n, d).
One distance is used throughout (proximity, plausibility, outlier rate, diversity): the L1
distance where numeric and ordinal features count in median absolute deviations
(:attr:`ConstraintSet.scales`) and a changed category or yes/no feature counts 1.

The catalogue follows CARLA's: validity, violations, sparsity, proximity, cost,
plausibility (distance to the target class, local outlier factor), diversity and time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from constraints import ConstraintSet, changed
from counterfactuals.errors import CounterfactualError

__all__ = [
    "RULE_TYPES",
    "change_count",
    "cost",
    "diversity",
    "feasibility",
    "feature_set_diversity",
    "lof_inlier_rate",
    "plausibility",
    "proximity",
    "sparsity",
    "summarize",
    "time_summary",
    "validity",
    "violations",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

RULE_TYPES = (
    "immutable",
    "domain",
    "direction",
    "min",
    "max",
    "max_change",
    "step",
    "transition",
    "derived",
    "one_hot",
    "max_changes",
    "rule",
)
"""The rule types :func:`violations` counts, in its keys' order."""

_HINT = "Hint: convert business frames with ConstraintSet.to_array(frame)."


# ----------------------------------------------------------------------------- validation
def _codes(where: str, value: Any, d: int | None) -> FloatArray:
    """Return ``value`` as a finite 2-D float array (a 1-D row becomes one row)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CounterfactualError(
            f"{where}: must be a numeric array of codes. Got {type(value).__name__}. {_HINT}"
        ) from exc
    if array.ndim == 1:  # one row; an empty list is no row
        array = array[None, :] if array.size else array.reshape(0, d or 0)
    columns = "" if d is None else f" with {d} columns (one per feature)"
    if array.ndim != 2 or (d is not None and array.shape[1] != d):
        raise CounterfactualError(
            f"{where}: must be a 2-D array of codes{columns}. Got shape {np.shape(value)}."
        )
    if not np.isfinite(array).all():
        raise CounterfactualError(f"{where}: values must be finite. Got NaN or infinity.")
    return array


def _pair(
    where: str, clients: Any, counterfactuals: Any, d: int | None
) -> tuple[FloatArray, FloatArray]:
    """Return (clients, counterfactuals) with one client row per counterfactual row."""
    c = _codes(f"{where}.clients", clients, d)
    x = _codes(f"{where}.counterfactuals", counterfactuals, c.shape[1])
    if len(c) not in (1, len(x)):
        raise CounterfactualError(
            f"{where}.clients: must be one row or one row per counterfactual ({len(x)}). "
            f"Got {len(c)} rows."
        )
    return np.broadcast_to(c, x.shape), x


def _constraints(where: str, value: Any) -> ConstraintSet:
    if not isinstance(value, ConstraintSet):
        raise CounterfactualError(
            f"{where}.constraints: must be a ConstraintSet (see constraints.load_constraints). "
            f"Got {type(value).__name__}."
        )
    return value


def _embed(where: str, constraints: ConstraintSet, codes: FloatArray) -> FloatArray:
    """Return rows whose L1 distances are this module's distance (categories one-hot x 0.5)."""
    parts: list[FloatArray] = []
    scales = constraints.scales
    for j, spec in enumerate(constraints.features):
        column = codes[:, j]
        if spec.kind != "categorical":
            parts.append((column / scales[j])[:, None])
            continue
        k = len(spec.categories)
        bad = (column != np.rint(column)) | (column < 0) | (column > k - 1)
        if bad.any():
            raise CounterfactualError(
                f"{where}: codes of {spec.name!r} must be whole numbers in 0..{k - 1}. "
                f"Got {float(column[bad][0])!r}."
            )
        parts.append(0.5 * np.eye(k)[column.astype(np.intp)])
    return np.hstack(parts)


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.size else math.nan


# ----------------------------------------------------------------------------- validity
def validity(outcome: Any, threshold: float | None = None, *, at_most: bool = False) -> float:
    """Return the share of counterfactuals that reach the goal.

    Parameters
    ----------
    outcome
        Either booleans (reached or not), or scores compared with ``threshold``.
    threshold
        With scores: a row reaches the goal when its score is ``>= threshold`` (``<=`` with
        ``at_most``). Pass 0.0 to count slacks (``EngineRequest.slack``) that are ``>= 0``.
    at_most
        The goal is to stay at or below ``threshold`` (risk scores).

    Returns
    -------
    float
        The share in [0, 1]; NaN when there is no counterfactual.

    Examples
    --------
    >>> validity([True, False, True, True])
    0.75
    >>> validity([0.7, 0.4, 0.55], threshold=0.5)
    0.6666666666666666
    """
    values = np.asarray(outcome)
    if values.ndim != 1:
        raise CounterfactualError(f"validity.outcome: must be 1-D. Got shape {values.shape}.")
    if threshold is None:
        if values.size and values.dtype != np.bool_:
            raise CounterfactualError(
                f"validity.outcome: must be booleans when no threshold is given. Got dtype "
                f"{values.dtype}. Hint: pass threshold= to compare scores."
            )
        return _mean(values.astype(np.float64))
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise CounterfactualError(
            f"validity.threshold: must be a finite number. Got {threshold!r}."
        )
    scores = _codes("validity.outcome", values, None)[0] if values.size else np.zeros(0)
    reached = scores <= threshold if at_most else scores >= threshold
    return _mean(reached.astype(np.float64))


def feasibility(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> float:
    """Return the share of counterfactuals that pass every constraint (NaN when none)."""
    cs = _constraints("feasibility", constraints)
    c, x = _pair("feasibility", clients, counterfactuals, cs.n_features)
    if not len(x):
        return math.nan
    return _mean(cs.check(np.ascontiguousarray(c), x).ok.astype(np.float64))


def violations(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> dict[str, int]:
    """Count the counterfactuals breaking each rule type (each counted once per type).

    Returns
    -------
    dict[str, int]
        One entry per :data:`RULE_TYPES` (0 when never broken): ``rule`` gathers every
        ``rule:<name>`` and ``one_hot`` every ``one_hot:<group>``.
    """
    cs = _constraints("violations", constraints)
    c, x = _pair("violations", clients, counterfactuals, cs.n_features)
    out = dict.fromkeys(RULE_TYPES, 0)
    if not len(x):
        return out
    result = cs.check(np.ascontiguousarray(c), x)
    masks = [(rule, mask.any(axis=1)) for rule, (_, mask) in result.feature_violations.items()]
    masks += list(result.global_violations.items())
    broken = {rule: np.zeros(len(x), dtype=bool) for rule in RULE_TYPES}
    for rule, mask in masks:
        kind = rule.split(":", 1)[0]
        broken[kind] = broken.get(kind, np.zeros(len(x), dtype=bool)) | mask
    return {rule: int(mask.sum()) for rule, mask in broken.items()}


# ----------------------------------------------------------------------------- distances
def sparsity(clients: Any, counterfactuals: Any) -> IntArray:
    """Return the number of features each counterfactual changes, (n,).

    A feature changed when it moved by more than 1e-9 relative to the client's value (the
    constraint language's tolerance). :func:`change_count` counts as ``max_changes`` does.

    Examples
    --------
    >>> sparsity([1.0, 2.0, 3.0], [[1.0, 2.0, 3.0], [0.0, 2.0, 4.0]]).tolist()
    [0, 2]
    """
    c, x = _pair("sparsity", clients, counterfactuals, None)
    counts: IntArray = changed(c, x).sum(axis=1).astype(np.intp)
    return counts


def change_count(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> IntArray:
    """Return the number of changes as ``max_changes`` counts them, (n,).

    A one-hot or change group counts once; derived features never count.
    """
    cs = _constraints("change_count", constraints)
    c, x = _pair("change_count", clients, counterfactuals, cs.n_features)
    return cs.compiled.count_changes(changed(c, x))


def proximity(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> FloatArray:
    """Return the distance from each client to its counterfactual, (n,).

    Numeric and ordinal features add ``|change| / scale`` (:attr:`ConstraintSet.scales`,
    median absolute deviations); each changed category or yes/no feature adds 1.

    Examples
    --------
    >>> from constraints import ConstraintSet, FeatureSpec
    >>> cs = ConstraintSet(name="tiny", features=(
    ...     FeatureSpec(name="transfer", kind="continuous", role="actionable", scale=50.0),
    ...     FeatureSpec(name="plan", kind="categorical", role="actionable",
    ...                 categories=("basic", "plus", "gold")),
    ... ))
    >>> proximity(cs, [100, 0], [[200, 0], [100, 2], [50, 1]]).tolist()
    [2.0, 1.0, 2.0]
    """
    cs = _constraints("proximity", constraints)
    c, x = _pair("proximity", clients, counterfactuals, cs.n_features)
    moved = changed(c, x)
    categorical = np.array([f.kind == "categorical" for f in cs.features])
    size = np.where(categorical, 1.0, np.abs(x - c) / cs.scales)
    distance: FloatArray = np.where(moved, size, 0.0).sum(axis=1)
    return distance


def cost(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> FloatArray:
    """Return the cost of each counterfactual's changes (:meth:`ConstraintSet.cost`), (n,)."""
    cs = _constraints("cost", constraints)
    c, x = _pair("cost", clients, counterfactuals, cs.n_features)
    if not len(x):
        return np.zeros(0)
    return cs.cost(np.ascontiguousarray(c), x)


# ----------------------------------------------------------------------------- plausibility
def _reference(
    where: str, cs: ConstraintSet, counterfactuals: Any, reference: Any
) -> tuple[FloatArray, FloatArray]:
    x = _codes(f"{where}.counterfactuals", counterfactuals, cs.n_features)
    ref = _codes(f"{where}.reference", reference, cs.n_features)
    return (
        _embed(f"{where}.counterfactuals", cs, x),
        _embed(f"{where}.reference", cs, ref),
    )


def _whole(where: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise CounterfactualError(f"{where}: must be a whole number >= {low}. Got {value!r}.")
    return int(value)


def plausibility(
    constraints: ConstraintSet, counterfactuals: Any, reference: Any, k: int = 5
) -> FloatArray:
    """Return the mean distance of each counterfactual to its ``k`` nearest reference rows.

    ``reference`` holds real clients of the target class (e.g. the training clients who
    took the product): a small value means the counterfactual looks like them.
    """
    from sklearn.neighbors import NearestNeighbors

    cs = _constraints("plausibility", constraints)
    x, ref = _reference("plausibility", cs, counterfactuals, reference)
    k = _whole("plausibility.k", k, 1)
    if k > len(ref):
        raise CounterfactualError(
            f"plausibility.reference: must hold at least k={k} rows. Got {len(ref)}."
        )
    if not len(x):
        return np.zeros(0)
    neighbours = NearestNeighbors(n_neighbors=k, metric="manhattan").fit(ref)
    distance, _ = neighbours.kneighbors(x)
    out: FloatArray = distance.mean(axis=1)
    return out


def lof_inlier_rate(
    constraints: ConstraintSet,
    counterfactuals: Any,
    reference: Any,
    n_neighbors: int = 20,
    seed: int = 0,
    max_reference: int | None = 20_000,
) -> float:
    """Return the share of counterfactuals a local outlier factor calls inliers (NaN if none).

    The detector (scikit-learn's ``LocalOutlierFactor(novelty=True)``, with this module's
    distance) is fitted on ``reference``, subsampled to ``max_reference`` rows with ``seed``
    when larger; ``n_neighbors`` is capped at the number of reference rows minus one.
    """
    from sklearn.neighbors import LocalOutlierFactor

    cs = _constraints("lof_inlier_rate", constraints)
    x, ref = _reference("lof_inlier_rate", cs, counterfactuals, reference)
    n_neighbors = _whole("lof_inlier_rate.n_neighbors", n_neighbors, 1)
    if len(ref) < 2:
        raise CounterfactualError(
            f"lof_inlier_rate.reference: must hold at least 2 rows. Got {len(ref)}."
        )
    if max_reference is not None:
        max_reference = _whole("lof_inlier_rate.max_reference", max_reference, 2)
        if len(ref) > max_reference:
            rows = np.random.default_rng(seed).choice(len(ref), max_reference, replace=False)
            ref = ref[np.sort(rows)]
    if not len(x):
        return math.nan
    detector = LocalOutlierFactor(
        n_neighbors=min(n_neighbors, len(ref) - 1), metric="manhattan", novelty=True
    ).fit(ref)
    return _mean((detector.predict(x) == 1).astype(np.float64))


# ----------------------------------------------------------------------------- diversity
def diversity(constraints: ConstraintSet, counterfactuals: Any) -> float:
    """Return the mean pairwise distance between one client's counterfactuals (0 for < 2)."""
    from scipy.spatial.distance import pdist

    cs = _constraints("diversity", constraints)
    x = _codes("diversity.counterfactuals", counterfactuals, cs.n_features)
    if len(x) < 2:
        return 0.0
    return float(pdist(_embed("diversity.counterfactuals", cs, x), "cityblock").mean())


def feature_set_diversity(client: Any, counterfactuals: Any) -> float:
    """Return the share of distinct sets of changed features among one client's counterfactuals.

    1.0 when every counterfactual changes a different set of features; NaN when there is none.

    Examples
    --------
    >>> feature_set_diversity([0, 0, 0], [[1, 0, 0], [2, 0, 0], [0, 1, 1]])
    0.6666666666666666
    """
    x = _codes("feature_set_diversity.counterfactuals", counterfactuals, None)
    c = _codes("feature_set_diversity.client", client, x.shape[1])
    if len(c) != 1:
        raise CounterfactualError(
            f"feature_set_diversity.client: must be one row. Got {len(c)} rows."
        )
    if not len(x):
        return math.nan
    sets = np.unique(changed(c, x), axis=0)
    return len(sets) / len(x)


# ----------------------------------------------------------------------------- time and table
def time_summary(seconds: Any) -> dict[str, float]:
    """Return the median, 95th percentile, mean and maximum of run times (NaN when empty).

    Examples
    --------
    >>> time_summary([0.1, 0.2, 0.3, 0.4])["median"]
    0.25
    """
    values = np.asarray(seconds, dtype=np.float64) if np.size(seconds) else np.zeros(0)
    if values.ndim != 1 or not np.isfinite(values).all() or (values < 0).any():
        raise CounterfactualError(
            f"time_summary.seconds: must be a 1-D array of finite durations >= 0. "
            f"Got {np.asarray(seconds).ravel()[:5].tolist()}."
        )
    if not values.size:
        return dict.fromkeys(("median", "p95", "mean", "max"), math.nan)
    return {
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "mean": float(values.mean()),
        "max": float(values.max()),
    }


def summarize(
    constraints: ConstraintSet,
    clients: Any,
    counterfactuals: Any,
    *,
    reached: Any,
    seconds: Any,
    reference: Any = None,
    k: int = 5,
) -> dict[str, float]:
    """Return one benchmark-table row: every metric averaged over the counterfactuals.

    ``reached`` says which counterfactuals reach the goal (booleans, one per row);
    ``seconds`` holds one run time per query; ``reference`` (target-class clients) adds
    ``plausibility`` and ``lof_inlier_rate``. Means are NaN when there is no counterfactual.
    """
    cs = _constraints("summarize", constraints)
    c, x = _pair("summarize", clients, counterfactuals, cs.n_features)
    ok = np.asarray(reached)
    if ok.shape != (len(x),):
        raise CounterfactualError(
            f"summarize.reached: must hold one boolean per counterfactual ({len(x)}). "
            f"Got shape {ok.shape}."
        )
    row: dict[str, float] = {
        "n_counterfactuals": float(len(x)),
        "validity": validity(ok),
        "feasibility": feasibility(cs, c, x),
        "sparsity": _mean(sparsity(c, x).astype(np.float64)),
        "changes": _mean(change_count(cs, c, x).astype(np.float64)),
        "proximity": _mean(proximity(cs, c, x)),
        "cost": _mean(cost(cs, c, x)),
    }
    if reference is not None:
        row["plausibility"] = _mean(plausibility(cs, x, reference, k))
        row["lof_inlier_rate"] = lof_inlier_rate(cs, x, reference)
    row.update({f"time_{key}": value for key, value in time_summary(seconds).items()})
    return row
