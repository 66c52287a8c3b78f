"""The gradient engine's last steps: rounding, repair, sparsity, shrinking, selection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from constraints import ConstraintSet, changed
from counterfactuals._engine import EngineRequest
from counterfactuals._gradient_relax import Relaxation

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


def pick(x: FloatArray, c: FloatArray, low: FloatArray, high: FloatArray, theta: float) -> Any:
    """Round x to ``low`` or ``high`` (its grid neighbours), leaning away from c by ``theta``.

    A value that would land on the other side of the client becomes the client's.
    """
    span = high - low
    frac = np.where(span > 0, (x - low) / np.where(span > 0, span, 1.0), 0.0)
    take_high = np.where(x >= c, frac > theta, frac >= 1.0 - theta)
    out = np.where(take_high, high, low)
    still = (np.abs(x - c) <= 1e-12) | ((out - c) * (x - c) < 0)
    return np.where(still, c, out)


def round_plans(rel: Relaxation, u: FloatArray, weights: FloatArray, theta: float) -> FloatArray:
    """Return the codes of relaxed rows rounded to steps, integers and reachable codes."""
    c = rel.clients
    x = c + u * rel.requests[0].constraints.scales
    step = rel.requests[0].bounds.step
    for j in np.flatnonzero(((rel.upper != 0) | (rel.lower != 0)).any(axis=0)).tolist():
        if j in rel.allowed:
            codes = np.arange(rel.allowed[j].shape[1], dtype=np.float64)
            below = rel.allowed[j] & (codes <= x[:, j, None] + 1e-9)
            above = rel.allowed[j] & (codes >= x[:, j, None] - 1e-9)
            low = np.where(below, codes, -np.inf).max(axis=1)
            high = np.where(above, codes, np.inf).min(axis=1)
            low, high = (
                np.where(np.isfinite(low), low, high),
                np.where(np.isfinite(high), high, low),
            )
            x[:, j] = pick(x[:, j], c[:, j], low, high, theta)
        elif step[j] > 0:
            low, high = np.floor(x[:, j] / step[j]) * step[j], np.ceil(x[:, j] / step[j]) * step[j]
            x[:, j] = pick(x[:, j], c[:, j], low, high, theta)
    rows = np.arange(len(x))
    for k, j in enumerate(rel.categorical):
        w, current = weights[:, k], rel.current[:, k]
        others = rel.mask[:, k].copy()
        others[rows, current] = False
        best = np.where(others, w, -1.0).argmax(axis=1)
        share = w[rows, best] / np.maximum(w[rows, best] + w[rows, current], 1e-300)
        x[:, j] = np.where(others[rows, best] & (share > theta), best, current)
    return x


# ----------------------------------------------------------------------------- evaluation
def slack_of(requests: Sequence[EngineRequest], owner: IntArray, codes: FloatArray) -> FloatArray:
    """Return each row's slack for its own request (one model call for all rows)."""
    out = np.full(len(codes), -np.inf)
    if not len(codes):
        return out
    proba = requests[0].proba(codes)
    for i, request in enumerate(requests):
        rows = np.flatnonzero(owner == i)
        if rows.size:
            out[rows] = request.slack(codes[rows], proba[rows])
    return out


def unique_rows(owner: IntArray, codes: FloatArray) -> tuple[IntArray, FloatArray]:
    """Drop duplicate rows of each request (sorted, so the order is deterministic)."""
    if not len(codes):
        return owner, codes
    both = np.column_stack([owner, codes])
    key = np.where(np.isnan(both), np.inf, both)  # missing values: equal to one another
    _, first = np.unique(key, axis=0, return_index=True)
    kept = both[first]
    return kept[:, 0].astype(np.intp), kept[:, 1:]


