"""Numpy arrays compiled once from a constraint set, in its fixed feature order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

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

__all__ = ["Compiled", "CompiledClause", "compile_arrays"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class CompiledClause:
    """A clause over column indices: linear (idx, coef, op, bound), membership or change."""

    kind: str
    idx: IntArray
    coef: FloatArray
    op: str
    bound: float
    lookup: BoolArray


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with compiled clauses and the columns it names."""

    rule: Rule
    condition: tuple[tuple[CompiledClause, ...], ...]
    requirement: tuple[tuple[CompiledClause, ...], ...]
    idx: IntArray


@dataclass(frozen=True, slots=True)
class CompiledDerived:
    """``x[j] - x0[j] == (x[idx] - x0[idx]) @ coef``."""

    derived: DerivedFeature
    j: int
    idx: IntArray
    coef: FloatArray


@dataclass(frozen=True, slots=True)
class Compiled:
    """Arrays of a constraint set (d features); see :func:`compile_arrays`."""

    n_features: int
    mutable: BoolArray
    derived_mask: BoolArray
    lower: FloatArray
    upper: FloatArray
    direction: FloatArray
    max_change: FloatArray
    max_change_percent: FloatArray
    step: FloatArray
    n_categories: IntArray
    coded: BoolArray
    categorical: BoolArray
    integral: BoolArray
    scale: FloatArray
    cost_per_unit: FloatArray
    cost_per_change: FloatArray
    cost_percentile_shift: FloatArray
    transitions: tuple[tuple[int, BoolArray], ...]
    rules: tuple[CompiledRule, ...]
    derived: tuple[CompiledDerived, ...]
    groups: tuple[IntArray, ...]
    unit_groups: tuple[IntArray, ...]
    unit_of: IntArray
    n_units: int
    max_changes: int | None
    bounded_lower: IntArray
    bounded_upper: IntArray
    increasing: IntArray
    decreasing: IntArray
    limited: IntArray
    stepped: IntArray
    coded_idx: IntArray
    integer_idx: IntArray
    frozen_idx: IntArray


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
    assert isinstance(clause, ChangeClause)
    j = index[clause.feature]
    return CompiledClause(clause.kind, np.array([j], dtype=np.intp), empty_f, "", 0.0, empty_b)


def _where(mask: BoolArray) -> IntArray:
    return np.flatnonzero(mask).astype(np.intp)


def compile_arrays(
    features: tuple[FeatureSpec, ...],
    rules: tuple[Rule, ...],
    derived: tuple[DerivedFeature, ...],
    one_hot: tuple[OneHotGroup, ...],
    max_changes: int | None,
    allowed_context: frozenset[str],
    change_groups: tuple[ChangeGroup, ...] = (),
) -> Compiled:
    """Compile features and rules into arrays (one entry per feature, in order)."""
    index = {f.name: j for j, f in enumerate(features)}
    d = len(features)
    derived_mask = np.zeros(d, dtype=bool)
    for item in derived:
        derived_mask[index[item.feature]] = True
    mutable = (
        np.array(
            [
                f.role == "actionable" or (f.role == "context" and f.name in allowed_context)
                for f in features
            ]
        )
        & ~derived_mask
    )
    coded = np.array([f.kind in ("binary", "categorical", "ordinal") for f in features], dtype=bool)
    ordinal = np.array([f.kind == "ordinal" for f in features], dtype=bool)
    n_categories = np.array([f.n_categories for f in features], dtype=np.intp)
    lower = np.array([f.lower for f in features], dtype=np.float64)
    upper = np.array([f.upper for f in features], dtype=np.float64)
    lower[coded] = np.maximum(lower[coded], 0.0)
    upper[coded] = np.minimum(upper[coded], n_categories[coded] - 1.0)
    direction = np.array(
        [{"increase": 1.0, "decrease": -1.0}.get(f.direction, 0.0) for f in features]
    )
    step = np.array([f.step for f in features], dtype=np.float64)
    integral = np.array([f.kind != "continuous" for f in features], dtype=bool)
    step[integral & ~coded & (step <= 0)] = 1.0
    transitions = []
    for j, f in enumerate(features):
        if f.transitions is not None:
            allowed = np.eye(f.n_categories, dtype=bool)
            for source, targets in f.transitions:
                allowed[source, list(targets)] = True
            transitions.append((j, allowed))
    unit_of = np.arange(d, dtype=np.intp)
    groups = []
    unit_groups = []
    grouped: list[OneHotGroup | ChangeGroup] = [*one_hot, *change_groups]
    for g, group in enumerate(grouped):
        idx = np.array([index[n] for n in group.features], dtype=np.intp)
        unit_of[idx] = d + g
        unit_groups.append(idx)
        if g < len(one_hot):
            groups.append(idx)
    unit_of[derived_mask] = -1
    used = np.unique(unit_of[unit_of >= 0])
    remap = np.full(d + len(one_hot) + len(change_groups), -1, dtype=np.intp)
    remap[used] = np.arange(len(used))
    unit_of = np.where(unit_of >= 0, remap[np.maximum(unit_of, 0)], -1)
    compiled_rules = tuple(
        CompiledRule(
            rule=r,
            condition=tuple(tuple(_clause(c, index, features) for c in alt) for alt in r.condition),
            requirement=tuple(
                tuple(_clause(c, index, features) for c in alt) for alt in r.requirement
            ),
            idx=np.array(sorted({index[n] for n in r.features}), dtype=np.intp),
        )
        for r in rules
    )
    compiled_derived = tuple(
        CompiledDerived(
            derived=item,
            j=index[item.feature],
            idx=np.array([index[n] for n, _ in item.terms], dtype=np.intp),
            coef=np.array([c for _, c in item.terms], dtype=np.float64),
        )
        for item in derived
    )
    max_abs = np.array([f.max_change for f in features], dtype=np.float64)
    max_pct = np.array([f.max_change_percent for f in features], dtype=np.float64)
    return Compiled(
        n_features=d,
        mutable=mutable,
        derived_mask=derived_mask,
        lower=lower,
        upper=upper,
        direction=direction,
        max_change=max_abs,
        max_change_percent=max_pct,
        step=step,
        n_categories=n_categories,
        coded=coded,
        categorical=np.array([f.kind == "categorical" for f in features], dtype=bool),
        integral=integral,
        scale=np.array([f.scale for f in features], dtype=np.float64),
        cost_per_unit=np.array([f.cost_per_unit for f in features], dtype=np.float64),
        cost_per_change=np.array([f.cost_per_change for f in features], dtype=np.float64),
        cost_percentile_shift=np.array([f.cost_percentile_shift for f in features]),
        transitions=tuple(transitions),
        rules=compiled_rules,
        derived=compiled_derived,
        groups=tuple(groups),
        unit_groups=tuple(unit_groups),
        unit_of=unit_of,
        n_units=len(used),
        max_changes=max_changes,
        bounded_lower=_where(np.isfinite(lower) & (~coded | (ordinal & (lower > 0)))),
        bounded_upper=_where(
            np.isfinite(upper) & (~coded | (ordinal & (upper < n_categories - 1)))
        ),
        increasing=_where(direction > 0),
        decreasing=_where(direction < 0),
        limited=_where(np.isfinite(max_abs) | np.isfinite(max_pct)),
        stepped=_where((step > 0) & ~coded),
        coded_idx=_where(coded),
        integer_idx=_where(integral & ~coded),
        frozen_idx=_where(~mutable & ~derived_mask),
    )
