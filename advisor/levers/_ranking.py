"""The order in which levers are shown: cheap first, then strong, then well supported."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["COST_TOLERANCE", "rank_levers"]

COST_TOLERANCE = 0.05
"""Levers whose costs differ by at most this (in the constraint file's cost units) are as cheap."""


def rank_levers(
    costs: Sequence[float],
    scores: Sequence[float],
    supports: Sequence[float | None],
    tolerance: float = COST_TOLERANCE,
) -> list[int]:
    """Return the order in which to show levers: cheap first, then strong, then supported.

    Costs within ``tolerance`` of the cheapest lever left count as equally cheap: among
    them the lever with the higher score comes first (scores equal to 4 decimals tie),
    then the one with larger support, then the cheaper one, then the earlier one. So a
    lever never comes before one that is cheaper by more than ``tolerance``.
    """
    left = list(range(len(costs)))
    order: list[int] = []
    while left:
        cheapest = min(costs[i] for i in left)
        near = [i for i in left if costs[i] <= cheapest + tolerance]
        best = min(near, key=lambda i: (-round(scores[i], 4), -(supports[i] or 0.0), costs[i], i))
        order.append(best)
        left.remove(best)
    return order
