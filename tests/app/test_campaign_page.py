"""The Campaign page under AppTest: the demo recommender and a bank-marketing bundle.

The oracle is the API: the same clients, segment and options through
``Campaign.from_bundle(...).run(...)`` give the totals the page must show, and the CSV it
must serve for download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from advisor.campaigns import Campaign, CampaignResult, fairness_report
from advisor.levers import Advisor
from advisor.models import load_bundle
from app.campaign_widgets import RUN_KEY
from tests.app.conftest import ENTRY

CAP = 40


def _page() -> AppTest:
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    app.switch_page("app_pages/campaign.py").run()
    assert not app.exception
    return app


def _metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def _expected_kpis(result: CampaignResult) -> dict[str, str]:
    """The totals as the page must show them, formatted here independently."""
    totals = result.totals
    shown = {
        "Clients in the segment": f"{totals.n_segment:,}",
        "Coverage": f"{100 * totals.coverage:.1f}%",
        "Clients advised": f"{totals.n_advised:,}",
        "Expected extra sales": f"{totals.expected_extra_sales:,.1f}",
    }
    if totals.expected_value is not None:
        shown["Expected value"] = f"{totals.expected_value:,.0f} €"
    return shown


def _download_url(data: bytes, file_name: str) -> str:
    """The address AppTest's media storage gives these bytes (a hash of them)."""
    storage = MemoryMediaFileStorage("/mock/media")
    file_id = storage.load_and_get_id(data, "text/csv", MediaFileKind.DOWNLOADABLE, file_name)
    return storage.get_url(file_id)


def _first(mask: pd.Series, n: int) -> np.ndarray:
    kept = mask.to_numpy(dtype=bool)
    return kept & (np.cumsum(kept) <= n)


def _run(app: AppTest, filters: dict[str, Any], exclude: str | None) -> AppTest:
    app.multiselect(key="campaign-filters").set_value(list(filters)).run()
    for name, value in filters.items():
        widget = app.multiselect if isinstance(value, list) else app.slider
        widget(key=f"campaign-filter-{name}").set_value(value).run()
    app.selectbox(key="campaign-exclude").set_value(exclude).run()
    app.number_input(key="campaign-cap").set_value(CAP).run()
    app.radio(key="campaign-engine").set_value("search").run()
    assert not app.exception
    assert app.info[0].value == "Choose the segment, then run the campaign."
    app.button(key="campaign-run").click().run()
    assert not app.exception
    return app


# ---------------------------------------------------------------- demo recommender
@pytest.fixture(scope="module")
def demo_result(demo_bundle: Path, advisor: Advisor) -> CampaignResult:
    """The API's answer for the segment the demo test builds on the page."""
    clients = advisor.reference
    assert clients is not None
    mask = _first(clients["region"].isin(["north"]) & clients["age"].between(30, 60), CAP)
    campaign = Campaign.from_bundle(
        load_bundle(demo_bundle), clients, product="life_insurance", engine="search"
    )
    return campaign.run(clients, segment=mask, exclude="has_consumer_loan")


def test_demo_campaign_shows_the_apis_totals_actions_and_download(
    demo_env: dict[str, str], demo_result: CampaignResult
) -> None:
    app = _page()
    assert app.title[0].value == "Campaign design"
    # the filters are the constraint file's features, protected attributes left out
    options = app.multiselect(key="campaign-filters").options
    assert "Region" in options
    assert "Sex" not in options
    app.selectbox(key="campaign-product").set_value("life_insurance").run()
    app = _run(app, {"region": ["north"], "age": (30, 60)}, "has_consumer_loan")
    assert _metrics(app) == _expected_kpis(demo_result)
    assert demo_result.totals.n_excluded > 0  # the opt-out column was used
    assert any(f"excluded {demo_result.totals.n_excluded} " in c.value for c in app.caption)

    download = app.get("download_button")[0].proto
    assert download.label == "Download the per-client levers (CSV)"
    expected = demo_result.to_frame().to_csv(index=False).encode("utf-8")
    assert download.url == _download_url(expected, "levers-life_insurance.csv")

    actions = demo_result.summarize(max_actions=5).to_frame()
    shown = next(d.value for d in app.dataframe if "action" in d.value.columns)
    assert shown["action"].tolist() == actions["action_en"].tolist()
    assert shown["clients covered"].tolist() == actions["n_covered"].tolist()
    assert app.get("plotly_chart")  # the coverage-cost curve
    levers = next(d.value for d in app.dataframe if "actions" in d.value.columns)
    assert len(levers) == len(demo_result.to_frame())
    fairness = fairness_report(demo_result).to_frame()
    groups = next(d.value for d in app.dataframe if "flagged" in d.value.columns)
    assert set(fairness["attribute"]) == {"sex", "age"}  # protected + age bands
    labels = {"sex": "Sex", "age": "Age"}  # the constraint file's labels
    assert groups["group"].tolist() == [
        f"{labels[a]}: {g}" for a, g in zip(fairness["attribute"], fairness["group"], strict=True)
    ]
    assert groups["searched"].tolist() == fairness["n_searched"].tolist()
    np.testing.assert_array_equal(groups["mean cost"], fairness["mean_cost"])

    # a rerun in French shows the same run, not a new one
    kept = app.session_state[RUN_KEY]
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    assert app.title[0].value == "Conception de campagne"
    assert app.session_state[RUN_KEY] is kept
    assert _metrics(app)["Clients conseillés"] == str(demo_result.totals.n_advised)
    shown = next(d.value for d in app.dataframe if "action" in d.value.columns)
    assert shown["action"].tolist() == actions["action_fr"].tolist()
    assert app.get("download_button")[0].proto.label == "Télécharger les leviers par client (CSV)"


