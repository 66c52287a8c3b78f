"""Targets: construction, binding to a model's outputs, and the slack that decides validity."""

from __future__ import annotations

import numpy as np
import pytest

from counterfactuals import CounterfactualError, Target


def test_probability_and_risk_targets() -> None:
    proba = np.array([[0.7, 0.3], [0.4, 0.6]])
    up = Target.probability(0.5).bind((False, True), proba[0], ranked=False)
    np.testing.assert_allclose(up.slack(proba), [-0.2, 0.1])
    down = Target.probability(0.5, at_most=True).bind((False, True), proba[0], ranked=False)
    np.testing.assert_allclose(down.slack(proba), [0.2, -0.1])
    assert up.linear_goal() == (1, ">=", 0.5)
    assert down.linear_goal() == (1, "<=", 0.5)
    named = Target.probability(0.6, output=False).bind((False, True), proba[0], ranked=False)
    assert named.column == 0
    goal = named.linear_goal()
    assert goal is not None
    assert goal[:2] == (1, "<=")
    assert goal[2] == pytest.approx(0.4)
    risk = Target.probability(0.6, output=False, at_most=True)
    goal = risk.bind((False, True), proba[0], ranked=False).linear_goal()
    assert goal is not None
    assert goal[:2] == (1, ">=")
    assert goal[2] == pytest.approx(0.4)


def test_flip_goes_to_the_other_class() -> None:
    outputs = ("no", "yes")
    to_yes = Target.flip().bind(outputs, np.array([0.8, 0.2]), ranked=False)
    assert to_yes.column == 1
    assert to_yes.linear_goal() == (1, ">=", 0.5)
    to_no = Target.flip().bind(outputs, np.array([0.2, 0.8]), ranked=False)
    assert to_no.column == 0
    assert to_no.linear_goal() == (1, "<", 0.5)
    assert (to_no.slack(np.array([[0.5, 0.5]])) < 0).all()  # 0.5 is still "yes"
    assert (to_no.slack(np.array([[0.6, 0.4]])) > 0).all()
    with pytest.raises(CounterfactualError, match=r"^target.output: must differ"):
        Target.flip("yes").bind(outputs, np.array([0.2, 0.8]), ranked=False)
    multi = Target.flip("b").bind(("a", "b", "c"), np.array([0.5, 0.3, 0.2]), ranked=False)
    np.testing.assert_array_less(multi.slack(np.array([[0.5, 0.3, 0.2]])), 0)
    assert (multi.slack(np.array([[0.2, 0.5, 0.3]])) > 0).all()
    assert multi.linear_goal() is None
    with pytest.raises(CounterfactualError, match=r"^target.output: must name the class"):
        Target.flip().bind(("a", "b", "c"), np.array([0.5, 0.3, 0.2]), ranked=False)


def test_top_product_by_expected_value_with_a_margin() -> None:
    products = ("savings", "life", "loan")
    values = np.array([100.0, 300.0, 200.0])
    target = Target.top("life", margin=0.1)
    bound = target.bind(products, np.array([0.5, 0.1, 0.1]), ranked=True)
    proba = np.array([[0.5, 0.1, 0.1], [0.3, 0.2, 0.1], [0.3, 0.2, 0.4], [0.3, 0.2, 0.4]])
    held = np.array([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1]], dtype=bool)
    slack = bound.slack(proba, held, values)
    # ev: 50/30/20 -> behind; 30/60/20 -> 60 >= 1.1*30; 30/60/80 -> behind; loan held -> ahead
    assert (slack >= 0).tolist() == [False, True, False, True]
    held_life = np.array([[0, 1, 0]], dtype=bool)
    assert (bound.slack(proba[:1], held_life, values) < 0).all()
    assert bound.linear_goal() is None
    by_p = Target.top("life", by="propensity").bind(products, proba[0], ranked=True)
    assert (by_p.slack(proba[1:2], held[1:2], values) < 0).all()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Target(kind="up"),  # type: ignore[arg-type]
            r"^target\.kind: must be one of flip, probability, top\. Got 'up'\.$",
        ),
        (
            lambda: Target.probability(0.0),
            r"^target\.threshold: must be a probability in \(0, 1\)\. Got 0\.0\.$",
        ),
        (
            lambda: Target.probability(0.5, at_most="yes"),  # type: ignore[arg-type]
            r"^target\.at_most: must be True or False\. Got 'yes'\.$",
        ),
        (
            lambda: Target.top("x", margin=-1),
            r"^target\.margin: must be a finite number >= 0\. Got -1\.$",
        ),
        (
            lambda: Target(kind="top"),
            r"^target\.output: a top target must name the product\. Got None\.$",
        ),
    ],
)
def test_bad_targets_are_named(build: object, message: str) -> None:
    with pytest.raises(CounterfactualError, match=message):
        build()  # type: ignore[operator]


def test_binding_checks_the_model_kind() -> None:
    with pytest.raises(CounterfactualError, match=r"^target: 'top' needs a product recommender"):
        Target.top("life").bind((False, True), np.array([0.5, 0.5]), ranked=False)
    with pytest.raises(CounterfactualError, match=r"^target: 'flip' needs a classifier"):
        Target.flip().bind(("a", "b"), np.array([0.5, 0.5]), ranked=True)
    with pytest.raises(CounterfactualError, match=r"^target.output: must be one of the model's"):
        Target.top("car").bind(("a", "b"), np.array([0.5, 0.5]), ranked=True)
    assert "top recommendation" in Target.top("life").describe()
