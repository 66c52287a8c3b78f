"""The ``exact`` engine: cost-optimal counterfactuals of tree ensembles and linear models.

An OCEAN-style mixed-integer program over the client's codes (Parmentier & Vidal, 2021),
solved with HiGHS through ``scipy.optimize.milp``:

- features: fixed values, numeric values with up/down change binaries (``step * k`` on a
  step grid), one binary per reachable category, derived features as expressions
  (:mod:`counterfactuals._exact_vars`);
- the margin: trees pruned against the client's feasible box, then threshold indicators and
  leaf flows; or the linear function (:mod:`counterfactuals._exact_trees`);
- the constraint file: bounds, directions, steps, transitions, rules, one-hot groups,
  change groups and ``max_changes`` (:mod:`counterfactuals._exact_rules`);
- the goal: ``margin >= link.margin_for(p)`` (or ``<=``), the objective: the file's cost plus
  tie-breaks (fewer changes, then smaller moves).

``n`` diverse candidates come from no-good cuts: each next one leaves unchanged at least one
feature of every earlier one (no repeated set of changes, and no superset of one). When no
counterfactual exists, the engine proves it, reports the point of best margin, and which
constraint families block (:mod:`counterfactuals._exact_explain`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, ConstraintSet, Flag, Number, ParamSpec, check_dataclass
from counterfactuals._engine import (
    MAX_TIME_S,
    EngineOutput,
    EngineRequest,
    Support,
    check_solve,
    register_engine,
)
from counterfactuals._exact_budget import within_budget
from counterfactuals._exact_explain import binding_constraints, used_features
from counterfactuals._exact_model import ExactModel
from counterfactuals._milp import MilpResult
from counterfactuals._model import LinearFunction, ModelAdapter, TreeEnsemble
from counterfactuals._target import BoundTarget
from counterfactuals.errors import CounterfactualError

__all__ = ["ExactEngine"]

FloatArray = NDArray[np.float64]
# Goal margins past the threshold tried in turn, relative to (1 + |threshold|): the first is
# exact; the others absorb float32 sums (XGBoost) when a candidate lands on the threshold.
_GOAL_EPS = (0.0, 1e-6, 1e-3)


@dataclass(slots=True)
class _Run:
    """Mutable state of one solve call."""

    request: EngineRequest
    model: ExactModel
    op: str
    bound: float
    deadline: float
    notes: list[str]
    timed_out: bool = False
    first_status: str = ""
    warm: str = ""  # what the first solve made of the starting point (MilpResult.warm)
    best: MilpResult | None = None
    n_dropped: int = 0


def _stats(model: ExactModel, build_s: float, search_s: float) -> dict[str, Any]:
    """Size of the program and where the time went."""
    return {
        "n_trees": model.stats.n_trees,
        "n_live_trees": model.stats.n_live_trees,
        "n_splits": model.stats.n_splits,
        "n_vars": model.b.n_vars,
        "n_rows": model.b.n_rows,
        "build_s": build_s,
        "search_s": search_s,
    }


def _check_budget(budget: float) -> float:
    """Return the request's cost bound, widened by float tolerance; refuse a bad one."""
    value = float(budget)
    if not math.isfinite(value) or value < 0:
        raise CounterfactualError(
            f"cost_bound: must be a finite cost >= 0 (a counterfactual's cost). Got {budget!r}."
        )
    return value + 1e-9 * (1.0 + value)


