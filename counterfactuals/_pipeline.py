"""The steps of a search request: bind, choose engines, solve, fall back, assemble results.

:mod:`counterfactuals._api` checks the caller's parameters and runs these steps in order.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, is_dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, ConstraintSet
from counterfactuals._diagnose import Diagnosis
from counterfactuals._engine import (
    ENGINES,
    Engine,
    EngineOutput,
    EngineRequest,
    missing_support,
)
from counterfactuals._model import ModelAdapter
from counterfactuals._result import Counterfactual, CounterfactualResult, Status
from counterfactuals._target import Target
from counterfactuals._verify import Verified, verify
from counterfactuals.errors import CounterfactualError

__all__ = [
    "RunSettings",
    "Solved",
    "bind_requests",
    "fall_back_to_search",
    "reached_result",
    "result_of",
    "solve_all",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """One call's settings, checked: what to search, with which engine, how long."""

    goal: Target
    n: int
    engine: Engine | None  # None: auto
    seed: int
    time_limit_s: float | None
    diagnosis_budget_s: float
    one: bool  # generate (one client, timed alone) or generate_many (time shared)
    diagnose: bool = True  # search binding constraints for clients without counterfactual


@dataclass(frozen=True, slots=True, kw_only=True)
class Solved:
    """One request's answer so far: the engine that ran, its output, the verified points."""

    request: EngineRequest
    engine: Engine
    output: EngineOutput
    verified: Verified


def _params(engine: Any) -> dict[str, Any]:
    return asdict(engine) if is_dataclass(engine) and not isinstance(engine, type) else {}


_AHEAD_CLIENTS = 256  # scored ahead only for few clients: many share the first call anyway
_AHEAD_ROWS = 100_000


def _ahead(
    adapter: ModelAdapter,
    engine: Engine | None,
    constraints: ConstraintSet,
    codes: FloatArray,
) -> tuple[list[FloatArray], dict[int, ClientBounds]]:
    """Return the search's first-stage rows per client when the model remembers its rows.

    Returns the rows to score along with the clients, and the bounds computed on the way.
    Nothing when the model does not remember, the engine is not the search (``auto`` on a
    black box is), or the clients are many (their first stage is one shared call anyway).
    """
    if not adapter.remembers or len(codes) > _AHEAD_CLIENTS:
        return [], {}
    search = ENGINES["search"]() if engine is None else engine
    first_moves = getattr(search, "first_moves", None)
    if search.name != "search" or not callable(first_moves):
        return [], {}
    bounds: dict[int, ClientBounds] = {}
    rows: list[FloatArray] = []
    total = 0
    for i in range(len(codes)):
        bounds[i] = constraints.bounds_for(codes[i : i + 1])
        rows.append(np.asarray(first_moves(constraints, bounds[i], codes[i]), dtype=np.float64))
        total += len(rows[-1])
        if total > _AHEAD_ROWS:
            return [], bounds
    return rows, bounds


def bind_requests(
    adapter: ModelAdapter,
    constraints: ConstraintSet,
    codes: FloatArray,
    goal: Target,
    deadline: float | None,
    engine: Engine | None = None,
) -> tuple[list[EngineRequest | None], FloatArray]:
    """Bind one request per client; ``None`` for clients already at the target.

    The clients' scores are one model call. On a model that remembers the rows it scored
    (a black box on business frames, whose every call costs milliseconds), that call also
    scores the search's first stage (:meth:`SearchEngine.first_moves`), which then costs
    none: the same answers, one call fewer.
    """
    extra, known = _ahead(adapter, engine, constraints, codes)
    scored = adapter.proba_codes(np.vstack([codes, *extra]) if extra else codes)
    baseline = np.asarray(scored, dtype=np.float64)[: len(codes)]
    requests: list[EngineRequest | None] = []
    held = adapter.held(codes) if adapter.held is not None else None
    for i in range(len(codes)):
        bound = goal.bind(adapter.outputs, baseline[i], ranked=adapter.ranked)
        slack = bound.slack(
            baseline[i : i + 1], None if held is None else held[i : i + 1], adapter.values
        )
        if slack[0] >= 0:
            requests.append(None)
            continue
        bounds = known.get(i)
        requests.append(
            EngineRequest(
                adapter=adapter,
                constraints=constraints,
                client=codes[i].copy(),
                target=bound,
                bounds=bounds if bounds is not None else constraints.bounds_for(codes[i : i + 1]),
                baseline=baseline[i].copy(),
                deadline=deadline,
            )
        )
    return requests, baseline


