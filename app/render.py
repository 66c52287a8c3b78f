"""Pure rendering helpers: they turn advisor results into display tables and figures.

No Streamlit here: every function takes plain values and returns a string, a DataFrame or a
plotly figure, so they are unit-tested without running the app.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from app.texts import UNIT_NAMES, VALUE_NAMES, Language, text

GREEN, RED, BLUE, GREY = "#2e7d32", "#c62828", "#1f77b4", "#9e9e9e"
LIGHT_GREEN, LIGHT_RED = "#e8f5e9", "#ffebee"
MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


# ---------------------------------------------------------------- numbers and values
def number(value: float, language: Language = "en", digits: int | None = None) -> str:
    """``2,450`` / ``0.35`` in English, ``2 450`` / ``0,35`` in French."""
    if not math.isfinite(value):
        return "∞" if value > 0 else ("-∞" if value < 0 else "NaN")
    if digits is not None:
        shown = f"{value:,.{digits}f}"
    elif value == int(value):
        shown = f"{int(value):,}"
    elif abs(value) >= 100:
        shown = f"{value:,.0f}"
    else:
        shown = f"{value:.3g}"
    if language == "fr":
        shown = shown.replace(",", "\u202f").replace(".", ",")
    return shown


def percent(p: float, language: Language = "en", digits: int = 1) -> str:
    """A probability as a percentage: ``12.5%`` (French: ``12,5 %``)."""
    shown = number(100 * p, language, digits)
    return f"{shown}\u202f%" if language == "fr" else f"{shown}%"


def points(delta: float, language: Language = "en") -> str:
    """A score change in percentage points: ``+4.2 pts``."""
    shown = text("points", language, value=100 * delta)
    return shown.replace(".", ",") if language == "fr" else shown


def value_text(value: Any, unit: str = "", language: Language = "en") -> str:
    """A business value for people: yes/no, amounts with their unit, categories as words."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return text("missing", language)
    if isinstance(value, bool):
        return text("yes" if value else "no", language)
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = number(float(value), language)
        unit = UNIT_NAMES.get(unit, {}).get(language, unit)
        return f"{shown} {unit}".strip() if unit else shown
    if hasattr(value, "item"):  # numpy scalars
        return value_text(value.item(), unit, language)
    return str(value).replace("_", " ")


def feature_label(spec: Any, language: Language) -> str:
    found = spec.label.get(language) if spec.label is not None else ""
    return str(found or spec.name.replace("_", " "))


# ---------------------------------------------------------------- client page
def profile_tables(
    client: pd.Series, features: Sequence[Any], language: Language = "en"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The client's profile: (situation, habits and products), each ``feature``/``value``.

    ``features`` are the constraint file's feature specs (``name``, ``role``, ``label``,
    ``unit``); actionable ones go to the second table.
    """
    rows: dict[bool, list[dict[str, str]]] = {False: [], True: []}
    for spec in features:
        if spec.name not in client.index:
            continue
        rows[spec.role == "actionable"].append(
            {
                text("feature", language): feature_label(spec, language),
                text("value", language): value_text(client[spec.name], spec.unit, language),
            }
        )
    columns = [text("feature", language), text("value", language)]
    return pd.DataFrame(rows[False], columns=columns), pd.DataFrame(rows[True], columns=columns)


def recommendations_figure(
    ranked: pd.DataFrame, language: Language = "en", selected: str | None = None
) -> go.Figure:
    """Horizontal bars: the propensity of every product not held, best recommendation on top."""
    labels = ranked[f"label_{language}"] if f"label_{language}" in ranked else ranked["product"]
    colours = [BLUE if p == selected else GREY for p in ranked["product"]]
    figure = go.Figure(
        go.Bar(
            x=ranked["propensity"],
            y=labels,
            orientation="h",
            marker_color=colours,
            text=[
                f"{percent(p, language)} · {number(v, language, 0)} €"
                if "expected_value" in ranked
                else percent(p, language)
                for p, v in zip(
                    ranked["propensity"],
                    ranked.get("expected_value", ranked["propensity"]),
                    strict=True,
                )
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    figure.update_layout(
        height=60 + 32 * len(ranked),
        margin={**MARGIN, "r": 90},
        xaxis={"tickformat": ".0%", "title": text("products.propensity", language)},
        yaxis={"autorange": "reversed"},
        showlegend=False,
    )
    return figure


def gauge_figure(score: float, goal: float, title: str, direction: str = "raise") -> go.Figure:
    """A score gauge from 0 to 100 %, with the goal as a threshold.

    ``raise``: the goal is a floor (the band above it green); ``lower``: a ceiling for a
    risk score (the band above it red, the levers bring the score below it).
    """
    band = [100 * goal, 100]
    figure = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=100 * score,
            number={"suffix": " %", "valueformat": ".1f"},
            title={"text": title},
            gauge={
                "axis": {"range": [0, 100]},
                "bar": {"color": BLUE},
                "steps": [
                    {"range": band, "color": LIGHT_GREEN if direction == "raise" else LIGHT_RED}
                ],
                "threshold": {
                    "line": {"color": GREEN if direction == "raise" else RED, "width": 4},
                    "value": 100 * goal,
                },
            },
        )
    )
    figure.update_layout(height=290, margin={**MARGIN, "t": 60})
    return figure


def changes_table(
    actions: Sequence[Any], language: Language = "en", units: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Before -> after per changed feature (labels in ``language``)."""
    units = units or {}
    return pd.DataFrame(
        [
            {
                text("feature", language): a.label[language],
                text("before", language): value_text(a.before, units.get(a.feature, ""), language),
                text("after", language): value_text(a.after, units.get(a.feature, ""), language),
            }
            for a in actions
        ],
        columns=[text("feature", language), text("before", language), text("after", language)],
    )


