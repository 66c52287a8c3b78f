"""Counter-based exogenous noise for the demo portfolio's structural causal model.

Each client's noise terms are a pure function of ``(seed, client index, noise stream)``,
computed with the SplitMix64 mixer. Two consequences the SCM relies on:

* sampling ``n`` clients gives the first ``n`` rows of any larger sample with the same seed;
* an intervention on any subset of clients can recompute every descendant with exactly the
  noise those clients were generated with (abduction is exact), without storing the noise.
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__ = ["ClientNoise", "choose", "poisson"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_53 = float(2**53)


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Return the SplitMix64 finaliser of ``x`` (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


class ClientNoise:
    """Exogenous noise of a set of clients, identified by their portfolio index.

    Parameters
    ----------
    seed
        The portfolio seed (non-negative integer).
    index
        Each client's position in the portfolio (``C0000042`` has index 42).
    """

    __slots__ = ("_base",)

    def __init__(self, seed: int, index: NDArray[np.int64]) -> None:
        key = _splitmix64(np.array([seed], dtype=np.uint64))
        self._base = _splitmix64(_splitmix64(index.astype(np.uint64)) ^ key)

    def __len__(self) -> int:
        return len(self._base)

    def uniform(self, stream: str) -> FloatArray:
        """Return one U(0, 1) draw per client for the named noise stream (never 0 or 1)."""
        salt = _splitmix64(np.array([zlib.crc32(stream.encode("utf-8"))], dtype=np.uint64))
        bits = _splitmix64(self._base ^ salt)
        return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) / _TWO_POW_53

    def normal(self, stream: str) -> FloatArray:
        """Return one N(0, 1) draw per client for the named noise stream."""
        return np.asarray(special.ndtri(self.uniform(stream)), dtype=np.float64)


def poisson(u: FloatArray, lam: FloatArray, cap: int) -> IntArray:
    """Invert the Poisson CDF: the smallest ``k`` with ``P(X <= k) >= u``, capped at ``cap``.

    Vectorised by accumulating the CDF term by term (``cap`` array operations), which is
    much faster than :func:`scipy.stats.poisson.ppf` for the small rates used here.
    """
    pmf = np.exp(-lam)
    cdf = pmf.copy()
    k = np.zeros(u.shape, dtype=np.int64)
    for i in range(1, cap + 1):
        k += u > cdf
        pmf = pmf * lam / i
        cdf += pmf
    return k


def choose(u: FloatArray, weights: FloatArray) -> IntArray:
    """Pick a category code per row from unnormalised ``weights`` of shape (n, k)."""
    cumulative = np.cumsum(weights, axis=1)
    threshold = u * cumulative[:, -1]
    codes = np.asarray((threshold[:, None] > cumulative).sum(axis=1), dtype=np.int64)
    return np.asarray(np.minimum(codes, weights.shape[1] - 1), dtype=np.int64)
