"""The Streamlit app driven headless with AppTest: every page, levers, what-if, language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from advisor.datasets import make_demo_portfolio
from advisor.errors import AdvisorError
from advisor.levers import Advisor
from advisor.models import save_bundle, train
from tests.app.conftest import ENTRY
from tests.conftest import DEMO_TEST_CLIENTS as N_CLIENTS
from tests.conftest import REPO_ROOT


@pytest.fixture
def app(demo_env: dict[str, str]) -> AppTest:
    return AppTest.from_file(ENTRY, default_timeout=60).run()


def test_client_page_opens_on_the_first_client(app: AppTest) -> None:
    assert not app.exception
    assert app.title[0].value == "Client advice"
    assert app.selectbox(key="client").value == "C0000000"
    assert app.container(key="profile")
    assert app.get("plotly_chart")  # ranked products
    assert app.segmented_control(key="language").value == "en"


def test_selecting_a_client_shows_lever_cards(app: AppTest, with_levers: tuple[str, Any]) -> None:
    client_id, advice = with_levers
    app.selectbox(key="client").set_value(client_id).run()
    assert not app.exception
    for lever in advice.levers:
        card = app.container(key=f"lever-{lever.rank}")
        shown = "\n".join(str(m.value) for m in card.markdown)
        assert lever.describe("en")[0] in shown
    assert app.selectbox(key=f"product-{client_id}").value == advice.product
    assert len(app.metric) >= len(advice.levers)


def test_search_narrows_the_clients_and_reports_no_match(app: AppTest) -> None:
    app.text_input(key="client_search").input("0000012").run()
    assert not app.exception
    assert app.selectbox(key="client").options == ["C0000012"]
    assert app.selectbox(key="client").value == "C0000012"
    app.text_input(key="client_search").input("nobody").run()
    assert not app.exception
    assert "nobody" in app.warning[0].value


def test_a_client_without_levers_gets_the_reason(app: AppTest, advisor: Advisor) -> None:
    assert advisor.reference is not None
    for client_id in advisor.reference.index[:40]:
        found = advisor.advise(client_id)
        if not found.levers:
            break
    app.selectbox(key="client").set_value(client_id).run()
    assert not app.exception
    reason = found.reason_text("en")
    assert any(reason == box.value for box in [*app.info, *app.success])
    with pytest.raises(KeyError):
        app.container(key="lever-1")


def test_what_if_editor_rescores_the_client(
    app: AppTest, advisor: Advisor, with_levers: tuple[str, Any]
) -> None:
    client_id, advice = with_levers
    app.selectbox(key="client").set_value(client_id).run()
    controls = advisor.controls(client_id, product=advice.product)
    numbers = [
        c for c in controls if c.movable and c.widget == "number" and (c.high or 0) > (c.low or 0)
    ]
    assert numbers, "the client has a movable number to edit"
    control = numbers[0]
    assert control.high is not None
    high = int(control.high) if control.integer else float(control.high)
    key = f"whatif-{client_id}-{advice.product}-{control.feature}"
    score = next(m for m in app.metric if m.label == "Score with these changes")
    before = score.value
    app.slider(key=key).set_value(high).run()
    assert not app.exception
    score = next(m for m in app.metric if m.label == "Score with these changes")
    expected = advisor.what_if(client_id, {control.feature: high}, product=advice.product)
    assert score.value != before
    assert score.value == f"{100 * expected.score_after:.1f}%"
    # a fixed feature's widget is shown, disabled, with the reason as help
    fixed = next(c for c in controls if not c.movable)
    widget = app.get(
        {"toggle": "toggle", "choice": "selectbox", "number": "number_input"}[fixed.widget]
    )
    assert any(w.key == f"whatif-{client_id}-{advice.product}-{fixed.feature}" for w in widget)
    app.button(key="whatif-reset").click().run()
    assert not app.exception
    score = next(m for m in app.metric if m.label == "Score with these changes")
    assert score.value == before


def test_language_switch_changes_lever_texts(app: AppTest, with_levers: tuple[str, Any]) -> None:
    client_id, advice = with_levers
    app.selectbox(key="client").set_value(client_id).run()
    lever = advice.levers[0]
    english = "\n".join(str(m.value) for m in app.container(key="lever-1").markdown)
    assert lever.describe("en")[0] in english
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    assert app.title[0].value == "Conseil client"
    french = "\n".join(str(m.value) for m in app.container(key="lever-1").markdown)
    assert lever.describe("fr")[0] in french
    assert lever.describe("en")[0] not in french
    assert app.selectbox(key="client").value == client_id  # the client stays selected


def test_the_language_comes_from_and_goes_to_the_address(demo_env: dict[str, str]) -> None:
    app = AppTest.from_file(ENTRY, default_timeout=60)
    app.query_params["lang"] = "fr"
    app.run()
    assert not app.exception
    assert app.title[0].value == "Conseil client"
    app.segmented_control(key="language").set_value("en").run()
    assert app.title[0].value == "Client advice"
    assert app.query_params["lang"] == "en"


def test_evidence_tabs_show_similar_and_influential_clients(
    app: AppTest, with_levers: tuple[str, Any]
) -> None:
    client_id, advice = with_levers
    app.selectbox(key="client").set_value(client_id).run()
    assert [t.label for t in app.tabs][-2:] == ["Similar clients", "Influential clients"]
    chooser = app.segmented_control(key=f"evidence-{client_id}-{advice.product}")
    assert chooser.value == 1
    chooser.set_value(0).run()
    assert not app.exception
    tables = [d.value for d in app.dataframe]
    assert any("distance" in t.columns for t in tables)
    assert any("influence" in t.columns for t in tables)


def test_model_page_shows_card_leaderboard_importance_and_calibration(app: AppTest) -> None:
    app.switch_page("app_pages/model.py").run()
    assert not app.exception
    assert app.title[0].value == "Model"
    card = app.dataframe[0].value
    assert len(card) == 8
    assert {"family", "test AUC", "n test"} <= set(card.columns)
    assert len(app.get("plotly_chart")) == 3  # calibration, permutation, mean |SHAP|
    assert not app.info  # importance found the held-out clients
    app.selectbox(key="model").set_value("premium_card").run()
    assert not app.exception
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    assert app.title[0].value == "Modèle"


def test_constraints_page_shows_the_file_and_its_status(app: AppTest) -> None:
    app.switch_page("app_pages/constraints.py").run()
    assert not app.exception
    assert app.success[0].value.startswith("Valid")
    # the demo's 22 clients beyond advisor_meetings_per_year's cap are a warning, folded away
    warnings = app.dataframe[0].value
    assert set(warnings["severity"]) == {"warning"}
    assert any("advisor_meetings_per_year" in path for path in warnings["path"])
    table = app.dataframe[-1].value
    assert len(table) == 27
    assert "Net monthly income" in set(table["label"])
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    table = app.dataframe[-1].value
    assert "Revenu mensuel net" in set(table["libellé"])
    assert "actionnable" in set(table["rôle"])


def test_portfolio_page_lists_clients_and_filters_them(app: AppTest, advisor: Advisor) -> None:
    clients = advisor.reference
    assert clients is not None
    app.switch_page("app_pages/portfolio.py").run()
    assert not app.exception
    assert app.title[0].value == "Client portfolio"
    assert app.caption[0].value.startswith("Built-in demo portfolio")
    table = app.dataframe[0].value
    assert len(table) == N_CLIENTS
    assert table["client"].tolist()[:2] == ["C0000000", "C0000001"]
    assert {"Age", "Net monthly income", "Region"} <= set(table.columns)
    assert app.metric[0].value == "3,000"
    assert app.metric[1].label == "Products held per client"
    held = sum(clients[advisor.product(p).held].mean() for p in advisor.products)
    assert app.metric[1].value == f"{held:.2f}"
    assert app.get("plotly_chart")  # the catalogue's holdings
    app.multiselect(key="portfolio-filter-region").set_value(["north"]).run()
    app.slider(key="portfolio-filter-age").set_value((30, 60)).run()
    expected = clients["region"].eq("north") & clients["age"].between(30, 60)
    assert app.metric[0].value == f"{int(expected.sum()):,}"
    app.text_input(key="search").input("C000001").run()
    expected &= clients.index.str.contains("C000001")
    assert app.dataframe[0].value["client"].tolist() == clients.index[expected].tolist()
    app.text_input(key="search").input("nobody").run()
    assert len(app.dataframe[0].value) == 0
    assert app.metric[0].value == "0"


@pytest.fixture(scope="module")
def single_model_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A single propensity model (life insurance) on the same 3,000 demo clients."""
    data = make_demo_portfolio(n_clients=N_CLIENTS, seed=0)
    result = train(
        data,
        "take_life_insurance",
        REPO_ROOT / "configs" / "demo-portfolio.yaml",
        families=("logistic",),
        n_trials=1,
        seed=0,
    )
    return save_bundle(result, tmp_path_factory.mktemp("single") / "bundle")


