"""The compiled ConstraintSet: check, bounds_for, project, sample, cost, conversions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from constraints import ConstraintError, ConstraintSet, parse_constraints

SMALL = """
name: small
max_changes: 2
features:
  age: {kind: integer, role: immutable}
  sex: {kind: categorical, role: immutable, protected: true, categories: [female, male]}
  income: {kind: continuous, role: context, min: 0, unit: EUR}
  transfer:
    kind: continuous
    role: actionable
    direction: increase
    min: 0
    max: 1000
    step: 50
    max_change: 300
    unit: EUR
    lever:
      en: Save {after} EUR a month (today {before} EUR)
      fr: Épargner {after} EUR par mois (aujourd'hui {before} EUR)
  meetings: {kind: integer, role: actionable, min: 0, max: 6, max_change: 50%}
  app: {kind: binary, role: actionable, direction: increase, cost: {per_change: 2}}
  plan:
    kind: categorical
    role: actionable
    categories: [basic, plus, premium]
    transitions: {basic: [plus], plus: [premium], premium: []}
  level: {kind: ordinal, role: actionable, order: [low, mid, high], direction: increase}
  loan: {kind: binary, role: actionable, values: ['no', 'yes']}
  debt: {kind: continuous, role: context, min: 0, max: 1}
  n_held: {kind: integer, role: context}
rules:
  - name: savings within means
    require: transfer <= 0.5 * income
  - name: affordability
    if: loan becomes yes
    require: debt <= 0.35
derived:
  n_held: app + loan
"""

CLIENT = {
    "age": 40,
    "sex": "female",
    "income": 1000.0,
    "transfer": 100.0,
    "meetings": 2,
    "app": False,
    "plan": "basic",
    "level": "mid",
    "loan": "no",
    "debt": 0.5,
    "n_held": 0,
}


@pytest.fixture(scope="module")
def cs() -> ConstraintSet:
    return parse_constraints(SMALL)


def candidate(**changes: object) -> dict[str, object]:
    return {**CLIENT, **changes}


def rules_of(cs: ConstraintSet, **changes: object) -> list[str]:
    result = cs.check(CLIENT, pd.DataFrame([candidate(**changes)]))
    return [v.rule for v in result.violations(0)]


def test_the_client_itself_is_feasible(cs: ConstraintSet) -> None:
    result = cs.check(CLIENT, pd.DataFrame([CLIENT]))
    assert result.ok.tolist() == [True]
    assert result.violations(0) == ()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"transfer": 200.0}, []),
        ({"age": 41}, ["immutable"]),
        ({"sex": "male"}, ["immutable"]),
        ({"income": 2000.0}, ["immutable"]),
        ({"transfer": 50.0}, ["direction"]),
        ({"transfer": 1050.0, "income": 1000.0}, ["max", "max_change", "rule"]),
        ({"transfer": 410.0}, ["max_change", "step"]),
        ({"transfer": 225.0}, ["step"]),
        ({"meetings": 4}, ["max_change"]),
        ({"meetings": 3}, []),
        ({"plan": "premium"}, ["transition"]),
        ({"plan": "plus"}, []),
        ({"level": "low"}, ["direction"]),
        ({"app": True}, ["derived"]),
        ({"app": True, "n_held": 1}, []),
        ({"loan": "yes", "n_held": 1}, ["rule"]),
        ({"transfer": 150.0, "meetings": 3, "plan": "plus"}, ["max_changes"]),
        ({"transfer": 550.0}, ["max_change", "rule"]),
    ],
)
def test_each_rule_type_is_detected(
    cs: ConstraintSet, changes: dict[str, object], expected: list[str]
) -> None:
    assert sorted(rules_of(cs, **changes)) == sorted(expected)


def test_messages_are_in_business_terms(cs: ConstraintSet) -> None:
    result = cs.check(CLIENT, pd.DataFrame([candidate(transfer=1050.0, plan="premium")]))
    messages = [v.message for v in result.violations(0)]
    assert messages == [
        "transfer must be at most 1,000 EUR. Got 1,050 EUR.",
        "transfer may change by at most 300 EUR in one lever. Got 100 EUR -> 1,050 EUR.",
        "plan may go from basic to plus only. Got basic -> premium.",
        "rule 'savings within means' must hold: transfer <= 0.5 * income. "
        "Got transfer = 1,050 EUR, income = 1,000 EUR.",
    ]
    frame = result.to_frame()
    assert frame.columns.tolist() == ["candidate", "feature", "rule", "message"]
    assert frame["rule"].tolist() == ["max", "max_change", "transition", "rule"]


def test_global_rules_only_bind_when_a_feature_they_name_changes(cs: ConstraintSet) -> None:
    client = {**CLIENT, "transfer": 900.0}  # already above half the income
    assert cs.check(client, pd.DataFrame([client])).ok.all()
    moved = pd.DataFrame([{**client, "meetings": 3}])
    assert cs.check(client, moved).ok.all()
    more = pd.DataFrame([{**client, "transfer": 950.0}])
    assert [v.rule for v in cs.check(client, more).violations(0)] == ["rule"]


def test_nan_and_invalid_codes_are_violations(cs: ConstraintSet) -> None:
    x = cs.to_array(CLIENT)
    bad = np.repeat(x, 3, axis=0)
    bad[0, cs.feature_names.index("transfer")] = np.nan
    bad[1, cs.feature_names.index("plan")] = 7
    bad[2, cs.feature_names.index("plan")] = 0.5
    result = cs.check(x, bad)
    assert not result.ok.any()
    assert {v.rule for i in range(3) for v in result.violations(i)} >= {"domain"}


def test_check_accepts_one_client_per_candidate(cs: ConstraintSet) -> None:
    clients = pd.DataFrame([CLIENT, {**CLIENT, "transfer": 300.0}])
    result = cs.check(clients, clients)
    assert result.ok.all()
    with pytest.raises(ConstraintError, match=r"^client: must be one row or 1 rows"):
        cs.check(clients, clients.iloc[:1])


def test_bounds_for_combines_direction_bounds_and_max_change(cs: ConstraintSet) -> None:
    bounds = cs.bounds_for(CLIENT)
    j = cs.feature_names.index("transfer")
    assert (bounds.lower[j], bounds.upper[j]) == (100.0, 400.0)
    j = cs.feature_names.index("meetings")
    assert (bounds.lower[j], bounds.upper[j]) == (1.0, 3.0)
    assert bounds.allowed[cs.feature_names.index("plan")] == frozenset({0, 1})
    assert bounds.allowed[cs.feature_names.index("level")] == frozenset({1, 2})
    assert bounds.allowed[cs.feature_names.index("app")] == frozenset({0, 1})
    frame = bounds.to_frame().set_index("feature")
    assert frame.loc["sex", "reason"] == "protected attribute"
    assert str(frame.loc["income", "reason"]).startswith("context")
    assert str(frame.loc["n_held", "reason"]).startswith("derived")
    assert frame.loc["transfer", "reachable"] == "100 EUR to 400 EUR"


def test_a_feature_at_its_limit_cannot_move_and_says_why(cs: ConstraintSet) -> None:
    bounds = cs.bounds_for({**CLIENT, "level": "high", "app": True})
    assert not bounds.movable[cs.feature_names.index("level")]
    assert "no value other than the current one" in bounds.reasons[cs.feature_names.index("app")]


def test_project_snaps_clips_and_repairs(cs: ConstraintSet) -> None:
    x = cs.to_array(CLIENT)
    names = cs.feature_names
    raw = np.repeat(x, 4, axis=0)
    raw[0, names.index("transfer")] = 333.0  # snap to 350 (within max change 300)
    raw[1, names.index("transfer")] = 5000.0  # clip to 400 (100 + max change)
    raw[1, names.index("age")] = 99  # immutable: reset
    raw[2, names.index("app")] = 1.0  # derived n_held follows
    raw[3, names.index("transfer")] = 20.0  # direction increase: stays at 100
    projection = cs.project(x, raw)
    values = projection.values
    assert values[0, names.index("transfer")] == 350.0
    assert values[1, names.index("transfer")] == 400.0
    assert values[1, names.index("age")] == 40.0
    assert values[2, names.index("n_held")] == 1.0
    assert projection.changed.tolist() == [True, True, True, False]
    assert cs.check(x, values).ok.all()


def test_project_keeps_the_largest_changes_within_max_changes(cs: ConstraintSet) -> None:
    x = cs.to_array(CLIENT)
    names = cs.feature_names
    raw = x.copy()
    raw[0, names.index("transfer")] = 400.0
    raw[0, names.index("meetings")] = 3.0
    raw[0, names.index("plan")] = 1.0
    values = cs.project(x, raw).values
    assert cs.check(x, values).ok.all()
    changed = [n for n, a, b in zip(names, values[0], x[0], strict=True) if a != b]
    assert len(changed) == 2
    assert "transfer" in changed


def test_project_undoes_changes_that_break_a_rule(cs: ConstraintSet) -> None:
    x = cs.to_array(CLIENT)
    names = cs.feature_names
    raw = x.copy()
    raw[0, names.index("loan")] = 1.0  # debt 0.5 > 0.35: the loan cannot be proposed
    projection = cs.project(x, raw)
    assert projection.values[0, names.index("loan")] == 0.0
    assert projection.repaired.tolist() == [True]
    assert not projection.changed[0]


def test_sample_returns_feasible_levers_deterministically(cs: ConstraintSet) -> None:
    first = cs.sample(CLIENT, 200, seed=3)
    again = cs.sample(CLIENT, 200, seed=3)
    assert first.shape == (200, cs.n_features)
    np.testing.assert_array_equal(first, again)
    assert cs.check(CLIENT, first).ok.all()
    assert (first != cs.to_array(CLIENT)).any(axis=1).all()
    other = cs.sample(CLIENT, 200, seed=4)
    assert not np.array_equal(first, other)


def test_sample_of_a_client_with_no_lever_is_empty(cs: ConstraintSet) -> None:
    frozen = {**CLIENT, "transfer": 500.0, "meetings": 0, "app": True, "plan": "premium"}
    frozen |= {"level": "high", "loan": "no", "n_held": 1}
    assert cs.sample(frozen, 10, seed=0).shape == (0, cs.n_features)
    # per feature, only transfer and loan could move; the global rules forbid both moves
    # (saving more than half the income; a loan with a debt ratio above 0.35)
    movable = cs.bounds_for(frozen).movable
    assert [n for n, m in zip(cs.feature_names, movable, strict=True) if m] == ["transfer", "loan"]


def test_cost_adds_per_unit_per_change_and_mad_terms(cs: ConstraintSet) -> None:
    x = cs.to_array(CLIENT)
    names = cs.feature_names
    raw = np.repeat(x, 2, axis=0)
    raw[0, names.index("app")] = 1.0
    raw[0, names.index("n_held")] = 1.0
    raw[1, names.index("transfer")] = 300.0
    costs = cs.feature_costs(x, raw)
    assert costs[0, names.index("app")] == 2.0
    assert costs[0, names.index("n_held")] == 0.0  # derived features cost nothing
    scale = cs.feature("transfer").scale  # no data: a quarter of the 0-1000 range
    assert scale == 250.0
    assert costs[1, names.index("transfer")] == pytest.approx(200.0 / scale)
    np.testing.assert_allclose(cs.cost(x, raw), costs.sum(axis=1))


def test_percentile_shift_cost_uses_the_data() -> None:
    data = pd.DataFrame({"x": np.arange(101.0)})
    cs = parse_constraints(
        "name: p\nfeatures:\n  x: {kind: continuous, role: actionable, "
        "cost: {percentile_shift: 10}}\n",
        data,
    )
    assert cs.cost([[50.0]], [[60.0]])[0] == pytest.approx(1.0)


def test_default_cost_is_scaled_by_the_median_absolute_deviation() -> None:
    data = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 10.0]})
    cs = parse_constraints("name: m\nfeatures:\n  x: {kind: continuous, role: actionable}\n", data)
    assert cs.feature("x").scale == 1.0  # median 2, |x - 2| = 2 1 0 1 8 -> MAD 1
    assert cs.cost([[2.0]], [[5.0]])[0] == pytest.approx(3.0)


def test_percentile_bounds_are_resolved_against_data() -> None:
    data = pd.DataFrame({"x": np.arange(1001.0), "k": np.arange(1001)})
    text = (
        "name: q\nfeatures:\n  x: {kind: continuous, role: actionable, min: p1, max: p99}\n"
        "  k: {kind: integer, role: actionable, min: p0.5, max: p99.95}\n"
    )
    cs = parse_constraints(text, data)
    assert (cs.feature("x").lower, cs.feature("x").upper) == (10.0, 990.0)
    assert (cs.feature("k").lower, cs.feature("k").upper) == (5.0, 999.0)


def test_allowing_context_features_for_a_run(cs: ConstraintSet) -> None:
    moved = pd.DataFrame([candidate(income=1500.0)])
    assert not cs.check(CLIENT, moved).ok.any()
    allowed = cs.allowing("income")
    assert allowed.check(CLIENT, moved).ok.all()
    assert cs.allowed_context == frozenset()
    with pytest.raises(ConstraintError, match=r"^allowing: only context features can be"):
        cs.allowing("age")
    with pytest.raises(ConstraintError, match=r"^feature: must be one of age, sex"):
        cs.allowing("salary")


def test_arrays_round_trip_through_business_values(cs: ConstraintSet) -> None:
    frame = pd.DataFrame([CLIENT, {**CLIENT, "plan": "premium", "loan": "yes", "app": True}])
    array = cs.to_array(frame)
    assert array[1, cs.feature_names.index("plan")] == 2.0
    back = cs.to_frame(array)
    assert back["plan"].tolist() == ["basic", "premium"]
    assert back["loan"].tolist() == ["no", "yes"]
    assert back["app"].tolist() == [False, True]
    assert back["level"].cat.ordered
    np.testing.assert_array_equal(cs.to_array(back), array)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {**CLIENT, "plan": "gold"},
            r"^data\.plan: values must be among the categories \(basic, plus, premium\)\. "
            r"Got 'gold' in row 0\. Hint: add them to the constraint file, or clean the data\.$",
        ),
        (
            {**CLIENT, "income": "a lot"},
            r"^data\.income: a continuous feature must hold numbers\. Got 'a lot' in row 0\. "
            r"Hint: clean the column",
        ),
        (
            {**CLIENT, "app": 2},
            r"^data\.app: a binary feature must hold 0/1 or true/false\. Got 2\. Hint: map the",
        ),
        (
            {k: v for k, v in CLIENT.items() if k != "debt"},
            r"^data: must have a column for every feature of the constraint set\. "
            r"Got no column 'debt'\.$",
        ),
        ({**CLIENT, "debt": None}, r"^data\.debt: values must not be missing\."),
        ([1.0, 2.0], r"^values: an array must have 11 columns, one per feature"),
        ("text", r"^values: must be a DataFrame, a row"),
    ],
)
def test_bad_values_get_clear_errors(cs: ConstraintSet, values: object, message: str) -> None:
    with pytest.raises(ConstraintError, match=message):
        cs.to_array(values)


def test_sample_validates_n(cs: ConstraintSet) -> None:
    with pytest.raises(ConstraintError, match=r"^n: must be a whole number >= 0\. Got -1\.$"):
        cs.sample(CLIENT, -1)
    with pytest.raises(ConstraintError, match=r"^client: values must not be missing"):
        cs.sample(np.full(cs.n_features, np.nan), 3)


def test_describe_lists_every_feature(cs: ConstraintSet) -> None:
    table = cs.describe().set_index("feature")
    assert table.loc["transfer", "range"] == "0 EUR to 1,000 EUR"
    assert table.loc["level", "range"] == "low < mid < high"
    assert table.loc["sex", "role"] == "immutable (protected)"
    assert table.loc["n_held", "role"] == "derived"
    assert table.loc["meetings", "max_change"] == "50%"
    assert set(table["missing"]) == {"forbid"}
    assert math.isinf(cs.feature("income").upper)


def test_demo_constraints_accept_every_client(
    demo_constraints: ConstraintSet, small_portfolio: pd.DataFrame
) -> None:
    x = demo_constraints.to_array(small_portfolio)
    assert demo_constraints.check(x, x).ok.all()
    assert demo_constraints.notes == ()


def test_bounds_for_folds_in_rules_about_one_feature() -> None:
    cs = parse_constraints(
        "name: r\nfeatures:\n"
        "  month: {kind: categorical, role: actionable, categories: [jan, feb, mar, apr]}\n"
        "  calls: {kind: integer, role: actionable, min: 0, max: 50}\n"
        "rules:\n"
        "  - require: month not in [jan, feb]\n"
        "  - require: 2 * calls <= 20\n"
    )
    bounds = cs.bounds_for({"month": "jan", "calls": 3})
    assert bounds.allowed[0] == frozenset({0, 2, 3})  # jan is where the client is today
    assert (bounds.lower[1], bounds.upper[1]) == (0.0, 10.0)
    assert cs.check(
        {"month": "jan", "calls": 3}, cs.sample({"month": "jan", "calls": 3}, 50)
    ).ok.all()


def test_sample_reaches_values_the_data_barely_has() -> None:
    data = pd.DataFrame({"policies": [0] * 999 + [1], "other": np.arange(1000.0)})
    cs = parse_constraints(
        "name: rare\nfeatures:\n"
        "  policies: {kind: integer, role: actionable, direction: increase, max: 1}\n"
        "  other: {kind: continuous, role: immutable}\n",
        data,
    )
    sample = cs.sample({"policies": 0, "other": 5.0}, 20, seed=0)
    assert len(sample) == 20
    assert (sample[:, 0] == 1.0).all()


def test_lever_text_formats_numbers_per_language(cs: ConstraintSet) -> None:
    assert cs.lever_text("transfer", 1000.0, 1250.0, "en") == (
        "Save 1,250 EUR a month (today 1,000 EUR)"
    )
    assert cs.lever_text("transfer", 1000.0, 1250.0, "fr") == (
        "Épargner 1\u202f250 EUR par mois (aujourd'hui 1\u202f000 EUR)"
    )
    assert cs.lever_text("meetings", 2, 3) == "Meetings: increase from 2 to 3"
    with pytest.raises(ConstraintError, match=r"^language: must be en or fr\. Got 'de'\.$"):
        cs.lever_text("meetings", 2, 3, "de")


def test_a_category_with_no_allowed_move_says_so(cs: ConstraintSet) -> None:
    client = {**CLIENT, "plan": "premium"}
    result = cs.check(client, pd.DataFrame([{**client, "plan": "basic"}]))
    assert [v.message for v in result.violations(0)] == [
        "plan cannot change from premium. Got premium -> basic."
    ]


def test_project_shifts_an_amount_onto_a_linear_rule_boundary(cs: ConstraintSet) -> None:
    x = cs.to_array({**CLIENT, "income": 700.0})
    names = cs.feature_names
    raw = x.copy()
    raw[0, names.index("transfer")] = 390.0  # above half the income (350)
    projection = cs.project(x, raw)
    assert projection.values[0, names.index("transfer")] == 350.0  # the boundary, on the grid
    assert projection.changed.tolist() == [True]
    assert projection.repaired.tolist() == [True]
    raw[0, names.index("transfer")] = 390.0
    odd = cs.to_array({**CLIENT, "income": 690.0})
    assert cs.project(odd, raw).values[0, names.index("transfer")] == 300.0  # floor to step 50


def test_change_groups_count_as_one_change() -> None:
    text = (
        "name: g\nmax_changes: 1\nfeatures:\n"
        "  n_car: {kind: integer, role: actionable, min: 0}\n"
        "  car_premium: {kind: ordinal, role: actionable, order: [0, 1, 2, 3]}\n"
        "  n_fire: {kind: integer, role: actionable, min: 0}\n"
        "change_groups:\n  car: [n_car, car_premium]\n"
    )
    cs = parse_constraints(text)
    client = {"n_car": 0, "car_premium": 0, "n_fire": 0}
    both = pd.DataFrame([{"n_car": 1, "car_premium": 2, "n_fire": 0}])
    assert cs.check(client, both).ok.all()
    too_many = pd.DataFrame([{"n_car": 1, "car_premium": 2, "n_fire": 1}])
    (violation,) = cs.check(client, too_many).violations(0)
    assert violation.message == ("at most 1 feature may change in one lever. Got 2: car, n_fire.")
    projected = cs.project(client, too_many)
    assert cs.check(client, projected.values).ok.all()
    sample = cs.sample(client, 40, seed=0)
    assert cs.check(client, sample).ok.all()
    assert ((sample[:, 0] != 0) & (sample[:, 1] != 0)).any()  # the group moves together
