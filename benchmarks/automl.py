"""AutoML against default models, and the demo recommender against its true propensities.

Run: ``.venv/bin/python benchmarks/automl.py [--budget-s 300] [--part bank|demo|both]``.

1. Bank marketing (``../shared/data/bank-marketing/bank-full.csv``, ``configs/bank-marketing.yaml``,
   so ``duration`` stays out): default logistic regression and default XGBoost are fitted on
   the same training split as the study and scored on the same test set; then
   ``advisor.train`` runs its study (logistic, XGBoost, MLP) within the budget. Bars (issue 4):
   the selected model's test AUC >= 0.80 and >= the best default's; the whole run <= budget.
2. Demo portfolio (the built-in SCM, 20,000 clients, the settings of ``levers train --demo``):
   per product, the recommender's test AUC next to the AUC of the SCM's true propensity on the
   same test clients (the ceiling), and their ratio.

Prints tables; it is a script, not a timed test. Other processes on the machine slow XGBoost
down a lot (OpenMP threads compete for the 2 cores): run it alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from advisor.datasets import DemoPortfolioSCM, make_demo_portfolio, read_clients
from advisor.models import (
    FAMILIES,
    DemoBundleSettings,
    load_product_catalog,
    prepare_training_data,
    train,
    train_recommender,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LEVERS_SHARED_DATA", ROOT.parent / "shared" / "data"))


def default_models(frame: pd.DataFrame, seed: int) -> dict[str, float]:
    """Test AUC of default logistic regression and default XGBoost on the study's split."""
    prepared = prepare_training_data(frame, "y", ROOT / "configs" / "bank-marketing.yaml")
    design = prepared.space.to_design(prepared.codes)
    train_idx, test_idx = train_test_split(
        np.arange(len(prepared.y)), test_size=0.2, stratify=prepared.y, random_state=seed
    )
    scores = {}
    for name in ("logistic", "xgboost"):
        family = FAMILIES[name]
        start = time.perf_counter()
        fitted = family.fit(
            design[train_idx], prepared.y[train_idx], dict(family.defaults), seed, None
        )
        margin = fitted.margin(design[test_idx])
        scores[name] = float(roc_auc_score(prepared.y[test_idx], margin))
        print(
            f"  default {name:<9} test AUC {scores[name]:.4f} ({time.perf_counter() - start:.1f} s)"
        )
    return scores


def bank(budget_s: float, seed: int) -> bool:
    path = DATA / "bank-marketing" / "bank-full.csv"
    if not path.is_file():
        print(f"skipped: {path} is absent")
        return True
    frame = read_clients(path)
    print(
        f"Bank marketing: {len(frame):,} clients, without 'duration' (not in the constraint file)"
    )
    defaults = default_models(frame, seed)
    start = time.perf_counter()
    result = train(
        frame, "y", ROOT / "configs" / "bank-marketing.yaml", budget_s=budget_s, seed=seed
    )
    elapsed = time.perf_counter() - start
    board = result.leaderboard
    done = board[board["state"] == "complete"]
    print(
        f"\n  study: {len(board)} trials ({len(done)} complete), "
        f"{elapsed:.0f} s of {budget_s:.0f} s"
    )
    best_per_family = done.groupby("family")["cv_roc_auc"].agg(["max", "size"])
    for family, row in best_per_family.iterrows():
        print(f"    {family:<9} best CV AUC {row['max']:.4f} over {int(row['size'])} trials")
    m = result.metrics
    best_default = max(defaults.values())
    print(
        f"\n  selected {result.model.family}: test AUC {m.auc:.4f}, AP {m.average_precision:.4f}, "
        f"Brier {m.brier:.4f}; params {result.model.params}"
    )
    bars = {
        "test AUC >= 0.80": m.auc >= 0.80,
        f"test AUC >= best default ({best_default:.4f})": m.auc >= best_default,
        f"run <= budget ({elapsed:.0f} s <= {budget_s:.0f} s)": elapsed <= budget_s,
    }
    for name, ok in bars.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}")
    return all(bars.values())


def demo(seed: int) -> None:
    settings = DemoBundleSettings()
    clients = make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)
    scm = DemoPortfolioSCM(seed=settings.seed)
    start = time.perf_counter()
    training = train_recommender(
        clients,
        load_product_catalog(ROOT / "configs" / "catalogs" / "demo-products.yaml"),
        ROOT / "configs" / "demo-portfolio.yaml",
        budget_s=settings.budget_s,
        seed=seed,
        families=settings.families,
        n_trials=settings.n_trials,
    )
    print(
        f"\nDemo portfolio: {len(clients):,} clients, {len(training.results)} products, "
        f"trained in {time.perf_counter() - start:.0f} s (families {', '.join(settings.families)})"
    )
    print(f"  {'product':<22}{'family':<10}{'test AUC':>9}{'ceiling':>9}{'ratio':>7}{'n test':>8}")
    ratios = []
    for product, result in training.results.items():
        test = clients.loc[result.test_rows]
        y = test[f"take_{product}"].to_numpy()
        ceiling = float(roc_auc_score(y, scm.true_propensity(test, product)))
        ratio = result.metrics.auc / ceiling
        ratios.append(ratio)
        print(
            f"  {product:<22}{result.model.family:<10}{result.metrics.auc:>9.4f}{ceiling:>9.4f}"
            f"{ratio:>7.3f}{len(test):>8,}"
        )
    print(f"  mean ratio {np.mean(ratios):.3f}, min {np.min(ratios):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=("bank", "demo", "both"), default="both")
    args = parser.parse_args()
    ok = True
    if args.part in ("bank", "both"):
        ok = bank(args.budget_s, args.seed)
    if args.part in ("demo", "both"):
        demo(args.seed)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
