"""``generate`` and ``generate_many``: bind, search, verify, explain."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, is_dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import ConstraintSet, InstanceOf, Number, ParamSpec, Whole, check_params
from counterfactuals._diagnose import Diagnosis, diagnose
from counterfactuals._engine import ENGINES, Engine, EngineOutput, EngineRequest
from counterfactuals._model import ModelAdapter, adapt
from counterfactuals._result import Counterfactual, CounterfactualResult, Status
from counterfactuals._space import FeatureSpace
from counterfactuals._target import Target
from counterfactuals._verify import Verified, records, to_counterfactuals, verify
from counterfactuals.errors import CounterfactualError

__all__ = ["GENERATE_PARAMS", "generate", "generate_many", "resolve_engine"]

FloatArray = NDArray[np.float64]
_DIAGNOSIS_BUDGET_S = 2.0  # generate: seconds to find binding constraints
_DIAGNOSIS_BUDGET_MANY_S = 10.0  # generate_many: the same, for the whole batch

GENERATE_PARAMS: ParamSpec = {
    "constraints": InstanceOf(
        (ConstraintSet,), "a ConstraintSet (see constraints.load_constraints)"
    ),
    "n": Whole(1),
    "seed": Whole(0),
    "time_limit_s": (Number(0.0, low_open=True, unit="seconds"), None),
}
"""The rules of :func:`generate` / :func:`generate_many`'s parameters."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Run:
    """One call's settings, checked: what to search, with which engine, how long."""

    goal: Target
    n: int
    engine: Engine | None  # None: auto
    seed: int
    time_limit_s: float | None
    diagnosis_budget_s: float
    one: bool  # generate (one client, timed alone) or generate_many (time shared)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Solved:
    """One request's answer so far: the engine that ran, its output, the verified points."""

    request: EngineRequest
    engine: Engine
    output: EngineOutput
    verified: Verified


def _target_of(target: Any) -> Target:
    if isinstance(target, Target):
        return target
    if target == "flip":
        return Target.flip()
    if isinstance(target, float) and not isinstance(target, bool):
        return Target.probability(target)
    raise CounterfactualError(
        f"target: must be a Target (Target.flip(), Target.probability(0.5), "
        f"Target.top('product')), 'flip' or a probability. Got {target!r}."
    )


def _settings(
    constraints: Any, target: Any, options: dict[str, Any], *, one: bool
) -> tuple[ConstraintSet, _Run]:
    """Check a call's parameters against :data:`GENERATE_PARAMS` and resolve them."""
    checked = check_params(
        {"constraints": constraints, **options}, GENERATE_PARAMS, error=CounterfactualError
    )
    run = _Run(
        goal=_target_of(target),
        n=checked["n"],
        engine=resolve_engine(options["engine"]),
        seed=checked["seed"],
        time_limit_s=checked["time_limit_s"],
        diagnosis_budget_s=_DIAGNOSIS_BUDGET_S if one else _DIAGNOSIS_BUDGET_MANY_S,
        one=one,
    )
    return checked["constraints"], run


def resolve_engine(engine: Any) -> Engine | None:
    """Return an engine instance from a registered name or an engine object (``auto``: None)."""
    if isinstance(engine, str):
        if engine == "auto":
            return None
        if engine not in ENGINES:
            names = ", ".join(["auto", *sorted(ENGINES)])
            raise CounterfactualError(f"engine: must be one of {names}. Got {engine!r}.")
        found: Engine = ENGINES[engine]()
        return found
    if getattr(type(engine), "name", None) in ENGINES and callable(getattr(engine, "solve", None)):
        given: Engine = engine
        return given
    raise CounterfactualError(
        f"engine: must be an engine name or an engine object. Got {type(engine).__name__}."
    )


_SPACES: dict[int, tuple[ConstraintSet, FeatureSpace]] = {}


def _space_of(constraints: ConstraintSet) -> FeatureSpace:
    """Return the feature space of a constraint set, built once per set (identity cache)."""
    hit = _SPACES.get(id(constraints))
    if hit is not None and hit[0] is constraints:
        return hit[1]
    space = FeatureSpace.from_constraints(constraints)
    if len(_SPACES) >= 16:
        _SPACES.pop(next(iter(_SPACES)))
    _SPACES[id(constraints)] = (constraints, space)
    return space


