"""The Campaign page's pure helpers: segment filters, KPIs, tables, the curve, the CSV."""

from __future__ import annotations

import io
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.campaigns import COLUMNS, CampaignTotals
from app import render_campaign as rc
from app.render import BLUE, GREY, RED
from constraints import ConstraintSet
from tests.conftest import REPO_ROOT


def _spec(name: str, kind: str, categories: tuple[Any, ...] = ()) -> SimpleNamespace:
    label = SimpleNamespace(get=lambda lang: {"en": f"{name} (en)", "fr": f"{name} (fr)"}[lang])
    return SimpleNamespace(
        name=name, kind=kind, categories=categories, protected=False, label=label
    )


def _totals(**changes: Any) -> CampaignTotals:
    values: dict[str, Any] = {
        "n_segment": 2_500,
        "n_excluded": 100,
        "n_reached": 400,
        "n_searched": 2_000,
        "n_advised": 1_500,
        "n_none_proved": 300,
        "n_none_not_found": 200,
        "coverage": 0.75,
        "expected_extra_sales": 123.456,
        "expected_value": 37_036.8,
        "cost_quantiles": {},
    }
    return CampaignTotals(**(values | changes))


# ---------------------------------------------------------------- the segment builder
def test_segment_features_follow_the_constraint_file_without_protected_attributes(
    demo_constraints: ConstraintSet, small_portfolio: pd.DataFrame
) -> None:
    document = yaml.safe_load((REPO_ROOT / "configs" / "demo-portfolio.yaml").read_text())
    protected = {n for n, f in document["features"].items() if f.get("protected")}
    assert protected == {"sex"}  # the oracle: the file itself
    clients = small_portfolio.drop(columns=["tenure_years"])
    names = [s.name for s in rc.segment_features(demo_constraints.features, clients)]
    expected = [n for n in document["features"] if n not in protected and n != "tenure_years"]
    assert names == expected


def test_choices_come_from_the_file_or_the_data_for_yes_no_features() -> None:
    region = _spec("region", "categorical", ("north", "south", "capital"))
    assert rc.choices_of(region, pd.Series(["south"])) == ["north", "south", "capital"]
    flag = _spec("mobile_app", "binary")
    assert rc.choices_of(flag, pd.Series([True, False, True])) == [False, True]
    assert [rc.choice_label(flag, v, "fr") for v in (False, True)] == ["non", "oui"]
    labelled = _spec("housing", "binary", ("no", "yes"))
    assert rc.choices_of(labelled, pd.Series(["yes", "no", None])) == ["no", "yes"]
    assert rc.choice_label(labelled, "yes", "en") == "yes"
    coded = _spec("loan", "binary", ("none", "some"))
    assert rc.choices_of(coded, pd.Series([1, 0, 1])) == [0, 1]
    assert [rc.choice_label(coded, v, "en") for v in (0, 1)] == ["none", "some"]
    assert rc.choice_label(region, "civil_servant", "en") == "civil servant"


def test_slider_bounds_are_the_data_range() -> None:
    age = rc.slider_bounds(_spec("age", "integer"), pd.Series([23, 71, 40]))
    assert age == rc.SliderBounds(low=23, high=71, step=1, integer=True)
    income = rc.slider_bounds(_spec("income", "continuous"), pd.Series([812.4, 15_307.9, np.nan]))
    assert income == rc.SliderBounds(low=800.0, high=15_400.0, step=100.0, integer=False)
    assert rc.slider_bounds(_spec("x", "continuous"), pd.Series([2.0, 2.0])) is None
    assert rc.slider_bounds(_spec("x", "integer"), pd.Series([np.nan, np.nan])) is None


_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", None]),
        st.one_of(st.none(), st.integers(-5, 5)),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    rows=_ROWS,
    kept=st.lists(st.sampled_from(["a", "b", "c"]), unique=True),
    flags=st.lists(st.booleans(), unique=True),
    bounds=st.one_of(st.none(), st.tuples(st.integers(-6, 6), st.integers(-6, 6))),
    cap=st.integers(1, 50),
)
def test_segment_mask_keeps_the_first_matching_clients_up_to_the_cap(
    rows: list[tuple[Any, Any, bool]],
    kept: list[str],
    flags: list[bool],
    bounds: tuple[int, int] | None,
    cap: int,
) -> None:
    clients = pd.DataFrame(rows, columns=["kind", "amount", "flag"])
    clients["amount"] = clients["amount"].astype("Int64")
    ranges = {} if bounds is None else {"amount": (float(min(bounds)), float(max(bounds)))}
    mask = rc.segment_of(clients, {"kind": kept, "flag": flags}, ranges, cap)

    def matches(kind: Any, amount: Any, flag: bool) -> bool:  # the oracle, row by row
        if kept and kind not in kept:
            return False
        if flags and flag not in flags:
            return False
        if bounds is None:
            return True
        return amount is not None and min(bounds) <= amount <= max(bounds)

    expected, taken = [], 0
    for row in rows:
        keep = matches(*row) and taken < cap
        taken += keep
        expected.append(keep)
    assert mask.dtype == bool
    assert mask.tolist() == expected


