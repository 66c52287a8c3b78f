"""The client page warns, in plain words, about a client far from the data the model learned from.

A bank's own 400-client file with one client whose monthly income is 100 times the file's
largest: the oracle is the advisor's verdict for that client (computed here on its own), and
the warning's words must be on the screen in English and in French, and on no ordinary
client's page.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from advisor.datasets import index_clients, read_clients
from advisor.levers import Advisor
from advisor.models import load_bundle
from tests.app.conftest import ENTRY, SOURCE_VARIABLES, SYNTHETIC_CONSTRAINTS, synthetic_clients

ID_COLUMN = "customer_ref"


@pytest.fixture(scope="module")
def far_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """A bundle trained on a file where one client's income is far above everyone's."""
    from advisor.models import save_bundle, train

    folder = tmp_path_factory.mktemp("far-client")
    clients = synthetic_clients()
    known = clients.index[clients["income"].notna()]
    far, ordinary = known[0], known[1]
    clients.loc[far, "income"] = clients["income"].max() * 100
    data, rules = folder / "clients.csv", folder / "constraints.yaml"
    clients.to_csv(data, index=False)
    rules.write_text(SYNTHETIC_CONSTRAINTS, encoding="utf-8")
    result = train(
        pd.read_csv(data),
        "subscribed",
        rules,
        families=("xgboost",),
        n_trials=1,
        budget_s=None,
        n_folds=2,
    )
    bundle = save_bundle(result, folder / "bundle")
    ids = clients[ID_COLUMN]
    return bundle, data, str(ids[far]), str(ids[ordinary])


@pytest.fixture
def served(
    far_case: tuple[Path, Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, str, str]:
    bundle, data, _, _ = far_case
    for name in SOURCE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEVERS_BUNDLE", str(bundle))
    monkeypatch.setenv("LEVERS_DATA", str(data))
    monkeypatch.setenv("LEVERS_ID_COLUMN", ID_COLUMN)
    monkeypatch.setenv("LEVERS_AUDIT", "off")
    return far_case


def _warnings(app: AppTest) -> list[str]:
    return [str(w.value) for w in app.warning]


def test_the_client_page_warns_about_a_far_client_in_both_languages(
    served: tuple[Path, Path, str, str],
) -> None:
    bundle, data, far_id, ordinary_id = served
    clients = index_clients(read_clients(data), ID_COLUMN)
    advisor = Advisor.from_bundle(load_bundle(bundle), clients)
    advice = advisor.advise(far_id)
    ordinary = advisor.advise(ordinary_id).ood
    assert ordinary is not None
    assert not ordinary.any_far
    assert advice.ood is not None
    assert advice.ood.client
    assert advice.ood.features[0] == "income"
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    app.text_input(key="client_search").input(far_id).run()
    assert not app.exception
    assert app.selectbox(key="client").value == far_id
    assert advice.ood.reason_text("en") in _warnings(app)
    assert "Monthly income above almost all of them" in (advice.ood.reason_text("en") or "")
    assert any("Far from the data" in c.value for c in app.caption)
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    assert advice.ood.reason_text("fr") in _warnings(app)
    app.segmented_control(key="language").set_value("en").run()
    app.text_input(key="client_search").input(ordinary_id).run()
    assert not app.exception
    assert app.selectbox(key="client").value == ordinary_id
    assert not any("unlike the clients" in w for w in _warnings(app))
