"""Product labels from the bundle: set at training (API and `levers train --label`), read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import ModelError
from advisor.levers import Advisor
from advisor.models import load_bundle, save_bundle, train
from tests.conftest import REPO_ROOT

runner = CliRunner()
CONSTRAINTS = REPO_ROOT / "configs" / "demo-portfolio.yaml"
FAST: dict[str, Any] = {"families": ("logistic",), "n_trials": 1, "budget_s": None, "n_folds": 2}


@pytest.fixture(scope="module")
def clients(model_clients: pd.DataFrame) -> pd.DataFrame:
    rows = model_clients.loc[~model_clients["has_life_insurance"]].iloc[:600].copy()
    rows["risk"] = np.where(rows.pop("take_life_insurance"), "bad", "good")
    return rows.set_index("client_id")


def test_a_label_set_at_training_names_the_product(clients: pd.DataFrame, tmp_path: Path) -> None:
    label = {"en": "Life insurance take-up", "fr": "Souscription assurance vie"}
    result = train(clients, "risk", CONSTRAINTS, positive="bad", label=label, **FAST)
    bundle = load_bundle(save_bundle(result, tmp_path / "labelled"))
    assert bundle.card.models["propensity"].label == label
    advisor = Advisor.from_bundle(bundle, clients)
    assert advisor.product_label("risk") == label["en"]
    assert advisor.product_label("risk", "fr") == label["fr"]


def test_without_a_label_the_product_is_its_target_and_positive_class(
    clients: pd.DataFrame, tmp_path: Path
) -> None:
    result = train(clients, "risk", CONSTRAINTS, positive="bad", **FAST)
    bundle = load_bundle(save_bundle(result, tmp_path / "plain"))
    assert bundle.card.models["propensity"].label is None
    advisor = Advisor.from_bundle(bundle, clients)
    assert advisor.product_label("risk") == "risk: bad"
    assert advisor.product_label("risk", "fr") == "risk: bad"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("  ", r"^label: must be a non-empty text\. Got '  '\.$"),
        ({"fr": "Défaut"}, r"^label: must be a text or a mapping"),
        ({"en": "x" * 201}, r"^label\.en: must be printable text of at most 200 characters"),
    ],
)
def test_a_bad_label_is_refused_before_training(
    clients: pd.DataFrame, label: Any, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        train(clients, "risk", CONSTRAINTS, positive="bad", label=label, **FAST)


def test_levers_train_label_options_reach_the_card(clients: pd.DataFrame, tmp_path: Path) -> None:
    data = tmp_path / "clients.csv"
    clients.to_csv(data)
    out = tmp_path / "cli"
    args = ["train", "--data", str(data), "--target", "risk", "--constraints", str(CONSTRAINTS)]
    args += ["--out", str(out), "--families", "logistic", "--n-trials", "1", "--positive", "bad"]
    args += ["--label", "Credit risk: bad", "--label-fr", "Risque de crédit : mauvais"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    entry = load_bundle(out).card.models["propensity"]
    assert entry.label == {"en": "Credit risk: bad", "fr": "Risque de crédit : mauvais"}
