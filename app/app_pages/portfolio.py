"""Portfolio page: who the clients are and which products they hold."""

from __future__ import annotations

import streamlit as st

from advisor.portfolio import ClientFilter, filter_clients, holdings_summary, portfolio_overview
from app.render import client_table, holdings_figure, number, percent
from app.service import current_portfolio
from app.state import language
from app.texts import text

lang = language()
clients = current_portfolio()

st.title(text("portfolio.title", lang))
st.caption(text("demo.caption", lang))

with st.sidebar:
    st.header(text("portfolio.filter", lang))
    query = ClientFilter(
        search=st.text_input(text("portfolio.search", lang), key="search"),
        regions=tuple(
            st.multiselect(text("portfolio.region", lang), list(clients["region"].cat.categories))
        ),
        occupations=tuple(
            st.multiselect(
                text("portfolio.occupation", lang), list(clients["occupation"].cat.categories)
            )
        ),
        age_range=st.slider(text("portfolio.age", lang), 18, 90, (18, 90), key="age_range"),
    )

selected = filter_clients(clients, query)
overview = portfolio_overview(selected)
kpis = st.columns(4)
kpis[0].metric(text("portfolio.clients", lang), number(overview["clients"], lang))
kpis[1].metric(text("portfolio.products", lang), number(overview["products_per_client"], lang, 2))
kpis[2].metric(text("portfolio.income", lang), f"{number(overview['median_income'], lang, 0)} €")
kpis[3].metric(text("portfolio.salary", lang), percent(overview["salary_share"], lang, 0))

st.subheader(text("portfolio.list", lang))
st.dataframe(
    client_table(selected),
    hide_index=True,
    height=420,
    column_config={
        "monthly_income": st.column_config.NumberColumn("monthly income", format="%d €"),
        "client_id": st.column_config.TextColumn("client"),
    },
)

st.subheader(text("portfolio.chart", lang))
st.plotly_chart(holdings_figure(holdings_summary(selected), lang), width="stretch")
