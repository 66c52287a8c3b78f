"""The Streamlit app, driven headless with AppTest, and served for real over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT

ENTRY = str(REPO_ROOT / "app" / "streamlit_app.py")


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LEVERS_DEMO_CLIENTS", "2000")
    return AppTest.from_file(ENTRY, default_timeout=60).run()


def test_portfolio_page_lists_clients_and_holdings(app: AppTest) -> None:
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 2000
    assert {"client_id", "age", "monthly_income", "home loan", "savings account"} <= set(table)
    assert app.metric[0].value == "2,000"
    assert app.title[0].value == "Client portfolio"


def test_filters_narrow_the_list(app: AppTest) -> None:
    app.text_input(key="search").input("C000001").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert 0 < len(table) <= 10
    assert table["client_id"].str.contains("C000001").all()
    app.slider(key="age_range").set_value((70, 90)).run()
    assert (app.dataframe[0].value["age"] >= 70).all()


def test_a_filter_matching_nobody_shows_an_empty_list(app: AppTest) -> None:
    app.text_input(key="search").input("nobody").run()
    assert not app.exception
    assert len(app.dataframe[0].value) == 0
    assert app.metric[0].value == "0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_app() -> Iterator[str]:
    """Run `streamlit run` as the README's app command does; yield its base URL."""
    port = _free_port()
    env = {**os.environ, "LEVERS_DEMO_CLIENTS": "2000"}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        ENTRY,
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
    ]
    process = subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if process.poll() is not None:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"streamlit exited: {error}") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_served_app_answers_the_health_check(served_app: str) -> None:
    with urllib.request.urlopen(f"{served_app}/_stcore/health", timeout=5) as reply:
        assert reply.status == 200
        assert reply.read() == b"ok"
    with urllib.request.urlopen(served_app, timeout=5) as reply:
        assert reply.status == 200
        assert b"<title>" in reply.read()


CHROMIUM = Path(os.environ.get("LEVERS_CHROMIUM", "/usr/bin/chromium"))


@pytest.mark.browser
def test_browser_shows_the_portfolio(served_app: str, tmp_path: Path) -> None:
    """Headless Chromium renders the page; the screenshot is kept for a person to look at."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    shot = Path(os.environ.get("LEVERS_SCREENSHOT_DIR", tmp_path)) / "portfolio.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(served_app)
        page.get_by_text("Client portfolio").wait_for(timeout=60_000)
        page.locator("[data-testid='stDataFrame']").wait_for(timeout=60_000)
        page.get_by_text("2,000").first.wait_for(timeout=30_000)
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
