"""Validation of do-operations on the demo portfolio."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.datasets._demo_equations import Array
from advisor.datasets._demo_frames import to_internal
from advisor.datasets._demo_schema import COLUMNS
from advisor.errors import DatasetError

__all__ = ["validate_changes"]

_FORBIDDEN = {
    "client_id": "identifies the client; it is not a feature",
    "sex": "is a protected attribute; the demo SCM models no intervention on it",
    "n_products": "is derived from the has_* holdings; intervene on those instead",
}


def _check_name(name: object) -> str:
    if not isinstance(name, str) or name not in COLUMNS:
        intervenable = [c for c in COLUMNS if c not in _FORBIDDEN and not c.startswith("take_")]
        raise DatasetError(
            f"changes: keys must be demo-portfolio features. Got {name!r}. "
            f"Hint: one of {', '.join(intervenable)}."
        )
    if name.startswith("take_"):
        raise DatasetError(
            f"changes.{name}: must not be a 12-month take-up label (an outcome). Got {name!r}. "
            "Hint: intervene on its causes and read the recomputed label."
        )
    if name in _FORBIDDEN:
        raise DatasetError(f"changes.{name}: {_FORBIDDEN[name]}. Got {name!r}.")
    return name


def _broadcast(name: str, value: object, n_clients: int) -> NDArray[Any]:
    array = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value)
    if array.ndim == 0:
        return np.full(n_clients, array.item(), dtype=array.dtype)
    if array.ndim != 1 or len(array) != n_clients:
        raise DatasetError(
            f"changes.{name}: must be one value, or one value per client ({n_clients}). "
            f"Got shape {array.shape}."
        )
    return array


def validate_changes(
    changes: Mapping[str, object], values: Mapping[str, Array], n_clients: int
) -> dict[str, Array]:
    """Return the changes as internal arrays, one value per client, after validation."""
    if not isinstance(changes, Mapping):
        raise DatasetError(
            f"changes: must be a mapping of feature to value. Got {type(changes).__name__}."
        )
    converted: dict[str, Array] = {}
    for name, value in changes.items():
        checked = _check_name(name)
        array = _broadcast(checked, value, n_clients)
        converted[checked] = to_internal("changes", checked, array)
    if "tenure_years" in converted:
        age = np.asarray(converted.get("age", values["age"]), dtype=np.int64)
        too_long = np.asarray(converted["tenure_years"], dtype=np.int64) > age - 18
        if too_long.any():
            i = int(np.flatnonzero(too_long)[0])
            raise DatasetError(
                "changes.tenure_years: must be at most age - 18. Got "
                f"{converted['tenure_years'][i]} for a client aged {age[i]}."
            )
    return converted
