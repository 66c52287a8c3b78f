"""Number widgets in the feature's format, and feature values in words (pure helpers)."""

from __future__ import annotations

import math
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import render
from app.widget_scales import widget_scale
from constraints import parse_constraints, tolerance

NNBSP = "\u202f"


def spec(form: str, kind: str = "continuous", unit: str = "", decimals: int = 0) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, format=form, unit=unit, decimals=decimals)


@given(st.integers(0, 1000))
def test_a_percent_slider_gives_back_the_ratio_it_shows(k: int) -> None:
    scale = widget_scale(spec("percent"), None, 1.0)
    assert scale is not None
    shown = round(k * scale.step, scale.digits)  # a point of the slider's 0.1-point grid
    ratio = scale.value(shown)
    assert ratio == float(Decimal(k) / Decimal(1000))  # exactly the decimal the user sees
    assert scale.shown(ratio) == shown


@given(st.floats(0, 1), st.integers(1, 20))
def test_a_percent_sliders_ends_stay_inside_the_feasible_range(low: float, n: int) -> None:
    step = n / 100  # a constraint file's step: 1 to 20 points
    scale = widget_scale(spec("percent"), step, 1.0)
    assert scale is not None
    assert scale.step == pytest.approx(n)
    assert scale.digits == 1
    slack = float(tolerance(low))  # what the constraint checks count as equal
    assert scale.value(scale.ceil(low)) >= low - slack
    assert scale.value(scale.floor(low)) <= low + slack
    assert scale.ceil(low) - scale.floor(low) <= 0.1 + 1e-9


@pytest.mark.parametrize(
    ("feature", "step", "span", "expected"),
    [
        (spec("currency", unit="€"), None, 30_000.0, (1.0, 0, 100.0, "%.0f", "€")),
        (spec("currency", unit="€"), 0.5, 100.0, (1.0, 2, 0.5, "%.2f", "€")),
        (spec("currency", unit="€"), None, 5.0, (1.0, 2, 0.01, "%.2f", "€")),
        (spec("integer"), None, 20.0, (1.0, 0, 1.0, "%.0f", "")),
        (spec("integer"), 2.4, 20.0, (1.0, 0, 2.0, "%.0f", "")),
        (spec("decimals", decimals=3), None, 1.0, (1.0, 3, 0.001, "%.3f", "")),
        (spec("percent", unit="pts"), None, 1.0, (100.0, 1, 0.1, "%.1f %%", "pts")),
    ],
)
def test_each_format_has_its_scale(
    feature: SimpleNamespace,
    step: float | None,
    span: float,
    expected: tuple[float, int, float, str, str],
) -> None:
    scale = widget_scale(feature, step, span)
    assert scale is not None
    assert (scale.factor, scale.digits, scale.step, scale.slider_format, scale.unit) == expected
    assert "%%" not in scale.number_format  # a number input shows numbers only


def test_plain_numbers_and_integer_features_keep_their_widgets() -> None:
    assert widget_scale(spec("auto"), None, 1.0) is None
    assert widget_scale(spec("percent", kind="integer"), None, 1.0) is None
    assert widget_scale(SimpleNamespace(kind="continuous", unit=""), None, 1.0) is None


FILE = """
name: formats
features:
  ratio: {kind: continuous, role: actionable, format: percent, label: {en: Ratio, fr: Taux}}
  savings: {kind: continuous, role: actionable, format: currency, unit: €}
  visits: {kind: continuous, role: actionable, format: integer}
  age: {kind: integer, role: immutable, unit: years}
  amount: {kind: continuous, role: context}
  plan: {kind: categorical, role: actionable, categories: [basic, premium_plus]}
  card: {kind: binary, role: actionable}
"""


@pytest.mark.parametrize(
    ("name", "value", "language", "expected"),
    [
        ("ratio", 0.4064, "en", f"40.6{NNBSP}%"),
        ("ratio", 0.4064, "fr", f"40,6{NNBSP}%"),
        ("savings", 2450.5, "en", "2,450.50 €"),
        ("savings", 2450.0, "fr", f"2{NNBSP}450 €"),
        ("visits", 3.41, "en", "3"),
        ("age", 47, "fr", "47 ans"),  # the unit in the language
        ("age", 47, "en", "47 years"),
        ("amount", 1234.5, "en", "1,234.5"),
        ("ratio", float("nan"), "en", "missing"),
        ("plan", "premium_plus", "en", "premium plus"),
        ("card", True, "fr", "oui"),
    ],
)
def test_feature_values_read_as_the_file_formats_them(
    name: str, value: object, language: str, expected: str
) -> None:
    constraints = parse_constraints(FILE)
    assert render.feature_text(constraints, name, value, language) == expected  # type: ignore[arg-type]


def test_tables_show_the_features_in_their_formats() -> None:
    constraints = parse_constraints(FILE)
    clients = pd.DataFrame(
        {"ratio": [0.4064, 0.05], "age": [30, 41], "savings": [10.0, math.nan]}, index=["a", "b"]
    )
    specs = [constraints.feature(n) for n in ("ratio", "age", "savings")]
    table = render.client_table(clients, specs, "client", "en", constraints)
    assert table.to_dict("list") == {
        "client": ["a", "b"],
        "Ratio": [f"40.6{NNBSP}%", f"5{NNBSP}%"],
        "Age": [30, 41],  # no format: numbers, sortable
        "Savings": ["10 €", "missing"],
    }
    evidence = pd.DataFrame({"distance": [0.5], "ratio": [0.25], "plan": ["basic"]})
    shown = render.evidence_table(evidence, {"ratio": "Ratio"}, "fr", constraints=constraints)
    assert shown["Ratio"].tolist() == [f"25{NNBSP}%"]
    assert shown["distance"].tolist() == [0.5]
