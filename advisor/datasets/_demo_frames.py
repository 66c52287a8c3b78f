"""Conversions between client frames (business values) and the SCM's internal arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.datasets._demo_equations import Array
from advisor.datasets._demo_schema import CATEGORIES, COLUMNS
from advisor.errors import DatasetError

__all__ = [
    "client_ids",
    "frame_to_values",
    "parse_client_ids",
    "to_internal",
    "values_to_frame",
]

_REQUIRED = [c for c, col in COLUMNS.items() if col.role not in ("target", "identifier")]


def client_ids(index: NDArray[np.int64]) -> NDArray[np.str_]:
    """Return the identifiers ``C0000000``, ``C0000001``, ... of portfolio positions."""
    return np.array([f"C{i:07d}" for i in index.tolist()])


def parse_client_ids(clients: pd.DataFrame) -> NDArray[np.int64]:
    """Return the portfolio positions encoded in ``clients.client_id``."""
    if "client_id" not in clients.columns:
        raise DatasetError(
            "clients: must have a 'client_id' column (C0000042, ...). Got columns "
            f"{list(clients.columns)[:8]}. Hint: keep client_id when subsetting the portfolio."
        )
    ids = clients["client_id"].astype(str)
    bad = ~ids.str.fullmatch(r"C\d{7,}")
    if bad.any():
        raise DatasetError(
            "clients.client_id: must look like 'C0000042' (demo portfolio identifiers). "
            f"Got {ids[bad].iloc[0]!r}."
        )
    return np.asarray(ids.str.slice(1).astype(np.int64).to_numpy(), dtype=np.int64)


def _plain(value: object) -> object:
    """Return a numpy scalar as the Python value it holds (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _refuse(bad: NDArray[np.bool_], raw: pd.Series | NDArray[Any], message: str) -> None:
    if bad.any():
        raise DatasetError(f"{message}. Got {_plain(np.asarray(raw)[bad][0])!r}.")


def _codes(raw: pd.Series | NDArray[Any], allowed: tuple[str, ...]) -> NDArray[np.int64]:
    dtype = raw.dtype
    same = isinstance(dtype, pd.CategoricalDtype) and tuple(dtype.categories) == allowed
    if same and isinstance(raw, pd.Series):  # fast path: the portfolio's own categoricals
        return np.asarray(raw.cat.codes.to_numpy(), dtype=np.int64)
    values = pd.Index(np.asarray(raw).astype(object))
    return np.asarray(pd.Index(allowed).get_indexer(values), dtype=np.int64)


def _numbers(raw: pd.Series | NDArray[Any]) -> NDArray[np.float64]:
    values = np.asarray(raw)
    if values.dtype.kind in "biuf":  # fast path: already numeric or boolean
        return values.astype(np.float64)
    coerced = pd.to_numeric(pd.Series(values), errors="coerce")
    return coerced.to_numpy(np.float64, na_value=np.nan)


def to_internal(where: str, name: str, raw: pd.Series | NDArray[Any]) -> Array:
    """Convert business values of column ``name`` to the SCM's internal array, validated.

    Categories become codes, binaries booleans (true/false or 1/0), numbers ``int64`` or
    ``float64`` inside the column's physical domain. Errors start with ``<where>.<name>``.
    """
    column = COLUMNS[name]
    if column.kind == "categorical":
        allowed = CATEGORIES[name]
        codes = _codes(raw, allowed)
        _refuse(codes < 0, raw, f"{where}.{name}: must be one of {', '.join(allowed)}")
        return codes
    numeric = _numbers(raw)
    if column.kind == "binary":
        bad = (numeric != 0.0) & (numeric != 1.0)
        _refuse(bad, raw, f"{where}.{name}: must be true or false (or 1/0)")
        return np.asarray(numeric == 1.0)
    integer = column.kind == "integer"
    ok = np.isfinite(numeric) & (numeric >= column.low) & (numeric <= column.high)
    if integer:
        ok &= numeric == np.round(numeric)
    what = "a whole number" if integer else "a number"
    domain = f"[{column.low:g}, {column.high:g}]"
    _refuse(~ok, raw, f"{where}.{name}: must be {what} in {domain}")
    return numeric.astype(np.int64) if integer else numeric


def frame_to_values(clients: pd.DataFrame) -> dict[str, Array]:
    """Read every SCM column present in ``clients`` into internal arrays (validated)."""
    missing = [c for c in _REQUIRED if c not in clients.columns]
    if missing:
        raise DatasetError(
            f"clients: must hold every demo-portfolio feature. Got no {', '.join(missing)}."
        )
    values: dict[str, Array] = {}
    for name, column in COLUMNS.items():
        if name in clients.columns and column.kind != "identifier":
            values[name] = to_internal("clients", name, clients[name])
    return values


def values_to_frame(
    values: dict[str, Array], ids: NDArray[np.str_] | NDArray[np.object_], columns: list[str]
) -> pd.DataFrame:
    """Build a client frame (business dtypes) from internal arrays, in ``columns`` order."""
    data: dict[str, object] = {}
    for name in columns:
        kind = COLUMNS[name].kind
        if kind == "identifier":
            data[name] = ids
        elif kind == "categorical":
            codes = np.asarray(values[name], dtype=np.int64)
            data[name] = pd.Categorical.from_codes(codes, categories=pd.Index(CATEGORIES[name]))
        elif kind == "binary":
            data[name] = np.asarray(values[name], dtype=bool)
        elif kind == "integer":
            data[name] = np.asarray(values[name], dtype=np.int64)
        else:
            data[name] = np.asarray(values[name], dtype=np.float64)
    return pd.DataFrame(data)
