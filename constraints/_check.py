"""Vectorised check of candidates against every rule, and its result."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from constraints._compiled import (
    BoolArray,
    CompiledConstraints,
    FloatArray,
    IntArray,
    alternatives_hold,
)
from constraints._messages import MessageContext, violation_message
from constraints._tolerance import changed, difference, tolerance
from constraints._types import Violation

__all__ = [
    "CheckResult",
    "changed_mask",
    "check_arrays",
]


def changed_mask(client: FloatArray, candidates: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Return (delta, changed): changed means |delta| above a tolerance relative to the client.

    A value missing on both sides has delta 0 and is unchanged (see :func:`difference`).
    """
    return difference(client, candidates), changed(client, candidates)


def _kept_missing(cp: CompiledConstraints, c: FloatArray, x: FloatArray) -> BoolArray:
    """(n, d) cells missing in the candidate and the client of a ``missing: keep`` feature."""
    kept: BoolArray = np.isnan(x) & np.isnan(c) & cp.keeps_missing
    return kept


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """Violations of every rule for each candidate (rows in the order given).

    ``feature_violations`` maps a rule (``immutable``, ``direction``...) to the columns it
    applies to and an (n, k) mask; ``global_violations`` maps ``one_hot:<group>``,
    ``max_changes`` and ``rule:<name>`` to an (n,) mask.
    """

    context: MessageContext
    client: FloatArray
    candidates: FloatArray
    feature_violations: dict[str, tuple[IntArray, BoolArray]]
    global_violations: dict[str, BoolArray]
    ok: BoolArray = field(init=False)

    def __post_init__(self) -> None:
        bad = np.zeros(len(self.candidates), dtype=bool)
        for _, mask in self.feature_violations.values():
            bad |= mask.any(axis=1)
        for mask in self.global_violations.values():
            bad |= mask
        object.__setattr__(self, "ok", ~bad)

    @property
    def n_violations(self) -> np.ndarray:
        """Number of violations of each candidate."""
        total = np.zeros(len(self.candidates), dtype=np.intp)
        for _, mask in self.feature_violations.values():
            total += mask.sum(axis=1)
        for mask in self.global_violations.values():
            total += mask
        return total

    def counts(self) -> dict[str, int]:
        """Count the candidates breaking each rule (rules never broken are left out)."""
        out: dict[str, int] = {}
        for rule, (_, mask) in self.feature_violations.items():
            out[rule] = int(mask.any(axis=1).sum())
        for rule, mask in self.global_violations.items():
            out[rule] = int(mask.sum())
        return {k: v for k, v in out.items() if v}

    def violations(self, i: int) -> tuple[Violation, ...]:
        """Every violation of candidate ``i``, with messages in business terms."""
        if not -len(self.candidates) <= i < len(self.candidates):
            raise IndexError(f"candidate: must be in 0..{len(self.candidates) - 1}. Got {i}.")
        x = self.candidates[i]
        c = self.client[i if len(self.client) > 1 else 0]
        out: list[Violation] = []
        for rule, (idx, mask) in self.feature_violations.items():
            for k in np.flatnonzero(mask[i]):
                j = int(idx[k])
                spec = self.context.features[j]
                message = violation_message(
                    rule, spec, float(c[j]), float(x[j]), self.context, x, c
                )
                out.append(Violation(feature=spec.name, rule=rule, message=message))
        for rule, mask in self.global_violations.items():
            if mask[i]:
                message = violation_message(rule, None, 0.0, 0.0, self.context, x, c)
                out.append(Violation(feature="", rule=rule.split(":", 1)[0], message=message))
        return tuple(out)

    def to_frame(self) -> pd.DataFrame:
        """One row per violation: candidate, feature, rule, message."""
        rows = [
            {"candidate": i, "feature": v.feature, "rule": v.rule, "message": v.message}
            for i in np.flatnonzero(~self.ok)
            for v in self.violations(int(i))
        ]
        return pd.DataFrame(rows, columns=["candidate", "feature", "rule", "message"])


