"""SHAP and integrated gradients: against XGBoost's and shap's own TreeSHAP, brute-force
Shapley values by the permutation definition, the closed form of a linear model's
interventional SHAP, and the completeness of integrated gradients."""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.errors import AdvisorError
from advisor.explain import (
    MAX_EXACT_FEATURES,
    ExactShapExplainer,
    IntegratedGradientsExplainer,
    KernelShapExplainer,
    TreeShapExplainer,
    make_explainer,
)
from advisor.explain._shap import exact_shap_values
from constraints import parse_constraints

TINY_YAML = """
name: tiny
features:
  amount: {kind: continuous, role: context, min: 0, label: {en: Amount, fr: Montant}}
  plan: {kind: categorical, categories: [basic, plus, gold], role: actionable}
  visits: {kind: integer, role: actionable, min: 0}
  online: {kind: binary, role: immutable}
"""


def tiny_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Four features, a target with an interaction (plan x online) and a non-linearity."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 500.0, n).round(2),
            "plan": rng.choice(["basic", "plus", "gold"], n),
            "visits": rng.poisson(3, n),
            "online": rng.random(n) < 0.5,
        }
    )
    logit = (
        -1.0
        + 0.001 * frame["amount"]
        + 0.8 * (frame["plan"] == "gold")
        + 1.2 * ((frame["plan"] == "plus") & frame["online"])
        - 0.15 * (frame["visits"] - 3) ** 2
    )
    frame["target"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame


@functools.cache
def tiny_models() -> dict[str, Any]:
    """Tiny trained models of each family over the four features (about two seconds)."""
    from advisor.models import train

    frame = tiny_frame()
    constraints = parse_constraints(TINY_YAML, frame)
    return {
        family: train(
            frame,
            "target",
            constraints,
            families=(family,),
            n_trials=1,
            budget_s=None,
            n_folds=2,
            seed=0,
        )
        for family in ("logistic", "xgboost", "mlp")
    }


def brute_force_shapley(function: Any, x: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Shapley values by the definition: the mean marginal gain over every feature order."""
    d = len(x)

    def value(present: frozenset[int]) -> float:
        rows = background.copy()
        for j in present:
            rows[:, j] = x[j]
        return float(np.mean(function(rows)))

    phi = np.zeros(d)
    for order in itertools.permutations(range(d)):
        present: frozenset[int] = frozenset()
        for j in order:
            phi[j] += value(present | {j}) - value(present)
            present = present | {j}
    return phi / math.factorial(d)


def weights_in_order(explanation: Any, names: tuple[str, ...]) -> np.ndarray:
    return np.array([explanation.weight(name) for name in names])


# ---------------------------------------------------------------------------- TreeSHAP
@pytest.mark.parametrize("source", ["tiny", "demo"])
def test_tree_shap_adds_up_to_the_margin_for_each_client(source: str, trained: Any) -> None:
    found = tiny_models()["xgboost"] if source == "tiny" else trained["xgboost"]
    data = tiny_frame() if source == "tiny" else None
    model, constraints = found.model, found.constraints
    clients = data if data is not None else _demo_clients()
    explainer = TreeShapExplainer(model, constraints, clients)
    for i in range(15):
        client = clients.iloc[[i]]
        explanation = explainer.explain(client)
        margin = float(model.margin_codes(model.space.to_codes(client))[0])
        total = explanation.base + sum(w.weight for w in explanation.weights)
        assert explanation.scale == "margin"
        assert explanation.output == pytest.approx(margin)
        assert total == pytest.approx(margin, abs=1e-5)
        assert len(explanation.weights) == len(constraints.feature_names)


def _demo_clients() -> pd.DataFrame:
    from advisor.datasets import make_demo_portfolio

    return make_demo_portfolio(n_clients=60, seed=5)  # other clients than the training ones


def test_tree_shap_equals_shap_treeexplainer_summed_per_feature() -> None:
    import shap

    found = tiny_models()["xgboost"]
    model, frame = found.model, tiny_frame().iloc[:20]
    design = model.space.to_design(model.space.to_codes(frame))
    oracle = shap.TreeExplainer(model.estimator.booster).shap_values(design)
    explainer = TreeShapExplainer(model, found.constraints, frame)
    names = model.feature_names
    for i in range(len(frame)):
        expected = [oracle[i, model.space.design_columns(name)].sum() for name in names]
        got = weights_in_order(explainer.explain(frame.iloc[[i]]), names)
        np.testing.assert_allclose(got, expected, atol=1e-5)


# ---------------------------------------------------------------------------- exact SHAP
@pytest.mark.parametrize("family", ["logistic", "xgboost", "mlp"])
@pytest.mark.parametrize("output", ["margin", "probability"])
def test_exact_shap_equals_the_permutation_definition(family: str, output: str) -> None:
    found = tiny_models()[family]
    model, frame = found.model, tiny_frame()
    explainer = ExactShapExplainer(
        model, found.constraints, frame, seed=3, n_background=25, output=output
    )
    codes = model.space.to_codes(frame)
    background = codes[np.sort(np.random.default_rng(3).choice(len(codes), 25, replace=False))]
    function = model.margin_codes if output == "margin" else model.score_codes
    for i in (0, 7, 42):
        explanation = explainer.explain(frame.iloc[[i]])
        oracle = brute_force_shapley(function, codes[i], background)
        got = weights_in_order(explanation, model.feature_names)
        np.testing.assert_allclose(got, oracle, atol=1e-9)
        assert explanation.output == pytest.approx(float(function(codes[i : i + 1])[0]))
        assert explanation.base == pytest.approx(float(np.mean(function(background))))
        assert explanation.scale == output
        assert explanation.seed == 3


def test_linear_model_shap_is_coefficient_times_distance_to_the_background_mean() -> None:
    """Independent oracle: for a linear margin, interventional SHAP of a feature is
    sum over its design columns of w_k (x_k - mean of the background's x_k)."""
    found = tiny_models()["logistic"]
    model, frame = found.model, tiny_frame().iloc[:80]
    pipeline = model.estimator.pipeline
    w = pipeline["model"].coef_[0] / pipeline["scale"].scale_
    design = model.space.to_design(model.space.to_codes(frame))
    explainer = ExactShapExplainer(model, found.constraints, frame, n_background=len(frame))
    for i in range(10):
        contributions = w * (design[i] - design.mean(axis=0))
        oracle = [contributions[model.space.design_columns(n)].sum() for n in model.feature_names]
        got = weights_in_order(explainer.explain(frame.iloc[[i]]), model.feature_names)
        np.testing.assert_allclose(got, oracle, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    coefficients=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    interaction=st.floats(-3, 3),
    seed=st.integers(0, 2**16),
)
def test_exact_shap_values_follow_the_definition_for_any_function(
    coefficients: list[float], interaction: float, seed: int
) -> None:
    """A hand-made function with an interaction and a max: the permutation definition holds."""
    rng = np.random.default_rng(seed)
    x, background = rng.normal(size=4), rng.normal(size=(6, 4))

    def function(rows: np.ndarray) -> np.ndarray:
        linear = rows @ np.array(coefficients)
        pairs = interaction * rows[:, 0] * rows[:, 1]
        return np.asarray(linear + pairs + np.maximum(rows[:, 2], rows[:, 3]), dtype=np.float64)

    phi, empty, full = exact_shap_values(function, x[None, :], background)
    np.testing.assert_allclose(phi[0], brute_force_shapley(function, x, background), atol=1e-9)
    assert phi[0].sum() == pytest.approx(full[0] - empty[0], abs=1e-9)


# ---------------------------------------------------------------------------- KernelSHAP
@pytest.mark.parametrize("family", ["xgboost", "mlp"])
def test_kernel_shap_matches_exact_shap_on_a_small_case(family: str) -> None:
    found = tiny_models()[family]
    model, frame = found.model, tiny_frame()
    kernel = KernelShapExplainer(model, found.constraints, frame, seed=1, n_background=30)
    exact = ExactShapExplainer(model, found.constraints, frame, seed=1, n_background=30)
    for i in (1, 2, 3):
        got = weights_in_order(kernel.explain(frame.iloc[[i]]), model.feature_names)
        want = weights_in_order(exact.explain(frame.iloc[[i]]), model.feature_names)
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_kernel_shap_of_a_linear_model_is_exact_on_27_features(trained: Any) -> None:
    found = trained["logistic"]
    model = found.model
    clients = _demo_clients().iloc[:40]
    pipeline = model.estimator.pipeline
    w = pipeline["model"].coef_[0] / pipeline["scale"].scale_
    design = model.space.to_design(model.space.to_codes(clients))
    explainer = KernelShapExplainer(
        model, found.constraints, clients, seed=0, n_background=40, n_samples=200
    )
    explanation = explainer.explain(clients.iloc[[0]])
    contributions = w * (design[0] - design.mean(axis=0))
    oracle = [contributions[model.space.design_columns(n)].sum() for n in model.feature_names]
    got = weights_in_order(explanation, model.feature_names)
    np.testing.assert_allclose(got, oracle, atol=1e-6)
    assert explanation.base + got.sum() == pytest.approx(explanation.output, abs=1e-9)


def test_same_seed_same_kernel_shap_and_the_global_generator_is_left_alone(trained: Any) -> None:
    found = trained["mlp"]
    clients = _demo_clients()
    client = clients.iloc[[3]]

    def run(seed: int) -> np.ndarray:
        explainer = make_explainer(
            "kernel_shap", found.model, found.constraints, clients, seed=seed, n_samples=100
        )
        return weights_in_order(explainer.explain(client), found.model.feature_names)

    before = np.random.get_state(legacy=False)["state"]  # noqa: NPY002 - what shap draws from
    first, again, other = run(4), run(4), run(5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    after = np.random.get_state(legacy=False)["state"]  # noqa: NPY002
    np.testing.assert_array_equal(after["key"], before["key"])
    assert after["pos"] == before["pos"]


# ---------------------------------------------------------------------------- gradients
def test_integrated_gradients_are_complete_and_start_from_the_typical_client(trained: Any) -> None:
    found = trained["mlp"]
    model, clients = found.model, _demo_clients()
    explainer = IntegratedGradientsExplainer(model, found.constraints, clients, n_steps=2000)
    margins = model.margin_codes(model.space.to_codes(clients))
    checked = 0
    for i in range(len(clients)):
        explanation = explainer.explain(clients.iloc[[i]])
        difference = explanation.output - explanation.base
        if abs(difference) < 0.5:
            continue
        total = sum(w.weight for w in explanation.weights)
        assert abs(total - difference) < 0.01 * abs(difference)
        assert explanation.parameters["relative_gap"] < 0.01
        assert explanation.output == pytest.approx(margins[i], abs=1e-5)
        checked += 1
        if checked == 5:
            break
    assert checked == 5
    baseline = explanation.parameters["baseline"]
    assert baseline["monthly_income"] == pytest.approx(clients["monthly_income"].median())
    assert baseline["region"] == clients["region"].mode().iloc[0]
    assert baseline["age"] == np.sort(clients["age"].to_numpy())[(len(clients) - 1) // 2]


# ---------------------------------------------------------------------------- bad inputs
def test_each_method_refuses_what_it_cannot_explain(trained: Any) -> None:
    clients = _demo_clients()
    logistic, xgboost = trained["logistic"], trained["xgboost"]
    with pytest.raises(
        AdvisorError,
        match=r"^model: tree_shap explains XGBoost models only\. Got a logistic model\. "
        r"Hint: use exact_shap \(up to 12 features\) or kernel_shap for this family\.$",
    ):
        make_explainer("tree_shap", logistic.model, logistic.constraints, clients)
    with pytest.raises(
        AdvisorError,
        match=r"^model: integrated_gradients explains the torch MLP \(family mlp\) only\. "
        r"Got a xgboost model\. Hint: use tree_shap for XGBoost",
    ):
        make_explainer("integrated_gradients", xgboost.model, xgboost.constraints, clients)
    with pytest.raises(
        AdvisorError,
        match=rf"^model: exact_shap takes at most {MAX_EXACT_FEATURES} features \(4096 "
        r"coalitions\)\. Got 27\. Hint: use kernel_shap \(or tree_shap for XGBoost\)\.$",
    ):
        make_explainer("exact_shap", logistic.model, logistic.constraints, clients)


def test_bad_parameters_and_clients_get_one_line_errors() -> None:
    found = tiny_models()["mlp"]
    model, constraints, frame = found.model, found.constraints, tiny_frame()
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"n_sample": 10},
            r"^KernelShapExplainer: parameters must be among n_background, n_samples, "
            r"output\. Got 'n_sample'\.$",
        ),
        ({"output": "odds"}, r"^KernelShapExplainer\.output: must be one of margin, probability"),
        ({"n_background": 0}, r"^KernelShapExplainer\.n_background: must be a whole number from"),
        (
            {"n_samples": 7},
            r"^KernelShapExplainer\.n_samples: must be at least 2 x 4 features = 8 \(fewer "
            r"leave the regression singular\)\. Got 7\.$",
        ),
    ]
    for params, message in cases:
        with pytest.raises(AdvisorError, match=message):
            KernelShapExplainer(model, constraints, frame, **params)
    with pytest.raises(AdvisorError, match=r"^IntegratedGradientsExplainer\.n_steps: must be"):
        IntegratedGradientsExplainer(model, constraints, frame, n_steps=1)
    with pytest.raises(
        AdvisorError,
        match=r"^IntegratedGradientsExplainer\.n_steps: must be at most 1000 with gausslegendre "
        r"\(its nodes cost n_steps\^3\)\. Got 5000\. Hint: use method='riemann_middle'",
    ):
        IntegratedGradientsExplainer(
            model, constraints, frame, n_steps=5000, method="gausslegendre"
        )
    xgboost = tiny_models()["xgboost"]
    with pytest.raises(
        AdvisorError,
        match=r"^TreeShapExplainer: parameters must be none \(it takes no parameters\)\. "
        r"Got 'n_background'\.$",
    ):
        make_explainer("tree_shap", xgboost.model, xgboost.constraints, frame, n_background=5)
    with pytest.raises(AdvisorError, match=r"^seed: must be a whole number from 0"):
        ExactShapExplainer(model, constraints, frame, seed=-1)
    with pytest.raises(AdvisorError, match=r"^data: must hold every feature of the model\."):
        ExactShapExplainer(model, constraints, frame.drop(columns="plan"))
    explainer = ExactShapExplainer(model, constraints, frame)
    client = frame.iloc[[0]].assign(plan="platinum")
    with pytest.raises(AdvisorError) as caught:
        explainer.explain(client)
    message = str(caught.value)
    assert message.startswith("client: ")
    assert "plan" in message
    assert "platinum" in message
    assert "\n" not in message


# ---------------------------------------------------------------------------- contract
MINE = {
    "tree_shap": ("xgboost",),
    "exact_shap": ("logistic", "xgboost", "mlp"),
    "kernel_shap": ("logistic", "xgboost", "mlp"),
    "integrated_gradients": ("mlp",),
}


@pytest.mark.parametrize(
    ("method", "family"), [(m, f) for m, families in MINE.items() for f in families]
)
def test_every_method_keeps_the_explainer_contract(method: str, family: str) -> None:
    """Same seed, same weights; the client is not changed; every feature weighed once."""
    found = tiny_models()[family]
    frame = tiny_frame()
    client = frame.iloc[[5]].copy()
    kept = client.copy()
    first = make_explainer(method, found.model, found.constraints, frame, seed=11)
    again = make_explainer(method, found.model, found.constraints, frame, seed=11)
    one, two = first.explain(client), again.explain(client)
    assert first.method == method
    assert one.method == method
    assert [w.weight for w in one.weights] == [w.weight for w in two.weights]
    assert one.base == two.base
    assert sorted(w.feature for w in one.weights) == sorted(found.constraints.feature_names)
    assert one.product == found.model.target
    assert one.score == pytest.approx(float(found.model.score(client)[0]))
    pd.testing.assert_frame_equal(client, kept)
    assert one.base + sum(w.weight for w in one.weights) == pytest.approx(
        one.output, abs=2e-3 if method == "integrated_gradients" else 1e-5
    )


def test_missing_values_kept_by_the_model_are_explained_as_missing() -> None:
    from advisor.models import train

    frame = tiny_frame()
    rng = np.random.default_rng(1)
    frame.loc[rng.random(len(frame)) < 0.2, "amount"] = np.nan
    constraints = parse_constraints(
        TINY_YAML.replace("min: 0, label", "min: 0, missing: keep, label"), frame
    )
    found = train(
        frame, "target", constraints, families=("xgboost",), n_trials=1, budget_s=None, n_folds=2
    )
    model, row = found.model, int(np.flatnonzero(frame["amount"].isna())[0])
    client = frame.iloc[[row]]
    codes = model.space.to_codes(frame)
    tree = TreeShapExplainer(model, found.constraints, frame).explain(client)
    assert tree.base + sum(w.weight for w in tree.weights) == pytest.approx(tree.output, abs=1e-5)
    exact = ExactShapExplainer(model, found.constraints, frame, n_background=20, seed=2)
    explanation = exact.explain(client)
    background = codes[np.sort(np.random.default_rng(2).choice(len(codes), 20, replace=False))]
    oracle = brute_force_shapley(model.margin_codes, codes[row], background)
    np.testing.assert_allclose(
        weights_in_order(explanation, model.feature_names), oracle, atol=1e-9
    )
    amount = next(w for w in explanation.weights if w.feature == "amount")
    assert amount.shown == {"en": "missing", "fr": "manquant"}
    assert amount.value is None


# ---------------------------------------------------------------------------- real data
def test_real_bank_and_german_models_are_explained(
    bank_bundle: Any, bank_data: pd.DataFrame, german_bundle: Any, german_data: pd.DataFrame
) -> None:
    """No demo column assumed: TreeSHAP adds up on the bank's XGBoost, and KernelSHAP of
    German credit's logistic model (a risk, goal lower) is the linear closed form."""
    from advisor.models import load_bundle

    bank = load_bundle(bank_bundle)
    assert bank.constraint_text is not None
    constraints = parse_constraints(bank.constraint_text, bank_data)
    explainer = TreeShapExplainer(bank.model, constraints, bank_data)
    for i in range(5):
        explanation = explainer.explain(bank_data.iloc[[i]])
        total = explanation.base + sum(w.weight for w in explanation.weights)
        assert total == pytest.approx(explanation.output, abs=1e-5)
    german = load_bundle(german_bundle)
    assert german.constraint_text is not None
    model = german.model
    constraints = parse_constraints(german.constraint_text, german_data)
    reference = german_data.iloc[:40]
    kernel = KernelShapExplainer(model, constraints, reference, n_background=40, n_samples=300)
    estimator: Any = model.estimator  # a LogisticEstimator: scaler then logistic regression
    pipeline = estimator.pipeline
    w = pipeline["model"].coef_[0] / pipeline["scale"].scale_
    design = model.space.to_design(model.space.to_codes(reference))
    contributions = w * (design[0] - design.mean(axis=0))
    oracle = [contributions[model.space.design_columns(n)].sum() for n in model.feature_names]
    got = weights_in_order(kernel.explain(reference.iloc[[0]]), model.feature_names)
    np.testing.assert_allclose(got, oracle, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    amount=st.floats(0, 1e6, allow_nan=False),
    plan=st.sampled_from(["basic", "plus", "gold"]),
    visits=st.integers(0, 50),
    online=st.booleans(),
)
def test_tree_and_exact_shap_add_up_for_any_client(
    amount: float, plan: str, visits: int, online: bool
) -> None:
    """Efficiency, for clients anywhere in the domain (beyond the training range too)."""
    client = {"amount": amount, "plan": plan, "visits": visits, "online": online}
    xgboost, mlp = tiny_models()["xgboost"], tiny_models()["mlp"]
    tree = _tiny_explainer("tree_shap", "xgboost").explain(client)
    margin = float(xgboost.model.margin_codes(xgboost.model.space.to_codes(client))[0])
    assert tree.base + sum(w.weight for w in tree.weights) == pytest.approx(margin, abs=1e-5)
    exact = _tiny_explainer("exact_shap", "mlp").explain(client)
    score = float(mlp.model.score(client)[0])
    assert exact.output == pytest.approx(score, abs=1e-6)  # float32 network, other batch size
    total = exact.base + sum(w.weight for w in exact.weights)
    assert total == pytest.approx(exact.output, abs=1e-9)


@functools.cache
def _tiny_explainer(method: str, family: str) -> Any:
    found = tiny_models()[family]
    params: dict[str, Any] = (
        {"n_background": 20, "output": "probability"} if method == "exact_shap" else {}
    )
    return make_explainer(method, found.model, found.constraints, tiny_frame(), **params)
