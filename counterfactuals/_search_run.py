"""One client's search, written as a generator so that many clients can share model calls.

The generator yields (m, d) codes to score and receives their (m,) slack; it returns the
:class:`EngineOutput`. :func:`run_search` goes level by level: every single-unit move in one
call, then combinations of the most promising moves (a beam), one call per level, until
enough distinct feature sets reach the goal or ``max_changes`` is reached. Valid candidates
are then shrunk toward the client (:func:`refine`) and ranked by cost, then distance.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from constraints import difference
from counterfactuals._engine import EngineOutput, EngineRequest
from counterfactuals._search_refine import refine
from counterfactuals._search_space import MoveSpace, build_space, feasible

__all__ = ["Search", "SearchParams", "run_search"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
Search = Generator[FloatArray, FloatArray, EngineOutput]


class SearchParams(Protocol):
    """The hyper-parameters a search reads (:class:`~counterfactuals.SearchEngine` has them)."""

    @property
    def n_grid(self) -> int: ...
    @property
    def n_enumerate(self) -> int: ...
    @property
    def beam_width(self) -> int: ...
    @property
    def n_values(self) -> int: ...
    @property
    def n_random_units(self) -> int: ...
    @property
    def n_parents(self) -> int: ...
    @property
    def n_refine_points(self) -> int: ...
    @property
    def n_refine_rounds(self) -> int: ...
    @property
    def max_level(self) -> int | None: ...
    @property
    def n_deep(self) -> int | None: ...
    @property
    def max_exhaustive(self) -> int: ...
    @property
    def n_wide(self) -> int: ...


class _State:
    """What a search found so far: valid rows, the best row seen, model-call counts."""

    def __init__(self, request: EngineRequest) -> None:
        self.request = request
        d = len(request.client)
        self.found: list[FloatArray] = [np.zeros((0, d))]
        self.found_slack: list[FloatArray] = [np.zeros(0)]
        self.sets: set[bytes] = set()
        self.best_slack = -np.inf
        self.best_row: FloatArray | None = None
        self.n_calls = 0
        self.n_rows = 0

    def score(self, rows: FloatArray) -> Generator[FloatArray, FloatArray, FloatArray]:
        """Score rows through the caller (one model call; none for no rows)."""
        if not len(rows):
            return np.zeros(0)
        slack = np.asarray((yield rows), dtype=np.float64)
        self.n_calls += 1
        self.n_rows += len(rows)
        i = int(np.argmax(slack))
        if slack[i] > self.best_slack:
            self.best_slack, self.best_row = float(slack[i]), rows[i].copy()
        return slack

    def add(self, rows: FloatArray, slack: FloatArray) -> None:
        """Keep valid rows."""
        self.found.append(rows)
        self.found_slack.append(slack)
        self.sets.update(set_keys(changed_features(self.request, rows)).tolist())

    def pool(self) -> tuple[FloatArray, FloatArray]:
        """Every valid row found, and its slack."""
        return np.vstack(self.found), np.concatenate(self.found_slack)

    def n_sets(self) -> int:
        """Count the distinct changed-feature sets among the valid rows."""
        return len(self.sets)


def set_keys(changed: BoolArray) -> NDArray[np.void]:
    """One hashable, sortable key per row of a boolean mask (its packed bits)."""
    packed = np.ascontiguousarray(np.packbits(changed, axis=1))
    keys: NDArray[np.void] = packed.view(f"V{packed.shape[1]}").ravel()
    return keys


def changed_features(request: EngineRequest, rows: FloatArray) -> BoolArray:
    """(m, d) which features each row changes (derived features left out)."""
    return request.constraints.compiled.changed(request.client, rows)


def _beam(
    space: MoveSpace, slack: FloatArray, engine: SearchParams, rng: np.random.Generator
) -> IntArray:
    """Return the moves to combine: the best *invalid* values of the most promising units.

    Only moves that do not reach the goal alone are combined, so every change of a valid
    combination is needed at its value. Units rank by their best such slack; the top
    ``beam_width`` are kept and ``n_random_units`` more drawn at random (seeded).
    """
    invalid = slack < 0
    best = np.full(space.n_units, -np.inf)
    np.maximum.at(best, space.unit[invalid], slack[invalid])
    open_units = np.flatnonzero(np.isfinite(best))
    ranked = open_units[np.argsort(-best[open_units], kind="stable")]
    chosen = ranked[: engine.beam_width]
    rest = ranked[engine.beam_width :]
    if rest.size and engine.n_random_units:
        size = min(engine.n_random_units, rest.size)
        chosen = np.concatenate([chosen, rng.choice(rest, size=size, replace=False)])
    key = np.where(invalid, slack, -np.inf)
    order = np.lexsort((-key, space.unit))
    starts = np.searchsorted(space.unit[order], space.unit[order], side="left")
    rank = np.arange(len(order)) - starts
    keep = (rank < engine.n_values) & np.isin(space.unit[order], chosen) & invalid[order]
    return np.sort(order[keep]).astype(np.intp)


def _extend(parents: IntArray, beam: IntArray, unit: IntArray) -> IntArray:
    """Children: each parent combination plus one beam move of another unit (deduplicated)."""
    p = np.repeat(parents, len(beam), axis=0)
    v = np.tile(beam, len(parents))
    ok = (unit[p] != unit[v][:, None]).all(axis=1)
    children = np.sort(np.column_stack([p[ok], v[ok]]), axis=1).astype(np.intp)
    if not len(children):
        return children
    base = int(unit.size) + 1
    if base ** children.shape[1] >= 2**62:
        unique: IntArray = np.unique(children, axis=0)
        return unique
    key = children @ (base ** np.arange(children.shape[1], dtype=np.int64))
    _, first = np.unique(key, return_index=True)
    return children[first]


def _drop_one(
    state: _State,
    space: MoveSpace,
    combos: IntArray,
    slack: FloatArray,
    moves: FloatArray | None = None,
) -> Generator[FloatArray, FloatArray, tuple[FloatArray, FloatArray]]:
    """Replace valid combinations by their best valid sub-combination (one unit fewer).

    ``combos`` index ``moves`` (default: the space's feasible single moves).
    """
    cs, c = state.request.constraints, space.client
    deltas = (space.moves if moves is None else moves) - c
    level = combos.shape[1]
    rows = c + deltas[combos].sum(axis=1)
    subs = np.vstack([np.delete(combos, k, axis=1) for k in range(level)])
    sub_rows = c + deltas[subs].sum(axis=1)
    ok = np.flatnonzero(feasible(cs, c, sub_rows))
    sub_slack = np.full(len(subs), -np.inf)
    sub_slack[ok] = yield from state.score(sub_rows[ok])
    by_k = sub_slack.reshape(level, len(combos))
    k = by_k.argmax(axis=0)
    better = by_k[k, np.arange(len(combos))] >= 0
    pick = k * len(combos) + np.arange(len(combos))
    rows = np.where(better[:, None], sub_rows[pick], rows)
    return rows, np.where(better, sub_slack[pick], slack)


def _levels(
    state: _State,
    space: MoveSpace,
    slack1: FloatArray,
    n: int,
    engine: SearchParams,
    rng: np.random.Generator,
) -> Generator[FloatArray, FloatArray, tuple[int, bool]]:
    """Score combinations of 2, 3... units; return the last level and whether timed out."""
    cs, c = state.request.constraints, space.client
    limit = cs.max_changes or space.n_units
    top = min(space.n_units, limit, engine.max_level or limit)
    beam = _beam(space, slack1, engine, rng)
    parents = beam[:, None]
    deltas = space.moves - c
    # sub-combinations of level L's children were all scored when level L-1 was complete
    # (every combination of beam moves); levels 1 and 2 always are.
    previous_complete, next_complete = True, True
    level = 1
    deep = n if engine.n_deep is None else min(n, engine.n_deep)
    while level < top and state.n_sets() < (n if level < 2 else deep):
        if state.request.time_left() <= 0:
            return level, True
        combos = _extend(parents, beam, space.unit)
        if not len(combos):
            break
        level += 1
        rows = c + deltas[combos].sum(axis=1)
        ok = feasible(cs, c, rows)
        combos, rows = combos[ok], rows[ok]
        slack = yield from state.score(rows)
        valid = slack >= 0
        if valid.any():
            good, good_slack = rows[valid], slack[valid]
            if not previous_complete:
                good, good_slack = yield from _drop_one(state, space, combos[valid], slack[valid])
            state.add(good, good_slack)
        invalid = np.flatnonzero(~valid)
        order = invalid[np.argsort(-slack[invalid], kind="stable")]
        previous_complete = next_complete
        next_complete &= len(order) <= engine.n_parents
        parents = combos[order[: engine.n_parents]]
    return level, False


def _random_combos(space: MoveSpace, k: int, m: int, rng: np.random.Generator) -> IntArray:
    """``m`` random combinations of ``k`` moves of distinct units (indices into all_moves)."""
    counts = np.bincount(space.all_unit, minlength=space.n_units)
    open_units = np.flatnonzero(counts)
    if len(open_units) < k:
        return np.zeros((0, k), dtype=np.intp)
    order = np.argsort(space.all_unit, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    units = open_units[np.argsort(rng.random((m, len(open_units))), axis=1)[:, :k]]
    offset = np.floor(rng.random((m, k)) * counts[units]).astype(np.intp)
    combos: IntArray = np.sort(order[starts[units] + offset], axis=1).astype(np.intp)
    return np.unique(combos, axis=0)


def _wide(
    state: _State, space: MoveSpace, engine: SearchParams, rng: np.random.Generator
) -> Generator[FloatArray, FloatArray, tuple[FloatArray, FloatArray, int]]:
    """When the sparse stages found nothing: random combinations, then fewer changes.

    ``n_wide`` random combinations of 2 moves of distinct units (any reachable value, not
    only the beam's), then of 3... up to ``max_changes``, one model call per size, as a
    random search would; the first size with a valid one stops. Each valid combination is
    then made sparser: one change is dropped where the rest still reaches the goal.
    Returns the valid rows, their slack and the model calls made.
    """
    cs, c = state.request.constraints, space.client
    empty = np.zeros((0, len(c))), np.zeros(0), 0
    limit = min(cs.max_changes or space.n_units, space.n_units)
    if not engine.n_wide or limit < 2:
        return empty
    calls = state.n_calls
    deltas = space.all_moves - c
    for k in range(2, limit + 1):
        if state.request.time_left() <= 0:
            break
        combos = _random_combos(space, k, engine.n_wide, rng)
        rows = c + deltas[combos].sum(axis=1)
        ok = feasible(cs, c, rows)
        combos, rows = combos[ok], rows[ok]
        slack = yield from state.score(rows)
        valid = slack >= 0
        if not valid.any():
            continue
        combos, rows, slack = combos[valid], rows[valid], slack[valid]
        if state.request.time_left() > 0:  # one round: one change fewer where it suffices
            rows, slack = yield from _drop_one(state, space, combos, slack, space.all_moves)
        return rows, slack, state.n_calls - calls
    return *empty[:2], state.n_calls - calls


def enumerate_space(space: MoveSpace, max_changes: int, cap: int) -> FloatArray | None:
    """Every combination of at most ``max_changes`` units' moves, or None above ``cap`` rows."""
    counts = np.bincount(space.all_unit, minlength=space.n_units)
    by_changes = np.zeros(max_changes + 1)
    by_changes[0] = 1.0
    for k in counts:
        by_changes[1:] = by_changes[1:] + k * by_changes[:-1]
    if by_changes[1:].sum() > cap:
        return None
    c = space.client
    deltas = space.all_moves - c
    rows, n_changes = np.zeros((1, len(c))), np.zeros(1, dtype=np.intp)
    for u in range(space.n_units):
        unit_deltas = deltas[space.all_unit == u]
        base = np.flatnonzero(n_changes < max_changes)
        grown = (rows[base][:, None, :] + unit_deltas[None, :, :]).reshape(-1, len(c))
        rows = np.vstack([rows, grown])
        n_changes = np.concatenate([n_changes, np.repeat(n_changes[base] + 1, len(unit_deltas))])
    out: FloatArray = c + rows[1:]
    return out


def _enumerate_all(
    state: _State, space: MoveSpace, engine: SearchParams
) -> Generator[FloatArray, FloatArray, tuple[FloatArray, FloatArray, bool, list[str]]]:
    """Score the whole finite feasible space when small; a proof when nothing is valid."""
    cs = state.request.constraints
    limit = min(cs.max_changes or space.n_units, space.n_units)
    every = enumerate_space(space, limit, engine.max_exhaustive)
    if every is None:
        return np.zeros((0, len(space.client))), np.zeros(0), False, []
    every = every[feasible(cs, space.client, every)]
    slack = yield from state.score(every)
    valid = slack >= 0
    note = f"search: enumerated the whole feasible space ({len(every)} points)."
    return every[valid], slack[valid], not valid.any(), [note]


def _distance(request: EngineRequest, rows: FloatArray) -> FloatArray:
    """MAD-normalised L1 distance to the client (a changed category counts 1).

    A value missing in the client and the row is no distance (it cannot change).
    """
    cp = request.constraints.compiled
    gap = np.abs(difference(request.client, rows))
    gap[np.isnan(gap)] = np.inf  # one side missing: never near
    gap /= cp.scale
    gap[:, cp.categorical] = (gap[:, cp.categorical] > 0).astype(np.float64)
    gap[:, cp.derived_mask] = 0.0
    total: FloatArray = gap.sum(axis=1)
    return total


def rank(request: EngineRequest, rows: FloatArray, slack: FloatArray, n: int) -> IntArray:
    """Pick up to ``n`` rows, one per changed-feature set, and order them cheapest first.

    Sets with fewer changes are picked first (sparsity), then cheaper, then nearer ones;
    within a set the cheapest, nearest, largest-slack row represents it. The picked rows
    are returned by cost, then distance.
    """
    if not len(rows):
        return np.zeros(0, dtype=np.intp)
    cost = request.constraints.cost(request.client[None, :], rows)
    distance = _distance(request, rows)
    changed = changed_features(request, rows)
    order = np.lexsort((-slack, distance, cost))
    _, first = np.unique(set_keys(changed[order]), return_index=True)
    reps = order[first]
    picked = reps[np.lexsort((distance[reps], cost[reps], changed[reps].sum(axis=1)))][:n]
    return picked[np.lexsort((distance[picked], cost[picked]))].astype(np.intp)


def _black_box(request: EngineRequest) -> bool:
    """Whether the model is a black box (no structure): its calls cost more than its rows."""
    structure = request.adapter.structure
    return not callable(structure) and not structure


def run_search(request: EngineRequest, n: int, seed: int, engine: SearchParams) -> Search:
    """Search one client's counterfactuals (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    state = _State(request)
    space = build_space(request, (engine.n_grid, engine.n_enumerate))
    slack1 = yield from state.score(space.moves)
    state.add(space.moves[slack1 >= 0], slack1[slack1 >= 0])
    level, timed_out = 1, False
    if state.n_sets() < n and space.n_units > 1:
        level, timed_out = yield from _levels(state, space, slack1, n, engine, rng)
    rows, slack = state.pool()
    proved_none, notes = False, list[str]()
    if not len(rows) and not timed_out and space.complete and request.time_left() > 0:
        rows, slack, proved_none, notes = yield from _enumerate_all(state, space, engine)
    if not len(rows) and not proved_none and request.time_left() > 0:
        rows, slack, wide_calls = yield from _wide(state, space, engine, rng)
        if wide_calls:
            found = "found" if len(rows) else "found none"
            notes.append(f"search: the sparse stages found none; random combinations {found}.")
    keep = rank(request, rows, slack, max(2 * n, n + 3))
    points, rounds = engine.n_refine_points, engine.n_refine_rounds
    if rounds > 1 and _black_box(request):  # the same grid in one call per feature
        points, rounds = (points + 1) ** rounds - 1, 1
    rows, slack, late = yield from refine(
        request, space, (rows[keep], slack[keep]), points, rounds, state.score
    )
    timed_out |= late
    best = rank(request, rows, slack, n)
    if timed_out:
        notes.append("search: the deadline stopped the search; candidates may be fewer or larger.")
    return EngineOutput(
        candidates=rows[best],
        proved_none=proved_none,
        timed_out=timed_out,
        best_codes=None if len(best) else state.best_row,
        notes=tuple(notes),
        stats={
            "level": level,
            "model_calls": state.n_calls,
            "model_rows": state.n_rows,
            "n_moves": len(space.moves),
            "n_units": space.n_units,
        },
    )
