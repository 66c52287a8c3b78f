"""Per-client feasible intervals, projection onto the feasible set, and feasible sampling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
from constraints._messages import MessageContext, format_value
from constraints._tolerance import tolerance
from constraints._types import FeatureSpec

__all__ = [
    "ClientBounds",
    "Projection",
    "client_bounds",
    "intervals",
    "project_arrays",
    "sample_arrays",
]


def intervals(cp: CompiledConstraints, client: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Feasible [lo, hi] of each feature for each client row (direction, bounds, max change).

    Frozen features get [c, c]; an empty interval (lo > hi) means only the current value.
    """
    lo = np.broadcast_to(cp.lower, client.shape).copy()
    hi = np.broadcast_to(cp.upper, client.shape).copy()
    inc, dec = cp.direction > 0, cp.direction < 0
    lo[:, inc] = np.maximum(lo[:, inc], client[:, inc])
    hi[:, dec] = np.minimum(hi[:, dec], client[:, dec])
    limit = cp.change_limit(client)
    lo = np.maximum(lo, client - limit)
    hi = np.minimum(hi, client + limit)
    frozen = ~cp.mutable
    lo[:, frozen] = client[:, frozen]
    hi[:, frozen] = client[:, frozen]
    return lo, hi


def _allowed_codes(
    cp: CompiledConstraints, j: int, client: FloatArray, lo: FloatArray, hi: FloatArray
) -> BoolArray:
    """(m, k) mask of categories each client may move to (the current one included)."""
    k = int(cp.n_categories[j])
    codes = np.arange(k)
    current = np.clip(np.rint(client[:, j]), 0, k - 1).astype(np.intp)
    allowed = (codes >= lo[:, j, None] - 1e-9) & (codes <= hi[:, j, None] + 1e-9)
    for t_j, table in cp.transitions:
        if t_j == j:
            allowed &= table[current]
    allowed[np.arange(len(current)), current] = True
    return allowed


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientBounds:
    """What each feature may become for one client (for solvers and explanations).

    ``lower``/``upper`` bound numeric features (ordinal: ranks); ``allowed`` lists the category
    codes reachable for coded features (``None`` for numeric ones); ``reasons`` says why a
    feature cannot move (empty when it can).
    """

    features: tuple[FeatureSpec, ...]
    client: FloatArray
    lower: FloatArray
    upper: FloatArray
    step: FloatArray
    movable: BoolArray
    allowed: tuple[frozenset[int] | None, ...]
    reasons: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per feature, in business terms: current value, reachable range, reason."""
        rows = []
        for j, spec in enumerate(self.features):
            allowed = self.allowed[j]
            if allowed is not None:
                reach = ", ".join(format_value(spec, float(c)) for c in sorted(allowed))
            elif self.movable[j]:
                low = format_value(spec, float(self.lower[j]))
                reach = f"{low} to {format_value(spec, float(self.upper[j]))}"
            else:
                reach = format_value(spec, float(self.client[j]))
            rows.append(
                {
                    "feature": spec.name,
                    "role": spec.role,
                    "current": format_value(spec, float(self.client[j])),
                    "movable": bool(self.movable[j]),
                    "reachable": reach,
                    "reason": self.reasons[j],
                }
            )
        return pd.DataFrame(rows)


def _reason(spec: FeatureSpec, derived: bool, mutable: bool) -> str:
    if derived:
        return "derived: recomputed from other features"
    if not mutable:
        if spec.role == "context":
            return "context: not an action (allow it for this run to change it)"
        return "protected attribute" if spec.protected else "immutable"
    return "no value other than the current one is allowed (bounds, direction or max change)"


def _apply_unary_rules(
    cp: CompiledConstraints,
    c: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    allowed: list[frozenset[int] | None],
    movable: BoolArray,
) -> None:
    """Narrow bounds with rules that always apply and name a single feature.

    E.g. ``month not in [jan, feb]`` or ``transfer <= 500``; other rules stay global
    constraints (``check`` enforces them; solvers receive them as rules).
    """
    for rule in cp.rules:
        if rule.condition or len(rule.requirement) != 1 or len(rule.idx) != 1:
            continue
        j = int(rule.idx[0])
        if not movable[j]:
            continue
        for clause in rule.requirement[0]:
            if clause.kind == "member" and allowed[j] is not None:
                codes = {int(k) for k in np.flatnonzero(clause.lookup)}
                kept = (allowed[j] or frozenset()) & (codes | {round(c[j])})
                allowed[j] = frozenset(kept)
                movable[j] = len(kept) > 1
            elif clause.kind == "linear" and len(clause.idx) == 1 and allowed[j] is None:
                limit = clause.bound / clause.coef[0]
                upper = (clause.op == "<=") == (clause.coef[0] > 0) or clause.op == "=="
                lower = (clause.op == ">=") == (clause.coef[0] > 0) or clause.op == "=="
                if upper:
                    hi[0, j] = min(hi[0, j], limit)
                if lower:
                    lo[0, j] = max(lo[0, j], limit)
                movable[j] = bool(lo[0, j] <= hi[0, j] and (hi[0, j] > c[j] or lo[0, j] < c[j]))
                if not movable[j]:
                    lo[0, j] = hi[0, j] = c[j]
            elif clause.kind == "stays":
                movable[j] = False
                lo[0, j] = hi[0, j] = c[j]
                if allowed[j] is not None:
                    allowed[j] = frozenset({round(c[j])})


def client_bounds(
    cp: CompiledConstraints, features: tuple[FeatureSpec, ...], client: FloatArray
) -> ClientBounds:
    """Feasible values of every feature for one client (client is (1, d))."""
    lo, hi = intervals(cp, client)
    c = client[0]
    movable = np.zeros(cp.n_features, dtype=bool)
    allowed: list[frozenset[int] | None] = []
    for j in range(cp.n_features):
        if cp.coded[j]:
            codes = np.flatnonzero(_allowed_codes(cp, j, client, lo, hi)[0])
            allowed.append(frozenset(int(x) for x in codes))
            movable[j] = cp.mutable[j] and len(codes) > 1
            continue
        allowed.append(None)
        a, b, s = lo[0, j], hi[0, j], cp.step[j]
        if s > 0:
            a, b = np.ceil(a / s - 1e-9) * s, np.floor(b / s + 1e-9) * s
        movable[j] = bool(cp.mutable[j] and a <= b and (b > c[j] + 1e-12 or a < c[j] - 1e-12))
        lo[0, j], hi[0, j] = (a, b) if movable[j] else (c[j], c[j])
    _apply_unary_rules(cp, c, lo, hi, allowed, movable)
    reasons = tuple(
        "" if movable[j] else _reason(features[j], bool(cp.derived_mask[j]), bool(cp.mutable[j]))
        for j in range(cp.n_features)
    )
    return ClientBounds(
        features=features,
        client=c.copy(),
        lower=lo[0],
        upper=hi[0],
        step=cp.step.copy(),
        movable=movable,
        allowed=tuple(allowed),
        reasons=reasons,
    )


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
    x[:, idx] = np.where(keep_client, cc, target)


def _snap_coded(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, lo: FloatArray, hi: FloatArray
) -> None:
    """Round coded features to a reachable category.

    Ordinal and binary features take the nearest reachable rank; unordered categories take
    the wanted one when reachable, else the current one.
    """
    for j in np.flatnonzero(cp.coded & cp.mutable):
        k = int(cp.n_categories[j])
        allowed = _allowed_codes(cp, int(j), c, lo, hi)
        want = np.rint(x[:, j])
        current = np.clip(np.rint(c[:, j]), 0, k - 1)
        if cp.categorical[j]:
            inside = (want >= 0) & (want <= k - 1)
            ok = inside & allowed[np.arange(len(x)), np.clip(want, 0, k - 1).astype(np.intp)]
            x[:, j] = np.where(ok, want, current)
        else:
            distance = np.abs(np.arange(k)[None, :] - x[:, j, None])
            distance[~allowed] = np.inf
            x[:, j] = distance.argmin(axis=1).astype(np.float64)


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
    frozen = ~cp.mutable & ~cp.derived_mask
    x[:, frozen] = np.broadcast_to(c[:, frozen], (len(x), int(frozen.sum())))
    lo, hi = intervals(cp, c)
    if len(c) == 1 and len(x) > 1:
        lo, hi = np.repeat(lo, len(x), 0), np.repeat(hi, len(x), 0)
    cfull = c if len(c) == len(x) else np.repeat(c, len(x), 0)
    _snap_numeric(cp, cfull, x, lo, hi)
    _snap_coded(cp, cfull, x, lo, hi)
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


def sample_arrays(
    cp: CompiledConstraints,
    ctx: MessageContext,
    client: FloatArray,
    n: int,
    rng: np.random.Generator,
    support: tuple[tuple[float, float] | None, ...],
) -> FloatArray:
    """Draw ``n`` feasible candidates that change 1..max_changes features of one client."""
    bounds = client_bounds(cp, ctx.features, client)
    movable = np.flatnonzero(bounds.movable)
    units = np.unique(cp.unit_of[movable])
    units = units[units >= 0]
    d = cp.n_features
    if n <= 0 or not units.size:
        return np.empty((0, d))
    top = min(cp.max_changes or len(units), len(units))
    c = client[0]
    lo, hi = _sampling_window(cp, bounds, c, movable, support)
    unit_pos = {int(u): p for p, u in enumerate(units)}
    kept: list[FloatArray] = []
    n_kept = 0
    for _ in range(30):
        m = max(2 * (n - n_kept), 16)
        k = rng.integers(1, top + 1, size=m)
        keys = rng.random((m, len(units)))
        order = np.argsort(keys, axis=1)
        chosen_units = np.zeros((m, len(units)), dtype=bool)
        np.put_along_axis(chosen_units, order, np.arange(len(units))[None, :] < k[:, None], axis=1)
        x = np.repeat(client, m, axis=0)
        for j in movable:
            pick = chosen_units[:, unit_pos[int(cp.unit_of[j])]]
            if cp.coded[j]:
                codes = np.array(sorted(bounds.allowed[j] or {int(c[j])}))
                others = codes[codes != round(c[j])]
                if others.size:
                    x[:, j] = np.where(pick, others[rng.integers(0, others.size, size=m)], x[:, j])
            else:
                draw = lo[j] + rng.random(m) * (hi[j] - lo[j])
                x[:, j] = np.where(pick, draw, x[:, j])
        projected = project_arrays(cp, ctx, client, x)
        good = projected.values[projected.changed]
        kept.append(good)
        n_kept += len(good)
        if n_kept >= n:
            break
    out = np.vstack(kept)[:n]
    return out
