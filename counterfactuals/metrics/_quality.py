"""Validity, feasibility, violations, sparsity, change count, proximity and cost."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from constraints import ConstraintSet, changed
from counterfactuals.errors import CounterfactualError
from counterfactuals.metrics._inputs import (
    FloatArray,
    IntArray,
    as_codes,
    as_constraints,
    as_pairs,
    mean_or_nan,
)

__all__ = [
    "RULE_TYPES",
    "change_count",
    "cost",
    "feasibility",
    "proximity",
    "sparsity",
    "validity",
    "violations",
]

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
        return mean_or_nan(values.astype(np.float64))
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise CounterfactualError(
            f"validity.threshold: must be a finite number. Got {threshold!r}."
        )
    scores = as_codes("validity.outcome", values, None)[0] if values.size else np.zeros(0)
    reached = scores <= threshold if at_most else scores >= threshold
    return mean_or_nan(reached.astype(np.float64))


def feasibility(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> float:
    """Return the share of counterfactuals that pass every constraint (NaN when none)."""
    cs = as_constraints("feasibility", constraints)
    c, x = as_pairs(
        "feasibility", clients, counterfactuals, cs.n_features, cs.compiled.keeps_missing
    )
    if not len(x):
        return math.nan
    return mean_or_nan(cs.check(np.ascontiguousarray(c), x).ok.astype(np.float64))


def violations(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> dict[str, int]:
    """Count the counterfactuals breaking each rule type (each counted once per type).

    Returns
    -------
    dict[str, int]
        One entry per :data:`RULE_TYPES` (0 when never broken): ``rule`` gathers every
        ``rule:<name>`` and ``one_hot`` every ``one_hot:<group>``.
    """
    cs = as_constraints("violations", constraints)
    c, x = as_pairs(
        "violations", clients, counterfactuals, cs.n_features, cs.compiled.keeps_missing
    )
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
    c, x = as_pairs("sparsity", clients, counterfactuals, None)
    counts: IntArray = changed(c, x).sum(axis=1).astype(np.intp)
    return counts


def change_count(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> IntArray:
    """Return the number of changes as ``max_changes`` counts them, (n,).

    A one-hot or change group counts once; derived features never count.
    """
    cs = as_constraints("change_count", constraints)
    c, x = as_pairs(
        "change_count", clients, counterfactuals, cs.n_features, cs.compiled.keeps_missing
    )
    return cs.compiled.count_changes(changed(c, x))


def proximity(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> FloatArray:
    """Return the distance from each client to its counterfactual, (n,).

    Numeric and ordinal features add ``|change| / scale`` (:attr:`ConstraintSet.scales`,
    median absolute deviations); each changed category or yes/no feature adds 1. A value
    missing on both sides adds nothing; missing on one side only adds 1 (``missing: keep``).

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
    cs = as_constraints("proximity", constraints)
    c, x = as_pairs("proximity", clients, counterfactuals, cs.n_features, cs.compiled.keeps_missing)
    moved = changed(c, x)
    categorical = np.array([f.kind == "categorical" for f in cs.features])
    size = np.where(categorical, 1.0, np.abs(x - c) / cs.scales)
    size = np.where(np.isnan(x) | np.isnan(c), 1.0, size)
    distance: FloatArray = np.where(moved, size, 0.0).sum(axis=1)
    return distance


def cost(constraints: ConstraintSet, clients: Any, counterfactuals: Any) -> FloatArray:
    """Return the cost of each counterfactual's changes (:meth:`ConstraintSet.cost`), (n,)."""
    cs = as_constraints("cost", constraints)
    c, x = as_pairs("cost", clients, counterfactuals, cs.n_features, cs.compiled.keeps_missing)
    if not len(x):
        return np.zeros(0)
    return cs.cost(np.ascontiguousarray(c), x)
