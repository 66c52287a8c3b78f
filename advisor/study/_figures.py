"""The report's figures, drawn with matplotlib from the study's tables and embedded as SVG.

Each function returns a ``data:image/svg+xml;base64,...`` URI for an ``<img>`` tag, so the
report is one self-contained file that a browser and WeasyPrint both read. Matplotlib is
imported inside the functions (the CLI starts without it) and drawn on a bare
:class:`~matplotlib.figure.Figure` (no pyplot, no global state; raster parts use Agg).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from advisor.study._report_results import METHOD_LABELS, method_order

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "agreement_figure",
    "curves_figure",
    "runtime_figure",
    "stability_figure",
    "truth_figure",
]

_COLOURS = {
    "lime": "#8c8c8c",
    "levers_lime": "#d62728",
    "tree_shap": "#1f77b4",
    "exact_shap": "#17becf",
    "kernel_shap": "#9467bd",
    "integrated_gradients": "#2ca02c",
    "influence": "#ff7f0e",
    "model": "#8c564b",
    "truth": "#000000",
}


def _colour(method: str) -> str:
    return _COLOURS.get(method, "#7f7f7f")


def _label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg_uri(figure: Figure) -> str:
    import matplotlib

    buffer = io.BytesIO()
    # a fixed salt and no date: the same tables give the same bytes
    with matplotlib.rc_context({"svg.hashsalt": "levers", "font.size": 8}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def curves_figure(curves: pd.DataFrame, dataset: str, model: str) -> str:
    """Draw the deletion and insertion curves of one data set x model (mean over clients by k)."""
    figure = _new_figure(7.0, 2.8)
    axes = figure.subplots(1, 2, sharey=True)
    rows = curves[(curves["dataset"] == dataset) & (curves["model"] == model)]
    for axis, curve in zip(axes, ("deletion", "insertion"), strict=True):
        of_curve = rows[rows["curve"] == curve]
        for method in method_order(of_curve["method"]):
            mean = of_curve[of_curve["method"] == method].groupby("k")["output"].mean()
            axis.plot(mean.index, mean.to_numpy(), marker=".", color=_colour(method))
            axis.lines[-1].set_label(_label(method))
        axis.set_title(f"{curve} ({dataset}, {model})")
        axis.set_xlabel("features replaced (k)" if curve == "deletion" else "features kept (k)")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("model output, mean over clients")
    _legend_below(figure, axes)
    return _svg_uri(figure)


def _legend_below(figure: Figure, axes: Any) -> None:
    """Put the methods' legend (every panel's, once each) under the plots, hiding nothing."""
    found: dict[str, Any] = {}
    for axis in np.atleast_1d(axes):
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    if found:
        figure.legend(list(found.values()), list(found), loc="outside lower center", ncols=4)


def stability_figure(jaccard: pd.DataFrame, dataset: str, models: Sequence[str]) -> str:
    """Draw box plots of each client's top-5 Jaccard over reruns, per model and method."""
    figure = _new_figure(7.0, 2.6)
    axes = np.atleast_1d(figure.subplots(1, len(models), sharey=True, squeeze=False)[0])
    for axis, model in zip(axes, models, strict=True):
        rows = jaccard[(jaccard["dataset"] == dataset) & (jaccard["model"] == model)]
        methods = method_order(rows["method"])
        values = [rows.loc[rows["method"] == m, "jaccard"].dropna().to_numpy() for m in methods]
        boxes = axis.boxplot(values, patch_artist=True, widths=0.6)
        for patch, method in zip(boxes["boxes"], methods, strict=True):
            patch.set_facecolor(_colour(method))
            patch.set_alpha(0.6)
        axis.set_xticks(range(1, len(methods) + 1), [_label(m) for m in methods], rotation=35)
        axis.set_title(f"{dataset}, {model}")
        axis.set_ylim(-0.05, 1.05)
        axis.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("top-5 Jaccard over reruns")
    return _svg_uri(figure)


def _grouped_bars(
    metrics: pd.DataFrame,
    metric_names: Sequence[str],
    titles: Sequence[str],
    dataset: str,
    leave_out: Sequence[str] = (),
) -> Figure:
    figure = _new_figure(7.0, 2.8)
    axes = np.atleast_1d(figure.subplots(1, len(metric_names), squeeze=False)[0])
    rows = metrics[(metrics["dataset"] == dataset) & ~metrics["method"].isin(leave_out)]
    models = list(dict.fromkeys(rows["model"]))
    for axis, metric, title in zip(axes, metric_names, titles, strict=True):
        of_metric = rows[rows["metric"] == metric]
        methods = method_order(of_metric["method"])
        width = 0.8 / max(len(methods), 1)
        for position, method in enumerate(methods):
            of_method = of_metric[of_metric["method"] == method].set_index("model")["value"]
            heights = [float(of_method.get(model, np.nan)) for model in models]
            axis.bar(
                np.arange(len(models)) + (position - (len(methods) - 1) / 2) * width,
                heights,
                width=width,
                color=_colour(method),
                label=_label(method),
            )
        axis.set_xticks(range(len(models)), models)
        axis.set_title(f"{title} ({dataset})")
        axis.grid(axis="y", alpha=0.3)
    _legend_below(figure, axes)
    return figure


def truth_figure(metrics: pd.DataFrame, dataset: str) -> str:
    """Draw bars of each method's agreement with the true effects (Spearman, top-3 precision)."""
    figure = _grouped_bars(
        metrics,
        ("truth_spearman", "truth_top3_precision"),
        ("Spearman vs truth", "top-3 precision vs truth"),
        dataset,
        leave_out=("truth",),  # 1 by definition
    )
    return _svg_uri(figure)


def runtime_figure(metrics: pd.DataFrame, dataset: str) -> str:
    """Draw bars of each method's runtime per client (log scale), per model."""
    figure = _grouped_bars(metrics, ("runtime_s",), ("seconds per client",), dataset)
    figure.axes[0].set_yscale("log")
    return _svg_uri(figure)


def agreement_figure(agreement: pd.DataFrame, dataset: str, model: str) -> str:
    """Draw the heat map of the rank correlation between methods' weights for one model."""
    figure = _new_figure(5.6, 4.6)
    axis = figure.subplots()
    rows = agreement[(agreement["dataset"] == dataset) & (agreement["model"] == model)]
    methods = method_order(pd.concat([rows["method_a"], rows["method_b"]]))
    grid = np.full((len(methods), len(methods)), np.nan)
    np.fill_diagonal(grid, 1.0)
    position = {method: i for i, method in enumerate(methods)}
    pairs = rows.groupby(["method_a", "method_b"], sort=False)["spearman"].mean()
    for pair, value in zip(pairs.index.tolist(), pairs.to_numpy(float), strict=True):
        i, j = position[str(pair[0])], position[str(pair[1])]
        grid[i, j] = grid[j, i] = value
    image = axis.imshow(grid, vmin=-1, vmax=1, cmap="RdBu_r")
    labels = [_label(m) for m in methods]
    axis.set_xticks(range(len(methods)), labels, rotation=40, ha="right")
    axis.set_yticks(range(len(methods)), labels)
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            colour = "white" if abs(value) > 0.6 else "black"
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", color=colour)
    axis.set_title(f"agreement between methods ({dataset}, {model})")
    figure.colorbar(image, ax=axis, shrink=0.8, label="Spearman")
    return _svg_uri(figure)
