"""Our counterfactual engines against DiCE (and alibi's CFRL), on three data sets, two models.

Run: ``.venv/bin/python benchmarks/compare_engines.py [--quick] [--datasets bank,german,demo]
[--models xgboost,mlp] [--n-clients 200] [--engines ...] [--alibi] [--seed 0] [--out PATH]``.

Per data set and model family (each trained with ``advisor.models.train`` on the family's
default settings: one trial, no budget), the same clients (``--n-clients`` test clients
that do not meet the target, drawn with ``--seed``) go through every method in one run:

- ours: ``counterfactuals.generate`` with ``engine="search"`` (n=5), ``"exact"`` (n=1,
  tree models), ``"gradient"`` (n=5, the MLP) and ``"auto"`` (n=5);
- DiCE 0.12 (``counterfactuals.baselines.dice``): ``random``, ``genetic`` and ``kdtree``
  (n=5), with the constraint set translated to DiCE's options and a per-client time limit;
- alibi's CounterfactualRL (``--alibi``, when ``benchmarks/setup_alibi_env.sh`` was run).

Every returned counterfactual is re-scored by the real model (validity) and checked
against every constraint (``ConstraintSet.check``: violations per rule type). Also:
coverage, changes (as ``max_changes`` counts them) and changed features, proximity (MAD-
normalised L1, a changed category counts 1), plausibility (mean distance to the 5 nearest
training clients of the desired class), diversity, time per client (median, p95) and the
time ratio to DiCE-random; plus ``generate_many`` on 10,000 bank clients. The issue's bars
are printed as PASS/FAIL lines.

Data sets and targets: bank marketing (``bank-full.csv`` without ``duration``; target
P(y = yes) >= 0.5); German credit (the model scores ``bad``; target P(bad) <= 0.5, the flip
to ``good``); the demo portfolio (20,000 clients; take_life_insurance among non-holders,
whose holding is frozen; target: the top decile of the model's scores on the training
clients, since no client reaches 0.5).

It is a script, not a timed test: run it alone (XGBoost and torch threads compete for the
2 cores). ``--quick`` is a smoke run (10 clients, smaller data, 10 s DiCE limit).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.datasets import load_bank_marketing, load_german_credit, make_demo_portfolio
from advisor.models import train
from constraints import ConstraintSet, load_constraints
from counterfactuals import (
    CounterfactualError,
    FeatureSpace,
    Target,
    adapt,
    generate,
    generate_many,
    metrics,
)
from counterfactuals.baselines import AlibiCFRL, DiceBaseline, alibi_available

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LEVERS_SHARED_DATA", ROOT.parent / "shared" / "data"))
OURS = {"search": 5, "exact": 1, "gradient": 5, "auto": 5}
DICE = ("dice-random", "dice-genetic", "dice-kdtree")
ALL_ENGINES = (*OURS, *DICE, "alibi-cfrl")
ONLY_FOR = {"exact": "xgboost", "gradient": "mlp"}


# ----------------------------------------------------------------------------- set-up
@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One data set: clients, target column, desired class, constraint file."""

    name: str
    frame: pd.DataFrame
    column: str
    positive: Any
    desired: Any
    config: str
    frozen: tuple[str, ...] = ()
    quantile: float | None = None  # target: top (1 - quantile) of scores, instead of a flip


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """A trained model on a case, the clients to explain and the target."""

    case: Case
    family: str
    model: Any
    constraints: ConstraintSet
    target: Target
    train: pd.DataFrame
    clients: pd.DataFrame
    reference: np.ndarray
    describe: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRun:
    """One method's answer for one client: counterfactual codes (m, d), time, status."""

    codes: np.ndarray
    seconds: float
    status: str
    message: str = ""


