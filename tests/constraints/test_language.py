"""The constraint language: parsing, validation messages, rules grammar, schema, round trip."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from constraints import (
    ChangeClause,
    ConstraintError,
    ConstraintFileError,
    LinearClause,
    MembershipClause,
    constraint_file_schema,
    dump_constraint_file,
    inspect_constraint_file,
    load_constraint_file,
    load_constraints,
    parse_constraint_file,
    parse_constraints,
)
from tests.conftest import REPO_ROOT

CONFIGS = sorted((REPO_ROOT / "configs").glob("*.yaml"))
BASE = "name: t\nfeatures:\n"


def problems_of(text: str) -> list[str]:
    doc, problems = inspect_constraint_file(text, "t.yaml")
    assert doc is None
    return [str(p) for p in problems if p.severity == "error"]


def test_the_issue_example_message_is_exact() -> None:
    text = BASE + "  monthly_income:\n    kind: continuous\n    role: context\n    direction: up\n"
    assert problems_of(text) == [
        "t.yaml:6 features.monthly_income.direction: must be one of increase, decrease, any. "
        "Got 'up'. Hint: for 'up', write increase."
    ]


def test_every_problem_is_listed_at_once_in_line_order() -> None:
    text = (
        BASE
        + "  a: {kind: continuous, role: actionable, step: -1}\n"
        + "  b: {kind: categorical, role: actionable, categories: [x, y], direction: increase}\n"
        + "  c: {kind: binary, role: actionable, protected: true}\n"
        + "rules:\n  - require: a <= 2 * d\n"
    )
    found = problems_of(text)
    assert [p.split(" ")[0] for p in found] == ["t.yaml:3", "t.yaml:4", "t.yaml:5", "t.yaml:7"]
    assert found[0] == (
        "t.yaml:3 features.a.step: must be > 0. Got -1. "
        "Hint: a step is positive, e.g. 10 for amounts in steps of 10."
    )
    assert found[1].startswith("t.yaml:4 features.b.direction: categories have no order")
    assert found[2].startswith("t.yaml:5 features.c.role: a protected attribute must be immutable")
    assert found[3] == (
        "t.yaml:7 rules[0].require: unknown feature 'd'. Got 'a <= 2 * d'. "
        "Hint: see docs/constraints.md, section Rules, for the grammar."
    )


def test_yaml_booleans_are_caught_with_a_quote_hint() -> None:
    text = (
        BASE + "  plan:\n    kind: categorical\n    role: actionable\n    categories: [yes, no]\n"
    )
    assert problems_of(text) == [
        f"t.yaml:6 features.plan.categories[{i}]: must be a text or a whole number. Got "
        f"'{word}'. Hint: YAML reads an unquoted {word} as a boolean: quote the value ('{word}')."
        for i, word in enumerate(["yes", "no"])
    ]


def test_unknown_keys_get_a_suggestion() -> None:
    text = BASE + "  a:\n    kind: integer\n    role: actionable\n    directon: increase\n"
    (problem,) = problems_of(text)
    assert problem.startswith(
        "t.yaml:6 features.a.directon: is not a known key. Got 'directon'. "
        "Hint: Did you mean 'direction'?"
    )


def test_a_file_without_actionable_features_gets_a_warning() -> None:
    doc, problems = inspect_constraint_file(
        BASE + "  a: {kind: integer, role: context}\n", "t.yaml"
    )
    assert doc is not None
    assert [(p.severity, p.message) for p in problems] == [
        ("warning", "no feature is actionable: no lever can ever be proposed.")
    ]


def test_duplicate_keys_are_refused() -> None:
    text = BASE + "  a: {kind: integer, role: actionable}\n  a: {kind: integer, role: context}\n"
    assert problems_of(text) == [
        "t.yaml:4 features.a: each key may appear once. Got it again (first on line 3). "
        "Hint: merge the two entries; YAML would silently keep only the last."
    ]


def test_syntax_errors_have_a_line() -> None:
    (problem,) = problems_of(BASE + "  a: {kind: integer, role: actionable\n")
    assert problem.startswith("t.yaml:3: the file must be valid YAML. Got a syntax error")
    assert problem.endswith(
        "Hint: close the bracket or brace opened on this line, and quote texts containing : or ,."
    )


def test_loading_raises_one_error_listing_all_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE + "  a: {kind: integer}\n  b: {role: context}\n", encoding="utf-8")
    with pytest.raises(ConstraintFileError) as info:
        load_constraint_file(path)
    assert [p.path for p in info.value.problems] == ["features.a.role", "features.b.kind"]
    assert str(info.value).splitlines()[0] == "bad.yaml: 2 problems in the constraint file"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.yaml", r"^.*missing\.yaml: must be a constraint file \(YAML\)\. Got nothing"),
        (".", r"^\.: must be a constraint file \(YAML\)\. Got a folder there\.$"),
    ],
)
def test_bad_paths(path: str, message: str) -> None:
    with pytest.raises(ConstraintError, match=message):
        load_constraint_file(path)


FEATURES = (
    "  loan: {kind: binary, role: actionable}\n"
    "  debt: {kind: continuous, role: context}\n"
    "  income: {kind: continuous, role: context}\n"
    "  plan: {kind: categorical, role: actionable, categories: [basic, 'top tier']}\n"
    "  edu: {kind: ordinal, role: context, order: [low, mid, high]}\n"
    "  emp.var.rate: {kind: continuous, role: immutable}\n"
)


def test_or_gives_alternatives_and_binds_looser_than_and() -> None:
    cs = parse_constraints(
        f'{BASE}{FEATURES}rules:\n  - require: "loan stays or debt <= 1 and income >= 2"\n'
    )
    (rule,) = cs.rules
    assert rule.requirement == (
        (ChangeClause(feature="loan", kind="stays"),),
        (
            LinearClause(terms=(("debt", 1.0),), op="<=", bound=1.0),
            LinearClause(terms=(("income", 1.0),), op=">=", bound=2.0),
        ),
    )
    client = {"loan": 0, "debt": 5.0, "income": 0.0, "plan": "basic", "edu": "low"}
    client["emp.var.rate"] = 0.0
    candidates = pd.DataFrame(
        [
            {**client, "debt": 6.0},  # loan stays: fine
            {**client, "loan": 1},  # loan changed and debt > 1: broken
            {**client, "loan": 1, "debt": 0.5, "income": 3.0},  # second alternative holds
        ]
    )
    assert cs.allowing("debt", "income").check(client, candidates).ok.tolist() == [
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("rule", "clauses"),
    [
        (
            "loan becomes yes",
            [
                ChangeClause(feature="loan", kind="changes"),
                MembershipClause(feature="loan", codes=frozenset({1})),
            ],
        ),
        (
            "debt - 0.5 * income <= -3 + emp.var.rate",
            [
                LinearClause(
                    terms=(("debt", 1.0), ("income", -0.5), ("emp.var.rate", -1.0)),
                    op="<=",
                    bound=-3.0,
                )
            ],
        ),
        ("plan is 'top tier'", [MembershipClause(feature="plan", codes=frozenset({1}))]),
        ("plan not in [basic]", [MembershipClause(feature="plan", codes=frozenset({1}))]),
        ("edu >= mid", [MembershipClause(feature="edu", codes=frozenset({1, 2}))]),
        ("edu < mid", [MembershipClause(feature="edu", codes=frozenset({0}))]),
        ("loan stays", [ChangeClause(feature="loan", kind="stays")]),
        ("loan does not change", [ChangeClause(feature="loan", kind="stays")]),
        (
            "edu increases and income == 2 * (debt + 1)",
            [
                ChangeClause(feature="edu", kind="increases"),
                LinearClause(terms=(("income", 1.0), ("debt", -2.0)), op="==", bound=2.0),
            ],
        ),
    ],
)
def test_rule_grammar(rule: str, clauses: list[object]) -> None:
    cs = parse_constraints(f'{BASE}{FEATURES}rules:\n  - require: "{rule}"\n')
    assert list(cs.rules[0].requirement[0]) == clauses


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("debt < 3", "use <= instead of <: strict inequalities cannot be enforced exactly"),
        ("debt * income <= 3", "must be linear: cannot multiply two features"),
        ("3 / debt <= 1", "must be linear: cannot divide by a feature"),
        ("plan + 1 <= 2", "'plan' is categorical: it cannot be used in arithmetic"),
        ("plan is gold", "'plan' has no category 'gold' (it has 'basic', 'top tier')"),
        ("plan increases", "'plan' is categorical: it can change but not increase"),
        ("debt <= 3 and", "expected a number, a feature name or '(' at character 14"),
        ("debt is 3", "'debt' is continuous: compare it with <=, >= or =="),
        ("plan >= basic", "'plan' is categorical: its categories have no order"),
        ("debt <= 1 debt", "expected 'and', 'or' or the end of the rule at character 11"),
        ("3 <= 4", "the comparison names no feature"),
        ("debt <= 'high'", "quoted texts are categories"),
    ],
)
def test_rule_errors_explain_themselves(rule: str, message: str) -> None:
    found = problems_of(f'{BASE}{FEATURES}rules:\n  - require: "{rule}"\n')
    assert len(found) == 1
    assert f"rules[0].require: {message}" in found[0]
    assert found[0].startswith("t.yaml:10 ")


def test_json_schema_describes_the_format() -> None:
    schema = constraint_file_schema()
    json.dumps(schema)
    assert schema["title"] == "Levers constraint file"
    feature = schema["$defs"]["FeatureModel"]
    assert feature["properties"]["role"]["enum"] == ["immutable", "actionable", "context"]
    assert feature["additionalProperties"] is False
    assert "if" in schema["$defs"]["RuleModel"]["properties"]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_files_round_trip(path: Path) -> None:
    doc = load_constraint_file(path)
    again = parse_constraint_file(dump_constraint_file(doc), "dumped.yaml")
    assert again == doc


def test_the_documented_example_is_valid() -> None:
    text = (REPO_ROOT / "docs" / "constraints.md").read_text(encoding="utf-8")
    match = re.search(r"## A complete example\n\n```yaml\n(.*?)```", text, re.S)
    assert match is not None
    doc, problems = inspect_constraint_file(match.group(1), "example.yaml")
    assert doc is not None
    assert problems == ()


def test_binding_without_data_refuses_percentiles() -> None:
    text = BASE + "  a: {kind: continuous, role: actionable, max: p99}\n"
    with pytest.raises(ConstraintFileError) as info:
        parse_constraints(text)
    assert str(info.value.problems[0]) == (
        "<string>:3 features.a.max: a percentile bound needs data. Got 'p99' with no data set. "
        "Hint: bind the file to data (--data), or write a number."
    )


runner = CliRunner()


def test_cli_check_ok_prints_a_summary() -> None:
    result = runner.invoke(
        app,
        [
            "constraints",
            "check",
            str(REPO_ROOT / "configs" / "demo-portfolio.yaml"),
            "--data",
            "demo",
        ],
    )
    assert result.exit_code == 0, result.output
    # 22 demo clients already have 7 or 8 meetings a year; levers propose 6 at most.
    assert result.output.startswith(
        "warning: demo-portfolio.yaml:157 features.advisor_meetings_per_year.max: clients may "
        "already lie beyond max 6"
    )
    assert (
        "\nOK demo-portfolio.yaml: 27 features, 4 rules, 1 derived, lever rules for 8 products, "
        "max changes 3, bound to demo (20,000 rows)." in result.output
    )
    assert "Lever rules per product" in result.output
    assert "actionable" in result.output
    assert "immutable (protected)" in result.output


def test_cli_check_lists_problems_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    path.write_text(BASE + "  a: {kind: integer, role: sometimes}\n", encoding="utf-8")
    result = runner.invoke(app, ["constraints", "check", str(path)])
    assert result.exit_code == 1
    assert (
        "bank.yaml:3 features.a.role: must be one of immutable, actionable, context. Got "
        "'sometimes'." in result.output
    )
    assert "Traceback" not in result.output


def test_cli_check_reports_binding_problems(tmp_path: Path) -> None:
    data = tmp_path / "clients.csv"
    data.write_text("a,b\n1,x\n2,y\n", encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text(
        BASE + "  a: {kind: integer, role: actionable}\n  c: {kind: binary, role: context}\n"
        "  b: {kind: categorical, role: context, categories: [x, z]}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["constraints", "check", str(path), "--data", str(data)])
    assert result.exit_code == 1
    assert "c.yaml:4 features.c: must be a column of the data. Got no such column." in result.output
    assert (
        "c.yaml:5 features.b: values must be among the categories (x, z). Got 'y' in line 3. "
        in result.output
    )


def test_cli_schema_prints_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["constraints", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "Levers constraint file"
    out = tmp_path / "schema.json"
    assert runner.invoke(app, ["constraints", "schema", "--out", str(out)]).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(result.output)


def test_the_demo_config_binds_to_the_demo_portfolio() -> None:
    from advisor.datasets import make_demo_portfolio

    cs = load_constraints(REPO_ROOT / "configs" / "demo-portfolio.yaml", make_demo_portfolio(3000))
    # Three clients already have more meetings than levers propose (max 6): a warning.
    assert [(n.path, n.severity) for n in cs.notes] == [
        ("features.advisor_meetings_per_year.max", "warning")
    ]
    assert cs.max_changes == 3
    assert cs.feature("sex").protected
    assert [d.feature for d in cs.derived] == ["n_products"]
