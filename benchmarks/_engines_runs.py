"""The methods of ``compare_engines.py`` run on a setting's clients, one answer per client.

Our engines go through the public API (``counterfactuals.generate`` and ``generate_many``),
DiCE through :class:`counterfactuals.baselines.DiceBaseline`, alibi's CFRL through
:class:`counterfactuals.baselines.AlibiCFRL`. A failing method is a result too: its clients
get the status ``error`` and the message. Ours and DiCE see the model through a
:class:`CountingModel`: each client's answer carries the model calls it made, the rows they
scored and the seconds spent inside the model (alibi runs in its own process: not counted).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from _engines_data import Setting, reached
from _engines_meter import CountingModel, ModelUse

from counterfactuals import CounterfactualError, generate, generate_many
from counterfactuals.baselines import DICE_METHODS, AlibiCFRL, DiceBaseline

Runner = Literal["ours", "dice", "alibi"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Method:
    """One method of the comparison: its name, who runs it and for which model family."""

    name: str
    runner: Runner
    n: int = 0  # counterfactuals asked of our engines (DiCE and alibi: ``--dice-n``)
    only_for: tuple[str, ...] | None = None  # the model families it runs on (``None``: all)


METHODS = (
    Method(name="search", runner="ours", n=5),
    Method(name="exact", runner="ours", n=1, only_for=("xgboost", "sklearn-xgb")),
    Method(name="gradient", runner="ours", n=5, only_for=("mlp",)),
    Method(name="auto", runner="ours", n=5),
    *(Method(name=f"dice-{m}", runner="dice") for m in DICE_METHODS),
    Method(name="alibi-cfrl", runner="alibi"),
)
METHOD_NAMES = tuple(m.name for m in METHODS)
OURS = frozenset(m.name for m in METHODS if m.runner == "ours")


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodSettings:
    """The command line's settings of the methods (limits, counterfactuals asked)."""

    time_limit_s: float  # our engines, per client
    dice_n: int  # counterfactuals asked of DiCE and alibi
    dice_clients: int | None  # clients for DiCE genetic/kdtree (``None``: all)
    dice_time_limit_s: float  # DiCE, per client
    quick: bool  # alibi trains briefly


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRun:
    """One method's answer for one client: counterfactual codes (m, d), time, status.

    ``calls``, ``rows`` and ``model_s``: the model calls the method made for the client, the
    rows they scored and the seconds spent inside the model (NaN: not counted).
    """

    codes: np.ndarray
    seconds: float
    status: str
    message: str = ""
    calls: float = math.nan
    rows: float = math.nan
    model_s: float = math.nan
    optimal: bool = False  # ours: the first counterfactual is proved cost-minimal


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodRuns:
    """One method's answers for a setting's clients, its label and set-up time."""

    label: str  # the method and the counterfactuals asked, e.g. ``search n=5``
    runs: tuple[ClientRun, ...]
    setup_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ManyRow:
    """``generate_many`` on many clients: how long it took, how many it answered."""

    dataset: str
    model: str
    clients: int
    seconds: float
    found: int
    error: str


def run_method(s: Setting, method: Method, settings: MethodSettings) -> MethodRuns:
    """Run ``method`` on the clients of ``s``."""
    if method.runner == "ours":
        return run_ours(s, method, settings.time_limit_s)
    if method.runner == "dice":
        return run_dice(s, method, settings)
    return run_alibi(s, method, settings)


def run_ours(s: Setting, method: Method, time_limit_s: float | None) -> MethodRuns:
    """Our engines through the public API (the one place they plug into the benchmark)."""
    names = list(s.constraints.feature_names)
    exact_view = method.name == "exact" and s.structured is not None
    counted = CountingModel(s.structured if exact_view else s.model)
    runs = []
    for i in range(len(s.clients)):
        client = s.clients.iloc[[i]][names]
        before = counted.use()
        start = time.perf_counter()
        try:
            result = generate(
                counted,
                client,
                s.constraints,
                s.target,
                n=method.n,
                engine=method.name,
                seed=0,
                time_limit_s=time_limit_s,
            )
        except Exception as exc:  # a failing engine is a result of the benchmark too
            runs.append(
                ClientRun(
                    codes=empty_codes(s),
                    seconds=time.perf_counter() - start,
                    status="error",
                    message=f"{type(exc).__name__}: {exc}",
                    **_used(counted.use().since(before)),
                )
            )
            continue
        seconds = time.perf_counter() - start
        used = counted.use().since(before)
        codes = s.constraints.to_array(result.to_frame()[names]) if result.found else empty_codes(s)
        runs.append(
            ClientRun(
                codes=codes,
                seconds=seconds,
                status=result.status.value,
                message=result.reason,
                optimal=result.optimal,
                **_used(used),
            )
        )
    return MethodRuns(label=f"{method.name} n={method.n}", runs=tuple(runs))


