"""The full comparative study of explanation methods, timed (issue 18, deliverable 2).

Run: ``.venv/bin/python benchmarks/study.py [--quick] [--out DIR] [--datasets demo bank german]
[--models logistic xgboost mlp] [--methods ...] [--n-clients N] [--n-reruns 10] [--seed 0]``.

It calls :func:`advisor.study.run_study` (what ``levers study run`` runs) with the
benchmark's sizes (the demo portfolio of 20,000 clients, 20,000 rows of bank marketing, all
1,000 German credit applications, 10 AutoML trials, 30 held-out clients, 10 reruns), prints
each step with the seconds since the start, the time spent per step, and the key measures per
data set x model x method. The tables go to ``--out`` (default ``study-results``); ``levers
study report DIR`` turns them into the report. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from advisor.study import DATASETS, MODELS, run_study

SHOWN = (
    "deletion_auc",
    "insertion_auc",
    "truth_spearman",
    "truth_top3_precision",
    "stability_jaccard_seeds",
    "stability_jaccard_perturbed",
    "actionability_top5",
    "runtime_s",
)


def main() -> None:
    """Parse the options, run the study and print its timings and key measures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("study-results"))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--n-clients", type=int, default=None)
    parser.add_argument("--n-reruns", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    steps: list[tuple[str, float]] = []

    def say(message: str) -> None:
        now = time.perf_counter() - started
        steps.append((message, now))
        print(f"{now:8.1f} s  {message}", flush=True)

    result = run_study(
        args.out,
        datasets=tuple(args.datasets),
        models=tuple(args.models),
        methods=None if args.methods is None else tuple(args.methods),
        n_clients=args.n_clients,
        n_reruns=args.n_reruns,
        quick=args.quick,
        seed=args.seed,
        progress=say,
    )
    total = time.perf_counter() - started
    print("\nSeconds per step:")
    ends = [at for _, at in steps[1:]] + [total]
    for (message, at), end in zip(steps, ends, strict=True):
        print(f"{end - at:8.1f} s  {message}")
    metrics = result.table("metrics")
    wide = metrics.pivot_table(
        index=["dataset", "model", "method"], columns="metric", values="value", sort=False
    )
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(wide[[m for m in SHOWN if m in wide.columns]].round(3).to_string())
    print(f"\n{len(result.study['skipped'])} method runs skipped (reasons in study.json).")
    print(f"Total {total:.0f} s; tables in {result.out}.")


if __name__ == "__main__":
    main()
