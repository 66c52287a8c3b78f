"""The `levers` command line: every command has --help; data demo and data describe work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from advisor.cli import app
from advisor.datasets import make_demo_portfolio

runner = CliRunner()


def command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as argument lists."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        paths.append(prefix)
        for name, sub in getattr(command, "commands", {}).items():  # groups have sub-commands
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "levers")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "Show this message and exit" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("levers 0.")


def test_cli_knows_the_issue_commands() -> None:
    assert {"data", "data demo", "data describe"} <= {" ".join(p) for p in command_paths()}


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_data_demo_writes_the_portfolio(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"clients{suffix}"
    result = runner.invoke(
        app, ["data", "demo", "--n-clients", "300", "--seed", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 300 clients" in result.output
    written = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    expected = make_demo_portfolio(300, seed=4)
    assert list(written.columns) == list(expected.columns)
    assert written["client_id"].tolist() == expected["client_id"].tolist()
    assert written["monthly_income"].tolist() == expected["monthly_income"].tolist()


def test_data_describe_reports_kinds_missing_and_target_rates(tmp_path: Path) -> None:
    out = tmp_path / "clients.parquet"
    runner.invoke(app, ["data", "demo", "--n-clients", "1000", "--out", str(out)])
    result = runner.invoke(app, ["data", "describe", str(out)])
    assert result.exit_code == 0, result.output
    assert "1,000 rows x 36 columns" in result.output
    rate = make_demo_portfolio(1000)["take_home_loan"].mean()
    line = next(x for x in result.output.splitlines() if "take_home_loan" in x and "True:" in x)
    assert f"{rate:.2%}" in line
    assert "identifier" in result.output
    assert "categorical" in result.output


def test_data_describe_on_a_semicolon_csv_with_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("age;job;y\n30;admin.;no\n;services;yes\n45;;no\n41;admin.;no\n")
    result = runner.invoke(app, ["data", "describe", str(path), "--target", "y"])
    assert result.exit_code == 0, result.output
    assert "4 rows x 3 columns" in result.output
    assert "1 (25.0%)" in result.output
    assert "25.00%" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "demo", "--n-clients", "0", "--out", "x.parquet"], "n_clients: must be between"),
        (["data", "demo", "--out", "clients.xlsx"], "must end in .csv or .parquet"),
        (["data", "describe", "missing.csv"], "missing.csv: must be an existing file"),
    ],
)
def test_bad_requests_get_a_clear_error(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_describe_names_an_unknown_target(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["data", "describe", str(path), "--target", "y"])
    assert result.exit_code == 2
    assert "targets: must be columns of the table. Got 'y'" in result.output


def test_installed_entry_point_runs() -> None:
    levers = Path(sys.executable).parent / "levers"
    if not levers.exists():
        pytest.skip(f"no levers console script beside {sys.executable} (project not installed)")
    done = subprocess.run([levers, "data", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "describe" in done.stdout
