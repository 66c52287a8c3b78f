"""Counterfactual quality metrics: hand-computed examples, input validation, properties."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constraints import ConstraintSet, FeatureSpec, parse_constraints
from counterfactuals import CounterfactualError
from counterfactuals import metrics as m

SMALL = """
name: small
max_changes: 2
features:
  age: {kind: integer, role: immutable}
  income: {kind: continuous, role: context, min: 0}
  transfer:
    {kind: continuous, role: actionable, direction: increase, min: 0, max: 1000, step: 50,
     max_change: 300}
  meetings: {kind: integer, role: actionable, min: 0, max: 6, max_change: 50%}
  app: {kind: binary, role: actionable, direction: increase, cost: {per_change: 2}}
  plan:
    kind: categorical
    role: actionable
    categories: [basic, plus, premium]
    transitions: {basic: [plus], plus: [premium], premium: []}
  level: {kind: ordinal, role: actionable, order: [low, mid, high], direction: increase}
  phone: {kind: binary, role: actionable}
  email: {kind: binary, role: actionable}
  n_held: {kind: integer, role: context}
one_hot:
  contact: [phone, email]
rules:
  - name: savings within means
    require: transfer <= 0.5 * income
derived:
  n_held: app + phone
"""

CLIENT = {
    "age": 40,
    "income": 1000.0,
    "transfer": 100.0,
    "meetings": 2,
    "app": False,
    "plan": "basic",
    "level": "mid",
    "phone": True,
    "email": False,
    "n_held": 1,
}


def exactly(message: str) -> str:
    return rf"^{re.escape(message)}$"


@pytest.fixture(scope="module")
def small() -> ConstraintSet:
    return parse_constraints(SMALL)


@pytest.fixture(scope="module")
def tiny() -> ConstraintSet:
    """transfer (scale 50), plan (3 categories), level (ordinal, scale 2), app (binary)."""
    return ConstraintSet(
        name="tiny",
        features=(
            FeatureSpec(name="transfer", kind="continuous", role="actionable", scale=50.0),
            FeatureSpec(
                name="plan", kind="categorical", role="actionable", categories=("a", "b", "c")
            ),
            FeatureSpec(
                name="level", kind="ordinal", role="actionable", categories=("l", "m", "h"),
                scale=2.0,
            ),
            FeatureSpec(name="app", kind="binary", role="actionable"),
        ),
    )  # fmt: skip


def rows(cs: ConstraintSet, *changes: dict[str, object]) -> np.ndarray:
    return cs.to_array(pd.DataFrame([{**CLIENT, **c} for c in changes]))


# ----------------------------------------------------------------------------- validity
def test_validity_counts_booleans_or_scores_against_a_threshold() -> None:
    assert m.validity(np.array([True, False, True, True])) == 0.75
    assert m.validity([0.7, 0.4, 0.5], threshold=0.5) == pytest.approx(2 / 3)
    assert m.validity([0.7, 0.4, 0.5], threshold=0.5, at_most=True) == pytest.approx(2 / 3)
    assert m.validity([-0.1, 0.0, 0.2], threshold=0.0) == pytest.approx(2 / 3)
    assert math.isnan(m.validity(np.zeros(0, dtype=bool)))


def test_validity_errors() -> None:
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "validity.outcome: must be booleans when no threshold is given. Got dtype float64. "
            "Hint: pass threshold= to compare scores."
        ),
    ):
        m.validity([0.2, 0.9])
    with pytest.raises(
        CounterfactualError, match=exactly("validity.outcome: must be 1-D. Got shape (1, 2).")
    ):
        m.validity([[True, False]])
    with pytest.raises(
        CounterfactualError, match=exactly("validity.threshold: must be a finite number. Got nan.")
    ):
        m.validity([0.2], threshold=math.nan)


# ----------------------------------------------------------------------------- violations
def test_violations_count_each_rule_type(small: ConstraintSet) -> None:
    candidates = rows(
        small,
        {"age": 41},  # immutable
        {"transfer": 1050.0},  # max, max_change, rule (savings within means)
        {"transfer": 125.0},  # step
        {"app": True},  # derived (n_held not recomputed)
        {"plan": "premium"},  # transition
        {"level": "low"},  # direction
        {"email": True},  # one_hot (phone and email both yes)
        {"meetings": 3, "app": True, "n_held": 2, "level": "high"},  # max_changes
        {"meetings": -1},  # min, max_change (50 % of 2)
        {"transfer": 150.0},  # feasible
        {},  # feasible (no change)
    )
    candidates[-1, small.feature_names.index("level")] = 5  # domain
    counts = m.violations(small, small.to_array(CLIENT)[0], candidates)
    assert list(counts) == list(m.RULE_TYPES)
    assert counts == {
        "immutable": 1,
        "domain": 1,
        "direction": 1,
        "min": 1,
        "max": 1,
        "max_change": 2,
        "step": 1,
        "transition": 1,
        "derived": 1,
        "one_hot": 1,
        "max_changes": 1,
        "rule": 1,
    }
    assert m.feasibility(small, small.to_array(CLIENT), candidates) == pytest.approx(1 / 11)


def test_violations_without_counterfactuals_are_all_zero(small: ConstraintSet) -> None:
    counts = m.violations(small, small.to_array(CLIENT), np.zeros((0, small.n_features)))
    assert counts == dict.fromkeys(m.RULE_TYPES, 0)
    assert math.isnan(m.feasibility(small, small.to_array(CLIENT), np.zeros((0, 10))))


# ----------------------------------------------------------------------------- distances
def test_sparsity_and_change_count(small: ConstraintSet) -> None:
    client = small.to_array(CLIENT)
    candidates = rows(
        small,
        {},
        {"transfer": 150.0},
        {"phone": False, "email": True},  # one group: one change
        {"app": True, "n_held": 2},  # derived never counts
        {"transfer": 100.0 + 1e-12},  # below the tolerance
    )
    assert m.sparsity(client, candidates).tolist() == [0, 1, 2, 2, 0]
    assert m.change_count(small, client, candidates).tolist() == [0, 1, 1, 1, 0]


def test_proximity_cost_and_one_client_per_row(tiny: ConstraintSet, small: ConstraintSet) -> None:
    client = np.array([100.0, 0.0, 1.0, 0.0])
    candidates = np.array([[200.0, 0, 1, 0], [100.0, 2, 0, 1], [100.0, 0, 1, 0], [75.0, 1, 2, 0]])
    # 100/50; plan 1 + level 1/2 + app 1; nothing; 25/50 + 1 + 1/2
    assert m.proximity(tiny, client, candidates).tolist() == [2.0, 2.5, 0.0, 2.0]
    per_row = np.vstack([client, client, candidates[2], candidates[0]])  # last: 125/50 + 1 + 1/2
    assert m.proximity(tiny, per_row, candidates).tolist() == [2.0, 2.5, 0.0, 4.0]
    sc = small.to_array(CLIENT)
    costs = m.cost(small, sc, rows(small, {"app": True, "n_held": 2}, {}))
    assert costs.tolist() == [2.0, 0.0]


def test_plausibility_is_the_mean_distance_to_the_k_nearest(tiny: ConstraintSet) -> None:
    reference = np.array([[100.0, 0, 1, 0], [150.0, 1, 1, 0], [300.0, 0, 0, 1]])
    # distances to [100, 0, 1, 0]: 0; 1 + 1 = 2; 4 + 0.5 + 1 = 5.5
    assert m.plausibility(tiny, [[100.0, 0, 1, 0]], reference, k=2).tolist() == [1.0]
    assert m.plausibility(tiny, [[100.0, 0, 1, 0]], reference, k=3).tolist() == [2.5]
    assert m.plausibility(tiny, np.zeros((0, 4)), reference, k=1).shape == (0,)


def test_lof_inlier_rate_calls_far_points_outliers() -> None:
    cs = ConstraintSet(
        name="xy",
        features=tuple(
            FeatureSpec(name=n, kind="continuous", role="actionable") for n in ("x", "y")
        ),
    )
    grid = np.array([[i, j] for i in range(10) for j in range(10)], dtype=float)
    assert m.lof_inlier_rate(cs, [[4.5, 4.5], [100.0, 100.0]], grid, n_neighbors=10) == 0.5
    assert m.lof_inlier_rate(cs, [[4.5, 4.5]], grid, max_reference=50, seed=1) == 1.0
    assert math.isnan(m.lof_inlier_rate(cs, np.zeros((0, 2)), grid))


def test_diversity(tiny: ConstraintSet) -> None:
    one_client = np.array([[100.0, 0, 1, 0], [200.0, 0, 1, 0], [100.0, 1, 1, 1]])
    # pairs: 2; 1 + 1 = 2; 2 + 1 + 1 = 4
    assert m.diversity(tiny, one_client) == pytest.approx(8 / 3)
    assert m.diversity(tiny, one_client[:1]) == 0.0
    client = np.array([100.0, 0, 1, 0])
    sets = np.array([[200.0, 0, 1, 0], [300.0, 0, 1, 0], [100.0, 1, 1, 1]])  # 2 distinct sets
    assert m.feature_set_diversity(client, sets) == pytest.approx(2 / 3)
    assert math.isnan(m.feature_set_diversity(client, np.zeros((0, 4))))


def test_time_summary() -> None:
    summary = m.time_summary([1.0, 2.0, 3.0, 4.0, 10.0])
    assert summary == {"median": 3.0, "p95": pytest.approx(8.8), "mean": 4.0, "max": 10.0}
    assert all(math.isnan(v) for v in m.time_summary([]).values())


def test_summarize_one_table_row(tiny: ConstraintSet) -> None:
    clients = np.array([[100.0, 0, 1, 0], [100.0, 0, 1, 0]])
    counterfactuals = np.array([[200.0, 0, 1, 0], [100.0, 2, 0, 1]])
    row = m.summarize(
        tiny,
        clients,
        counterfactuals,
        reached=np.array([True, False]),
        seconds=[0.5, 1.5],
        reference=clients,
        k=1,
    )
    assert row["validity"] == 0.5
    assert row["feasibility"] == 1.0
    assert row["sparsity"] == 2.0
    assert row["proximity"] == 2.25
    assert row["plausibility"] == 2.25
    assert row["time_median"] == 1.0
    assert set(row) >= {"n_counterfactuals", "changes", "cost", "lof_inlier_rate", "time_p95"}
    without = m.summarize(tiny, clients, counterfactuals, reached=[True, True], seconds=[1.0])
    assert "plausibility" not in without


# ----------------------------------------------------------------------------- input errors
def test_input_errors_say_what_must_hold(tiny: ConstraintSet) -> None:
    x = np.zeros((3, 4))
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "proximity.counterfactuals: must be a 2-D array of codes with 4 columns "
            "(one per feature). Got shape (2, 3)."
        ),
    ):
        m.proximity(tiny, np.zeros(4), np.zeros((2, 3)))
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "proximity.clients: must be one row or one row per counterfactual (3). Got 2 rows."
        ),
    ):
        m.proximity(tiny, np.zeros((2, 4)), x)
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "cost.constraints: must be a ConstraintSet (see constraints.load_constraints). "
            "Got dict."
        ),
    ):
        m.cost({}, np.zeros(4), x)  # type: ignore[arg-type]
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "sparsity.counterfactuals: must be a numeric array of codes. Got DataFrame. "
            "Hint: convert business frames with ConstraintSet.to_array(frame)."
        ),
    ):
        m.sparsity(np.zeros(1), pd.DataFrame({"plan": ["a"]}))
    with pytest.raises(
        CounterfactualError,
        match=exactly("sparsity.clients: values must be finite. Got NaN or infinity."),
    ):
        m.sparsity([math.nan, 0.0], [[0.0, 0.0]])


def test_reference_errors(tiny: ConstraintSet) -> None:
    x = np.array([[100.0, 0, 1, 0]])
    with pytest.raises(
        CounterfactualError,
        match=exactly("plausibility.reference: must hold at least k=5 rows. Got 2."),
    ):
        m.plausibility(tiny, x, np.vstack([x, x]))
    with pytest.raises(
        CounterfactualError, match=exactly("plausibility.k: must be a whole number >= 1. Got 0.")
    ):
        m.plausibility(tiny, x, x, k=0)
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "plausibility.reference: codes of 'plan' must be whole numbers in 0..2. Got 7.0."
        ),
    ):
        m.plausibility(tiny, x, [[100.0, 7, 1, 0]], k=1)
    with pytest.raises(
        CounterfactualError,
        match=exactly("lof_inlier_rate.reference: must hold at least 2 rows. Got 1."),
    ):
        m.lof_inlier_rate(tiny, x, x)
    with pytest.raises(
        CounterfactualError,
        match=exactly("feature_set_diversity.client: must be one row. Got 2 rows."),
    ):
        m.feature_set_diversity(np.zeros((2, 4)), x)
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "time_summary.seconds: must be a 1-D array of finite durations >= 0. Got [1.0, -1.0]."
        ),
    ):
        m.time_summary([1.0, -1.0])
    with pytest.raises(
        CounterfactualError,
        match=exactly(
            "summarize.reached: must hold one boolean per counterfactual (1). Got shape (2,)."
        ),
    ):
        m.summarize(tiny, x, x, reached=[True, True], seconds=[1.0])


# ----------------------------------------------------------------------------- properties
NUMERIC = ConstraintSet(
    name="numeric",
    features=tuple(
        FeatureSpec(name=f"f{j}", kind="continuous", role="actionable", scale=s)
        for j, s in enumerate((1.0, 2.5, 40.0))
    ),
)
whole = st.integers(-1000, 1000).map(float)
row3 = st.lists(whole, min_size=3, max_size=3)


@settings(max_examples=60, deadline=None)
@given(client=row3, counterfactuals=st.lists(row3, min_size=1, max_size=6))
def test_numeric_properties(client: list[float], counterfactuals: list[list[float]]) -> None:
    c, x = np.array(client), np.array(counterfactuals)
    distance = m.proximity(NUMERIC, c, x)
    np.testing.assert_array_equal(distance == 0, m.sparsity(c, x) == 0)
    np.testing.assert_array_equal(m.sparsity(c, x), (x != c).sum(axis=1))
    back = np.array([m.proximity(NUMERIC, row, c[None, :])[0] for row in x])
    np.testing.assert_allclose(distance, back)


@settings(max_examples=40, deadline=None)
@given(
    pair=st.lists(
        st.tuples(
            st.integers(0, 500).map(float),
            st.integers(0, 2),
            st.integers(0, 2),
            st.integers(0, 1),
        ),
        min_size=2,
        max_size=2,
    )
)
def test_one_distance_everywhere(tiny: ConstraintSet, pair: list[tuple[float, ...]]) -> None:
    c, x = np.array(pair[0], dtype=float), np.array([pair[1]], dtype=float)
    distance = m.proximity(tiny, c, x)[0]
    assert m.plausibility(tiny, x, c[None, :], k=1)[0] == pytest.approx(distance)
    assert m.diversity(tiny, np.vstack([c, x[0]])) == pytest.approx(distance)


def test_an_empty_list_is_no_counterfactual(tiny: ConstraintSet) -> None:
    assert m.proximity(tiny, np.zeros(4), []).shape == (0,)
    assert m.sparsity(np.zeros(4), []).shape == (0,)
    assert math.isnan(m.feasibility(tiny, np.zeros(4), []))
