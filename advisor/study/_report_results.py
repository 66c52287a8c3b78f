"""What a report says, computed from the study's tables: result tables, rankings, comparisons.

Nothing here is typed by hand: every number a template shows is read from ``metrics``,
``explanations``, ``agreement`` or ``levers_agreement``. The templates hold the words; this
module hands them the numbers and which method is best or worst by each metric.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor.explain import METHODS

__all__ = [
    "METHOD_LABELS",
    "METRICS",
    "YARDSTICKS",
    "Comparison",
    "MetricInfo",
    "MetricTable",
    "compare",
    "format_number",
    "method_order",
    "metric_tables",
    "per_client_jaccard",
    "wins",
]

METHOD_LABELS: dict[str, str] = {
    "lime": "LIME",
    "levers_lime": "Levers LIME",
    "tree_shap": "TreeSHAP",
    "exact_shap": "exact SHAP",
    "kernel_shap": "KernelSHAP",
    "integrated_gradients": "integrated gradients",
    "influence": "influence functions",
    "truth": "truth (SCM)",
    "model": "model's own effects",
}
"""Each method's name in the report."""

_ORDER = (*METHODS, "influence", "model", "truth")
YARDSTICKS = frozenset(("truth", "model"))
"""Rows that are references, not explanation methods: the demo's causal truth and the model's
own one-feature effects. Tables show them; rankings and "best" marks leave them out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricInfo:
    """How a metric is named, grouped and read (``higher`` or ``lower`` is better)."""

    name: str
    label: str
    group: str
    better: str


METRICS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo(name="deletion_auc", label="deletion AUC", group="faithfulness", better="lower"),
        MetricInfo(
            name="insertion_auc", label="insertion AUC", group="faithfulness", better="higher"
        ),
        MetricInfo(
            name="truth_spearman", label="Spearman vs truth", group="faithfulness", better="higher"
        ),
        MetricInfo(
            name="truth_top3_precision",
            label="top-3 precision vs truth",
            group="faithfulness",
            better="higher",
        ),
        MetricInfo(name="fidelity_r2", label="surrogate R²", group="faithfulness", better="higher"),
        MetricInfo(
            name="fidelity_error",
            label="held-out error",
            group="faithfulness",
            better="lower",
        ),
        MetricInfo(
            name="stability_jaccard_seeds",
            label="top-5 Jaccard (seeds)",
            group="stability",
            better="higher",
        ),
        MetricInfo(
            name="stability_corr_seeds",
            label="weight correlation (seeds)",
            group="stability",
            better="higher",
        ),
        MetricInfo(
            name="stability_jaccard_perturbed",
            label="top-5 Jaccard (perturbed client)",
            group="stability",
            better="higher",
        ),
        MetricInfo(
            name="actionability_top5",
            label="actionable share of top 5",
            group="actionability and cost",
            better="higher",
        ),
        MetricInfo(
            name="runtime_s",
            label="runtime per client (s)",
            group="actionability and cost",
            better="lower",
        ),
    )
}
"""The metrics the study measures, in the order the report's tables show them."""


def method_order(methods: Any) -> list[str]:
    """Return ``methods`` in the report's order (known methods first, others by name)."""
    present = {str(method) for method in methods}
    known = [method for method in _ORDER if method in present]
    return known + sorted(present - set(_ORDER))


