"""`levers advise`: one client's levers in the terminal or as JSON, on the demo or any bundle."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.datasets import make_demo_portfolio
from advisor.levers import load_demo_advisor
from advisor.models import DemoBundleSettings, load_bundle
from tests.conftest import DEMO_TEST_CLIENTS

runner = CliRunner()


@pytest.fixture
def demo_env(demo_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERS_DEMO_BUNDLE", str(demo_bundle))
    monkeypatch.setenv("LEVERS_DEMO_CLIENTS", str(DEMO_TEST_CLIENTS))
    monkeypatch.delenv("LEVERS_DEMO_SEED", raising=False)


@pytest.fixture(scope="module")
def expected(demo_bundle: Path) -> tuple[str, Any]:
    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    advisor, _ = load_demo_advisor(settings)
    assert advisor.reference is not None
    for client in advisor.reference.index[:20]:
        advice = advisor.advise(client)
        if advice.levers:
            return str(client), advice
    pytest.fail("no client with levers among the first 20")


def test_advise_prints_the_levers_in_words(demo_env: None, expected: tuple[str, Any]) -> None:
    client, advice = expected
    result = runner.invoke(app, ["advise", client])
    assert result.exit_code == 0, result.output
    assert advice.levers[0].describe("en")[0][:40] in " ".join(result.output.split())
    french = runner.invoke(app, ["advise", client, "--lang", "fr"])
    assert french.exit_code == 0
    assert advice.product_label["fr"] in french.output


def test_advise_json_is_the_advice(demo_env: None, expected: tuple[str, Any]) -> None:
    client, advice = expected
    result = runner.invoke(app, ["advise", client, "--json", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["product"] == advice.product
    assert payload["status"] == "found"
    assert [lv["actions"] for lv in payload["levers"]] == [
        lv.describe("fr") for lv in advice.levers
    ]
    assert payload["levers"][0]["score_after"] == pytest.approx(advice.levers[0].score_after)


def test_advise_any_bundle_with_its_data(
    demo_bundle: Path, expected: tuple[str, Any], tmp_path: Path
) -> None:
    client, advice = expected
    data = tmp_path / "clients.parquet"
    make_demo_portfolio(n_clients=DEMO_TEST_CLIENTS, seed=0).to_parquet(data)
    result = runner.invoke(
        app, ["advise", client, "--bundle", str(demo_bundle), "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["levers"][0]["actions"] == advice.levers[0].describe("en")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["C9999999"], "client: must be a reference client id, a JSON object or a .json/.csv"),
        (["{not json"], "the client: must be valid JSON. Got an error at line 1"),
        (["[1, 2]"], "client: must be a reference client id"),
        (["C0000001", "--id-column", "client_id"], "--id-column: names a column of --data"),
        (["C0000001", "--lang", "de"], "language: must be one of en, fr. Got 'de'."),
        (["C0000001", "--levers", "0"], "--levers: must be a whole number from 1 to 10."),
        (["C0000001", "--product", "yacht"], "product: must be one of"),
        (["C0000001", "--bundle", "somewhere"], "--bundle and --data: give both"),
    ],
)
def test_advise_errors_are_one_clear_line(demo_env: None, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["advise", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def _german_files(german_data: pd.DataFrame, tmp_path: Path) -> tuple[Path, Path]:
    """The German credit data as a SQLite table with an id column, and one row as JSON."""
    frame = german_data.copy()
    frame.insert(0, "customer_ref", [f"G{i:04d}" for i in range(len(frame))])
    database = tmp_path / "clients.db"
    with closing(sqlite3.connect(database)) as connection:
        frame.astype(dict.fromkeys(frame.select_dtypes("category"), str)).to_sql(
            "applications", connection, index=False
        )
    row = tmp_path / "applicant.json"
    row.write_text(
        frame.drop(columns=["customer_ref", "credit_risk"]).iloc[[7]].to_json(orient="records")
    )
    return database, row


def test_advise_a_risk_model_from_a_sql_table(
    german_bundle: Path, german_data: pd.DataFrame, tmp_path: Path
) -> None:
    """By id (named column), by JSON file: every lever lowers the risk; the JSON keeps both."""
    database, row = _german_files(german_data, tmp_path)
    source = f"sqlite:///{database}?table=applications"
    common = ["--bundle", str(german_bundle), "--data", source, "--json"]
    model = load_bundle(german_bundle).model
    scores = model.score(german_data)
    ceiling = float(np.median(scores))
    risky = [i for i in np.argsort(-scores) if ceiling + 0.03 < scores[i] < ceiling + 0.15][:3]
    found = 0
    for i in risky:
        result = runner.invoke(app, ["advise", f"G{i:04d}", *common, "--id-column", "customer_ref"])
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert payload["client"] == f"G{i:04d}"
        assert payload["direction"] == "lower"
        assert payload["score"] == pytest.approx(scores[i])
        for lever in payload["levers"]:
            assert lever["score_after"] < lever["score_before"] == pytest.approx(scores[i])
            assert lever["score_after"] <= payload["goal"] + 1e-9
        found += bool(payload["levers"])
    assert found >= 2
    by_file = runner.invoke(app, ["advise", str(row), *common])
    assert by_file.exit_code == 0, by_file.output
    assert json.loads(by_file.output)["score"] == pytest.approx(scores[7])
    table = runner.invoke(app, ["advise", str(row), *common[:-1]])
    assert "ceiling" in table.output
    assert "levers lower it" in table.output


def test_advise_by_row_number_without_an_id_column(
    german_bundle: Path, german_data: pd.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "german.csv"
    german_data.to_csv(data, index=False)
    args = ["--bundle", str(german_bundle), "--data", str(data), "--json"]
    result = runner.invoke(app, ["advise", "8", *args])
    assert result.exit_code == 0, result.output
    expected = load_bundle(german_bundle).model.score(german_data.iloc[[7]])[0]
    assert json.loads(result.output)["score"] == pytest.approx(expected)
    row = tmp_path / "applicant.csv"
    german_data.drop(columns="credit_risk").iloc[[7]].to_csv(row, index=False)
    from_file = runner.invoke(app, ["advise", str(row), *args])
    assert from_file.exit_code == 0, from_file.output
    assert json.loads(from_file.output)["score"] == pytest.approx(expected)
    two = tmp_path / "two.csv"
    german_data.iloc[:2].to_csv(two, index=False)
    refused = runner.invoke(app, ["advise", str(two), *args])
    assert refused.exit_code == 2
    assert "must hold one client (one row). Got 2 rows." in " ".join(refused.output.split())
    wrong = runner.invoke(app, ["advise", "1001", *args])
    assert wrong.exit_code == 2
    assert "must be a row number from 1 to 1,000" in " ".join(wrong.output.split())