_EVIDENCE_COLUMNS = (
    "similar",
    "distance",
    "outcome",
    "direction",
    "rank",
    "influential",
    "influence",
)


def evidence_table(
    frame: pd.DataFrame, labels: Mapping[str, str], language: Language = "en", single: bool = False
) -> pd.DataFrame:
    """Similar or influential clients: headers and effects in ``language``, features labelled.

    ``single``: a single model's outcome is "the outcome aimed for", not a product taken.
    """
    table = frame.copy()
    if "direction" in table:
        table["direction"] = [translated(d, language) for d in table["direction"]]
    headers = {c: text(f"col.{c}", language) for c in _EVIDENCE_COLUMNS if c in table}
    if single and "outcome" in headers:
        headers["outcome"] = text("col.outcome.single", language)
    return table.rename(columns={**labels, **headers})


def translated(value: Any, language: Language) -> Any:
    return VALUE_NAMES.get(value, {}).get(language, value) if isinstance(value, str) else value


def distance_figure(
    similar: pd.DataFrame, language: Language = "en", single: bool = False
) -> go.Figure:
    """Bars: how far each similar client is from the lever's point (nearest first)."""
    outcome = similar["outcome"].astype(bool)
    suffix = ".single" if single else ""
    figure = go.Figure(
        go.Bar(
            x=similar["similar"],
            y=similar["distance"],
            marker_color=[GREEN if o else GREY for o in outcome],
            hovertext=[
                text(("evidence.took" if o else "evidence.not_took") + suffix, language)
                for o in outcome
            ],
            hovertemplate="%{x}: %{y:.3f} (%{hovertext})<extra></extra>",
        )
    )
    figure.update_layout(
        height=260,
        margin=MARGIN,
        xaxis={"type": "category"},
        yaxis={"title": text("evidence.distance", language), "rangemode": "tozero"},
        showlegend=False,
    )
    return figure


def influence_figure(influential: pd.DataFrame, language: Language = "en") -> go.Figure:
    """Bars: each influential training client's effect on the score (green up, red down)."""
    effect = influential["influence"].astype(float)
    raised = influential["direction"] == "raised"
    signed = effect.abs().where(raised, -effect.abs())
    figure = go.Figure(
        go.Bar(
            x=influential["influential"],
            y=signed,
            marker_color=[GREEN if r else RED for r in raised],
            hovertext=[
                text("evidence.raised" if r else "evidence.lowered", language) for r in raised
            ],
            hovertemplate="%{x}: %{y:.3g} (%{hovertext})<extra></extra>",
        )
    )
    figure.update_layout(
        height=260,
        margin=MARGIN,
        xaxis={"type": "category"},
        yaxis={"title": text("evidence.influence", language), "zeroline": True},
        showlegend=False,
    )
    return figure


# ---------------------------------------------------------------- portfolio page
def client_table(
    clients: pd.DataFrame, features: Sequence[Any], id_header: str, language: Language = "en"
) -> pd.DataFrame:
    """The clients' id and the constraint file's features, headed by their labels.

    ``features`` are the constraint file's feature specs; those absent from the data are
    left out. The id (the frame's index) comes first, under ``id_header``.
    """
    shown = [spec for spec in features if spec.name in clients.columns]
    table = clients[[spec.name for spec in shown]].copy()
    labels = [feature_label(spec, language) for spec in shown]
    headers = [
        label if labels.count(label) == 1 else f"{label} ({spec.name})"
        for label, spec in zip(labels, shown, strict=True)
    ]
    table.columns = pd.Index(headers)
    table.insert(0, id_header, [str(i) for i in clients.index])
    return table.reset_index(drop=True)


def holdings_figure(summary: pd.DataFrame, language: Language = "en") -> go.Figure:
    """Bar chart: share holding each product and share that took it (the target), per product."""
    labels = summary[f"label_{language}"]
    bars = [go.Bar(name=text("portfolio.held", language), x=labels, y=summary["held"])]
    if summary["taken"].notna().any():
        bars.append(go.Bar(name=text("portfolio.taken", language), x=labels, y=summary["taken"]))
    figure = go.Figure(bars)
    figure.update_layout(
        barmode="group",
        yaxis_tickformat=".0%",
        height=360,
        margin=MARGIN,
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
