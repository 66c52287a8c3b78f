"""LIME (the lime package) and Levers LIME: feasibility, stability, fidelity, truth, errors."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.errors import AdvisorError
from advisor.explain import (
    Explanation,
    LeversLimeExplainer,
    LimeExplainer,
    make_explainer,
)
from constraints import ConstraintSet

SMALL = {"n_start": 100, "max_samples": 400, "n_heldout": 200}
"""Levers LIME sample sizes small enough for the default test run."""


@pytest.fixture(scope="module")
def reference(model_clients: pd.DataFrame) -> pd.DataFrame:
    """The reference clients: the population the tiny models were trained on."""
    return model_clients.loc[~model_clients["has_life_insurance"]]


@pytest.fixture(scope="module")
def logistic(trained: dict[str, Any]) -> tuple[Any, ConstraintSet]:
    return trained["logistic"].model, trained["logistic"].constraints


def _context(cs: ConstraintSet) -> list[str]:
    return [n for n in cs.feature_names if cs.feature(n).role == "context"]


def _jaccard(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    return len(set(a) & set(b)) / len(set(a) | set(b))


# ---------------------------------------------------------------------- (a) plausible clients
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    row=st.integers(0, 2_000),
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["all", "actionable"]),
)
def test_every_perturbation_passes_the_constraint_file(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame, row: int, seed: int, mode: str
) -> None:
    model, cs = logistic
    explainer = LeversLimeExplainer(model, cs, reference, seed=0, mode=mode, **SMALL)
    client = reference.iloc[[row % len(reference)]]
    frame = explainer.perturbations(client, 200, seed=seed)
    allowed = cs if mode == "actionable" else cs.allowing(*_context(cs))
    assert len(frame) > 0
    assert allowed.check(client, frame).ok.all()
    moved = cs.to_array(frame) != cs.to_array(client)
    immutable = [j for j, n in enumerate(cs.feature_names) if cs.feature(n).role == "immutable"]
    assert not moved[:, immutable].any()
    if mode == "actionable":  # only what a lever may move, the way it may
        assert cs.check(client, frame).ok.all()
        frozen = [j for j, n in enumerate(cs.feature_names) if cs.feature(n).role != "actionable"]
        derived = set(np.flatnonzero(cs.compiled.derived_mask).tolist())
        assert not moved[:, [j for j in frozen if j not in derived]].any()


def test_same_seed_same_perturbations(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    explainer = LeversLimeExplainer(model, cs, reference, **SMALL)
    client = reference.iloc[[3]]
    first = explainer.perturbations(client, 50, seed=7)
    pd.testing.assert_frame_equal(first, explainer.perturbations(client, 50, seed=7))
    assert not first.equals(explainer.perturbations(client, 50, seed=8))


# ---------------------------------------------------------------------- (c) stability
def _same(a: Explanation, b: Explanation) -> None:
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert (a.base, a.score, a.fidelity, a.stability) == (b.base, b.score, b.fidelity, b.stability)
    assert a.parameters == b.parameters
    assert a.seed == b.seed


@pytest.mark.parametrize("mode", ["all", "actionable"])
def test_same_seed_gives_the_same_explanation_bit_for_bit(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame, mode: str
) -> None:
    model, cs = logistic
    client = reference.iloc[[5]]
    first = LeversLimeExplainer(model, cs, reference, seed=11, mode=mode, **SMALL).explain(client)
    again = LeversLimeExplainer(model, cs, reference, seed=11, mode=mode, **SMALL).explain(client)
    _same(first, again)
    assert first.method == "levers_lime"
    assert first.scale == "probability"


def test_different_seeds_agree_on_the_top_features(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    """The demo logistic model, actionable mode, default sizes: top-5 Jaccard >= 0.9."""
    model, cs = logistic
    client = reference.iloc[[0]]
    runs = [
        LeversLimeExplainer(model, cs, reference, seed=s, mode="actionable").explain(client)
        for s in range(5)
    ]
    assert all(run.stability is not None and run.stability.converged for run in runs)
    for a, b in itertools.combinations(runs, 2):
        assert _jaccard(a.top(5), b.top(5)) >= 0.9


def test_the_convergence_test_stops_at_its_limit(
    trained: dict[str, Any], reference: pd.DataFrame
) -> None:
    """Halves of 20 perturbations cannot agree on a perfect top-5: the test stops at 2 x 40."""
    model, cs = trained["xgboost"].model, trained["xgboost"].constraints
    explainer = LeversLimeExplainer(
        model, cs, reference, seed=3, target_jaccard=1.0, n_start=20, max_samples=40, n_heldout=50
    )
    stability = explainer.explain(reference.iloc[[1]]).stability
    assert stability is not None
    assert not stability.converged
    assert stability.n_samples == 80  # both halves at max_samples
    assert stability.jaccard < 1.0


def test_the_convergence_test_stops_when_it_converges(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    explanation = LeversLimeExplainer(
        model, cs, reference, mode="actionable", n_start=250, max_samples=64_000
    ).explain(reference.iloc[[0]])
    stability = explanation.stability
    assert stability is not None
    assert stability.converged
    assert stability.jaccard >= 0.9
    assert stability.n_samples < 2 * 64_000
    assert explanation.parameters["n_samples"] == stability.n_samples


# ---------------------------------------------------------------------- (b) actionable mode
@pytest.mark.parametrize("row", [0, 7, 42])
def test_actionable_mode_weighs_only_what_a_lever_may_move(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame, row: int
) -> None:
    model, cs = logistic
    client = reference.iloc[[row]]
    explanation = LeversLimeExplainer(model, cs, reference, mode="actionable", **SMALL).explain(
        client
    )
    movable = {n for n, m in zip(cs.feature_names, cs.bounds_for(client).movable, strict=True) if m}
    weighed = {w.feature for w in explanation.weights}
    assert weighed
    assert weighed <= movable
    assert {w.role for w in explanation.weights} == {"actionable"}
    for name in cs.feature_names:
        if cs.feature(name).role != "actionable":
            assert explanation.weight(name) == 0.0


def test_all_mode_weighs_context_but_never_immutable(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    explanation = LeversLimeExplainer(model, cs, reference, **SMALL).explain(reference.iloc[[0]])
    roles = {w.role for w in explanation.weights}
    assert roles == {"actionable", "context"}
    assert explanation.weight("sex") == 0.0


# ---------------------------------------------------------------------- truth and fidelity
@pytest.mark.parametrize("row", [0, 7, 42, 100])
def test_top_features_follow_the_logistic_coefficients(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame, row: int
) -> None:
    """Oracle: the estimator's linear margin, from the reference client to the client.

    The logistic margin is linear in the design matrix; the true contribution of a feature
    is the margin's change when the client's value is set to the reference client's, the
    coefficient times ``x_j - ref_j`` (the whole category's coefficient difference for a
    categorical), plus the effect through the derived count it feeds. Levers LIME's top-3
    (of its non-zero weights) must be the oracle's, with the same signs.
    """
    model, cs = logistic
    client = reference.iloc[[row]]
    explanation = LeversLimeExplainer(model, cs, reference, mode="actionable").explain(client)
    coef = np.asarray(model.margin_model().function.coef)
    codes = cs.to_array(client)
    typical = cs.to_array(pd.DataFrame([explanation.parameters["reference"]]))
    truth = {}
    for w in explanation.weights:
        j = cs.feature_names.index(w.feature)
        moved = codes.copy()
        moved[0, j] = typical[0, j]
        moved = cs.rederive(codes, moved)
        change = model.space.to_design(codes) - model.space.to_design(moved)
        truth[w.feature] = float(change[0] @ coef)
    oracle = [n for n in sorted(truth, key=lambda n: -abs(truth[n])) if truth[n] != 0.0][:3]
    assert len(oracle) >= 2
    assert set(explanation.top(len(oracle))) == set(oracle)
    for name in oracle:  # and the same direction
        assert np.sign(explanation.weight(name)) == np.sign(truth[name])
    for name, value in truth.items():  # a feature at the reference weighs exactly 0
        assert (explanation.weight(name) == 0.0) == (value == 0.0)


def test_the_reference_is_the_typical_client(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    """Oracle: pandas' median of each continuous feature, the mode of each category."""
    model, cs = logistic
    typical = LeversLimeExplainer(model, cs, reference, **SMALL).explain(reference.iloc[[3]])
    found = typical.parameters["reference"]
    assert set(found) == set(cs.feature_names)
    for name in cs.feature_names:
        kind = cs.feature(name).kind
        if kind == "continuous":
            assert found[name] == pytest.approx(reference[name].median())
        elif kind in ("binary", "categorical"):
            assert found[name] == reference[name].mode().iloc[0]


