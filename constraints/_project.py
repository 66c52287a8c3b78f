"""Projection of candidates onto the feasible set (every row then passes ``check``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from constraints._bounds import ClientBounds, allowed_codes, intervals
from constraints._check import changed_mask, check_arrays
from constraints._compiled import (
    BoolArray,
    CompiledClause,
    CompiledConstraints,
    CompiledRule,
    FloatArray,
    IntArray,
    alternatives_hold,
)
from constraints._messages import MessageContext
from constraints._tolerance import tolerance

# ClientBounds lives in constraints._bounds; it is re-exported here because the package's
# __init__ imports it from this module.
__all__ = ["ClientBounds", "Projection", "project_arrays"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Projection:
    """Projected candidates: every row passes ``check``; ``changed`` marks rows still a lever."""

    values: FloatArray
    changed: BoolArray
    repaired: BoolArray


def _snap_numeric(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, lo: FloatArray, hi: FloatArray
) -> None:
    idx = np.flatnonzero(~cp.coded & cp.mutable)
    if not idx.size:
        return
    v, cc, a, b, s = x[:, idx], c[:, idx], lo[:, idx], hi[:, idx], cp.step[idx]
    target = np.clip(v, a, b)
    has_step = s > 0
    safe = np.where(has_step, s, 1.0)
    grid = np.rint(target / safe) * safe
    grid = np.where(grid > b + tolerance(b), grid - safe, grid)
    grid = np.where(grid < a - tolerance(a), grid + safe, grid)
    target = np.where(has_step, grid, target)
    empty = (a > b) | (target < a - tolerance(a)) | (target > b + tolerance(b))
    keep_client = empty | (np.abs(v - cc) <= np.abs(v - target))
    too_small = np.abs(target - cc) < cp.min_change[idx] * (1 - 1e-9)  # not worth a lever
    x[:, idx] = np.where(keep_client | too_small, cc, target)


def _snap_coded(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, lo: FloatArray, hi: FloatArray
) -> None:
    """Round coded features to a reachable category.

    Ordinal and binary features take the nearest reachable rank; unordered categories take
    the wanted one when reachable, else the current one.
    """
    for j in np.flatnonzero(cp.coded & cp.mutable):
        k = int(cp.n_categories[j])
        allowed = allowed_codes(cp, int(j), c, lo, hi)
        want = np.rint(np.nan_to_num(x[:, j], nan=-1.0))  # missing: reset below
        current = np.clip(np.rint(c[:, j]), 0, k - 1)
        if cp.categorical[j]:
            inside = (want >= 0) & (want <= k - 1)
            ok = inside & allowed[np.arange(len(x)), np.clip(want, 0, k - 1).astype(np.intp)]
            x[:, j] = np.where(ok, want, current)
        else:
            distance = np.abs(np.arange(k)[None, :] - x[:, j, None])
            distance[~allowed] = np.inf
            x[:, j] = np.where(
                allowed.any(axis=1), distance.argmin(axis=1).astype(np.float64), c[:, j]
            )


def _repair_one_hot(cp: CompiledConstraints, c: FloatArray, x: FloatArray) -> None:
    for group in cp.groups:
        cc = np.broadcast_to(c[:, group], (len(x), len(group)))
        touched: BoolArray = np.asarray((np.abs(x[:, group] - cc) > 1e-9).any(axis=1))
        chosen = x[:, group].argmax(axis=1)
        fixed = np.zeros((len(x), len(group)))
        fixed[np.arange(len(x)), chosen] = 1.0
        x[:, group] = np.where(touched[:, None], fixed, cc)


def _limit_changes(cp: CompiledConstraints, c: FloatArray, x: FloatArray) -> None:
    if cp.max_changes is None:
        return
    _, changed = changed_mask(c, x)
    over = cp.count_changes(changed) > cp.max_changes
    if not over.any():
        return
    rows = np.flatnonzero(over)
    size = (
        np.abs(x[rows] - c[rows if len(c) > 1 else np.zeros(len(rows), dtype=np.intp)]) / cp.scale
    )
    size = np.where(cp.coded, np.where(size > 0, 1.0, 0.0), size)
    units = np.full((len(rows), cp.n_units), -1.0)
    for j in range(cp.n_features):
        u = cp.unit_of[j]
        if u >= 0:
            units[:, u] = np.maximum(units[:, u], np.where(changed[rows, j], size[:, j], -1.0))
    order = np.argsort(-units, axis=1, kind="stable")
    drop = np.zeros_like(units, dtype=bool)
    np.put_along_axis(drop, order[:, cp.max_changes :], True, axis=1)
    for j in range(cp.n_features):
        u = cp.unit_of[j]
        if u >= 0:
            back = drop[:, u]
            source = c[rows, j] if len(c) > 1 else np.full(len(rows), c[0, j])
            x[rows, j] = np.where(back, source, x[rows, j])


def _shift_into_linear(
    cp: CompiledConstraints,
    clause: CompiledClause,
    rows: IntArray,
    spans: tuple[FloatArray, FloatArray, FloatArray],
    x: FloatArray,
) -> None:
    """Move one changed numeric feature per row just enough to satisfy a linear clause.

    Among the clause's features that the lever changed, the one needing the smallest move
    (in scales) is set to the boundary, snapped to its step on the feasible side, if that
    stays inside its interval.
    """
    c, lo, hi = spans
    value = x[np.ix_(rows, clause.idx)] @ clause.coef
    gap = value - clause.bound  # > 0 breaks <=, < 0 breaks >=
    best = np.full(len(rows), np.inf)
    choice = np.full(len(rows), -1)
    target = np.zeros(len(rows))
    for k, j in enumerate(clause.idx):
        a = clause.coef[k]
        if not cp.mutable[j] or cp.coded[j] or a == 0:
            continue
        want = x[rows, j] - gap / a
        step = cp.step[j]
        if step > 0:
            down = (gap > 0) == (a > 0)  # move x_j down to satisfy the clause
            grid = want / step
            want = np.where(down, np.floor(grid + 1e-9), np.ceil(grid - 1e-9)) * step
            if clause.op == "==":
                want = np.where(np.isclose(want, x[rows, j] - gap / a), want, np.nan)
        inside = (want >= lo[rows, j] - 1e-9) & (want <= hi[rows, j] + 1e-9)
        moved = (np.abs(want - c[rows, j]) > 1e-12) & inside
        size = np.where(moved, np.abs(want - x[rows, j]) / cp.scale[j], np.inf)
        better = size < best
        best = np.where(better, size, best)
        choice = np.where(better, j, choice)
        target = np.where(better, want, target)
    ok = choice >= 0
    x[rows[ok], choice[ok]] = target[ok]


def _broken(rule: CompiledRule, x: FloatArray, delta: FloatArray, changed: BoolArray) -> BoolArray:
    """Return the rows that break a rule.

    A rule is broken where it applies (a feature it names changed, its condition holds) and
    its requirement does not hold.
    """
    applies = changed[:, rule.idx].any(axis=1)
    applies &= alternatives_hold(rule.condition, x, delta, changed)
    return applies & ~alternatives_hold(rule.requirement, x, delta, changed)


def _revert_rule_violations(
    cp: CompiledConstraints,
    ctx: MessageContext,
    c: FloatArray,
    x: FloatArray,
    spans: tuple[FloatArray, FloatArray] | None = None,
) -> BoolArray:
    """Repair broken global rules and return the rows touched.

    A changed amount is shifted onto a linear requirement's boundary when possible, else the
    rule's changes are undone.
    """
    touched = np.zeros(len(x), dtype=bool)
    delta, changed = changed_mask(c, x)
    for rule in cp.rules:
        bad = _broken(rule, x, delta, changed)
        if bad.any() and spans is not None:
            for alternative in rule.requirement:
                if all(cl.kind == "linear" for cl in alternative):
                    for clause in alternative:
                        rows = np.flatnonzero(bad)
                        held = clause.holds(x[rows], delta[rows], changed[rows])
                        _shift_into_linear(cp, clause, rows[~held], (c, *spans), x)
                    break
            touched |= bad
            delta, changed = changed_mask(c, x)
            bad = _broken(rule, x, delta, changed)
        if bad.any():
            cols = rule.idx[cp.mutable[rule.idx]]
            rows = np.flatnonzero(bad)
            x[np.ix_(rows, cols)] = c[
                np.ix_(rows if len(c) > 1 else np.zeros(len(rows), dtype=np.intp), cols)
            ]
            touched |= bad
    return touched


def project_arrays(
    cp: CompiledConstraints, ctx: MessageContext, client: FloatArray, candidates: FloatArray
) -> Projection:
    """Move every candidate to a nearby point that passes every rule (or back to the client)."""
    c = client
    x = candidates.copy()
    nan = ~np.isfinite(x)
    if nan.any():
        x = np.where(nan, np.broadcast_to(c, x.shape), x)
    cfull = c if len(c) == len(x) else np.repeat(c, len(x), 0)
    frozen = cp.frozen_for(cfull) & ~cp.derived_mask  # missing values stay missing
    x[frozen] = cfull[frozen]
    lo, hi = intervals(cp, c)
    if len(c) == 1 and len(x) > 1:
        lo, hi = np.repeat(lo, len(x), 0), np.repeat(hi, len(x), 0)
    _snap_numeric(cp, cfull, x, lo, hi)
    _snap_coded(cp, cfull, x, lo, hi)
    x[frozen] = cfull[frozen]
    _repair_one_hot(cp, cfull, x)
    _limit_changes(cp, cfull, x)
    cp.rederive(cfull, x)
    repaired = np.zeros(len(x), dtype=bool)
    ok = check_arrays(cp, ctx, cfull, x).ok.copy()
    for attempt in range(len(cp.rules) + 1):  # only the rows still failing are re-worked
        rows = np.flatnonzero(~ok)
        if not rows.size:
            break
        xs, cs = x[rows], cfull[rows]
        spans = (lo[rows], hi[rows]) if attempt == 0 else None
        repaired[rows] |= _revert_rule_violations(cp, ctx, cs, xs, spans)
        cp.rederive(cs, xs)
        x[rows] = xs
        ok[rows] = check_arrays(cp, ctx, cs, xs).ok
    x[~ok] = cfull[~ok]  # nothing feasible was found near these: back to the client
    repaired |= ~ok
    _, changed = changed_mask(cfull, x)
    return Projection(values=x, changed=np.asarray(changed.any(axis=1)), repaired=repaired)
