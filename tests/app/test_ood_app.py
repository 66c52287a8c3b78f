"""The client page warns, in plain words, about a client far from the data the model learned from.

A bank's own 400-client file with one client whose monthly income is 100 times the file's
largest: the oracle is the advisor's verdict for that client (computed here on its own), and
the warning's words must be on the screen in English and in French, and on no ordinary
client's page. A lever card warns when its result alone is far (the guard's verdict on the
lever's values with one number 100 times the data's largest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _lever_cards(client_id: str, rank: int) -> None:
    """The client page's lever cards, with lever ``rank``'s result moved far out."""
    import dataclasses

    from app import components, service

    advisor = service.advisor()
    advice = service.advice(client_id)
    feature = next(f.name for f in advisor.constraints.features if f.kind == "continuous")
    reference, guard = advisor.reference, advisor.ood_guard(advice.product)
    if reference is None or guard is None:
        raise AssertionError("the demo advisor has reference clients")
    points = [
        {**lever.values, feature: reference[feature].max() * 100}
        if lever.rank == rank
        else lever.values
        for lever in advice.levers
    ]
    verdict = guard.check(reference.loc[[client_id]], points)
    components.lever_section(dataclasses.replace(advice, ood=verdict), "en", {})


def test_a_lever_card_warns_when_its_result_alone_is_far(
    demo_env: dict[str, str], with_levers: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEVERS_AUDIT", "off")
    client_id, advice = with_levers
    assert advice.ood is not None
    assert not advice.ood.any_far  # the oracle: as it is, nothing is far
    rank = len(advice.levers)
    app = AppTest.from_function(_lever_cards, args=(client_id, rank), default_timeout=120).run()
    assert not app.exception
    warnings = _warnings(app)
    assert len(warnings) == 1
    assert warnings[0].startswith("After this lever the client would be unlike the clients")
