"""Per-client feasible intervals and what each feature may become (:class:`ClientBounds`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from constraints._compiled import BoolArray, CompiledConstraints, FloatArray
from constraints._messages import format_value
from constraints._types import FeatureSpec

__all__ = ["ClientBounds", "allowed_codes", "client_bounds", "intervals"]


def intervals(cp: CompiledConstraints, client: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Feasible [lo, hi] of each feature for each client row (direction, bounds, max change).

    Frozen features get [c, c] (a missing value: [NaN, NaN]); an empty interval (lo > hi)
    means only the current value.
    """
    lo = np.broadcast_to(cp.lower, client.shape).copy()
    hi = np.broadcast_to(cp.upper, client.shape).copy()
    inc, dec = cp.direction > 0, cp.direction < 0
    lo[:, inc] = np.maximum(lo[:, inc], client[:, inc])
    hi[:, dec] = np.minimum(hi[:, dec], client[:, dec])
    limit = cp.change_limit(client)
    lo = np.maximum(lo, client - limit)
    hi = np.minimum(hi, client + limit)
    frozen = np.broadcast_to(cp.frozen_for(client), client.shape)
    lo[frozen] = np.broadcast_to(client, lo.shape)[frozen]
    hi[frozen] = np.broadcast_to(client, hi.shape)[frozen]
    return lo, hi


def allowed_codes(
    cp: CompiledConstraints, j: int, client: FloatArray, lo: FloatArray, hi: FloatArray
) -> BoolArray:
    """(m, k) mask of categories each client may move to (the current one included).

    A client whose value is missing may move to none (the row is all False).
    """
    k = int(cp.n_categories[j])
    codes = np.arange(k)
    missing = np.isnan(client[:, j])
    current = np.clip(np.rint(np.fmax(client[:, j], 0.0)), 0, k - 1).astype(np.intp)  # NaN -> 0
    allowed = (codes >= lo[:, j, None] - 1e-9) & (codes <= hi[:, j, None] + 1e-9)
    for t_j, table in cp.transitions:
        if t_j == j:
            allowed &= table[current]
    allowed[np.arange(len(current)), current] = True
    allowed[missing] = False
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


def _reason(spec: FeatureSpec, derived: bool, mutable: bool, missing: bool = False) -> str:
    if missing:
        return "missing: the value is unknown for this client and stays so (missing: keep)"
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
            codes = np.flatnonzero(allowed_codes(cp, j, client, lo, hi)[0])
            allowed.append(frozenset(int(x) for x in codes))
            movable[j] = cp.mutable[j] and len(codes) > 1
            continue
        allowed.append(None)
        a, b, s = lo[0, j], hi[0, j], cp.step[j]
        if s > 0:
            a, b = np.ceil(a / s - 1e-9) * s, np.floor(b / s + 1e-9) * s
        movable[j] = bool(
            cp.mutable[j]
            and not np.isnan(c[j])
            and a <= b
            and (b > c[j] + 1e-12 or a < c[j] - 1e-12)
        )
        lo[0, j], hi[0, j] = (a, b) if movable[j] else (c[j], c[j])
    _apply_unary_rules(cp, c, lo, hi, allowed, movable)
    reasons = tuple(
        ""
        if movable[j]
        else _reason(
            features[j], bool(cp.derived_mask[j]), bool(cp.mutable[j]), bool(np.isnan(c[j]))
        )
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
