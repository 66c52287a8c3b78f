"""The Portfolio page's widgets: filters from the constraint file's features, and the KPIs.

Each function draws one part of the screen and returns what the user chose; the filtering
and the rates are :mod:`advisor.portfolio`'s, the value choices and slider ranges come from
the pure helpers of :mod:`app.render_campaign` (the Campaign page's segment builder uses
the same ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from advisor.portfolio import ClientFilter, holdings_summary, observed_rate
from app import components, render, service
from app import render_campaign as rc
from app.texts import Language, text
from app.widget_scales import widget_scale

MAX_TABLE_ROWS = 10_000  # clients listed in the table at most (the filters narrow them)
N_MEDIANS = 2  # numeric features whose median is a KPI
_KINDS = ("binary", "categorical", "ordinal", "integer", "continuous")


def filterable(features: Sequence[Any], clients: pd.DataFrame) -> list[Any]:
    """The constraint file's features the clients have, in the file's order."""
    return [spec for spec in features if spec.name in clients.columns and spec.kind in _KINDS]


def _choice(spec: Any, column: pd.Series, lang: Language) -> tuple[Any, ...]:
    return tuple(
        st.multiselect(
            render.feature_label(spec, lang),
            rc.choices_of(spec, column),
            format_func=lambda v: rc.choice_label(spec, v, lang),
            placeholder=text("portfolio.all", lang),
            key=f"portfolio-filter-{spec.name}",
        )
    )


def _range(spec: Any, column: pd.Series, lang: Language) -> tuple[float, float] | None:
    bounds = rc.slider_bounds(spec, column)
    if bounds is None:  # one value in the data (or none): nothing to filter
        return None
    scale = widget_scale(spec, bounds.step, bounds.high - bounds.low)
    if scale is not None:
        label = render.feature_label(spec, lang)
        return components.scaled_range(scale, bounds, label, f"portfolio-filter-{spec.name}")
    cast = int if bounds.integer else float
    low, high = cast(bounds.low), cast(bounds.high)
    unit = f" ({spec.unit})" if spec.unit else ""
    picked = st.slider(
        render.feature_label(spec, lang) + unit,
        low,
        high,
        (low, high),
        step=cast(bounds.step),
        key=f"portfolio-filter-{spec.name}",
    )
    return None if tuple(picked) == (low, high) else (picked[0], picked[1])


def client_filter(source: service.Source, lang: Language) -> ClientFilter:
    """The search on ids and one filter per feature (situation, then habits), in the sidebar.

    Categorical, ordinal and binary features get a multiselect of their values (none chosen:
    no filter); integer and continuous ones a range slider over the data's min and max (the
    full range: no filter, so clients with a missing value stay).
    """
    clients = source.clients
    rows = source.id_column is None and not source.is_demo
    st.header(text("portfolio.filter", lang))
    search = st.text_input(
        text("portfolio.search.rows" if rows else "portfolio.search", lang), key="search"
    )
    specs = filterable(source.advisor.constraints.features, clients)
    choices: dict[str, tuple[Any, ...]] = {}
    ranges: dict[str, tuple[float, float]] = {}
    groups = (
        (text("profile.who", lang), [s for s in specs if s.role != "actionable"]),
        (text("profile.levers", lang), [s for s in specs if s.role == "actionable"]),
    )
    for title, group in groups:
        if not group:
            continue
        with st.expander(f"{title} ({len(group)})", expanded=len(specs) <= 8):
            for spec in group:
                if rc.is_choice(spec):
                    choices[spec.name] = _choice(spec, clients[spec.name], lang)
                elif (picked := _range(spec, clients[spec.name], lang)) is not None:
                    ranges[spec.name] = picked
    return ClientFilter(search=search, choices=choices, ranges=ranges)


def kpis(source: service.Source, selected: pd.DataFrame, lang: Language) -> None:
    """The selection's key figures, side by side.

    Clients; a single model's observed rate of its target (a recommender: products held per
    client); the median of the constraint file's first two numeric features.
    """
    advisor = source.advisor
    figures: list[tuple[str, str, str]] = [
        (text("portfolio.clients", lang), render.number(len(selected), lang), "")
    ]
    if advisor.is_recommender:
        held = holdings_summary(selected, advisor)["held"].sum(min_count=1)
        figures.append(
            (
                text("portfolio.held_per_client", lang),
                "-" if pd.isna(held) else render.number(float(held), lang, 2),
                "",
            )
        )
    else:
        product = advisor.products[0]
        info = advisor.product(product)
        rate = observed_rate(selected, info.target, info.positive)
        figures.append(
            (
                text("portfolio.rate", lang, product=advisor.product_label(product, lang)),
                "-" if rate is None else render.percent(rate, lang),
                text("portfolio.rate.help", lang, target=info.target, positive=info.positive),
            )
        )
    numeric = [s for s in filterable(advisor.constraints.features, selected) if not rc.is_choice(s)]
    for spec in numeric[:N_MEDIANS]:
        median = pd.to_numeric(selected[spec.name], errors="coerce").median()
        figures.append(
            (
                text("portfolio.median", lang, feature=render.feature_label(spec, lang)),
                "-"
                if pd.isna(median)
                else render.feature_text(advisor.constraints, spec.name, float(median), lang),
                "",
            )
        )
    for column, (label, value, explained) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, value, help=explained or None)
