"""Data bound to a constraint file is checked against it: finite, whole, within the bounds.

Binding is where ``levers constraints check --data`` and training meet (both call
``load_constraints(path, data)``), so the checks here are what makes them accept and refuse
exactly the same data. The oracle: the file's literal bounds and the documented rules
(docs/constraints.md, Limits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import AdvisorError
from advisor.models import prepare_training_data
from constraints import (
    ConstraintError,
    ConstraintFileError,
    FileProblem,
    bind_constraints,
    load_constraints,
    parse_constraint_file,
)

FILE = """\
name: clients
features:
  age: {kind: integer, role: context, min: 18, max: 110}
  income: {kind: continuous, role: context}
  transfer: {kind: continuous, role: actionable, min: 0, max: 500, step: 10}
  calls: {kind: integer, role: actionable, max: 10}
  sex: {kind: categorical, role: immutable, categories: [f, m], protected: true}
  plan: {kind: ordinal, role: context, order: [basic, plus, premium], max: plus}
"""
N = 200


def clients(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, N),
            "income": rng.normal(2500.0, 600.0, N).round(2),
            "transfer": rng.integers(0, 50, N) * 10.0,
            "calls": rng.integers(1, 10, N),
            "sex": rng.choice(["f", "m"], N),
            "plan": rng.choice(["basic", "plus"], N),
            "y": rng.integers(0, 2, N),
        }
    )


def bind(data: pd.DataFrame, text: str = FILE) -> tuple[FileProblem, ...]:
    """Every problem and warning of binding ``text`` to ``data`` (no exception but these)."""
    doc = parse_constraint_file(text, "c.yaml")
    try:
        return bind_constraints(doc, data).notes
    except ConstraintFileError as exc:
        return exc.problems


def errors(problems: tuple[FileProblem, ...]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def test_clean_data_binds_without_a_problem() -> None:
    assert bind(clients()) == ()


# --- finite numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"), [(np.inf, "inf"), (-np.inf, "-inf"), (1e308, "1e+308"), (2e15, "2e+15")]
)
def test_infinite_or_huge_values_are_refused_naming_feature_and_rows(
    value: float, shown: str
) -> None:
    data = clients()
    data.loc[[3, 17, 40, 41], "income"] = value
    assert errors(bind(data)) == [
        f"c.yaml:4 features.income: data values must be finite numbers, at most 1e15 in size. "
        f"Got {shown} in rows 3, 17, 40 and 1 more (4 rows). Hint: correct or drop these rows "
        "(a text such as 'inf', or a number such as 1e309, is read as infinity)."
    ]


def test_missing_values_are_refused_as_before() -> None:
    data = clients()
    data.loc[5, "income"] = np.nan
    [message] = errors(bind(data))
    assert message.startswith("c.yaml:4 features.income: values must not be missing. Got ")


HOSTILE = {
    "inf": ("income", np.inf),
    "-inf": ("transfer", -np.inf),
    "1e308": ("income", 1e308),
    "nan": ("calls", np.nan),
    "age -1000": ("age", -1000),
    "age 250": ("age", 250),
    "fraction": ("age", 30.5),
    "calls 12": ("calls", 12),
    "clean": ("income", 2000.0),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_check_and_training_accept_and_refuse_the_same_data(tmp_path: Path, case: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(FILE, encoding="utf-8")
    column, value = HOSTILE[case]
    data = clients()
    data[column] = data[column].astype(float)
    data.loc[7, column] = value
    try:
        load_constraints(path, data)
        checked = True
    except ConstraintFileError:
        checked = False
    try:
        prepare_training_data(data, "y", path)
        trained = True
    except (AdvisorError, ConstraintError):
        trained = False
    assert checked == trained
    assert checked == (case in ("clean", "calls 12"))


def test_constraints_check_refuses_inf_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(FILE, encoding="utf-8")
    data = clients().drop(columns="y")
    data["income"] = data["income"].astype(object)
    data.loc[2, "income"] = "inf"
    csv = tmp_path / "clients.csv"
    data.to_csv(csv, index=False)
    result = CliRunner().invoke(app, ["constraints", "check", str(path), "--data", str(csv)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "income" in result.output


# --- the file's bounds ---------------------------------------------------------------------


def test_an_age_below_the_files_min_is_an_error_naming_rows_values_and_line() -> None:
    data = clients()
    data.loc[[4, 9], "age"] = [-1000, 3]
    assert errors(bind(data)) == [
        "c.yaml:3 features.age.min: data values must lie within the file's bounds (min 18). "
        "Got -1000, 3 in rows 4, 9. Hint: correct the data, or widen min if these values "
        "are real."
    ]


def test_an_ordinal_beyond_its_category_bound_is_an_error() -> None:
    data = clients()
    data.loc[11, "plan"] = "premium"
    assert errors(bind(data)) == [
        "c.yaml:8 features.plan.max: data values must lie within the file's bounds (max "
        "'plus'). Got 'premium' in row 11. Hint: correct the data, or widen max if these "
        "values are real."
    ]


def test_clients_beyond_an_actionable_cap_are_a_warning() -> None:
    data = clients()
    data.loc[[1, 2], "calls"] = [12, 15]
    [note] = bind(data)
    assert note.severity == "warning"
    assert str(note) == (
        "c.yaml:6 features.calls.max: clients may already lie beyond max 10 (levers never "
        "propose such values). Got 12, 15 in rows 1, 2. Hint: widen max if levers may "
        "propose such values; correct the data if they are mistakes."
    )


def test_an_implausible_value_beyond_an_actionable_cap_is_an_error() -> None:
    data = clients()
    data.loc[6, "transfer"] = -50_000.0
    [message] = errors(bind(data))
    assert message.startswith(
        "c.yaml:5 features.transfer.min: data values must lie within the file's bounds (min "
        "0). Got -50000 in row 6."
    )


def test_implausible_values_without_a_bound_are_a_warning_naming_rows() -> None:
    data = clients()
    data.loc[[8, 9], "income"] = [250_000.0, -90_000.0]
    notes = bind(data)
    assert [n.severity for n in notes] == ["warning", "warning"]
    assert all(n.path == "features.income" and n.line == 4 for n in notes)
    assert "Got -90000 in row 9" in notes[0].message
    assert "Got 250000 in row 8" in notes[1].message
    assert notes[0].message.startswith("values should lie near the bulk of the data (98% of it")


def test_fractions_in_an_integer_feature_are_an_error() -> None:
    data = clients()
    data["age"] = data["age"].astype(float)
    data.loc[3, "age"] = 30.5
    assert errors(bind(data)) == [
        "c.yaml:3 features.age.kind: an integer feature must hold whole numbers. Got 30.5 in "
        "row 3. Hint: correct the data, or declare kind: continuous."
    ]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0, 100, allow_nan=False), min_size=20, max_size=60),
    injected=st.floats(-1e6, 1e6, allow_nan=False),
    row=st.integers(0, 19),
)
def test_a_context_value_is_refused_exactly_when_outside_the_literal_bounds(
    values: list[float], injected: float, row: int
) -> None:
    text = "name: p\nfeatures:\n  x: {kind: continuous, role: context, min: 0, max: 100}\n"
    data = pd.DataFrame({"x": values})
    data.loc[row, "x"] = injected
    refused = errors(bind(data, text))
    assert bool(refused) == (not 0 <= injected <= 100)
    if refused:
        assert f"in row {row}" in refused[0] or f"rows {row}" in refused[0]


def test_a_python_int_beyond_floating_point_is_refused_like_infinity() -> None:
    data = clients()
    data["income"] = data["income"].astype(object)
    data.loc[5, "income"] = 10**400
    [message] = errors(bind(data))
    assert message.startswith(
        "c.yaml:4 features.income: data values must be finite numbers, at most 1e15 in size. "
        "Got inf in row 5."
    )