def load_case(name: str, quick: bool) -> Case | None:
    if name == "demo":
        frame = make_demo_portfolio(n_clients=5_000 if quick else 20_000, seed=0)
        return Case(
            name="demo",
            frame=frame[~frame["has_life_insurance"]],
            column="take_life_insurance",
            positive=True,
            desired=True,
            config="demo-portfolio.yaml",
            frozen=("has_life_insurance",),
            quantile=0.9,
        )
    path = DATA / (
        "bank-marketing/bank-full.csv" if name == "bank" else "german-credit/german.data"
    )
    if not path.is_file():
        print(f"{name}: skipped ({path} is absent)")
        return None
    if name == "bank":
        frame = load_bank_marketing(path).frame
        if quick:
            frame = frame.sample(n=8_000, random_state=0)
        return Case(
            name="bank",
            frame=frame,
            column="y",
            positive="yes",
            desired="yes",
            config="bank-marketing.yaml",
        )
    frame = load_german_credit(path).frame
    return Case(
        name="german",
        frame=frame,
        column="credit_risk",
        positive="bad",
        desired="good",
        config="german-credit.yaml",
    )


def freeze(cs: ConstraintSet, names: tuple[str, ...]) -> ConstraintSet:
    """Make features immutable (the held product: the model never saw it set)."""
    features = tuple(
        replace(s, role="immutable", direction="any") if s.name in names else s for s in cs.features
    )
    return replace(cs, features=features)


def prepare(case: Case, family: str, n_clients: int, seed: int, quick: bool) -> Setting:
    cs = freeze(load_constraints(ROOT / "configs" / case.config, case.frame), case.frozen)
    start = time.perf_counter()
    result = train(
        case.frame,
        case.column,
        cs,
        families=(family,),
        n_trials=1,
        budget_s=None,
        seed=0,
        positive=case.positive,
        n_folds=2 if quick else 5,
    )
    model = result.model
    test = case.frame.loc[result.test_rows]
    train_part = case.frame.drop(index=result.test_rows)
    if case.quantile is not None:
        threshold = float(np.quantile(model.score(train_part), case.quantile))
        target = Target.probability(threshold)
        describe = f"probability >= {threshold:.3f} (q{case.quantile:g} of training scores)"
    else:  # the flip to the desired class, said on the model's scored (positive) class
        away = case.desired != case.positive
        target = Target.probability(0.5, at_most=away)
        describe = f"P({case.positive!r}) {'<=' if away else '>='} 0.5 (to {case.desired!r})"
    open_ = ~reached(model, cs, target, test)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.flatnonzero(open_), min(n_clients, int(open_.sum())), False))
    positives = train_part[train_part[case.column] == case.desired]
    print(
        f"\n== {case.name} / {family}: test AUC {result.metrics.auc:.3f}, trained in "
        f"{time.perf_counter() - start:.0f} s; target {describe}; {len(rows)} of "
        f"{int(open_.sum()):,} open test clients"
    )
    return Setting(
        case=case,
        family=family,
        model=model,
        constraints=cs,
        target=target,
        train=train_part,
        clients=test.iloc[rows],
        reference=cs.to_array(positives),
        describe=describe,
    )


def reached(model: Any, cs: ConstraintSet, target: Target, frame: pd.DataFrame) -> np.ndarray:
    """Whether each row meets the target, as the real model scores it."""
    adapter = adapt(model, FeatureSpace.from_constraints(cs))
    proba = np.asarray(adapter.proba_frame(frame[list(cs.feature_names)]))
    out = np.zeros(len(frame), dtype=bool)
    for i in range(len(frame)):
        try:
            bound = target.bind(adapter.outputs, proba[i], ranked=adapter.ranked)
        except CounterfactualError:  # a flip to the class the model predicts already
            out[i] = target.kind == "flip"
            continue
        out[i] = bound.slack(proba[i : i + 1])[0] >= 0
    return out


