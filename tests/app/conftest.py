"""The bundles the app opens on in tests, each built once per session in a few seconds.

The demo recommender (3,000 clients), and other banks' bundles with the client data the app
reads with them: bank marketing, German credit (a risk model) and a bank's own CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.levers import Advisor, load_demo_advisor
from advisor.models import DemoBundleSettings
from tests.conftest import DEMO_TEST_CLIENTS as N_CLIENTS
from tests.conftest import REPO_ROOT, shared_data_file

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


# ---------------------------------------------------------------- bundles of other banks
@dataclass(frozen=True, slots=True, kw_only=True)
class SourceCase:
    """A bundle, the client data the app opens with it, and what the screen must show.

    ``clients`` is the oracle: the data read here on its own (pandas or the data set's
    loader), indexed as the app must index it (the id column's values, else "1".."n").
    """

    name: str
    bundle: Path
    data: Path
    id_column: str | None
    clients: pd.DataFrame
    env: dict[str, str]


def _case(
    name: str, bundle: Path, data: Path, clients: pd.DataFrame, id_column: str | None
) -> SourceCase:
    if id_column is None:
        indexed = clients.set_axis([str(i) for i in range(1, len(clients) + 1)])
    else:
        indexed = clients.set_axis(clients[id_column].astype(str).to_numpy())
    env = {"LEVERS_BUNDLE": str(bundle), "LEVERS_DATA": str(data)}
    if id_column is not None:
        env["LEVERS_ID_COLUMN"] = id_column
    return SourceCase(
        name=name, bundle=bundle, data=data, id_column=id_column, clients=indexed, env=env
    )


@pytest.fixture(scope="session")
def bank_clients(bank_data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bank clients as a CSV file, with an opt-out column (every seventh client)."""
    clients = bank_data.assign(opt_out=[i % 7 == 0 for i in range(len(bank_data))])
    path = tmp_path_factory.mktemp("bank-clients") / "clients.csv"
    clients.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def bank_case(bank_bundle: Path, bank_clients: Path) -> SourceCase:
    """Bank marketing: a single propensity model, no id column (ids are row numbers)."""
    return _case("bank", bank_bundle, bank_clients, pd.read_csv(bank_clients), None)


@pytest.fixture(scope="session")
def german_case(german_bundle: Path) -> SourceCase:
    """German credit: a risk model (positive class 'bad'), opened on german.data itself."""
    from advisor.datasets import load_german_credit

    data = shared_data_file("german-credit", "german.data")
    return _case("german", german_bundle, data, load_german_credit(data).frame, None)


@pytest.fixture(scope="session")
def caravan_case(tmp_path_factory: pytest.TempPathFactory) -> SourceCase:
    """Caravan (85 features): a single propensity model, opened on Caravan.csv itself."""
    from advisor.datasets import load_caravan
    from advisor.models import save_bundle, train

    data = shared_data_file("caravan", "Caravan.csv")
    clients = load_caravan(data).frame
    result = train(
        clients,
        "Purchase",
        REPO_ROOT / "configs" / "caravan.yaml",
        families=("logistic",),
        n_trials=1,
        budget_s=None,
        n_folds=2,
    )
    bundle = save_bundle(result, tmp_path_factory.mktemp("caravan") / "caravan-bundle")
    return _case("caravan", bundle, data, clients, None)


SYNTHETIC_CONSTRAINTS = """\
version: 1
name: synthetic-bank
description: A bank's own client file, made up for the tests.
max_changes: 2
features:
  age:
    kind: integer
    role: immutable
    unit: years
    label: {en: Age of the client, fr: Âge du client}
  region:
    kind: categorical
    categories: [north, south, east, west]
    role: immutable
    label: {en: Home region, fr: Région de résidence}
  income:
    kind: continuous
    role: context
    missing: keep                # about 20 % of the clients never told us
    unit: €
    label: {en: Monthly income, fr: Revenu mensuel}
  plan:
    kind: categorical
    categories: [basic, plus, premium]
    role: actionable
    transitions: {basic: [plus], plus: [premium], premium: []}
    cost: {per_change: 1}
    label: {en: Account plan, fr: Formule de compte}
  has_card:
    kind: binary
    role: actionable
    direction: increase
    cost: {per_change: 1}
    label: {en: Holds a debit card, fr: Détient une carte}
  savings:
    kind: continuous
    role: actionable
    direction: increase
    min: 0
    max: p99
    cost: {per_unit: 0.0005}
    unit: €
    label: {en: Savings balance, fr: Solde d'épargne}
  contacts:
    kind: integer
    role: actionable
    min: 0
    max: 10
    cost: {per_unit: 0.5}
    label: {en: Advisor contacts this year, fr: Contacts avec le conseiller cette année}
"""


MISSING_SHARE = 0.2  # of the clients whose income is missing


def synthetic_clients(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small bank file: an id column, numbers (income missing for about 20 % of the
    clients), categories, yes/no, and a yes/no target."""
    rng = np.random.default_rng(seed)
    has_card = rng.random(n) < 0.4
    savings = rng.gamma(2.0, 2_000.0, n).round(0)
    contacts = rng.integers(0, 8, n)
    plan = rng.choice(["basic", "plus", "premium"], n, p=[0.5, 0.3, 0.2])
    logit = -2.5 + 0.0003 * savings + 1.2 * has_card + 0.25 * contacts + 0.6 * (plan == "premium")
    subscribed = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    income = rng.normal(2_500.0, 700.0, n).clip(800).round(0)
    income[rng.random(n) < MISSING_SHARE] = np.nan
    return pd.DataFrame(
        {
            "customer_ref": [f"CR-{i:05d}" for i in rng.permutation(n) + 1],
            "age": rng.integers(18, 80, n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "income": income,
            "plan": plan,
            "has_card": has_card,
            "savings": savings,
            "contacts": contacts,
            "subscribed": subscribed,
        }
    )


@pytest.fixture(scope="session")
def synthetic_case(tmp_path_factory: pytest.TempPathFactory) -> SourceCase:
    """A bundle trained here from a 400-row CSV with a ``customer_ref`` id column."""
    from advisor.models import save_bundle, train

    folder = tmp_path_factory.mktemp("own-bank")
    data, rules = folder / "clients.csv", folder / "constraints.yaml"
    synthetic_clients().to_csv(data, index=False)
    rules.write_text(SYNTHETIC_CONSTRAINTS, encoding="utf-8")
    clients = pd.read_csv(data)
    result = train(
        clients, "subscribed", rules, families=("xgboost",), n_trials=1, budget_s=None, n_folds=2
    )
    bundle = save_bundle(result, folder / "bundle")
    return _case("synthetic", bundle, data, clients, "customer_ref")