def format_number(value: float) -> str:
    """Write a result as the report shows it: 3 decimals, 3 significant digits below 0.01.

    Examples
    --------
    >>> format_number(0.12345), format_number(0.000412345), format_number(12.0)
    ('0.123', '0.000412', '12.000')
    """
    if not np.isfinite(value):
        return "n/a"
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.3f}"
    return np.format_float_positional(value, precision=3, unique=False, fractional=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricTable:
    """One table of the results: a data set, a group of metrics, a row per model and method."""

    dataset: str
    group: str
    metrics: list[MetricInfo]
    rows: list[dict[str, Any]]


def metric_tables(metrics: pd.DataFrame) -> list[MetricTable]:
    """Return the result tables: for each data set and group of metrics, model x method rows.

    Each row is ``{"model", "method", "cells": {metric: (value, n) or None}}``; a metric
    no method of the data set measured is left out of its table, and so is an empty group.
    """
    known = [name for name in METRICS if name in set(metrics["metric"])]
    others = sorted(set(metrics["metric"]) - set(METRICS))
    infos = [METRICS[name] for name in known] + [
        MetricInfo(name=name, label=name, group="other", better="higher") for name in others
    ]
    tables = []
    for dataset in _in_order(metrics["dataset"]):
        rows_of = metrics[metrics["dataset"] == dataset]
        for group in dict.fromkeys(info.group for info in infos):
            shown = [i for i in infos if i.group == group and i.name in set(rows_of["metric"])]
            if shown:
                tables.append(
                    MetricTable(
                        dataset=dataset, group=group, metrics=shown, rows=_rows(rows_of, shown)
                    )
                )
    return tables


def _rows(metrics: pd.DataFrame, shown: list[MetricInfo]) -> list[dict[str, Any]]:
    names = [info.name for info in shown]
    values = metrics[metrics["metric"].isin(names)]
    rows = []
    for model in _in_order(values["model"]):
        of_model = values[values["model"] == model]
        for method in method_order(of_model["method"]):
            found = of_model[of_model["method"] == method]
            cells = {
                str(metric): (float(value), int(n))
                for metric, value, n in zip(
                    found["metric"],
                    found["value"].to_numpy(float),
                    found["n"].to_numpy(float),
                    strict=True,
                )
                if np.isfinite(value)
            }
            rows.append({"model": model, "method": method, "cells": cells})
        _mark_best([row for row in rows if row["model"] == model], names)
    return rows


def _mark_best(rows: list[dict[str, Any]], names: list[str]) -> None:
    """Set each row's ``best``: the metrics where its method is the model's best.

    The :data:`YARDSTICKS` are never marked.
    """
    for row in rows:
        row["best"] = {}
    for name in names:
        higher = METRICS[name].better == "higher" if name in METRICS else True
        values = [
            row["cells"][name][0]
            for row in rows
            if name in row["cells"] and row["method"] not in YARDSTICKS
        ]
        if len(values) < 2:
            continue
        best = max(values) if higher else min(values)
        for row in rows:
            if row["method"] not in YARDSTICKS and row["cells"].get(name, (None,))[0] == best:
                row["best"][name] = True


def _in_order(values: pd.Series) -> list[str]:
    return list(dict.fromkeys(str(value) for value in values))


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """One data set x model: each metric's methods ranked best first, and LIME beside Levers LIME.

    ``ranking[metric]`` lists ``(method, value)`` best first (the :data:`YARDSTICKS` left
    out: they are references, not contenders); ``lime`` and ``levers`` map a metric to that
    method's value.
    """

    dataset: str
    model: str
    ranking: dict[str, list[tuple[str, float]]]
    lime: dict[str, float]
    levers: dict[str, float]

    def best(self, metric: str) -> tuple[str, float] | None:
        """Return the best method by ``metric`` and its value (None when unmeasured)."""
        ranked = self.ranking.get(metric, [])
        return ranked[0] if ranked else None

    def worst(self, metric: str) -> tuple[str, float] | None:
        """Return the worst method by ``metric`` and its value (None when unmeasured)."""
        ranked = self.ranking.get(metric, [])
        return ranked[-1] if len(ranked) > 1 else None

    def verdict(self, metric: str) -> str | None:
        """Return ``better``, ``same`` or ``worse``: Levers LIME against LIME by ``metric``.

        None when either was not measured.
        """
        if metric not in self.lime or metric not in self.levers:
            return None
        higher = METRICS[metric].better == "higher" if metric in METRICS else True
        ahead = self.levers[metric] - self.lime[metric]
        if ahead == 0:
            return "same"
        return "better" if (ahead > 0) == higher else "worse"


def compare(metrics: pd.DataFrame) -> list[Comparison]:
    """Return one :class:`Comparison` per data set x model, in the tables' order."""
    comparisons = []
    contenders = metrics[~metrics["method"].isin(YARDSTICKS) & np.isfinite(metrics["value"])]
    for dataset, model in dict.fromkeys(
        zip(metrics["dataset"].astype(str), metrics["model"].astype(str), strict=True)
    ):
        cell = contenders[(contenders["dataset"] == dataset) & (contenders["model"] == model)]
        ranking = {}
        for metric, rows in cell.groupby("metric", sort=False):
            higher = METRICS[str(metric)].better == "higher" if metric in METRICS else True
            ordered = rows.sort_values("value", ascending=not higher, kind="stable")
            ranking[str(metric)] = [
                (str(method), float(value))
                for method, value in zip(
                    ordered["method"], ordered["value"].to_numpy(float), strict=True
                )
            ]
        comparisons.append(
            Comparison(
                dataset=dataset,
                model=model,
                ranking=ranking,
                lime=_values_of(cell, "lime"),
                levers=_values_of(cell, "levers_lime"),
            )
        )
    return comparisons


def _values_of(cell: pd.DataFrame, method: str) -> dict[str, float]:
    rows = cell[cell["method"] == method]
    return {
        str(metric): float(value)
        for metric, value in zip(rows["metric"], rows["value"].to_numpy(float), strict=True)
    }


def wins(comparisons: list[Comparison], metric: str) -> tuple[int, int]:
    """Return in how many data set x model cells Levers LIME beats LIME by ``metric``, of how many.

    Only cells where both were measured count.
    """
    verdicts = [c.verdict(metric) for c in comparisons]
    measured = [verdict for verdict in verdicts if verdict is not None]
    return measured.count("better"), len(measured)


def per_client_jaccard(explanations: pd.DataFrame, *, top_k: int = 5) -> pd.DataFrame:
    """Return each client's mean pairwise top-``top_k`` Jaccard over its reruns.

    One row per data set, model, method and client explained at least twice: the top
    features of a rerun are those of rank 1 to ``top_k``; the Jaccard index of two reruns
    is the size of their top sets' intersection over their union.
    """
    top = explanations[explanations["rank"] <= top_k]
    keys = ["dataset", "model", "method", "client"]
    rows = []
    for key, of_client in top.groupby(keys, sort=False):
        sets = [frozenset(group["feature"]) for _, group in of_client.groupby("rerun")]
        if len(sets) < 2:
            continue
        pairs = [len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2) if a | b]
        rows.append((*key, float(np.mean(pairs)) if pairs else np.nan))
    return pd.DataFrame(rows, columns=[*keys, "jaccard"])