@pytest.mark.parametrize("family", ["logistic", "xgboost"])
@pytest.mark.parametrize("mode", ["all", "actionable"])
def test_weights_are_contributions_that_add_up_from_the_reference(
    family: str, mode: str, trained: dict[str, Any], reference: pd.DataFrame
) -> None:
    """base + sum(weights) = output; each weight is the slope times the client's distance.

    Oracle for the slopes' meaning: each numeric weight is ``slope x (x - ref)`` in raw
    units, and moving a feature to the reference value zeroes its weight.
    """
    model, cs = trained[family].model, trained[family].constraints
    explainer = LeversLimeExplainer(model, cs, reference, seed=2, mode=mode, **SMALL)
    client = reference.iloc[[7]]
    explanation = explainer.explain(client)
    total = explanation.base + sum(w.weight for w in explanation.weights)
    assert total == pytest.approx(explanation.output, abs=1e-12)
    assert explanation.output == pytest.approx(explanation.score, abs=0.05)
    slopes, ref = explanation.parameters["slopes"], explanation.parameters["reference"]
    assert set(slopes) == {w.feature for w in explanation.weights}
    numeric = [
        w
        for w in explanation.weights
        if cs.feature(w.feature).kind in ("continuous", "integer") and w.value is not None
    ]
    assert numeric
    for w in numeric:
        assert w.weight == pytest.approx(slopes[w.feature] * (w.value - ref[w.feature]))
    name = max(numeric, key=lambda w: abs(w.weight)).feature
    at_reference = client.copy()
    at_reference[name] = ref[name]
    assert explainer.explain(at_reference).weight(name) == 0.0


