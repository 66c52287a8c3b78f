"""Pure helpers of the Campaign page: the segment's filters, KPIs, tables and figures.

No Streamlit here: every function takes plain values (the constraint file's feature specs,
the clients, a campaign's totals and frames) and returns a mask, strings, a DataFrame, a
plotly figure or bytes, so they are unit-tested without running the app.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.render import BLUE, GREY, MARGIN, RED, feature_label, number, percent
from app.texts import Language, text

DEFAULT_CAP = 2_000
"""Clients of a segment an interactive run takes by default (the first ones, in data order)."""
MAX_CAP = 20_000
"""The most clients an interactive run may take; larger runs belong to ``levers campaign run``."""

_CHOICE_KINDS = ("binary", "categorical", "ordinal")
_RANGE_KINDS = ("integer", "continuous")


# ---------------------------------------------------------------- the segment builder
def segment_features(features: Sequence[Any], clients: pd.DataFrame) -> list[Any]:
    """The constraint file's features a segment may filter on, in the file's order.

    Features absent from the clients are left out, and so are protected attributes: a
    campaign is not aimed by sex or origin (the fairness chart reports them instead).
    """
    return [
        spec
        for spec in features
        if spec.name in clients.columns
        and not spec.protected
        and spec.kind in (*_CHOICE_KINDS, *_RANGE_KINDS)
    ]


def is_choice(spec: Any) -> bool:
    """Whether the feature is filtered by choosing values (else by a range)."""
    return spec.kind in _CHOICE_KINDS


def choices_of(spec: Any, column: pd.Series) -> list[Any]:
    """The values a client may have, for a multiselect.

    Categorical and ordinal features list the constraint file's categories, in its order;
    binary ones the values the data holds (``False``/``True``, ``0``/``1`` or the file's two
    labels), in the file's order when they are its labels.
    """
    if spec.kind != "binary":
        return list(spec.categories)
    present = [v.item() if hasattr(v, "item") else v for v in pd.unique(column.dropna())]
    if spec.categories and set(present) <= set(spec.categories):
        return list(spec.categories)
    return sorted(present, key=lambda v: (str(type(v)), v))


def choice_label(spec: Any, value: Any, language: Language) -> str:
    """A value of a choice filter for people: yes/no, or the file's label of 0/1, or as is."""
    if spec.kind == "binary" and value in (False, True) and not isinstance(value, str):
        if len(spec.categories) == 2 and not isinstance(spec.categories[0], bool):
            return str(spec.categories[int(value)])
        return text("yes" if value else "no", language)
    return str(value).replace("_", " ")


@dataclass(frozen=True, slots=True, kw_only=True)
class SliderBounds:
    """The range slider of a numeric feature: the data's min and max, and a step."""

    low: float
    high: float
    step: float
    integer: bool


def slider_bounds(spec: Any, column: pd.Series) -> SliderBounds | None:
    """The data's range of a numeric feature (``None`` when it holds a single value or none).

    Integers keep a step of 1; continuous features a round step near a hundredth of the
    range, the bounds widened to multiples of it.
    """
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() == values.max():
        return None
    low, high = float(values.min()), float(values.max())
    if spec.kind == "integer":
        return SliderBounds(low=math.floor(low), high=math.ceil(high), step=1, integer=True)
    step = 10.0 ** math.floor(math.log10((high - low) / 100))
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    return SliderBounds(low=low, high=high, step=step, integer=False)


def segment_of(
    clients: pd.DataFrame,
    choices: Mapping[str, Sequence[Any]],
    ranges: Mapping[str, tuple[float, float]],
    cap: int,
) -> np.ndarray:
    """The boolean mask of the segment: every filter holds, then the first ``cap`` clients.

    ``choices`` maps a feature to the values kept (empty: no filter); ``ranges`` a feature
    to its (low, high) bounds, both included. A client with a missing value is kept only by
    the filters that do not look at it.
    """
    if cap < 1:
        raise ValueError(f"cap: must be at least 1 client. Got {cap}.")
    mask = np.ones(len(clients), dtype=bool)
    for name, kept in choices.items():
        if len(kept):
            mask &= clients[name].isin(list(kept)).to_numpy(dtype=bool, na_value=False)
    for name, (low, high) in ranges.items():
        values = pd.to_numeric(clients[name], errors="coerce")
        mask &= values.between(low, high).to_numpy(dtype=bool, na_value=False)
    return mask & (np.cumsum(mask) <= cap)


