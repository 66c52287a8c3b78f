"""Our counterfactual engines against DiCE (and alibi's CFRL), on three data sets, two models.

Run: ``.venv/bin/python benchmarks/compare_engines.py [--quick] [--datasets bank,german,demo]
[--models xgboost,mlp,sklearn-xgb,sklearn-mlp] [--n-clients 200] [--engines ...] [--alibi]
[--seed 0] [--out PATH]``.

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
time ratio to DiCE-random; how each method used the model per client (median model calls,
rows scored, seconds inside the model and outside it; ``_engines_meter.py``); plus
``generate_many`` on 10,000 bank clients. The issue's bars are printed as PASS/FAIL lines.

The foreign-pipeline setting (``--models sklearn-xgb,sklearn-mlp``, bank only;
``_engines_foreign.py``): scikit-learn pipelines (one-hot categories, then ``XGBClassifier``
or ``MLPClassifier``) handed to every method as black boxes with ``predict_proba`` on
business frames; ours search and auto, DiCE random and genetic, and exact on the XGBoost
pipeline through its trees re-indexed onto the constraint file's design.

Data sets and targets: bank marketing (``bank-full.csv`` without ``duration``; target
P(y = yes) >= 0.5); German credit (the model scores ``bad``; target P(bad) <= 0.5, the flip
to ``good``); the demo portfolio (20,000 clients; take_life_insurance among non-holders,
whose holding is frozen; target: the top decile of the model's scores on the training
clients, since no client reaches 0.5).

The script is the command line; its pieces, one job each: ``_engines_data.py`` (data sets,
training, target, clients drawn), ``_engines_runs.py`` (the methods run on the clients),
``_engines_metrics.py`` (one row of metrics per method), ``_engines_report.py`` (time ratios,
bars, tables, files).

It is a script, not a timed test: run it alone (XGBoost and torch threads compete for the
2 cores). ``--quick`` is a smoke run (10 clients, smaller data, 10 s DiCE limit).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from _engines_data import Setting, load_case, prepare
from _engines_foreign import FOREIGN, FOREIGN_METHODS, prepare_foreign
from _engines_metrics import MethodRow, evaluate
from _engines_report import add_ratios, bar_lines, bars, pct, tables, write
from _engines_runs import (
    METHOD_NAMES,
    METHODS,
    ManyRow,
    Method,
    MethodRuns,
    MethodSettings,
    run_many,
    run_method,
)

from advisor.models import FAMILIES
from counterfactuals.baselines import alibi_available


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """The command line, with the defaults that depend on ``--quick`` filled in."""

    quick: bool
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    n_clients: int  # per data set and model
    engines: tuple[str, ...]
    many: int  # generate_many clients (0: not run)
    seed: int  # seed of the clients drawn
    out: Path | None
    methods: MethodSettings
    interleave: int = 1  # blocks of clients: each block runs every method in turn


def options() -> Options:
    """Parse the command line; fill the defaults that depend on ``--quick``."""
    parser = _parser()
    args = parser.parse_args()
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    engines += ("alibi-cfrl",) if args.alibi and "alibi-cfrl" not in engines else ()
    unknown = sorted(set(engines) - set(METHOD_NAMES))
    if unknown:
        parser.error(f"--engines: unknown {unknown}; choose from {', '.join(METHOD_NAMES)}")
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    for flag, given, known in (
        ("--datasets", datasets, ("bank", "german", "demo")),
        ("--models", models, (*FAMILIES, *FOREIGN)),
    ):
        wrong = sorted(set(given) - set(known))
        if wrong or not given:
            parser.error(f"{flag}: unknown {wrong or 'empty'}; choose from {', '.join(known)}")
    return Options(
        quick=args.quick,
        datasets=datasets,
        models=models,
        n_clients=args.n_clients or (10 if args.quick else 200),
        engines=engines,
        many=args.many if args.many is not None else (200 if args.quick else 10_000),
        seed=args.seed,
        out=args.out,
        interleave=args.interleave,
        methods=MethodSettings(
            time_limit_s=args.time_limit,
            dice_n=args.dice_n,
            dice_clients=args.dice_clients,
            dice_time_limit_s=args.dice_time_limit or (10.0 if args.quick else 30.0),
            quick=args.quick,
        ),
    )


def _parser() -> argparse.ArgumentParser:
    """The command line's flags."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: 10 clients, smaller data")
    add("--datasets", default="bank,german,demo")
    add("--models", default="xgboost,mlp", help="also sklearn-xgb,sklearn-mlp (bank only)")
    add("--n-clients", type=int, default=None, help="clients per data set (200; quick 10)")
    add("--engines", default=",".join(e for e in METHOD_NAMES if e != "alibi-cfrl"))
    add("--alibi", action="store_true", help="add alibi's CFRL (its own virtualenv)")
    add("--dice-n", type=int, default=5, help="counterfactuals asked of DiCE and alibi")
    add(
        "--interleave",
        type=int,
        default=1,
        help="blocks of clients, each running every method in turn (fair ratios on a "
        "machine whose speed drifts; default 1: each method runs all its clients at once)",
    )
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
    return parser


