"""LIME and Levers LIME on the banks' own files: no demo column assumed, missing values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.errors import AdvisorError
from advisor.explain import LeversLimeExplainer, LimeExplainer, explanation_text
from constraints import ConstraintSet, parse_constraints

SMALL = {"n_start": 100, "max_samples": 400, "n_heldout": 200}


def _bundle(path: Path, data: pd.DataFrame) -> tuple[Any, ConstraintSet]:
    from advisor.models import load_bundle

    bundle = load_bundle(path)
    assert bundle.constraint_text is not None
    return bundle.model, parse_constraints(bundle.constraint_text, data)


@pytest.mark.parametrize("name", ["bank", "german"])
def test_real_files_are_explained_by_both_limes(
    name: str,
    bank_bundle: Path,
    bank_data: pd.DataFrame,
    german_bundle: Path,
    german_data: pd.DataFrame,
) -> None:
    """Bank marketing (XGBoost) and German credit (logistic, a risk to lower)."""
    path, data = (bank_bundle, bank_data) if name == "bank" else (german_bundle, german_data)
    model, cs = _bundle(path, data)
    reference = data.iloc[:1_000]
    client = data.iloc[[3]]
    for mode in ("all", "actionable"):
        explainer = LeversLimeExplainer(model, cs, reference, seed=0, mode=mode, **SMALL)
        frame = explainer.perturbations(client, 100, seed=1)
        allowed = (
            cs
            if mode == "actionable"
            else cs.allowing(*[n for n in cs.feature_names if cs.feature(n).role == "context"])
        )
        assert allowed.check(client, frame).ok.all()
        explanation = explainer.explain(client)
        assert explanation.weights
        assert explanation.fidelity is not None
        assert np.isfinite(explanation.fidelity.r2)
        if mode == "actionable":
            assert {w.role for w in explanation.weights} == {"actionable"}
    vanilla = LimeExplainer(model, cs, reference, seed=0, num_samples=500).explain(client)
    assert {w.feature for w in vanilla.weights} == set(cs.feature_names)
    text = explanation_text(vanilla, "fr")
    assert vanilla.weights[0].label["fr"] in text


MISSING_YAML = """
name: tiny
features:
  amount: {kind: continuous, role: context, min: 0, missing: keep, label: {en: Amount, fr: Montant}}
  plan: {kind: categorical, categories: [basic, plus, gold], role: actionable}
  visits: {kind: integer, role: actionable, min: 0, direction: increase}
  online: {kind: binary, role: immutable}
"""


def test_a_missing_value_kept_by_the_model_is_explained() -> None:
    from advisor.models import train

    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 500.0, n).round(2),
            "plan": rng.choice(["basic", "plus", "gold"], n),
            "visits": rng.poisson(3, n),
            "online": rng.random(n) < 0.5,
        }
    )
    logit = -1.0 + 0.4 * frame["visits"] - 0.001 * frame["amount"] + (frame["plan"] == "gold")
    frame["target"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame.loc[frame.index[::7], "amount"] = np.nan
    cs = parse_constraints(MISSING_YAML, frame)
    result = train(
        frame, "target", cs, families=("xgboost",), n_trials=1, budget_s=None, n_folds=2, seed=0
    )
    client = frame.iloc[[0]]  # amount is missing
    assert np.isnan(client["amount"].iloc[0])
    levers = LeversLimeExplainer(result.model, result.constraints, frame, **SMALL)
    explanation = levers.explain(client)
    assert explanation.weights
    assert explanation.weight("amount") == 0.0  # a kept missing value is never filled in
    assert levers.perturbations(client, 50)["amount"].isna().all()
    with pytest.raises(
        AdvisorError,
        match=r"^data: amount must have at least one known value to build Levers LIME's "
        r"reference client\. Got only missing values\.$",
    ):
        LeversLimeExplainer(result.model, result.constraints, frame.assign(amount=np.nan))
    vanilla = LimeExplainer(result.model, result.constraints, frame, num_samples=500)
    amount = next(w for w in vanilla.explain(client).weights if w.feature == "amount")
    assert amount.shown == {"en": "missing", "fr": "manquant"}
    assert amount.value is None


NO_LEVER_YAML = """
name: one lever
features:
  income: {kind: continuous, role: context, min: 0}
  card: {kind: binary, role: actionable, direction: increase}
"""


def test_a_client_with_no_feasible_move_gets_an_empty_explanation() -> None:
    """Actionable mode, the only lever already pulled: nothing to explain, said as such."""
    from advisor.models import train

    rng = np.random.default_rng(1)
    n = 400
    frame = pd.DataFrame({"income": rng.gamma(3.0, 800.0, n).round(), "card": rng.random(n) < 0.4})
    logit = -0.5 + 0.0004 * frame["income"] + 1.2 * frame["card"]
    frame["target"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    cs = parse_constraints(NO_LEVER_YAML, frame)
    result = train(
        frame, "target", cs, families=("logistic",), n_trials=1, budget_s=None, n_folds=2, seed=0
    )
    explainer = LeversLimeExplainer(
        result.model, result.constraints, frame, mode="actionable", **SMALL
    )
    client = {"income": 2_000.0, "card": True}
    assert explainer.perturbations(client, 10).empty
    explanation = explainer.explain(client)
    assert explanation.weights == ()
    assert explanation.fidelity is None
    assert explanation.stability is not None
    assert explanation.stability.n_samples == 0
    assert "Nothing the client can change" in explanation_text(explanation)
    with_card_off = explainer.explain({"income": 2_000.0, "card": False})
    assert with_card_off.top(1) == ("card",)
    # most reference clients have no card: the client is at the reference, its weight 0
    assert with_card_off.parameters["reference"]["card"] is False
    assert with_card_off.weight("card") == 0.0
    assert with_card_off.parameters["slopes"]["card"] > 0  # having the card raises the score
