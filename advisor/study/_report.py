"""The study's report: ``DIR/report.html`` (self-contained) and ``DIR/report.pdf``, from its tables.

The words are written once, in ``advisor/study/templates/*.html.j2`` (jinja2, autoescaped);
every number, table and figure comes from the folder's ``study.json`` and result tables
(:mod:`advisor.study._report_tables`), through :mod:`advisor.study._report_results` and
:mod:`advisor.study._figures`. The PDF is WeasyPrint's rendering of the same HTML, with
every URL fetch refused (the figures are ``data:`` URIs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from advisor._atomic import write_atomic, write_text_atomic
from advisor.study import _figures
from advisor.study._report_results import (
    METHOD_LABELS,
    METRICS,
    compare,
    format_number,
    method_order,
    metric_tables,
    per_client_jaccard,
    wins,
)
from advisor.study._report_tables import StudyTables, read_study

__all__ = ["STABILITY_GOAL", "render_report", "write_report"]

STABILITY_GOAL = 0.9
"""Issue 18's goal for Levers LIME: a top-5 Jaccard over seeds of at least 0.9."""

_TEMPLATES = Path(__file__).with_name("templates")
_KNOWN_FACTS = frozenset(
    (
        "datasets",
        "models",
        "methods",
        "quick",
        "seed",
        "n_clients",
        "n_reruns",
        "versions",
        "started_at",
        "elapsed_s",
        "skipped",
    )
)
_WIN_METRICS = (
    "stability_jaccard_seeds",
    "stability_jaccard_perturbed",
    "deletion_auc",
    "insertion_auc",
    "truth_spearman",
    "actionability_top5",
    "fidelity_r2",
    "runtime_s",
)


def write_report(folder: Path | str) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.pdf`` into the study folder ``folder``.

    Both are replaced when they exist, each written whole or not at all.

    Parameters
    ----------
    folder
        A folder written by ``levers study run`` (``study.json`` and the result tables).

    Returns
    -------
    tuple of pathlib.Path
        The HTML report and the PDF report.

    Raises
    ------
    AdvisorError
        The folder is missing, or a table or ``study.json`` is missing or malformed (the
        message names the file and the column or key).
    """
    tables = read_study(folder)
    html = render_report(tables)
    html_path = write_text_atomic(tables.folder / "report.html", html, overwrite=True)
    pdf_path = write_atomic(
        tables.folder / "report.pdf", lambda file: _write_pdf(html, file), overwrite=True
    )
    return html_path, pdf_path


def render_report(tables: StudyTables) -> str:
    """Return the report's HTML for the study ``tables`` (see :func:`read_study`)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["num"] = format_number
    environment.filters["method"] = lambda method: METHOD_LABELS.get(method, method)
    environment.filters["metric"] = lambda name: METRICS[name].label if name in METRICS else name
    return environment.get_template("report.html.j2").render(**_context(tables))


def _context(tables: StudyTables) -> dict[str, Any]:
    facts, metrics = tables.study, tables.metrics
    comparisons = compare(metrics)
    measured = list(dict.fromkeys(metrics["dataset"]))
    return {
        "facts": facts,
        "other_facts": {
            key: _fact_text(value) for key, value in facts.items() if key not in _KNOWN_FACTS
        },
        "not_measured": [dataset for dataset in facts["datasets"] if dataset not in measured],
        "skipped_groups": _skipped_groups(facts["skipped"]),
        "methods_run": method_order(metrics["method"]),
        "metrics": METRICS,
        "datasets": [_dataset_section(tables, dataset) for dataset in measured],
        "comparisons": comparisons,
        "wins": {metric: wins(comparisons, metric) for metric in _WIN_METRICS},
        "goal": STABILITY_GOAL,
        "recommender": _recommender(tables.levers_agreement),
        "truth_measured": bool(metrics["metric"].isin(["truth_spearman"]).any()),
    }


def _skipped_groups(skipped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group the skipped runs that share a method and a reason: one line each, its places."""
    groups: dict[tuple[str, str], list[str]] = {}
    for item in skipped:
        dataset, model = item.get("dataset") or "every data set", item.get("model") or "every model"
        where = f"{dataset} \N{MULTIPLICATION SIGN} {model}"
        groups.setdefault((str(item.get("method") or "*"), str(item["reason"])), []).append(where)
    return [
        {"method": method, "reason": reason, "places": places}
        for (method, reason), places in groups.items()
    ]


def _fact_text(value: Any) -> str:
    """Write a run fact the report does not know in words: ``a 1, b 2`` for an object."""
    if isinstance(value, dict):
        return ", ".join(f"{key} {_fact_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_fact_text(item) for item in value)
    return value if isinstance(value, str) else json.dumps(value)


def _dataset_section(tables: StudyTables, dataset: str) -> dict[str, Any]:
    metrics = tables.metrics[tables.metrics["dataset"] == dataset]
    models = list(dict.fromkeys(metrics["model"]))
    jaccard = per_client_jaccard(tables.explanations[tables.explanations["dataset"] == dataset])
    curves = tables.curves[tables.curves["dataset"] == dataset]
    agreement = tables.agreement[tables.agreement["dataset"] == dataset]
    has = set(metrics["metric"])
    return {
        "name": dataset,
        "models": models,
        "tables": metric_tables(metrics),
        "curves": [
            {"model": model, "figure": _figures.curves_figure(curves, dataset, model)}
            for model in models
            if (curves["model"] == model).any()
        ],
        "stability": _figures.stability_figure(jaccard, dataset, models)
        if not jaccard.empty
        else None,
        "truth": _figures.truth_figure(metrics, dataset) if "truth_spearman" in has else None,
        "runtime": _figures.runtime_figure(metrics, dataset) if "runtime_s" in has else None,
        "agreement": [
            {"model": model, "figure": _figures.agreement_figure(agreement, dataset, model)}
            for model in models
            if (agreement["model"] == model).any()
        ],
    }


def _recommender(levers_agreement: pd.DataFrame) -> list[dict[str, Any]]:
    """Mean share of each method's top features that the levers found also move, per product."""
    rows = []
    for (method, product), group in levers_agreement.groupby(["method", "product"], sort=False):
        rows.append(
            {
                "method": str(method),
                "product": str(product),
                "share": float(group["share"].mean()),
                "n": int(group["client"].nunique()),
            }
        )
    order = {
        method: position for position, method in enumerate(method_order(levers_agreement["method"]))
    }
    return sorted(rows, key=lambda row: (row["product"], order[row["method"]]))


def _write_pdf(html: str, file: Path) -> None:
    import weasyprint

    # figures are data: URIs; any other URL (a link the tables smuggled in) is refused
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(file)
