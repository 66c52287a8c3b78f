"""Missing values in the constraint language: ``missing: forbid | keep | {impute: ...}``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constraints import ConstraintError, ConstraintFileError, changed, parse_constraints

FILE = """
name: missing
features:
  income: {{kind: continuous, role: actionable, min: p1, max: p99, missing: {income}}}
  savings: {{kind: continuous, role: actionable, min: 0, max: p99, step: 10,
            missing: {savings}}}
  children: {{kind: integer, role: actionable, min: 0, max: 6, missing: {children}}}
  plan: {{kind: categorical, role: actionable, categories: [basic, plus, gold],
         missing: {plan}}}
  band: {{kind: ordinal, role: actionable, order: [low, mid, high], missing: {band}}}
  app: {{kind: binary, role: actionable, missing: {app}}}
  age: {{kind: integer, role: immutable}}
max_changes: 2
"""
KEEP = dict.fromkeys(("income", "savings", "children", "plan", "band", "app"), "keep")


def text(**missing: str) -> str:
    return FILE.format(**{**KEEP, **missing})


def frame(n: int = 200, share: float = 0.2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "income": rng.lognormal(7.8, 0.4, n).round(2),
            "savings": rng.integers(0, 80, n) * 10.0,
            "children": rng.integers(0, 5, n).astype(float),
            "plan": rng.choice(["basic", "plus", "gold"], n, p=[0.6, 0.3, 0.1]).astype(object),
            "band": rng.choice(["low", "mid", "high"], n).astype(object),
            "app": rng.random(n) < 0.4,
            "age": rng.integers(18, 90, n),
        }
    )
    data["app"] = data["app"].astype(object)
    for column in ("income", "savings", "children", "plan", "band", "app"):
        data.loc[rng.random(n) < share, column] = None
    return data


def test_forbid_refuses_the_data_naming_the_feature_the_share_and_the_fix() -> None:
    data = frame()
    data.loc[:, ["savings", "children", "plan", "band", "app"]] = frame(share=0.0)
    n = int(data["income"].isna().sum())
    with pytest.raises(ConstraintFileError) as info:
        parse_constraints(text(income="forbid"), data)
    (problem,) = info.value.problems
    share = f"{100 * n / len(data):.1f}".rstrip("0").rstrip(".")
    assert problem.path == "features.income"
    assert problem.message.startswith(
        f"values must not be missing. Got {n} of 200 rows missing ({share} %) (rows "
    )
    assert "missing: keep for income" in problem.hint
    assert "missing: {impute: median}" in problem.hint


def test_keep_bounds_and_scales_come_from_the_known_values_only() -> None:
    data = frame()
    cs = parse_constraints(text(), data)
    for name in ("income", "savings"):
        known = data[name].dropna().to_numpy(dtype=float)
        spec = cs.feature(name)
        assert spec.missing == "keep"
        if name == "income":
            assert spec.lower == pytest.approx(np.percentile(known, 1))
            assert spec.upper == pytest.approx(np.percentile(known, 99))
        scale = np.median(np.abs(known - np.median(known)))
        assert spec.scale == pytest.approx(scale)
    codes = cs.to_array(data)
    assert np.array_equal(np.isnan(codes[:, :6]), data.iloc[:, :6].isna().to_numpy())


def test_impute_median_and_mode_come_from_the_data_and_fill_new_clients() -> None:
    data = frame()
    cs = parse_constraints(
        text(
            income="{impute: median}",
            children="{impute: median}",
            plan="{impute: mode}",
            app="{impute: mode}",
        ),
        data,
    )
    income = data["income"].dropna().to_numpy(dtype=float)
    children = np.sort(data["children"].dropna().to_numpy(dtype=float))
    assert cs.feature("income").imputed == pytest.approx(np.median(income))
    assert cs.feature("children").imputed == children[(len(children) - 1) // 2]  # lower median
    mode = data["plan"].dropna().value_counts().idxmax()
    assert cs.feature("plan").categories[int(cs.feature("plan").imputed)] == mode
    described = cs.describe().set_index("feature")["missing"]
    assert described["plan"] == f"impute: {mode}"
    assert described["savings"] == "keep"
    assert described["age"] == "forbid"
    client = {
        "income": None,
        "savings": 100.0,
        "children": None,
        "plan": None,
        "band": "low",
        "app": None,
        "age": 40,
    }
    row = cs.to_array(client)[0]
    assert row[0] == pytest.approx(np.median(income))
    assert not np.isnan(row[[0, 2, 3, 5]]).any()
    assert cs.bounds_for(row[None, :]).movable[0]


def test_impute_needs_data_when_a_client_has_a_missing_value() -> None:
    cs = parse_constraints(
        text(income="{impute: median}").replace("p1", "0").replace("p99", "1000000")
    )
    with pytest.raises(ConstraintError, match=r"^data\.income: a missing value needs its imputed"):
        cs.to_array(
            {**dict.fromkeys(KEEP, 1.0), "plan": "basic", "band": "low", "income": None, "age": 30}
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "drop",
            r"features\.income\.missing: must be forbid, keep, \{impute: median\} or "
            r"\{impute: mode\}\. Got 'drop'\.",
        ),
        ("{impute: mean}", r"features\.income\.missing: must be forbid, keep, "),
    ],
)
def test_a_wrong_missing_key_is_a_file_problem(value: str, message: str) -> None:
    with pytest.raises(ConstraintFileError, match=message):
        parse_constraints(text(income=value), frame())


def test_a_median_of_unordered_categories_is_refused_before_binding() -> None:
    with pytest.raises(ConstraintFileError) as info:
        parse_constraints(text(plan="{impute: median}"))
    (problem,) = info.value.problems
    assert problem.path == "features.plan.missing.impute"
    assert problem.hint == "write impute: mode (the most frequent category)."


def test_a_client_missing_a_forbid_feature_gets_an_error_naming_it() -> None:
    cs = parse_constraints(text(), frame())
    row = cs.to_array(frame(share=0.0).iloc[:1])
    row[0, 6] = np.nan  # age: missing is forbidden (the default)
    with pytest.raises(
        ConstraintError,
        match=r"^client: values must not be missing\. Got NaN "
        r"in \['age'\]\. Hint: write missing: keep",
    ):
        cs.check(row, row)


def test_check_missing_to_missing_is_no_change_and_filling_it_is_a_violation() -> None:
    cs = parse_constraints(text(), frame())
    client = np.array([[np.nan, 100.0, np.nan, np.nan, 0.0, np.nan, 40.0]])
    same = client.copy()
    more = client.copy()
    more[0, 1] = 200.0
    filled = client.copy()
    filled[0, [0, 3]] = [2500.0, 1.0]
    lost = client.copy()
    lost[0, 1] = np.nan
    result = cs.check(client, np.vstack([same, more, filled, lost]))
    assert result.ok.tolist() == [True, True, False, False]
    assert {v.feature: v.rule for v in result.violations(2)} == {
        "income": "missing",
        "plan": "missing",
    }
    assert "income is unknown for this client (missing: keep)" in result.violations(2)[0].message
    assert [v.rule for v in result.violations(3)] == ["domain"]
    assert not changed(client, same).any()
    assert np.isfinite(cs.cost(client, np.vstack([same, more]))).all()
    bounds = cs.bounds_for(client)
    assert not bounds.movable[[0, 2, 3, 5]].any()
    assert bounds.movable[1]
    assert bounds.reasons[0].startswith("missing: the value is unknown for this client")


def clients() -> st.SearchStrategy[np.ndarray]:
    value = {
        0: st.floats(500, 5000),
        1: st.sampled_from([0.0, 100.0, 550.0]),
        2: st.sampled_from([0.0, 2.0, 5.0]),
        3: st.sampled_from([0.0, 1.0, 2.0]),
        4: st.sampled_from([0.0, 1.0, 2.0]),
        5: st.sampled_from([0.0, 1.0]),
    }
    columns = [st.one_of(value[j], st.just(np.nan)) for j in range(6)]
    return st.tuples(*columns, st.integers(18, 90)).map(lambda r: np.array([r], dtype=float))


CS = parse_constraints(text(), frame())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=clients(), seed=st.integers(0, 2**16))
def test_sampled_and_projected_candidates_never_change_a_missing_value(
    client: np.ndarray, seed: int
) -> None:
    missing = np.isnan(client[0])
    drawn = CS.sample(client, 12, seed=seed)
    rng = np.random.default_rng(seed)
    noisy = np.repeat(client, 12, axis=0) + rng.normal(0, 300, (12, 7)) * (
        rng.random((12, 7)) < 0.4
    )
    projected = CS.project(client, noisy).values
    for rows in (drawn, projected):
        assert np.isnan(rows[:, missing]).all()
        assert not np.isnan(rows[:, ~missing]).any()
        assert CS.check(client, rows).ok.all()
        assert np.isfinite(CS.cost(client, rows)).all()
        assert not changed(client, rows)[:, missing].any()


def test_lever_text_says_an_imputed_value_was_unknown() -> None:
    data = frame()
    cs = parse_constraints(text(income="{impute: median}"), data)
    assumed = cs.format_value("income", cs.feature("income").imputed)
    verb = "increase" if cs.feature("income").imputed < 3000 else "reduce"
    assert cs.lever_text("income", None, 3000.0) == (
        f"Income: {verb} from unknown ({assumed} assumed) to 3,000"
    )
    assert " de inconnu (" in cs.lever_text("income", np.nan, 3000.0, "fr")
    assert cs.lever_text("income", 2000.0, 3000.0) == "Income: increase from 2,000 to 3,000"
    decoded = cs.to_frame(cs.to_array(data))
    assert decoded["plan"].isna().equals(data["plan"].isna())


@st.composite
def frames_with_gaps(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(8, 40))
    rows = st.lists(st.booleans(), min_size=n, max_size=n)
    data = frame(n=n, share=0.0, seed=draw(st.integers(0, 2**16)))
    for column in KEEP:
        gaps = np.array(draw(rows)) & (np.arange(n) > 0)  # row 0 keeps every value
        data.loc[gaps, column] = None
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=frames_with_gaps(), seed=st.integers(0, 2**16))
def test_for_random_frames_no_candidate_ever_changes_a_missing_value(
    data: pd.DataFrame, seed: int
) -> None:
    cs = parse_constraints(text(), data)
    codes = cs.to_array(data)
    assert np.array_equal(np.isnan(codes[:, :6]), data[list(KEEP)].isna().to_numpy())
    for i in range(min(len(data), 6)):
        client = codes[i : i + 1]
        missing = np.isnan(client[0])
        rows = cs.sample(client, 8, seed=seed)
        assert np.isnan(rows[:, missing]).all()
        assert cs.check(client, rows).ok.all()
        assert not changed(client, rows)[:, missing].any()
