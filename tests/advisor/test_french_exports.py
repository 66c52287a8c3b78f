"""campaign run and the app read a French export (zipped, latin-1, ';', decimal commas).

The oracle is the same bundle on the same clients from a plain UTF-8 CSV: the campaign's
levers and the app's clients must be identical.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.cli import app
from tests.conftest import write_french_export

runner = CliRunner()


@pytest.fixture(scope="module")
def files(bank_data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("french")
    # a decimal column, so that the commas matter
    clients = bank_data.head(300).assign(balance_k=lambda f: f["balance"] / 1000)
    plain = folder / "clients.csv"
    clients.to_csv(plain, index=False)
    return plain, write_french_export(clients, folder / "clients.zip")


def test_campaign_run_reads_the_french_export_as_the_plain_file(
    bank_bundle: Path, files: tuple[Path, Path], tmp_path: Path
) -> None:
    plain, french = files
    common = ["campaign", "run", "--bundle", str(bank_bundle), "--engine", "search"]
    common += ["--limit", "30", "--max-actions", "1"]
    runs = {}
    for name, extra in {
        "plain": ["--data", str(plain)],
        "detected": ["--data", str(french)],
        "given": ["--data", str(french), "--encoding", "latin-1", "--decimal", ","],
    }.items():
        result = runner.invoke(app, [*common, *extra, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        runs[name] = pd.read_parquet(tmp_path / name / "levers.parquet")
    assert (runs["plain"]["status"] == "lever").any()
    pd.testing.assert_frame_equal(runs["detected"], runs["plain"])
    pd.testing.assert_frame_equal(runs["given"], runs["plain"])


def test_the_options_apply_to_data_only() -> None:
    demo = runner.invoke(app, ["campaign", "run", "--demo", "--encoding", "latin-1"])
    assert demo.exit_code == 2
    assert "--encoding and --decimal: apply to --data. Got --demo." in demo.output
    served = runner.invoke(app, ["app", "--decimal", ","])
    assert served.exit_code == 2
    assert "--encoding and --decimal: apply to --data" in served.output


def test_levers_app_checks_the_encoding_before_serving(
    bank_bundle: Path, files: tuple[Path, Path]
) -> None:
    _, french = files
    result = runner.invoke(
        app, ["app", "--bundle", str(bank_bundle), "--data", str(french), "--encoding", "utf-99"]
    )
    assert result.exit_code == 2
    assert "utf-99" in result.output


def test_the_app_reads_the_encoding_and_decimal_it_is_given(
    bank_bundle: Path, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import service

    plain, french = files
    monkeypatch.setenv("LEVERS_BUNDLE", str(bank_bundle))
    monkeypatch.delenv("LEVERS_ID_COLUMN", raising=False)
    found = {}
    for name, data, encoding, decimal in (
        ("plain", plain, None, None),
        ("given", french, "latin-1", ","),
    ):
        monkeypatch.setenv("LEVERS_DATA", str(data))
        for variable, value in (("LEVERS_ENCODING", encoding), ("LEVERS_DECIMAL", decimal)):
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, value)
        service._source.clear()
        found[name] = service.source().clients
    service._source.clear()
    assert found["given"]["balance_k"].dtype == "float64"
    pd.testing.assert_frame_equal(found["given"], found["plain"])
