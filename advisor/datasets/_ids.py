"""Client ids: index a client table by its id column, a detected one, or row numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.errors import DatasetError

__all__ = ["ID_NAMES", "index_clients"]

ID_NAMES = frozenset(
    ("id", "client_id", "customer_id", "clientid", "customerid", "client", "customer")
)
"""Column names (compared case-insensitively) that name client ids; ``*_id`` and ``* id`` too."""

_SHOWN = 5


def _is_id_name(name: object) -> bool:
    text = str(name).strip().lower()
    return text in ID_NAMES or text.endswith(("_id", " id"))


def _as_text(values: pd.Series) -> pd.Series:
    """Return the ids as text, None where missing; ``12.0`` in a whole-number column is ``"12"``."""
    missing = values.isna().to_numpy(dtype=bool)
    present = values[~missing]
    if pd.api.types.is_float_dtype(values.dtype):
        whole = bool(((present % 1) == 0).all()) and bool(present.abs().lt(2**53).all())
        text = present.astype("int64").astype(str) if whole else present.astype(str)
    else:
        text = present.astype(str)
    out = pd.Series(None, index=values.index, dtype=object)
    out[~missing] = text.to_numpy(dtype=object)
    return out


def _missing(text: pd.Series) -> np.ndarray:
    """Return where (by position) an id is missing or blank."""
    missing = text.isna().to_numpy(dtype=bool, copy=True)
    blank = (text[~missing].astype(str).str.strip() == "").to_numpy(dtype=bool)
    missing[np.flatnonzero(~missing)[blank]] = True
    return missing


def _usable(text: pd.Series) -> bool:
    return not bool(_missing(text).any()) and not bool(text.duplicated().any())


def _named(frame: pd.DataFrame, id_column: str) -> pd.Series:
    matches = [name for name in frame.columns if str(name) == id_column]
    if not matches:
        names = ", ".join(repr(str(name)) for name in list(frame.columns)[:10])
        more = f" (first 10 of {frame.shape[1]})" if frame.shape[1] > 10 else ""
        msg = f"id_column: must name a column of the clients. Got {id_column!r}; the columns"
        raise DatasetError(f"{msg} are {names}{more}.")
    if len(matches) > 1:
        msg = f"id_column {id_column!r}: must name one column. Got {len(matches)} columns"
        raise DatasetError(f"{msg} of that name.")
    text = _as_text(frame[matches[0]])
    missing = _missing(text)
    if bool(missing.any()):
        rows = ", ".join(str(row) for row in (missing.nonzero()[0][:_SHOWN] + 1))
        msg = f"id_column {id_column!r}: must hold an id for every client. Got"
        raise DatasetError(f"{msg} {int(missing.sum()):,} missing or blank (rows {rows}).")
    repeated = text[text.duplicated()].drop_duplicates()
    if len(repeated):
        shown = ", ".join(repr(value) for value in repeated.iloc[:_SHOWN])
        msg = f"id_column {id_column!r}: must hold one id per client. Got {len(repeated):,}"
        raise DatasetError(
            f"{msg} repeated ids ({shown}). Hint: name a column of unique ids, or none "
            "(clients are then numbered by row)."
        )
    return text


def index_clients(frame: pd.DataFrame, id_column: str | None = None) -> pd.DataFrame:
    """Return a copy of ``frame`` indexed by client ids, as text.

    The ids come from the first rule that applies:

    1. ``id_column``: that column (it must exist and hold one unique, non-blank id per row);
    2. the first column whose name looks like an id (case-insensitive: ``id``, ``client_id``,
       ``customer_id``, ``clientid``, ``customerid``, ``client``, ``customer``, or ending in
       ``_id`` or `` id``) and whose values are unique and never missing or blank;
    3. row numbers: ``"1"`` for the first row to ``"n"``.

    The id column stays a column; whole numbers read as floats become ``"12"``, not
    ``"12.0"``. ``attrs["id_column"]`` names the column used (None for row numbers).

    Parameters
    ----------
    frame
        The client table.
    id_column
        The column of client ids, or None to detect it.

    Returns
    -------
    pandas.DataFrame
        A copy whose index (unnamed) holds the ids as text.

    Raises
    ------
    DatasetError
        ``frame`` is not a table, or the named column is missing, repeated, or holds
        missing or repeated ids (the first five are named).

    Examples
    --------
    >>> clients = pd.DataFrame({"Client_ID": [7, 3], "age": [40, 51]})
    >>> indexed = index_clients(clients)
    >>> indexed.index.tolist(), indexed.attrs["id_column"]
    (['7', '3'], 'Client_ID')
    >>> index_clients(clients[["age"]]).index.tolist()
    ['1', '2']
    """
    if not isinstance(frame, pd.DataFrame):
        raise DatasetError(f"frame: must be a pandas DataFrame. Got {type(frame).__name__}.")
    if id_column is not None and not isinstance(id_column, str):
        raise DatasetError(f"id_column: must be a column name or None. Got {id_column!r}.")
    column: str | None = None
    ids: pd.Series | None = None
    if id_column is not None:
        ids, column = _named(frame, id_column), id_column
    else:
        names = [str(name) for name in frame.columns]
        for position, name in enumerate(frame.columns):
            if _is_id_name(name) and names.count(str(name)) == 1:
                text = _as_text(frame.iloc[:, position])
                if _usable(text):
                    ids, column = text, str(name)
                    break
    values = (
        [str(value) for value in ids]
        if ids is not None
        else [str(row) for row in range(1, len(frame) + 1)]
    )
    indexed = frame.copy()
    indexed.index = pd.Index(values, dtype=object, name=None)
    indexed.attrs["id_column"] = column
    return indexed
