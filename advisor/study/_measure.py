"""Measure one explanation method on one data set x model: explanations, curves, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from advisor.errors import AdvisorError
from advisor.study._context import N_PERTURBED, ModelContext
from advisor.study._metrics import (
    curve_area,
    deletion_curve,
    insertion_curve,
    jaccard,
    mean_pairwise,
    precision_at_k,
    spearman,
    top_features,
)
from advisor.study._tables import Tables

__all__ = [
    "TOP_K",
    "Measured",
    "explain_method",
    "model_effects",
    "record",
    "record_agreement",
    "truth_source",
]

FloatArray = NDArray[np.float64]
TOP_K = 5
"""Size of the top of a ranking in the stability and actionability measures."""


@dataclass(slots=True)
class Measured:
    """One source of weights on every client: a method, the model's own effects or the truth.

    ``weights[i]`` is client i's weight vector (rerun 0, the study's seed); ``reruns[i]`` its
    vectors over the seeds; ``perturbed[i]`` those of its perturbed copies; ``runtimes`` the
    seconds per client; ``fidelity`` (r2, held-out error) per client for surrogates.
    """

    method: str
    weights: list[FloatArray] = field(default_factory=list)
    reruns: list[list[FloatArray]] = field(default_factory=list)
    perturbed: list[list[FloatArray]] = field(default_factory=list)
    runtimes: list[float] = field(default_factory=list)
    fidelity: list[tuple[float, float]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def _vector(explanation: Any, features: tuple[str, ...]) -> FloatArray:
    return np.array([explanation.weight(name) for name in features], dtype=np.float64)


def _explanation_rows(
    ctx: ModelContext, method: str, client: str, rerun: int, seed: int | None, explanation: Any
) -> list[dict[str, Any]]:
    return [
        {
            "dataset": ctx.dataset,
            "model": ctx.model_name,
            "method": method,
            "client": client,
            "rerun": rerun,
            "seed": seed,
            "feature": entry.feature,
            "weight": entry.weight,
            "rank": rank,
            "role": entry.role,
            "scale": explanation.scale,
            "runtime_s": explanation.runtime_s,
        }
        for rank, entry in enumerate(explanation.weights, start=1)
    ]


def _vector_rows(
    ctx: ModelContext, method: str, client: str, weights: FloatArray, runtime_s: float
) -> list[dict[str, Any]]:
    order = np.argsort(-np.abs(weights), kind="stable")
    roles = ctx.roles
    return [
        {
            "dataset": ctx.dataset,
            "model": ctx.model_name,
            "method": method,
            "client": client,
            "rerun": 0,
            "seed": None,
            "feature": ctx.features[j],
            "weight": float(weights[j]),
            "rank": rank,
            "role": roles[j],
            "scale": "probability",
            "runtime_s": runtime_s,
        }
        for rank, j in enumerate(order, start=1)
    ]


def explain_method(
    ctx: ModelContext, method: str, *, seed: int, n_reruns: int, make: Callable[..., Any]
) -> Measured:
    """Explain every client with ``method``: ``n_reruns`` seeds, then its perturbed copies.

    ``make(method, model, constraints, data, seed=)`` builds the explainer
    (``advisor.explain.make_explainer``). Raises what it raises (AdvisorError when the
    method does not apply); nothing is recorded then.
    """
    explainers: dict[int, Any] = {}

    def explainer(run_seed: int) -> Any:
        if run_seed not in explainers:
            explainers[run_seed] = make(
                method, ctx.model, ctx.constraints, ctx.reference, seed=run_seed
            )
        return explainers[run_seed]

    measured = Measured(method=method)
    for i, client in enumerate(ctx.client_ids()):
        row = ctx.clients.iloc[[i]]
        runs = []
        for rerun in range(n_reruns):
            run_seed = seed + rerun
            built = explainer(run_seed)  # built once per seed, not timed
            started = time.perf_counter()
            explanation = built.explain(row)
            elapsed = time.perf_counter() - started
            runs.append(_vector(explanation, ctx.features))
            measured.rows += _explanation_rows(ctx, method, client, rerun, run_seed, explanation)
            if rerun == 0:
                measured.runtimes.append(elapsed)
                if explanation.fidelity is not None:
                    fit = explanation.fidelity
                    measured.fidelity.append((fit.r2, fit.heldout_error))
        measured.weights.append(runs[0])
        measured.reruns.append(runs)
        if not ctx.perturbed:
            continue
        moved = ctx.business(ctx.perturbed[i])
        measured.perturbed.append(
            [
                _vector(explainer(seed).explain(moved.iloc[[p]]), ctx.features)
                for p in range(N_PERTURBED)
            ]
        )
    return measured


def model_effects(ctx: ModelContext) -> Measured:
    """Return the model's own effects: score(client) - score(one feature set to reference)."""
    measured = Measured(method="model")
    d = len(ctx.features)
    for i, client in enumerate(ctx.client_ids()):
        started = time.perf_counter()
        rows = np.repeat(ctx.codes[i][None, :], d + 1, axis=0)
        rows[np.arange(1, d + 1), np.arange(d)] = ctx.reference_client
        scores = ctx.score(rows)
        weights = scores[0] - scores[1:]
        elapsed = time.perf_counter() - started
        measured.weights.append(weights)
        measured.runtimes.append(elapsed)
        measured.rows += _vector_rows(ctx, "model", client, weights, elapsed)
    return measured