@register_engine
@dataclass(frozen=True, slots=True, kw_only=True)
class ExactEngine:
    """Exact counterfactuals of tree ensembles and linear models (a mixed-integer program).

    Parameters
    ----------
    time_limit_s
        Seconds for one client (all candidates and the infeasibility analysis); the
        request's deadline shortens it.
    mip_rel_gap
        Relative optimality gap at which HiGHS stops (the first candidate is ``optimal``
        within it).
    change_weight
        Tie-break added to the cost per changed feature (or group).
    distance_weight
        Tie-break per MAD moved, so that free moves stay small.
    explain
        When nothing reaches the goal, find the binding constraint families.
    explain_time_s
        At most this many seconds (within ``time_limit_s``) for the point of best margin and
        the binding constraints, once the absence of a counterfactual is proved.
    presolve
        Let HiGHS presolve the program (measured a wash on pruned tree ensembles: it speeds
        up some hard programs and slows down some easy ones).
    """

    name: ClassVar[str] = "exact"
    time_limit_s: float = 10.0
    mip_rel_gap: float = 1e-4
    change_weight: float = 1e-3
    distance_weight: float = 1e-4
    explain: bool = True
    explain_time_s: float = 5.0
    presolve: bool = True

    PARAMETERS: ClassVar[ParamSpec] = {
        "time_limit_s": Number(0.0, MAX_TIME_S, low_open=True, unit="seconds"),
        "mip_rel_gap": Number(0.0, 1.0),
        "change_weight": Number(0.0),
        "distance_weight": Number(0.0),
        "explain": Flag(),
        "explain_time_s": Number(0.0, MAX_TIME_S, unit="seconds"),
        "presolve": Flag(),
    }

    def __post_init__(self) -> None:
        check_dataclass(self, self.PARAMETERS, error=CounterfactualError)

    # ------------------------------------------------------------------ contract
    def supports(self, adapter: ModelAdapter, target: BoundTarget) -> Support:
        """Say whether the engine can serve the request (trees or linear, one output's goal)."""
        goal = target.linear_goal()
        if goal is None:
            return Support.no(
                "the exact engine needs a goal on one output's probability (a probability "
                "threshold or a binary flip); this target compares outputs"
            )
        margin = adapter.margins.get(goal[0])
        if margin is None:
            return Support.no(
                "the exact engine needs the model's structure (trees or linear) for output "
                f"{adapter.outputs[goal[0]]!r}; this {adapter.family} model does not expose it"
            )
        if margin.kind not in ("trees", "linear"):
            return Support.no(
                f"the exact engine handles trees and linear models, not {margin.kind}"
            )
        return Support.yes()

    def supports_missing(self, request: EngineRequest) -> Support:
        """Say whether the engine can serve a client with missing values (``missing: keep``).

        A missing value stays fixed: the trees follow the default direction they learnt for
        it (XGBoost), a linear model its imputed value. Refused: a model that says neither,
        a rule or a one-hot group that reads a missing value.
        """
        support = self.supports(request.adapter, request.target)
        if not support:
            return support
        names = request.constraints.feature_names
        missing = {names[j] for j in np.flatnonzero(np.isnan(request.client))}
        column = (request.target.linear_goal() or (0, "", 0.0))[0]
        function = request.adapter.margins[column].function
        if isinstance(function, TreeEnsemble) and function.missing_left is None:
            return Support.no(
                "the client has missing values and the model's trees do not say where a missing "
                "value goes (only XGBoost's do). Hint: use the search engine"
            )
        if isinstance(function, LinearFunction) and function.missing_value is None:
            return Support.no(
                "the client has missing values and the linear model does not say which value "
                "it imputes. Hint: use the search engine"
            )
        for rule in request.constraints.rules:
            read = sorted(missing & set(rule.features))
            if read:
                return Support.no(
                    f"rule {rule.name!r} reads {', '.join(read)}, missing for this client. "
                    "Hint: use the search engine"
                )
        for group in request.constraints.one_hot:
            if missing & set(group.features):
                return Support.no(
                    f"one-hot group {group.name!r} has a missing value for this client. Hint: "
                    "use the search engine"
                )
        return Support.yes()

    def solve_many(
        self, requests: Sequence[EngineRequest], n: int, seed: int
    ) -> list[EngineOutput]:
        """Solve each request in turn (one program per client)."""
        n, seed = check_solve(n, seed)
        return [self.solve(request, n, seed) for request in requests]

    def solve(self, request: EngineRequest, n: int, seed: int) -> EngineOutput:
        """Search up to ``n`` cost-ordered counterfactuals with distinct changed features.

        ``seed`` is unused: HiGHS is deterministic (up to the time limit).
        """
        start = time.perf_counter()
        n, seed = check_solve(n, seed)
        support = self.supports(request.adapter, request.target)
        if support and np.isnan(request.client).any():
            support = self.supports_missing(request)
        if not support:
            raise CounterfactualError(f"exact engine: {support.reason}.")
        column, op, p = request.target.linear_goal() or (0, ">=", 0.5)
        bound = float(request.adapter.margins[column].link.margin_for(p))
        deadline = start + max(0.0, min(self.time_limit_s, request.time_left()))
        budget, bounds, cut = request.cost_bound, request.bounds, (0, 0)
        if budget is not None:
            budget = _check_budget(budget)
            within = within_budget(request.constraints, bounds, budget)
            bounds, cut = within.bounds, (within.n_features_frozen, within.n_categories_dropped)
        model = self._build(request, request.constraints, bounds)
        if budget is not None:
            model.cap_cost(budget)
            if request.known is not None:  # its moves each cost <= budget: none was cut
                model.start_at(request.known)
        run = _Run(request, model, op, bound, deadline, self._capping_notes(request, model))
        build_s = time.perf_counter() - start
        found = self._candidates(run, n)
        stats = _stats(model, build_s, time.perf_counter() - start - build_s)
        stats["budget_features_frozen"], stats["budget_categories_dropped"] = cut
        stats["warm_start"] = run.warm or "none"
        if not found and budget is not None and run.first_status == "infeasible":
            out = EngineOutput(
                candidates=np.empty((0, len(request.client))),
                proved_bound=True,
                notes=(
                    *run.notes,
                    f"exact engine: no counterfactual costs less than {budget:.6g} (proved).",
                ),
            )
        elif found or run.first_status != "infeasible":
            best = run.best
            out = EngineOutput(
                candidates=np.vstack(found) if found else np.empty((0, len(request.client))),
                timed_out=run.timed_out,
                optimal=best is not None and best.status == "optimal",
                gap=None if best is None else best.gap,
                notes=tuple(run.notes),
            )
        else:
            out = self._no_counterfactual(run)
        stats["elapsed_s"] = time.perf_counter() - start
        return dataclasses.replace(out, stats=stats)

    # ------------------------------------------------------------------ internals
    def _build(self, request: EngineRequest, cs: ConstraintSet, bounds: ClientBounds) -> ExactModel:
        column = (request.target.linear_goal() or (0, "", 0.0))[0]
        return ExactModel(
            request.adapter.space,
            cs,
            bounds,
            request.adapter.margins[column],
            (self.change_weight, self.distance_weight),
        )

    @staticmethod
    def _capping_notes(request: EngineRequest, model: ExactModel) -> list[str]:
        names = [request.constraints.feature_names[j] for j in model.capped]
        if not names:
            return []
        return [
            "features without a finite bound were searched within the data's range "
            f"(0.5-99.5 %, at least 3 MAD around the client): {', '.join(names)}."
        ]

    @staticmethod
    def _valid(run: _Run, codes: FloatArray) -> tuple[bool, bool]:
        """Return (passes check, reaches the goal) for one decoded candidate."""
        request = run.request
        ok = bool(request.constraints.check(request.client[None, :], codes[None, :]).ok[0])
        reached = bool(request.slack(codes[None, :])[0] >= 0)
        return ok, reached

    def _next(self, run: _Run) -> tuple[MilpResult | None, FloatArray | None, FloatArray | None]:
        """Solve for the next candidate: (result, valid codes, decoded codes).

        When the decoded point misses the goal only by float rounding (XGBoost sums in
        float32), the goal margin is widened and the program solved again.
        """
        res: MilpResult | None = None
        decoded = None
        for eps in _GOAL_EPS:
            left = run.deadline - time.perf_counter()
            if left <= 0:
                run.timed_out = True
                break
            run.model.set_goal(run.op, run.bound, eps * (1.0 + abs(run.bound)))
            res = run.model.solve(
                time_limit=left, mip_rel_gap=self.mip_rel_gap, presolve=self.presolve
            )
            run.first_status = run.first_status or res.status
            run.warm = run.warm or res.warm
            run.timed_out |= res.status in ("feasible", "timeout")
            if res.x is None:
                if res.status == "error":
                    run.notes.append(f"the solver failed: {res.message}")
                return res, None, None
            decoded = run.model.decode(res.x)
            ok, reached = self._valid(run, decoded)
            if ok and reached:
                return res, decoded, decoded
            if not ok:
                break
        return res, None, decoded

    def _candidates(self, run: _Run, n: int) -> list[FloatArray]:
        found: list[FloatArray] = []
        attempts = 0
        while len(found) < n and attempts < 2 * n + 2:
            attempts += 1
            res, valid, decoded = self._next(run)
            if decoded is None:
                break
            if valid is not None:
                run.best = run.best or res
                found.append(valid)
            else:
                run.n_dropped += 1
            run.model.forbid(run.model.changed(decoded), supersets=valid is not None)
            if run.timed_out:
                break
        if run.n_dropped:
            run.notes.append(
                f"{run.n_dropped} solution(s) failed verification against the constraints or "
                "the model and were dropped."
            )
        return found

    def _no_counterfactual(self, run: _Run) -> EngineOutput:
        """Certificate: the point of best margin, and the binding constraint families."""
        request, model = run.request, run.model
        deadline = min(run.deadline, time.perf_counter() + self.explain_time_s)
        model.set_goal(None)
        sign = -1.0 if run.op == ">=" else 1.0
        left = deadline - time.perf_counter()
        best = None
        if left > 0.02:
            share = left / 3 if self.explain else left
            res = model.solve(
                time_limit=share,
                mip_rel_gap=self.mip_rel_gap,
                objective=model.margin * sign,
                presolve=self.presolve,
            )
            best = None if res.x is None else model.decode(res.x)
        binding: tuple[str, ...] = ()
        notes = list(run.notes)
        if self.explain:
            column = (request.target.linear_goal() or (0, "", 0.0))[0]
            used = used_features(request.adapter.space, request.adapter.margins[column])

            def build(cs: ConstraintSet) -> ExactModel:
                relaxed = self._build(request, cs, cs.bounds_for(request.client[None, :]))
                relaxed.set_goal(run.op, run.bound, _GOAL_EPS[0] * (1.0 + abs(run.bound)))
                return relaxed

            binding, more = binding_constraints(
                request.constraints, used, build, deadline, presolve=self.presolve
            )
            notes.extend(more)
        return EngineOutput(
            candidates=np.empty((0, len(request.client))),
            proved_none=True,
            best_codes=best,
            binding=binding,
            notes=tuple(notes),
        )