def test_segment_mask_refuses_a_cap_below_one() -> None:
    with pytest.raises(ValueError, match=r"^cap: must be at least 1 client. Got 0.$"):
        rc.segment_of(pd.DataFrame({"a": [1]}), {}, {}, 0)


def test_opt_out_candidates_are_the_yes_no_columns() -> None:
    clients = pd.DataFrame(
        {"opt_out": [True, False], "flag": ["yes", "no"], "n": [1, 2], "nullable": [True, None]}
    )
    clients["nullable"] = clients["nullable"].astype("boolean")
    assert rc.boolean_columns(clients) == ["opt_out", "nullable"]


# ---------------------------------------------------------------- results
def test_kpis_show_the_totals_in_each_language() -> None:
    shown = rc.kpis(_totals(), "en")
    assert [(label, value) for label, value, _ in shown] == [
        ("Clients in the segment", "2,500"),
        ("Coverage", "75.0%"),
        ("Clients advised", "1,500"),
        ("Expected extra sales", "123.5"),
        ("Expected value", "37,037 €"),
    ]
    assert "2000" in shown[1][2].replace(",", "")
    french = rc.kpis(_totals(expected_value=None), "fr")
    assert [value for _, value, _ in french] == ["2\u202f500", "75,0\u202f%", "1\u202f500", "123,5"]
    assert french[3][0] == "Ventes supplémentaires attendues"


def test_status_line_counts_every_status() -> None:
    line = rc.status_line(_totals(), 12.34, ("search", "exact"), "en")
    assert line == (
        "Searched 2,000 · already at the goal 400 · excluded 100 · no lever (proved) 300 · "
        "none found in time 200 · 12.3 s (search, exact)"
    )


def _levers_frame() -> pd.DataFrame:
    heads = [["C1", "lever", "y", 0.1, 0.3, 1], ["C2", "excluded", "y", math.nan, 0.3, 0]]
    texts = [['Call "now", then; later', "Appeler à 9 h", "{}"], ["", "", ""]]
    figures = [[0.35, 0.25, 1.5, 2], [math.nan, math.nan, math.nan, 0]]
    rows = [[*h, *t, *f] for h, t, f in zip(heads, texts, figures, strict=True)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def test_levers_csv_reads_back_as_the_frame() -> None:
    frame = _levers_frame()
    back = pd.read_csv(io.BytesIO(rc.levers_csv(frame)), keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(COLUMNS)
    text_columns = ["client", "status", "product", "actions_en", "actions_fr", "changes"]
    assert back[text_columns].fillna("").equals(frame[text_columns])
    numbers = [c for c in COLUMNS if c not in text_columns]
    np.testing.assert_array_equal(back[numbers].to_numpy(float), frame[numbers].to_numpy(float))


def test_levers_table_speaks_the_language() -> None:
    table = rc.levers_table(_levers_frame(), "fr")
    assert list(table.columns) == [
        "client",
        "statut",
        "score",
        "score après",
        "hausse",
        "coût",
        "actions",
    ]
    assert table["statut"].tolist() == ["levier", "exclu"]
    assert table["actions"].tolist() == ["Appeler à 9 h", ""]


def _curve() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "k": [1, 2, 3],
            "n_covered": [10, 16, 19],
            "coverage": [0.4, 0.64, 0.76],
            "mean_cost": [1.5, 1.8, 2.1],
            "cost_ratio": [1.1, 1.15, 1.2],
            "expected_extra_sales": [2.0, 3.1, 3.6],
        }
    )