def run_dice(s: Setting, method: Method, settings: MethodSettings) -> MethodRuns:
    """DiCE on the first clients (all for random, else ``--dice-clients``: a fair subsample)."""
    dice_method = next(m for m in DICE_METHODS if method.name == f"dice-{m}")
    n_clients = len(s.clients)
    if dice_method != "random":
        n_clients = settings.dice_clients or n_clients
    start = time.perf_counter()
    counted = CountingModel(s.model)
    baseline = DiceBaseline(
        constraints=s.constraints,
        model=counted,
        data=s.train,
        method=dice_method,
        time_limit_s=settings.dice_time_limit_s,
    )
    setup = time.perf_counter() - start
    runs = []
    for i in range(min(n_clients, len(s.clients))):
        before = counted.use()
        out = baseline.generate(s.clients.iloc[[i]], s.target, n=settings.dice_n, seed=0)
        status = "found" if out.found else ("timeout" if out.timed_out else "none")
        runs.append(
            ClientRun(
                codes=out.codes,
                seconds=out.elapsed_s,
                status=status,
                message=out.message,
                **_used(counted.use().since(before)),
            )
        )
    return MethodRuns(label=f"{method.name} n={settings.dice_n}", runs=tuple(runs), setup_s=setup)


def run_alibi(s: Setting, method: Method, settings: MethodSettings) -> MethodRuns:
    """alibi's CFRL, trained once on the training clients (the fit time is the setup)."""
    label = f"{method.name} n={settings.dice_n}"
    if settings.quick:
        explainer = AlibiCFRL(
            constraints=s.constraints, model=s.model, train_steps=300, ae_epochs=1, patience=20
        )
    else:
        explainer = AlibiCFRL(constraints=s.constraints, model=s.model)
    try:
        answers, setup = explainer.run(s.train, s.clients, s.target, n=settings.dice_n)
    except CounterfactualError as exc:
        run = ClientRun(codes=empty_codes(s), seconds=0.0, status="error", message=str(exc))
        return MethodRuns(label=label, runs=(run,) * len(s.clients))
    runs = tuple(
        ClientRun(
            codes=a.codes,
            seconds=a.elapsed_s,
            status="found" if len(a.codes) else "none",
            message=a.message,
        )
        for a in answers
    )
    return MethodRuns(label=label, runs=runs, setup_s=setup)


def run_many(s: Setting, n_clients: int, seed: int) -> ManyRow:
    """``generate_many`` (search, n=5) on ``n_clients`` clients who do not meet the target."""
    pool = s.case.frame[~reached(s.model, s.constraints, s.target, s.case.frame)]
    if not len(pool):
        return ManyRow(
            dataset=s.case.name,
            model=s.family,
            clients=0,
            seconds=0.0,
            found=0,
            error="no client is short of the target",
        )
    rows = np.random.default_rng(seed).choice(len(pool), n_clients, replace=len(pool) < n_clients)
    clients = pool.iloc[np.sort(rows)][list(s.constraints.feature_names)]
    start = time.perf_counter()
    try:
        results = generate_many(
            s.model, clients, s.constraints, s.target, n=5, engine="search", seed=0
        )
        error = ""
    except Exception as exc:  # reported, not raised: the rest of the run stays useful
        results, error = [], f"{type(exc).__name__}: {exc}"
    return ManyRow(
        dataset=s.case.name,
        model=s.family,
        clients=n_clients,
        seconds=time.perf_counter() - start,
        found=sum(r.found for r in results),
        error=error,
    )


def _used(use: ModelUse) -> dict[str, Any]:
    """A client's model use as :class:`ClientRun` fields."""
    return {"calls": float(use.calls), "rows": float(use.rows), "model_s": use.seconds}


def empty_codes(s: Setting) -> np.ndarray:
    """No counterfactual: an empty (0, d) array of codes."""
    return np.empty((0, s.constraints.n_features))
