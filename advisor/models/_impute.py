"""Missing design values for the families that need every value (logistic, MLP).

A feature the constraint file declares ``missing: keep`` is NaN in the codes and in each of
its design columns (:meth:`counterfactuals.FeatureSpace.to_design`). XGBoost reads NaN
natively (each split learns a default direction). The logistic regression and the torch MLP
replace it inside the model with a value fitted on the training rows: the median of a number,
the most frequent category of a categorical, binary or ordinal feature (a categorical's
indicator columns take that category's one-hot row; a missing value is no level of its own).
The values are saved with the model as ``imputation.json`` (plain numbers, no pickle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from advisor.errors import BundleError, ModelError
from constraints import ConstraintSet
from counterfactuals import FeatureSpace

__all__ = ["IMPUTATION_FILE", "DesignImputer", "fit_imputer", "recorded_imputation"]

FloatArray = NDArray[np.float64]
IMPUTATION_FILE = "imputation.json"


@dataclass(frozen=True, slots=True)
class DesignImputer:
    """Per design column, the finite value a missing (NaN) entry takes."""

    fill: FloatArray

    def __post_init__(self) -> None:
        fill = np.asarray(self.fill, dtype=np.float64)
        if fill.ndim != 1 or not np.isfinite(fill).all():
            raise ModelError(
                "imputation: must hold one finite value per design column. Got "
                f"{fill.shape} values{' with NaN or infinity' if fill.ndim == 1 else ''}."
            )
        fill.flags.writeable = False
        object.__setattr__(self, "fill", fill)

    def transform(self, design: FloatArray) -> FloatArray:
        """Return ``design`` with each missing value replaced by its column's value."""
        design = np.asarray(design, dtype=np.float64)
        missing = np.isnan(design)
        if not missing.any():
            return design
        if design.shape[1] != len(self.fill):
            raise ModelError(
                f"design: must have {len(self.fill)} columns (the imputation's). Got "
                f"{design.shape[1]}."
            )
        filled: FloatArray = np.where(missing, self.fill, design)
        return filled

    def to_json(self) -> str:
        """Return the values as JSON (``{"fill": [...]}``)."""
        return json.dumps({"fill": [float(v) for v in self.fill]})

    @classmethod
    def from_json(cls, data: bytes, where: Path) -> DesignImputer:
        """Read :meth:`to_json`'s output, with an error naming the file."""
        try:
            payload = json.loads(data.decode("utf-8"))
            values = payload["fill"] if isinstance(payload, dict) else None
            if not isinstance(values, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
            ):
                raise TypeError("fill must be a list of numbers")
            return cls(np.asarray(values, dtype=np.float64))
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, ModelError) as exc:
            raise BundleError(
                f"{where}: must be a JSON object with a 'fill' list of finite numbers. Got an "
                f"unreadable file ({str(exc).splitlines()[0][:120]})."
            ) from exc


def _mode(values: FloatArray) -> float:
    found, counts = np.unique(values, return_counts=True)
    return float(found[int(np.argmax(counts))]) if len(found) else 0.0


def fit_imputer(design: FloatArray, space: FeatureSpace | None) -> DesignImputer:
    """Fit the values a missing design entry takes, on training rows.

    Numbers take the median of their known values; categorical, binary and ordinal features
    the most frequent known category (ties: the first in the file's order). A column with no
    known value takes 0. Without a feature space every column takes its median.
    """
    design = np.asarray(design, dtype=np.float64)
    known = ~np.isnan(design)
    fill = np.zeros(design.shape[1])
    for col in np.flatnonzero(known.any(axis=0)):
        fill[col] = float(np.median(design[known[:, col], col]))
    if space is None:
        return DesignImputer(fill)
    for name, kind in zip(space.names, space.kinds, strict=True):
        cols = space.design_columns(name)
        block = design[:, cols]
        rows = ~np.isnan(block).any(axis=1)
        if kind == "categorical" and rows.any():
            fill[cols] = 0.0
            fill[cols.start + int(np.argmax(block[rows].sum(axis=0)))] = 1.0
        elif kind in ("binary", "ordinal"):
            fill[cols.start] = _mode(block[rows, 0])
    return DesignImputer(fill)


def recorded_imputation(constraints: ConstraintSet, space: FeatureSpace) -> ConstraintSet:
    """Return ``constraints`` imputing the values the model recorded at training.

    A constraint file re-bound to other data (an advisor's client file) would impute that
    data's median; the model's feature space holds the training data's, which scoring uses.
    """
    recorded = {
        name: value
        for name, policy, value in zip(space.names, space.missing, space.imputed, strict=True)
        if policy == "impute" and not np.isnan(value)
    }
    features = tuple(
        replace(spec, imputed=recorded[spec.name])
        if spec.missing == "impute" and spec.name in recorded
        else spec
        for spec in constraints.features
    )
    if features == constraints.features:
        return constraints
    return replace(constraints, features=features)
