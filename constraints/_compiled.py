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
from constraints._tolerance import difference, tolerance
from constraints._types import DerivedFeature, FeatureSpec, Rule

__all__ = [
    "CompiledClause",
    "CompiledConstraints",
    "CompiledDerived",
    "CompiledRule",
    "alternatives_hold",
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
        if self.kind == "member":  # a missing value is no member of any set
            finite = np.isfinite(x[:, j])
            codes = np.rint(np.where(finite, x[:, j], 0.0))
            codes = np.clip(codes, 0, len(self.lookup) - 1).astype(np.intp)
            return np.asarray(self.lookup[codes] & finite)
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
    min_change
        Smallest change of a lever (0: any); a smaller non-zero change is a violation.
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
    keeps_missing
        ``missing: keep``: the value may be missing (NaN); a missing value is frozen for
        that client (:meth:`frozen_for`), and missing to missing is no change.
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
    bounded_lower, bounded_upper, increasing, decreasing, limited, min_sized, stepped,
    coded_idx, integer_idx, frozen_idx
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
    min_change: FloatArray
    step: FloatArray
    n_categories: IntArray
    coded: BoolArray
    categorical: BoolArray
    integral: BoolArray
    scale: FloatArray
    cost_per_unit: FloatArray
    cost_per_change: FloatArray
    cost_percentile_shift: FloatArray
    keeps_missing: BoolArray
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
    min_sized: IntArray
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
        for item in self.derived:
            if c.ndim == 1:
                base, delta = c[item.j], difference(c[item.idx], rows[:, item.idx])
            else:
                base, delta = c[:, item.j], difference(c[:, item.idx], rows[:, item.idx])
            rows[:, item.j] = base + delta @ item.coef
        return rows

    def frozen_for(self, client: FloatArray) -> BoolArray:
        """(n, d) features no lever may set for each client row: not mutable, or missing.

        A feature whose value is missing for a client (``missing: keep``) stays missing.
        """
        c = np.atleast_2d(np.asarray(client, dtype=np.float64))
        frozen: BoolArray = ~self.mutable[None, :] | np.isnan(c)
        return frozen

    def derived_map(self) -> FloatArray:
        """Return the (d, d) matrix ``M`` with ``rederive(c, rows) - c == (rows - c) @ M``.

        The same propagation as :meth:`rederive`, as one linear map, for engines that
        need it in matrix form (the gradient engine differentiates through it). A
        derived feature's own column is replaced by its sources' weighted changes;
        derived features never feed one another (the file check forbids it).
        """
        spread = np.eye(self.n_features)
        for item in self.derived:
            spread[item.j, item.j] = 0.0
            spread[item.idx, item.j] = item.coef
        return spread

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
