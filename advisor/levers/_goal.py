"""The goal's direction: a floor for a propensity, a ceiling for a risk score.

A propensity (``raise``) is reached at or above its goal and a search aims at least
``min_uplift`` above today's score; a risk score (``lower``) is reached at or below its goal
(a ceiling) and a search aims at least ``min_uplift`` below. Both work on one score or on
arrays of scores (campaigns).
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
from numpy.typing import NDArray

__all__ = ["GOAL_CEILING", "GOAL_FLOOR", "ROBUST_MARGIN", "goal_reached", "search_goal"]

GOAL_FLOOR = 0.001
"""The lowest ceiling a risk search aims at (a probability of exactly 0 is unreachable)."""
GOAL_CEILING = 0.999
"""The highest goal a propensity search aims at."""
ROBUST_MARGIN = 0.05
"""The margin ``Advisor(robust_margin=...)`` is advised at (``levers advise --robust``): the one
``benchmarks/model_refresh.py`` measured (docs/advisor.md, "Levers that survive a model
refresh")."""

Direction = Literal["raise", "lower"]


@overload
def goal_reached(score: float, goal: float, direction: Direction) -> bool: ...
@overload
def goal_reached(
    score: NDArray[np.float64], goal: float, direction: Direction
) -> NDArray[np.bool_]: ...
def goal_reached(score: object, goal: float, direction: Direction) -> object:
    """Return whether ``score`` meets ``goal``: at or above (``raise``), at or below (``lower``).

    Examples
    --------
    >>> goal_reached(0.3, 0.2, "raise"), goal_reached(0.3, 0.2, "lower")
    (True, False)
    """
    values = np.asarray(score, dtype=np.float64)
    found = values <= goal if direction == "lower" else values >= goal
    return bool(found) if np.ndim(found) == 0 else found


@overload
def search_goal(
    score: float, goal: float, min_uplift: float, direction: Direction, *, margin: float = 0.0
) -> float: ...
@overload
def search_goal(
    score: NDArray[np.float64],
    goal: float,
    min_uplift: float,
    direction: Direction,
    *,
    margin: float = 0.0,
) -> NDArray[np.float64]: ...
def search_goal(
    score: object, goal: float, min_uplift: float, direction: Direction, *, margin: float = 0.0
) -> object:
    """Return the threshold a search aims at: the goal, at least ``min_uplift`` past ``score``.

    For ``raise``: ``max(goal + margin, score + min_uplift)`` capped at :data:`GOAL_CEILING`;
    for ``lower``: ``min(goal - margin, score - min_uplift)`` floored at :data:`GOAL_FLOOR`.
    ``margin`` (robust levers) makes the lever beat the goal by that much, so that it still
    reaches the goal when a retrained model scores it a little differently.

    Examples
    --------
    >>> round(search_goal(0.5, 0.52, 0.03, "raise"), 2)
    0.53
    >>> round(search_goal(0.5, 0.48, 0.03, "lower"), 2)
    0.47
    >>> round(search_goal(0.1, 0.3, 0.03, "raise", margin=0.05), 2)
    0.35
    """
    values = np.asarray(score, dtype=np.float64)
    if direction == "lower":
        found = np.maximum(np.minimum(goal - margin, values - min_uplift), GOAL_FLOOR)
    else:
        found = np.minimum(np.maximum(goal + margin, values + min_uplift), GOAL_CEILING)
    return float(found) if np.ndim(found) == 0 else found
