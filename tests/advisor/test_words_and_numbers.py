"""Advisor-facing words: French header lines, reasons without context noise, signed changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.levers import actions_of, load_demo_advisor
from advisor.levers._wording import no_lever_reason
from advisor.models import DemoBundleSettings
from constraints import parse_constraints
from counterfactuals import Change, CounterfactualResult, Status, Target
from tests.conftest import DEMO_TEST_CLIENTS

runner = CliRunner()
NBSP = "\u202f"

CS = parse_constraints(
    """
name: words
features:
  lines:
    kind: integer
    role: actionable
    label: {en: Credit lines, fr: Lignes de crédit}
    lever: {en: "Close or consolidate {change} credit line(s)",
            fr: "Fermer ou regrouper {change} ligne(s) de crédit"}
  utilisation:
    kind: continuous
    role: actionable
    direction: decrease
    format: percent
    label: {en: Utilisation, fr: Utilisation}
  income: {kind: continuous, role: context, label: {en: Income, fr: Revenu}}
  age: {kind: integer, role: context, label: {en: Age, fr: Âge}}
max_changes: 2
"""
)


def test_actions_say_a_decrease_as_an_absolute_amount_in_both_languages() -> None:
    changes = (
        Change(feature="lines", before=5, after=3),
        Change(feature="utilisation", before=0.4064, after=0.3),
    )
    (lines, utilisation) = actions_of(CS, changes)
    assert lines.text == {
        "en": "Close or consolidate 2 credit line(s)",
        "fr": "Fermer ou regrouper 2 ligne(s) de crédit",
    }
    assert utilisation.text == {
        "en": f"Utilisation: reduce from 40.6{NBSP}% to 30{NBSP}%",
        "fr": f"Utilisation : réduire de 40,6{NBSP}% à 30{NBSP}%",
    }


def _none_found(binding: tuple[str, ...]) -> CounterfactualResult:
    return CounterfactualResult(
        query={},
        target=Target.probability(0.2),
        counterfactuals=(),
        status=Status.NONE,
        engine="exact",
        reason="No lever exists within these constraints (exact engine, proved): ...",
        best_score=0.1,
        binding=binding,
    )


def test_reasons_name_context_once_as_context_never_as_a_block() -> None:
    product = {"en": "Card", "fr": "Carte"}
    binding = ("context:income", "direction:utilisation", "context:income", "context:age")
    reason = no_lever_reason(CS, product, _none_found(binding))
    assert reason["en"].endswith(
        "What blocks it: Utilisation may only move down. It also depends on the client's "
        "situation (context, not an action): Income, Age."
    )
    assert reason["fr"].endswith(
        "Ce qui bloque : Utilisation ne peut évoluer qu'à la baisse. Cela dépend aussi de la "
        "situation du client (contexte, pas une action) : Revenu, Âge."
    )
    only_context = no_lever_reason(CS, product, _none_found(("context:income",)))
    assert "What blocks it" not in only_context["en"]
    assert "Ce qui bloque" not in only_context["fr"]
    assert only_context["en"].count("Income") == 1


@pytest.fixture
def demo_env(demo_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERS_DEMO_BUNDLE", str(demo_bundle))
    monkeypatch.setenv("LEVERS_DEMO_CLIENTS", str(DEMO_TEST_CLIENTS))
    monkeypatch.delenv("LEVERS_DEMO_SEED", raising=False)


def test_advise_in_french_prints_no_english_header_line(demo_env: None, demo_bundle: Path) -> None:
    advisor, _ = load_demo_advisor(DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS))
    assert advisor.reference is not None
    client = next(str(c) for c in advisor.reference.index[:20] if advisor.advise(c).levers)
    french = runner.invoke(app, ["advise", client, "--lang", "fr"])
    assert french.exit_code == 0, french.output
    words = " ".join(french.output.split())
    assert f"{client} : " in words
    assert "aujourd'hui" in words
    assert "objectif" in words or "plafond" in words
    assert "Leviers pour" in words
    assert "soutien" in words
    for english in ("today", " goal ", "ceiling", "Levers for", "support"):
        assert english not in words, english
    english = " ".join(runner.invoke(app, ["advise", client]).output.split())
    assert "today" in english
    assert "Levers for" in english
