"""Missing values end to end: training, the three families, bundles, levers (real models)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.errors import ModelError
from advisor.levers import Advisor
from advisor.models import (
    FAMILIES,
    MLPEstimator,
    PropensityModel,
    fit_calibrator,
    load_bundle,
    save_bundle,
    train,
    training_split,
)
from constraints import ConstraintError, ConstraintSet, parse_constraints
from counterfactuals import FeatureSpace, Target, generate

FILE = """
name: missing income
features:
  income: {{kind: continuous, role: {income_role}, min: p1, max: p99, step: 10,
           missing: {income}}}
  savings: {{kind: continuous, role: actionable, min: 0, max: p99, step: 10}}
  plan: {{kind: categorical, role: actionable, categories: [basic, plus, gold],
         missing: {plan}}}
  age: {{kind: integer, role: immutable}}
"""


def constraint_file(tmp: Path, income: str, plan: str = "keep", role: str = "actionable") -> Path:
    path = tmp / f"missing-{abs(hash((income, plan, role)))}.yaml"
    path.write_text(FILE.format(income=income, plan=plan, income_role=role), encoding="utf-8")
    return path


def portfolio(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Income drives the target; it is missing for ~20 % of clients, more often for 'no'."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(7.8, 0.4, n).round(2)
    savings = rng.integers(0, 60, n) * 10.0
    plan = rng.choice(["basic", "plus", "gold"], n, p=[0.5, 0.3, 0.2]).astype(object)
    logit = (income - 2500) / 700 + savings / 250 - 1.2 + (plan == "gold") * 1.0
    took = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "income": income,
            "savings": savings,
            "plan": plan,
            "age": rng.integers(18, 80, n),
            "took": np.where(took, "yes", "no"),
        }
    )
    missing = rng.random(n) < np.where(took, 0.08, 0.32)  # informative: a direction to learn
    frame.loc[missing, "income"] = np.nan
    frame.loc[missing & (rng.random(n) < 0.5), "plan"] = None
    return frame


DATA = portfolio()
OPTIONS: dict[str, Any] = {"n_trials": 1, "budget_s": None, "n_folds": 2, "seed": 0}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("missing")


@pytest.fixture(scope="module")
def xgboost_keep(folder: Path) -> PropensityModel:
    path = constraint_file(folder, "keep")
    return train(DATA, "took", path, families="xgboost", **OPTIONS).model


def training_rows() -> pd.DataFrame:
    """The rows train() fits its final model on (the seeded, stratified split)."""
    y = np.asarray(DATA["took"] == "yes", dtype=np.int64)
    rows, _ = training_split(y, test_size=0.2, seed=0)
    return DATA.iloc[rows]


def with_missing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame["income"].isna()].drop(columns="took")


def test_forbid_refuses_the_training_data_naming_the_feature_and_the_fix(folder: Path) -> None:
    n = int(DATA["income"].isna().sum())
    with pytest.raises(ConstraintError) as info:
        train(DATA, "took", constraint_file(folder, "forbid", plan="forbid"), **OPTIONS)
    text = str(info.value)
    assert f"features.income: values must not be missing. Got {n} of 600 rows missing" in text
    assert "write missing: keep for income" in text


def test_xgboost_reads_a_missing_value_natively(xgboost_keep: PropensityModel) -> None:
    model = xgboost_keep
    clients = with_missing(DATA)
    median = float(training_rows()["income"].median())
    filled = clients.assign(income=median)
    codes = model.space.to_codes(clients)
    design = model.space.to_design(codes)
    assert np.isnan(design[:, 0]).all()  # the booster gets NaN, not a filled value
    booster = model.estimator.booster  # type: ignore[attr-defined]
    import xgboost as xgb

    native = booster.predict(xgb.DMatrix(design, missing=np.nan), output_margin=True)
    assert np.allclose(model.estimator.margin(design), native, atol=1e-5)
    # the trees learnt a direction for a missing income: not what the median gives
    assert np.abs(model.score(clients) - model.score(filled)).max() > 1e-3


def test_logistic_imputes_the_training_median_and_mode(folder: Path) -> None:
    model = train(DATA, "took", constraint_file(folder, "keep"), families="logistic", **OPTIONS)
    clients = with_missing(DATA).iloc[:20]
    rows = training_rows()
    mode = str(rows["plan"].dropna().value_counts().idxmax())
    filled = clients.assign(income=float(rows["income"].median()))
    filled["plan"] = filled["plan"].fillna(mode)
    assert np.allclose(model.model.score(clients), model.model.score(filled), atol=1e-12)
    assert clients["plan"].isna().any()
    design = model.model.space.to_design(model.model.space.to_codes(clients))
    linear = model.model.estimator.structure()  # what the exact engine reads
    assert np.allclose(linear.margin(design), model.model.estimator.margin(design), atol=1e-9)


def _fit_mlp() -> tuple[ConstraintSet, FeatureSpace, np.ndarray, np.ndarray, Any]:
    """A small MLP fitted on DATA with income and plan kept missing (the two tests' setup)."""
    cs = parse_constraints(
        FILE.format(income="keep", plan="keep", income_role="actionable"),
        DATA.drop(columns="took"),
    )
    space = FeatureSpace.from_constraints(cs)
    design = space.to_design(space.to_codes(DATA))
    y = np.asarray(DATA["took"] == "yes", dtype=np.int64)
    family = FAMILIES["mlp"]
    params = {**family.defaults, "hidden_layer_sizes": "16"}
    return cs, space, design, y, family.fit(design, y, params, 0, None, space)


def test_the_mlp_imputes_the_training_median_and_mode() -> None:
    _, space, design, _, estimator = _fit_mlp()
    rows = np.isnan(design[:, 0])
    filled = design[rows].copy()
    filled[:, 0] = np.median(design[~rows, 0])
    plan = space.design_columns("plan")
    known = ~np.isnan(design[:, plan]).any(axis=1)
    gap = np.isnan(filled[:, plan]).any(axis=1)
    mode = np.zeros(plan.stop - plan.start)
    mode[int(np.argmax(design[known, plan].sum(axis=0)))] = 1.0
    filled[np.ix_(gap, np.arange(plan.start, plan.stop))] = mode
    assert gap.any()
    assert np.allclose(estimator.margin(design[rows]), estimator.margin(filled), atol=1e-6)


def test_a_bundle_keeps_the_imputation_and_the_missing_policy(folder: Path) -> None:
    result = train(DATA, "took", constraint_file(folder, "keep"), families="logistic", **OPTIONS)
    path = save_bundle(result, folder / "bundle-logistic")
    assert (path / "models" / "propensity" / "imputation.json").is_file()
    loaded = load_bundle(path).model
    assert loaded.space.missing[:3] == ("keep", "forbid", "keep")
    clients = with_missing(DATA)
    assert np.array_equal(loaded.score(clients), result.model.score(clients))


def levers_of(model: PropensityModel, constraints: Any, client: pd.DataFrame, engine: str) -> Any:
    score = float(model.score(client)[0])
    return generate(
        model, client, constraints, Target.probability(min(score + 0.1, 0.97)), n=4, engine=engine
    )


@pytest.fixture(scope="module")
def logistic_keep(folder: Path) -> PropensityModel:
    path = constraint_file(folder, "keep")
    return train(DATA, "took", path, families="logistic", **OPTIONS).model


@pytest.mark.parametrize(
    ("family", "engine"),
    [("xgboost", "search"), ("xgboost", "exact"), ("xgboost", "auto"), ("logistic", "exact")],
)
def test_levers_never_touch_a_missing_value_and_reach_the_goal(
    request: pytest.FixtureRequest, family: str, engine: str
) -> None:
    model: PropensityModel = request.getfixturevalue(f"{family}_keep")
    cs = parse_constraints(
        FILE.format(income="keep", plan="keep", income_role="actionable"),
        DATA.drop(columns="took"),
    )
    found = 0
    for _, client in with_missing(DATA).iloc[:8].iterrows():
        row = client.to_frame().T.astype(DATA.drop(columns="took").dtypes.to_dict())
        result = levers_of(model, cs, row, engine)
        # auto on trees: the search first, then exact bounded by it; it names the winner
        served = {"auto": ("exact", "search")}.get(engine, (engine,))
        assert result.engine in (*served, "none")
        for cf in result.counterfactuals:
            touched = {c.feature for c in cf.changes}
            assert "income" not in touched
            if pd.isna(client["plan"]):
                assert "plan" not in touched
            after = pd.DataFrame([cf.values])
            assert pd.isna(after["income"].iloc[0])
            assert float(model.score(after)[0]) >= result.target.threshold - 1e-9
            found += 1
    assert found >= 4


def test_the_gradient_engine_holds_a_missing_value_at_the_mlps_imputed_one() -> None:
    cs, space, design, y, estimator = _fit_mlp()
    model = PropensityModel(
        space=space,
        estimator=estimator,
        calibrator=fit_calibrator(estimator.margin(design), y, "sigmoid"),
        target="took",
        classes=("no", "yes"),
    )
    found = 0
    for i in range(6):
        client = with_missing(DATA).iloc[i : i + 1]
        result = levers_of(model, cs, client, "gradient")
        assert result.engine in ("gradient", "none")
        for cf in result.counterfactuals:
            assert "income" not in {c.feature for c in cf.changes}
            after = pd.DataFrame([cf.values])
            assert pd.isna(after["income"].iloc[0])
            assert float(model.score(after)[0]) >= result.target.threshold - 1e-9
            found += 1
    assert found >= 2
    # an MLP saved before imputation existed refuses a missing value, naming the fix
    assert isinstance(estimator, MLPEstimator)
    bare = replace(model, estimator=replace(estimator, imputer=None))
    with pytest.raises(ModelError, match=r"^design: a mlp model saved without imputation"):
        bare.score(client)


def test_impute_median_lets_a_lever_change_the_value_and_says_it_was_unknown(
    folder: Path,
) -> None:
    path = constraint_file(folder, "{impute: median}", plan="{impute: mode}")
    result = train(DATA, "took", path, families="xgboost", **OPTIONS)
    save_bundle(result, folder / "bundle-impute")
    clients = DATA.drop(columns="took").iloc[:150]  # another client file: another median
    advisor = Advisor.from_bundle(load_bundle(folder / "bundle-impute"), clients, engine="search")
    median = float(DATA["income"].median())  # the training data's, recorded in the bundle
    assert float(clients["income"].median()) != pytest.approx(median)
    assert advisor.constraints.feature("income").imputed == pytest.approx(median)
    assumed = advisor.constraints.format_value("income", median)
    texts = []
    for _, client in with_missing(DATA).iloc[:10].iterrows():
        advice = advisor.advise(client, n_levers=3)
        texts += [a.text["en"] for lever in advice.levers for a in lever.actions]
        for lever in advice.levers:
            assert lever.score_after > lever.score_before
            json.dumps(lever.to_dict(), allow_nan=False)  # an unknown value is null, not NaN
    on_income = [t for t in texts if t.startswith("Income:")]
    assert on_income, texts
    pattern = (
        rf"^Income: (increase|reduce) from unknown \({re.escape(assumed)} assumed\) to [\d,]+$"
    )
    assert all(re.match(pattern, t) for t in on_income), on_income


def test_a_client_missing_a_forbid_feature_gets_an_error_naming_it(
    logistic_keep: PropensityModel,
) -> None:
    clients = DATA.drop(columns="took")
    cs = parse_constraints(
        FILE.format(income="keep", plan="keep", income_role="actionable"), clients
    )
    advisor = Advisor(logistic_keep, cs, reference=clients, engine="search")
    client = clients.iloc[0].copy()
    client["age"] = None  # age: missing: forbid (the default)
    with pytest.raises(
        ValueError, match=r"^data\.age: values must not be missing\. Got 1 of 1 rows missing"
    ) as info:
        advisor.advise(client)
    assert "write missing: keep for age" in str(info.value)