def test_a_single_model_bundle_shows_a_gauge_on_every_page(
    single_model_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEVERS_DEMO_BUNDLE", str(single_model_bundle))
    monkeypatch.setenv("LEVERS_DEMO_CLIENTS", str(N_CLIENTS))
    app = AppTest.from_file(ENTRY, default_timeout=60).run()
    assert not app.exception
    assert "Recommended products" not in [s.value for s in app.subheader]
    gauge = app.get("plotly_chart")[0].proto.spec
    assert '"indicator"' in gauge
    assert any(s.value.startswith("Levers for") for s in app.subheader)
    for page in ("app_pages/model.py", "app_pages/constraints.py", "app_pages/portfolio.py"):
        app.switch_page(page).run()
        assert not app.exception, page
    app.switch_page("app_pages/model.py").run()
    assert len(app.dataframe[0].value) == 1
    assert not app.info  # importance on the held-out clients


def test_evidence_the_advisor_cannot_compute_is_a_warning_not_a_crash(
    demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import service

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AdvisorError("train: must be exactly the training clients.")

    monkeypatch.setattr(Advisor, "evidence", fail)
    service._evidence.clear()
    try:
        app = AppTest.from_file(ENTRY, default_timeout=60).run()
        assert not app.exception
        assert any("training clients" in w.value for w in app.warning)
    finally:
        service._evidence.clear()