def test_fidelity_is_reported_and_good_on_a_linear_model(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    explanation = LeversLimeExplainer(model, cs, reference, mode="actionable", **SMALL).explain(
        reference.iloc[[0]]
    )
    fidelity = explanation.fidelity
    assert fidelity is not None
    assert fidelity.r2 > 0.8
    assert not fidelity.poor
    assert 0.0 <= fidelity.heldout_error < 0.05


XOR_YAML = """
name: xor
features:
  x1: {kind: continuous, role: actionable, min: -1, max: 1}
  x2: {kind: continuous, role: actionable, min: -1, max: 1}
  noise: {kind: continuous, role: context}
"""


def test_fidelity_is_poor_on_a_checkerboard(tmp_path: Any) -> None:
    """The target is the sign of x1 * x2: no line fits it around the origin."""
    from advisor.models import train
    from constraints import parse_constraints

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(-1, 1, size=(1_500, 3)), columns=["x1", "x2", "noise"])
    frame["y"] = (frame["x1"] * frame["x2"] > 0).astype(int)
    cs = parse_constraints(XOR_YAML, frame)
    result = train(
        frame, "y", cs, families=("xgboost",), n_trials=1, budget_s=None, n_folds=3, seed=0
    )
    explanation = LeversLimeExplainer(
        result.model, result.constraints, frame, seed=0, **SMALL
    ).explain({"x1": 0.02, "x2": -0.03, "noise": 0.0})
    assert explanation.fidelity is not None
    assert explanation.fidelity.poor
    assert explanation.fidelity.r2 < 0.5


