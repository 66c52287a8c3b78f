"""A constraint set compiled to read-only numpy arrays, in its fixed feature order.

:class:`CompiledConstraints` is the public view engines read
(:attr:`ConstraintSet.compiled <constraints.ConstraintSet.compiled>`): one entry per feature
in every array, rules as clauses over column indices, derived features as affine maps, and
the *units* ``max_changes`` counts (a plain feature, a one-hot group or a change group).
Every array is read-only; values are codes (see :meth:`ConstraintSet.to_array`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from constraints._tolerance import changed as changed_cells
from constraints._tolerance import tolerance
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

__all__ = [
    "CompiledClause",
    "CompiledConstraints",
    "CompiledDerived",
    "CompiledRule",
    "alternatives_hold",
    "compile_arrays",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
ClauseKind = Literal["linear", "member", "changes", "increases", "decreases", "stays"]


def _read_only(obj: object) -> None:
    """Make every numpy array field of a frozen dataclass read-only."""
    for item in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, item.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False


@dataclass(frozen=True, slots=True)
class CompiledClause:
    """A clause over column indices.

    Attributes
    ----------
    kind
        ``linear`` (``x[idx] @ coef <op> bound``), ``member`` (the code of ``x[idx[0]]`` is
        one where ``lookup`` is True), or a change of ``x[idx[0]]`` (``changes``,
        ``increases``, ``decreases``, ``stays``).
    idx, coef, op, bound
        The linear form (``coef`` empty for other kinds).
    lookup
        Allowed codes of a membership clause (empty for other kinds).
    """

    kind: ClauseKind
    idx: IntArray
    coef: FloatArray
    op: str
    bound: float
    lookup: BoolArray

    def __post_init__(self) -> None:
        _read_only(self)

    def holds(self, x: FloatArray, delta: FloatArray, moved: BoolArray) -> BoolArray:
        """Evaluate the clause on candidate rows ``x`` (n, d).

        ``delta`` is ``x - client`` and ``moved`` the changed cells (:func:`changed`); a
        feature that cannot move has ``delta`` 0 and ``moved`` False.
        """
        if self.kind == "linear":
            value = x[:, self.idx] @ self.coef
            tol = tolerance(self.bound)
            if self.op == "<=":
                return np.asarray(value <= self.bound + tol)
            if self.op == ">=":
                return np.asarray(value >= self.bound - tol)
            return np.asarray(np.abs(value - self.bound) <= tol)
        j = int(self.idx[0])
        if self.kind == "member":
            codes = np.clip(np.rint(x[:, j]), 0, len(self.lookup) - 1).astype(np.intp)
            return np.asarray(self.lookup[codes])
        if self.kind == "changes":
            return moved[:, j]
        if self.kind == "stays":
            return ~moved[:, j]
        if self.kind == "increases":
            return moved[:, j] & (delta[:, j] > 0)
        return moved[:, j] & (delta[:, j] < 0)


def alternatives_hold(
    alternatives: tuple[tuple[CompiledClause, ...], ...],
    x: FloatArray,
    delta: FloatArray,
    moved: BoolArray,
) -> BoolArray:
    """Evaluate alternatives (``or``) of clauses (``and``) on rows; none means true."""
    if not alternatives:
        return np.ones(len(x), dtype=bool)
    out = np.zeros(len(x), dtype=bool)
    for alternative in alternatives:
        holds = np.ones(len(x), dtype=bool)
        for clause in alternative:
            holds &= clause.holds(x, delta, moved)
        out |= holds
    return out


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule over column indices.

    ``requirement`` must hold where ``condition`` holds and a feature in ``idx`` changed;
    both are alternatives (``or``) of clauses that must all hold (``and``).
    """

    rule: Rule
    condition: tuple[tuple[CompiledClause, ...], ...]
    requirement: tuple[tuple[CompiledClause, ...], ...]
    idx: IntArray

    def __post_init__(self) -> None:
        _read_only(self)


