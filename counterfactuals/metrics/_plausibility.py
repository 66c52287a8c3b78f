"""Plausibility (distance to real clients, local outlier factor) and diversity."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from constraints import ConstraintSet, changed
from counterfactuals.errors import CounterfactualError
from counterfactuals.metrics._inputs import (
    FloatArray,
    as_codes,
    as_constraints,
    embed,
    mean_or_nan,
    whole,
)

__all__ = ["diversity", "feature_set_diversity", "lof_inlier_rate", "plausibility"]


# ----------------------------------------------------------------------------- plausibility
def _reference(
    where: str, cs: ConstraintSet, counterfactuals: Any, reference: Any
) -> tuple[FloatArray, FloatArray]:
    x = as_codes(f"{where}.counterfactuals", counterfactuals, cs.n_features)
    ref = as_codes(f"{where}.reference", reference, cs.n_features)
    return (
        embed(f"{where}.counterfactuals", cs, x),
        embed(f"{where}.reference", cs, ref),
    )


def plausibility(
    constraints: ConstraintSet, counterfactuals: Any, reference: Any, k: int = 5
) -> FloatArray:
    """Return the mean distance of each counterfactual to its ``k`` nearest reference rows.

    ``reference`` holds real clients of the target class (e.g. the training clients who
    took the product): a small value means the counterfactual looks like them.
    """
    from sklearn.neighbors import NearestNeighbors

    cs = as_constraints("plausibility", constraints)
    x, ref = _reference("plausibility", cs, counterfactuals, reference)
    k = whole("plausibility.k", k, 1)
    if k > len(ref):
        raise CounterfactualError(
            f"plausibility.reference: must hold at least k={k} rows. Got {len(ref)}."
        )
    if not len(x):
        return np.zeros(0)
    neighbours = NearestNeighbors(n_neighbors=k, metric="manhattan").fit(ref)
    distance, _ = neighbours.kneighbors(x)
    out: FloatArray = distance.mean(axis=1)
    return out


def lof_inlier_rate(
    constraints: ConstraintSet,
    counterfactuals: Any,
    reference: Any,
    n_neighbors: int = 20,
    seed: int = 0,
    max_reference: int | None = 20_000,
) -> float:
    """Return the share of counterfactuals a local outlier factor calls inliers (NaN if none).

    The detector (scikit-learn's ``LocalOutlierFactor(novelty=True)``, with this module's
    distance) is fitted on ``reference``, subsampled to ``max_reference`` rows with ``seed``
    when larger; ``n_neighbors`` is capped at the number of reference rows minus one.
    """
    from sklearn.neighbors import LocalOutlierFactor

    cs = as_constraints("lof_inlier_rate", constraints)
    x, ref = _reference("lof_inlier_rate", cs, counterfactuals, reference)
    n_neighbors = whole("lof_inlier_rate.n_neighbors", n_neighbors, 1)
    if len(ref) < 2:
        raise CounterfactualError(
            f"lof_inlier_rate.reference: must hold at least 2 rows. Got {len(ref)}."
        )
    if max_reference is not None:
        max_reference = whole("lof_inlier_rate.max_reference", max_reference, 2)
        if len(ref) > max_reference:
            rows = np.random.default_rng(seed).choice(len(ref), max_reference, replace=False)
            ref = ref[np.sort(rows)]
    if not len(x):
        return math.nan
    detector = LocalOutlierFactor(
        n_neighbors=min(n_neighbors, len(ref) - 1), metric="manhattan", novelty=True
    ).fit(ref)
    return mean_or_nan((detector.predict(x) == 1).astype(np.float64))


# ----------------------------------------------------------------------------- diversity
def diversity(constraints: ConstraintSet, counterfactuals: Any) -> float:
    """Return the mean pairwise distance between one client's counterfactuals (0 for < 2)."""
    from scipy.spatial.distance import pdist

    cs = as_constraints("diversity", constraints)
    x = as_codes("diversity.counterfactuals", counterfactuals, cs.n_features)
    if len(x) < 2:
        return 0.0
    return float(pdist(embed("diversity.counterfactuals", cs, x), "cityblock").mean())


def feature_set_diversity(client: Any, counterfactuals: Any) -> float:
    """Return the share of distinct sets of changed features among one client's counterfactuals.

    1.0 when every counterfactual changes a different set of features; NaN when there is none.

    Examples
    --------
    >>> feature_set_diversity([0, 0, 0], [[1, 0, 0], [2, 0, 0], [0, 1, 1]])
    0.6666666666666666
    """
    x = as_codes("feature_set_diversity.counterfactuals", counterfactuals, None)
    c = as_codes("feature_set_diversity.client", client, x.shape[1])
    if len(c) != 1:
        raise CounterfactualError(
            f"feature_set_diversity.client: must be one row. Got {len(c)} rows."
        )
    if not len(x):
        return math.nan
    sets = np.unique(changed(c, x), axis=0)
    return len(sets) / len(x)
