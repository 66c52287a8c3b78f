"""Shared fixtures: a seeded synthetic portfolio, its constraint set, and the shared data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from advisor.datasets import make_demo_portfolio
from constraints import ConstraintSet, load_constraints

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_TEST_CLIENTS = 3_000


def shared_data_dir() -> Path:
    """Folder of the real public data sets (``../shared/data`` or ``$LEVERS_SHARED_DATA``)."""
    return Path(os.environ.get("LEVERS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def small_portfolio() -> pd.DataFrame:
    """A seeded synthetic portfolio of a few hundred clients."""
    return make_demo_portfolio(n_clients=500, seed=0)


@pytest.fixture(scope="session")
def demo_constraints(small_portfolio: pd.DataFrame) -> ConstraintSet:
    """configs/demo-portfolio.yaml bound to the small portfolio."""
    return load_constraints(REPO_ROOT / "configs" / "demo-portfolio.yaml", small_portfolio)


@pytest.fixture(scope="session")
def model_clients() -> pd.DataFrame:
    """A demo portfolio large enough to train small models on (3,000 clients)."""
    return make_demo_portfolio(n_clients=3_000, seed=1)


@pytest.fixture(scope="session")
def model_constraints(model_clients: pd.DataFrame) -> ConstraintSet:
    """configs/demo-portfolio.yaml bound to ``model_clients``."""
    return load_constraints(REPO_ROOT / "configs" / "demo-portfolio.yaml", model_clients)


@pytest.fixture(scope="session")
def trained(model_clients: pd.DataFrame, model_constraints: ConstraintSet) -> dict[str, Any]:
    """Tiny fitted models of each family: life-insurance take-up among non-holders."""
    from advisor.models import train

    clients = model_clients.loc[~model_clients["has_life_insurance"]]
    return {
        family: train(
            clients,
            "take_life_insurance",
            model_constraints,
            families=(family,),
            n_trials=1,
            budget_s=None,
            n_folds=3,
            seed=0,
        )
        for family in ("logistic", "xgboost", "mlp")
    }


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Any:
    """Tiny torch batches run faster on one thread (and the suite shares 2 cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo recommender on 3,000 clients, one trial per product (about a second)."""
    from advisor.models import DemoBundleSettings, build_demo_bundle

    settings = DemoBundleSettings(
        out=tmp_path_factory.mktemp("demo") / "demo-bundle",
        n_clients=DEMO_TEST_CLIENTS,
        n_trials=1,
        budget_s=60.0,
        families=("logistic", "xgboost"),
    )
    return build_demo_bundle(settings)
