"""Value domains of features and design columns, and the exact split edges of tree ensembles.

A tree split sends a value right from its *edge* on: the smallest float64 ``x`` for which the
ensemble's comparison (float32 or not, ``<`` or ``<=``) goes right. Every comparison then
reads ``x >= edge`` in float64, which the exact engine models and decodes without rounding
surprises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from counterfactuals._model import TreeEnsemble

__all__ = ["Domain", "grid_ceil", "grid_floor", "right_edges"]

FloatArray = NDArray[np.float64]


def grid_ceil(v: float, step: float) -> float:
    """Smallest ``k * step >= v`` (k integer), computed as the engine writes values."""
    k = math.ceil(v / step)
    while k * step < v:
        k += 1
    while (k - 1) * step >= v:
        k -= 1
    return float(k * step)


def grid_floor(v: float, step: float) -> float:
    """Largest ``k * step <= v`` (k integer)."""
    k = math.floor(v / step)
    while k * step > v:
        k -= 1
    while (k + 1) * step <= v:
        k += 1
    return float(k * step)


@dataclass(frozen=True, slots=True, kw_only=True)
class Domain:
    """The values something can take: isolated ``points``, plus ``[lo, hi]`` when lo <= hi.

    With ``step > 0`` the interval holds only multiples of ``step`` (``k * step``).
    """

    points: tuple[float, ...] = ()
    lo: float = math.inf
    hi: float = -math.inf
    step: float = 0.0

    def first_at_least(self, a: float) -> float:
        """Smallest value ``>= a`` (inf when there is none)."""
        best = min((p for p in self.points if p >= a), default=math.inf)
        v = max(a, self.lo)
        if self.step > 0 and math.isfinite(v):
            v = grid_ceil(v, self.step)
        if v <= self.hi:
            best = min(best, v)
        return best

    def last_below(self, b: float) -> float:
        """Largest value ``< b`` (-inf when there is none)."""
        best = max((p for p in self.points if p < b), default=-math.inf)
        u = min(float(np.nextafter(b, -math.inf)), self.hi)
        if self.step > 0 and math.isfinite(u):
            u = grid_floor(u, self.step)
        if u >= self.lo:
            best = max(best, u)
        return best

    def has_value(self, a: float, b: float) -> bool:
        """Whether some value lies in ``[a, b)``."""
        return self.first_at_least(a) < b

    @property
    def low(self) -> float:
        """Smallest value."""
        return self.first_at_least(-math.inf)

    @property
    def high(self) -> float:
        """Largest value."""
        return self.last_below(math.inf)


def right_edges(ensemble: TreeEnsemble) -> FloatArray:
    """Per node, the smallest float64 value that goes right (leaves: nan)."""
    t = np.asarray(ensemble.threshold, dtype=np.float64)
    if not ensemble.float32:
        edges = np.nextafter(t, np.inf) if ensemble.left_if_equal else t.copy()
    else:
        s = t.astype(np.float32)
        if ensemble.left_if_equal:  # right iff float32(x) > s iff float32(x) >= next(s)
            s = np.nextafter(s, np.float32(np.inf))
        prev = np.nextafter(s, np.float32(-np.inf)).astype(np.float64)
        s64 = s.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            mid = (prev + s64) / 2.0
            ok = mid.astype(np.float32) >= s
        edges = np.where(ok, mid, np.nextafter(mid, np.inf))
        edges = np.where(np.isfinite(s64), edges, s64)
    return np.asarray(np.where(ensemble.feature >= 0, edges, np.nan), dtype=np.float64)
