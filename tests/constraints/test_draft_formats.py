"""The draft suggests a ``format`` per number column: percent for ratios, integer for counts.

The oracle is the column's values, read here on their own: a number column (not yes/no)
whose values are all whole gets ``integer``; one whose values all lie in [0, 1] and are not
only 0 and 1 gets ``percent``; a column with two values (a yes/no in disguise) and any other
column get no ``format``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constraints import ConstraintSet, bind_constraints, draft_constraints, inspect_constraint_file


def expected_format(column: pd.Series) -> str | None:
    """The format the values call for (None: none), from the values alone."""
    if pd.api.types.is_bool_dtype(column.dtype) or not pd.api.types.is_numeric_dtype(column):
        return None
    values = column.dropna().to_numpy(dtype=np.float64)
    distinct = set(np.unique(values).tolist())
    if len(distinct) == 2:
        return None  # yes/no, or two codes the draft says to map to 0/1
    if np.all(values == np.round(values)):
        return "integer"
    if values.min() >= 0 and values.max() <= 1:
        return "percent"
    return None


def drafted_formats(text: str) -> dict[str, str | None]:
    features = yaml.safe_load(text)["features"]
    return {name: spec.get("format") for name, spec in features.items()}


def bind(text: str, frame: pd.DataFrame) -> ConstraintSet:
    doc, problems = inspect_constraint_file(text, "draft.yaml")
    errors = [str(p) for p in problems if p.severity == "error"]
    assert not errors, errors
    assert doc is not None
    return bind_constraints(doc, frame)


def check_draft(frame: pd.DataFrame, target: str | None) -> ConstraintSet:
    """Draft, compare every feature's format to the oracle, then load and bind the draft."""
    draft = draft_constraints(frame, target=target, name="formats")
    formats = drafted_formats(draft.text)
    assert set(formats) == set(draft.features)
    assert formats == {name: expected_format(frame[name]) for name in draft.features}
    features = frame.drop(columns=[target]) if target is not None else frame
    bound = bind(draft.text, features)
    for name in draft.features:
        assert bound.feature(name).format == (expected_format(frame[name]) or "auto"), name
    return bound


def ratio_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "utilisation": rng.beta(2.0, 3.0, n).round(4),  # a ratio of a credit limit
            "default_rate": np.where(rng.random(n) < 0.5, 0.0, 1.0) * rng.random(n),  # 0..1
            "cards": rng.integers(0, 6, n),
            "is_owner": rng.integers(0, 2, n),  # 0/1: binary, no format
            "tier": rng.integers(1, 3, n),  # two codes (1/2): to map to 0/1, no format
            "has_app": rng.random(n) < 0.3,
            "income": rng.lognormal(7.5, 0.4, n),  # beyond 1: no format
            "shift": rng.normal(0.5, 0.2, n),  # crosses 0 and 1: no format
            "segment": rng.choice(["retail", "private"], n),
        }
    )


def test_a_ratio_gets_percent_counts_get_integer_and_the_rest_nothing() -> None:
    frame = ratio_frame()
    bound = check_draft(frame, None)
    formats = drafted_formats(draft_constraints(frame).text)
    assert formats["utilisation"] == "percent"
    assert formats["default_rate"] == "percent"
    assert formats["cards"] == "integer"
    assert formats["is_owner"] is None
    assert formats["tier"] is None
    assert formats["income"] is None
    assert formats["shift"] is None
    assert bound.format_value("utilisation", 0.4064) == "40.6\u202f%"


def test_a_suggested_format_is_a_commented_line_the_expert_may_delete() -> None:
    frame = ratio_frame(100)
    text = draft_constraints(frame).text
    block = text.split("\n  utilisation:\n")[1].split("\n  #")[0].splitlines()
    (line,) = [line for line in block if line.strip().startswith("format:")]
    assert line.startswith("    format: percent ")
    assert "# suggested" in line
    assert "#   format" in text.split("version: 1")[0]  # the header says what it is
    bound = bind(text.replace(line + "\n", ""), frame)
    assert bound.feature("utilisation").format == "auto"


def test_missing_values_and_a_commented_out_column_keep_the_suggestion() -> None:
    frame = ratio_frame(100)
    frame.loc[:9, "utilisation"] = np.nan
    frame["rank"] = np.arange(100)  # a row identifier: commented out, format and all
    draft = draft_constraints(frame)
    assert "rank" in draft.commented_out
    assert "  #   format: integer " in draft.text.split("\n  # rank:\n")[1]
    check_draft(frame, None)


@pytest.mark.parametrize("name", ["bank", "german"])
def test_the_shared_data_sets_get_the_formats_their_values_call_for(
    name: str, request: pytest.FixtureRequest
) -> None:
    frame: pd.DataFrame = request.getfixturevalue(f"{name}_data")
    target = {"bank": "y", "german": "credit_risk"}[name]
    bound = check_draft(frame, target)
    numbers = [s.name for s in bound.features if s.kind in ("integer", "continuous")]
    assert numbers  # both files have counts and amounts
    assert all(bound.feature(n).format == "integer" for n in numbers if n in ("age", "duration"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.lists(st.floats(0, 1), min_size=12, max_size=12),
            st.lists(st.integers(-50, 50), min_size=12, max_size=12),
            st.lists(st.floats(-1e6, 1e6), min_size=12, max_size=12),
            st.lists(st.sampled_from([0, 1]), min_size=12, max_size=12),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_number_columns_get_the_format_their_values_call_for(
    columns: list[list[float]],
) -> None:
    frame = pd.DataFrame({f"c{i}": values for i, values in enumerate(columns)})
    frame["anchor"] = np.arange(12) % 3  # one usable feature, whatever the columns are
    check_draft(frame, None)
