"""Drafting a constraint file from data: kinds, flags, and a draft that validates and binds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constraints import (
    ConstraintError,
    ConstraintSet,
    bind_constraints,
    draft_constraint_file,
    draft_constraints,
    inspect_constraint_file,
)


def validate_and_bind(text: str, frame: pd.DataFrame) -> ConstraintSet:
    """The oracle: the loader itself (no error), then binding to the data."""
    doc, problems = inspect_constraint_file(text, "draft.yaml")
    errors = [str(p) for p in problems if p.severity == "error"]
    assert not errors, errors
    assert doc is not None
    return bind_constraints(doc, frame)


def synthetic(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(7.5, 0.4, n)
    return pd.DataFrame(
        {
            "client_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 90, n),
            "income": income,
            "has_card": rng.random(n) < 0.4,
            "is_owner": rng.integers(0, 2, n),
            "segment": rng.choice(["retail", "private", "business"], n),
            "risk_band": rng.choice(["low", "medium", "high"], n),
            "smoker": rng.choice(["yes", "no"], n),
            "country": "FR",
            "churned": rng.choice(["no", "yes"], n),
        }
    )


def features_of(text: str) -> dict[str, dict[str, object]]:
    return dict(yaml.safe_load(text)["features"])


def test_kinds_are_the_ones_the_frame_was_built_with() -> None:
    frame = synthetic()
    draft = draft_constraints(frame, target="churned", name="bank")
    features = features_of(draft.text)
    kinds = {name: spec["kind"] for name, spec in features.items()}
    assert kinds == {
        "age": "integer",
        "income": "continuous",
        "has_card": "binary",
        "is_owner": "binary",
        "segment": "categorical",
        "risk_band": "categorical",
        "smoker": "binary",
    }
    assert features["segment"]["categories"] == ["business", "private", "retail"]
    assert features["smoker"]["values"] == ["no", "yes"]
    assert {spec["role"] for spec in features.values()} == {"context"}
    assert features["age"]["min"] == "p1"
    assert features["income"]["max"] == "p99"
    assert features["risk_band"]["label"] == {"en": "Risk band", "fr": "TODO Risk band"}
    assert draft.commented_out == ("client_id", "country")
    assert "consider kind: ordinal" in draft.text.split("  risk_band:")[0].rsplit("# risk", 1)[1]
    bound = validate_and_bind(draft.text, frame.drop(columns="churned"))
    assert bound.goal == "raise"
    assert "\ngoal: raise\n" in draft.text  # written out, with what lower means above it
    age = bound.feature("age")
    assert (age.lower, age.upper) == (
        np.ceil(np.percentile(frame["age"], 1)),
        np.floor(np.percentile(frame["age"], 99)),
    )


def test_identifiers_constants_and_a_planted_leak_are_flagged() -> None:
    frame = synthetic(400, seed=3)
    rng = np.random.default_rng(9)
    churned = frame["churned"] == "yes"
    frame["days_since_closure"] = np.where(churned, rng.integers(1, 30, 400), 0)
    frame["exit_reason"] = np.where(churned, rng.choice(["price", "service"], 400), "none")
    draft = draft_constraints(frame, target="churned", name="bank")
    reasons = {(f.feature, f.reason) for f in draft.flags}
    assert reasons == {
        ("client_id", "identifier"),
        ("country", "constant"),
        ("days_since_closure", "leak"),
        ("exit_reason", "leak"),
    }
    leak = next(f for f in draft.flags if f.feature == "days_since_closure")
    assert "AUC 1.000" in leak.message
    assert "100.0% of rows" in next(f.message for f in draft.flags if f.feature == "exit_reason")
    assert set(draft.commented_out) == {"client_id", "country", "days_since_closure", "exit_reason"}
    assert "  # days_since_closure:\n  #   kind: integer" in draft.text
    validate_and_bind(draft.text, frame.drop(columns="churned"))


def test_missing_values_are_counted_and_the_column_keeps_them() -> None:
    frame = synthetic(100)
    frame.loc[:19, "income"] = np.nan
    frame["empty"] = np.nan
    draft = draft_constraints(frame)
    flags = {f.feature: f for f in draft.flags if f.reason == "missing"}
    assert set(flags) == {"income", "empty"}
    assert "20 missing values (20% of rows)" in flags["income"].message
    assert not flags["income"].commented_out
    assert flags["empty"].commented_out
    assert "income" in draft.features
    assert "empty" in draft.commented_out
    block = draft.text.split("\n  income:\n")[1].split("\n  #")[0]
    assert "    missing: keep" in block.splitlines()
    bound = validate_and_bind(draft.text, frame.drop(columns="empty"))
    income = next(f for f in bound.features if f.name == "income")
    assert income.missing == "keep"


def test_many_categories_are_commented_out_and_names_are_quoted() -> None:
    frame = pd.DataFrame(
        {
            "city": [f"c{i % 60}" for i in range(300)],
            "yes": np.arange(300) % 7,
            "a: b": np.linspace(0, 1, 300) ** 2,
        }
    )
    draft = draft_constraints(frame)
    assert draft.commented_out == ("city",)
    assert [f.reason for f in draft.flags] == ["many_categories"]
    validate_and_bind(draft.text, frame)


def test_draft_constraint_file_is_the_text() -> None:
    frame = synthetic(50)
    assert draft_constraint_file(frame, name="x") == draft_constraints(frame, name="x").text


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        ([1, 2], {}, r"^frame: must be a pandas DataFrame\. Got list\.$"),
        (pd.DataFrame(), {}, r"^frame: must have at least one row and one column besides"),
        (pd.DataFrame({"a": [1]}), {"target": "b"}, r"^target: must be a column of the data\."),
        (pd.DataFrame({"a": [1]}), {"target": "a"}, r"^frame: must have at least one row and"),
        (pd.DataFrame({"a": [1]}), {"name": " "}, r"^name: must be a non-empty text\."),
        (
            pd.DataFrame([[1, 2]], columns=["a", "a"]),
            {},
            r"^frame: column names must be unique\. Got a more than once\. Hint: rename",
        ),
        (
            pd.DataFrame(np.zeros((1, 2001))).rename(columns=str),
            {},
            r"^frame: must have at most 2,000 columns\. Got 2,001\. Hint: select",
        ),
        (
            pd.DataFrame({"id": [1, 2, 3]}),
            {},
            r"^frame: must have at least one column usable as a feature\. Got only flagged",
        ),
    ],
)
def test_bad_input_is_one_line_error(frame: object, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConstraintError, match=message) as info:
        draft_constraints(frame, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def column_strategy(n: int) -> st.SearchStrategy[pd.Series]:
    floats = st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")))
    ints = st.integers(-1000, 1000)
    texts = st.sampled_from(
        ["a", "b", " B", "low", "high", "0", "yes", "No", "x y", "é", "y", "on", "a, b: {c}", "#"]
    )
    return st.one_of(
        st.lists(floats, min_size=n, max_size=n).map(pd.Series),
        st.lists(ints, min_size=n, max_size=n).map(pd.Series),
        st.lists(st.booleans(), min_size=n, max_size=n).map(pd.Series),
        st.lists(st.one_of(texts, st.none()), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype=object)
        ),
        st.lists(texts, min_size=n, max_size=n).map(lambda v: pd.Series(v, dtype="category")),
    )


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(2, 60))
    k = draw(st.integers(1, 5))
    columns = {f"c{j}": draw(column_strategy(n)) for j in range(k)}
    anchor = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    anchor[0] = -1  # two distinct values at least: one feature is never flagged
    columns["anchor"] = pd.Series(anchor)
    return pd.DataFrame(columns)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), with_target=st.booleans())
def test_any_frame_gives_a_draft_that_validates_and_binds(
    frame: pd.DataFrame, with_target: bool
) -> None:
    target = "c0" if with_target and "c0" in frame.columns else None
    draft = draft_constraints(frame, target=target)
    data = frame.drop(columns=target) if target else frame
    bound = validate_and_bind(draft.text, data)
    assert [f.name for f in bound.features] == list(draft.features)
    assert set(draft.features) | set(draft.commented_out) == set(data.columns)


def test_hostile_names_and_values_stay_inside_their_yaml_lines() -> None:
    frame = pd.DataFrame(
        {
            "a\nfeatures: {}": [1.5, 2.5, 3.5, 4.5],
            "# not a comment": ["x\ny", " lead", "tab\there", "x\ny"],
            "no": ["on", "off", "on", "off"],
            "é ü": ["null", "~", "null", "~"],
            "yn": ["y", "n", "Y", "x"],
            "commas": ["yes, registered", "none", "a: b", "{c}"],
        }
    )
    draft = draft_constraints(frame, name="x\n# y")
    bound = validate_and_bind(draft.text, frame)
    assert [f.name for f in bound.features] == list(frame.columns)
    assert features_of(draft.text)["# not a comment"]["categories"] == [
        " lead",
        "tab\there",
        "x\ny",
    ]


def test_the_draft_names_the_one_id_column_and_leaves_a_choice_of_two() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "dossier_id": rng.permutation(50) + 7000,
            "income": rng.normal(2000, 300, 50).round(2),
        }
    )
    one = draft_constraints(frame, name="one")
    assert "\nid_column: dossier_id\n" in one.text
    bound = validate_and_bind(one.text, frame)
    assert bound.id_column == "dossier_id"
    assert "dossier_id" not in bound.feature_names
    two = draft_constraints(frame.assign(customer_id=frame["dossier_id"] + 1), name="two")
    assert "\nid_column:" not in two.text
    assert "# TODO one of dossier_id, customer_id (or none):\n# id_column: dossier_id\n" in (
        two.text
    )
