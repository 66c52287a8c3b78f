"""Run-time summaries and one benchmark-table row of every metric."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from constraints import ConstraintSet
from counterfactuals.errors import CounterfactualError
from counterfactuals.metrics._inputs import as_constraints, as_pairs, mean_or_nan
from counterfactuals.metrics._plausibility import lof_inlier_rate, plausibility
from counterfactuals.metrics._quality import (
    change_count,
    cost,
    feasibility,
    proximity,
    sparsity,
    validity,
)

__all__ = ["summarize", "time_summary"]


# ----------------------------------------------------------------------------- time and table
def time_summary(seconds: Any) -> dict[str, float]:
    """Return the median, 95th percentile, mean and maximum of run times (NaN when empty).

    Examples
    --------
    >>> time_summary([0.1, 0.2, 0.3, 0.4])["median"]
    0.25
    """
    values = np.asarray(seconds, dtype=np.float64) if np.size(seconds) else np.zeros(0)
    if values.ndim != 1 or not np.isfinite(values).all() or (values < 0).any():
        raise CounterfactualError(
            f"time_summary.seconds: must be a 1-D array of finite durations >= 0. "
            f"Got {np.asarray(seconds).ravel()[:5].tolist()}."
        )
    if not values.size:
        return dict.fromkeys(("median", "p95", "mean", "max"), math.nan)
    return {
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "mean": float(values.mean()),
        "max": float(values.max()),
    }


def summarize(
    constraints: ConstraintSet,
    clients: Any,
    counterfactuals: Any,
    *,
    reached: Any,
    seconds: Any,
    reference: Any = None,
    k: int = 5,
) -> dict[str, float]:
    """Return one benchmark-table row: every metric averaged over the counterfactuals.

    ``reached`` says which counterfactuals reach the goal (booleans, one per row);
    ``seconds`` holds one run time per query; ``reference`` (target-class clients) adds
    ``plausibility`` and ``lof_inlier_rate``. Means are NaN when there is no counterfactual.
    """
    cs = as_constraints("summarize", constraints)
    c, x = as_pairs("summarize", clients, counterfactuals, cs.n_features, cs.compiled.keeps_missing)
    ok = np.asarray(reached)
    if ok.shape != (len(x),):
        raise CounterfactualError(
            f"summarize.reached: must hold one boolean per counterfactual ({len(x)}). "
            f"Got shape {ok.shape}."
        )
    row: dict[str, float] = {
        "n_counterfactuals": float(len(x)),
        "validity": validity(ok),
        "feasibility": feasibility(cs, c, x),
        "sparsity": mean_or_nan(sparsity(c, x).astype(np.float64)),
        "changes": mean_or_nan(change_count(cs, c, x).astype(np.float64)),
        "proximity": mean_or_nan(proximity(cs, c, x)),
        "cost": mean_or_nan(cost(cs, c, x)),
    }
    if reference is not None:
        row["plausibility"] = mean_or_nan(plausibility(cs, x, reference, k))
        row["lof_inlier_rate"] = lof_inlier_rate(cs, x, reference)
    row.update({f"time_{key}": value for key, value in time_summary(seconds).items()})
    return row
