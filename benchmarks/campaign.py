"""Campaign benchmarks (issue 15): throughput, scale-out on Dask, global actions, true effect.

Run alone (other processes on 2 cores slow XGBoost 10-40x)::

    .venv/bin/python benchmarks/campaign.py throughput          # clients/s per worker, vs DiCE
    .venv/bin/python benchmarks/campaign.py scale                # 200,000 demo clients on Dask
    .venv/bin/python benchmarks/campaign.py global               # 10,000 clients: global actions
    .venv/bin/python benchmarks/campaign.py all

Every figure is measured in the same run as its anchor: DiCE-random through the same
campaign (``engine="dice"``, every answer verified alike) for the throughput, one worker for
the speed-up. Engines run on one thread per worker, set here on purpose.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import counterfactuals.baselines.dice  # noqa: F401  (registers engine="dice")
from advisor.campaigns import Campaign, CampaignResult, demo_true_effect, local_cluster
from advisor.datasets import make_demo_portfolio, read_clients
from advisor.levers import load_demo_advisor
from advisor.models import DemoBundleSettings, save_bundle, train

REPO = Path(__file__).resolve().parents[1]
BANK_CSV = REPO.parent / "shared" / "data" / "bank-marketing" / "bank-full.csv"
DEMO_PRODUCT = "life_insurance"
GLOBAL_SEED = 11  # the 10,000-client segment: another draw of the demo portfolio


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)
    threadpool_limits(limits=1)


def _demo() -> tuple[Path, pd.DataFrame]:
    settings = DemoBundleSettings.from_env()
    advisor, _ = load_demo_advisor(settings)
    assert advisor.reference is not None
    return settings.out, advisor.reference


def _bank(cache: Path) -> tuple[Path, pd.DataFrame]:
    data = read_clients(BANK_CSV)
    out = cache / "bank-xgboost"
    if not (out / "model_card.json").is_file():
        result = train(
            data,
            "y",
            REPO / "configs" / "bank-marketing.yaml",
            families=("xgboost",),
            n_trials=1,
            budget_s=None,
            n_folds=2,
        )
        save_bundle(result, out)
    return out, data


def _rate(campaign: Campaign, clients: pd.DataFrame) -> dict[str, Any]:
    campaign.run(clients.iloc[:20])  # warm-up: the model's structure, caches
    start = time.perf_counter()
    result = campaign.run(clients)
    seconds = time.perf_counter() - start
    totals = result.totals
    return {
        "clients": len(clients),
        "searched": totals.n_searched,
        "advised": totals.n_advised,
        "seconds": round(seconds, 2),
        "clients_per_s": round(len(clients) / seconds, 1),
        "searched_per_s": round(totals.n_searched / seconds, 1),
        "engines": list(result.provenance.engines_used),
    }


def throughput(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    """Clients per second on one worker (this process, one thread), with DiCE as anchor."""
    out: dict[str, Any] = {}
    demo_bundle, portfolio = _demo()
    bank_bundle, bank = _bank(cache)
    cases: dict[str, tuple[Path, pd.DataFrame, str | None]] = {
        f"demo {product}": (demo_bundle, portfolio, product)
        for product in ("savings_account", "life_insurance", "securities_account")
    }
    cases["bank xgboost"] = (bank_bundle, bank, None)
    for name, (bundle, data, product) in cases.items():
        clients = data.sample(n=args.n, random_state=1)
        row: dict[str, Any] = {}
        for engine, n in (("search", args.n), ("auto", args.n_auto), ("dice", args.n_dice)):
            campaign = Campaign.from_bundle(bundle, data, product=product, engine=engine)
            row[engine] = _rate(campaign, clients.iloc[:n])
        row["search_vs_dice"] = round(
            row["search"]["clients_per_s"] / row["dice"]["clients_per_s"], 1
        )
        out[name] = row
        print(name, json.dumps(row), flush=True)
    return out


def _worker_peak_mb(client: Any) -> float:
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return round(float(max(peaks.values())), 1)


def scale(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    """The speed-up from 1 to 2 workers, then the 200,000-client run on 2 workers."""
    demo_bundle, portfolio = _demo()
    clients = make_demo_portfolio(n_clients=args.n_scale, seed=7).set_index("client_id", drop=False)
    clients.index.name = None
    out: dict[str, Any] = {}
    small = clients.iloc[: args.n_speedup]
    for workers in (1, 2):
        with local_cluster(workers, memory_limit="4GiB") as client:
            campaign = Campaign.from_bundle(
                demo_bundle, portfolio, product=DEMO_PRODUCT, engine="search"
            )
            # warm-up: 4 partitions, so that every worker has rebuilt the campaign
            campaign.run(small.iloc[: 4 * campaign.batch_size], client=client)
            start = time.perf_counter()
            campaign.run(small, client=client)
            seconds = time.perf_counter() - start
            out[f"{workers} worker(s), {len(small):,} clients"] = {
                "seconds": round(seconds, 1),
                "clients_per_s": round(len(small) / seconds, 1),
                "peak_mb_per_worker": _worker_peak_mb(client),
            }
            print(out, flush=True)
    one, two = (out[f"{w} worker(s), {len(small):,} clients"]["seconds"] for w in (1, 2))
    out["speed_up_1_to_2"] = round(one / two, 2)
    with local_cluster(2, memory_limit="4GiB") as client:
        campaign = Campaign.from_bundle(
            demo_bundle, portfolio, product=DEMO_PRODUCT, engine="search"
        )
        start = time.perf_counter()
        result = campaign.run(clients, client=client, checkpoint=cache / f"ckpt-{time.time_ns()}")
        seconds = time.perf_counter() - start
        totals = result.totals
        out[f"2 workers, {len(clients):,} clients"] = {
            "seconds": round(seconds, 1),
            "clients_per_s": round(len(clients) / seconds, 1),
            "searched": totals.n_searched,
            "advised": totals.n_advised,
            "peak_mb_per_worker": _worker_peak_mb(client),
            "driver_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    print(json.dumps(out, indent=1), flush=True)
    return out


def global_actions(args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    """Global actions on a 10,000-client segment, and their true effect through the SCM."""
    demo_bundle, portfolio = _demo()
    clients = make_demo_portfolio(n_clients=args.n_global, seed=GLOBAL_SEED).set_index(
        "client_id", drop=False
    )
    clients.index.name = None
    out: dict[str, Any] = {}
    for product in args.global_products:
        campaign = Campaign.from_bundle(demo_bundle, portfolio, product=product, engine="search")
        start = time.perf_counter()
        result: CampaignResult = campaign.run(clients)
        run_s = time.perf_counter() - start
        start = time.perf_counter()
        actions = result.summarize(5)
        summarize_s = time.perf_counter() - start
        effect = demo_true_effect(result, actions, seed=GLOBAL_SEED)
        row = {
            "segment": len(clients),
            "with_lever": actions.n_with_lever,
            "run_s": round(run_s, 1),
            "summarize_s": round(summarize_s, 1),
            "method": actions.method,
            "candidates": actions.n_candidates,
            "curve": actions.curve.round(3).to_dict(orient="records"),
            "actions": [a.text["en"] for a in actions.actions],
            "coverage": round(actions.coverage, 3),
            "cost_ratio": round(actions.cost_ratio, 3),
            "levers_true_over_expected": effect.levers_ratio,
            "global_expected": effect.global_expected,
            "global_true": effect.global_true,
            "global_true_over_expected": effect.global_ratio,
        }
        out[product] = row
        print(product, json.dumps(row, indent=1, default=str), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("throughput", "scale", "global", "all"))
    parser.add_argument("--n", type=int, default=2_000, help="clients for the search engine")
    parser.add_argument("--n-auto", type=int, default=200, help="clients for engine auto")
    parser.add_argument("--n-dice", type=int, default=30, help="clients for DiCE random")
    parser.add_argument("--n-scale", type=int, default=200_000)
    parser.add_argument("--n-speedup", type=int, default=40_000)
    parser.add_argument("--n-global", type=int, default=10_000)
    parser.add_argument(
        "--global-products", nargs="+", default=["life_insurance", "savings_account"]
    )
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _one_thread()
    cache = Path(tempfile.gettempdir()) / "levers-bench-campaign"
    cache.mkdir(exist_ok=True)
    figures: dict[str, Any] = {}
    if args.part in ("throughput", "all"):
        figures["throughput"] = throughput(args, cache)
    if args.part in ("global", "all"):
        figures["global"] = global_actions(args, cache)
    if args.part in ("scale", "all"):
        figures["scale"] = scale(args, cache)
    if args.out is not None:
        args.out.write_text(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
