"""Read any client table Levers knows: the demo, the real data sets, or a CSV/Parquet file."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from advisor.datasets._demo import make_demo_portfolio
from advisor.datasets._files import read_table
from advisor.datasets._loaders import load_bank_marketing, load_caravan, load_german_credit
from advisor.errors import DatasetError

__all__ = ["read_client_data"]


def read_client_data(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Return a client table from a file name, a real data set, or ``demo``.

    ``demo`` is the demo portfolio (20,000 clients, seed 0); a real data set is recognised
    by its file name (``german.data``, ``bank*.csv``, ``Caravan.csv`` or
    ``caravan_eval_coil2000.csv``, decoded by their loaders), or any CSV/Parquet file.

    Examples
    --------
    >>> read_client_data("demo").shape
    (20000, 36)
    """
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise DatasetError(f"path: must be a file path or 'demo'. Got {type(path).__name__}.")
    if str(path) == "demo":
        return make_demo_portfolio()
    file = Path(path)
    name = file.name.lower()
    if name == "german.data" or (file.is_dir() and (file / "german.data").is_file()):
        return load_german_credit(file).frame
    if name.startswith("bank") and name.endswith(".csv"):
        return load_bank_marketing(file).frame
    if name in ("caravan.csv", "caravan_eval_coil2000.csv"):
        return load_caravan(file).frame
    return read_table(file)
