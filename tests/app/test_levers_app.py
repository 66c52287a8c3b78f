"""``levers app``: checks before serving, then the real server, stopped with the command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli import app as cli
from tests.app.conftest import SOURCE_VARIABLES, SourceCase
from tests.conftest import REPO_ROOT

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_error(arguments: list[str]) -> str:
    result = runner.invoke(cli, ["app", *arguments])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return " ".join(lines)


def test_the_port_must_be_a_real_port() -> None:
    for port in ("0", "65536"):
        assert _one_error(["--port", port]) == (
            f"error: --port: must be a whole number from 1 to 65535. Got {port}."
        )


def test_bundle_and_data_go_together(bank_case: SourceCase) -> None:
    assert _one_error(["--bundle", str(bank_case.bundle)]) == (
        "error: --bundle and --data: give both (a bundle and its client data), or neither for "
        "the demo. Got only one."
    )


def test_a_bundle_or_data_that_does_not_open_is_one_line_before_serving(
    bank_case: SourceCase, tmp_path: Path
) -> None:
    missing = _one_error(["--bundle", str(tmp_path), "--data", str(bank_case.data)])
    assert missing.startswith(f"error: {tmp_path}")
    other = tmp_path / "other.csv"
    other.write_text("age,city\n30,Lyon\n", encoding="utf-8")
    mismatch = _one_error(["--bundle", str(bank_case.bundle), "--data", str(other)])
    assert "problems in the constraint file" in mismatch
    absent = _one_error(["--bundle", str(bank_case.bundle), "--data", str(tmp_path / "no.csv")])
    assert "no.csv" in absent
    wrong_id = _one_error(
        ["--bundle", str(bank_case.bundle), "--data", str(bank_case.data), "--id-column", "ref"]
    )
    assert wrong_id.startswith("error: id_column: must name a column of the clients. Got 'ref'")


def _healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> bytes:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                return bytes(reply.read())
        except OSError:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"levers app exited: {error}") from None
            time.sleep(0.3)
    raise AssertionError(f"{url}: no healthy answer within {timeout_s} s")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_levers_app_serves_the_bundle_and_stops_with_the_command(bank_case: SourceCase) -> None:
    port = _free_port()
    levers = Path(sys.executable).with_name("levers")
    env = {k: v for k, v in os.environ.items() if k not in SOURCE_VARIABLES}
    process = subprocess.Popen(
        [
            str(levers),
            "app",
            "--bundle",
            str(bank_case.bundle),
            "--data",
            str(bank_case.data),
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert _healthy(f"http://127.0.0.1:{port}", process) == b"ok"
        # the command became the server: its process runs the repository's app on the port,
        # headless, with the variables set
        environ = Path(f"/proc/{process.pid}/environ")
        if environ.exists():
            command = Path(f"/proc/{process.pid}/cmdline").read_text().split("\0")
            entry = str(REPO_ROOT / "app" / "streamlit_app.py")
            assert command[1:6] == ["-m", "streamlit", "run", entry, "--server.port"]
            assert command[6:9] == [str(port), "--server.headless", "true"]
            variables = dict(
                item.split("=", 1) for item in environ.read_text().split("\0") if "=" in item
            )
            assert variables["LEVERS_BUNDLE"] == str(bank_case.bundle.resolve())
            assert variables["LEVERS_DATA"] == str(bank_case.data.resolve())
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not _port_open(port)


@pytest.mark.parametrize("port", ["http", "8.5"])
def test_a_port_that_is_not_a_number_is_refused(port: str) -> None:
    result = runner.invoke(cli, ["app", "--port", port])
    assert result.exit_code == 2


def test_more_clients_than_the_apps_row_limit_are_refused_with_the_limit(
    bank_case: SourceCase, tmp_path: Path
) -> None:
    from advisor.datasets import INTERACTIVE_MAX_ROWS

    big = tmp_path / "big.csv"
    big.write_text("age\n" + "40\n" * (INTERACTIVE_MAX_ROWS + 1), encoding="utf-8")
    refused = _one_error(["--bundle", str(bank_case.bundle), "--data", str(big)])
    assert f"must hold at most {INTERACTIVE_MAX_ROWS:,} rows" in refused
