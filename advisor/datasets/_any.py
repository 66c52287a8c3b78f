"""Read any client source: the demo, the real data sets, a CSV/Parquet file or a SQL database."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from advisor.datasets._files import MAX_ROWS, read_table
from advisor.datasets._loaders import load_bank_marketing, load_caravan, load_german_credit
from advisor.errors import DatasetError

__all__ = ["INTERACTIVE_MAX_ROWS", "read_clients"]

INTERACTIVE_MAX_ROWS = 200_000
"""Largest client table the app and ``levers advise`` read (200,000 rows)."""

_DATABASE_SUFFIXES = {
    ".db": "sqlite",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".duckdb": "duckdb",
}


def _limit(max_rows: object) -> int:
    if max_rows is None:
        return MAX_ROWS
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        msg = f"max_rows: must be a whole number >= 1 or None. Got {max_rows!r}."
        raise DatasetError(msg)
    return max_rows


def _checked_rows(frame: pd.DataFrame, where: str, max_rows: int) -> pd.DataFrame:
    if len(frame) > max_rows:
        msg = f"{where}: must hold at most {max_rows:,} rows (max_rows). Got {len(frame):,}."
        raise DatasetError(f"{msg} Hint: sample the clients, or raise max_rows.")
    return frame


def _known_data_set(file: Path) -> pd.DataFrame | None:
    """Return a shared real data set recognised by its name, decoded by its loader; else None."""
    name = file.name.lower()
    if name == "german.data" or (file.is_dir() and (file / "german.data").is_file()):
        return load_german_credit(file).frame
    if name.startswith("bank") and name.endswith(".csv"):
        return load_bank_marketing(file).frame
    if name in ("caravan.csv", "caravan_eval_coil2000.csv"):
        return load_caravan(file).frame
    return None


def _csv_only(where: str, encoding: str | None, decimal: str | None) -> None:
    if encoding is not None or decimal is not None:
        msg = f"{where}: encoding and decimal apply to CSV files only. Got them for another source"
        raise DatasetError(f"{msg}. Hint: leave them out.")


def read_clients(
    source: str | os.PathLike[str],
    *,
    max_rows: int | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
) -> pd.DataFrame:
    """Return the client table of a source: ``demo``, a data file or a SQL database URL.

    Sources, in the order they are recognised:

    - ``demo``: the demo portfolio (20,000 clients, seed 0);
    - a SQLAlchemy URL (``scheme://...``): ``sqlite:///clients.db?table=clients``,
      ``sqlite:///clients.db?query=SELECT%20...`` (one SELECT, URL-encoded),
      ``duckdb:///clients.duckdb?table=clients``,
      ``postgresql+psycopg://user@host/db?table=clients``; database files are opened
      read-only and must exist;
    - a shared real data set recognised by its file name (``german.data``, ``bank*.csv``,
      ``Caravan.csv``, ``caravan_eval_coil2000.csv``), decoded by its loader;
    - any ``.csv`` file (separator among , ; tab |, encoding UTF-8 with or without a
      byte-order mark or Windows-1252/latin-1, both detected, or given; decimal commas
      detected when the separator is not ``,``, or given), plain or compressed
      (``.csv.gz``, ``.csv.bz2``, ``.csv.xz``, a ``.zip`` holding one ``.csv``; at most
      2 GB once unpacked), or a ``.parquet`` file (see :func:`read_table`).

    Parameters
    ----------
    source
        ``demo``, a file path or a database URL.
    max_rows
        Largest number of rows (None: 10 million). Files and databases are counted before
        the data is read whole (CSV lines, Parquet metadata, ``SELECT COUNT(*)``); the
        demo and the shared data sets (at most 45,211 rows) after.
        :data:`INTERACTIVE_MAX_ROWS` is the app's and ``levers advise``'s limit.
    encoding
        A CSV file's text encoding (``"utf-8"``, ``"cp1252"``, ``"latin-1"``, any Python
        codec that writes ASCII as single bytes); None detects it.
    decimal
        A CSV file's decimal mark (``"."`` or ``","``); None detects decimal-comma columns.

    Returns
    -------
    pandas.DataFrame
        The table as stored; missing values stay missing (NaN / None).

    Raises
    ------
    DatasetError
        Any source that cannot be read as asked; the message names the source (passwords
        hidden) and the fix.

    Examples
    --------
    >>> read_clients("demo").shape
    (20000, 36)
    >>> read_clients("demo", max_rows=100)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    advisor.errors.DatasetError: demo: must hold at most 100 rows (max_rows). Got 20,000. ...
    """
    limit = _limit(max_rows)
    if isinstance(source, bool) or not isinstance(source, (str, os.PathLike)):
        msg = "source: must be 'demo', a file path or a database URL. Got"
        raise DatasetError(f"{msg} {type(source).__name__}.")
    text = os.fspath(source)
    if not isinstance(text, str):
        raise DatasetError(f"source: must be a text path. Got {type(text).__name__}.")
    if text == "demo":
        from advisor.datasets._demo import make_demo_portfolio  # SciPy: for the demo only

        _csv_only("demo", encoding, decimal)
        return _checked_rows(make_demo_portfolio(), "demo", limit)
    if isinstance(source, str) and "://" in text:  # SQLAlchemy: imported for URLs only
        from advisor.datasets._sql import is_sql_url, read_sql_source

        if is_sql_url(text):
            _csv_only("source (a database URL)", encoding, decimal)
            return read_sql_source(text, limit)
    file = Path(text)
    known = _known_data_set(file)
    if known is not None:
        _csv_only(f"{file} (a known data set, read by its loader)", encoding, decimal)
        return _checked_rows(known, str(file), limit)
    backend = _DATABASE_SUFFIXES.get(file.suffix.lower())
    if backend is not None:
        msg = f"{file}: must be given as a database URL. Got a {backend} file name."
        hint = f"Hint: {backend}:///{file.as_posix()}?table=NAME (or ?query=SELECT...)."
        raise DatasetError(f"{msg} {hint}")
    return read_table(file, max_rows=limit, encoding=encoding, decimal=decimal)
