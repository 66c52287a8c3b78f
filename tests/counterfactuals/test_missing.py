"""Engines and clients with missing values (``missing: keep``): a missing value never moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier

from constraints import parse_constraints
from counterfactuals import (
    CounterfactualError,
    FeatureSpace,
    Target,
    TreeEnsemble,
    generate,
    margin_model,
)
from counterfactuals.metrics import proximity

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
@given(client=clients(), engine=st.sampled_from(["search", "exact"]))
def test_no_counterfactual_ever_changes_a_missing_value(client: pd.DataFrame, engine: str) -> None:
    before = float(score(client)[0])
    goal = min(before + 0.1, 0.97)
    result = generate(MODEL, client, CS, Target.probability(goal), n=3, engine=engine)
    assert result.engine in (engine, "none")
    missing = {name for name in KEEP if pd.isna(client[name].iloc[0])}
    for cf in result.counterfactuals:
        assert not missing & {c.feature for c in cf.changes}
        after = pd.DataFrame([cf.values])
        assert all(pd.isna(after[name].iloc[0]) for name in missing)
        assert float(score(after)[0]) >= goal - 1e-9
        assert CS.check(CS.to_array(client), CS.to_array(after)).ok.all()
        assert np.isfinite(cf.cost)
        assert np.isfinite(cf.distance)


def test_the_trees_send_a_missing_value_where_xgboost_does() -> None:
    design = SPACE.to_design(SPACE.to_codes(DATA))
    trees = margin_model(MODEL)
    assert trees is not None
    assert isinstance(trees.function, TreeEnsemble)
    assert np.isnan(design).any()
    expected = MODEL.predict(design, output_margin=True)
    assert np.allclose(trees.function.margin(design), expected, atol=1e-5)


def test_auto_serves_a_client_with_missing_values_exactly_when_it_can() -> None:
    client = DATA.loc[DATA["income"].isna() & DATA["savings"].notna()].iloc[:1]
    assert generate(MODEL, client, CS, Target.probability(0.9), engine="auto").engine == "exact"
    ruled = parse_constraints(TEXT + "rules:\n  - require: savings <= 0.5 * income\n", DATA)
    result = generate(MODEL, client, ruled, Target.probability(0.9), engine="auto")
    assert result.engine in ("search", "none")
    with pytest.raises(
        CounterfactualError,
        match=r"^engine: exact cannot serve this request: rule 'rule 1' reads income, missing "
        r"for this client\. Hint: use the search engine$",
    ):
        generate(MODEL, client, ruled, Target.probability(0.9), engine="exact")


def test_engines_that_need_every_value_say_so() -> None:
    client = DATA.loc[DATA["income"].isna()].iloc[:1]
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(
        np.nan_to_num(SPACE.to_design(SPACE.to_codes(DATA))), Y
    )
    with pytest.raises(CounterfactualError, match=r"^engine: gradient cannot serve this request"):
        generate(MODEL, client, CS, Target.probability(0.95), engine="gradient")
    with pytest.raises(
        CounterfactualError,
        match=r"^engine: exact cannot serve this request: the client has missing values and the "
        r"model's trees do not say where a missing value goes",
    ):
        generate(forest, client, CS, Target.probability(0.95), engine="exact")


def test_proximity_counts_missing_to_missing_as_nothing_and_one_side_as_one() -> None:
    client = CS.to_array(DATA.loc[DATA["income"].isna()].iloc[:1])
    same, filled = client.copy(), client.copy()
    filled[0, 0] = 2000.0
    assert proximity(CS, client, np.vstack([same, filled])).tolist() == [0.0, 1.0]


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


def test_the_gradient_engine_refuses_a_torch_model_that_does_not_impute() -> None:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(SPACE.n_design, 1))  # reads no missing value
    client = DATA.loc[DATA["income"].isna()].iloc[:1]
    with pytest.raises(
        CounterfactualError,
        match=r"^engine: gradient cannot serve this request: the client has missing values and "
        r"the torch model does not say which value it imputes\. Hint: use the search engine$",
    ):
        generate(net, client, CS, Target.probability(0.9), engine="gradient")
