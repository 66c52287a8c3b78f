"""ConstraintSet.format_value: one value said as advisors read it, per language."""

from __future__ import annotations

from constraints import parse_constraints

CS = parse_constraints(
    """
name: tiny
features:
  transfer: {kind: continuous, role: actionable, unit: EUR}
  plan: {kind: categorical, role: actionable, categories: [basic, plus]}
  app: {kind: binary, role: actionable}
  card: {kind: binary, role: actionable, values: [none, gold]}
"""
)


def test_amounts_follow_the_language_and_carry_the_unit() -> None:
    assert CS.format_value("transfer", 1250.0) == "1,250 EUR"
    assert CS.format_value("transfer", 1250.0, "fr") == "1\u202f250 EUR"


def test_categories_are_said_by_their_label() -> None:
    assert CS.format_value("plan", 1) == "plus"
    assert CS.format_value("plan", 0, "fr") == "basic"


def test_a_yes_no_feature_is_said_in_the_language_and_labels_stay_as_written() -> None:
    assert [CS.format_value("app", v) for v in (0, 1)] == ["no", "yes"]
    assert [CS.format_value("app", v, "fr") for v in (0, 1)] == ["non", "oui"]
    assert CS.format_value("card", 1, "fr") == "gold"  # the file's own labels
