"""Time the evidence for one client at 40,000 training clients (issue 6, 2d).

Run: ``.venv/bin/python benchmarks/evidence_speed.py [--quick] [--families logistic xgboost mlp]``.

Setting: the demo portfolio (``make_demo_portfolio(50_000, seed=0)``), non-holders of
``--product``; ``--n-train`` of them (seeded) are the training clients, each family is fitted
on them with its default hyper-parameters, and other non-holders are the clients timed.

Each *step* is a one-off precomputation followed by a per-client call; both are timed and the
table shows the precomputation time and the per-client median, p95 and max. Goal: <= 0.2 s per
client. Steps live in :data:`STEPS` (name -> function ``(setting, family) -> (per_client,
precomputation)``), so timing another kind of evidence (e.g. similar clients) is one more
entry, or pass ``extra_steps`` to :func:`run` from another script.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.datasets import make_demo_portfolio
from advisor.evidence import fit_influence, fit_similar
from advisor.models import FAMILIES, PropensityModel, fit_calibrator
from constraints import ConstraintSet, load_constraints
from counterfactuals import FeatureSpace

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 0.2


@dataclass(frozen=True)
class Setting:
    """Training clients, their labels, the clients to time and one fitted model per family."""

    train: pd.DataFrame
    y: np.ndarray
    clients: pd.DataFrame
    constraints: ConstraintSet
    models: dict[str, PropensityModel]
    product: str


Step = Callable[[Setting, str], tuple[Callable[[pd.Series], Any], Callable[[], Any]]]


def influence_step(
    setting: Setting, family: str
) -> tuple[Callable[[pd.Series], Any], Callable[[], Any]]:
    """Influential training clients: ``fit_influence`` once, then ``top(client, k=10)``."""
    holder: dict[str, Any] = {}

    def precompute() -> None:
        holder["index"] = fit_influence(setting.models[family], setting.train, setting.y)

    return (lambda client: holder["index"].top(client, k=10)), precompute


def similar_step(
    setting: Setting, family: str
) -> tuple[Callable[[pd.Series], Any], Callable[[], Any]]:
    """Similar clients: ``fit_similar`` once, then the 10 nearest in the target state + support."""
    holder: dict[str, Any] = {}

    def precompute() -> None:
        holder["index"] = fit_similar(setting.constraints, setting.train, setting.y)

    return (lambda client: holder["index"].similar(client, client, k=10)), precompute


def evidence_step(
    setting: Setting, family: str
) -> tuple[Callable[[pd.Series], Any], Callable[[], Any]]:
    """Both kinds of evidence for one client (what the app shows)."""
    similar, similar_pre = similar_step(setting, family)
    influence, influence_pre = influence_step(setting, family)

    def precompute() -> None:
        similar_pre()
        influence_pre()

    return (lambda client: (similar(client), influence(client))), precompute


STEPS: dict[str, Step] = {
    "influence top-10": influence_step,
    "similar clients": similar_step,
    "evidence (both)": evidence_step,
}


def make_setting(n_train: int, n_clients: int, product: str, families: list[str]) -> Setting:
    data = make_demo_portfolio(50_000, seed=0)
    constraints = load_constraints(ROOT / "configs" / "demo-portfolio.yaml", data)
    pool = data.loc[~data[f"has_{product}"].astype(bool)]
    order = np.random.default_rng(0).permutation(len(pool))
    if len(pool) < n_train + n_clients:
        raise SystemExit(f"{product}: only {len(pool)} non-holders; lower --n-train")
    train = pool.iloc[np.sort(order[:n_train])]
    clients = pool.iloc[order[n_train : n_train + n_clients]]
    y = train[f"take_{product}"].to_numpy(dtype=np.int64)
    space = FeatureSpace.from_constraints(constraints)
    design = space.design_from_frame(train)
    models = {}
    for family in families:
        started = time.perf_counter()
        params = dict(FAMILIES[family].defaults)
        estimator = FAMILIES[family].fit(design, y, params, 0, None)
        models[family] = PropensityModel(
            space=space,
            estimator=estimator,
            calibrator=fit_calibrator(estimator.margin(design), y),
            params=params,
            target=f"take_{product}",
        )
        print(f"fitted {family} on {n_train:,} clients in {time.perf_counter() - started:.1f} s")
    return Setting(train, y, clients, constraints, models, product)


def time_step(name: str, step: Step, setting: Setting, family: str) -> dict[str, Any]:
    per_client, precompute = step(setting, family)
    started = time.perf_counter()
    precompute()
    precompute_s = time.perf_counter() - started
    per_client(setting.clients.iloc[0])  # warm-up (lazy imports, caches)
    times = []
    for i in range(len(setting.clients)):
        started = time.perf_counter()
        per_client(setting.clients.iloc[i])
        times.append(time.perf_counter() - started)
    return {
        "step": name,
        "family": family,
        "n_train": len(setting.train),
        "precompute_s": precompute_s,
        "median_ms": 1000 * float(np.median(times)),
        "p95_ms": 1000 * float(np.percentile(times, 95)),
        "max_ms": 1000 * float(np.max(times)),
        "goal": "met" if np.percentile(times, 95) <= GOAL_S else "MISSED",
    }


def run(
    setting: Setting, families: list[str], extra_steps: Mapping[str, Step] | None = None
) -> pd.DataFrame:
    """Time every step for every family; return one row per (step, family)."""
    rows = []
    for name, step in {**STEPS, **(extra_steps or {})}.items():
        for family in families:
            rows.append(time_step(name, step, setting, family))
            print(f"  {name} / {family}: done", flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 timed clients instead of 100")
    parser.add_argument("--families", nargs="+", default=["logistic", "xgboost", "mlp"])
    parser.add_argument("--n-train", type=int, default=40_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--product", default="securities_account")
    args = parser.parse_args()
    n_clients = 10 if args.quick else args.clients
    setting = make_setting(args.n_train, n_clients, args.product, args.families)
    table = run(setting, args.families)
    print(
        f"\nEvidence for one client, {len(setting.train):,} training clients, "
        f"{n_clients} timed clients (goal: p95 <= {GOAL_S} s after the precomputation)"
    )
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
