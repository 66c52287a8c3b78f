r"""The command line against hostile or careless input (issue 14).

Names from users' files and arguments are printed inert (``[/bold]`` and ``\x1b[2J`` shown as
text, never read as markup or sent to the terminal); writes never overwrite without
``--force``, are checked before any work and are atomic; numbers are bounded; Ctrl-C is one
line and exit code 130. Every test uses real files in ``tmp_path``.
"""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import advisor.cli
import advisor.levers
from advisor._atomic import write_atomic
from advisor.cli import app
from advisor.datasets import DemoPortfolioSCM, make_demo_portfolio
from advisor.errors import AdvisorError, DatasetError, ModelError
from advisor.models import train
from constraints import constraint_file_schema

runner = CliRunner()

HOSTILE_NAMES = ["[/bold]", "evil[/]x", "[red]loud[/red]", "a\x1b[2Jb", "bell\x07"]
"""Column names that rich would parse as markup (the first two crash it) or that drive a
terminal (clear screen, bell)."""

CONSTRAINTS = "name: t\nfeatures:\n  age: {kind: integer, role: actionable, min: 0, max: 120}\n"


def shown_as_text(name: str) -> str:
    r"""How a name must appear on screen: itself, control characters written as ``\xNN``."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)


def assert_clean(result: Result) -> None:
    """No traceback and no exception other than the command's own exit."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output


def markup_folder(tmp_path: Path) -> Path:
    """A folder ``evil[`` so that ``evil[/]name`` is a path whose text holds ``[/]``."""
    folder = tmp_path / "evil["
    folder.mkdir()
    return folder


# --- Output: names and paths are printed inert -----------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_describe_prints_a_hostile_column_name_as_text(tmp_path: Path, name: str) -> None:
    path = tmp_path / "clients.csv"
    pd.DataFrame({name: [1, 2, 3], "y": ["no", "yes", "no"]}).to_csv(path, index=False)
    result = runner.invoke(app, ["data", "describe", str(path), "--target", "y"])
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert shown_as_text(name) in result.output


def test_describe_prints_a_path_holding_markup_as_text(tmp_path: Path) -> None:
    path = markup_folder(tmp_path) / "]x.csv"
    path.write_text("[b]age,y\n30,no\n40,yes\n", encoding="utf-8")
    result = runner.invoke(app, ["data", "describe", str(path)])
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert f"{path}: 2 rows x 2 columns" in result.output
    assert "[b]age" in result.output


