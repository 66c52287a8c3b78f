"""Reading and writing client tables (CSV with a detected separator, or Parquet)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from advisor.errors import DatasetError, DatasetFileNotFoundError

__all__ = ["read_table", "write_table"]

_SUFFIXES = (".csv", ".parquet")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise DatasetError(
            f"{path}: must end in .csv or .parquet. Got {suffix or 'no suffix'!r}. "
            "Hint: name the file e.g. clients.parquet."
        )
    return suffix


def _sniff_separator(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        sample = handle.read(64_000)
    if not sample.strip():
        raise DatasetError(f"{path}: must hold a header line and rows. Got an empty file.")
    try:
        return csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    r"""Read a client table from CSV (separator detected among , ; tab |) or Parquet.

    Parameters
    ----------
    path
        A ``.csv`` or ``.parquet`` file.

    Returns
    -------
    pandas.DataFrame
        The table as stored.

    Raises
    ------
    DatasetFileNotFoundError
        The file does not exist.
    DatasetError
        The suffix is not supported or the file cannot be parsed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text("a;b\n1;2\n")
    >>> read_table(folder / "t.csv").columns.tolist()
    ['a', 'b']
    """
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise DatasetFileNotFoundError(f"{path}: must be an existing file. Got no such file.")
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep=_sniff_separator(path))
    except (ValueError, OSError) as exc:
        raise DatasetError(f"{path}: must be a readable {suffix[1:]} table. Got {exc}.") from exc


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to ``path`` as CSV or Parquet (by suffix); create parent folders.

    Parameters
    ----------
    frame
        The table to write (its index is not written).
    path
        Target ``.csv`` or ``.parquet`` file.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    suffix = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path
