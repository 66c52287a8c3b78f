"""The app served for real by `streamlit run`, and driven by headless Chromium (Playwright)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import ENTRY
from tests.conftest import REPO_ROOT, skip_or_fail

CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"streamlit exited: {error}") from None
            time.sleep(0.3)
    raise TimeoutError(f"{url}: no healthy answer within {timeout_s} s")


@contextmanager
def served(env: Mapping[str, str]) -> Iterator[str]:
    """Run ``streamlit run`` (as ``make app`` does) with ``env`` added; yield its base URL."""
    port = _free_port()
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
        command,
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def served_app(demo_env: dict[str, str]) -> Iterator[str]:
    """The app served on the small bundle; its base URL."""
    with served(demo_env) as url:
        yield url


def test_served_app_answers_the_health_check(served_app: str) -> None:
    with urllib.request.urlopen(f"{served_app}/_stcore/health", timeout=5) as reply:
        assert reply.status == 200
        assert reply.read() == b"ok"
    with urllib.request.urlopen(served_app, timeout=5) as reply:
        assert reply.status == 200
        assert b"<title>" in reply.read()


def _chromium() -> str:
    """Chromium's path; without one the test skips locally and fails under CI."""
    found = os.environ.get("LEVERS_CHROMIUM") or shutil.which("chromium")
    if not found or not Path(found).exists():
        skip_or_fail("no Chromium on this machine (apt-get install chromium, or LEVERS_CHROMIUM)")
    return found


def _screenshot(page: Any, path: Path) -> None:
    """Whole page: Streamlit scrolls inside its main block, so grow the window to fit it."""
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer], section.main')].map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": 1440, "height": max(1000, int(height) + 80)})
    page.wait_for_timeout(1_500)  # charts re-layout to the new size
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.browser
def test_browser_selects_a_client_and_sees_the_lever_cards(
    served_app: str, with_levers: tuple[str, Any], tmp_path: Path
) -> None:
    """Search a client, wait for the lever cards, keep a full-page screenshot to look at."""
    chromium = _chromium()
    from playwright.sync_api import expect, sync_playwright

    client_id, advice = with_levers
    shot = Path(os.environ.get("LEVERS_SCREENSHOT") or tmp_path / "client-page.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(served_app)
            page.get_by_text("Client advice").first.wait_for(timeout=60_000)
            search = page.locator(".st-key-client_search input")
            search.fill(client_id)
            search.press("Enter")
            cards = page.locator(".st-key-lever-1, .st-key-lever-2, .st-key-lever-3")
            expect(page.locator(".st-key-lever-1")).to_be_visible(timeout=60_000)
            expect(page.locator(".st-key-lever-1")).to_contain_text(
                advice.levers[0].describe("en")[0], timeout=30_000
            )
            assert cards.count() == len(advice.levers)
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
            _screenshot(page, shot)
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000
