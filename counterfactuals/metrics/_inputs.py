"""Input checks and the one distance embedding shared by the metrics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from constraints import ConstraintSet, Whole, check_params
from counterfactuals.errors import CounterfactualError

__all__ = [
    "BoolArray",
    "FloatArray",
    "IntArray",
    "as_codes",
    "as_constraints",
    "as_pairs",
    "embed",
    "mean_or_nan",
    "whole",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

_HINT = "Hint: convert business frames with ConstraintSet.to_array(frame)."


# ----------------------------------------------------------------------------- validation
def as_codes(where: str, value: Any, d: int | None, keeps: BoolArray | None = None) -> FloatArray:
    """Return ``value`` as a finite 2-D float array (a 1-D row becomes one row).

    ``keeps`` marks the columns where a missing value (NaN) is allowed (``missing: keep``).
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CounterfactualError(
            f"{where}: must be a numeric array of codes. Got {type(value).__name__}. {_HINT}"
        ) from exc
    if array.ndim == 1:  # one row; an empty list is no row
        array = array[None, :] if array.size else array.reshape(0, d or 0)
    columns = "" if d is None else f" with {d} columns (one per feature)"
    if array.ndim != 2 or (d is not None and array.shape[1] != d):
        raise CounterfactualError(
            f"{where}: must be a 2-D array of codes{columns}. Got shape {np.shape(value)}."
        )
    bad = ~np.isfinite(array)
    if keeps is not None and bad.any():
        bad &= ~(np.isnan(array) & keeps)
    if bad.any():
        raise CounterfactualError(f"{where}: values must be finite. Got NaN or infinity.")
    return array


def as_pairs(
    where: str, clients: Any, counterfactuals: Any, d: int | None, keeps: BoolArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Return (clients, counterfactuals) with one client row per counterfactual row."""
    c = as_codes(f"{where}.clients", clients, d, keeps)
    x = as_codes(f"{where}.counterfactuals", counterfactuals, c.shape[1], keeps)
    if len(c) not in (1, len(x)):
        raise CounterfactualError(
            f"{where}.clients: must be one row or one row per counterfactual ({len(x)}). "
            f"Got {len(c)} rows."
        )
    return np.broadcast_to(c, x.shape), x


def as_constraints(where: str, value: Any) -> ConstraintSet:
    if not isinstance(value, ConstraintSet):
        raise CounterfactualError(
            f"{where}.constraints: must be a ConstraintSet (see constraints.load_constraints). "
            f"Got {type(value).__name__}."
        )
    return value


def embed(where: str, constraints: ConstraintSet, codes: FloatArray) -> FloatArray:
    """Return rows whose L1 distances are this module's distance (categories one-hot x 0.5)."""
    parts: list[FloatArray] = []
    scales = constraints.scales
    for j, spec in enumerate(constraints.features):
        column = codes[:, j]
        if spec.kind != "categorical":
            parts.append((column / scales[j])[:, None])
            continue
        k = len(spec.categories)
        bad = (column != np.rint(column)) | (column < 0) | (column > k - 1)
        if bad.any():
            raise CounterfactualError(
                f"{where}: codes of {spec.name!r} must be whole numbers in 0..{k - 1}. "
                f"Got {float(column[bad][0])!r}."
            )
        parts.append(0.5 * np.eye(k)[column.astype(np.intp)])
    return np.hstack(parts)


def mean_or_nan(values: FloatArray) -> float:
    """Return the mean, NaN for no value."""
    return float(values.mean()) if values.size else math.nan


def whole(where: str, value: Any, low: int) -> int:
    """Return ``value`` checked as a whole number >= ``low`` (the package's one validator)."""
    checked: int = check_params({where: value}, {where: Whole(low)}, error=CounterfactualError)[
        where
    ]
    return checked