def _choose(engine: Engine | None, request: EngineRequest) -> Engine:
    """Return the engine: for ``auto``, exact when the model's structure allows it, else search."""
    if engine is not None:
        support = engine.supports(request.adapter, request.target)
        if support:
            support = missing_support(engine, request)
        if not support:
            raise CounterfactualError(
                f"engine: {engine.name} cannot serve this request: {support.reason}"
            )
        return engine
    if "exact" in ENGINES:
        exact: Engine = ENGINES["exact"]()
        if exact.supports(request.adapter, request.target) and missing_support(exact, request):
            return exact
    search: Engine = ENGINES["search"]()
    return search


def _trees(engine: Engine, request: EngineRequest) -> bool:
    """Whether the exact engine serves a tree ensemble (searched first, then bounded)."""
    goal = request.target.linear_goal()
    if engine.name != "exact" or goal is None:
        return False
    margin = request.adapter.margins.get(goal[0])
    return margin is not None and margin.kind == "trees"


def _search_first(
    run: RunSettings, requests: list[EngineRequest], engines: list[Engine]
) -> tuple[list[EngineRequest], dict[int, tuple[EngineOutput, float]]]:
    """Exact on trees: the search runs first; its cheapest verified cost bounds exact.

    Returns the requests (those the search solved carry ``cost_bound``) and, per request
    searched, the search's output and its cheapest verified cost (inf: none found).
    """
    idx = [i for i, (r, e) in enumerate(zip(requests, engines, strict=True)) if _trees(e, r)]
    if not idx:
        return requests, {}
    search: Engine = ENGINES["search"]()
    outputs = search.solve_many([requests[i] for i in idx], run.n, run.seed)
    checked = verify([requests[i] for i in idx], [o.candidates for o in outputs])
    bounded = list(requests)
    first: dict[int, tuple[EngineOutput, float]] = {}
    for i, out, ver in zip(idx, outputs, checked, strict=True):
        request = requests[i]
        cheapest = math.inf
        if len(ver.codes):
            costs = request.constraints.cost(request.client[None, :], ver.codes)
            cheapest = float(costs.min())
            best = ver.codes[int(np.argmin(costs))]
            bounded[i] = replace(request, cost_bound=cheapest, known=best)
        first[i] = (replace(out, candidates=ver.codes), cheapest)
    return bounded, first


def _cheaper(
    request: EngineRequest, exact: EngineOutput, searched: tuple[EngineOutput, float]
) -> tuple[str, EngineOutput]:
    """Merge exact's output (bounded by the search's cost) with the search's: the cheaper wins.

    Returns the engine whose counterfactual comes first and the merged output (both engines'
    candidates; verification orders them by cost).
    """
    search, cheapest = searched
    best = math.inf
    if len(exact.candidates):
        best = float(request.constraints.cost(request.client[None, :], exact.candidates).min())
    tol = 1e-9 * (1.0 + abs(cheapest)) if math.isfinite(cheapest) else 0.0
    if math.isinf(cheapest):
        note = "search first: it found none; the exact engine searched unbounded"
        return "exact", replace(exact, notes=(*search.notes, note, *exact.notes))
    exact_wins = best < cheapest - tol
    proved = exact.optimal or exact.proved_bound  # exact's optimum, or nothing below the bound
    if exact_wins:
        verdict = f"the exact engine found a cheaper one (cost {best:.6g})"
    elif proved:
        verdict = "the exact engine proved none is cheaper"
    else:
        verdict = "the exact engine found none cheaper before its time limit"
    note = f"search first: its best costs {cheapest:.6g}; {verdict}"
    merged = EngineOutput(
        candidates=np.vstack([exact.candidates, search.candidates]),
        proved_none=False,
        timed_out=exact.timed_out or search.timed_out,
        optimal=proved,
        proved_bound=exact.proved_bound,
        gap=exact.gap if exact_wins else (0.0 if proved else None),
        best_codes=search.best_codes,
        binding=exact.binding or search.binding,
        notes=(*search.notes, *exact.notes, note),
        stats={**exact.stats, "search": search.stats},
    )
    return ("exact" if exact_wins else "search"), merged


