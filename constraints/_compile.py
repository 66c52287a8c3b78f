"""Compile a constraint set's features and rules into :class:`CompiledConstraints`."""

from __future__ import annotations

from typing import Any

import numpy as np

from constraints._compiled import (
    BoolArray,
    CompiledClause,
    CompiledConstraints,
    CompiledDerived,
    CompiledRule,
    FloatArray,
    IntArray,
)
from constraints._types import (
    ChangeClause,
    ChangeGroup,
    Clause,
    DerivedFeature,
    FeatureSpec,
    LinearClause,
    MembershipClause,
    OneHotGroup,
    Rule,
)

__all__ = ["compile_arrays"]


def _clause(
    clause: Clause, index: dict[str, int], features: tuple[FeatureSpec, ...]
) -> CompiledClause:
    empty_f = np.zeros(0)
    empty_b = np.zeros(0, dtype=bool)
    if isinstance(clause, LinearClause):
        idx = np.array([index[n] for n, _ in clause.terms], dtype=np.intp)
        coef = np.array([c for _, c in clause.terms], dtype=np.float64)
        return CompiledClause("linear", idx, coef, clause.op, clause.bound, empty_b)
    if isinstance(clause, MembershipClause):
        j = index[clause.feature]
        lookup = np.zeros(max(features[j].n_categories, 1), dtype=bool)
        lookup[sorted(clause.codes)] = True
        return CompiledClause("member", np.array([j], dtype=np.intp), empty_f, "", 0.0, lookup)
    if not isinstance(clause, ChangeClause):  # pragma: no cover - the Clause union is closed
        raise TypeError(f"clause: must be a Clause. Got {type(clause).__name__}.")
    j = index[clause.feature]
    return CompiledClause(clause.kind, np.array([j], dtype=np.intp), empty_f, "", 0.0, empty_b)


def _where(mask: BoolArray) -> IntArray:
    return np.flatnonzero(mask).astype(np.intp)


def _transitions(features: tuple[FeatureSpec, ...]) -> tuple[tuple[int, BoolArray], ...]:
    found = []
    for j, f in enumerate(features):
        if f.transitions is not None:
            allowed = np.eye(f.n_categories, dtype=bool)
            for source, targets in f.transitions:
                allowed[source, list(targets)] = True
            found.append((j, allowed))
    return tuple(found)


def _units(
    index: dict[str, int],
    derived_mask: BoolArray,
    one_hot: tuple[OneHotGroup, ...],
    change_groups: tuple[ChangeGroup, ...],
) -> tuple[tuple[IntArray, ...], tuple[IntArray, ...], IntArray, int]:
    """Return (one-hot groups, unit groups, unit of each feature, number of units)."""
    d = len(derived_mask)
    unit_of = np.arange(d, dtype=np.intp)
    groups: list[IntArray] = []
    unit_groups: list[IntArray] = []
    grouped: list[OneHotGroup | ChangeGroup] = [*one_hot, *change_groups]
    for g, group in enumerate(grouped):
        idx = np.array([index[n] for n in group.features], dtype=np.intp)
        unit_of[idx] = d + g
        unit_groups.append(idx)
        if g < len(one_hot):
            groups.append(idx)
    unit_of[derived_mask] = -1
    used = np.unique(unit_of[unit_of >= 0])
    remap = np.full(d + len(grouped), -1, dtype=np.intp)
    remap[used] = np.arange(len(used))
    unit_of = np.where(unit_of >= 0, remap[np.maximum(unit_of, 0)], -1).astype(np.intp)
    return tuple(groups), tuple(unit_groups), unit_of, len(used)


def _rules(
    rules: tuple[Rule, ...], index: dict[str, int], features: tuple[FeatureSpec, ...]
) -> tuple[CompiledRule, ...]:
    def alternatives(
        alts: tuple[tuple[Clause, ...], ...],
    ) -> tuple[tuple[CompiledClause, ...], ...]:
        return tuple(tuple(_clause(c, index, features) for c in alt) for alt in alts)

    return tuple(
        CompiledRule(
            rule=r,
            condition=alternatives(r.condition),
            requirement=alternatives(r.requirement),
            idx=np.array(sorted({index[n] for n in r.features}), dtype=np.intp),
        )
        for r in rules
    )


def _derived(
    derived: tuple[DerivedFeature, ...], index: dict[str, int]
) -> tuple[CompiledDerived, ...]:
    return tuple(
        CompiledDerived(
            derived=item,
            j=index[item.feature],
            idx=np.array([index[n] for n, _ in item.terms], dtype=np.intp),
            coef=np.array([c for _, c in item.terms], dtype=np.float64),
        )
        for item in derived
    )


