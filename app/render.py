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


_NUMBER_KINDS = ("integer", "continuous")


def feature_text(constraints: Any, name: str, value: Any, language: Language = "en") -> str:
    """A client's value of feature ``name`` as every text of the app says it.

    Numbers go through the constraint set's ``format_value`` (the file's ``format``:
    ``40.6 %`` for a percent ratio 0.4064, ``2,450.50 €`` for a currency); the unit follows
    the language (``ans``). Categories, yes/no and missing values read as :func:`value_text`.
    """
    spec = constraints.feature(name)
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if spec.kind not in _NUMBER_KINDS or isinstance(value, bool):
        return value_text(value, spec.unit, language)
    if not isinstance(value, int | float) or math.isnan(value):
        return value_text(value, spec.unit, language)  # missing, or not a number
    shown = str(constraints.format_value(name, float(value), language))
    unit = UNIT_NAMES.get(spec.unit, {}).get(language, spec.unit)
    if spec.unit and unit != spec.unit and shown.endswith(f" {spec.unit}"):
        shown = f"{shown[: -len(spec.unit)]}{unit}"
    return shown


def feature_texts(
    constraints: Any, name: str, values: pd.Series, language: Language = "en"
) -> list[str]:
    """:func:`feature_text` of every value of a column (each distinct value formatted once)."""
    said: dict[Any, str] = {}
    shown = []
    for value in values.tolist():
        key = ("nan",) if value is None or value is pd.NA or value != value else value
        if key not in said:
            said[key] = feature_text(constraints, name, value, language)
        shown.append(said[key])
    return shown


# ---------------------------------------------------------------- client page
def profile_tables(
    client: pd.Series,
    features: Sequence[Any],
    language: Language = "en",
    constraints: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The client's profile: (situation, habits and products), each ``feature``/``value``.

    ``features`` are the constraint file's feature specs (``name``, ``role``, ``label``,
    ``unit``); actionable ones go to the second table. Given the constraint set, values
    read as :func:`feature_text` says them (the file's ``format``).
    """
    rows: dict[bool, list[dict[str, str]]] = {False: [], True: []}
    for spec in features:
        if spec.name not in client.index:
            continue
        value = client[spec.name]
        rows[spec.role == "actionable"].append(
            {
                text("feature", language): feature_label(spec, language),
                text("value", language): value_text(value, spec.unit, language)
                if constraints is None
                else feature_text(constraints, spec.name, value, language),
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
    actions: Sequence[Any],
    language: Language = "en",
    units: Mapping[str, str] | None = None,
    constraints: Any = None,
) -> pd.DataFrame:
    """Before -> after per changed feature (labels in ``language``).

    Given the constraint set, values read as :func:`feature_text` says them.
    """
    units = units or {}

    def said(feature: str, value: Any) -> str:
        if constraints is None or feature not in constraints.feature_names:
            return value_text(value, units.get(feature, ""), language)
        return feature_text(constraints, feature, value, language)

    return pd.DataFrame(
        [
            {
                text("feature", language): a.label[language],
                text("before", language): said(a.feature, a.before),
                text("after", language): said(a.feature, a.after),
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
    frame: pd.DataFrame,
    labels: Mapping[str, str],
    language: Language = "en",
    single: bool = False,
    constraints: Any = None,
) -> pd.DataFrame:
    """Similar or influential clients: headers and effects in ``language``, features labelled.

    ``single``: a single model's outcome is "the outcome aimed for", not a product taken.
    Given the constraint set, the features' values read as :func:`feature_text` says them.
    """
    table = frame.copy()
    if constraints is not None:
        for name in constraints.feature_names:
            if name in table:
                table[name] = feature_texts(constraints, name, table[name], language)
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
    clients: pd.DataFrame,
    features: Sequence[Any],
    id_header: str,
    language: Language = "en",
    constraints: Any = None,
) -> pd.DataFrame:
    """The clients' id and the constraint file's features, headed by their labels.

    ``features`` are the constraint file's feature specs; those absent from the data are
    left out. The id (the frame's index) comes first, under ``id_header``. Given the
    constraint set, numbers of a feature with a ``format`` read as :func:`feature_text` says
    them (text); the others stay numbers (sortable).
    """
    shown = [spec for spec in features if spec.name in clients.columns]
    table = clients[[spec.name for spec in shown]].copy()
    for spec in shown if constraints is not None else ():
        if spec.kind in _NUMBER_KINDS and getattr(spec, "format", "auto") != "auto":
            table[spec.name] = feature_texts(constraints, spec.name, table[spec.name], language)
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
