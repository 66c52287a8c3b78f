"""Data sets: the built-in demo portfolio (a structural causal model) and real-data loaders."""

from advisor.datasets._any import INTERACTIVE_MAX_ROWS, read_clients
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
from advisor.datasets._demo_schema import PRODUCT_LABELS, PRODUCTS
from advisor.datasets._describe import (
    ColumnSummary,
    TableSummary,
    TargetSummary,
    describe_table,
    guess_targets,
)
from advisor.datasets._files import read_table, write_table
from advisor.datasets._ids import ID_NAMES, ID_WORDS, find_id_column, index_clients
from advisor.datasets._loaders import load_bank_marketing, load_caravan, load_german_credit
from advisor.datasets._types import ColumnInfo, Dataset, DatasetInfo

__all__ = [
    "CAUSAL_GRAPH",
    "ID_NAMES",
    "ID_WORDS",
    "INTERACTIVE_MAX_ROWS",
    "PRODUCTS",
    "PRODUCT_LABELS",
    "ColumnInfo",
    "ColumnSummary",
    "Dataset",
    "DatasetInfo",
    "DemoPortfolioSCM",
    "TableSummary",
    "TargetSummary",
    "causal_graph_dot",
    "demo_portfolio_info",
    "descendants",
    "describe_table",
    "find_id_column",
    "guess_targets",
    "index_clients",
    "intervene",
    "load_bank_marketing",
    "load_caravan",
    "load_german_credit",
    "make_demo_portfolio",
    "read_clients",
    "read_table",
    "true_propensity",
    "write_table",
]
