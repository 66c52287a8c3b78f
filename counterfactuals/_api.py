"""``generate`` and ``generate_many``: bind, search, verify, explain."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import ConstraintSet, Flag, InstanceOf, Number, ParamSpec, Whole, check_params
from counterfactuals._adapters import adapt
from counterfactuals._diagnose import diagnose
from counterfactuals._engine import ENGINES, MAX_COUNTERFACTUALS, MAX_SEED, MAX_TIME_S, Engine
from counterfactuals._pipeline import (
    RunSettings,
    bind_requests,
    fall_back_to_search,
    reached_result,
    result_of,
    solve_all,
)
from counterfactuals._result import CounterfactualResult
from counterfactuals._space import FeatureSpace
from counterfactuals._target import Target
from counterfactuals._verify import records, to_counterfactuals
from counterfactuals.errors import CounterfactualError

__all__ = ["GENERATE_PARAMS", "generate", "generate_many", "resolve_engine"]

FloatArray = NDArray[np.float64]
_DIAGNOSIS_BUDGET_S = 2.0  # generate: seconds to find binding constraints
_DIAGNOSIS_BUDGET_MANY_S = 10.0  # generate_many: the same, for the whole batch

GENERATE_PARAMS: ParamSpec = {
    "constraints": InstanceOf(
        (ConstraintSet,), "a ConstraintSet (see constraints.load_constraints)"
    ),
    "n": Whole(1, MAX_COUNTERFACTUALS),
    "seed": Whole(0, MAX_SEED),
    "time_limit_s": (Number(0.0, MAX_TIME_S, low_open=True, unit="seconds"), None),
    "diagnose": Flag(),
}
"""The rules of :func:`generate` / :func:`generate_many`'s parameters."""


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
) -> tuple[ConstraintSet, RunSettings]:
    """Check a call's parameters against :data:`GENERATE_PARAMS` and resolve them."""
    checked = check_params(
        {"constraints": constraints, **options}, GENERATE_PARAMS, error=CounterfactualError
    )
    run = RunSettings(
        goal=_target_of(target),
        n=checked["n"],
        engine=resolve_engine(options["engine"]),
        seed=checked["seed"],
        time_limit_s=checked["time_limit_s"],
        diagnosis_budget_s=_DIAGNOSIS_BUDGET_S if one else _DIAGNOSIS_BUDGET_MANY_S,
        one=one,
        diagnose=checked.get("diagnose", True),
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
_SPACES_LOCK = threading.Lock()  # app sessions search from many threads at once


def _space_of(constraints: ConstraintSet) -> FeatureSpace:
    """Return the feature space of a constraint set, built once per set (identity cache)."""
    with _SPACES_LOCK:
        hit = _SPACES.get(id(constraints))
    if hit is not None and hit[0] is constraints:
        return hit[1]
    space = FeatureSpace.from_constraints(constraints)
    with _SPACES_LOCK:
        while len(_SPACES) >= 16:
            _SPACES.pop(next(iter(_SPACES)))
        _SPACES[id(constraints)] = (constraints, space)
    return space


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


def _run(
    model: Any, clients: Any, constraints: ConstraintSet, run: RunSettings
) -> list[CounterfactualResult]:
    start = time.perf_counter()
    space = _space_of(constraints)
    adapter = adapt(model, space)
    codes, frame = _codes(space, clients, one=run.one)
    limit = run.time_limit_s
    deadline = None if limit is None else start + limit * max(len(codes), 1)
    bound, baseline = bind_requests(adapter, constraints, codes, run.goal, deadline, run.engine)
    active = [i for i, r in enumerate(bound) if r is not None]
    solved = fall_back_to_search(run, solve_all(run, [r for r in bound if r is not None]))
    ordered = frame if list(frame.columns) == list(space.names) else frame[list(space.names)]
    queries = records(ordered)
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
        relax=run.diagnose,
    )
    by_request = dict(zip(missing, diagnoses, strict=True))
    share = (time.perf_counter() - start) / max(len(codes), 1)
    results: list[CounterfactualResult | None] = [None] * len(codes)
    for k, i in enumerate(active):
        elapsed = time.perf_counter() - start if run.one else share
        results[i] = result_of(solved[k], queries[i], found[k], by_request.get(k), run, elapsed)
    return [
        item if item is not None else reached_result(run, adapter, queries[i], baseline[i], share)
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
    diagnose: bool = True,
) -> list[CounterfactualResult]:
    """Search counterfactuals for many clients, sharing model calls across them.

    Same parameters as :func:`generate`, with ``clients`` a DataFrame (one row per
    client) and ``time_limit_s`` per client. Each client's answer equals what
    :func:`generate` gives it; ``elapsed_s`` is the client's share of the batch time and the
    search for binding constraints is batched across clients, within 10 s in all.
    ``diagnose=False`` skips that search (campaigns): a client without counterfactual
    still gets its verdict (proved or not) and best score, without binding constraints.
    """
    options = {
        "n": n,
        "engine": engine,
        "seed": seed,
        "time_limit_s": time_limit_s,
        "diagnose": diagnose,
    }
    cs, run = _settings(constraints, target, options, one=False)
    return _run(model, clients, cs, run)
