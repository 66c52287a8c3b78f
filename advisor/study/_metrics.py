"""The study's measures, as pure numpy functions of weight vectors and model outputs.

Every function takes arrays in one fixed feature order (the constraint file's) and returns
numbers; nothing here knows a method, a model or a data set, so each is tested against a
hand-computed oracle (tests/advisor/test_study_metrics.py).

Conventions:

- a weight vector holds one signed weight per feature (0 for a feature a method did not
  weigh); ``top_features`` ranks by absolute weight, largest first, ties by feature order;
- deletion and insertion curves follow the *signed* weights, largest first (the features
  that push the output up the most): deleting them should make the output fall fast (a low
  deletion area), inserting them into the reference client should make it rise fast (a high
  insertion area);
- areas are trapezoids over k = 0..d divided by d (the mean height of the curve over
  x = k/d in [0, 1]), in the output's own units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from advisor.errors import AdvisorError

__all__ = [
    "EPSILON",
    "curve_area",
    "deletion_curve",
    "insertion_curve",
    "jaccard",
    "mean_pairwise",
    "perturb_codes",
    "perturbation_steps",
    "precision_at_k",
    "reference_codes",
    "share_in_top",
    "spearman",
    "top_features",
]

FloatArray = NDArray[np.float64]
Predict = Callable[[FloatArray], FloatArray]

EPSILON = 0.01
"""The client perturbation of the stability test: each number feature moves by ``EPSILON``
times its standard deviation in the reference data, up or down (seeded); a whole-number
feature's move is rounded to a whole number (a move rounding to 0 leaves it alone); then each
is clipped to the feature's bounds."""


def _vector(name: str, values: object) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise AdvisorError(f"{name}: must be a non-empty 1-d array. Got shape {array.shape}.")
    return array


def _same_length(a: FloatArray, b: FloatArray, names: str) -> None:
    if a.shape != b.shape:
        raise AdvisorError(f"{names}: must have the same length. Got {a.size} and {b.size}.")


def reference_codes(codes: FloatArray, kinds: Sequence[str]) -> FloatArray:
    """Return the reference client: the median of each number, the mode of each category.

    ``codes`` is (n, d) in the constraint file's codes (NaN = missing, ignored); ``kinds``
    the features' kinds. Integers' medians are rounded down to a whole number (so the
    reference is a value the feature can take); ties of a mode go to the smallest code.
    """
    table = np.asarray(codes, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] != len(kinds):
        raise AdvisorError(
            f"codes: must be (n, {len(kinds)}) with n >= 1. Got shape {table.shape}."
        )
    reference = np.empty(table.shape[1])
    for j, kind in enumerate(kinds):
        column = table[:, j][~np.isnan(table[:, j])]
        if column.size == 0:
            reference[j] = np.nan
        elif kind in ("categorical", "binary"):
            values, counts = np.unique(column, return_counts=True)
            reference[j] = values[int(np.argmax(counts))]
        else:
            middle = float(np.median(column))
            reference[j] = np.floor(middle) if kind in ("integer", "ordinal") else middle
    return reference


def top_features(weights: object, k: int) -> NDArray[np.int64]:
    """Return the positions of the ``k`` largest absolute weights, largest first."""
    vector = _vector("weights", weights)
    order = np.argsort(-np.abs(vector), kind="stable")
    return order[: min(k, vector.size)].astype(np.int64)


def _curve(predict: Predict, start: FloatArray, end: FloatArray, weights: FloatArray) -> FloatArray:
    """Return the outputs of ``start`` with its top-k features (signed order) from ``end``."""
    order = np.argsort(-weights, kind="stable")
    rows = np.repeat(start[None, :], start.size + 1, axis=0)
    for k in range(1, start.size + 1):
        chosen = order[:k]
        rows[k, chosen] = end[chosen]
    outputs = np.asarray(predict(rows), dtype=np.float64).reshape(-1)
    if outputs.size != rows.shape[0]:
        raise AdvisorError(
            f"predict: must return one output per row ({rows.shape[0]}). Got {outputs.size}."
        )
    return outputs


def deletion_curve(
    predict: Predict, client: object, reference: object, weights: object
) -> FloatArray:
    """Return the outputs for k = 0..d after replacing the client's top-k features.

    Features are taken in decreasing signed weight; each replaced feature gets the
    reference client's value. ``predict`` maps (m, d) codes to (m,) outputs.
    """
    x, r, w = (
        _vector(n, v)
        for n, v in (("client", client), ("reference", reference), ("weights", weights))
    )
    _same_length(x, r, "client, reference")
    _same_length(x, w, "client, weights")
    return _curve(predict, x, r, w)