# ---------------------------------------------------------------------- vanilla LIME
def test_vanilla_lime_is_seeded_and_reports_its_fidelity(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    client = reference.iloc[[2]]
    explainer = make_explainer("lime", model, cs, reference, seed=4, num_samples=500)
    assert isinstance(explainer, LimeExplainer)
    assert explainer.method == "lime"
    first = explainer.explain(client)
    _same(first, LimeExplainer(model, cs, reference, seed=4, num_samples=500).explain(client))
    assert {w.feature for w in first.weights} == set(cs.feature_names)
    assert first.fidelity is not None
    assert np.isfinite(first.fidelity.r2)
    assert first.fidelity.heldout_error >= 0.0
    assert first.score == pytest.approx(float(model.score(client)[0]))
    assert first.stability is None


def test_make_explainer_builds_levers_lime(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    explainer = make_explainer("levers_lime", model, cs, reference, seed=1, mode="actionable")
    assert isinstance(explainer, LeversLimeExplainer)
    assert explainer.method == "levers_lime"


# ---------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("cls", [LimeExplainer, LeversLimeExplainer])
def test_an_unknown_parameter_is_refused(
    cls: Any, logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    with pytest.raises(
        AdvisorError,
        match=rf"^{cls.__name__}: parameters must be among .*"
        r"Got 'n_sample'\.$",
    ):
        cls(model, cs, reference, n_sample=10)


def test_bad_parameter_values_are_refused(
    logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    with pytest.raises(
        AdvisorError,
        match=r"^LeversLimeExplainer\.mode: must be one of all, "
        r"actionable\. Got 'some'\.$",
    ):
        LeversLimeExplainer(model, cs, reference, mode="some")
    with pytest.raises(
        AdvisorError,
        match=r"^LeversLimeExplainer\.max_samples: must be >= "
        r"n_start \(500\)\. Got 100\.$",
    ):
        LeversLimeExplainer(model, cs, reference, max_samples=100)
    with pytest.raises(AdvisorError, match=r"^seed: "):
        LimeExplainer(model, cs, reference, seed=-1)


@pytest.mark.parametrize("cls", [LimeExplainer, LeversLimeExplainer])
def test_bad_clients_are_refused_in_one_line(
    cls: Any, logistic: tuple[Any, ConstraintSet], reference: pd.DataFrame
) -> None:
    model, cs = logistic
    explainer = cls(model, cs, reference)
    client = reference.iloc[0].to_dict()
    with pytest.raises(AdvisorError, match=r"^client: .*region.*atlantis") as info:
        explainer.explain({**client, "region": "atlantis"})
    assert "\n" not in str(info.value)
    with pytest.raises(
        AdvisorError, match=r"^client\.monthly_income: must lie within the reference data's"
    ) as info:
        explainer.explain({**client, "monthly_income": 1e9})
    assert "\n" not in str(info.value)
    with pytest.raises(AdvisorError, match=r"^client: must give every feature .*age"):
        explainer.explain({k: v for k, v in client.items() if k != "age"})


@pytest.mark.parametrize("cls", [LimeExplainer, LeversLimeExplainer])
def test_a_model_that_is_not_a_trained_propensity_model_is_refused(
    cls: Any, trained: dict[str, Any], reference: pd.DataFrame
) -> None:
    from sklearn.linear_model import LogisticRegression

    cs = trained["logistic"].constraints
    for wrong in (LogisticRegression(), trained["logistic"].model.estimator, None):
        with pytest.raises(AdvisorError, match=r"^model: must be a trained PropensityModel"):
            cls(wrong, cs, reference)
    with pytest.raises(AdvisorError, match=r"^data: must be a non-empty DataFrame"):
        cls(trained["logistic"].model, cs, reference.iloc[:0])


# ---------------------------------------------------------------------- contract
@pytest.mark.parametrize("family", ["logistic", "xgboost", "mlp"])
@pytest.mark.parametrize("method", ["lime", "levers_lime"])
def test_the_explainer_contract_holds_for_every_family(
    method: str, family: str, trained: dict[str, Any], reference: pd.DataFrame
) -> None:
    """The protocol, the score, the client untouched, the same seed the same weights."""
    from advisor.explain import Explainer

    result = trained[family]
    params = {"num_samples": 300, "n_heldout": 100} if method == "lime" else SMALL
    explainer = make_explainer(method, result.model, result.constraints, reference, **params)
    assert isinstance(explainer, Explainer)
    client = reference.iloc[[9]].copy()
    before = client.copy()
    explanation = explainer.explain(client)
    pd.testing.assert_frame_equal(client, before)
    assert explanation.method == method
    assert explanation.product == result.model.target
    assert explanation.score == pytest.approx(float(result.model.score(client)[0]))
    if method == "lime":
        assert explanation.output == explanation.score
    else:  # the surrogate at the client: the reference's output plus the contributions
        total = explanation.base + sum(w.weight for w in explanation.weights)
        assert explanation.output == pytest.approx(total, abs=1e-12)
    assert explanation.scale == "probability"
    assert explanation.weights
    assert explanation.fidelity is not None
    again = make_explainer(method, result.model, result.constraints, reference, **params)
    _same(explanation, again.explain(client))
