"""`levers advise`: one client's levers in the terminal or as JSON, on the demo or any bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli import app
from advisor.datasets import make_demo_portfolio
from advisor.levers import load_demo_advisor
from advisor.models import DemoBundleSettings
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
        (["C9999999"], "client: must be a reference client id. Got 'C9999999'. Hint: ids"),
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
