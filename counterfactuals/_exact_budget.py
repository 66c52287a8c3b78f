"""A cost budget for the exact engine: every move that alone costs more is cut from the box.

A counterfactual's cost is the sum of its features' costs (each >= 0), so a feature moved to
a value whose own cost exceeds the budget cannot be part of one within it. Shrinking each
feature's reachable range (and dropping unaffordable categories) before the program is built
prunes the trees' splits beyond reach; a row ``cost <= budget`` then does the rest.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, ConstraintSet

__all__ = ["BudgetCut", "within_budget"]

FloatArray = NDArray[np.float64]
_BISECTIONS = 48  # halvings of each side's interval (far below any step)


@dataclasses.dataclass(frozen=True, slots=True)
class BudgetCut:
    """The bounds within the budget, and how much was cut (for the engine's stats)."""

    bounds: ClientBounds
    n_features_frozen: int
    n_categories_dropped: int


def _alone(
    cs: ConstraintSet, client: FloatArray, js: NDArray[np.intp], values: FloatArray
) -> FloatArray:
    """Cost of moving feature ``js[i]`` alone to ``values[i]``, for each i (one call)."""
    rows = np.repeat(client[None, :], len(values), axis=0)
    rows[np.arange(len(values)), js] = values
    costs: FloatArray = cs.feature_costs(client[None, :], rows)[np.arange(len(values)), js]
    return costs


def _reach(
    cs: ConstraintSet, client: FloatArray, js: NDArray[np.intp], far: FloatArray, budget: float
) -> FloatArray:
    """Per (feature, side): the furthest value towards ``far`` affordable alone.

    Where even ``far`` is affordable, ``far``; otherwise the first value found past the budget
    (a bisection: the cost only grows with the move), kept so that the cost row decides.
    """
    ok = _alone(cs, client, js, far) <= budget
    near, out = client[js].astype(np.float64), far.copy()
    for _ in range(_BISECTIONS):
        mid = 0.5 * (near + out)
        fits = _alone(cs, client, js, mid) <= budget
        near = np.where(fits, mid, near)
        out = np.where(fits, out, mid)
    reach: FloatArray = np.where(ok, far, out)
    return reach


def _far(cs: ConstraintSet, j: int, c: float, side: float, budget: float) -> float:
    """Return the side's bound, or (when infinite) where the per-unit cost alone uses the budget."""
    if math.isfinite(side):
        return side
    unit = float(cs.compiled.cost_per_unit[j])
    if unit <= 0:
        return side
    return c + math.copysign(budget / unit, side - c)


def within_budget(cs: ConstraintSet, bounds: ClientBounds, budget: float) -> BudgetCut:
    """Return ``bounds`` without the moves that alone cost more than ``budget``."""
    cp = cs.compiled
    client = np.asarray(bounds.client, dtype=np.float64)
    lower, upper = bounds.lower.copy(), bounds.upper.copy()
    movable = bounds.movable.copy()
    allowed = list(bounds.allowed)
    frozen = dropped = 0
    pairs: list[tuple[int, float, float]] = []
    for j in np.flatnonzero(movable & ~cp.derived_mask):
        c = float(client[j])
        if allowed[j] is not None:
            codes = np.array(sorted(allowed[j] or ()), dtype=np.float64)
            keep = _alone(cs, client, np.full(len(codes), j), codes) <= budget
            keep |= codes == c
            dropped += int((~keep).sum())
            allowed[j] = frozenset(int(k) for k in codes[keep])
            if not (codes[keep] != c).any():
                movable[j], frozen = False, frozen + 1
            continue
        for side, sign in ((upper, 1.0), (lower, -1.0)):
            far = _far(cs, int(j), c, float(side[j]), budget)
            if math.isfinite(far) and (far - c) * sign > 0:
                pairs.append((int(j), sign, far))
    if pairs:
        js = np.array([j for j, _, _ in pairs], dtype=np.intp)
        reach = _reach(cs, client, js, np.array([f for _, _, f in pairs]), budget)
        for (k, sign, _), r in zip(pairs, reach, strict=True):
            (upper if sign > 0 else lower)[k] = r
    numeric = movable & ~cp.derived_mask & np.array([a is None for a in allowed])
    shut = numeric & (lower >= client) & (upper <= client)
    movable &= ~shut
    frozen += int(shut.sum())
    cut = dataclasses.replace(
        bounds, lower=lower, upper=upper, movable=movable, allowed=tuple(allowed)
    )
    return BudgetCut(cut, frozen, dropped)
