"""``generate`` and ``generate_many``: bind, search, verify, explain."""

from __future__ import annotations

import time
from dataclasses import asdict, is_dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import ConstraintSet
from counterfactuals._diagnose import diagnose
from counterfactuals._engine import ENGINES, EngineOutput, Problem
from counterfactuals._model import ModelAdapter, adapt
from counterfactuals._result import Counterfactual, CounterfactualResult
from counterfactuals._space import FeatureSpace
from counterfactuals._target import Target
from counterfactuals._verify import Verified, records, to_counterfactuals, verify
from counterfactuals.errors import CounterfactualError

__all__ = ["generate", "generate_many", "resolve_engine"]

FloatArray = NDArray[np.float64]
_DIAGNOSIS_BUDGET_S = 2.0


def _check_request(constraints: Any, target: Any, n: Any, seed: Any, time_limit_s: Any) -> Target:
    if not isinstance(constraints, ConstraintSet):
        raise CounterfactualError(
            f"constraints: must be a ConstraintSet (see constraints.load_constraints). "
            f"Got {type(constraints).__name__}."
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CounterfactualError(f"n: must be a whole number >= 1. Got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise CounterfactualError(f"seed: must be a whole number >= 0. Got {seed!r}.")
    if time_limit_s is not None and (
        isinstance(time_limit_s, bool)
        or not isinstance(time_limit_s, (int, float))
        or not time_limit_s > 0
    ):
        raise CounterfactualError(
            f"time_limit_s: must be a number of seconds > 0 (or None). Got {time_limit_s!r}."
        )
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


def resolve_engine(engine: Any) -> Any:
    """Return an engine instance from a registered name or an engine object."""
    if isinstance(engine, str):
        if engine == "auto":
            return None
        if engine not in ENGINES:
            names = ", ".join(["auto", *sorted(ENGINES)])
            raise CounterfactualError(f"engine: must be one of {names}. Got {engine!r}.")
        return ENGINES[engine]()
    if getattr(type(engine), "name", None) in ENGINES and callable(getattr(engine, "solve", None)):
        return engine
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


def _problems(
    adapter: ModelAdapter,
    constraints: ConstraintSet,
    codes: FloatArray,
    target: Target,
    deadline: float | None,
) -> tuple[list[Problem | None], FloatArray]:
    """Bind one problem per client; ``None`` for clients already at the target."""
    baseline = adapter.proba_codes(codes)
    problems: list[Problem | None] = []
    held = adapter.held(codes) if adapter.held is not None else None
    for i in range(len(codes)):
        bound = target.bind(adapter.outputs, baseline[i], ranked=adapter.ranked)
        slack = bound.slack(
            baseline[i : i + 1], None if held is None else held[i : i + 1], adapter.values
        )
        if slack[0] >= 0:
            problems.append(None)
            continue
        problems.append(
            Problem(
                adapter=adapter,
                constraints=constraints,
                client=codes[i].copy(),
                target=bound,
                bounds=constraints.bounds_for(codes[i : i + 1]),
                baseline=baseline[i].copy(),
                deadline=deadline,
            )
        )
    return problems, baseline


def _choose(engine: Any, problem: Problem) -> Any:
    """Return the engine: for ``auto``, exact when the model's structure allows it, else search."""
    if engine is not None:
        reason = engine.supports(problem.adapter, problem.target)
        if reason:
            raise CounterfactualError(f"engine: {engine.name} cannot serve this request: {reason}")
        return engine
    if "exact" in ENGINES and not ENGINES["exact"]().supports(problem.adapter, problem.target):
        return ENGINES["exact"]()
    return ENGINES["search"]()


def _solve_all(
    chosen: Any, problems: list[Problem], n: int, seed: int
) -> tuple[list[EngineOutput], list[str], list[Any]]:
    """Run each problem's engine, batching problems that share one (``solve_many``)."""
    engines = [_choose(chosen, p) for p in problems]
    outputs: list[EngineOutput | None] = [None] * len(problems)
    for name in dict.fromkeys(e.name for e in engines):
        idx = [i for i, e in enumerate(engines) if e.name == name]
        engine = next(e for e in engines if e.name == name)
        for i, out in zip(idx, engine.solve_many([problems[i] for i in idx], n, seed), strict=True):
            outputs[i] = out
    done = [o for o in outputs if o is not None]
    return done, [e.name for e in engines], engines


def _fallback(
    chosen: Any,
    problems: list[Problem],
    outputs: list[EngineOutput],
    names: list[str],
    engines: list[Any],
    verified: list[Verified],
    settings: tuple[int, int],
) -> None:
    """``auto``: where exact timed out (or its points failed verification), run search."""
    if chosen is not None:
        return
    redo = [
        i
        for i, (o, v) in enumerate(zip(outputs, verified, strict=True))
        if names[i] != "search" and not len(v.codes) and not o.proved_none
    ]
    if not redo:
        return
    n, seed = settings
    search = ENGINES["search"]()
    now = time.perf_counter()
    again = [
        replace(problems[i], deadline=None if problems[i].deadline is None else now + 1.0)
        for i in redo
    ]
    extra = search.solve_many(again, n, seed)
    checked = verify(again, [o.candidates for o in extra])
    for i, out, ver in zip(redo, extra, checked, strict=True):
        why = "time limit hit" if outputs[i].timed_out else "no verified point"
        note = f"{names[i]} engine: {why}; search engine used"
        outputs[i] = EngineOutput(
            candidates=out.candidates,
            proved_none=out.proved_none,
            timed_out=out.timed_out,
            best_codes=out.best_codes if out.best_codes is not None else outputs[i].best_codes,
            binding=outputs[i].binding or out.binding,
            notes=(*outputs[i].notes, note, *out.notes),
        )
        names[i] = "search"
        engines[i] = search
        verified[i] = ver


def _run(
    model: Any,
    clients: Any,
    constraints: Any,
    target: Any,
    options: tuple[int, Any, int, float | None, float],
    *,
    one: bool,
) -> list[CounterfactualResult]:
    n, engine, seed, time_limit_s, explain_s = options
    start = time.perf_counter()
    goal = _check_request(constraints, target, n, seed, time_limit_s)
    chosen = resolve_engine(engine)
    space = _space_of(constraints)
    adapter = adapt(model, space)
    codes, frame = _codes(space, clients, one=one)
    deadline = None if time_limit_s is None else start + time_limit_s * max(len(codes), 1)
    bound, baseline = _problems(adapter, constraints, codes, goal, deadline)
    active = [i for i, p in enumerate(bound) if p is not None]
    problems = [p for p in bound if p is not None]
    outputs, names, engines = _solve_all(chosen, problems, int(n), int(seed))
    verified = verify(problems, [o.candidates for o in outputs])
    _fallback(chosen, problems, outputs, names, engines, verified, (int(n), int(seed)))
    queries = records(frame[list(space.names)])
    results: list[CounterfactualResult | None] = [None] * len(codes)
    cfs = [
        to_counterfactuals(p, v, int(n), queries[i])
        for p, v, i in zip(problems, verified, active, strict=True)
    ]
    missing = [k for k, found in enumerate(cfs) if not found]
    diagnoses = diagnose(
        [problems[k] for k in missing],
        [outputs[k] for k in missing],
        [names[k] for k in missing],
        explain_s,
        int(seed),
    )
    by_problem = dict(zip(missing, diagnoses, strict=True))
    share = (time.perf_counter() - start) / max(len(codes), 1)
    for k, i in enumerate(active):
        results[i] = _result(
            problems[k],
            outputs[k],
            verified[k],
            names[k],
            engines[k],
            queries[i],
            goal,
            cfs[k],
            by_problem.get(k),
            (int(seed), start if one else None, share),
        )
    for i, item in enumerate(results):
        if item is None:
            problem_score = float(
                goal.bind(adapter.outputs, baseline[i], ranked=adapter.ranked).score(
                    baseline[i : i + 1]
                )[0]
            )
            results[i] = CounterfactualResult(
                query=queries[i],
                target=goal,
                counterfactuals=(),
                status="REACHED",
                engine="none",
                seed=int(seed),
                elapsed_s=share,
                baseline_score=problem_score,
                reason="The client already meets the target: no lever is needed.",
            )
    return [r for r in results if r is not None]


def _result(
    problem: Problem,
    output: EngineOutput,
    verified: Verified,
    name: str,
    engine: Any,
    query: dict[str, Any],
    goal: Target,
    cfs: tuple[Counterfactual, ...],
    diagnosis: tuple[str, float | None, tuple[str, ...], tuple[str, ...]] | None,
    settings: tuple[int, float | None, float],
) -> CounterfactualResult:
    seed, start, share = settings
    notes = list(output.notes)
    if verified.n_rejected_model or verified.n_rejected_constraints:
        notes.append(
            f"verification rejected {verified.n_rejected_model} candidate(s) the real model "
            f"scores short of the goal and {verified.n_rejected_constraints} breaking a rule"
        )
    reason, best, binding = "", None, output.binding
    if diagnosis is not None:
        reason, best, binding, more = diagnosis
        notes.extend(more)
    baseline = float(problem.target.score(problem.baseline[None, :])[0])
    elapsed = share if start is None else time.perf_counter() - start
    return CounterfactualResult(
        query=query,
        target=goal,
        counterfactuals=cfs,
        status="FOUND" if cfs else "NONE",
        engine=name,
        params=_params(engine),
        seed=seed,
        elapsed_s=elapsed,
        baseline_score=baseline,
        reason=reason,
        best_score=best,
        binding=binding,
        optimal=bool(output.optimal and cfs),
        gap=output.gap,
        notes=tuple(notes),
    )


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
    options = (n, engine, seed, time_limit_s, _DIAGNOSIS_BUDGET_S)
    return _run(model, client, constraints, target, options, one=True)[0]


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
    options = (n, engine, seed, time_limit_s, 10.0)
    return _run(model, clients, constraints, target, options, one=False)