def truth_source(ctx: ModelContext) -> Measured:
    """Return the demo SCM's true effects (``ctx.truth``) as a source of weights."""
    if ctx.truth is None:
        raise AdvisorError("truth: known only on the demo portfolio. Got a real data set.")
    measured = Measured(method="truth")
    for i, client in enumerate(ctx.client_ids()):
        weights = ctx.truth[i]
        measured.weights.append(weights)
        measured.rows += _vector_rows(ctx, "truth", client, weights, 0.0)
    return measured


def _top(weights: FloatArray) -> NDArray[np.int64]:
    return top_features(weights, TOP_K)


def record(ctx: ModelContext, measured: Measured, tables: Tables) -> None:
    """Write a source's explanations, curves and metrics into ``tables``."""
    where = (ctx.dataset, ctx.model_name, measured.method)
    tables.add("explanations", measured.rows)
    deletion: list[float] = []
    insertion: list[float] = []
    for i, client in enumerate(ctx.client_ids()):
        weights = measured.weights[i]
        for name, curve, areas in (
            ("deletion", deletion_curve, deletion),
            ("insertion", insertion_curve, insertion),
        ):
            outputs = curve(ctx.score, ctx.codes[i], ctx.reference_client, weights)
            areas.append(curve_area(outputs))
            tables.add(
                "curves",
                [
                    {"dataset": where[0], "model": where[1], "method": where[2], "client": client,
                     "curve": name, "k": k, "output": float(value)}
                    for k, value in enumerate(outputs)
                ],
            )  # fmt: skip
    tables.metric(where, "deletion_auc", deletion)
    tables.metric(where, "insertion_auc", insertion)
    if ctx.truth is not None:
        tables.metric(
            where,
            "truth_spearman",
            [spearman(w, t) for w, t in zip(measured.weights, ctx.truth, strict=True)],
        )
        tables.metric(
            where,
            "truth_top3_precision",
            [precision_at_k(w, t, 3) for w, t in zip(measured.weights, ctx.truth, strict=True)],
        )
    if measured.reruns:
        tops = [[_top(w) for w in runs] for runs in measured.reruns]
        tables.metric(where, "stability_jaccard_seeds", [mean_pairwise(t, jaccard) for t in tops])
        tables.metric(
            where, "stability_corr_seeds", [mean_pairwise(r, spearman) for r in measured.reruns]
        )
    if measured.perturbed:
        tables.metric(
            where,
            "stability_jaccard_perturbed",
            [
                float(np.mean([jaccard(_top(w), _top(p)) for p in moved]))
                for w, moved in zip(measured.weights, measured.perturbed, strict=True)
            ],
        )
    actionable = np.array([role == "actionable" for role in ctx.roles])
    tables.metric(
        where,
        "actionability_top5",
        [float(actionable[_top(w)].mean()) for w in measured.weights],
    )
    if measured.runtimes:
        tables.metric(where, "runtime_s", measured.runtimes)
    if measured.fidelity:
        tables.metric(where, "fidelity_r2", [r2 for r2, _ in measured.fidelity])
        tables.metric(where, "fidelity_error", [error for _, error in measured.fidelity])


def record_agreement(ctx: ModelContext, sources: list[Measured], tables: Tables) -> None:
    """Mean Spearman correlation of every pair of sources' weights over the clients."""
    rows = []
    for a in sources:
        for b in sources:
            values = [spearman(x, y) for x, y in zip(a.weights, b.weights, strict=True)]
            finite = [v for v in values if np.isfinite(v)]
            rows.append(
                {
                    "dataset": ctx.dataset,
                    "model": ctx.model_name,
                    "method_a": a.method,
                    "method_b": b.method,
                    "spearman": float(np.mean(finite)) if finite else float("nan"),
                }
            )
    tables.add("agreement", rows)