@dataclass(frozen=True, slots=True)
class CompiledDerived:
    """A derived feature: ``x[j] - c[j] == (x[idx] - c[idx]) @ coef`` (c: the client)."""

    derived: DerivedFeature
    j: int
    idx: IntArray
    coef: FloatArray

    def __post_init__(self) -> None:
        _read_only(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledConstraints:
    """A constraint set as read-only arrays (d features, in :attr:`features` order).

    Attributes
    ----------
    features
        The feature specs, in order.
    n_features
        d.
    mutable
        A lever may set the feature (actionable, or context allowed in this run; never a
        derived feature).
    derived_mask
        The feature is recomputed from others (:meth:`rederive`).
    lower, upper
        Bounds (codes for coded features, clipped to their categories).
    direction
        +1 may only increase, -1 only decrease, 0 either way.
    max_change, max_change_percent
        Largest change per lever in units and in % of the client's value (inf: none);
        :meth:`change_limit` combines them per client.
    step
        Step grid of numeric features (0: none; integers get 1).
    n_categories
        Categories of coded features (2 for binary, 0 for numbers).
    coded, categorical, integral
        Coded (binary, categorical, ordinal); unordered categories; whole values.
    scale
        Median absolute deviation (1 for categories): the unit of distances.
    cost_per_unit, cost_per_change, cost_percentile_shift
        The file's cost of a change (see :meth:`ConstraintSet.feature_costs`).
    transitions
        (feature, (k, k) allowed source -> target codes) for features with transitions.
    rules
        Global rules as compiled clauses.
    derived
        Derived features as affine maps of their sources.
    groups
        Column indices of each one-hot group.
    unit_groups
        Column indices of each one-hot or change group (one unit each).
    unit_of
        The unit each feature belongs to (-1 for derived features).
    n_units
        Number of units.
    max_changes
        Most units a lever may change (``None``: no limit).
    bounded_lower, bounded_upper, increasing, decreasing, limited, stepped, coded_idx,
    integer_idx, frozen_idx
        Column indices of the features each rule of ``check`` applies to.
    """

    features: tuple[FeatureSpec, ...]
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

    def __post_init__(self) -> None:
        _read_only(self)
        for _, table in self.transitions:
            table.flags.writeable = False
        for group in (*self.groups, *self.unit_groups):
            group.flags.writeable = False

    def rederive(self, client: FloatArray, rows: FloatArray) -> FloatArray:
        """Recompute derived features of ``rows`` in place from their sources' changes.

        ``client`` is one (d,) row, or one row per candidate (n, d). Returns ``rows``.
        This is the one implementation of derived-feature propagation (projection, the
        engines and the what-if editor all call it).
        """
        c = np.asarray(client, dtype=np.float64)
        if c.ndim == 1:
            for item in self.derived:
                rows[:, item.j] = c[item.j] + (rows[:, item.idx] - c[item.idx]) @ item.coef
        else:
            for item in self.derived:
                rows[:, item.j] = c[:, item.j] + (rows[:, item.idx] - c[:, item.idx]) @ item.coef
        return rows

    def change_limit(self, client: FloatArray) -> FloatArray:
        """Largest allowed |change| of each feature for each client row (inf: unlimited)."""
        percent = self.max_change_percent
        relative = np.where(np.isfinite(percent), np.nan_to_num(percent, posinf=0.0) / 100.0, 0.0)
        by_percent = np.where(np.isfinite(percent), relative * np.abs(client), np.inf)
        limit: FloatArray = np.minimum(self.max_change, by_percent)
        return limit

    def changed_units(self, moved: BoolArray) -> BoolArray:
        """(n, n_units) which units a row changes, from its (n, d) changed features."""
        units = np.zeros((len(moved), self.n_units), dtype=bool)
        for j in np.flatnonzero(self.unit_of >= 0).tolist():
            units[:, self.unit_of[j]] |= moved[:, j]
        return units

    def count_changes(self, moved: BoolArray) -> IntArray:
        """Count changed units per row from the (n, d) changed features.

        As ``max_changes`` counts: a group counts once, derived features never.
        """
        plain = self.unit_of >= 0
        for group in self.unit_groups:
            plain[group] = False
        total = moved[:, plain].sum(axis=1)
        for group in self.unit_groups:
            total += moved[:, group].any(axis=1)
        counted: IntArray = total.astype(np.intp)
        return counted

    def changed(self, client: FloatArray, rows: FloatArray) -> BoolArray:
        """(n, d) which features each row changes, derived features left out."""
        moved: BoolArray = changed_cells(client, rows) & ~self.derived_mask
        return moved


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
    coded = np.array([f.kind in ("binary", "categorical", "ordinal") for f in features])
    ordinal = np.array([f.kind == "ordinal" for f in features], dtype=bool)
    n_categories = np.array([f.n_categories for f in features], dtype=np.intp)
    lower, upper = _column(features, "lower"), _column(features, "upper")
    lower[coded] = np.maximum(lower[coded], 0.0)
    upper[coded] = np.minimum(upper[coded], n_categories[coded] - 1.0)
    direction = np.array(
        [{"increase": 1.0, "decrease": -1.0}.get(f.direction, 0.0) for f in features]
    )
    step = _column(features, "step")
    integral = np.array([f.kind != "continuous" for f in features], dtype=bool)
    step[integral & ~coded & (step <= 0)] = 1.0
    groups, unit_groups, unit_of, n_units = _units(index, derived_mask, one_hot, change_groups)
    max_abs = _column(features, "max_change")
    max_pct = _column(features, "max_change_percent")
    return CompiledConstraints(
        features=features,
        n_features=len(features),
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
        scale=_column(features, "scale"),
        cost_per_unit=_column(features, "cost_per_unit"),
        cost_per_change=_column(features, "cost_per_change"),
        cost_percentile_shift=_column(features, "cost_percentile_shift"),
        transitions=_transitions(features),
        rules=_rules(rules, index, features),
        derived=_derived(derived, index),
        groups=groups,
        unit_groups=unit_groups,
        unit_of=unit_of,
        n_units=n_units,
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