def boolean_columns(clients: pd.DataFrame) -> list[str]:
    """The clients' yes/no columns (``bool`` dtype): the candidates of an opt-out column."""
    return [str(c) for c in clients.columns if pd.api.types.is_bool_dtype(clients[c].dtype)]


# ---------------------------------------------------------------- results
def kpis(
    totals: Any, language: Language = "en", direction: str = "raise"
) -> list[tuple[str, str, str]]:
    """The campaign's key figures: (label, value, help), the value only when it has one.

    For a risk score (``direction`` ``lower``) the sum of the levers' score changes is the
    expected number of bad outcomes avoided, not extra sales.
    """
    sales = "campaign.kpi.sales" if direction == "raise" else "campaign.kpi.avoided"
    shown = [
        (text("campaign.kpi.clients", language), number(totals.n_segment, language), ""),
        (
            text("campaign.kpi.coverage", language),
            percent(totals.coverage, language),
            text("campaign.kpi.coverage.help", language, searched=totals.n_searched),
        ),
        (text("campaign.kpi.advised", language), number(totals.n_advised, language), ""),
        (
            text(sales, language),
            number(totals.expected_extra_sales, language, 1),
            text(f"{sales}.help", language),
        ),
    ]
    if totals.expected_value is not None:
        shown.append(
            (
                text("campaign.kpi.value", language),
                f"{number(totals.expected_value, language, 0)} €",
                text("campaign.kpi.value.help", language),
            )
        )
    return shown


def status_line(totals: Any, elapsed_s: float, engines: Sequence[str], language: Language) -> str:
    """One line: how many clients got each status, the time taken and the engines used."""
    return text(
        "campaign.statuses",
        language,
        searched=number(totals.n_searched, language),
        reached=number(totals.n_reached, language),
        excluded=number(totals.n_excluded, language),
        proved=number(totals.n_none_proved, language),
        not_found=number(totals.n_none_not_found, language),
        elapsed=number(elapsed_s, language, 1),
        engines=", ".join(engines) or "-",
    )


def levers_csv(frame: pd.DataFrame) -> bytes:
    """The per-client levers (``CampaignResult.to_frame()``) as UTF-8 CSV, without index."""
    return frame.to_csv(index=False).encode("utf-8")


_LEVER_COLUMNS = ("client", "status", "score", "score_after", "uplift", "cost")


def levers_table(frame: pd.DataFrame, language: Language = "en") -> pd.DataFrame:
    """The per-client levers for the screen: actions in ``language``, headers translated."""
    table = frame[[*_LEVER_COLUMNS, f"actions_{language}"]].copy()
    table["status"] = [text(f"campaign.status.{s}", language) for s in table["status"]]
    headers = {c: text(f"campaign.col.{c}", language) for c in _LEVER_COLUMNS}
    return table.rename(columns={**headers, f"actions_{language}": text("col.actions", language)})


_ACTION_COLUMNS = ("n_covered", "coverage", "mean_cost", "cost_ratio", "expected_extra_sales")


def actions_table(frame: pd.DataFrame, language: Language = "en") -> pd.DataFrame:
    """Global actions (``GlobalActions.to_frame()``) for the screen, texts in ``language``."""
    table = frame[["rank", f"action_{language}", *_ACTION_COLUMNS]].copy()
    headers = {c: text(f"campaign.col.{c}", language) for c in ("rank", *_ACTION_COLUMNS)}
    return table.rename(columns={**headers, f"action_{language}": text("col.action", language)})


def number_formats(language: Language) -> dict[str, str]:
    """How the page's tables show their figures (header in ``language`` -> printf format)."""
    formats = {
        "coverage": "percent",
        "mean_cost": "%.2f",
        "median_cost": "%.2f",
        "cost": "%.2f",
        "cost_ratio": "%.2f",
        "expected_extra_sales": "%.1f",
        "score": "%.3f",
        "score_after": "%.3f",
        "uplift": "%.3f",
        "mean_uplift": "%.3f",
    }
    return {text(f"campaign.col.{c}", language): f for c, f in formats.items()}


