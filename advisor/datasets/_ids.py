"""Client ids: index a client table by its id column, a detected one, or row numbers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from advisor.errors import DatasetError

__all__ = ["ID_NAMES", "ID_WORDS", "find_id_column", "id_text", "index_clients"]

ID_NAMES = frozenset(
    ("id", "client_id", "customer_id", "clientid", "customerid", "client", "customer")
)
"""Column names (compared case-insensitively) that name client ids."""
ID_WORDS = frozenset(("id", "ref"))
"""Words that make a column name id-like: ``id`` anywhere (``ID``, ``Loan_ID``, ``SK_ID_CURR``,
``CustomerId``), ``ref`` as the last word (``customer_ref``)."""

_SHOWN = 5


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _is_id_name(name: object) -> bool:
    """Return whether a column name names ids: see :data:`ID_NAMES` and :data:`ID_WORDS`."""
    text = str(name).strip()
    words = [w.lower() for w in re.split(r"[^A-Za-z0-9]+", _CAMEL.sub(" ", text)) if w]
    return text.lower() in ID_NAMES or "id" in words or (bool(words) and words[-1] == "ref")


def id_text(values: pd.Series) -> pd.Series:
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
    text = id_text(frame[matches[0]])
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


def _detected(frame: pd.DataFrame) -> tuple[str | None, pd.Series | None]:
    """Return the one id-like column of unique, present ids (and its text), or none."""
    names = [str(name) for name in frame.columns]
    found: list[tuple[str, pd.Series]] = []
    for position, name in enumerate(names):
        if _is_id_name(name) and names.count(name) == 1:
            text = id_text(frame.iloc[:, position])
            if _usable(text):
                found.append((name, text))
    if len(found) > 1:
        shown = ", ".join(repr(name) for name, _ in found)
        raise DatasetError(
            f"id_column: the clients must have at most one id-like column of unique ids, or "
            f"the id column must be named. Got {len(found)} ({shown}); which one identifies "
            f"the clients is not guessed. Hint: name it with --id-column (id_column= in "
            f"Python, or id_column: in the constraint file), e.g. {found[0][0]!r}."
        )
    return found[0] if found else (None, None)


_WHERE = {
    "recorded": "recorded in the model bundle at training",
    "declared": "named by the constraint file's id_column",
}


def _resolved(
    frame: pd.DataFrame, id_column: str | None, recorded: str | None, declared: str | None = None
) -> tuple[str | None, pd.Series | None]:
    if not isinstance(frame, pd.DataFrame):
        raise DatasetError(f"frame: must be a pandas DataFrame. Got {type(frame).__name__}.")
    given = (("id_column", id_column), ("recorded", recorded), ("declared", declared))
    for name, value in given:
        if value is not None and not isinstance(value, str):
            raise DatasetError(f"{name}: must be a column name or None. Got {value!r}.")
    if id_column is not None:
        return id_column, _named(frame, id_column)
    for name, value in given[1:]:
        if value is None:
            continue
        if not any(str(column) == value for column in frame.columns):
            raise DatasetError(
                f"id column {value!r} ({_WHERE[name]}): must be a column of the clients. Got "
                f"no such column. Hint: name this data's id column with --id-column "
                f"(id_column= in Python)."
            )
        return value, _named(frame, value)
    return _detected(frame)


def find_id_column(
    frame: pd.DataFrame,
    id_column: str | None = None,
    *,
    recorded: str | None = None,
    declared: str | None = None,
) -> str | None:
    """Return the column that identifies the clients, or None (they are numbered by row).

    The rule of :func:`index_clients`, without indexing: ``id_column`` when given, else
    ``recorded`` (the bundle's), else ``declared`` (the constraint file's), else the one
    detected id-like column.

    Parameters
    ----------
    frame
        The client table.
    id_column
        The column of client ids, or None to use ``recorded`` or detect it.
    recorded
        The id column recorded in a model bundle (``ModelCard.data.id_column``), or None.
    declared
        The id column named in the constraint file (``ConstraintSet.id_column``), or None.

    Returns
    -------
    str or None
        The id column's name, or None when the clients have no id column.

    Raises
    ------
    DatasetError
        As :func:`index_clients`.

    Examples
    --------
    >>> find_id_column(pd.DataFrame({"ID": [3, 1], "age": [40, 51]}))
    'ID'
    """
    return _resolved(frame, id_column, recorded, declared)[0]


def index_clients(
    frame: pd.DataFrame,
    id_column: str | None = None,
    *,
    recorded: str | None = None,
    declared: str | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` indexed by client ids, as text.

    The ids come from the first rule that applies; a client is never looked up by its row
    number when the data has an id column:

    1. ``id_column``: that column (it must exist and hold one unique, non-blank id per row);
    2. ``recorded``: the id column a model bundle recorded at training (same checks; a
       recorded column missing from ``frame`` is an error, never a silent fallback);
    3. ``declared``: the id column the constraint file names (``id_column:``; same checks);
    4. the id-like column: a column whose name is in :data:`ID_NAMES` or holds the word
       ``id`` (``ID``, ``Id``, ``Loan_ID``, ``CustomerId``, ``SK_ID_CURR``, ``account id``) or
       ends with the word ``ref`` (``customer_ref``), and whose values are unique and never
       missing or blank. Two or more such columns are an error naming them: which one
       identifies the clients is not guessed;
    5. row numbers: ``"1"`` for the first row to ``"n"``.

    The id column stays a column; whole numbers read as floats become ``"12"``, not
    ``"12.0"``. ``attrs["id_column"]`` names the column used (None for row numbers).

    Parameters
    ----------
    frame
        The client table.
    id_column
        The column of client ids, or None to use ``recorded`` or detect it.
    recorded
        The id column recorded in a model bundle (``ModelCard.data.id_column``), or None.
    declared
        The id column named in the constraint file (``ConstraintSet.id_column``), or None.

    Returns
    -------
    pandas.DataFrame
        A copy whose index (unnamed) holds the ids as text.

    Raises
    ------
    DatasetError
        ``frame`` is not a table; the named (or recorded) column is missing, repeated, or
        holds missing or repeated ids (the first five are named); or two id-like columns
        could identify the clients.

    Examples
    --------
    >>> clients = pd.DataFrame({"Client_ID": [7, 3], "age": [40, 51]})
    >>> indexed = index_clients(clients)
    >>> indexed.index.tolist(), indexed.attrs["id_column"]
    (['7', '3'], 'Client_ID')
    >>> index_clients(clients[["age"]]).index.tolist()
    ['1', '2']
    """
    column, ids = _resolved(frame, id_column, recorded, declared)
    values = (
        [str(value) for value in ids]
        if ids is not None
        else [str(row) for row in range(1, len(frame) + 1)]
    )
    indexed = frame.copy()
    indexed.index = pd.Index(values, dtype=object, name=None)
    indexed.attrs["id_column"] = column
    return indexed
