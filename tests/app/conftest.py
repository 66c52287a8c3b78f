"""A small demo bundle the app opens on in tests (built once per session, in a few seconds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from advisor.levers import Advisor, load_demo_advisor
from advisor.models import DemoBundleSettings
from tests.conftest import DEMO_TEST_CLIENTS as N_CLIENTS
from tests.conftest import REPO_ROOT

ENTRY = str(REPO_ROOT / "app" / "streamlit_app.py")
SOURCE_VARIABLES = ("LEVERS_BUNDLE", "LEVERS_DATA", "LEVERS_ID_COLUMN")


@pytest.fixture
def demo_env(demo_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the app at the small bundle (the variables `streamlit run` reads too)."""
    env = {"LEVERS_DEMO_BUNDLE": str(demo_bundle), "LEVERS_DEMO_CLIENTS": str(N_CLIENTS)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("LEVERS_DEMO_SEED", "LEVERS_DEMO_TRIALS", *SOURCE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    return env


@pytest.fixture(scope="session")
def advisor(demo_bundle: Path) -> Advisor:
    """The same advisor the app builds, to know what the screen must show."""
    found, _ = load_demo_advisor(DemoBundleSettings(out=demo_bundle, n_clients=N_CLIENTS))
    return found


@pytest.fixture(scope="session")
def with_levers(advisor: Advisor) -> tuple[str, Any]:
    """The first reference client with three levers (else with any), and that advice."""
    assert advisor.reference is not None
    found = [(str(i), advisor.advise(i)) for i in advisor.reference.index[:12]]
    with_any = [(i, a) for i, a in found if a.levers]
    if not with_any:
        pytest.fail("no client with levers among the first 12")
    return max(with_any, key=lambda pair: len(pair[1].levers))