def test_curve_figure_draws_coverage_and_mean_cost_per_number_of_actions() -> None:
    curve = _curve()
    bars, line = rc.curve_figure(curve, "fr").data
    assert list(bars.x) == [1, 2, 3]
    assert list(bars.y) == curve["coverage"].tolist()
    assert list(bars.text) == ["40\u202f%", "64\u202f%", "76\u202f%"]
    assert list(line.x) == [1, 2, 3]
    assert list(line.y) == curve["mean_cost"].tolist()
    assert list(line.customdata) == curve["cost_ratio"].tolist()
    assert (bars.yaxis, line.yaxis) == ("y", "y2")
    assert line.name == "Coût moyen"


def test_actions_table_keeps_the_language_of_the_screen() -> None:
    frame = pd.DataFrame(
        {
            "rank": [1, 2],
            "action_en": ["Domicile the salary", "Open the app"],
            "action_fr": ["Domicilier le salaire", "Ouvrir l'application"],
            "n_covered": [12, 5],
            "coverage": [0.5, 0.2],
            "mean_cost": [1.0, 2.0],
            "expected_extra_sales": [3.0, 1.0],
            "cost_ratio": [1.1, 1.3],
        }
    )
    table = rc.actions_table(frame, "en")
    assert table["action"].tolist() == ["Domicile the salary", "Open the app"]
    assert table["clients covered"].tolist() == [12, 5]
    assert "action_fr" not in table
    assert rc.actions_table(frame, "fr")["action"].tolist()[0] == "Domicilier le salaire"


def _fairness_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attribute": ["sex", "sex", "age", "age"],
            "group": ["female", "male", "[18, 30)", ">= 60"],
            "n_segment": [120, 110, 40, 12],
            "n_searched": [100, 90, 35, 10],
            "n_advised": [80, 45, 30, 5],
            "coverage": [0.8, 0.5, 30 / 35, 0.5],
            "mean_cost": [1.2, 2.4, 1.0, math.nan],
            "median_cost": [1.0, 2.0, 1.0, math.nan],
            "mean_uplift": [0.1, 0.1, 0.2, math.nan],
            "flagged": [False, True, False, False],
        }
    )


def test_fairness_figure_marks_flagged_groups_red_and_small_ones_grey() -> None:
    frame = _fairness_frame()
    coverage, cost = rc.fairness_figure(frame, {"sex": "Sexe", "age": "Âge"}, 30, "fr").data
    names = ["Sexe: female", "Sexe: male", "Âge: [18, 30)", "Âge: >= 60"]
    assert list(coverage.x) == names
    assert list(cost.x) == names
    np.testing.assert_array_equal(coverage.y, frame["coverage"])
    np.testing.assert_array_equal(cost.y, frame["mean_cost"])
    # coverage compares searched clients (>= 30), cost advised clients (>= 30)
    assert list(coverage.marker.color) == [BLUE, RED, BLUE, GREY]
    assert list(cost.marker.color) == [BLUE, RED, BLUE, GREY]
    assert (coverage.xaxis, cost.xaxis) == ("x", "x2")


def test_fairness_lines_and_table_speak_the_language() -> None:
    frame = _fairness_frame()
    labels = {"sex": "Sex"}
    assert rc.flagged_lines(frame, labels, "en") == [
        "Sex: male: flagged (coverage 50.0%, mean cost 2.40)."
    ]
    table = rc.fairness_table(frame, labels, "fr")
    assert list(table.columns)[:4] == ["groupe", "clients", "cherchés", "conseillés"]
    assert table["groupe"].tolist()[:2] == ["Sex: female", "Sex: male"]
    assert table["signalé"].tolist() == ["non", "oui", "non", "non"]
    assert table["couverture"].tolist() == frame["coverage"].tolist()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_figure_of_the_tables_has_a_format(lang: str) -> None:
    formats = rc.number_formats(lang)  # type: ignore[arg-type]
    actions = pd.DataFrame(
        {
            "rank": [1],
            "action_en": ["a"],
            "action_fr": ["a"],
            "n_covered": [3],
            "coverage": [0.5],
            "mean_cost": [1.0],
            "expected_extra_sales": [0.4],
            "cost_ratio": [1.1],
        }
    )
    tables = [
        rc.actions_table(actions, lang),  # type: ignore[arg-type]
        rc.levers_table(_levers_frame(), lang),  # type: ignore[arg-type]
        rc.fairness_table(_fairness_frame(), {}, lang),  # type: ignore[arg-type]
    ]
    for table in tables:
        floats = {c for c in table.columns if pd.api.types.is_float_dtype(table[c])}
        assert floats <= set(formats), floats - set(formats)
