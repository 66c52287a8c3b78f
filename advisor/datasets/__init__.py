"""Data sets: the built-in demo portfolio (a structural causal model) and real-data loaders."""

from advisor.datasets._demo import (
    CAUSAL_GRAPH,
    DemoPortfolioSCM,
    causal_graph_dot,
    descendants,
    intervene,
    make_demo_portfolio,
    true_propensity,
)
from advisor.datasets._demo_info import demo_portfolio_info
from advisor.datasets._demo_schema import PRODUCTS
from advisor.datasets._types import ColumnInfo, Dataset, DatasetInfo

__all__ = [
    "CAUSAL_GRAPH",
    "PRODUCTS",
    "ColumnInfo",
    "Dataset",
    "DatasetInfo",
    "DemoPortfolioSCM",
    "causal_graph_dot",
    "demo_portfolio_info",
    "descendants",
    "intervene",
    "make_demo_portfolio",
    "true_propensity",
]
