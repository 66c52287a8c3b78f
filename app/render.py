"""Pure rendering helpers: they turn advisor results into display tables and figures."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from advisor.datasets import PRODUCTS
from advisor.portfolio import PROFILE_COLUMNS

HOLDING_COLUMNS = [f"has_{p}" for p in PRODUCTS]


def client_table(clients: pd.DataFrame) -> pd.DataFrame:
    """Profile and holdings of each client, with readable holding headers."""
    table = clients[[*PROFILE_COLUMNS, *HOLDING_COLUMNS]].copy()
    headers = {f"has_{p}": p.replace("_", " ") for p in PRODUCTS}
    return table.rename(columns={**headers, "n_products": "products held"})


def holdings_figure(summary: pd.DataFrame) -> go.Figure:
    """Bar chart: share holding each product today vs taking it in the next 12 months."""
    figure = go.Figure(
        [
            go.Bar(name="held today", x=summary["label"], y=summary["held"]),
            go.Bar(
                name="taken in the next 12 months", x=summary["label"], y=summary["taken_next_12m"]
            ),
        ]
    )
    figure.update_layout(
        barmode="group",
        yaxis_tickformat=".0%",
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
