"""Portfolio page: who the clients are, filtered on the constraint file's features."""

from __future__ import annotations

import streamlit as st

from advisor.portfolio import filter_clients, holdings_summary
from app import components, portfolio_widgets, render, service
from app.state import language
from app.texts import text

lang = language()
source = service.source()
advisor = source.advisor

st.title(text("portfolio.title", lang))
components.source_caption(source, lang)

with st.sidebar:
    query = portfolio_widgets.client_filter(source, lang)
selected = filter_clients(source.clients, query)
portfolio_widgets.kpis(source, selected, lang)

st.subheader(text("portfolio.list", lang))
rows = source.id_column is None and not source.is_demo
shown = selected.head(portfolio_widgets.MAX_TABLE_ROWS)
st.dataframe(
    render.client_table(
        shown,
        advisor.constraints.features,
        text("portfolio.row" if rows else "portfolio.id", lang),
        lang,
        advisor.constraints,
    ),
    hide_index=True,
    height=420,
    key="portfolio-clients",
)
if len(selected) > len(shown):
    st.caption(
        text(
            "portfolio.first",
            lang,
            n=render.number(len(shown), lang),
            total=render.number(len(selected), lang),
        )
    )

if advisor.is_recommender:
    st.subheader(text("portfolio.chart", lang))
    st.plotly_chart(
        render.holdings_figure(holdings_summary(selected, advisor), lang), width="stretch"
    )
