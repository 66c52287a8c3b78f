"""Feasible sampling: candidates that change 1..max_changes features of one client."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from constraints._bounds import ClientBounds, client_bounds
from constraints._compiled import CompiledConstraints, FloatArray, IntArray
from constraints._messages import MessageContext
from constraints._project import project_arrays

__all__ = ["sample_arrays"]


def _sampling_window(
    cp: CompiledConstraints,
    bounds: ClientBounds,
    c: FloatArray,
    movable: np.ndarray,
    support: tuple[tuple[float, float] | None, ...],
) -> tuple[FloatArray, FloatArray]:
    """Return a finite [lo, hi] to draw numeric values from.

    The feasible interval, narrowed to the data's 0.5-99.5 % range (or the client +- 3
    scales) when that overlaps it.
    """
    lo, hi = bounds.lower.copy(), bounds.upper.copy()
    for j in movable:
        if cp.coded[j]:
            continue
        s = support[j]
        wide_lo, wide_hi = s if s is not None else (c[j] - 3 * cp.scale[j], c[j] + 3 * cp.scale[j])
        wide_lo, wide_hi = min(wide_lo, c[j]), max(wide_hi, c[j])
        a, b = max(lo[j], wide_lo), min(hi[j], wide_hi)
        if b - a <= cp.step[j]:  # the data barely varies (e.g. a rare product): widen
            reach = 3 * cp.scale[j] + max(cp.step[j], 0.0)
            a, b = max(lo[j], c[j] - reach), min(hi[j], c[j] + reach)
        if a > b:  # the client sits outside the feasible interval: stay near its edge
            a = lo[j] if np.isfinite(lo[j]) else hi[j] - 6 * cp.scale[j]
            b = hi[j] if np.isfinite(hi[j]) else lo[j] + 6 * cp.scale[j]
            a, b = max(a, b - 6 * cp.scale[j]), min(b, a + 6 * cp.scale[j])
        lo[j], hi[j] = a, b
    return lo, hi


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    """What draws may change for one client (1, d), and where numeric values are drawn.

    ``units`` are the change units (a feature, or a change group) of the ``movable``
    features; a draw changes 1..``top`` of them; ``lo``/``hi`` bound numeric draws.
    """

    client: FloatArray
    bounds: ClientBounds
    movable: IntArray
    units: IntArray
    unit_pos: dict[int, int]
    top: int
    lo: FloatArray
    hi: FloatArray


def _draw(cp: CompiledConstraints, plan: _Plan, m: int, rng: np.random.Generator) -> FloatArray:
    """Draw ``m`` raw candidates, each changing 1..top units chosen uniformly at random.

    Coded features take another reachable category; numeric ones a uniform value of their
    window. The candidates are not feasible yet (see ``project_arrays``).
    """
    units, c = plan.units, plan.client[0]
    k = rng.integers(1, plan.top + 1, size=m)
    keys = rng.random((m, len(units)))
    order = np.argsort(keys, axis=1)
    chosen_units = np.zeros((m, len(units)), dtype=bool)
    np.put_along_axis(chosen_units, order, np.arange(len(units))[None, :] < k[:, None], axis=1)
    x = np.repeat(plan.client, m, axis=0)
    for j in plan.movable:
        pick = chosen_units[:, plan.unit_pos[int(cp.unit_of[j])]]
        if cp.coded[j]:
            codes = np.array(sorted(plan.bounds.allowed[j] or {int(c[j])}))
            others = codes[codes != round(c[j])]
            if others.size:
                x[:, j] = np.where(pick, others[rng.integers(0, others.size, size=m)], x[:, j])
        else:
            draw = plan.lo[j] + rng.random(m) * (plan.hi[j] - plan.lo[j])
            x[:, j] = np.where(pick, draw, x[:, j])
    return x


def sample_arrays(
    cp: CompiledConstraints,
    ctx: MessageContext,
    client: FloatArray,
    n: int,
    rng: np.random.Generator,
    support: tuple[tuple[float, float] | None, ...],
) -> FloatArray:
    """Draw ``n`` feasible candidates that change 1..max_changes features of one client.

    Raw draws are projected onto the feasible set and those still changing something are
    kept, for at most 30 rounds (fewer than ``n`` rows come back only when levers are rare).
    """
    bounds = client_bounds(cp, ctx.features, client)
    movable = np.flatnonzero(bounds.movable)
    units = np.unique(cp.unit_of[movable])
    units = units[units >= 0]
    if n <= 0 or not units.size:
        return np.empty((0, cp.n_features))
    lo, hi = _sampling_window(cp, bounds, client[0], movable, support)
    plan = _Plan(
        client=client,
        bounds=bounds,
        movable=movable,
        units=units,
        unit_pos={int(u): p for p, u in enumerate(units)},
        top=min(cp.max_changes or len(units), len(units)),
        lo=lo,
        hi=hi,
    )
    kept: list[FloatArray] = []
    n_kept = 0
    for _ in range(30):
        projected = project_arrays(cp, ctx, client, _draw(cp, plan, max(2 * (n - n_kept), 16), rng))
        good = projected.values[projected.changed]
        kept.append(good)
        n_kept += len(good)
        if n_kept >= n:
            break
    return np.vstack(kept)[:n]
