"""Engines and clients with missing values (``missing: keep``): a missing value never moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constraints import parse_constraints
from counterfactuals import CounterfactualError, FeatureSpace, Target, generate

TEXT = """
name: keep
features:
  income: {kind: continuous, role: actionable, min: p1, max: p99, step: 10, missing: keep}
  savings: {kind: continuous, role: actionable, min: 0, max: p99, step: 10, missing: keep}
  plan: {kind: categorical, role: actionable, categories: [basic, plus, gold], missing: keep}
  band: {kind: ordinal, role: actionable, order: [low, mid, high], direction: increase,
         missing: keep}
  app: {kind: binary, role: actionable, missing: keep}
  age: {kind: integer, role: immutable}
  total: {kind: continuous, role: context, missing: keep}
derived:
  total: income + savings
max_changes: 2
"""
KEEP = ("income", "savings", "plan", "band", "app", "total")


def portfolio(n: int = 500, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.lognormal(7.8, 0.4, n).round(-1),
            "savings": rng.integers(0, 60, n) * 10.0,
            "plan": rng.choice(["basic", "plus", "gold"], n).astype(object),
            "band": rng.choice(["low", "mid", "high"], n).astype(object),
            "app": (rng.random(n) < 0.4).astype(object),
            "age": rng.integers(18, 80, n),
        }
    )
    logit = (
        (frame["income"] - 2500) / 700
        + frame["savings"] / 200
        + (frame["plan"] == "gold") * 1.0
        + frame["app"].astype(float)
        - 1.5
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy(dtype=float)))).astype(int)
    for column in ("income", "savings", "plan", "band", "app"):
        frame.loc[rng.random(n) < 0.2, column] = None
    frame["total"] = frame["income"] + frame["savings"]
    return frame, y


DATA, Y = portfolio()
CS = parse_constraints(TEXT, DATA)
SPACE = FeatureSpace.from_constraints(CS)
MODEL = xgb.XGBClassifier(n_estimators=40, max_depth=3, n_jobs=1, random_state=0).fit(
    SPACE.to_design(SPACE.to_codes(DATA)), Y
)


def score(frame: pd.DataFrame) -> np.ndarray:
    """The oracle: the booster on the design matrix, NaN where a value is missing."""
    return np.asarray(MODEL.predict_proba(SPACE.to_design(CS.to_array(frame)))[:, 1])


@st.composite
def clients(draw: st.DrawFn) -> pd.DataFrame:
    def maybe(value: st.SearchStrategy[object]) -> object:
        return draw(st.one_of(value, st.none()))

    income = draw(st.one_of(st.sampled_from([1200.0, 1800.0, 2400.0, 3000.0]), st.none()))
    savings = draw(st.one_of(st.sampled_from([0.0, 50.0, 120.0, 300.0]), st.none()))
    row = {
        "income": income,
        "savings": savings,
        "plan": maybe(st.sampled_from(["basic", "plus", "gold"])),
        "band": maybe(st.sampled_from(["low", "mid"])),
        "app": maybe(st.booleans()),
        "age": draw(st.integers(18, 79)),
        "total": None if income is None or savings is None else income + savings,
    }
    return pd.DataFrame([row]).astype({"income": float, "savings": float, "total": float})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=clients())
def test_no_counterfactual_ever_changes_a_missing_value(client: pd.DataFrame) -> None:
    before = float(score(client)[0])
    goal = min(before + 0.1, 0.97)
    result = generate(MODEL, client, CS, Target.probability(goal), n=3, engine="search")
    missing = {name for name in KEEP if pd.isna(client[name].iloc[0])}
    for cf in result.counterfactuals:
        assert not missing & {c.feature for c in cf.changes}
        after = pd.DataFrame([cf.values])
        assert all(pd.isna(after[name].iloc[0]) for name in missing)
        assert float(score(after)[0]) >= goal - 1e-9
        assert CS.check(CS.to_array(client), CS.to_array(after)).ok.all()
        assert np.isfinite(cf.cost)
        assert np.isfinite(cf.distance)


def test_auto_serves_a_client_with_missing_values_with_search() -> None:
    client = DATA.loc[DATA["income"].isna()].iloc[:1]
    result = generate(MODEL, client, CS, Target.probability(0.9), engine="auto")
    assert result.engine in ("search", "none")
    full = DATA.dropna().iloc[:1]
    assert generate(MODEL, full, CS, Target.probability(0.95), engine="auto").engine != "search"


@pytest.mark.parametrize("engine", ["exact", "gradient"])
def test_engines_that_need_every_value_say_so(engine: str) -> None:
    client = DATA.loc[DATA["income"].isna()].iloc[:1]
    with pytest.raises(CounterfactualError, match=rf"^engine: {engine} cannot serve this request"):
        generate(MODEL, client, CS, Target.probability(0.95), engine=engine)


def test_a_derived_feature_of_a_missing_source_stays_missing_and_moves_with_the_others() -> None:
    client = pd.DataFrame(
        [
            {
                "income": None,
                "savings": 100.0,
                "plan": "basic",
                "band": "low",
                "app": False,
                "age": 40,
                "total": None,
            }
        ]
    ).astype({"income": float, "total": float})
    rows = CS.sample(CS.to_array(client), 20, seed=0)
    assert np.isnan(rows[:, [0, 6]]).all()
    known = CS.to_array(client.assign(income=2000.0, total=2100.0))
    moved = CS.sample(known, 20, seed=0)
    assert np.allclose(moved[:, 6], moved[:, 0] + moved[:, 1])
