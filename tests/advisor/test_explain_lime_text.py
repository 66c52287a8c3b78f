"""The explanation in words: EN and FR, the top feature's label and value, context, warnings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

from advisor.errors import AdvisorError
from advisor.explain import Explanation, Fidelity, LeversLimeExplainer, Stability, explanation_text

SMALL = {"n_start": 100, "max_samples": 400, "n_heldout": 200}


@pytest.fixture(scope="module")
def explanation(trained: dict[str, Any], model_clients: pd.DataFrame) -> Explanation:
    reference = model_clients.loc[~model_clients["has_life_insurance"]]
    result = trained["logistic"]
    explainer = LeversLimeExplainer(result.model, result.constraints, reference, seed=0, **SMALL)
    return explainer.explain(reference.iloc[[0]])


@pytest.mark.parametrize(
    ("language", "opening", "lever"),
    [
        ("en", "The score (", "Of what can change, "),
        ("fr", "Le score (", "Parmi ce qui peut changer, "),
    ],
)
def test_the_text_names_the_top_feature_with_its_value(
    explanation: Explanation, language: str, opening: str, lever: str
) -> None:
    text = explanation_text(explanation, language)
    top = explanation.weights[0]
    assert text.startswith(opening + f"{explanation.score * 100:.0f}")
    assert f"{top.label[language]} ({top.shown[language]})" in text
    first_lever = next(w for w in explanation.weights if w.role == "actionable" and w.weight != 0.0)
    assert f"{lever}{first_lever.label[language]} ({first_lever.shown[language]})" in text
    assert "\n" not in text


def test_english_and_french_differ_and_both_say_the_direction(explanation: Explanation) -> None:
    en, fr = explanation_text(explanation, "en"), explanation_text(explanation, "fr")
    assert en != fr
    assert ("raises the score" in en) or ("lowers the score" in en)
    assert ("augmente le score" in fr) or ("baisse le score" in fr)


def test_every_method_says_the_client_value_s_effect(explanation: Explanation) -> None:
    """Levers LIME's weights are contributions, as SHAP's: "it raises/lowers the score".

    Oracle: the sign of the first weighed lever's contribution, whatever the method.
    """
    lever = next(w for w in explanation.weights if w.role == "actionable" and w.weight != 0.0)
    said = "it raises" if lever.weight > 0 else "it lowers"
    assert f"({said} the score)" in explanation_text(explanation)
    as_shap = replace(explanation, method="tree_shap", fidelity=None, stability=None)
    assert f"({said} the score)" in explanation_text(as_shap)
    assert "more of it" not in explanation_text(explanation)


def test_context_features_are_named_as_context_once(explanation: Explanation) -> None:
    text = explanation_text(explanation, "en", k=5)
    context = [w for w in explanation.weights[:5] if w.role == "context"]
    assert context, "the demo client's top-5 holds context features"
    assert text.count("context:") == 1
    for entry in context:
        assert entry.label["en"] in text.split("context:")[0]


def test_a_poor_fit_and_an_unsettled_ranking_are_said_in_plain_words(
    explanation: Explanation,
) -> None:
    poor = replace(
        explanation,
        fidelity=Fidelity(r2=0.21, heldout_error=0.1, poor=True),
        stability=Stability(top_k=5, jaccard=0.6, n_samples=800, converged=False),
    )
    en, fr = explanation_text(poor, "en"), explanation_text(poor, "fr")
    assert "matches the model poorly" in en
    assert "(fit 21 %)" in en
    assert "another sample" in en
    assert "reproduit mal le modèle" in fr
    assert "autre échantillon" in fr
    assert "poorly" not in explanation_text(explanation, "en")


def test_no_weight_and_no_lever_are_said(explanation: Explanation) -> None:
    empty = replace(explanation, weights=(), fidelity=None, stability=None)
    assert explanation_text(empty) == (
        f"The score ({empty.score * 100:.0f} %) is explained by no single feature. Nothing "
        "the client can change weighs on this score."
    )


def test_bad_arguments_are_refused(explanation: Explanation) -> None:
    with pytest.raises(AdvisorError, match=r"^language: must be one of en, fr\. Got 'de'\.$"):
        explanation_text(explanation, "de")
    with pytest.raises(AdvisorError, match=r"^k: must be a whole number >= 1\. Got 0\.$"):
        explanation_text(explanation, k=0)
    with pytest.raises(AdvisorError, match=r"^explanation: must be an Explanation"):
        explanation_text({"weights": []})  # type: ignore[arg-type]
