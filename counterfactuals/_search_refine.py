"""Shrink valid candidates' numeric changes toward the client (vectorised k-ary bisection).

Each changed numeric (or ordinal) feature of a candidate is a *slot*. Slots are refined one
after the other per candidate (the others keep their current values), all candidates at
once: a round scores ``n_points`` values strictly between the nearest known invalid value
(at first the client's) and the current valid one, snapped to the step grid; the valid value
nearest to the client becomes the new end. A round is one batched model call.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import numpy as np
from numpy.typing import NDArray

from constraints import changed
from counterfactuals._engine import EngineRequest
from counterfactuals._search_space import MoveSpace, feasible

__all__ = ["Scorer", "refine"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
Scorer = Callable[[FloatArray], Generator[FloatArray, FloatArray, FloatArray]]

_RESOLUTION = 1e-3  # continuous features: stop once the bracket is below this many MADs


def _slots(space: MoveSpace, rows: FloatArray) -> tuple[IntArray, IntArray]:
    """(m, S) refinable changed features per row (padded with -1) and their counts."""
    c = space.client
    moved = changed(c, rows) & space.refinable
    counts = moved.sum(axis=1).astype(np.intp)
    width = int(counts.max()) if len(rows) else 0
    order = np.argsort(~moved, axis=1, kind="stable")[:, :width].astype(np.intp)
    slots = np.where(np.arange(width)[None, :] < counts[:, None], order, -1).astype(np.intp)
    return slots, counts


def _points(
    a: FloatArray, b: FloatArray, step: FloatArray, n_points: int
) -> tuple[FloatArray, BoolArray]:
    """(m, k) values strictly between ``a`` and ``b`` (snapped away from ``a``) and a skip mask."""
    frac = np.arange(1, n_points + 1) / (n_points + 1)
    raw = a[:, None] + (b - a)[:, None] * frac[None, :]
    has_step = step > 0
    safe = np.where(has_step, step, 1.0)[:, None]
    up = (b > a)[:, None]
    snapped = np.where(up, np.ceil(raw / safe - 1e-9), np.floor(raw / safe + 1e-9)) * safe
    pts = np.where(has_step[:, None], snapped, raw)
    tol = 1e-12 * (1.0 + np.abs(b))[:, None]
    skip = (np.abs(pts - b[:, None]) <= tol) | (np.abs(pts - a[:, None]) <= tol)
    skip[:, 1:] |= np.abs(np.diff(pts, axis=1)) <= tol
    return pts, skip


def _resolved(width: FloatArray, step: FloatArray, scale: FloatArray) -> BoolArray:
    """Whether no grid value is left strictly inside a bracket of this width."""
    fine: BoolArray = np.where(step > 0, width <= step * (1.0 + 1e-9), width <= _RESOLUTION * scale)
    return fine


class _Brackets:
    """Per candidate: the slot being refined, its rounds, and its invalid end ``low``."""

    def __init__(self, space: MoveSpace, rows: FloatArray, slack: FloatArray) -> None:
        self.x, self.slack = rows.copy(), slack.copy()
        self.slots, self.counts = _slots(space, self.x)
        m = len(rows)
        self.cur = np.zeros(m, dtype=np.intp)
        self.rounds = np.zeros(m, dtype=np.intp)
        self.low = np.zeros(m)
        if self.slots.shape[1]:
            start = np.flatnonzero(self.counts > 0)
            self.low[start] = space.client[self.slots[start, 0]]

    def active(self) -> IntArray:
        """Candidates with a slot left to refine."""
        return np.flatnonzero(self.cur < self.counts).astype(np.intp)

    def update(
        self, active: IntArray, pts: FloatArray, trial: FloatArray, scores: FloatArray
    ) -> None:
        """Move each bracket onto the valid value nearest the client and its invalid neighbour.

        ``scores`` is -inf where a value was not tested, NaN where it was tested but is
        infeasible (an invalid end as well).
        """
        n_points = pts.shape[1]
        tested = ~np.isneginf(scores)
        valid = scores >= 0
        first = np.where(valid.any(axis=1), valid.argmax(axis=1), n_points)
        won = np.flatnonzero(first < n_points)
        rows = trial.reshape(len(active), n_points, -1)
        self.x[active[won]] = rows[won, first[won]]
        self.slack[active[won]] = scores[won, first[won]]
        before = tested & (np.arange(n_points)[None, :] < first[:, None])
        has_low = np.flatnonzero(before.any(axis=1))
        last = n_points - 1 - before[:, ::-1].argmax(axis=1)
        self.low[active[has_low]] = pts[has_low, last[has_low]]
        self.rounds[active] += 1

    def advance(self, finished: IntArray, client: FloatArray) -> None:
        """Go to the next slot of the finished candidates (its invalid end: the client)."""
        self.cur[finished] += 1
        self.rounds[finished] = 0
        more = finished[self.cur[finished] < self.counts[finished]]
        self.low[more] = client[self.slots[more, self.cur[more]]]


def refine(
    request: EngineRequest,
    space: MoveSpace,
    candidates: tuple[FloatArray, FloatArray],
    n_points: int,
    n_rounds: int,
    score: Scorer,
) -> Generator[FloatArray, FloatArray, tuple[FloatArray, FloatArray, bool]]:
    """Return the refined (rows, slack) and whether the deadline stopped the refinement."""
    cs, c = request.constraints, space.client
    state = _Brackets(space, *candidates)
    scale = cs.compiled.scale
    while n_rounds > 0:
        active = state.active()
        if not active.size:
            break
        if request.time_left() <= 0:
            return state.x, state.slack, True
        j = state.slots[active, state.cur[active]]
        pts, skip = _points(state.low[active], state.x[active, j], space.step[j], n_points)
        trial = np.repeat(state.x[active], n_points, axis=0)
        trial[np.arange(len(trial)), np.repeat(j, n_points)] = pts.ravel()
        cs.compiled.rederive(c, trial)
        use = np.flatnonzero(~skip.ravel())
        ok = feasible(cs, c, trial[use])
        flat = np.full(len(trial), -np.inf)
        flat[use[~ok]] = np.nan
        flat[use[ok]] = yield from score(trial[use[ok]])
        state.update(active, pts, trial, flat.reshape(len(active), n_points))
        width = np.abs(state.x[active, j] - state.low[active])
        done = _resolved(width, space.step[j], scale[j]) | (state.rounds[active] >= n_rounds)
        state.advance(active[done | skip.all(axis=1)], c)
    return state.x, state.slack, False
