"""One definition of "this value changed" (and of "this value is on that bound")."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RELATIVE_TOLERANCE", "changed", "difference", "tolerance"]

RELATIVE_TOLERANCE = 1e-9
"""Values closer than ``RELATIVE_TOLERANCE * (1 + |reference|)`` count as equal."""


def tolerance(reference: Any) -> Any:
    """Return how far a value may sit from ``reference`` and still count as equal to it.

    ``1e-9 * (1 + |reference|)``: relative for large values, absolute near zero. Works on
    scalars and arrays alike (the result has ``reference``'s shape).

    Examples
    --------
    >>> from constraints import tolerance
    >>> float(tolerance(0.0)), round(float(tolerance(1e6)), 12)
    (1e-09, 0.001000001)
    """
    return RELATIVE_TOLERANCE * (1.0 + np.abs(reference))


def changed(before: Any, after: Any) -> NDArray[np.bool_]:
    """Return where ``after`` differs from ``before`` beyond :func:`tolerance` of ``before``.

    This is what every rule, engine and metric means by "the feature changed": a client
    (``before``, one row or one per candidate) against candidates (``after``), broadcast.
    A missing value (NaN) on both sides is unchanged; a value that appears or disappears
    changed.

    Examples
    --------
    >>> import numpy as np
    >>> from constraints import changed
    >>> changed(np.array([100.0, 0.0]), np.array([[100.0 + 1e-8, 0.5]])).tolist()
    [[False, True]]
    """
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    moved: NDArray[np.bool_] = np.abs(after - before) > tolerance(before)
    if np.isnan(before).any() or np.isnan(after).any():
        moved = moved | (np.isnan(before) != np.isnan(after))
    return moved


def difference(before: Any, after: Any) -> NDArray[np.float64]:
    """Return ``after - before`` where a missing value on both sides counts as no change.

    A value that becomes missing, or a missing value that gets one, gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from constraints import difference
    >>> difference(np.array([1.0, np.nan, np.nan]), np.array([3.0, np.nan, 2.0])).tolist()
    [2.0, 0.0, nan]
    """
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    delta: NDArray[np.float64] = after - before
    if np.isnan(delta).any():
        delta = np.where(np.isnan(before) & np.isnan(after), 0.0, delta)
    return delta
