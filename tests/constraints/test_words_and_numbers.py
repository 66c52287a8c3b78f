"""Words and numbers: absolute changes with a verb by sign, number formats, min_change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constraints import ConstraintError, parse_constraints

NBSP = "\u202f"

CS = parse_constraints(
    """
name: words
features:
  utilisation:
    kind: continuous
    role: actionable
    direction: decrease
    min: 0
    max: 1
    format: percent
    min_change: 0.05
    label: {en: Utilisation, fr: Utilisation}
    lever: {en: "Bring utilisation to {after} of the limits (today {before})",
            fr: "Ramener l'utilisation à {after} des plafonds (aujourd'hui {before})"}
  lines:
    kind: integer
    role: actionable
    min: 0
    max: 30
    min_change: 2
    lever: {en: "Close or consolidate {change} credit line(s)",
            fr: "Fermer ou regrouper {change} ligne(s) de crédit"}
  savings:
    kind: continuous
    role: actionable
    unit: EUR
    format: currency
    label: {en: Savings, fr: Épargne}
    lever_increase: {en: "Save {change} {unit} more a month",
                     fr: "Épargner {change} {unit} de plus"}
    lever_decrease: {en: "Save {change} {unit} less a month",
                     fr: "Épargner {change} {unit} de moins"}
  income: {kind: continuous, role: actionable, unit: EUR, label: {en: Income, fr: Revenu}}
  rate: {kind: continuous, role: actionable, format: {decimals: 2}}
  visits: {kind: integer, role: actionable, format: integer}
"""
)


def test_change_is_an_absolute_amount_whatever_the_sign() -> None:
    assert CS.lever_text("lines", 5, 4) == "Close or consolidate 1 credit line(s)"
    assert CS.lever_text("lines", 5, 2, "fr") == "Fermer ou regrouper 3 ligne(s) de crédit"


def test_increase_and_decrease_templates_follow_the_sign() -> None:
    assert CS.lever_text("savings", 100, 150) == "Save 50 EUR more a month"
    assert CS.lever_text("savings", 150, 100) == "Save 50 EUR less a month"
    assert CS.lever_text("savings", 150, 99.5, "fr") == "Épargner 50,50 EUR de moins"
    assert CS.lever_text("savings", 1000, 3500, "fr") == f"Épargner 2{NBSP}500 EUR de plus"


def test_default_wording_picks_the_verb_by_sign_in_both_languages() -> None:
    assert CS.lever_text("income", 2000, 2500) == "Income: increase from 2,000 to 2,500 EUR"
    assert CS.lever_text("income", 2500, 2000) == "Income: reduce from 2,500 to 2,000 EUR"
    assert CS.lever_text("income", 2000, 2500, "fr") == (
        f"Revenu : augmenter de 2{NBSP}000 à 2{NBSP}500 EUR"
    )
    assert CS.lever_text("income", 2500, 2000, "fr") == (
        f"Revenu : réduire de 2{NBSP}500 à 2{NBSP}000 EUR"
    )


def test_percent_format_in_lever_texts_and_format_value() -> None:
    assert CS.lever_text("utilisation", 0.4064, 0.3) == (
        f"Bring utilisation to 30{NBSP}% of the limits (today 40.6{NBSP}%)"
    )
    assert CS.lever_text("utilisation", 0.4064, 0.3, "fr") == (
        f"Ramener l'utilisation à 30{NBSP}% des plafonds (aujourd'hui 40,6{NBSP}%)"
    )
    assert CS.format_value("utilisation", 0.4) == f"40{NBSP}%"
    assert CS.format_value("utilisation", 0.125, "fr") == f"12,5{NBSP}%"


def test_currency_integer_and_decimals_formats() -> None:
    assert CS.format_value("savings", 1234.5) == "1,234.50 EUR"
    assert CS.format_value("savings", 1234.0) == "1,234 EUR"
    assert CS.format_value("rate", 1234.5, "fr") == f"1{NBSP}234,50"
    assert CS.format_value("rate", 0.1) == "0.10"
    assert CS.format_value("visits", 3.0) == "3"
    assert CS.format_value("rate", -0.001) == "0.00"


def test_format_and_min_change_on_categories_are_refused() -> None:
    with pytest.raises(ConstraintError) as caught:
        parse_constraints(
            "name: t\nfeatures:\n  plan: {kind: categorical, role: actionable, "
            "categories: [a, b], format: percent, min_change: 1}\n"
        )
    message = str(caught.value)
    assert "features.plan.format: format does not apply to a categorical feature" in message
    assert "features.plan.min_change: min_change does not apply" in message


def test_unknown_placeholder_in_an_increase_template_is_refused() -> None:
    with pytest.raises(ConstraintError, match=r"lever_increase\.en: placeholders must be one of"):
        parse_constraints(
            "name: t\nfeatures:\n  x: {kind: continuous, role: actionable, "
            "lever_increase: {en: 'Raise by {amount}', fr: 'Monter de {change}'}}\n"
        )


def test_a_change_smaller_than_min_change_is_a_violation() -> None:
    client = CS.to_array(
        {"utilisation": 0.4, "lines": 5, "savings": 100, "income": 2000, "rate": 1, "visits": 2}
    )
    candidates = np.repeat(client, 4, axis=0)
    candidates[0, 0] = 0.38  # 2 points: less than 5
    candidates[1, 0] = 0.35  # exactly 5 points
    candidates[2, 1] = 4  # one line: less than 2
    candidates[3, 1] = 3  # two lines
    result = CS.check(client, candidates)
    assert result.ok.tolist() == [False, True, False, True]
    assert [v.message for v in result.violations(0)] == [
        f"utilisation must change by at least 5{NBSP}% or not at all. Got 40{NBSP}% -> 38{NBSP}%."
    ]


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(0.0, 1.0),
    utilisation=st.floats(0.0, 1.0),
    lines=st.integers(0, 30),
    seed=st.integers(0, 2**16),
)
def test_project_and_sample_never_propose_a_change_below_min_change(
    start: float, utilisation: float, lines: int, seed: int
) -> None:
    client = CS.to_array(
        {"utilisation": start, "lines": 6, "savings": 100, "income": 2000, "rate": 1, "visits": 2}
    )
    rng = np.random.default_rng(seed)
    raw = np.repeat(client, 8, axis=0)
    raw[:, 0] = utilisation + rng.normal(0, 0.03, 8)
    raw[:, 1] = lines + rng.integers(-2, 3, 8)
    projected = CS.project(client, raw).values
    drawn = CS.sample(client, 16, seed=seed)
    for rows in (projected, drawn):
        assert CS.check(client, rows).ok.all()
        for j, least in ((0, 0.05), (1, 2.0)):
            moved = np.abs(rows[:, j] - client[0, j])
            assert ((moved == 0) | (moved >= least * (1 - 1e-9))).all()