# ----------------------------------------------------------------------------- methods
def run_ours(s: Setting, engine: str, n: int, time_limit_s: float | None) -> list[ClientRun]:
    """Our engines through the public API (the one place they plug into the benchmark)."""
    names = list(s.constraints.feature_names)
    runs = []
    for i in range(len(s.clients)):
        client = s.clients.iloc[[i]][names]
        start = time.perf_counter()
        try:
            result = generate(
                s.model,
                client,
                s.constraints,
                s.target,
                n=n,
                engine=engine,
                seed=0,
                time_limit_s=time_limit_s,
            )
        except Exception as exc:  # a failing engine is a result of the benchmark too
            runs.append(
                ClientRun(
                    codes=_empty(s),
                    seconds=time.perf_counter() - start,
                    status="error",
                    message=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        seconds = time.perf_counter() - start
        codes = s.constraints.to_array(result.to_frame()[names]) if result.found else _empty(s)
        runs.append(
            ClientRun(
                codes=codes, seconds=seconds, status=result.status.value, message=result.reason
            )
        )
    return runs


def run_dice(
    s: Setting, method: str, n: int, time_limit_s: float, n_clients: int
) -> tuple[list[ClientRun], float]:
    """DiCE on the first ``n_clients`` clients (a seeded random draw: a fair subsample)."""
    start = time.perf_counter()
    baseline = DiceBaseline(
        constraints=s.constraints,
        model=s.model,
        data=s.train,
        method=method,  # type: ignore[arg-type]
        time_limit_s=time_limit_s,
    )
    setup = time.perf_counter() - start
    runs = []
    for i in range(min(n_clients, len(s.clients))):
        out = baseline.generate(s.clients.iloc[[i]], s.target, n=n, seed=0)
        status = "found" if out.found else ("timeout" if out.timed_out else "none")
        runs.append(
            ClientRun(codes=out.codes, seconds=out.elapsed_s, status=status, message=out.message)
        )
    return runs, setup


def run_alibi(s: Setting, n: int, quick: bool) -> tuple[list[ClientRun], float]:
    """alibi's CFRL, trained once on the training clients (the fit time is the setup)."""
    steps = {"train_steps": 300, "ae_epochs": 1, "patience": 20} if quick else {}
    explainer = AlibiCFRL(constraints=s.constraints, model=s.model, **steps)
    try:
        answers, setup = explainer.run(s.train, s.clients, s.target, n=n)
    except CounterfactualError as exc:
        run = ClientRun(codes=_empty(s), seconds=0.0, status="error", message=str(exc))
        return [run] * len(s.clients), 0.0
    runs = [
        ClientRun(
            codes=a.codes,
            seconds=a.elapsed_s,
            status="found" if len(a.codes) else "none",
            message=a.message,
        )
        for a in answers
    ]
    return runs, setup


def _empty(s: Setting) -> np.ndarray:
    return np.empty((0, s.constraints.n_features))


# ----------------------------------------------------------------------------- metrics
def evaluate(s: Setting, method: str, runs: list[ClientRun]) -> dict[str, Any]:
    """One table row: coverage, validity, violations, distances, diversity and time."""
    cs = s.constraints
    clients = cs.to_array(s.clients[list(cs.feature_names)])
    found = [i for i, r in enumerate(runs) if len(r.codes)]
    sizes = [len(runs[i].codes) for i in found]
    x = np.vstack([runs[i].codes for i in found]) if found else _empty(s)
    c = np.repeat(clients[found], sizes, axis=0) if found else x
    times = metrics.time_summary([r.seconds for r in runs])
    row: dict[str, Any] = {
        "dataset": s.case.name,
        "model": s.family,
        "method": method,
        "target": s.describe,
        "clients": len(runs),
        "coverage": len(found) / max(len(runs), 1),
        "cfs": len(x),
        "time_median": times["median"],
        "time_p95": times["p95"],
        "time_total": float(sum(r.seconds for r in runs)),
        "statuses": _count(r.status for r in runs),
        "first_error": next((r.message for r in runs if r.status == "error"), ""),
    }
    row.update(quality(s, c, x))
    good = np.split(row.pop("good"), np.cumsum(sizes)[:-1]) if found else []
    row["found_clients"] = [found[k] for k, g in enumerate(good) if g.any()]
    prox = np.split(metrics.proximity(cs, c, x), np.cumsum(sizes)[:-1]) if found else []
    row["prox_by_client"] = {found[k]: float(np.mean(p)) for k, p in enumerate(prox)}
    row["covered_ok"] = len(row["found_clients"]) / max(len(runs), 1)
    diverse = [metrics.diversity(cs, runs[i].codes) for i in found if len(runs[i].codes) > 1]
    row["diversity"] = float(np.mean(diverse)) if diverse else math.nan
    return row


def quality(s: Setting, c: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    """Validity, feasibility, violations and distances of counterfactuals ``x`` of ``c``."""
    cs = s.constraints
    if not len(x):
        return {
            "validity": math.nan,
            "feasible": math.nan,
            "violations": dict.fromkeys(metrics.RULE_TYPES, 0),
            **dict.fromkeys(("changes", "changed", "proximity", "plausibility"), math.nan),
            "good": np.zeros(0, dtype=bool),
        }
    valid = reached(s.model, cs, s.target, cs.to_frame(x))
    feasible = cs.check(c, x).ok
    return {
        "validity": _mean(valid),
        "feasible": _mean(feasible),
        "violations": metrics.violations(cs, c, x),
        "changes": _mean(metrics.change_count(cs, c, x)),
        "changed": _mean(metrics.sparsity(c, x)),
        "proximity": _mean(metrics.proximity(cs, c, x)),
        "plausibility": _mean(metrics.plausibility(cs, x, s.reference)),
        "good": valid & feasible,
    }


def _mean(values: Any) -> float:
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()) if array.size else math.nan


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def many(s: Setting, n_clients: int, seed: int) -> dict[str, Any]:
    """``generate_many`` (search, n=5) on ``n_clients`` clients who do not meet the target."""
    pool = s.case.frame[~reached(s.model, s.constraints, s.target, s.case.frame)]
    if not len(pool):
        return {
            "dataset": s.case.name,
            "model": s.family,
            "clients": 0,
            "seconds": 0.0,
            "found": 0,
            "error": "no client is short of the target",
        }
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
    return {
        "dataset": s.case.name,
        "model": s.family,
        "clients": n_clients,
        "seconds": time.perf_counter() - start,
        "found": sum(r.found for r in results),
        "error": error,
    }


# ----------------------------------------------------------------------------- report
def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Add each method's median time over DiCE-random's (same data set and model)."""
    for row in rows:
        ref = next(
            (
                r
                for r in rows
                if (r["dataset"], r["model"]) == (row["dataset"], row["model"])
                and r["method"].startswith("dice-random")
            ),
            None,
        )
        base = math.nan if ref is None else ref["time_median"]
        row["ratio_dice_random"] = row["time_median"] / base if base > 0 else math.nan


Check = tuple[str, bool | None]


def _bar(name: str, value: float, ok: bool) -> Check:
    """A bar; ``None`` (not measurable) when its value is NaN."""
    return (name, None if math.isnan(value) else ok)


def engine_bars(
    tag: str, m: str, r: dict[str, Any], proved: set[int], genetic: float
) -> list[Check]:
    """Bars every one of our engines must pass."""
    if r["first_error"]:
        return [(f"{tag} {m}: runs ({r['first_error'][:100]})", False)]
    n_viol = sum(r["violations"].values())
    covered = len(proved & set(r["found_clients"])) / len(proved) if proved else math.nan
    checks = [
        (f"{tag} {m}: 0 violations ({n_viol})", n_viol == 0),
        _bar(
            f"{tag} {m}: validity 100 % ({_pct(r['validity'])})", r["validity"], r["validity"] == 1
        ),
        _bar(
            f"{tag} {m}: coverage >= 99 % of {len(proved)} clients known to have a lever "
            f"({_pct(covered)})",
            covered,
            covered >= 0.99,
        ),
    ]
    if m != "search" or not tag.endswith("/xgboost"):
        return checks  # the issue sets sparsity and proximity bars for search on XGBoost
    return [
        *checks,
        _bar(
            f"{tag} {m}: mean changes <= 2.0 ({r['changes']:.2f})", r["changes"], r["changes"] <= 2
        ),
        _bar(
            f"{tag} {m}: proximity <= DiCE-genetic, same clients ({r['proximity']:.2f} vs "
            f"{genetic:.2f})",
            r["proximity"] + genetic,
            r["proximity"] <= genetic,
        ),
    ]


def same_clients_proximity(
    ours: dict[str, Any], genetic: dict[str, Any] | None
) -> tuple[float, float]:
    """Mean proximity of ours and DiCE-genetic over the clients both answered."""
    if genetic is None:
        return ours["proximity"], math.nan
    a, b = ours["prox_by_client"], genetic["prox_by_client"]
    common = sorted(set(a) & set(b))
    if not common:
        return ours["proximity"], math.nan
    return float(np.mean([a[i] for i in common])), float(np.mean([b[i] for i in common]))


def bars(rows: list[dict[str, Any]], many_rows: list[dict[str, Any]]) -> list[Check]:
    """The issue's bars, per data set and model (``None``: not measurable in this run).

    Coverage counts the clients where exact found a counterfactual (it proves one exists);
    without exact (MLP, or exact failing), those where any method found a valid, feasible one.
    """
    out: list[Check] = []
    for key in dict.fromkeys((r["dataset"], r["model"]) for r in rows):
        group = {r["method"].split()[0]: r for r in rows if (r["dataset"], r["model"]) == key}
        tag = f"{key[0]}/{key[1]}"
        ours = {m: r for m, r in group.items() if m in OURS}
        exact_ran = "exact" in group and not group["exact"]["first_error"]
        witnesses = [group["exact"]] if exact_ran else list(group.values())
        proved = set().union(*(set(r["found_clients"]) for r in witnesses))
        for m, r in ours.items():
            genetic = same_clients_proximity(r, group.get("dice-genetic"))
            out += engine_bars(tag, m, {**r, "proximity": genetic[0]}, proved, genetic[1])
        if "search" in ours and not ours["search"]["first_error"] and key[1] == "xgboost":
            med, dice = ours["search"]["time_median"], group.get("dice-random", {})
            ref = dice.get("time_median", math.nan)
            name = f"{tag} search n=5 median <= DiCE-random / 10 ({med:.3f} s vs {ref:.3f} s)"
            out.append(_bar(name, ref, med <= ref / 10))
        if "exact" in ours and not ours["exact"]["first_error"]:
            r = ours["exact"]
            out.append(
                (f"{tag} exact n=1 median <= 1 s ({r['time_median']:.3f} s)", r["time_median"] <= 1)
            )
            out.append(
                (f"{tag} exact n=1 p95 <= 10 s ({r['time_p95']:.3f} s)", r["time_p95"] <= 10)
            )
    for m in many_rows:
        note = f", {m['error']}" if m["error"] else ""
        name = f"{m['dataset']}/{m['model']} generate_many {m['clients']:,} clients <= 300 s "
        out.append((name + f"({m['seconds']:.0f} s{note})", not m["error"] and m["seconds"] <= 300))
    return out


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.1f} %"


COLUMNS = (
    "dataset",
    "model",
    "method",
    "coverage",
    "covered_ok",
    "validity",
    "feasible",
    "changes",
    "changed",
    "proximity",
    "plausibility",
    "diversity",
    "time_median",
    "time_p95",
    "ratio_dice_random",
    "setup_s",
)


def tables(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The main table and the violations table (with each method's statuses)."""
    main = pd.DataFrame([{k: r[k] for k in COLUMNS} for r in rows], columns=list(COLUMNS))
    viol = pd.DataFrame(
        [
            {
                "dataset": r["dataset"],
                "model": r["model"],
                "method": r["method"],
                **r["violations"],
                "statuses": " ".join(f"{k}:{v}" for k, v in r["statuses"].items()),
            }
            for r in rows
        ]
    )
    return main, viol


def markdown(frame: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write(
    out: Path, rows: list[dict[str, Any]], many_rows: list[dict[str, Any]], checks: list[Check]
) -> None:
    """Write ``out.json`` (every row, the bars) and ``out.md`` (the tables, the bars)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "rows": rows,
        "generate_many": many_rows,
        "bars": [{"bar": name, "pass": ok} for name, ok in checks],
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    main, viol = tables(rows)
    many_text = markdown(pd.DataFrame(many_rows)) if many_rows else "(not run)"
    text = [
        "# Counterfactual engines compared",
        "",
        markdown(main),
        "",
        "## Violations per rule type, statuses",
        "",
        markdown(viol),
        "",
        "## generate_many",
        "",
        many_text,
        "",
        "## Bars",
        "",
        *(f"- [{_verdict(ok)}] {name}" for name, ok in checks),
    ]
    out.with_suffix(".md").write_text("\n".join(text) + "\n")
    print(f"\nwritten: {out.with_suffix('.json')}, {out.with_suffix('.md')}")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


# ----------------------------------------------------------------------------- main
def run_setting(
    s: Setting, engines: tuple[str, ...], args: argparse.Namespace
) -> list[dict[str, Any]]:
    rows = []
    for engine in engines:
        if ONLY_FOR.get(engine, s.family) != s.family:
            continue
        start = time.perf_counter()
        setup = 0.0
        if engine in OURS:
            label, runs = (
                f"{engine} n={OURS[engine]}",
                run_ours(s, engine, OURS[engine], args.time_limit),
            )
        elif engine in DICE:
            label = f"{engine} n={args.dice_n}"
            method = engine.split("-")[1]
            k = len(s.clients) if method == "random" else args.dice_clients or len(s.clients)
            runs, setup = run_dice(s, method, args.dice_n, args.dice_time_limit, k)
        elif not alibi_available():
            print("  alibi: skipped (run benchmarks/setup_alibi_env.sh)")
            continue
        else:
            label = f"{engine} n={args.dice_n}"
            runs, setup = run_alibi(s, args.dice_n, args.quick)
        row = evaluate(s, label, runs)
        row["setup_s"] = setup
        rows.append(row)
        error = f"  [{row['first_error'][:120]}]" if row["first_error"] else ""
        print(
            f"  {label:<18} coverage {_pct(row['coverage']):>8}, "
            f"validity {_pct(row['validity']):>8}, median {row['time_median']:.3f} s "
            f"({time.perf_counter() - start:.0f} s in all){error}"
        )
    return rows


def options() -> argparse.Namespace:
    """Parse the command line; fill the defaults that depend on ``--quick``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: 10 clients, smaller data")
    add("--datasets", default="bank,german,demo")
    add("--models", default="xgboost,mlp")
    add("--n-clients", type=int, default=None, help="clients per data set (200; quick 10)")
    add("--engines", default=",".join(e for e in ALL_ENGINES if e != "alibi-cfrl"))
    add("--alibi", action="store_true", help="add alibi's CFRL (its own virtualenv)")
    add("--dice-n", type=int, default=5, help="counterfactuals asked of DiCE and alibi")
    add(
        "--dice-clients",
        type=int,
        default=None,
        help="clients for DiCE genetic/kdtree (default: all; a subsample bounds the run time)",
    )
    add("--dice-time-limit", type=float, default=None, help="s per client (30; quick 10)")
    add("--time-limit", type=float, default=10.0, help="our engines' limit, s per client")
    add("--many", type=int, default=None, help="generate_many clients (10000; quick 200)")
    add("--seed", type=int, default=0, help="seed of the clients drawn")
    add("--out", type=Path, default=None, help="write PATH.json and PATH.md")
    args = parser.parse_args()
    args.n_clients = args.n_clients or (10 if args.quick else 200)
    args.dice_time_limit = args.dice_time_limit or (10.0 if args.quick else 30.0)
    args.many = args.many if args.many is not None else (200 if args.quick else 10_000)
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    engines += ("alibi-cfrl",) if args.alibi and "alibi-cfrl" not in engines else ()
    unknown = sorted(set(engines) - set(ALL_ENGINES))
    if unknown:
        parser.error(f"--engines: unknown {unknown}; choose from {', '.join(ALL_ENGINES)}")
    args.engines = engines
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    return args


def run_all(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every data set x model x method; ``generate_many`` on bank (else the first data set)."""
    rows: list[dict[str, Any]] = []
    many_rows: list[dict[str, Any]] = []
    many_on = "bank" if "bank" in args.datasets else args.datasets[0]
    for name in args.datasets:
        case = load_case(name, args.quick)
        if case is None:
            continue
        for family in args.models:
            setting = prepare(case, family, args.n_clients, args.seed, args.quick)
            rows += run_setting(setting, args.engines, args)
            if args.many and name == many_on and family == args.models[0]:
                many_rows.append(many(setting, args.many, args.seed))
                m = many_rows[-1]
                print(
                    f"  generate_many: {m['clients']:,} clients in {m['seconds']:.1f} s, "
                    f"{m['found']:,} found {m['error']}"
                )
    return rows, many_rows


def main() -> None:
    args = options()
    rows, many_rows = run_all(args)
    add_ratios(rows)
    main_table, viol_table = tables(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 3):
        print("\n" + main_table.to_string(index=False))
        print("\nViolations (counterfactuals breaking each rule type) and statuses")
        print(viol_table.to_string(index=False))
    checks = bars(rows, many_rows)
    print("\nBars")
    for name, ok in checks:
        print(f"  [{_verdict(ok)}] {name}")
    if args.out is not None:
        write(args.out, rows, many_rows, checks)
    sys.exit(0 if all(ok is not False for _, ok in checks) else 1)


if __name__ == "__main__":
    main()
