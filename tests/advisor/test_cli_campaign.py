"""`levers campaign run / show`: the API's frame on disk, the summary read back, one-line errors."""

from __future__ import annotations

import io
import json
import math
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from advisor._campaign_file import campaign_record, json_safe
from advisor._cli_campaign import _reports
from advisor._cli_campaign_inputs import Loaded
from advisor._cli_campaign_tables import print_record, rate_and_eta
from advisor.campaigns import (
    Campaign,
    CampaignResult,
    FairnessReport,
    GlobalActions,
    demo_true_effect,
    fairness_report,
)
from advisor.cli import app
from advisor.datasets import make_demo_portfolio
from advisor.models import load_bundle
from tests.conftest import DEMO_TEST_CLIENTS, shared_data_file

runner = CliRunner()
IMPORTED = datetime.now(UTC)  # campaign.json files of this module are written after this
PRODUCT = "life_insurance"


@pytest.fixture(scope="module")
def demo_env(demo_bundle: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEVERS_DEMO_BUNDLE", str(demo_bundle))
        patch.setenv("LEVERS_DEMO_CLIENTS", str(DEMO_TEST_CLIENTS))
        patch.delenv("LEVERS_DEMO_SEED", raising=False)
        patch.delenv("LEVERS_DEMO_TRIALS", raising=False)
        yield


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["campaign", *args])


def api_frame(
    bundle: Path, reference: pd.DataFrame, clients: pd.DataFrame, **run: Any
) -> tuple[CampaignResult, pd.DataFrame]:
    """The API's answer on the same clients, as the CLI writes it (ids as text)."""
    product = run.pop("product", None)
    campaign = Campaign.from_bundle(bundle, reference, product=product, engine="search")
    result = campaign.run(clients, **run)
    frame = result.to_frame()
    frame["client"] = frame["client"].astype(str)
    return result, frame


def figure(output: str, name: str) -> str:
    """The value of one row of the summary table (``name`` as printed)."""
    found = re.search(rf"│ {re.escape(name)}\s+│ (.*?)\s+│", output)
    assert found, f"no row {name!r} in\n{output}"
    return found.group(1)


def assert_one_line_error(result: Any, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], result.output


