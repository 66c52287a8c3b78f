"""The search engine's view of one client: its units of change and their feasible moves.

A *unit* is what ``max_changes`` counts once: a plain feature, a one-hot group or a change
group. A *move* changes exactly one unit to one of its candidate values; every move is a full
row of codes with the derived features recomputed. Numeric features get a grid between the
client's value and each reachable end (geometric, snapped to the step grid; every value when
few); coded features every allowed code.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, CompiledClause, ConstraintSet

__all__ = ["MoveSpace", "Place", "build_space", "feasible"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

_MAX_GROUP_MOVES = 64  # joint values tried for a change group (a cartesian product)


class Place(Protocol):
    """Where a client stands: what :func:`build_space` reads (an ``EngineRequest`` has it)."""

    @property
    def constraints(self) -> ConstraintSet: ...
    @property
    def bounds(self) -> ClientBounds: ...
    @property
    def client(self) -> FloatArray: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveSpace:
    """One client's single-unit moves.

    Parameters
    ----------
    client
        The client's (d,) codes.
    moves
        (m, d) feasible moves (each passes the constraint set's check), derived recomputed.
    unit
        (m,) the unit each move changes, 0..n_units-1.
    n_units
        Number of movable units.
    all_moves, all_unit
        Every move before the feasibility filter (a move infeasible alone may be part of a
        feasible combination; used to enumerate a finite space).
    complete
        Every unit's moves are *all* its feasible values (no grid, no thinning): the
        feasible space is finite and combinations of these moves cover it.
    refinable
        (d,) movable numeric or ordinal features (their changes can shrink toward the client).
    step
        (d,) grid of each refinable feature (0 for continuous features without a step).
    """

    client: FloatArray
    moves: FloatArray
    unit: IntArray
    n_units: int
    all_moves: FloatArray
    all_unit: IntArray
    complete: bool
    refinable: BoolArray
    step: FloatArray


def feasible(cs: ConstraintSet, client: FloatArray, rows: FloatArray) -> BoolArray:
    """Return which rows pass every rule of the constraint set (one vectorised check)."""
    if not len(rows):
        return np.zeros(0, dtype=bool)
    ok: BoolArray = cs.check(client[None, :], rows).ok
    return ok


# ----------------------------------------------------------------------------- numeric grids
def _holds_at_client(clause: CompiledClause, client: FloatArray) -> bool:
    """Evaluate a clause on features that cannot move (so they keep the client's values)."""
    row = client[None, :]
    return bool(clause.holds(row, np.zeros_like(row), np.zeros(row.shape, dtype=bool))[0])


def _rule_caps(
    cs: ConstraintSet, client: FloatArray, movable: BoolArray, lo: FloatArray, hi: FloatArray
) -> None:
    """Narrow numeric limits with linear rules whose other features cannot move.

    E.g. ``transfer <= 0.5 * income`` with a frozen income caps the transfer for this client.
    Rules whose condition may change with the candidate are left to the check.
    """
    cp = cs.compiled
    free = movable | cp.derived_mask
    for rule in cp.rules:
        if len(rule.requirement) != 1:
            continue
        cond_idx = [j for alt in rule.condition for cl in alt for j in cl.idx]
        if any(free[j] for j in cond_idx):
            continue
        if rule.condition and not any(
            all(_holds_at_client(cl, client) for cl in alt) for alt in rule.condition
        ):
            continue
        for cl in rule.requirement[0]:
            moving = [k for k, j in enumerate(cl.idx) if free[j]]
            if cl.kind != "linear" or len(moving) != 1:
                continue
            k = moving[0]
            j = int(cl.idx[k])
            a = float(cl.coef[k])
            if cp.coded[j] or cp.derived_mask[j] or a == 0:
                continue
            rest = float(client[cl.idx] @ cl.coef) - a * client[j]
            limit = (cl.bound - rest) / a
            if cl.op == "==" or (cl.op == "<=") == (a > 0):
                hi[j] = min(hi[j], limit)
            if cl.op == "==" or (cl.op == ">=") == (a > 0):
                lo[j] = max(lo[j], limit)


def _far_end(cs: ConstraintSet, j: int, c: float, end: float, up: bool) -> float:
    """Return the farthest value searched in one direction: the bound, else the data's."""
    if math.isfinite(end):
        return end
    scale = float(cs.compiled.scale[j])
    support = cs.support[j] if cs.support else None
    if up:
        return max(support.high if support is not None else c, c + 3.0 * scale)
    return min(support.low if support is not None else c, c - 3.0 * scale)


def numeric_options(
    c: float, far: float, step: float, grid: tuple[int, int], exact_end: bool
) -> tuple[FloatArray, bool]:
    """Return values between ``c`` (excluded) and ``far`` in one direction, and if all.

    With a step, the values lie on the step grid: every one when at most ``grid[1]``,
    else a geometric selection of ``grid[0]`` that keeps the nearest and the farthest.
    Without a step, a geometric grid of ``grid[0]`` fractions of the reach (from 1/64).
    """
    n_grid, n_all = grid
    sign = 1.0 if far > c else -1.0
    if step > 0:
        first = (
            (math.floor(c / step + 1e-9) + 1) * step
            if sign > 0
            else ((math.ceil(c / step - 1e-9) - 1) * step)
        )
        last = (
            math.floor(far / step + 1e-9) * step
            if sign > 0
            else math.ceil(far / step - 1e-9) * step
        )
        count = round((last - first) / step * sign) + 1
        if count <= 0:
            return np.zeros(0), exact_end
        if count <= max(n_grid, n_all):
            return first + sign * step * np.arange(count, dtype=np.float64), exact_end
        k = np.unique(np.rint(np.geomspace(1.0, count, n_grid))) - 1.0
        return first + sign * step * k, False
    if far == c:
        return np.zeros(0), exact_end
    return c + (far - c) * np.geomspace(1.0 / 64.0, 1.0, n_grid), False


def _feature_options(
    request: Place, j: int, lo: FloatArray, hi: FloatArray, n_grid: tuple[int, int]
) -> tuple[FloatArray, bool]:
    """Candidate values of one movable feature (its current value excluded), and if all."""
    cs, b, c = request.constraints, request.bounds, float(request.client[j])
    allowed = b.allowed[j]
    if allowed is not None:
        codes = sorted(k for k in allowed if k != round(c))
        return np.asarray(codes, dtype=np.float64), True
    step = float(cs.compiled.step[j])
    parts, complete = [], True
    for up in (False, True):
        end = hi[j] if up else lo[j]
        if (up and not end > c + 1e-12) or (not up and not end < c - 1e-12):
            continue
        far = _far_end(cs, j, c, end, up)
        values, whole = numeric_options(c, far, step, n_grid, math.isfinite(end))
        least = float(cs.compiled.min_change[j])
        if least > 0:  # smaller changes are not levers: start the grid at c +- min_change
            nearest = c + least if up else c - least
            if step == 0 and abs(far - c) >= least:
                values = np.append(values, nearest)
            values = values[np.abs(values - c) >= least * (1 - 1e-9)]
        parts.append(values)
        complete &= whole
    return (np.concatenate(parts) if parts else np.zeros(0)), complete


# ----------------------------------------------------------------------------- units
def _unit_rows(
    client: FloatArray, members: IntArray, options: dict[int, FloatArray], one_hot: bool
) -> tuple[FloatArray, bool]:
    """Rows changing one unit: a feature's values, a one-hot switch, a group's joint values."""
    if one_hot:
        picks = [j for j in members if client[j] == 0 and 1.0 in options.get(int(j), ())]
        rows = np.repeat(client[None, :], len(picks), axis=0)
        for r, j in enumerate(picks):
            rows[r, members] = 0.0
            rows[r, j] = 1.0
        return rows, True
    if len(members) == 1:
        values = options[int(members[0])]
        rows = np.repeat(client[None, :], len(values), axis=0)
        rows[:, members[0]] = values
        return rows, True
    lists = [np.concatenate([[client[j]], options.get(int(j), np.zeros(0))]) for j in members]
    thinned = False
    while math.prod(len(v) for v in lists) > _MAX_GROUP_MOVES:
        longest = max(range(len(lists)), key=lambda i: len(lists[i]))
        lists[longest] = lists[longest][::2]  # keeps the current value (position 0)
        thinned = True
    combos = np.array(list(itertools.product(*lists)), dtype=np.float64)[1:]
    rows = np.repeat(client[None, :], len(combos), axis=0)
    rows[:, members] = combos
    return rows, not thinned


def build_space(request: Place, n_grid: tuple[int, int]) -> MoveSpace:
    """Return the client's single-unit moves, filtered to the feasible ones.

    ``n_grid`` is (values per numeric direction, most values enumerated on a step grid).
    """
    cs, b = request.constraints, request.bounds
    cp = cs.compiled
    client = np.asarray(request.client, dtype=np.float64)
    movable = np.asarray(b.movable, dtype=bool)
    lo, hi = b.lower.astype(np.float64), b.upper.astype(np.float64)
    _rule_caps(cs, client, movable, lo, hi)
    options: dict[int, FloatArray] = {}
    complete = True
    for j in np.flatnonzero(movable):
        values, whole = _feature_options(request, int(j), lo, hi, n_grid)
        if values.size:
            options[int(j)] = values
        complete &= whole
    one_hot = {int(j) for group in cp.groups for j in group}
    units = sorted({int(cp.unit_of[j]) for j in options})
    blocks, unit_ids = [], []
    for u, unit in enumerate(units):
        members = np.flatnonzero((cp.unit_of == unit) & movable).astype(np.intp)
        rows, whole = _unit_rows(client, members, options, int(members[0]) in one_hot)
        complete &= whole
        blocks.append(rows)
        unit_ids.append(np.full(len(rows), u, dtype=np.intp))
    d = len(client)
    all_moves = np.vstack(blocks) if blocks else np.zeros((0, d))
    all_unit = np.concatenate(unit_ids) if unit_ids else np.zeros(0, dtype=np.intp)
    cp.rederive(client, all_moves)
    ok = feasible(cs, client, all_moves)
    refinable = movable & (~cp.coded | (cp.coded & ~cp.categorical & (cp.n_categories > 2)))
    step = np.where(cp.coded, 1.0, cp.step)
    return MoveSpace(
        client=client,
        moves=all_moves[ok],
        unit=all_unit[ok],
        n_units=len(units),
        all_moves=all_moves,
        all_unit=all_unit,
        complete=complete,
        refinable=refinable,
        step=step,
    )