def curve_figure(curve: pd.DataFrame, language: Language = "en") -> go.Figure:
    """Coverage (bars) and mean cost (line, right axis) for 1, 2, ... global actions."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(
            name=text("campaign.kpi.coverage", language),
            x=curve["k"],
            y=curve["coverage"],
            marker_color=BLUE,
            text=[percent(c, language, 0) for c in curve["coverage"]],
            textposition="inside",
            insidetextanchor="start",
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            name=text("campaign.curve.cost", language),
            x=curve["k"],
            y=curve["mean_cost"],
            mode="lines+markers",
            marker_color=RED,
            customdata=curve["cost_ratio"],
            hovertemplate="%{x}: %{y:.2f} (x%{customdata:.2f})<extra></extra>",
        ),
        secondary_y=True,
    )
    figure.update_layout(
        height=340, margin=MARGIN, legend={"orientation": "h", "y": 1.15}, bargap=0.4
    )
    figure.update_xaxes(title=text("campaign.curve.k", language), dtick=1)
    figure.update_yaxes(
        title=text("campaign.kpi.coverage", language),
        tickformat=".0%",
        range=[0, 1.1],
        secondary_y=False,
    )
    figure.update_yaxes(
        title=text("campaign.curve.cost", language), rangemode="tozero", secondary_y=True
    )
    return figure


def filter_label(spec: Any, language: Language) -> str:
    """A feature's name in the filter list: the constraint file's label."""
    return feature_label(spec, language)


# ---------------------------------------------------------------- fairness
def _fairness_colours(frame: pd.DataFrame, count: str, min_group_size: int) -> list[str]:
    flagged = frame["flagged"].astype(bool)
    small = frame[count] < min_group_size
    return [RED if f else (GREY if s else BLUE) for f, s in zip(flagged, small, strict=True)]


def group_names(frame: pd.DataFrame, labels: Mapping[str, str]) -> list[str]:
    """Each group as ``<attribute label>: <group>`` (the attribute's label from the file)."""
    return [
        f"{labels.get(a, a)}: {g}" for a, g in zip(frame["attribute"], frame["group"], strict=True)
    ]


def fairness_figure(
    frame: pd.DataFrame,
    labels: Mapping[str, str],
    min_group_size: int,
    language: Language = "en",
) -> go.Figure:
    """Coverage and mean cost of the cheapest lever per group (``FairnessReport.to_frame()``).

    Flagged groups are red; groups too small to compare (fewer than ``min_group_size``
    searched clients for coverage, advised clients for cost) are grey; the others blue.
    """
    names = group_names(frame, labels)
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            text("campaign.kpi.coverage", language),
            text("campaign.curve.cost", language),
        ),
        horizontal_spacing=0.12,
    )
    figure.add_trace(
        go.Bar(
            x=names,
            y=frame["coverage"],
            marker_color=_fairness_colours(frame, "n_searched", min_group_size),
            customdata=frame["n_searched"],
            hovertemplate="%{x}: %{y:.1%} (n = %{customdata})<extra></extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=names,
            y=frame["mean_cost"],
            marker_color=_fairness_colours(frame, "n_advised", min_group_size),
            customdata=frame["n_advised"],
            hovertemplate="%{x}: %{y:.2f} (n = %{customdata})<extra></extra>",
        ),
        row=1,
        col=2,
    )
    figure.update_layout(height=360, margin={**MARGIN, "t": 40}, showlegend=False)
    figure.update_yaxes(tickformat=".0%", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(rangemode="tozero", row=1, col=2)
    figure.update_xaxes(type="category")
    return figure


def _shown(value: float, shown: str) -> str:
    return "-" if math.isnan(value) else shown


def flagged_lines(frame: pd.DataFrame, labels: Mapping[str, str], language: Language) -> list[str]:
    """One line per flagged group, in ``language``, with its coverage and mean cost."""
    flagged = frame.loc[frame["flagged"].astype(bool)]
    coverages = flagged["coverage"].to_numpy(dtype=np.float64)
    costs = flagged["mean_cost"].to_numpy(dtype=np.float64)
    return [
        text(
            "campaign.fairness.flagged",
            language,
            group=name,
            coverage=_shown(share, percent(share, language)),
            cost=_shown(cost, number(cost, language, 2)),
        )
        for name, share, cost in zip(group_names(flagged, labels), coverages, costs, strict=True)
    ]


_FAIRNESS_COLUMNS = (
    "n_segment",
    "n_searched",
    "n_advised",
    "coverage",
    "mean_cost",
    "median_cost",
    "mean_uplift",
)


def fairness_table(
    frame: pd.DataFrame, labels: Mapping[str, str], language: Language = "en"
) -> pd.DataFrame:
    """The per-group figures for the screen: groups named, headers and flags translated."""
    table = frame[list(_FAIRNESS_COLUMNS)].copy()
    table.insert(0, text("campaign.col.group", language), group_names(frame, labels))
    table[text("campaign.col.flagged", language)] = [
        text("yes" if f else "no", language) for f in frame["flagged"].astype(bool)
    ]
    return table.rename(columns={c: text(f"campaign.col.{c}", language) for c in _FAIRNESS_COLUMNS})