# --------------------------------------------------------------------------- the demo
@pytest.fixture(scope="module")
def demo_run(demo_env: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("campaign") / "demo"
    args = ["--demo", "--product", PRODUCT, "--segment", "age >= 30 and region != 'north'"]
    result = invoke("run", *args, "--limit", "40", "--engine", "search", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture(scope="module")
def demo_api(demo_bundle: Path) -> tuple[CampaignResult, pd.DataFrame]:
    portfolio = make_demo_portfolio(n_clients=DEMO_TEST_CLIENTS, seed=0)
    portfolio = portfolio.set_index("client_id", drop=False)
    portfolio.index.name = None
    clients = portfolio[(portfolio["age"] >= 30) & (portfolio["region"] != "north")].head(40)
    return api_frame(demo_bundle, portfolio, clients, product=PRODUCT)


def test_demo_run_writes_the_api_frame(
    demo_run: tuple[Path, Any], demo_api: tuple[CampaignResult, pd.DataFrame]
) -> None:
    out, _ = demo_run
    _result, expected = demo_api
    assert sorted(p.name for p in out.iterdir()) == [
        "campaign.json",
        "levers.csv",
        "levers.parquet",
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "levers.parquet"), expected)
    csv = pd.read_csv(out / "levers.csv", dtype={"client": str}, keep_default_na=False)
    assert csv["client"].tolist() == expected["client"].tolist()
    assert csv["status"].tolist() == expected["status"].tolist()
    assert csv["actions_fr"].tolist() == expected["actions_fr"].tolist()
    assert len(expected) == 40
    assert (expected["status"] == "lever").any()


def test_demo_campaign_json_holds_totals_provenance_and_options(
    demo_run: tuple[Path, Any], demo_api: tuple[CampaignResult, pd.DataFrame], demo_bundle: Path
) -> None:
    out, _ = demo_run
    result, _ = demo_api
    record = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    totals = result.totals
    assert record["totals"]["n_segment"] == totals.n_segment == 40
    assert record["totals"]["n_advised"] == totals.n_advised
    assert record["totals"]["expected_extra_sales"] == pytest.approx(totals.expected_extra_sales)
    assert record["totals"]["expected_value"] == pytest.approx(totals.expected_value)
    assert record["totals"]["cost_quantiles"]["0.5"] == pytest.approx(totals.cost_quantiles[0.5])
    card = load_bundle(demo_bundle).card
    assert record["provenance"]["constraints_sha256"] == card.constraint_file.sha256
    assert record["provenance"]["model_sha256"] == result.provenance.model_sha256
    assert record["provenance"]["goal"] == pytest.approx(result.provenance.goal)
    assert record["options"]["segment"] == "age >= 30 and region != 'north'"
    assert record["options"]["limit"] == 40
    assert record["options"]["demo"] is True
    assert record["product"] == PRODUCT
    assert record["currency"] == "EUR"
    written = datetime.fromisoformat(record["created_at"])
    assert written.utcoffset() == timedelta(0)
    assert IMPORTED - timedelta(seconds=1) <= written <= datetime.now(UTC)  # written by this run


def test_demo_reports_are_the_api_reports(
    demo_run: tuple[Path, Any], demo_api: tuple[CampaignResult, pd.DataFrame]
) -> None:
    out, ran = demo_run
    result, _ = demo_api
    record = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    fairness = fairness_report(result)
    assert FairnessReport.from_dict(record["fairness"]) == fairness
    actions = result.summarize(5)
    assert actions.actions
    assert GlobalActions.from_dict(record["global_actions"]) == actions
    pd.testing.assert_frame_equal(
        GlobalActions.from_dict(record["global_actions"]).curve, actions.curve, check_dtype=False
    )
    truth = demo_true_effect(result, actions, seed=0).to_dict()
    assert truth["n_global"] is not None
    assert record["true_effect"].keys() == truth.keys()
    for name, value in truth.items():
        assert record["true_effect"][name] == (value if value is None else pytest.approx(value))
    shown = invoke("show", str(out)).output
    for output in (ran.output, shown):
        for action in actions.actions:
            assert f"\n{action.rank}. {action.text['en']}  [{action.n_covered:,} client" in output
        for group in fairness.groups:
            row = rf"│ {group.attribute}\s+│ {re.escape(group.group)}\s+│\s+{group.n_searched}\s+│"
            assert re.search(row + rf"\s+{group.n_advised}\s+│", output), output
        assert re.search(
            rf"cheapest lever\s+│\s+{truth['n_clients']}\s+│\s+{truth['levers_expected']:,.2f}\s+│"
            rf"\s+{truth['levers_true']:,.2f}\s+│",
            output,
        ), output


def test_show_prints_the_totals_read_back(
    demo_run: tuple[Path, Any], demo_api: tuple[CampaignResult, pd.DataFrame]
) -> None:
    out, ran = demo_run
    totals = demo_api[0].totals
    shown = invoke("show", str(out))
    assert shown.exit_code == 0, shown.output
    for output in (ran.output, shown.output):
        assert figure(output, "clients in the segment") == "40"
        assert figure(output, "advised (with a lever)") == f"{totals.n_advised:,}"
        assert figure(output, "already reached") == f"{totals.n_reached:,}"
        assert figure(output, "coverage (advised / searched)") == f"{totals.coverage:.1%}"
        assert figure(output, "expected extra sales") == f"{totals.expected_extra_sales:,.1f}"
        assert figure(output, "expected value") == f"{totals.expected_value:,.0f} EUR"
    as_json = invoke("show", str(out), "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == json.loads((out / "campaign.json").read_text("utf-8"))


def test_an_existing_folder_needs_force(demo_run: tuple[Path, Any]) -> None:
    out, _ = demo_run
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    args = ["run", "--demo", "--product", PRODUCT, "--limit", "5", "--engine", "search"]
    refused = invoke(*args, "--out", str(out))
    assert_one_line_error(refused, "must be a new or empty folder", "--force")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    both = invoke(*args, "--out", str(out), "--force", "--resume")
    assert_one_line_error(both, "--force and --resume: give one")
    (out.parent / "a-file").write_text("x", encoding="utf-8")
    a_file = invoke(*args, "--out", str(out.parent / "a-file"), "--force")
    assert_one_line_error(a_file, "a-file: must be a folder. Got a file.")
    nowhere = invoke(*args, "--out", str(out.parent / "no" / "such"))
    assert_one_line_error(nowhere, "must be in an existing folder. Got no folder")


def test_force_replaces_the_results(demo_env: None, tmp_path: Path) -> None:
    out = tmp_path / "again"
    out.mkdir()
    (out / "campaign.json").write_text("{}", encoding="utf-8")
    args = ["run", "--demo", "--product", PRODUCT, "--limit", "5", "--engine", "search"]
    done = invoke(*args, "--out", str(out), "--force")
    assert done.exit_code == 0, done.output
    assert len(pd.read_parquet(out / "levers.parquet")) == 5
    assert json.loads((out / "campaign.json").read_text("utf-8"))["totals"]["n_segment"] == 5
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep", encoding="utf-8")
    refused = invoke(*args, "--out", str(foreign), "--force")
    assert_one_line_error(refused, "or a campaign's folder with --force or --resume")
    (foreign / "checkpoints").mkdir()
    (foreign / "checkpoints" / "model.ckpt").write_text("keep", encoding="utf-8")
    kept = invoke(*args, "--out", str(foreign), "--force")
    assert_one_line_error(kept, "checkpoint", "must be a new or empty folder unless resuming")
    assert sorted(p.name for p in foreign.rglob("*")) == ["checkpoints", "model.ckpt", "notes.txt"]


# --------------------------------------------------------------------------- any bundle
@pytest.fixture(scope="module")
def bank_file(bank_data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bank clients as a CSV with an opt-out column (a bank*.csv is read as the raw file)."""
    frame = bank_data.assign(opt_out=(bank_data.index % 4 == 0))
    path = tmp_path_factory.mktemp("bank-csv") / "clients.csv"
    frame.to_csv(path, index=False)
    return path


def test_bank_run_writes_the_api_frame(
    bank_bundle: Path, bank_data: pd.DataFrame, bank_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bank"
    args = ["--bundle", str(bank_bundle), "--data", str(bank_file), "--segment", "age < 40"]
    result = invoke(
        "run",
        *args,
        "--exclude",
        "opt_out",
        "--limit",
        "40",
        "--engine",
        "search",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    frame = bank_data.assign(opt_out=(bank_data.index % 4 == 0))
    frame = frame.set_axis([str(i + 1) for i in range(len(frame))])  # row numbers from 1
    clients = frame[frame["age"] < 40].head(40)
    api, expected = api_frame(bank_bundle, frame, clients, exclude="opt_out")
    written = pd.read_parquet(out / "levers.parquet")
    pd.testing.assert_frame_equal(written, expected)
    opted_out = written["client"].isin(clients.index[clients["opt_out"]])
    assert opted_out.any()
    assert (written.loc[opted_out, "status"] == "excluded").all()
    assert (written.loc[opted_out, "actions_en"] == "").all()
    shown = invoke("show", str(out))
    assert shown.exit_code == 0, shown.output
    assert figure(shown.output, "excluded (never targeted)") == (
        f"{api.totals.n_excluded:,} (column opt_out)"
    )
    assert figure(shown.output, "advised (with a lever)") == f"{api.totals.n_advised:,}"
    assert figure(shown.output, "expected value") == "n/a (no value per sale)"
    record = json.loads((out / "campaign.json").read_text(encoding="utf-8"))
    assert FairnessReport.from_dict(record["fairness"]) == fairness_report(api)
    assert GlobalActions.from_dict(record["global_actions"]) == api.summarize(5)
    assert record["true_effect"] is None
    assert "True effect" not in shown.output


@pytest.fixture(scope="module")
def broken_files(bank_data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("broken")
    bank_data.drop(columns=["balance"]).to_csv(folder / "no-balance.csv", index=False)
    unknown = bank_data.astype({"job": str})
    unknown.loc[:5, "job"] = "astronaut"
    unknown.to_csv(folder / "astronauts.csv", index=False)
    return folder


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--segment", "age >"], ["segment: must be a valid expression", "Got 'age >'"]),
        (["--segment", "agee > 30"], ["segment: must name columns", "unknown column 'agee'"]),
        (["--segment", "age > 300"], ["segment: must hold at least one client. Got none of 4000"]),
        (["--segment", "__import__('os')"], ["segment: must be comparisons"]),
        (["--exclude", "nope"], ["exclude: must name a column of the clients. Got 'nope'."]),
        (["--exclude", "age"], ["exclude: column 'age' must be boolean"]),
        (["--limit", "0"], ["--limit: must be a whole number from 1 to 10000000"]),
        (["--n-levers", "11"], ["--n-levers: must be a whole number from 1 to 10"]),
        (["--max-actions", "21"], ["--max-actions: must be a whole number from 1 to 20"]),
        (["--engine", "magic"], ["engine: must be one of auto"]),
        (
            ["--id-column", "job"],
            ["--id-column 'job': must hold one id per client. Got 12 repeated ids"],
        ),
    ],
)
def test_bad_options_get_one_line(
    bank_bundle: Path, bank_file: Path, tmp_path: Path, extra: list[str], fragments: list[str]
) -> None:
    out = tmp_path / "never"
    result = invoke(
        "run", "--bundle", str(bank_bundle), "--data", str(bank_file), *extra, "--out", str(out)
    )
    assert_one_line_error(result, *fragments)
    assert not out.exists()


@pytest.mark.parametrize(
    ("data", "reference", "fragments"),
    [
        ("no-balance.csv", None, ["--data", "no-balance.csv: must hold every feature", "balance"]),
        (
            "astronauts.csv",
            None,
            ["--data", "must match the bundle's constraint file", "astronaut"],
        ),
        (None, "no-balance.csv", ["--reference", "must hold every feature", "balance"]),
        (
            "astronauts.csv",
            "clients",
            ["clients: cannot be scored", "'astronaut' in rows 1, 2, 3 and 3 more (6 rows)"],
        ),
    ],
)
def test_a_bundle_data_mismatch_is_one_line(
    bank_bundle: Path,
    bank_file: Path,
    broken_files: Path,
    tmp_path: Path,
    data: str | None,
    reference: str | None,
    fragments: list[str],
) -> None:
    def where(name: str | None) -> str:
        return str(bank_file) if name in (None, "clients") else str(broken_files / name)

    args = ["--bundle", str(bank_bundle), "--data", where(data)]
    args += [] if reference is None else ["--reference", where(reference)]
    result = invoke("run", *args, "--limit", "20", "--out", str(tmp_path / "never"))
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "never").exists()
    (tmp_path / "empty").mkdir()
    again = invoke("run", *args, "--limit", "20", "--out", str(tmp_path / "empty"))
    assert_one_line_error(again, *fragments)
    assert not list((tmp_path / "empty").iterdir())


def test_the_german_credit_data_on_the_bank_bundle_is_one_line(
    bank_bundle: Path, tmp_path: Path
) -> None:
    german = shared_data_file("german-credit", "german.data")
    result = invoke(
        "run", "--bundle", str(bank_bundle), "--data", str(german), "--out", str(tmp_path / "x")
    )
    assert_one_line_error(result, "must hold every feature of the bundle", "marital")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--bundle", "b"], "needs --bundle and --data"),
        (["--demo", "--data", "d.csv"], "--demo: runs on the demo bundle"),
        (["--demo", "--workers", "2", "--scheduler", "tcp://x:1"], "--workers and --scheduler"),
        (["--demo", "--workers", "0"], "--workers: must be a whole number from 1 to 256"),
        (["--demo", "--batch-size", "0"], "--batch-size: must be a whole number from 1 to 100000"),
        (
            ["--demo", "--seed", "-1"],
            "--seed: must be a whole number from 0 to 9223372036854775807",
        ),
        (["--demo", "--time-limit-s", "nan"], "--time-limit-s: must be a finite number of seconds"),
    ],
)
def test_contradictory_options_are_refused_before_any_work(
    args: list[str], fragment: str, tmp_path: Path
) -> None:
    assert_one_line_error(invoke("run", *args, "--out", str(tmp_path / "x")), fragment)


def test_a_failed_report_is_a_warning_not_a_lost_run(
    bank_bundle: Path, bank_data: pd.DataFrame
) -> None:
    frame = bank_data.set_axis(bank_data.index.astype(str))
    result, _ = api_frame(bank_bundle, frame, frame.head(20))
    context = result.require_context("test")
    # the true effect needs the demo's causal model: on a bank bundle it fails, for real
    loaded = Loaded(campaign=context.campaign, clients=frame, label="y", currency=None, demo_seed=0)
    reports, warnings = _reports(result, loaded, 3)
    assert reports["true_effect"] is None
    assert len(warnings) == 1
    assert warnings[0].startswith("true effect: ")
    assert reports["fairness"] == fairness_report(result).to_dict()
    assert GlobalActions.from_dict(reports["global_actions"] or {}) == result.summarize(3)
    record = campaign_record(
        result, label="y", currency=None, options={}, extras=reports, warnings=warnings, files={}
    )
    screen = io.StringIO()
    print_record(Console(file=screen, width=200), record)
    assert f"warning: {warnings[0]}" in screen.getvalue()


# --------------------------------------------------------------------------- show
@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "must exist (levers campaign run writes it last"),
        ("{not json", "must be a campaign file written by levers campaign run"),
        ('{"format": "something-else", "version": 1}', "Got format:"),
        ("[1, 2]", "must be a campaign file"),
    ],
)
def test_show_refuses_a_missing_corrupt_or_foreign_file(
    tmp_path: Path, content: str | None, fragment: str
) -> None:
    if content is not None:
        (tmp_path / "campaign.json").write_text(content, encoding="utf-8")
    assert_one_line_error(invoke("show", str(tmp_path)), fragment)


def test_show_refuses_an_edited_file(demo_run: tuple[Path, Any], tmp_path: Path) -> None:
    record = json.loads((demo_run[0] / "campaign.json").read_text("utf-8"))
    record["totals"]["n_advised"] = -3
    record["surprise"] = "[bold]x"
    (tmp_path / "campaign.json").write_text(json.dumps(record), encoding="utf-8")
    assert_one_line_error(invoke("show", str(tmp_path)), "(and 1 more)")
    record = json.loads((demo_run[0] / "campaign.json").read_text("utf-8"))
    del record["fairness"]["groups"][0]["n_advised"]
    (tmp_path / "campaign.json").write_text(json.dumps(record), encoding="utf-8")
    assert_one_line_error(invoke("show", str(tmp_path)), "fairness report: must be the data")
    record = json.loads((demo_run[0] / "campaign.json").read_text("utf-8"))
    record["global_actions"]["actions"][0]["surprise"] = 1
    (tmp_path / "campaign.json").write_text(json.dumps(record), encoding="utf-8")
    assert_one_line_error(invoke("show", str(tmp_path)), "global actions: must be the data")
    assert_one_line_error(invoke("show", str(tmp_path / "nowhere")), "must be a campaign folder")


def test_a_terminal_sees_the_progress_bar(
    demo_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor._cli_campaign as command

    screen = io.StringIO()
    monkeypatch.setattr(command, "console", Console(file=screen, force_terminal=True, width=150))
    args = ["--demo", "--product", PRODUCT, "--limit", "30", "--engine", "search"]
    done = invoke("run", *args, "--out", str(tmp_path / "bar"))
    assert done.exit_code == 0, done.output
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    final = re.search(r"Searching levers ━+ (\d+)/(\d+) [\d,.]+ clients/s, ETA 0:00:00 ", plain)
    assert final, plain
    assert final.group(1) == final.group(2)
    assert int(final.group(2)) > 0
    assert "Campaign summary" in plain


# --------------------------------------------------------------------------- Dask, Ctrl-C, resume
def test_two_workers_give_the_in_process_frame(demo_run: tuple[Path, Any], tmp_path: Path) -> None:
    out = tmp_path / "dask"
    args = ["--demo", "--product", PRODUCT, "--segment", "age >= 30 and region != 'north'"]
    done = invoke(
        "run", *args, "--limit", "40", "--engine", "search", "--workers", "2", "--out", str(out)
    )
    assert done.exit_code == 0, done.output
    assert figure(done.output, "ran on") == "local Dask cluster, 2 workers"
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "levers.parquet"), pd.read_parquet(demo_run[0] / "levers.parquet")
    )


def test_ctrl_c_keeps_finished_partitions_and_resume_finishes(
    demo_env: None, demo_bundle: Path, tmp_path: Path
) -> None:
    out = tmp_path / "stopped"
    args = ["--demo", "--product", PRODUCT, "--limit", "120", "--batch-size", "10"]
    args += ["--engine", "search", "--out", str(out)]
    script = (  # Ctrl-C as a terminal delivers it, whatever this process passed down
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
        "import sys, advisor.cli; sys.argv[0] = 'levers'; advisor.cli.main()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "campaign", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("checkpoints/part-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert re.fullmatch(
        r"interrupted; \d+ finished partitions? kept in .*checkpoints: run the same command "
        r"with --resume to finish\n",
        stdout,
    ), stdout
    assert "Traceback" not in stderr
    assert not (out / "campaign.json").exists()
    kept = len(list(out.glob("checkpoints/part-*")))
    assert 1 <= kept < 12
    refused = invoke("run", *args)
    assert_one_line_error(refused, "must be a new or empty folder", "--resume")
    resumed = invoke("run", *args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert not (out / "checkpoints").exists()
    portfolio = make_demo_portfolio(n_clients=DEMO_TEST_CLIENTS, seed=0)
    portfolio = portfolio.set_index("client_id", drop=False)
    portfolio.index.name = None
    campaign = Campaign.from_bundle(
        demo_bundle, portfolio, product=PRODUCT, engine="search", batch_size=10
    )
    expected = campaign.run(portfolio.head(120)).to_frame()
    expected["client"] = expected["client"].astype(str)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "levers.parquet"), expected)
    again = invoke("run", *args, "--resume")
    assert_one_line_error(again, "--resume: --out", "must hold the checkpoints of a stopped run")


def test_an_unreachable_scheduler_is_one_line(
    demo_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor._cli_campaign_run as running

    monkeypatch.setattr(running, "CONNECT_S", 1.0)  # the wait for an answer, not the logic
    out = tmp_path / "never"
    args = ["--demo", "--product", PRODUCT, "--limit", "5", "--engine", "search"]
    done = invoke("run", *args, "--scheduler", "tcp://127.0.0.1:9", "--out", str(out))
    assert_one_line_error(done, "--scheduler: must be the address of a running Dask scheduler")
    assert not out.exists()


def test_show_prints_names_from_the_file_as_text(
    demo_run: tuple[Path, Any], tmp_path: Path
) -> None:
    record = json.loads((demo_run[0] / "campaign.json").read_text("utf-8"))
    record["product_label"] = "[bold red]Life\x1b[2J"
    record["options"]["segment"] = "age > 3 [/]"
    record["global_actions"]["actions"][0]["text"]["en"] = "Call [link=x]now\u202e"
    (tmp_path / "campaign.json").write_text(json.dumps(record), encoding="utf-8")
    shown = invoke("show", str(tmp_path))
    assert shown.exit_code == 0, shown.output
    assert "[bold red]Life\\x1b[2J (life_insurance)" in shown.output
    assert "age > 3 [/] (first 40 clients)" in shown.output
    assert "1. Call [link=x]now\\u202e  [" in shown.output
    assert "\x1b" not in shown.output


# --------------------------------------------------------------------------- properties
_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_NESTED = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_NESTED)
@settings(max_examples=200, deadline=None)
def test_json_safe_always_gives_strict_json_and_keeps_finite_values(value: Any) -> None:
    safe = json_safe(value)
    text = json.dumps(safe, allow_nan=False)  # never NaN nor Infinity in campaign.json

    def same(before: Any, after: Any) -> bool:
        if isinstance(before, float) and not math.isfinite(before):
            expected = None if math.isnan(before) else ("inf" if before > 0 else "-inf")
            return bool(after == expected)
        if isinstance(before, dict):
            return before.keys() == after.keys() and all(same(before[k], after[k]) for k in before)
        if isinstance(before, (list, tuple)):
            return len(before) == len(after) and all(map(same, before, after))
        return bool(before == after) and type(before) is type(after)

    assert same(value, safe)
    assert json.loads(text) == safe


@given(done=st.integers(0, 10**7), extra=st.integers(0, 10**7), elapsed=st.floats(0, 1e6))
def test_rate_and_eta_is_never_negative_nor_an_error(done: int, extra: int, elapsed: float) -> None:
    said = rate_and_eta(done, done + extra, elapsed)
    rate = done / elapsed if done and elapsed else math.nan
    if not (math.isfinite(rate) and rate > 0):
        assert said == "? clients/s, ETA ?"
        return
    found = re.fullmatch(r"([\d,]+\.\d) clients/s, ETA (\?|(\d+ days?, )?\d+:\d\d:\d\d)", said)
    assert found, said
    if extra == 0:
        assert found.group(2) == "0:00:00"
