"""`levers train` and `levers models show`: CSV in, bundle out, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import ModelError
from advisor.models import DemoBundleSettings, load_bundle
from tests.conftest import REPO_ROOT

runner = CliRunner()
CONSTRAINTS = str(REPO_ROOT / "configs" / "demo-portfolio.yaml")


@pytest.fixture(scope="module")
def csv_file(model_clients: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    clients = model_clients.loc[~model_clients["has_life_insurance"]].copy()
    clients["took"] = np.where(clients.pop("take_life_insurance"), "yes", "no")
    clients["outcome"] = np.where(clients["took"] == "yes", "signed", "declined")
    path = tmp_path_factory.mktemp("cli") / "clients.csv"
    clients.to_csv(path, sep=";", index=False)
    return path


def test_train_then_show(csv_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    args = ["train", "--data", str(csv_file), "--target", "took", "--constraints", CONSTRAINTS]
    args += ["--out", str(out), "--families", "logistic,xgboost", "--n-trials", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Leaderboard" in result.output
    assert "Selected:" in result.output
    assert "Ignored columns (not in the constraint file): client_id" in result.output
    bundle = load_bundle(out)
    assert bundle.model.classes == ("no", "yes")
    assert bundle.card.models["propensity"].n_trials == 2
    shown = runner.invoke(app, ["models", "show", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "Integrity: card matches model_card.sha256" in shown.output
    assert "held-out test set" in shown.output
    raw = runner.invoke(app, ["models", "show", str(out), "--json"])
    assert json.loads(raw.output)["kind"] == "propensity"
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "must not exist yet" in again.output
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "outcome"], "the positive class must be named"),
        (["--target", "nope"], "target: must be a column of the data"),
        (["--target", "took", "--families", "forest"], "--families: must be a comma-separated"),
        (
            ["--target", "took", "--metric", "accuracy"],
            "metric: must be one of roc_auc, average_precision",
        ),
    ],
)
def test_train_errors(csv_file: Path, tmp_path: Path, extra: list[str], message: str) -> None:
    args = ["train", "--data", str(csv_file), "--constraints", CONSTRAINTS]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--n-trials", "1", *extra])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_train_needs_its_options() -> None:
    result = runner.invoke(app, ["train", "--target", "y"])
    assert result.exit_code == 2
    assert "--data, --constraints, --out must be given (or --demo)" in result.output


def test_train_with_a_named_positive_class(csv_file: Path, tmp_path: Path) -> None:
    args = ["train", "--data", str(csv_file), "--target", "outcome", "--positive", "signed"]
    args += ["--constraints", CONSTRAINTS, "--out", str(tmp_path / "b")]
    result = runner.invoke(app, [*args, "--families", "logistic", "--n-trials", "1"])
    assert result.exit_code == 0, result.output
    assert load_bundle(tmp_path / "b").model.classes == ("declined", "signed")


def test_train_records_the_goal_direction(csv_file: Path, tmp_path: Path) -> None:
    args = ["train", "--data", str(csv_file), "--target", "outcome", "--positive", "signed"]
    args += ["--constraints", CONSTRAINTS, "--families", "logistic", "--n-trials", "1"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--goal", "lower"])
    assert result.exit_code == 0, result.output
    assert "Goal: lower" in result.output
    assert load_bundle(tmp_path / "b").card.models["propensity"].goal == "lower"
    wrong = runner.invoke(app, [*args, "--out", str(tmp_path / "c"), "--goal", "down"])
    assert wrong.exit_code == 2
    assert "goal: must be one of raise, lower" in " ".join(wrong.output.split())


def test_models_show_reports_a_broken_bundle(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "show", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "Got no such folder" in " ".join(result.output.split())


def test_demo_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERS_DEMO_CLIENTS", "2000")
    monkeypatch.setenv("LEVERS_DEMO_TRIALS", "1")
    out = tmp_path / "demo"
    result = runner.invoke(app, ["train", "--demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    bundle = load_bundle(out)
    assert bundle.integrity.card_verified  # build_demo_bundle writes model_card.sha256
    assert bundle.integrity.n_files == len(bundle.card.files)
    assert bundle.card.kind == "recommender"
    assert bundle.recommender is not None
    assert len(bundle.recommender.products) == 8
    assert bundle.constraint_text is not None
    assert "Saved the demo bundle" in result.output


def test_train_reads_parquet(model_clients: pd.DataFrame, tmp_path: Path) -> None:
    data = tmp_path / "clients.parquet"
    model_clients.loc[~model_clients["has_life_insurance"]].to_parquet(data)
    args = ["train", "--data", str(data), "--target", "take_life_insurance"]
    args += ["--constraints", CONSTRAINTS, "--out", str(tmp_path / "b"), "--families", "mlp"]
    result = runner.invoke(app, [*args, "--n-trials", "1"])
    assert result.exit_code == 0, result.output
    assert load_bundle(tmp_path / "b").model.family == "mlp"


def test_demo_settings_follow_their_declared_rules() -> None:
    settings = DemoBundleSettings.from_env({"LEVERS_DEMO_SEED": "3", "LEVERS_DEMO_TRIALS": "2"})
    assert (settings.seed, settings.n_trials) == (3, 2)
    seed: Any = np.int64(4)  # numpy scalars are plain numbers
    assert type(DemoBundleSettings(seed=seed).seed) is int
    with pytest.raises(
        ModelError,
        match=r"^DemoBundleSettings\.n_trials: must be a whole number >= 1 or None\. "
        r"Got 0\.$",
    ):
        DemoBundleSettings.from_env({"LEVERS_DEMO_TRIALS": "0"})
    with pytest.raises(
        ModelError,
        match=r"^DemoBundleSettings\.budget_s: must be a finite number of seconds in "
        r"\(0, 86400\]\. Got nan\.$",
    ):
        DemoBundleSettings(budget_s=float("nan"))
    with pytest.raises(ModelError, match=r"budget_s: .* in \(0, 86400\]\. Got 90000\.0\.$"):
        DemoBundleSettings(budget_s=90_000.0)
    with pytest.raises(
        ModelError,
        match=r"^DemoBundleSettings\.families: must be a non-empty tuple of logistic, xgboost, "
        r"mlp\. Got \('forest',\)\.$",
    ):
        DemoBundleSettings(families=("forest",))
