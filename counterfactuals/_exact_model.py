"""One client's mixed-integer program: build it, bound the margin, solve, decode candidates."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, ConstraintSet, changed
from counterfactuals._exact_rules import ClauseEncoder, add_no_good, add_one_hot, unit_changes
from counterfactuals._exact_trees import (
    add_monotone_rows,
    design_columns,
    linear_margin,
    tree_margin,
)
from counterfactuals._exact_vars import FeatureVars, encode_features, feature_cost
from counterfactuals._milp import Lin, MilpBuilder, MilpResult
from counterfactuals._model import LinearFunction, MarginModel, TreeEnsemble
from counterfactuals._space import FeatureSpace
from counterfactuals.errors import CounterfactualError

__all__ = ["ExactModel"]

FloatArray = NDArray[np.float64]


def _check_width(function: object, n_design: int) -> None:
    """Raise unless the margin reads the feature space's design matrix."""
    if isinstance(function, TreeEnsemble):
        inner = function.feature[function.feature >= 0]
        width = int(inner.max()) + 1 if inner.size else 0
        ok = width <= n_design
    elif isinstance(function, LinearFunction):
        width = len(function.coef)
        ok = width == n_design
    else:
        return
    if not ok:
        raise CounterfactualError(
            f"exact engine: the model must read the feature space's {n_design} design columns. "
            f"Got a margin over {width} columns. Hint: train on FeatureSpace.to_design(codes)."
        )


