"""``min_change``: no engine proposes a change of a feature smaller than its min_change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constraints import parse_constraints
from counterfactuals import FeatureSpace, Target, generate

TEXT = """
name: least
features:
  income: {kind: continuous, role: actionable, min: p1, max: p99, step: 10, min_change: 300}
  savings: {kind: continuous, role: actionable, min: 0, max: p99, min_change: 80}
  loans: {kind: integer, role: actionable, min: 0, max: 8, min_change: 2}
  plan: {kind: categorical, role: actionable, categories: [basic, plus, gold]}
  age: {kind: integer, role: immutable}
max_changes: 2
"""
LEAST = {"income": 300.0, "savings": 80.0, "loans": 2.0}


def portfolio(n: int = 500, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.lognormal(7.8, 0.4, n).round(-1),
            "savings": rng.uniform(0, 600, n),
            "loans": rng.integers(0, 9, n),
            "plan": rng.choice(["basic", "plus", "gold"], n).astype(object),
            "age": rng.integers(18, 80, n),
        }
    )
    logit = (
        (frame["income"] - 2500) / 700
        + frame["savings"] / 200
        - frame["loans"] / 3
        + (frame["plan"] == "gold") * 1.0
        - 1.0
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy(dtype=float)))).astype(int)
    return frame, y


DATA, Y = portfolio()
CS = parse_constraints(TEXT, DATA)
SPACE = FeatureSpace.from_constraints(CS)
MODEL = xgb.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0).fit(
    SPACE.to_design(SPACE.to_codes(DATA)), Y
)


def score(frame: pd.DataFrame) -> float:
    """The oracle: the booster on the design matrix."""
    return float(MODEL.predict_proba(SPACE.to_design(CS.to_array(frame)))[0, 1])


def small_changes(cf_values: dict[str, object], client: pd.DataFrame) -> list[str]:
    """Features whose change is non-zero but below min_change (computed independently)."""
    out = []
    for name, least in LEAST.items():
        moved = abs(float(cf_values[name]) - float(client[name].iloc[0]))  # type: ignore[arg-type]
        if 0 < moved < least * (1 - 1e-9):
            out.append(name)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row=st.integers(0, len(DATA) - 1), engine=st.sampled_from(["search", "exact"]))
def test_no_lever_changes_a_feature_by_less_than_its_min_change(row: int, engine: str) -> None:
    client = DATA.iloc[[row]]
    goal = min(score(client) + 0.15, 0.95)
    result = generate(MODEL, client, CS, Target.probability(goal), n=3, engine=engine)
    for cf in result.counterfactuals:
        assert small_changes(dict(cf.values), client) == []
        assert score(pd.DataFrame([cf.values])) >= goal - 1e-9


def test_engines_still_find_levers_that_respect_min_change() -> None:
    """Not vacuous: both engines find levers, and some move a feature by >= its min_change."""
    for engine in ("search", "exact"):
        moved: list[float] = []
        for row in range(12):
            client = DATA.iloc[[row]]
            goal = min(score(client) + 0.15, 0.95)
            result = generate(MODEL, client, CS, Target.probability(goal), n=2, engine=engine)
            for cf in result.counterfactuals:
                moved += [
                    abs(float(c.after) - float(c.before)) / LEAST[c.feature]
                    for c in cf.changes
                    if c.feature in LEAST
                ]
        assert moved, engine
        assert min(moved) >= 1 - 1e-9, engine
