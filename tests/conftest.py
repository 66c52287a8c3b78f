"""Shared fixtures: a seeded synthetic portfolio, its constraint set, and the shared data.

Skips: locally a test may skip when something it needs is absent (a shared data file, an
optional package, Chromium), with the reason in pytest's ``-ra`` summary. Under CI (``CI`` set,
as ``.ci/run`` does) every test must run: :func:`skip_or_fail` fails instead of skipping, and
the hooks below turn any other skip (``pytest.skip``, ``importorskip``, ``skipif``) into a
failure that keeps the reason.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pytest

from advisor.datasets import make_demo_portfolio
from constraints import ConstraintSet, load_constraints

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_TEST_CLIENTS = 3_000


def shared_data_dir() -> Path:
    """Folder of the real public data sets (``../shared/data`` or ``$LEVERS_SHARED_DATA``)."""
    return Path(os.environ.get("LEVERS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def in_ci() -> bool:
    """Whether this is a CI run (``CI`` set to anything but empty, ``0``, ``false`` or ``no``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the calling test with ``reason``; under CI, where every test must run, fail it."""
    if in_ci():
        pytest.fail(f"{reason}. CI is set: every test must run, so this fails.", pytrace=False)
    pytest.skip(reason)


def shared_data_file(*parts: str) -> Path:
    """Return a file of the shared data; skip the test when it is absent (fail under CI)."""
    path = shared_data_dir().joinpath(*parts)
    if not path.is_file():
        skip_or_fail(f"shared data file {path} is absent (set LEVERS_SHARED_DATA)")
    return path


def _failed_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skip report into a failure that keeps the skip's reason."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped under CI, where every test must run: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI, a skipped test fails (expected failures, ``xfail``, stay what they are)."""
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        _failed_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Under CI, a module that skips as a whole (``importorskip`` at import) fails."""
    report = yield
    if in_ci() and report.skipped:
        _failed_skip(report)
    return report


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
    """Tiny AutoML-trained models of each family: life-insurance take-up among non-holders.

    For the tests of :mod:`advisor` (training, bundles, evidence). The tests of
    :mod:`constraints` and :mod:`counterfactuals` build their models directly
    (tests/counterfactuals/conftest.py).
    """
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


@pytest.fixture(scope="session", autouse=True)
def _session_audit_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """No test writes the real audit store: session fixtures (built before the per-test
    fixture below) get a session file, subprocesses inherit the variables."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEVERS_AUDIT", str(tmp_path_factory.mktemp("audit") / "audit.sqlite"))
        patch.delenv("LEVERS_AUDIT_HASH_IDS", raising=False)
        yield


@pytest.fixture(autouse=True)
def _audit_store_per_test(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test appends to its own audit store (``LEVERS_AUDIT``), never the user's."""
    monkeypatch.setenv("LEVERS_AUDIT", str(tmp_path_factory.mktemp("audit") / "audit.sqlite"))
    monkeypatch.delenv("LEVERS_AUDIT_HASH_IDS", raising=False)


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


BANK_TEST_ROWS = 4_000


@pytest.fixture(scope="session")
def bank_data() -> pd.DataFrame:
    """4,000 rows of the real bank-marketing file (seeded sample; fails in CI when absent)."""
    from advisor.datasets import read_clients

    frame = read_clients(shared_data_file("bank-marketing", "bank-full.csv"))
    return frame.sample(n=BANK_TEST_ROWS, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="session")
def bank_bundle(tmp_path_factory: pytest.TempPathFactory, bank_data: pd.DataFrame) -> Path:
    """A bank-marketing XGBoost bundle trained on ``bank_data`` (one trial, a few seconds)."""
    from advisor.models import save_bundle, train

    result = train(
        bank_data,
        "y",
        REPO_ROOT / "configs" / "bank-marketing.yaml",
        families=("xgboost",),
        n_trials=1,
        budget_s=None,
        n_folds=2,
    )
    return save_bundle(result, tmp_path_factory.mktemp("bank") / "bank-bundle")


@pytest.fixture(scope="session")
def german_data() -> pd.DataFrame:
    """The real German credit file (1,000 applications; fails in CI when absent)."""
    from advisor.datasets import read_clients

    return read_clients(shared_data_file("german-credit", "german.data"))


@pytest.fixture(scope="session")
def german_bundle(tmp_path_factory: pytest.TempPathFactory, german_data: pd.DataFrame) -> Path:
    """A German-credit risk bundle: logistic, positive class ``bad``, goal ``lower``."""
    from advisor.models import save_bundle, train

    result = train(
        german_data,
        "credit_risk",
        REPO_ROOT / "configs" / "german-credit.yaml",
        families=("logistic",),
        positive="bad",
        n_trials=1,
        budget_s=None,
        n_folds=2,
    )
    return save_bundle(result, tmp_path_factory.mktemp("german") / "german-bundle")


@pytest.fixture(scope="session")
def numbered_german(german_data: pd.DataFrame) -> pd.DataFrame:
    """German credit with ``numero``: ids 1..1000 in another order than the rows."""
    order = np.random.default_rng(17).permutation(len(german_data)) + 1
    return german_data.assign(numero=order)


@pytest.fixture(scope="session")
def recorded_german_bundle(
    numbered_german: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A German-credit bundle trained with ``id_column="numero"`` (a name detection skips)."""
    from advisor.models import save_bundle, train

    result = train(
        numbered_german,
        "credit_risk",
        REPO_ROOT / "configs" / "german-credit.yaml",
        families=("logistic",),
        positive="bad",
        n_trials=1,
        budget_s=None,
        n_folds=2,
        id_column="numero",
    )
    assert result.report.id_column == "numero"
    return save_bundle(result, tmp_path_factory.mktemp("ids") / "bundle")


def write_french_export(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as a French bank exports it: ';', decimal commas, latin-1, zipped."""
    frame.to_csv(
        path,
        index=False,
        sep=";",
        decimal=",",
        encoding="latin-1",
        compression={"method": "zip", "archive_name": "clients.csv"},
    )
    return path


@pytest.fixture(scope="session")
def demo_advisor(demo_bundle: Path) -> Any:
    """The demo recommender's advisor on its 3,000-client portfolio (engine ``auto``)."""
    from advisor.levers import load_demo_advisor
    from advisor.models import DemoBundleSettings

    found, _ = load_demo_advisor(DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS))
    return found


@pytest.fixture(scope="session")
def demo_search_advisor(demo_bundle: Path) -> Any:
    """The same advisor with the search engine (fast campaigns in tests)."""
    from advisor.levers import load_demo_advisor
    from advisor.models import DemoBundleSettings

    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    found, _ = load_demo_advisor(settings, engine="search")
    return found
