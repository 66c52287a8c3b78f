"""Shared fixtures: a seeded synthetic portfolio and the location of the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from advisor.datasets import make_demo_portfolio

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Folder of the real public data sets (``../shared/data`` or ``$LEVERS_SHARED_DATA``)."""
    return Path(os.environ.get("LEVERS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def small_portfolio() -> pd.DataFrame:
    """A seeded synthetic portfolio of a few hundred clients."""
    return make_demo_portfolio(n_clients=500, seed=0)