class ExactModel:
    """The program of one client: features, margin, constraints, cost and goal.

    Parameters
    ----------
    space
        The model's feature space (design columns).
    constraints, bounds
        The constraint set and the client's bounds under it.
    margin
        The margin of the target column, trees or linear.
    weights
        Tie-breaks added to the cost: per change unit, and per MAD of numeric distance.
    """

    def __init__(
        self,
        space: FeatureSpace,
        constraints: ConstraintSet,
        bounds: ClientBounds,
        margin: MarginModel,
        weights: tuple[float, float],
    ) -> None:
        cp = constraints.compiled
        self.constraints = constraints
        self.client = np.asarray(bounds.client, dtype=np.float64)
        self.b = MilpBuilder()
        self.features: list[FeatureVars] = encode_features(self.b, constraints, bounds)
        columns = design_columns(space, self.features)
        function = margin.function
        _check_width(function, len(columns))
        if isinstance(function, TreeEnsemble):
            self.margin, self.stats = tree_margin(self.b, function, columns)
        elif isinstance(function, LinearFunction):
            self.margin, self.stats = linear_margin(function, columns)
        else:
            raise CounterfactualError(
                f"exact engine: the margin must be trees or linear. Got {margin.kind}."
            )
        add_monotone_rows(self.b, self.features)
        encoder = ClauseEncoder(self.b, self.features)
        for rule in cp.rules:
            encoder.add_rule(rule)
        add_one_hot(self.b, cp, self.features)
        units = unit_changes(self.b, cp, self.features)
        top = math.inf if cp.max_changes is None else float(cp.max_changes)
        self.count = Lin.total(units)
        self.b.add_row(self.count, 1.0, top)  # a counterfactual changes something
        self.cost = feature_cost(self.b, constraints, self.features)
        change_weight, distance_weight = weights
        distance = Lin.total(
            fv.dev * (1.0 / float(cp.scale[fv.j])) for fv in self.features if fv.movable
        )
        self.objective = self.cost + self.count * change_weight + distance * distance_weight
        self.goal_row: int | None = None
        self.start: tuple[NDArray[np.int32], FloatArray] | None = None

    # ------------------------------------------------------------------ facts
    @property
    def capped(self) -> tuple[int, ...]:
        """Features whose infinite bound was capped at the data's range."""
        return tuple(fv.j for fv in self.features if fv.capped)

    # ------------------------------------------------------------------ goal and cuts
    def set_goal(self, op: str | None, bound: float = 0.0, eps: float = 0.0) -> None:
        """``margin >= bound + eps`` (op ``>=``), ``<= bound - eps`` (``<=``, ``<``), or none."""
        lo, hi = -math.inf, math.inf
        if op == ">=":
            lo = bound + eps
        elif op in ("<=", "<"):
            hi = bound - eps
        if self.goal_row is None:
            self.goal_row = self.b.add_row(self.margin, lo, hi)
        else:
            self.b.set_row_bounds(self.goal_row, lo - self.margin.const, hi - self.margin.const)

    def cap_cost(self, budget: float) -> None:
        """Add ``cost <= budget``: no candidate may cost more (the search's cost, for auto)."""
        self.b.add_row(self.cost, -math.inf, float(budget))

    def start_at(self, codes: FloatArray) -> None:
        """Give the solver a known counterfactual (the search's) as a partial starting point.

        The features' own variables are set: each category's indicator, each numeric
        feature's up/down indicators and its value (its step count on a step grid). HiGHS
        completes the rest (tree splits and leaves follow from the values) and starts from
        that incumbent, or drops it when it breaks a row (e.g. a goal widened for rounding).
        Used by the next :meth:`solve` only.
        """
        point = np.asarray(codes, dtype=np.float64)
        moved = changed(self.client, point[None, :])[0]
        index: list[int] = []
        value: list[float] = []

        def put(expr: Lin, x: float) -> None:
            if len(expr.terms) == 1:
                ((k, coef),) = expr.terms.items()
                index.append(k)
                value.append((x - expr.const) / coef)

        for fv in self.features:
            v = float(point[fv.j])
            if fv.kind == "coded":
                index.extend(fv.z)
                value.extend(1.0 if code == round(v) else 0.0 for code in fv.codes)
            elif fv.kind == "numeric":
                put(fv.inc, 1.0 if moved[fv.j] and v > fv.c else 0.0)
                put(fv.dec, 1.0 if moved[fv.j] and v < fv.c else 0.0)
                put(fv.value, v if moved[fv.j] else fv.c)  # unchanged: the client's value
        integer = np.asarray(self.b.integer, dtype=bool)
        idx = np.asarray(index, dtype=np.int32)
        val = np.asarray(value, dtype=np.float64)
        val = np.where(integer[idx], np.rint(val), val)
        self.start = (idx, val)

    def forbid(self, changed: frozenset[int], *, supersets: bool = True) -> None:
        """Forbid the set of changed features ``changed`` (and its supersets) from now on."""
        add_no_good(self.b, self.features, changed, supersets=supersets)

    def solve(
        self,
        *,
        time_limit: float,
        mip_rel_gap: float,
        objective: Lin | None = None,
        presolve: bool = True,
    ) -> MilpResult:
        """Solve the program (cost + tie-breaks, unless another ``objective`` is given)."""
        goal = self.objective if objective is None else objective
        start, self.start = self.start, None
        return self.b.solve(
            goal, time_limit=time_limit, mip_rel_gap=mip_rel_gap, presolve=presolve, warm=start
        )

    # ------------------------------------------------------------------ decoding
    def _pick(self, fv: FeatureVars, x: FloatArray) -> float:
        """Return a changed numeric value: the solver's, on the step grid, in its interval.

        The interval is the split interval the solver chose, so float32 comparisons go its way.
        """
        up = fv.inc.value(x) > 0.5
        if not (up or fv.dec.value(x) > 0.5):
            return fv.c
        dom = fv.domain
        lo, hi = (fv.up, dom.high) if up else (dom.low, fv.down)
        for edge, mu in fv.edges.items():
            if x[mu] > 0.5:
                lo = max(lo, edge)
            else:
                hi = min(hi, dom.last_below(edge))
        v = fv.value.value(x)
        if fv.step > 0:
            v = round(v / fv.step) * fv.step
        return float(min(max(v, lo), hi))

    def decode(self, x: FloatArray) -> FloatArray:
        """Return the (d,) codes of a solution; derived features recomputed as ``check`` does."""
        out = self.client.copy()
        for fv in self.features:
            if fv.kind == "coded":
                out[fv.j] = float(fv.codes[int(np.argmax(x[list(fv.z)]))])
            elif fv.kind == "numeric":
                out[fv.j] = self._pick(fv, x)
        solution: FloatArray = self.constraints.compiled.rederive(self.client, out[None, :])[0]
        return solution

    def changed(self, codes: FloatArray) -> frozenset[int]:
        """Movable features that differ from the client (``check``'s tolerance)."""
        moved = changed(self.client, codes)
        return frozenset(fv.j for fv in self.features if fv.movable and moved[fv.j])