FeatureMasks = dict[str, tuple[IntArray, BoolArray]]
"""Rule -> (columns it applies to, (n, k) mask of the candidates breaking it)."""


def _kept(*entries: tuple[str, IntArray, BoolArray]) -> FeatureMasks:
    """Keep the rules that apply to at least one column, in the order given."""
    return {rule: (idx, mask) for rule, idx, mask in entries if idx.size}


def _immutable_and_domain(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, changed: BoolArray
) -> FeatureMasks:
    """Find frozen features that moved (or are missing), and values outside their domain.

    A coded value must be a whole code in 0..k-1; a missing (NaN) value of any other
    movable feature is also out of its domain, unless the feature keeps missing values
    and the client's value is missing too. A value given to a kept missing value breaks
    the ``missing`` rule.
    """
    nan = ~np.isfinite(x)
    any_nan = bool(nan.any())
    kept = _kept_missing(cp, c, x) if any_nan else np.zeros(x.shape, dtype=bool)
    nan &= ~kept
    any_nan = bool(nan.any())
    frozen = cp.frozen_idx
    out = _kept(("immutable", frozen, changed[:, frozen] | (nan[:, frozen] if any_nan else False)))
    keep_idx = np.flatnonzero(cp.keeps_missing & cp.mutable)
    if keep_idx.size and np.isnan(c[:, keep_idx]).any():
        filled = np.isnan(c[:, keep_idx]) & ~np.isnan(x[:, keep_idx])
        out["missing"] = (keep_idx, filled)
    idx = cp.coded_idx
    if idx.size:
        v = x[:, idx]
        bad = (v != np.rint(v)) | (v < 0) | (v > cp.n_categories[idx] - 1) | ~np.isfinite(v)
        bad &= ~kept[:, idx]
        out["domain"] = (idx, bad & (changed[:, idx] | ~np.isfinite(v)))
    if any_nan:
        num = np.flatnonzero(~cp.coded & ~np.isin(np.arange(cp.n_features), frozen))
        if "domain" in out:
            dom_idx, dom = out["domain"]
            out["domain"] = (np.concatenate([dom_idx, num]), np.hstack([dom, nan[:, num]]))
        else:
            out.update(_kept(("domain", num, nan[:, num])))
    return out


def _direction_and_bounds(
    cp: CompiledConstraints, x: FloatArray, delta: FloatArray, changed: BoolArray
) -> FeatureMasks:
    """Find moves against a feature's direction, and changed values below min or above max."""
    inc, dec, low, high = cp.increasing, cp.decreasing, cp.bounded_lower, cp.bounded_upper
    wrong_way = np.hstack(
        [changed[:, inc] & (delta[:, inc] < 0), changed[:, dec] & (delta[:, dec] > 0)]
    )
    return _kept(
        ("direction", np.concatenate([inc, dec]), wrong_way),
        ("min", low, changed[:, low] & (x[:, low] < cp.lower[low] - tolerance(cp.lower[low]))),
        ("max", high, changed[:, high] & (x[:, high] > cp.upper[high] + tolerance(cp.upper[high]))),
    )


def _change_size_and_step(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, delta: FloatArray, changed: BoolArray
) -> FeatureMasks:
    """Find changes outside [min_change, max_change], and values off the feature's step grid."""
    out: FeatureMasks = {}
    idx = cp.limited
    if idx.size:
        limit = cp.change_limit(c)[:, idx]
        out["max_change"] = (
            idx,
            changed[:, idx] & (np.abs(delta[:, idx]) > limit * (1 + 1e-9) + 1e-12),
        )
    idx = cp.min_sized
    if idx.size:
        least = cp.min_change[idx] * (1 - 1e-9)
        out["min_change"] = (idx, changed[:, idx] & (np.abs(delta[:, idx]) < least))
    idx = cp.stepped
    if idx.size:
        with np.errstate(invalid="ignore"):  # an infinite value: the domain rule reports it
            r = x[:, idx] / cp.step[idx]
            off = np.abs(r - np.rint(r)) > 1e-7 * (1.0 + np.abs(r))
        out["step"] = (idx, changed[:, idx] & off)
    return out