def test_describe_error_on_a_missing_file_under_a_markup_path(tmp_path: Path) -> None:
    path = markup_folder(tmp_path) / "]missing.csv"
    result = runner.invoke(app, ["data", "describe", str(path)])
    assert result.exit_code == 2
    assert_clean(result)
    assert str(path) in result.output


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_constraints_check_prints_a_hostile_feature_name_as_text(tmp_path: Path, name: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(
        "name: t\nfeatures:\n  " + json.dumps(name) + ": {kind: integer, role: actionable}\n",
        encoding="utf-8",
    )
    data = tmp_path / "d.csv"
    pd.DataFrame({name: [1, 2, 3]}).to_csv(data, index=False)
    result = runner.invoke(app, ["constraints", "check", str(file), "--data", str(data)])
    assert result.exit_code in (0, 1), result.output  # OK, or the name refused as a problem
    assert_clean(result)
    assert shown_as_text(name) in result.output


def test_constraints_check_prints_markup_paths_as_text(tmp_path: Path) -> None:
    folder = markup_folder(tmp_path)
    file = folder / "]c[bold].yaml"
    file.write_text(CONSTRAINTS, encoding="utf-8")
    data = folder / "]d.csv"
    data.write_text("age\n30\n40\n", encoding="utf-8")
    result = runner.invoke(app, ["constraints", "check", str(file), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert "]c[bold].yaml" in result.output
    assert f"bound to {data}" in result.output.replace("\n", "")


def test_constraints_check_error_naming_a_markup_data_path(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(CONSTRAINTS, encoding="utf-8")
    data = markup_folder(tmp_path) / "]missing.csv"
    result = runner.invoke(app, ["constraints", "check", str(file), "--data", str(data)])
    assert result.exit_code == 2
    assert_clean(result)
    assert str(data) in result.output


# --- Clean errors for files that are not what they should be -------------------------------


def test_constraints_check_on_files_that_are_not_constraint_files(tmp_path: Path) -> None:
    folder = tmp_path / "c.yaml"
    folder.mkdir()
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: café\nfeatures: {}\n".encode("latin-1"))
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes("name: t\n".encode("utf-16"))
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * 110_000)  # 1.1 MB of comments
    cases = {
        folder: "folder",
        tmp_path / "missing.yaml": "nothing",
        latin1: "UTF-8",
        utf16: "UTF-8",
        big: "1 MB",
    }
    for file, reason in cases.items():
        result = runner.invoke(app, ["constraints", "check", str(file)])
        assert result.exit_code == 2, (file, result.output)
        assert_clean(result)
        assert str(file) in result.output.replace("\n", ""), result.output
        assert reason in result.output, result.output


def test_constraints_check_against_a_header_only_csv_is_a_clean_error(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(CONSTRAINTS, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("age\n", encoding="utf-8")
    result = runner.invoke(app, ["constraints", "check", str(file), "--data", str(data)])
    assert result.exit_code in (1, 2), result.output
    assert_clean(result)


@pytest.mark.parametrize("kind", ["folder", "missing", "header only", "empty", "latin-1"])
def test_describe_on_files_that_are_not_tables_is_a_clean_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "t.csv"
    if kind == "folder":
        path.mkdir()
    elif kind == "header only":
        path.write_text("a,b\n", encoding="utf-8")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "latin-1":
        path.write_bytes("name,city\nRené,Liège\n".encode("latin-1"))
    result = runner.invoke(app, ["data", "describe", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert_clean(result)
    if result.exit_code == 2:
        assert str(path) in result.output.replace("\n", "")


# --- Writes: never overwrite without --force, checked before any work, atomic ---------------


@pytest.fixture
def sample_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each demo generation (the real one runs): a refusal must come before any."""
    calls: list[int] = []
    real = DemoPortfolioSCM.sample

    def sample(self: DemoPortfolioSCM, n_clients: int) -> pd.DataFrame:
        calls.append(n_clients)
        return real(self, n_clients)

    monkeypatch.setattr(DemoPortfolioSCM, "sample", sample)
    return calls


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_data_demo_refuses_to_overwrite_without_force(
    tmp_path: Path, suffix: str, sample_calls: list[int]
) -> None:
    out = tmp_path / f"important{suffix}"
    out.write_bytes(b"precious")
    args = ["data", "demo", "--n-clients", "200", "--seed", "3", "--out", str(out)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert_clean(refused)
    assert "--force" in refused.output
    assert out.read_bytes() == b"precious"
    assert sample_calls == []  # refused before generating anything
    replaced = runner.invoke(app, [*args, "--force"])
    assert replaced.exit_code == 0, replaced.output
    written = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    expected = make_demo_portfolio(200, seed=3)
    assert written["client_id"].tolist() == expected["client_id"].tolist()
    assert written["monthly_income"].tolist() == expected["monthly_income"].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary left


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("folder.csv", "Got a folder"),
        ("missing/clients.csv", "must be in an existing folder"),
        ("clients.xlsx", "must end in .csv or .parquet"),
        ("clients", "must end in .csv or .parquet"),
    ],
)
def test_data_demo_checks_out_before_any_work(
    tmp_path: Path, target: str, message: str, sample_calls: list[int]
) -> None:
    (tmp_path / "folder.csv").mkdir()
    result = runner.invoke(app, ["data", "demo", "--out", str(tmp_path / target)])
    assert result.exit_code == 2
    assert_clean(result)
    assert message in result.output
    assert "--out" in result.output
    assert sample_calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.csv"]


def test_constraints_schema_out_needs_force_to_replace(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    out.write_text("{}", encoding="utf-8")
    refused = runner.invoke(app, ["constraints", "schema", "--out", str(out)])
    assert refused.exit_code == 2
    assert_clean(refused)
    assert "--force" in refused.output
    assert out.read_text(encoding="utf-8") == "{}"
    replaced = runner.invoke(app, ["constraints", "schema", "--out", str(out), "--force"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(out.read_text(encoding="utf-8")) == constraint_file_schema()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("folder.json", "Got a folder"),
        ("missing/schema.json", "must be in an existing folder"),
        ("schema.yaml", "must end in .json"),
    ],
)
def test_constraints_schema_checks_out(tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "folder.json").mkdir()
    result = runner.invoke(app, ["constraints", "schema", "--out", str(tmp_path / target)])
    assert result.exit_code == 2
    assert_clean(result)
    assert message in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.json"]


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "clients.csv"
    out.write_text("old content\n", encoding="utf-8")

    def write_half_then_interrupt(file: Path) -> None:
        file.write_text("new, but only hal", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(out, write_half_then_interrupt, overwrite=True)
    assert out.read_text(encoding="utf-8") == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["clients.csv"]


def test_a_file_created_during_the_write_is_not_replaced_without_overwrite(
    tmp_path: Path,
) -> None:
    out = tmp_path / "clients.csv"

    def write_while_someone_else_creates_out(file: Path) -> None:
        file.write_text("mine\n", encoding="utf-8")
        out.write_text("theirs\n", encoding="utf-8")

    with pytest.raises(AdvisorError, match=r"clients\.csv: must not exist .* --force"):
        write_atomic(out, write_while_someone_else_creates_out, overwrite=False)
    assert out.read_text(encoding="utf-8") == "theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["clients.csv"]


# --- Ctrl-C: one line, exit code 130, nothing written ----------------------------------------


def test_ctrl_c_during_data_demo_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "clients.csv"
    out.write_text("old content\n", encoding="utf-8")
    real_to_csv = pd.DataFrame.to_csv

    def write_half_then_interrupt(frame: pd.DataFrame, path: Path, **kwargs: Any) -> None:
        real_to_csv(frame.head(10), path, index=False)  # a real partial write, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", write_half_then_interrupt)
    result = runner.invoke(
        app, ["data", "demo", "--n-clients", "100", "--out", str(out), "--force"]
    )
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted; nothing written"
    assert out.read_text(encoding="utf-8") == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["clients.csv"]


def test_ctrl_c_during_data_describe_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")

    def interrupted(frame: pd.DataFrame, targets: object = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(advisor.cli, "describe_table", interrupted)
    result = runner.invoke(app, ["data", "describe", str(path)])
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted; nothing written"


# --- Limits: numbers are finite and bounded, refused before any work -------------------------


def test_demo_size_is_limited_by_memory_before_any_allocation(sample_calls: list[int]) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(
            DatasetError,
            match=r"^n_clients: must be between 1 and 5,368,709 \(a peak of about 2\.0 GiB of "
            r"memory at 400 bytes per client\)\. Got 50,000,000 \(it would need about 18\.6 GiB\)"
            r"\.$",
        ):
            make_demo_portfolio(n_clients=50_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # refused before allocating anything the size of the demo


def test_the_documented_bytes_per_client_are_not_understated() -> None:
    """The limit's 400 bytes per client bound the real peak of a generation."""
    make_demo_portfolio(100)  # imports and caches outside the measurement
    n_clients = 50_000
    tracemalloc.start()
    try:
        frame = make_demo_portfolio(n_clients)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / n_clients <= 400
    assert frame.memory_usage(deep=True).sum() / n_clients <= 400


def test_data_demo_over_the_memory_limit_is_refused(
    tmp_path: Path, sample_calls: list[int]
) -> None:
    out = tmp_path / "big.parquet"
    result = runner.invoke(app, ["data", "demo", "--n-clients", "50000000", "--out", str(out)])
    assert result.exit_code == 2
    assert_clean(result)
    assert "n_clients: must be between 1 and 5,368,709" in result.output
    assert "18.6 GiB" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "seed: must be an integer in [0, 2**63). Got -1."),
        (["--seed", str(2**63)], "Got 9,223,372,036,854,775,808."),
        (["--seed", str(10**40)], "Got a number of about 40 digits."),
        (["--n-clients", str(10**40)], "Got a number of about 40 digits."),
        (["--n-clients", "-3"], "n_clients: must be between 1 and 5,368,709"),
    ],
)
def test_data_demo_refuses_bad_numbers_cleanly(
    tmp_path: Path, args: list[str], message: str, sample_calls: list[int]
) -> None:
    out = tmp_path / "c.csv"
    result = runner.invoke(app, ["data", "demo", "--out", str(out), *args])
    assert result.exit_code == 2
    assert_clean(result)
    assert message in result.output.replace("\n", "")
    assert not out.exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"budget_s": math.nan}, r"^budget_s: must be a finite number of seconds in \(0, 86400\]"),
        ({"budget_s": math.inf}, r"^budget_s: must be a finite number of seconds in \(0, 86400\]"),
        (
            {"budget_s": 1e9},
            r"^budget_s: must be .* in \(0, 86400\] or None\. Got 1000000000\.0\.$",
        ),
        ({"budget_s": 86_400.5}, r"^budget_s: .* Got 86400\.5\.$"),
        ({"n_trials": 10_001}, r"^n_trials: must be a whole number from 1 to 10000 or None"),
        ({"seed": 2**32}, r"^seed: must be a whole number from 0 to 4294967295\. Got 4294967296"),
    ],
)
def test_train_refuses_unbounded_runs_before_any_fitting(
    params: dict[str, Any], message: str
) -> None:
    data = make_demo_portfolio(60)
    with pytest.raises(ModelError, match=message):
        train(data, "take_home_loan", "configs/demo-portfolio.yaml", families="logistic", **params)


def test_train_accepts_the_largest_documented_budget() -> None:
    """24 h itself is allowed: the bound is inclusive (checked with a cheap invalid target)."""
    data = make_demo_portfolio(60)
    with pytest.raises(ModelError) as caught:
        train(data, "no_such_target", "configs/demo-portfolio.yaml", budget_s=86_400.0)
    assert not str(caught.value).startswith("budget_s")


@pytest.mark.parametrize("n_levers", ["0", "11", str(10**30)])
def test_advise_bounds_the_number_of_levers_before_loading(
    n_levers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []
    monkeypatch.setattr(advisor.levers, "load_demo_advisor", lambda: loads.append("demo"))
    result = runner.invoke(app, ["advise", "C0000001", "--levers", n_levers])
    assert result.exit_code == 2
    assert_clean(result)
    assert "--levers: must be a whole number from 1 to 10." in result.output
    assert loads == []