def test_changing_the_segment_hides_the_old_results(demo_env: dict[str, str]) -> None:
    app = _page()
    app.number_input(key="campaign-cap").set_value(5).run()
    app.radio(key="campaign-engine").set_value("search").run()
    app.button(key="campaign-run").click().run()
    assert not app.exception
    assert _metrics(app)["Clients in the segment"] == "5"
    app.number_input(key="campaign-cap").set_value(6).run()
    assert not app.metric
    assert app.info[0].value == "Choose the segment, then run the campaign."


def test_a_segment_of_opted_out_clients_gets_no_lever_and_no_action(
    demo_env: dict[str, str], advisor: Advisor
) -> None:
    clients = advisor.reference
    assert clients is not None
    app = _page()
    app.selectbox(key="campaign-product").set_value("life_insurance").run()
    app = _run(app, {"has_consumer_loan": [True]}, "has_consumer_loan")
    n_segment = min(CAP, int(clients["has_consumer_loan"].sum()))
    assert _metrics(app) == {
        "Clients in the segment": str(n_segment),
        "Coverage": "0.0%",
        "Clients advised": "0",
        "Expected extra sales": "0.0",
        "Expected value": "0 €",
    }
    assert any(f"excluded {n_segment} " in c.value for c in app.caption)
    assert any(
        i.value.startswith("No client of the segment has an individual lever") for i in app.info
    )
    levers = next(d.value for d in app.dataframe if "actions" in d.value.columns)
    assert set(levers["status"]) == {"excluded"}
    assert set(levers["actions"]) == {""}


def test_an_empty_segment_is_said_and_cannot_run(
    demo_env: dict[str, str], advisor: Advisor
) -> None:
    clients = advisor.reference
    assert clients is not None
    young, retired = clients["age"].between(18, 25), clients["occupation"] == "retired"
    assert young.any()
    assert retired.any()
    assert not (young & retired).any()  # the precondition: no young retiree
    app = _page()
    app.multiselect(key="campaign-filters").set_value(["age", "occupation"]).run()
    app.slider(key="campaign-filter-age").set_value((18, 25)).run()
    assert not app.warning
    assert not app.button(key="campaign-run").disabled
    app.multiselect(key="campaign-filter-occupation").set_value(["retired"]).run()
    assert not app.exception
    assert [w.value for w in app.warning] == ["No client matches these filters."]
    assert app.button(key="campaign-run").disabled


# ---------------------------------------------------------------- bank marketing
@pytest.fixture
def bank_env(bank_bundle: Path, bank_clients: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERS_BUNDLE", str(bank_bundle))
    monkeypatch.setenv("LEVERS_DATA", str(bank_clients))
    monkeypatch.delenv("LEVERS_ID_COLUMN", raising=False)


def test_bank_campaign_shows_the_apis_totals_and_download(
    bank_env: None, bank_bundle: Path, bank_clients: Path
) -> None:
    app = _page()
    assert "campaign-product" not in [s.key for s in app.selectbox]
    assert app.markdown[0].value.startswith("Product: ")
    assert any("clients.csv" in c.value for c in app.caption)
    app = _run(app, {"job": ["management", "technician"], "balance": (0, 5_000)}, "opt_out")

    clients = pd.read_csv(bank_clients)
    clients = clients.set_axis([str(i) for i in range(1, len(clients) + 1)])  # the app's ids
    assert clients["opt_out"].dtype == bool
    in_segment = clients["job"].isin(["management", "technician"]) & clients["balance"].between(
        0, 5_000
    )
    campaign = Campaign.from_bundle(load_bundle(bank_bundle), clients, engine="search")
    result = campaign.run(clients, segment=_first(in_segment, CAP), exclude="opt_out")
    assert result.totals.expected_value is None
    assert _metrics(app) == _expected_kpis(result)
    expected = result.to_frame().to_csv(index=False).encode("utf-8")
    download = app.get("download_button")[0].proto
    assert download.url == _download_url(expected, f"levers-{result.product}.csv")

    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    assert app.markdown[0].value.startswith("Produit : ")
    assert "Couverture" in _metrics(app)