def _transitions(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, changed: BoolArray
) -> FeatureMasks:
    """Find category changes the feature's transitions do not allow."""
    if not cp.transitions:
        return {}
    t_idx = np.array([j for j, _ in cp.transitions], dtype=np.intp)
    masks = []
    for j, allowed in cp.transitions:
        k = allowed.shape[0] - 1
        src = np.clip(np.rint(np.fmax(c[:, j], 0.0)), 0, k).astype(np.intp)  # fmax: NaN -> 0
        finite = np.isfinite(x[:, j])  # a missing value is the domain rule's to report
        dst = np.clip(np.rint(np.where(finite, x[:, j], 0.0)), 0, k).astype(np.intp)
        masks.append(changed[:, j] & finite & ~allowed[src, dst])
    return _kept(("transition", t_idx, np.column_stack(masks)))


def _derived(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, delta: FloatArray
) -> FeatureMasks:
    """Find derived features that do not equal their recomputed value."""
    if not cp.derived:
        return {}
    d_idx = np.array([item.j for item in cp.derived], dtype=np.intp)
    masks = []
    for item in cp.derived:
        expected = c[:, item.j] + delta[:, item.idx] @ item.coef
        tol = tolerance(expected)
        wrong = np.abs(x[:, item.j] - expected) > tol
        masks.append(wrong | (np.isnan(x[:, item.j]) != np.isnan(expected)))
    return _kept(("derived", d_idx, np.column_stack(masks)))


def _feature_rules(
    cp: CompiledConstraints, c: FloatArray, x: FloatArray, delta: FloatArray, changed: BoolArray
) -> FeatureMasks:
    """Return every per-feature rule broken, in a fixed order (rules on no column left out)."""
    return {
        **_immutable_and_domain(cp, c, x, changed),
        **_direction_and_bounds(cp, x, delta, changed),
        **_change_size_and_step(cp, c, x, delta, changed),
        **_transitions(cp, c, x, changed),
        **_derived(cp, c, x, delta),
    }


def _global_rules(
    cp: CompiledConstraints,
    ctx: MessageContext,
    x: FloatArray,
    delta: FloatArray,
    changed: BoolArray,
) -> dict[str, BoolArray]:
    out: dict[str, BoolArray] = {}
    for g, group in enumerate(cp.groups):
        touched = changed[:, group].any(axis=1)
        out[f"one_hot:{ctx.groups[g].name}"] = touched & (
            np.abs(x[:, group].sum(axis=1) - 1.0) > 1e-9
        )
    if cp.max_changes is not None:
        out["max_changes"] = cp.count_changes(changed) > cp.max_changes
    for r, rule in enumerate(cp.rules):
        applies = changed[:, rule.idx].any(axis=1)
        applies &= alternatives_hold(rule.condition, x, delta, changed)
        holds = alternatives_hold(rule.requirement, x, delta, changed)
        out[f"rule:{ctx.rules[r].name}"] = applies & ~holds
    return out


def check_arrays(
    cp: CompiledConstraints, ctx: MessageContext, client: FloatArray, candidates: FloatArray
) -> CheckResult:
    """Check candidates (n, d) against a client (1, d) or one client per row (n, d)."""
    delta, changed = changed_mask(client, candidates)
    nan = ~np.isfinite(candidates)
    if nan.any():
        changed |= nan & ~_kept_missing(cp, client, candidates)
    return CheckResult(
        context=ctx,
        client=client,
        candidates=candidates,
        feature_violations=_feature_rules(cp, client, candidates, delta, changed),
        global_violations=_global_rules(cp, ctx, candidates, delta, changed),
    )