def insertion_curve(
    predict: Predict, client: object, reference: object, weights: object
) -> FloatArray:
    """Return the outputs for k = 0..d after inserting the client's top-k features.

    Starts from the reference client (k = 0) and ends at the client (k = d).
    """
    x, r, w = (
        _vector(n, v)
        for n, v in (("client", client), ("reference", reference), ("weights", weights))
    )
    _same_length(x, r, "client, reference")
    _same_length(x, w, "client, weights")
    return _curve(predict, r, x, w)


def curve_area(outputs: object) -> float:
    """Return the trapezoid area under a curve over k = 0..d, divided by d."""
    y = _vector("outputs", outputs)
    if y.size < 2:
        raise AdvisorError(f"outputs: must hold d + 1 >= 2 values. Got {y.size}.")
    return float(np.sum((y[1:] + y[:-1]) / 2.0) / (y.size - 1))


def jaccard(a: object, b: object) -> float:
    """Return |a & b| / |a | b| of two sets of features (1.0 for two empty sets)."""
    left = {int(i) for i in np.asarray(a).reshape(-1)}
    right = {int(i) for i in np.asarray(b).reshape(-1)}
    union = left | right
    return 1.0 if not union else len(left & right) / len(union)


def precision_at_k(weights: object, truth: object, k: int = 3) -> float:
    """Return the share of the truth's top-``k`` (absolute) found in the weights' top-``k``."""
    w, t = _vector("weights", weights), _vector("truth", truth)
    _same_length(w, t, "weights, truth")
    found = set(top_features(w, k).tolist()) & set(top_features(t, k).tolist())
    return len(found) / min(k, w.size)


def _ranks(values: FloatArray) -> FloatArray:
    """Ranks from 1, ties given their average rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.size)
    ranks[order] = np.arange(1, values.size + 1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return np.asarray((np.bincount(inverse, weights=ranks) / counts)[inverse], dtype=np.float64)


def spearman(a: object, b: object) -> float:
    """Return Spearman's rank correlation (average ranks for ties); NaN if one is constant."""
    x, y = _vector("a", a), _vector("b", b)
    _same_length(x, y, "a, b")
    rx, ry = _ranks(x) - (x.size + 1) / 2.0, _ranks(y) - (y.size + 1) / 2.0
    scale = float(np.sqrt(np.sum(rx * rx) * np.sum(ry * ry)))
    if scale == 0.0:
        return float("nan")
    return float(np.clip(np.sum(rx * ry) / scale, -1.0, 1.0))


def mean_pairwise(items: Sequence[object], measure: Callable[[object, object], float]) -> float:
    """Return the mean of ``measure`` over every pair of ``items`` (NaN pairs left out)."""
    values = [measure(a, b) for a, b in combinations(items, 2)]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def share_in_top(features: Sequence[int], weights: object, k: int = 5) -> float:
    """Return the share of ``features`` found among the weights' top-``k`` (absolute)."""
    chosen = {int(i) for i in features}
    if not chosen:
        raise AdvisorError("features: must name at least one feature. Got none.")
    top = set(top_features(weights, k).tolist())
    return len(chosen & top) / len(chosen)


def perturbation_steps(scale: object, epsilon: float = EPSILON, whole: object = None) -> FloatArray:
    """Return each feature's move: ``epsilon * scale``, rounded for ``whole`` features."""
    s = _vector("scale", scale)
    steps = np.where(s > 0, epsilon * s, 0.0)
    if whole is not None:
        mask = np.asarray(whole, dtype=bool)
        if mask.shape != s.shape:
            raise AdvisorError(f"whole: must mark each of the {s.size} features. Got {mask.size}.")
        steps = np.where(mask, np.round(steps), steps)
    return np.asarray(steps, dtype=np.float64)


def perturb_codes(
    codes: object,
    scale: object,
    bounds: tuple[object, object],
    rng: np.random.Generator,
    epsilon: float = EPSILON,
    whole: object = None,
) -> FloatArray:
    """Move each feature with a positive ``scale`` by ``epsilon * scale``, up or down.

    ``scale`` is 0 for the features to keep (categories); ``whole`` marks the whole-number
    features, whose move (:func:`perturbation_steps`) is rounded; the signs are drawn from
    ``rng``; the result is clipped to ``bounds`` (lower, upper arrays; infinite = none).
    """
    x, s = _vector("codes", codes), _vector("scale", scale)
    _same_length(x, s, "codes, scale")
    lower, upper = (np.broadcast_to(np.asarray(v, dtype=np.float64), x.shape) for v in bounds)
    signs = rng.choice(np.array([-1.0, 1.0]), size=x.size)
    moved = x + signs * perturbation_steps(s, epsilon, whole)
    moved = np.clip(moved, lower, upper)
    return np.where(np.isnan(x), x, moved)
