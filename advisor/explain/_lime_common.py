"""What LIME and Levers LIME share: parameters, reference codes, the domain check, fidelity.

Parameters are declared as data (:func:`constraints.check_params`); a name the method does
not know is refused with the list of those it does. A client is explained only inside the
reference data's domain: a numeric value further than one data range (max - min) beyond the
reference data's minimum or maximum is refused, as no perturbation of the data can say
anything about it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from advisor.errors import AdvisorError
from advisor.explain._client import SEED_RULE, checked_params, reference_codes
from advisor.explain._types import Fidelity
from constraints import ConstraintSet

__all__ = [
    "HELDOUT_POOR",
    "R2_POOR",
    "SEED_RULE",
    "checked_params",
    "domain_check",
    "fidelity_of",
    "jaccard",
    "lime_kernel",
    "reference_codes",
]

FloatArray = NDArray[np.float64]
R2_POOR = 0.5
"""A surrogate whose weighted R^2 on its perturbations is below this is poor."""
HELDOUT_POOR = 0.5
"""A surrogate whose held-out mean absolute error exceeds this share of the held-out scores'
(kernel-weighted) standard deviation is poor: it predicts the score little better than
their mean would (the mean's own error is about 0.8 standard deviations)."""


def domain_check(constraints: ConstraintSet, codes: FloatArray, reference: FloatArray) -> None:
    """Refuse a client whose numeric value lies far outside the reference data's range.

    Allowed: ``[min - span, max + span]`` with ``span = max - min`` of the reference data
    (``max(1, |value|)`` for a constant column). Categories are checked by the encoding.
    """
    coded = constraints.compiled.coded
    for j, name in enumerate(constraints.feature_names):
        value = codes[j]
        column = reference[:, j]
        if coded[j] or np.isnan(value) or np.isnan(column).all():
            continue
        lo, hi = float(np.nanmin(column)), float(np.nanmax(column))
        span = hi - lo if hi > lo else max(1.0, abs(lo))
        if not lo - span <= value <= hi + span:
            raise AdvisorError(
                f"client.{name}: must lie within the reference data's domain "
                f"[{lo - span:g}, {hi + span:g}] (its range {lo:g}..{hi:g} widened by its width). "
                f"Got {value:g}. Hint: check the value's unit, or explain against reference "
                "data that holds such clients."
            )


def lime_kernel(distances: FloatArray, width: float) -> FloatArray:
    """Return LIME's exponential kernel ``sqrt(exp(-d^2 / width^2))`` of the distances."""
    kernel: FloatArray = np.sqrt(np.exp(-(distances**2) / width**2))
    return kernel


def weighted_r2(y: FloatArray, predicted: FloatArray, weights: FloatArray) -> float:
    """Return the weighted R^2 of ``predicted`` against ``y`` (1 when ``y`` is constant)."""
    mean = float(np.average(y, weights=weights))
    total = float(np.sum(weights * (y - mean) ** 2))
    residual = float(np.sum(weights * (y - predicted) ** 2))
    if total <= 1e-300:
        return 1.0 if residual <= 1e-300 else 0.0
    return 1.0 - residual / total


def fidelity_of(
    r2: float, scores: FloatArray, predicted: FloatArray, weights: FloatArray
) -> Fidelity:
    """Return the fidelity: ``r2``, the kernel-weighted held-out mean absolute error, poor.

    ``scores`` are the model's scores of the held-out perturbations and ``predicted`` the
    surrogate's; ``weights`` their kernel weights.
    """
    if not len(scores) or float(np.sum(weights)) <= 0:
        error, spread = 0.0, 0.0
    else:
        error = float(np.average(np.abs(scores - predicted), weights=weights))
        mean = float(np.average(scores, weights=weights))
        spread = float(np.sqrt(np.average((scores - mean) ** 2, weights=weights)))
    r2 = float(r2) if np.isfinite(r2) else 0.0
    poor = r2 < R2_POOR or error > HELDOUT_POOR * spread + 1e-12
    return Fidelity(r2=r2, heldout_error=error, poor=bool(poor))


def jaccard(first: Sequence[str], second: Sequence[str]) -> float:
    """Return the Jaccard similarity of two top-k feature lists (1.0 for two empty ones)."""
    a, b = set(first), set(second)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