def solve_all(run: RunSettings, requests: list[EngineRequest]) -> list[Solved]:
    """Run each request's engine, batching requests that share one (``solve_many``).

    On a tree ensemble, ``auto`` and ``exact`` run the search first, then the exact engine
    bounded by the search's cost (a starting bound prunes most of a big forest); the cheaper
    answer is kept, and the result says which engine gave it and whether it is proved optimal.
    """
    engines = [_choose(run.engine, r) for r in requests]
    searched: dict[int, tuple[EngineOutput, float]] = {}
    if run.engine is None or run.engine.name == "exact":
        requests, searched = _search_first(run, requests, engines)
    outputs: list[EngineOutput | None] = [None] * len(requests)
    for name in dict.fromkeys(e.name for e in engines):
        idx = [i for i, e in enumerate(engines) if e.name == name]
        engine = next(e for e in engines if e.name == name)
        found = engine.solve_many([requests[i] for i in idx], run.n, run.seed)
        for i, out in zip(idx, found, strict=True):
            outputs[i] = out
    done = [o for o in outputs if o is not None]
    for i, first in searched.items():
        name, done[i] = _cheaper(requests[i], done[i], first)
        if name == "search" and run.engine is None:  # auto names the engine that won
            engines[i] = ENGINES["search"]()
    verified = verify(requests, [o.candidates for o in done])
    return [
        Solved(request=r, engine=e, output=o, verified=v)
        for r, e, o, v in zip(requests, engines, done, verified, strict=True)
    ]


def fall_back_to_search(run: RunSettings, solved: list[Solved]) -> list[Solved]:
    """``auto``: where exact timed out (or its points failed verification), run search."""
    if run.engine is not None:
        return solved
    redo = [
        k
        for k, s in enumerate(solved)
        if s.engine.name != "search" and not len(s.verified.codes) and not s.output.proved_none
    ]
    if not redo:
        return solved
    search: Engine = ENGINES["search"]()
    now = time.perf_counter()
    again = [
        replace(r, deadline=None if r.deadline is None else now + 1.0)
        for r in (solved[k].request for k in redo)
    ]
    extra = search.solve_many(again, run.n, run.seed)
    checked = verify(again, [o.candidates for o in extra])
    out = list(solved)
    for k, found, ver in zip(redo, extra, checked, strict=True):
        first = solved[k].output
        why = "time limit hit" if first.timed_out else "no verified point"
        note = f"{solved[k].engine.name} engine: {why}; search engine used"
        output = EngineOutput(
            candidates=found.candidates,
            proved_none=found.proved_none,
            timed_out=first.timed_out or found.timed_out,
            best_codes=found.best_codes if found.best_codes is not None else first.best_codes,
            binding=first.binding or found.binding,
            notes=(*first.notes, note, *found.notes),
        )
        out[k] = replace(solved[k], engine=search, output=output, verified=ver)
    return out


def result_of(
    solved: Solved,
    query: dict[str, Any],
    found: tuple[Counterfactual, ...],
    diagnosis: Diagnosis | None,
    run: RunSettings,
    elapsed_s: float,
) -> CounterfactualResult:
    notes = list(solved.output.notes)
    verified = solved.verified
    if verified.n_rejected_model or verified.n_rejected_constraints:
        notes.append(
            f"verification rejected {verified.n_rejected_model} candidate(s) the real model "
            f"scores short of the goal and {verified.n_rejected_constraints} breaking a rule"
        )
    reason, best, binding = "", None, solved.output.binding
    timed_out = solved.output.timed_out
    if diagnosis is not None:
        reason, best, binding = diagnosis.reason, diagnosis.best_score, diagnosis.binding
        notes.extend(diagnosis.notes)
        timed_out = timed_out or diagnosis.timed_out
    request = solved.request
    return CounterfactualResult(
        query=query,
        target=run.goal,
        counterfactuals=found,
        status=Status.FOUND if found else Status.NONE,
        engine=solved.engine.name,
        params=_params(solved.engine),
        seed=run.seed,
        elapsed_s=elapsed_s,
        baseline_score=float(request.target.score(request.baseline[None, :])[0]),
        reason=reason,
        best_score=best,
        binding=binding,
        optimal=bool(solved.output.optimal and found),
        gap=solved.output.gap,
        notes=tuple(notes),
        timed_out=timed_out,
    )


def reached_result(
    run: RunSettings,
    adapter: ModelAdapter,
    query: dict[str, Any],
    baseline: FloatArray,
    share: float,
) -> CounterfactualResult:
    """Answer for a client who already meets the target."""
    bound = run.goal.bind(adapter.outputs, baseline, ranked=adapter.ranked)
    return CounterfactualResult(
        query=query,
        target=run.goal,
        counterfactuals=(),
        status=Status.REACHED,
        engine="none",
        seed=run.seed,
        elapsed_s=share,
        baseline_score=float(bound.score(baseline[None, :])[0]),
        reason="The client already meets the target: no lever is needed.",
    )
