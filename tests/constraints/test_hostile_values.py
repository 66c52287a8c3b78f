"""Hostile values in a constraint file or in its rules are clean problems, never a traceback.

Rules nested thousands of parentheses deep, numbers beyond floating point (``10^400`` written
out, ``.inf``, ``1.0e+400``) in bounds, steps, costs, categories and rules: each is a
FileProblem naming the key path and the line, within the documented limits (docs: Limits).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constraints import (
    ConstraintFileError,
    FileProblem,
    LinearClause,
    inspect_constraint_file,
    parse_constraints,
)

HEAD = (
    "name: t\nfeatures:\n  a: {kind: continuous, role: actionable}\n"
    "  b: {kind: integer, role: context}\n"
)
HUGE = "1" + "0" * 400  # 10^400 written out


def errors_of(text: str) -> list[FileProblem]:
    """The errors of ``text``; parse_constraints must raise ConstraintFileError with them."""
    _, problems = inspect_constraint_file(text, "v.yaml")
    errors = [p for p in problems if p.severity == "error"]
    with pytest.raises(ConstraintFileError) as info:
        parse_constraints(text, None, source="v.yaml")
    assert [str(p) for p in info.value.problems] == [str(p) for p in errors]
    return errors


def rule(text: str) -> str:
    return HEAD + f"rules:\n  - require: '{text}'\n"


# --- rules ---------------------------------------------------------------------------------


def test_3000_nested_parentheses_are_a_clean_problem() -> None:
    text = "(" * 3000 + "a" + ")" * 3000 + " <= 3"
    [problem] = errors_of(rule(text))
    assert (problem.line, problem.path) == (6, "rules[0].require")
    assert problem.message == (
        "a rule or expression must be at most 2,000 characters long. Got "
        f"{text[:100]!r}... ({len(text):,} characters)."
    )


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(1, 400), minus=st.booleans(), derived=st.booleans())
def test_nesting_in_rules_is_refused_exactly_beyond_32_levels(
    depth: int, minus: bool, derived: bool
) -> None:
    expression = "- " * depth + "a" if minus else "(" * depth + "a" + ")" * depth
    if derived:
        text = HEAD.replace(
            "b: {kind: integer, role: context}", "b: {kind: continuous, role: context}"
        )
        text += f"derived:\n  b: '{expression}'\n"
    else:
        text = rule(f"{expression} <= 3")
    _, problems = inspect_constraint_file(text, "v.yaml")
    if depth <= 32:
        assert [p for p in problems if p.severity == "error"] == []
        return
    [problem] = problems
    assert problem.path == ("derived.b" if derived else "rules[0].require")
    assert problem.message.startswith(
        "parentheses and minus signs must nest at most 32 deep (deeper at character "
    )


def test_a_rule_above_2000_characters_is_refused() -> None:
    text = " + ".join(["a"] * 700) + " <= 3"
    [problem] = errors_of(rule(text))
    assert problem.message.startswith("a rule or expression must be at most 2,000 characters")


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("a <= 1e400", "(1e400 at character 6)"),
        (f"a <= {HUGE}", "(10000000000000000000... at character 6)"),
        ("1e10 * 1e10 * a <= 3", "once multiplied out (1e+20 from character 1)"),
        ("a / 1e-20 <= 3", "once multiplied out (1e+20 from character 1)"),
        ("a <= 2e15", "(2e15 at character 6)"),
    ],
)
def test_numbers_in_rules_must_stay_within_1e15(expression: str, shown: str) -> None:
    [problem] = errors_of(rule(expression))
    assert problem.path == "rules[0].require"
    assert problem.message.startswith("numbers must be at most 1e15 in size")
    assert shown in problem.message


def test_1e15_itself_is_accepted_in_a_rule() -> None:
    clause = parse_constraints(rule("a <= 1e15")).rules[0].requirement[0][0]
    assert isinstance(clause, LinearClause)
    assert clause.bound == 1e15


# --- numbers in the file -------------------------------------------------------------------

NUMBER_KEYS = [
    ("max", "  c: {kind: continuous, role: actionable, max: %s}\n", "features.c.max"),
    ("min", "  c: {kind: integer, role: actionable, min: %s}\n", "features.c.min"),
    ("step", "  c: {kind: continuous, role: actionable, step: %s}\n", "features.c.step"),
    (
        "max_change",
        "  c: {kind: continuous, role: actionable, max_change: %s}\n",
        "features.c.max_change",
    ),
    (
        "cost",
        "  c: {kind: continuous, role: actionable, cost: {per_unit: %s}}\n",
        "features.c.cost.per_unit",
    ),
    (
        "category",
        "  c: {kind: categorical, role: actionable, categories: [1, %s]}\n",
        "features.c.categories[1]",
    ),
]


@pytest.mark.parametrize(("key", "template", "path"), NUMBER_KEYS, ids=[k[0] for k in NUMBER_KEYS])
@pytest.mark.parametrize("number", [HUGE, ".inf", ".nan", "1.0e+400", "2000000000000000"])
def test_every_number_in_the_file_is_finite_and_within_1e15(
    key: str, template: str, path: str, number: str
) -> None:
    text = HEAD + template % number
    problems = errors_of(text)
    assert [(p.line, p.path) for p in problems] == [(5, path)], [str(p) for p in problems]
    [problem] = problems
    assert problem.message.startswith("numbers must be finite and at most 1e15 in size. Got ")
    assert problem.hint.startswith("write the real value")


@settings(max_examples=50, deadline=None)
@given(
    exponent=st.integers(16, 2000),
    key=st.sampled_from(NUMBER_KEYS),
    negative=st.booleans(),
)
def test_any_number_beyond_1e15_is_one_problem_at_its_key(
    exponent: int, key: tuple[str, str, str], negative: bool
) -> None:
    number = ("-" if negative and key[0] in ("max", "min", "category") else "") + "9" * exponent
    _, template, path = key
    _, problems = inspect_constraint_file(HEAD + template % number, "v.yaml")
    assert [(p.line, p.path) for p in problems] == [(5, path)]


def test_a_percentage_beyond_1e15_is_refused() -> None:
    text = HEAD + "  c: {kind: continuous, role: actionable, max_change: '" + "9" * 400 + "%'}\n"
    [problem] = errors_of(text)
    assert problem.path == "features.c.max_change"
    assert problem.message.startswith("a percentage must be at most 1e15. Got ")


def test_a_number_written_as_text_beyond_the_limit_gets_the_right_hint() -> None:
    [problem] = errors_of(HEAD + "  c: {kind: continuous, role: actionable, max: 1.0e400}\n")
    assert problem.message == (
        "must be a number or a percentile of the data such as p1 or p99. Got '1.0e400'."
    )
    assert problem.hint == "numbers must be finite and at most 1e15 in size."