def run_setting(s: Setting, opts: Options) -> list[MethodRow]:
    """Every method asked for that runs on the setting's model family, one row each.

    With ``--interleave K`` the clients are cut into K blocks and each block runs every
    method in turn (alibi excepted: it trains once), so that a machine whose speed drifts
    during the run (a shared server) slows every method alike and the ratios stay fair.
    """
    by_name = {m.name: m for m in METHODS}
    methods = []
    for engine in opts.engines:
        method = by_name[engine]
        if not runs_on(method, s):
            continue
        if method.runner == "alibi" and not alibi_available():
            print("  alibi: skipped (run benchmarks/setup_alibi_env.sh)")
            continue
        methods.append(method)
    blocks = np.array_split(np.arange(len(s.clients)), max(1, min(opts.interleave, len(s.clients))))
    parts: dict[str, list[MethodRuns]] = {m.name: [] for m in methods}
    seconds = dict.fromkeys(parts, 0.0)
    for block in blocks:
        for method in methods:
            if method.runner == "alibi" and block[0] > 0:
                continue  # alibi ran every client with the first block
            part, settings = _block(s, method, opts.methods, block, len(blocks) > 1)
            if part is None:
                continue
            start = time.perf_counter()
            parts[method.name].append(run_method(part, method, settings))
            seconds[method.name] += time.perf_counter() - start
    rows = []
    for method in methods:
        runs = parts[method.name]
        merged = MethodRuns(
            label=runs[0].label,
            runs=tuple(r for part in runs for r in part.runs),
            setup_s=float(np.mean([part.setup_s for part in runs])),
        )
        row = evaluate(s, merged)
        rows.append(row)
        error = f"  [{row.first_error[:120]}]" if row.first_error else ""
        print(
            f"  {row.method:<18} coverage {pct(row.coverage):>8}, "
            f"validity {pct(row.validity):>8}, median {row.time_median:.3f} s, "
            f"{row.calls:g} model calls ({seconds[method.name]:.0f} s in all){error}"
        )
    return rows


def _block(
    s: Setting, method: Method, settings: MethodSettings, block: np.ndarray, cut: bool
) -> tuple[Setting | None, MethodSettings]:
    """The setting of one block of clients (all of them for alibi or without blocks).

    DiCE genetic and kdtree run on the first ``--dice-clients`` clients: a block past them
    runs nothing (``None``), a block across their end runs its share.
    """
    if not cut or method.runner == "alibi":
        return s, settings
    part = replace(s, clients=s.clients.iloc[block])
    if method.runner != "dice" or method.name == "dice-random" or settings.dice_clients is None:
        return part, settings
    left = settings.dice_clients - int(block[0])
    if left <= 0:
        return None, settings
    return part, replace(settings, dice_clients=left)


def runs_on(method: Method, s: Setting) -> bool:
    """Whether ``method`` runs on the setting's model (exact on a foreign pipeline: its trees)."""
    if method.only_for is not None and s.family not in method.only_for:
        return False
    if s.family in FOREIGN:
        return method.name in FOREIGN_METHODS and (
            method.name != "exact" or s.structured is not None
        )
    return True


def run_all(opts: Options) -> tuple[list[MethodRow], list[ManyRow]]:
    """Every data set x model x method; ``generate_many`` on bank (else the first data set)."""
    rows: list[MethodRow] = []
    many_rows: list[ManyRow] = []
    many_on = "bank" if "bank" in opts.datasets else opts.datasets[0]
    ours = [f for f in opts.models if f not in FOREIGN]
    for name in opts.datasets:
        case = load_case(name, opts.quick)
        if case is None:
            continue
        for family in opts.models:
            if family in FOREIGN and name != "bank":
                print(f"{name} / {family}: skipped (the foreign pipelines run on bank only)")
                continue
            if family in FOREIGN:
                setting = prepare_foreign(case, family, opts.n_clients, opts.seed)
            else:
                setting = prepare(case, family, opts.n_clients, opts.seed, opts.quick)
            rows += run_setting(setting, opts)
            if opts.many and name == many_on and ours and family == ours[0]:
                m = run_many(setting, opts.many, opts.seed)
                many_rows.append(m)
                print(
                    f"  generate_many: {m.clients:,} clients in {m.seconds:.1f} s, "
                    f"{m.found:,} found {m.error}"
                )
    return rows, many_rows


def main() -> None:
    """Run, print the tables and the bars, write the files; exit 1 when a bar fails."""
    opts = options()
    rows, many_rows = run_all(opts)
    rows = add_ratios(rows)
    main_table, viol_table = tables(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 3):
        print("\n" + main_table.to_string(index=False))
        print("\nViolations (counterfactuals breaking each rule type) and statuses")
        print(viol_table.to_string(index=False))
    checks = bars(rows, many_rows)
    print("\nBars")
    for line in bar_lines(checks, "  "):
        print(line)
    if opts.out is not None:
        write(opts.out, rows, many_rows, checks)
    sys.exit(0 if all(b.ok is not False for b in checks) else 1)


if __name__ == "__main__":
    main()
