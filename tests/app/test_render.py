"""Pure rendering helpers: numbers in both languages, profile tables, figures, tables."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from app import render, render_model
from app.texts import TEXTS


def _spec(name: str, role: str, en: str, fr: str, unit: str = "") -> SimpleNamespace:
    label = SimpleNamespace(get=lambda lang: {"en": en, "fr": fr}[lang])
    return SimpleNamespace(name=name, role=role, label=label, unit=unit)


def test_every_text_exists_in_both_languages() -> None:
    for key, texts in TEXTS.items():
        assert set(texts) == {"en", "fr"}, key
        assert all(texts.values()), key


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (2450.0, "en", "2,450"),
        (2450.0, "fr", "2\u202f450"),
        (0.35, "en", "0.35"),
        (0.35, "fr", "0,35"),
        (1234.56, "en", "1,235"),
        (float("inf"), "en", "∞"),
    ],
)
def test_numbers_follow_the_language(value: float, lang: str, expected: str) -> None:
    assert render.number(value, lang) == expected  # type: ignore[arg-type]


def test_percentages_points_and_values() -> None:
    assert render.percent(0.125) == "12.5%"
    assert render.percent(0.125, "fr") == "12,5\u202f%"
    assert render.points(0.042) == "+4.2 pts"
    assert render.points(-0.042, "fr") == "-4,2 pts"
    assert render.value_text(True, "", "fr") == "oui"
    assert render.value_text(2450.0, "€") == "2,450 €"
    assert render.value_text("civil_servant") == "civil servant"


def test_profile_tables_split_situation_from_actionable_habits() -> None:
    client = pd.Series({"age": 47, "monthly_income": 3200.0, "mobile_app": False})
    features = [
        _spec("age", "context", "Age", "Âge", "years"),
        _spec("monthly_income", "context", "Net monthly income", "Revenu mensuel net", "€"),
        _spec("mobile_app", "actionable", "Mobile app", "Application mobile"),
        _spec("missing", "actionable", "Missing", "Absent"),
    ]
    situation, habits = render.profile_tables(client, features, "fr")
    assert situation.to_dict("list") == {
        "Caractéristique": ["Âge", "Revenu mensuel net"],
        "Valeur": ["47 ans", "3\u202f200 €"],
    }
    assert habits.to_dict("list") == {"Caractéristique": ["Application mobile"], "Valeur": ["non"]}


def test_influence_figure_colours_raising_green_and_lowering_red() -> None:
    influential = pd.DataFrame(
        {
            "direction": ["raised", "raised", "lowered"],
            "influential": ["#1", "#2", "#3"],
            "influence": [0.3, 0.1, 0.2],
        }
    )
    bar = render.influence_figure(influential).data[0]
    assert list(bar.y) == [0.3, 0.1, -0.2]
    assert list(bar.marker.color) == [render.GREEN, render.GREEN, render.RED]


def test_recommendations_figure_highlights_the_chosen_product() -> None:
    ranked = pd.DataFrame(
        {
            "product": ["home_loan", "premium_card"],
            "label_en": ["Home loan", "Premium card"],
            "label_fr": ["Prêt immobilier", "Carte premium"],
            "propensity": [0.2, 0.1],
        }
    )
    bar = render.recommendations_figure(ranked, "fr", selected="premium_card").data[0]
    assert list(bar.y) == ["Prêt immobilier", "Carte premium"]
    assert list(bar.marker.color) == [render.GREY, render.BLUE]
    assert list(bar.text) == ["20,0\u202f%", "10,0\u202f%"]
    ranked["expected_value"] = [240.0, 12.0]
    bar = render.recommendations_figure(ranked, "en").data[0]
    assert list(bar.text) == ["20.0% · 240 €", "10.0% · 12 €"]


def test_importance_and_calibration_figures() -> None:
    table = pd.DataFrame(
        {"feature": ["a", "b", "c"], "drop_mean": [0.05, 0.01, 0.0], "drop_std": [0.01] * 3}
    )
    bar = render_model.importance_figure(table, {"a": "Alpha"}, top=2).data[0]
    assert list(bar.y) == ["Alpha", "b"]
    test = {
        "calibration_predicted": [0.1, 0.3],
        "calibration_observed": [0.12, 0.28],
        "calibration_count": [50, 50],
    }
    diagonal, bins = render_model.calibration_figure(test).data
    assert list(bins.x) == [0.1, 0.3]
    assert list(diagonal.x) == list(diagonal.y)


def test_constraints_table_translates_labels_roles_and_headers() -> None:
    described = pd.DataFrame(
        {"feature": ["age"], "kind": ["integer"], "role": ["context"], "label": ["Age"]}
    )
    table = render_model.constraints_table(described, [_spec("age", "context", "Age", "Âge")], "fr")
    assert list(table.columns) == ["libellé", "caractéristique", "type", "rôle"]
    assert table.iloc[0].tolist() == ["Âge", "age", "entier", "contexte"]


def test_evidence_tables_speak_the_language_and_label_features() -> None:
    influential = pd.DataFrame(
        {"direction": ["raised", "lowered"], "influence": [0.2, 0.1], "age": [40, 50]}
    )
    table = render.evidence_table(influential, {"age": "Âge"}, "fr")
    assert list(table.columns) == ["effet", "influence", "Âge"]
    assert table["effet"].tolist() == ["a augmenté le score", "a diminué le score"]
    assert render.value_text(3, "years", "fr") == "3 ans"


def test_leaderboard_puts_the_best_trial_first_with_readable_parameters() -> None:
    board = pd.DataFrame(
        {"cv_roc_auc": [0.7, None, 0.8], "params": [{"C": 0.5}, {}, {"max_depth": 3}]}
    )
    table = render_model.leaderboard_table(board)
    assert table["params"].tolist() == ["max_depth=3", "C=0.5", ""]


def test_missing_values_are_said_in_words() -> None:
    assert render.value_text(float("nan"), "€") == "missing"
    assert render.value_text(None, "", "fr") == "manquant"
    assert render.value_text(pd.NA) == "missing"


def _labelled(name: str, en: str, fr: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, label={"en": en, "fr": fr})


def test_client_table_shows_the_id_then_the_files_features_by_label() -> None:
    clients = pd.DataFrame(
        {"ref": ["A", "B"], "age": [30, 40], "job": ["admin.", "retired"], "y": ["no", "yes"]},
        index=["A", "B"],
    )
    features = [
        _labelled("job", "Occupation", "Profession"),
        _labelled("age", "Age", "Âge"),
        _labelled("absent", "Absent", "Absent"),
    ]
    table = render.client_table(clients, features, "ligne", "fr")
    assert table.columns.tolist() == ["ligne", "Profession", "Âge"]
    assert table.to_dict("list") == {
        "ligne": ["A", "B"],
        "Profession": ["admin.", "retired"],
        "Âge": [30, 40],
    }
    same = [_labelled("a", "Amount", "Montant"), _labelled("b", "Amount", "Montant")]
    both = render.client_table(pd.DataFrame({"a": [1], "b": [2]}, index=["1"]), same, "row")
    assert both.columns.tolist() == ["row", "Amount (a)", "Amount (b)"]


def test_holdings_figure_draws_taken_only_when_the_data_has_targets() -> None:
    summary = pd.DataFrame(
        {
            "product": ["card", "loan"],
            "label_en": ["Card", "Loan"],
            "label_fr": ["Carte", "Prêt"],
            "held": [0.5, 0.2],
            "taken": [0.1, 0.05],
        }
    )
    figure = render.holdings_figure(summary, "fr")
    assert [bar.name for bar in figure.data] == ["détenu", "souscrit (cible)"]
    assert list(figure.data[0].x) == ["Carte", "Prêt"]
    no_targets = render.holdings_figure(summary.assign(taken=float("nan")))
    assert [bar.name for bar in no_targets.data] == ["held"]


@pytest.mark.parametrize(("direction", "colour"), [("raise", render.GREEN), ("lower", render.RED)])
def test_the_gauge_marks_a_floor_or_a_ceiling(direction: str, colour: str) -> None:
    gauge = render.gauge_figure(0.34, 0.2, "Risk", direction).data[0].gauge
    assert gauge.threshold.value == pytest.approx(20.0)
    assert gauge.threshold.line.color == colour
    assert list(gauge.steps[0].range) == [pytest.approx(20.0), 100]


def test_an_id_typed_in_full_comes_first() -> None:
    from app.components import matching_ids

    ids = [str(i) for i in range(1, 130)]
    assert matching_ids(ids, "12")[:3] == ["12", "112", "120"]
    assert matching_ids(ids, "") == ids
    assert matching_ids(["CR-00012", "cr-00120"], "cr-0001") == ["CR-00012"]
    assert matching_ids(ids, "x") == []
