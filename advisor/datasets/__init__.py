"""Data sets: the built-in demo portfolio (a structural causal model) and real-data loaders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
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
    from advisor.datasets._rows import row_references
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
    "row_references",
    "true_propensity",
    "write_table",
]

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "INTERACTIVE_MAX_ROWS": "advisor.datasets._any",
    "read_clients": "advisor.datasets._any",
    "CAUSAL_GRAPH": "advisor.datasets._demo",
    "DemoPortfolioSCM": "advisor.datasets._demo",
    "causal_graph_dot": "advisor.datasets._demo",
    "descendants": "advisor.datasets._demo",
    "intervene": "advisor.datasets._demo",
    "make_demo_portfolio": "advisor.datasets._demo",
    "true_propensity": "advisor.datasets._demo",
    "demo_portfolio_info": "advisor.datasets._demo_info",
    "PRODUCT_LABELS": "advisor.datasets._demo_schema",
    "PRODUCTS": "advisor.datasets._demo_schema",
    "ColumnSummary": "advisor.datasets._describe",
    "TableSummary": "advisor.datasets._describe",
    "TargetSummary": "advisor.datasets._describe",
    "describe_table": "advisor.datasets._describe",
    "guess_targets": "advisor.datasets._describe",
    "read_table": "advisor.datasets._files",
    "write_table": "advisor.datasets._files",
    "ID_NAMES": "advisor.datasets._ids",
    "ID_WORDS": "advisor.datasets._ids",
    "find_id_column": "advisor.datasets._ids",
    "index_clients": "advisor.datasets._ids",
    "load_bank_marketing": "advisor.datasets._loaders",
    "load_caravan": "advisor.datasets._loaders",
    "load_german_credit": "advisor.datasets._loaders",
    "row_references": "advisor.datasets._rows",
    "ColumnInfo": "advisor.datasets._types",
    "Dataset": "advisor.datasets._types",
    "DatasetInfo": "advisor.datasets._types",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
