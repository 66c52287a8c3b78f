"""Conversions between client frames (business values) and the SCM's internal arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.datasets._demo_equations import Array
from advisor.datasets._demo_schema import CATEGORIES, COLUMNS
from advisor.errors import DatasetError

__all__ = ["client_ids", "frame_to_values", "parse_client_ids", "values_to_frame"]

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


def _to_codes(name: str, series: pd.Series) -> NDArray[np.int64]:
    categories = CATEGORIES[name]
    codes = pd.Index(categories).get_indexer(pd.Index(series.astype("object")))
    if (codes < 0).any():
        bad = series[codes < 0].iloc[0]
        raise DatasetError(f"clients.{name}: must be one of {', '.join(categories)}. Got {bad!r}.")
    return codes.astype(np.int64)


def _to_bool(name: str, series: pd.Series) -> NDArray[np.bool_]:
    if pd.api.types.is_bool_dtype(series) and not series.isna().any():
        return series.to_numpy(dtype=bool)
    numeric = pd.to_numeric(series, errors="coerce")
    ok = numeric.isin([0, 1])
    if not ok.all():
        raise DatasetError(
            f"clients.{name}: must be true/false (or 1/0). Got {series[~ok].iloc[0]!r}."
        )
    return np.asarray(numeric.to_numpy(dtype=np.int64) == 1)


def _to_number(name: str, series: pd.Series, integer: bool) -> Array:
    numeric = pd.to_numeric(series, errors="coerce")
    array = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(array)
    if integer:
        bad |= array != np.round(array)
    if bad.any():
        what = "a whole number" if integer else "a finite number"
        raise DatasetError(f"clients.{name}: must be {what}. Got {series[bad].iloc[0]!r}.")
    return array.astype(np.int64) if integer else array


def frame_to_values(clients: pd.DataFrame) -> dict[str, Array]:
    """Read every SCM column present in ``clients`` into internal arrays (validated)."""
    missing = [c for c in _REQUIRED if c not in clients.columns]
    if missing:
        raise DatasetError(
            f"clients: must hold every demo-portfolio feature. Got no {', '.join(missing)}."
        )
    values: dict[str, Array] = {}
    for name, column in COLUMNS.items():
        if name not in clients.columns or column.kind == "identifier":
            continue
        series = clients[name]
        if column.kind == "categorical":
            values[name] = _to_codes(name, series)
        elif column.kind == "binary":
            values[name] = _to_bool(name, series)
        else:
            values[name] = _to_number(name, series, integer=column.kind == "integer")
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
