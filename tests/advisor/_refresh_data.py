"""The small synthetic portfolio the robust-levers tests refit models on.

Two levers that raise the take-up a little (a continuous one, so a plain lever lands just over
the goal) and an immutable age with no effect; few rows, so that a refit on a bootstrap
resample moves the model by a few points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advisor.models import PropensityModel, train
from constraints import ConstraintSet

REFRESH_YAML = """
name: refresh
features:
  savings: {kind: continuous, role: actionable, min: 0, max: 100, direction: increase}
  visits: {kind: integer, role: actionable, min: 0, max: 12, direction: increase}
  age: {kind: integer, role: immutable, min: 18, max: 90}
"""
N_ROWS = 300


def refresh_frame(n: int, seed: int) -> pd.DataFrame:
    """``n`` clients whose take-up rises with savings and visits, indexed C000, C001..."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "savings": rng.uniform(0, 100, n).round(1),
            "visits": rng.integers(0, 13, n),
            "age": rng.integers(18, 91, n),
        }
    )
    logit = -3 + 0.03 * frame["savings"] + 0.1 * frame["visits"]
    frame["target"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame.set_axis([f"C{i:03d}" for i in range(n)])


def fit_one(
    rows: pd.DataFrame, constraints: ConstraintSet, family: str = "logistic", seed: int = 0
) -> PropensityModel:
    """One trial of one family on ``rows`` (2 folds, no budget)."""
    result = train(
        rows,
        "target",
        constraints,
        families=(family,),
        n_trials=1,
        budget_s=None,
        n_folds=2,
        seed=seed,
    )
    return result.model