def _column(features: tuple[FeatureSpec, ...], attribute: str) -> FloatArray:
    return np.array([getattr(f, attribute) for f in features], dtype=np.float64)


def _feature_columns(features: tuple[FeatureSpec, ...]) -> dict[str, Any]:
    """Per-feature arrays read from the specs (bounds of coded features clipped to codes)."""
    coded = np.array([f.kind in ("binary", "categorical", "ordinal") for f in features])
    n_categories = np.array([f.n_categories for f in features], dtype=np.intp)
    lower, upper = _column(features, "lower"), _column(features, "upper")
    lower[coded] = np.maximum(lower[coded], 0.0)
    upper[coded] = np.minimum(upper[coded], n_categories[coded] - 1.0)
    step = _column(features, "step")
    integral = np.array([f.kind != "continuous" for f in features], dtype=bool)
    step[integral & ~coded & (step <= 0)] = 1.0
    return {
        "lower": lower,
        "upper": upper,
        "direction": np.array(
            [{"increase": 1.0, "decrease": -1.0}.get(f.direction, 0.0) for f in features]
        ),
        "max_change": _column(features, "max_change"),
        "max_change_percent": _column(features, "max_change_percent"),
        "min_change": np.where(coded, 0.0, _column(features, "min_change")),
        "step": step,
        "n_categories": n_categories,
        "coded": coded,
        "categorical": np.array([f.kind == "categorical" for f in features], dtype=bool),
        "integral": integral,
        "scale": _column(features, "scale"),
        "cost_per_unit": _column(features, "cost_per_unit"),
        "cost_per_change": _column(features, "cost_per_change"),
        "cost_percentile_shift": _column(features, "cost_percentile_shift"),
        "keeps_missing": np.array([f.missing == "keep" for f in features], dtype=bool),
    }


def _rule_columns(
    features: tuple[FeatureSpec, ...], a: dict[str, Any], frozen: BoolArray
) -> dict[str, Any]:
    """Column indices of the features each rule of ``check`` applies to."""
    coded, ordinal = a["coded"], np.array([f.kind == "ordinal" for f in features], dtype=bool)
    lower, upper, step = a["lower"], a["upper"], a["step"]
    return {
        "bounded_lower": _where(np.isfinite(lower) & (~coded | (ordinal & (lower > 0)))),
        "bounded_upper": _where(
            np.isfinite(upper) & (~coded | (ordinal & (upper < a["n_categories"] - 1)))
        ),
        "increasing": _where(a["direction"] > 0),
        "decreasing": _where(a["direction"] < 0),
        "limited": _where(np.isfinite(a["max_change"]) | np.isfinite(a["max_change_percent"])),
        "min_sized": _where(a["min_change"] > 0),
        "stepped": _where((step > 0) & ~coded),
        "coded_idx": _where(coded),
        "integer_idx": _where(a["integral"] & ~coded),
        "frozen_idx": _where(frozen),
    }


def compile_arrays(
    features: tuple[FeatureSpec, ...],
    rules: tuple[Rule, ...],
    derived: tuple[DerivedFeature, ...],
    one_hot: tuple[OneHotGroup, ...],
    max_changes: int | None,
    allowed_context: frozenset[str],
    change_groups: tuple[ChangeGroup, ...] = (),
) -> CompiledConstraints:
    """Compile features and rules into arrays (one entry per feature, in order)."""
    index = {f.name: j for j, f in enumerate(features)}
    derived_mask = np.zeros(len(features), dtype=bool)
    derived_mask[[index[item.feature] for item in derived]] = True
    mutable = ~derived_mask & np.array(
        [
            f.role == "actionable" or (f.role == "context" and f.name in allowed_context)
            for f in features
        ]
    )
    arrays = _feature_columns(features)
    groups, unit_groups, unit_of, n_units = _units(index, derived_mask, one_hot, change_groups)
    return CompiledConstraints(
        features=features,
        n_features=len(features),
        mutable=mutable,
        derived_mask=derived_mask,
        **arrays,
        transitions=_transitions(features),
        rules=_rules(rules, index, features),
        derived=_derived(derived, index),
        groups=groups,
        unit_groups=unit_groups,
        unit_of=unit_of,
        n_units=n_units,
        max_changes=max_changes,
        **_rule_columns(features, arrays, ~mutable & ~derived_mask),
    )
