"""Influence functions and the demo recommender's levers, measured beside the explanations."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.study._context import N_PERTURBED, ModelContext
from advisor.study._data import StudyData, StudySizes
from advisor.study._measure import TOP_K
from advisor.study._metrics import jaccard, share_in_top
from advisor.study._tables import Tables

__all__ = ["measure_influence", "measure_levers_agreement"]


def measure_influence(ctx: ModelContext, result: Any, data: StudyData, tables: Tables) -> None:
    """Influential training clients of each client: runtime and stability under perturbation.

    The index is fitted on the model's exact training rows (``split_rows``); a client's
    top-5 supporters (training clients that raised its score most) are compared with those
    of its perturbed copies (top-5 Jaccard).
    """
    from advisor.evidence import fit_influence
    from advisor.models import split_rows

    where = (ctx.dataset, ctx.model_name, "influence")
    try:
        split = split_rows(
            ctx.model, data.frame, seed=result.report.seed, data_sha256=result.report.data_sha256
        )
        index = fit_influence(
            ctx.model, data.frame.iloc[split.train], split.y[split.train], seed=result.report.seed
        )
    except ValueError as exc:
        tables.skip(*where, reason=f"{type(exc).__name__}: {exc}")
        return
    runtimes, stability = [], []
    for i in range(len(ctx.clients)):
        started = time.perf_counter()
        top = index.top(ctx.clients.iloc[[i]], k=TOP_K)
        runtimes.append(time.perf_counter() - started)
        if not ctx.perturbed:
            continue
        moved = ctx.business(ctx.perturbed[i])
        stability.append(
            float(
                np.mean(
                    [
                        jaccard(top.positive, index.top(moved.iloc[[p]], k=TOP_K).positive)
                        for p in range(N_PERTURBED)
                    ]
                )
            )
        )
    tables.metric(where, "runtime_s", runtimes)
    if stability:
        tables.metric(where, "stability_jaccard_perturbed", stability)


def measure_levers_agreement(
    *,
    methods: tuple[str, ...],
    sizes: StudySizes,
    n_clients: int,
    seed: int,
    tables: Tables,
    make: Callable[..., Any],
    recommender: Path | None = None,
) -> None:
    """Share of the best lever's changed features among each explanation's top-5.

    The demo recommender (trained on the demo portfolio of the run's size and seed, in a
    temporary folder) advises ``n_clients`` seeded clients; for each client with a lever, the
    top product's model is explained by every method and the share of the lever's own
    changes (consequences left out) found in the explanation's top-5 is recorded.
    ``recommender``: a demo bundle already trained on that portfolio, used instead.
    """
    from advisor.levers import load_demo_advisor
    from advisor.models import DemoBundleSettings

    with tempfile.TemporaryDirectory(prefix="levers-study-") as folder:
        settings = DemoBundleSettings(
            out=recommender or Path(folder) / "demo-bundle",
            n_clients=sizes.demo_clients,
            seed=seed,
            n_trials=sizes.n_trials,
            families=("logistic", "xgboost"),
        )
        advisor, _ = load_demo_advisor(settings)
        ids = _client_ids(sizes, n_clients, seed)
        explainers: dict[tuple[str, str], Any] = {}
        failed: set[tuple[str, str]] = set()
        rows = []
        for client_id in ids:
            advice = advisor.advise(client_id)
            if not advice.levers:
                continue
            info = advisor.product(advice.product)
            features = tuple(info.constraints.feature_names)
            changed = {a.feature for a in advice.levers[0].actions if not a.consequence}
            positions = [features.index(name) for name in changed if name in features]
            if not positions:
                continue
            client = advisor.client(client_id)
            for method in methods:
                family = (info.model.family, method)
                if family in failed:
                    continue
                try:
                    key = (advice.product, method)
                    if key not in explainers:
                        reference = _reference(advisor, advice.product, sizes, seed)
                        explainers[key] = make(
                            method, info.model, info.constraints, reference, seed=seed
                        )
                    explanation = explainers[key].explain(client)
                except (ValueError, ImportError) as exc:
                    failed.add(family)
                    tables.skip(
                        "demo", f"recommender/{family[0]}", method, f"{type(exc).__name__}: {exc}"
                    )
                    continue
                weights = np.array([explanation.weight(name) for name in features])
                rows.append(
                    {
                        "client": str(client_id),
                        "product": advice.product,
                        "method": method,
                        "share": share_in_top(positions, weights, TOP_K),
                    }
                )
    tables.add("levers_agreement", rows)


def _client_ids(sizes: StudySizes, n_clients: int, seed: int) -> list[str]:
    """Seeded clients of the demo portfolio the advisor was loaded with."""
    from advisor.datasets import make_demo_portfolio

    ids = make_demo_portfolio(n_clients=sizes.demo_clients, seed=seed)["client_id"].tolist()
    chosen = np.random.default_rng([seed, 7]).choice(len(ids), min(n_clients, len(ids)), False)
    return [str(ids[i]) for i in sorted(chosen)]


def _reference(advisor: Any, product: str, sizes: StudySizes, seed: int) -> pd.DataFrame:
    frame: pd.DataFrame = advisor.population(product).frame
    rows = np.random.default_rng(seed).choice(
        len(frame), min(sizes.n_reference, len(frame)), replace=False
    )
    return frame.iloc[np.sort(rows)].reset_index(drop=True)