def _params(engine: Any) -> dict[str, Any]:
    return asdict(engine) if is_dataclass(engine) and not isinstance(engine, type) else {}


def _codes(space: FeatureSpace, clients: Any, *, one: bool) -> tuple[FloatArray, pd.DataFrame]:
    if isinstance(clients, pd.Series):
        clients = clients.to_frame().T
    elif isinstance(clients, dict):
        clients = pd.DataFrame([clients])
    if not isinstance(clients, pd.DataFrame):
        raise CounterfactualError(
            f"{'client' if one else 'clients'}: must be a DataFrame, Series or dict of "
            f"business values. Got {type(clients).__name__}."
        )
    if one and len(clients) != 1:
        raise CounterfactualError(
            f"client: must be one row. Got {len(clients)} rows. Hint: use generate_many."
        )
    codes = space.to_codes(clients)
    return codes, clients


def _requests(
    adapter: ModelAdapter,
    constraints: ConstraintSet,
    codes: FloatArray,
    goal: Target,
    deadline: float | None,
) -> tuple[list[EngineRequest | None], FloatArray]:
    """Bind one request per client; ``None`` for clients already at the target."""
    baseline = adapter.proba_codes(codes)
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
        requests.append(
            EngineRequest(
                adapter=adapter,
                constraints=constraints,
                client=codes[i].copy(),
                target=bound,
                bounds=constraints.bounds_for(codes[i : i + 1]),
                baseline=baseline[i].copy(),
                deadline=deadline,
            )
        )
    return requests, baseline


def _choose(engine: Engine | None, request: EngineRequest) -> Engine:
    """Return the engine: for ``auto``, exact when the model's structure allows it, else search."""
    if engine is not None:
        support = engine.supports(request.adapter, request.target)
        if not support:
            raise CounterfactualError(
                f"engine: {engine.name} cannot serve this request: {support.reason}"
            )
        return engine
    if "exact" in ENGINES:
        exact: Engine = ENGINES["exact"]()
        if exact.supports(request.adapter, request.target):
            return exact
    search: Engine = ENGINES["search"]()
    return search


def _solve_all(run: _Run, requests: list[EngineRequest]) -> list[_Solved]:
    """Run each request's engine, batching requests that share one (``solve_many``)."""
    engines = [_choose(run.engine, r) for r in requests]
    outputs: list[EngineOutput | None] = [None] * len(requests)
    for name in dict.fromkeys(e.name for e in engines):
        idx = [i for i, e in enumerate(engines) if e.name == name]
        engine = next(e for e in engines if e.name == name)
        found = engine.solve_many([requests[i] for i in idx], run.n, run.seed)
        for i, out in zip(idx, found, strict=True):
            outputs[i] = out
    done = [o for o in outputs if o is not None]
    verified = verify(requests, [o.candidates for o in done])
    return [
        _Solved(request=r, engine=e, output=o, verified=v)
        for r, e, o, v in zip(requests, engines, done, verified, strict=True)
    ]


def _fallback(run: _Run, solved: list[_Solved]) -> list[_Solved]:
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
            timed_out=found.timed_out,
            best_codes=found.best_codes if found.best_codes is not None else first.best_codes,
            binding=first.binding or found.binding,
            notes=(*first.notes, note, *found.notes),
        )
        out[k] = replace(solved[k], engine=search, output=output, verified=ver)
    return out


def _result(
    solved: _Solved,
    query: dict[str, Any],
    found: tuple[Counterfactual, ...],
    diagnosis: Diagnosis | None,
    run: _Run,
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
    if diagnosis is not None:
        reason, best, binding = diagnosis.reason, diagnosis.best_score, diagnosis.binding
        notes.extend(diagnosis.notes)
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
    )