def sparsify(rel: Relaxation, owner: IntArray, codes: FloatArray) -> tuple[IntArray, FloatArray]:
    """Undo changes the goal does not need, the one saving most cost first, until none can go."""
    cs = rel.requests[0].constraints
    cp = cs.compiled
    clients = np.stack([p.client for p in rel.requests])[owner]
    x = codes.copy()
    cost = cs.cost(clients, x)
    active = np.ones(len(x), dtype=bool)
    while active.any():
        moved = changed(clients, x)
        units = cp.changed_units(moved)
        rows, unit = np.nonzero(units & active[:, None])
        if not rows.size:
            break
        trial = np.where(cp.unit_of[None, :] == unit[:, None], clients[rows], x[rows])
        projected = cs.project(clients[rows], trial)
        trial, trial_cost = projected.values, cs.cost(clients[rows], projected.values)
        good = projected.changed & (slack_of(rel.requests, owner[rows], trial) >= 0)
        good &= trial_cost <= cost[rows] + 1e-12
        # progress: the trial must change fewer features (projection may re-apply a change,
        # and an equal-cost trial that changes nothing would loop for ever)
        fewer = changed(clients[rows], trial).sum(axis=1) < moved[rows].sum(axis=1)
        good &= fewer
        order = np.lexsort((trial_cost, rows))
        order = order[good[order]]
        pick = order[np.unique(rows[order], return_index=True)[1]]  # each row's cheapest
        x[rows[pick]], cost[rows[pick]] = trial[pick], trial_cost[pick]
        active[:] = False
        active[rows[pick]] = True
    return owner, x


def shrink(rel: Relaxation, owner: IntArray, codes: FloatArray) -> FloatArray:
    """Bring each changed amount as close to the client as the goal allows (bisection)."""
    cs = rel.requests[0].constraints
    cp = cs.compiled
    clients = np.stack([p.client for p in rel.requests])[owner]
    x = codes.copy()
    for j in np.flatnonzero(~cp.coded & cp.mutable).tolist():
        rows = np.flatnonzero(changed(clients[:, j], x[:, j]))
        if not rows.size:
            continue
        c, full, best = clients[rows], x[rows, j].copy(), x[rows].copy()
        low, high = np.zeros(len(rows)), np.ones(len(rows))
        for _ in range(6):
            trial = best.copy()
            value = c[:, j] + (low + high) / 2 * (full - c[:, j])
            if cp.step[j] > 0:
                grid = value / cp.step[j]
                value = np.where(full > c[:, j], np.ceil(grid - 1e-9), np.floor(grid + 1e-9))
                value = value * cp.step[j]
            trial[:, j] = value
            projected = cs.project(c, trial)
            good = projected.changed & (slack_of(rel.requests, owner[rows], projected.values) >= 0)
            best = np.where(good[:, None], projected.values, best)
            low, high = (
                np.where(good, low, (low + high) / 2),
                np.where(good, (low + high) / 2, high),
            )
        x[rows] = best
    return x


def cheapest(
    cs: ConstraintSet, clients: FloatArray, owner: IntArray, codes: FloatArray, keep: int
) -> tuple[IntArray, FloatArray]:
    """Keep the ``keep`` cheapest rows of each request (bounds the work of sparsifying)."""
    order = np.lexsort((cs.cost(clients[owner], codes), owner)) if len(codes) else owner
    sorted_owner = owner[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_owner, sorted_owner)
    kept = np.sort(order[rank < keep])
    return owner[kept], codes[kept]


def select(cs: ConstraintSet, client: FloatArray, codes: FloatArray, n: int) -> FloatArray:
    """Return up to n rows: distinct sets of changed features first, cheapest first."""
    if not len(codes):
        return codes
    cost = cs.cost(client[None, :], codes)
    moved = changed(client, codes)
    distance = np.where(moved, np.abs(codes - client) / cs.scales, 0.0).sum(axis=1)
    order = np.lexsort((distance, cost))
    seen: set[bytes] = set()
    first: list[int] = []
    rest: list[int] = []
    for i in order.tolist():
        key = moved[i].tobytes()
        (rest if key in seen else first).append(i)
        seen.add(key)
    chosen = sorted((first + rest)[:n], key=lambda i: (cost[i], distance[i]))
    return codes[np.array(chosen, dtype=np.intp)]


# ----------------------------------------------------------------------------- one batch
