"""How messages name a client table's rows: the file's line numbers and the clients' ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.datasets._ids import id_text
from advisor.errors import DatasetError

__all__ = ["FIRST_DATA_LINE", "LINES_ATTR", "row_references"]

LINES_ATTR = "lines"
"""``DataFrame.attrs`` key of a CSV table's line numbers (see :func:`row_references`)."""

FIRST_DATA_LINE = 2
"""The line of a CSV file's first row (the header is line 1) when no line is blank."""


def _file_lines(frame: pd.DataFrame) -> np.ndarray | None:
    """Each row's line in the file it was read from, or None when unknown or out of order."""
    lines = frame.attrs.get(LINES_ATTR)
    n = len(frame)
    # rows filtered, reordered or re-indexed since the reading no longer match the file
    if lines is None or not frame.index.equals(pd.RangeIndex(n)):
        return None
    if isinstance(lines, int) and not isinstance(lines, bool):
        return np.arange(lines, lines + n, dtype=np.int64)
    if isinstance(lines, tuple) and len(lines) == n:
        return np.asarray(lines, dtype=np.int64)
    return None


def row_references(frame: pd.DataFrame, id_column: str | None = None) -> pd.Index:
    """Return labels that name ``frame``'s rows in messages: file lines and client ids.

    Constraint binding errors and warnings name rows by the data's index (its labels, and
    its name as the noun); this index makes them say ``lines 6 (client 1005), 11 (client
    1010)`` rather than 0-based positions:

    - ``line``: the row's line in the CSV file :func:`read_clients` read it from (the header
      is line 1; blank lines are counted), for a table as it was read (rows neither
      filtered nor reordered);
    - ``client``: the value of ``id_column``, or the index of a table indexed by
      :func:`index_clients`;
    - both: a two-level index (line, client); neither: ``row`` numbers from 1 for a
      table with the default 0-based index, else the table's own index.

    Parameters
    ----------
    frame
        The client table.
    id_column
        The column of client ids, or None (ids of an indexed table, or none).

    Returns
    -------
    pandas.Index
        One label per row, in ``frame``'s order.

    Raises
    ------
    DatasetError
        ``frame`` is not a table, or ``id_column`` is not one of its columns.

    Examples
    --------
    >>> frame = pd.DataFrame({"ID": [1005, 1010], "age": [40, 51]})
    >>> row_references(frame, "ID").tolist(), row_references(frame, "ID").name
    (['1005', '1010'], 'client')
    >>> row_references(frame).tolist()
    [1, 2]
    """
    if not isinstance(frame, pd.DataFrame):
        raise DatasetError(f"frame: must be a pandas DataFrame. Got {type(frame).__name__}.")
    if id_column is not None and (
        not isinstance(id_column, str) or id_column not in map(str, frame.columns)
    ):
        raise DatasetError(
            f"id_column: must be a column of the clients or None. Got {id_column!r}."
        )
    ids: list[str] | None = None
    if id_column is not None:
        position = [str(c) for c in frame.columns].index(id_column)
        ids = [str(value) for value in id_text(frame.iloc[:, position])]
    elif frame.attrs.get("id_column") is not None:
        ids = [str(label) for label in frame.index]
    lines = _file_lines(frame)
    labels: pd.Index
    if lines is not None and ids is not None:
        labels = pd.MultiIndex.from_arrays([lines, ids], names=["line", "client"])
    elif lines is not None:
        labels = pd.Index(lines, dtype=np.int64, name="line")
    elif ids is not None:
        labels = pd.Index(ids, dtype=object, name="client")
    elif frame.index.equals(pd.RangeIndex(len(frame))):
        labels = pd.RangeIndex(1, len(frame) + 1, name="row")
    else:  # the caller's own labels
        labels = frame.index
    return labels