def _reached(
    run: _Run, adapter: ModelAdapter, query: dict[str, Any], baseline: FloatArray, share: float
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


def _run(
    model: Any, clients: Any, constraints: ConstraintSet, run: _Run
) -> list[CounterfactualResult]:
    start = time.perf_counter()
    space = _space_of(constraints)
    adapter = adapt(model, space)
    codes, frame = _codes(space, clients, one=run.one)
    limit = run.time_limit_s
    deadline = None if limit is None else start + limit * max(len(codes), 1)
    bound, baseline = _requests(adapter, constraints, codes, run.goal, deadline)
    active = [i for i, r in enumerate(bound) if r is not None]
    solved = _fallback(run, _solve_all(run, [r for r in bound if r is not None]))
    queries = records(frame[list(space.names)])
    found = [
        to_counterfactuals(s.request, s.verified, run.n, queries[i])
        for s, i in zip(solved, active, strict=True)
    ]
    missing = [k for k, cfs in enumerate(found) if not cfs]
    diagnoses = diagnose(
        [solved[k].request for k in missing],
        [solved[k].output for k in missing],
        [solved[k].engine.name for k in missing],
        run.diagnosis_budget_s,
        run.seed,
    )
    by_request = dict(zip(missing, diagnoses, strict=True))
    share = (time.perf_counter() - start) / max(len(codes), 1)
    results: list[CounterfactualResult | None] = [None] * len(codes)
    for k, i in enumerate(active):
        elapsed = time.perf_counter() - start if run.one else share
        results[i] = _result(solved[k], queries[i], found[k], by_request.get(k), run, elapsed)
    return [
        item if item is not None else _reached(run, adapter, queries[i], baseline[i], share)
        for i, item in enumerate(results)
    ]


def generate(
    model: Any,
    client: pd.DataFrame | pd.Series | dict[str, Any],
    constraints: ConstraintSet,
    target: Target | str | float,
    *,
    n: int = 5,
    engine: Any = "auto",
    seed: int = 0,
    time_limit_s: float | None = None,
) -> CounterfactualResult:
    """Search up to ``n`` verified counterfactuals for one client.

    Parameters
    ----------
    model
        A Levers model (``PropensityModel``, ``ProductRecommender``), a classifier trained on
        the feature space's design matrix (XGBoost, scikit-learn, torch), or any object with
        ``predict_proba`` on business frames.
    client
        One client in business values (a one-row DataFrame, a Series or a dict).
    constraints
        What may change, and how (:func:`constraints.load_constraints`).
    target
        The goal (:class:`Target`); ``"flip"`` or a probability are shorthands.
    n
        How many diverse counterfactuals to return at most.
    engine
        ``auto`` (exact when the model's structure allows it, search otherwise or when the
        time limit stops exact), ``exact``, ``search``, ``gradient``, or an engine object.
    seed
        Seed of every random step: the same inputs give the same counterfactuals.
    time_limit_s
        Seconds the engine may spend (``None``: the engine's own limit).

    Returns
    -------
    CounterfactualResult
        ``FOUND`` with counterfactuals re-scored by the real model and re-checked against
        every rule; ``NONE`` with the reason (best reachable score, binding constraints);
        ``REACHED`` when the client already meets the target.
    """
    options = {"n": n, "engine": engine, "seed": seed, "time_limit_s": time_limit_s}
    cs, run = _settings(constraints, target, options, one=True)
    return _run(model, client, cs, run)[0]


def generate_many(
    model: Any,
    clients: pd.DataFrame,
    constraints: ConstraintSet,
    target: Target | str | float,
    *,
    n: int = 5,
    engine: Any = "auto",
    seed: int = 0,
    time_limit_s: float | None = None,
) -> list[CounterfactualResult]:
    """Search counterfactuals for many clients, sharing model calls across them.

    Same parameters as :func:`generate`, with ``clients`` a DataFrame (one row per
    client) and ``time_limit_s`` per client. Each client's answer equals what
    :func:`generate` gives it; ``elapsed_s`` is the client's share of the batch time and the
    search for binding constraints is batched across clients, within 10 s in all.
    """
    options = {"n": n, "engine": engine, "seed": seed, "time_limit_s": time_limit_s}
    cs, run = _settings(constraints, target, options, one=False)
    return _run(model, clients, cs, run)
