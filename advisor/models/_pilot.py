"""The pilot fits that decide whether a budgeted study searches every row or a sample.

Every family the study will run fits its default settings on the same stratified pilot sample
of at most :data:`PILOT_ROWS` training rows, after an untimed warm-up fit on
:data:`WARM_ROWS` of them (it pays one-time start-up costs, such as torch's first fit of a
process, which the study would otherwise charge to the pilot). Each pilot is scaled linearly to
a fold and to a trial (``n_folds`` folds); the slowest family's trial decides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from advisor.models._deadline import OutOfTime
from advisor.models._families import FAMILIES
from advisor.models._study import TRIAL_ERRORS, StudySettings

__all__ = ["MIN_SEARCH_ROWS", "PILOT_ROWS", "WARM_ROWS", "SearchPlan", "plan_search"]

FloatArray = NDArray[np.float64]
PILOT_ROWS = 2_000
"""Rows of the timed pilot fit of each family (:func:`plan_search`)."""
WARM_ROWS = 200
"""Rows of the untimed warm-up fit before each family's pilot."""
MIN_SEARCH_ROWS = 1_000
"""The search never runs on fewer training rows than this (unless the data has fewer)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPlan:
    """The rows a budgeted study searches on, and the pilot estimates that chose them.

    ``rows``: sorted positions of a stratified sample of the training part, or None (every
    row). ``trial_s``: family -> one trial's estimated seconds on every training row (its
    pilot scaled linearly; a family whose pilot failed is left out, the study reports it);
    empty when nothing was timed (see :func:`plan_search`).
    """

    rows: NDArray[np.intp] | None
    trial_s: dict[str, float] = field(default_factory=dict)

    @property
    def slowest(self) -> str | None:
        """The family whose estimate decided (None when nothing was timed)."""
        return max(self.trial_s, key=self.trial_s.__getitem__) if self.trial_s else None


def plan_search(design: FloatArray, y: NDArray[np.int64], settings: StudySettings) -> SearchPlan:
    """Return the rows the study searches on: every row, or a sample when the budget forces it.

    Each family of ``settings.families`` is timed (see the module's docstring; a pilot gets at
    most an eighth of the budget shared among the families, and one stopped by it counts as
    that whole share). When the slowest family's trial would take more than half of
    ``settings.budget_s``, the search runs on a stratified sample sized for that trial to take
    a quarter of the budget (at least :data:`MIN_SEARCH_ROWS` rows), so that several trials
    fit. Nothing is timed without a budget, with at most :data:`MIN_SEARCH_ROWS` rows, or when
    no pilot, even one stopped by its share, could call for a sample (``n_folds`` x the share
    scaled to a fold at most half the budget: up to 8,000 x families / (``n_folds`` - 1) rows,
    4,000 for two families and five folds).
    """
    budget, n = settings.budget_s, len(y)
    if budget is None or n <= MIN_SEARCH_ROWS:
        return SearchPlan(rows=None)
    pilot = _stratified(y, min(PILOT_ROWS, n), settings.seed)
    fold_rows = n * (settings.n_folds - 1) / settings.n_folds
    share = max(budget, 0.0) / 8 / len(settings.families)
    if settings.n_folds * share * fold_rows / len(pilot) <= budget / 2:
        return SearchPlan(rows=None)  # no pilot, even one stopped by its share, could sample
    trial_s: dict[str, float] = {}
    for name in settings.families:
        seconds = _time_pilot(name, design[pilot], y[pilot], settings, share)
        if seconds is not None:
            trial_s[name] = settings.n_folds * seconds * fold_rows / len(pilot)
    slowest = max(trial_s.values(), default=0.0)
    if slowest <= budget / 2:
        return SearchPlan(rows=None, trial_s=trial_s)
    n_search = max(MIN_SEARCH_ROWS, int(n * budget / 4 / slowest))
    rows = None if n_search >= n else _stratified(y, n_search, settings.seed)
    return SearchPlan(rows=rows, trial_s=trial_s)


def _time_pilot(
    name: str, design: FloatArray, y: NDArray[np.int64], settings: StudySettings, share: float
) -> float | None:
    """Return the seconds of family ``name``'s default fit on the pilot rows (None: it fails).

    Warm-up and pilot each get ``share`` seconds; a pilot stopped by it counts as ``share`` (a
    lower bound of what it needs).
    """
    family = FAMILIES[name]
    try:
        warm = _stratified(y, min(WARM_ROWS, len(y)), settings.seed)
    except ValueError:  # too few of a class for a stratified warm-up: warm up on the pilot
        warm = np.arange(len(y))
    fit_args = (family.defaults, settings.seed, settings.monotone, settings.space)
    try:  # a warm-up stopped by its share has still paid the start-up: go on to the pilot
        family.fit(design[warm], y[warm], *fit_args, deadline=time.perf_counter() + share)
    except OutOfTime:
        pass
    except TRIAL_ERRORS:
        return None  # the study reports the family's failure
    started = time.perf_counter()
    try:
        family.fit(design, y, *fit_args, deadline=started + share)
    except OutOfTime:
        return share
    except TRIAL_ERRORS:
        return None  # the study reports the family's failure
    return time.perf_counter() - started


def _stratified(y: NDArray[np.int64], n_rows: int, seed: int) -> NDArray[np.intp]:
    """Return ``n_rows`` sorted positions of ``y``, stratified by class (all rows if fewer)."""
    rows = np.arange(len(y))
    if n_rows >= len(y):
        return rows
    kept, _ = train_test_split(rows, train_size=n_rows, stratify=y, random_state=seed)
    return np.sort(np.asarray(kept, dtype=np.intp))
