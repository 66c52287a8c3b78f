"""The app on other banks' bundles: bank marketing, German credit (a risk model), a bank's CSV.

Each bundle is opened the way ``levers app --bundle --data`` opens it (``LEVERS_BUNDLE`` /
``LEVERS_DATA``). The oracle is the data read here on its own (pandas or the data set's
loader) and the constraint file: the ids, labels and counts the screen must show.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from advisor.levers import Advisor
from advisor.models import load_bundle
from constraints import load_constraints
from tests.app.conftest import ENTRY, SOURCE_VARIABLES, SourceCase

PAGES = ("client", "portfolio", "model", "constraints", "campaign")
TITLES = {
    "client": "Client advice",
    "portfolio": "Client portfolio",
    "model": "Model",
    "constraints": "Constraints",
    "campaign": "Campaign design",
}
CHOICE_KINDS = ("binary", "categorical", "ordinal")


def _serve(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Set the environment as ``levers app`` does: exactly these source variables."""
    for name in SOURCE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=["bank", "german", "synthetic"])
def case(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> SourceCase:
    """One bundle and its data, set in the environment as ``levers app`` sets them."""
    found: SourceCase = request.getfixturevalue(f"{request.param}_case")
    _serve(monkeypatch, found.env)
    return found


def _app() -> AppTest:
    return AppTest.from_file(ENTRY, default_timeout=120).run()


def _constraints(case: SourceCase) -> Any:
    text = load_bundle(case.bundle).constraint_text
    assert text is not None
    path = case.bundle / "constraints.yaml"
    assert path.read_text(encoding="utf-8") == text
    return load_constraints(path, case.clients)


def test_every_page_opens_on_the_bundle_and_names_the_source(case: SourceCase) -> None:
    app = _app()
    for page in PAGES:
        if page != "client":
            app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, page
        assert app.title[0].value == TITLES[page]
        assert not app.error, page
    app.switch_page("app_pages/portfolio.py").run()
    caption = app.caption[0].value
    assert case.bundle.name in caption
    assert str(case.data) in caption
    assert f"{len(case.clients):,} clients" in caption
    assert ("row numbers" in caption) == (case.id_column is None)
    assert "demo" not in caption.lower()
    app.segmented_control(key="language").set_value("fr").run()
    for page in PAGES:
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, page


def test_every_page_opens_on_caravan(
    caravan_case: SourceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """85 features: every page opens without an error, with a Portfolio filter per feature."""
    _serve(monkeypatch, caravan_case.env)
    app = _app()
    for page in PAGES:
        if page != "client":
            app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, page
        assert not app.error, page
        assert app.title[0].value == TITLES[page]
    app.switch_page("app_pages/portfolio.py").run()
    assert app.metric[0].value == f"{len(caravan_case.clients):,}"
    specs = _constraints(caravan_case).features
    assert len(app.multiselect) + len(app.slider) == len(specs)


def test_the_client_search_finds_a_client_by_its_id_and_shows_the_files_labels(
    case: SourceCase,
) -> None:
    app = _app()
    search = app.text_input(key="client_search")
    if case.id_column is None:
        assert search.label == f"Search a row number (1 to {len(case.clients):,})"
    else:
        assert search.label == f"Search a client id ({case.id_column})"
    client_id = str(case.clients.index[36])  # row 37, or its customer_ref
    search.input(client_id).run()
    assert not app.exception
    assert app.selectbox(key="client").value == client_id
    assert app.selectbox(key="client").options[0] == client_id
    profile = app.container(key="profile")
    assert profile.subheader[0].value == f"Profile · {client_id}"
    situation, habits = (frame.value for frame in profile.dataframe)
    specs = [s for s in _constraints(case).features if s.name in case.clients.columns]
    labels = {s.name: s.label.en for s in specs}
    expected_situation = [labels[s.name] for s in specs if s.role != "actionable"]
    expected_habits = [labels[s.name] for s in specs if s.role == "actionable"]
    assert situation["Feature"].tolist() == expected_situation
    assert habits["Feature"].tolist() == expected_habits
    # one categorical value, as the data holds it (underscores read as spaces)
    categorical = next(s for s in specs if s.kind == "categorical")
    shown = dict(
        zip(
            [*situation["Feature"], *habits["Feature"]],
            [*situation["Value"], *habits["Value"]],
            strict=True,
        )
    )
    raw = str(case.clients.loc[client_id, categorical.name]).replace("_", " ")
    assert shown[labels[categorical.name]] == raw


def test_portfolio_filters_come_from_the_features_and_count_the_clients(
    case: SourceCase,
) -> None:
    app = _app()
    app.switch_page("app_pages/portfolio.py").run()
    assert not app.exception
    specs = [s for s in _constraints(case).features if s.name in case.clients.columns]
    choices = [s for s in specs if s.kind in CHOICE_KINDS]
    numbers = [
        s for s in specs if s.kind not in CHOICE_KINDS and case.clients[s.name].nunique() > 1
    ]
    assert {w.key for w in app.multiselect} == {f"portfolio-filter-{s.name}" for s in choices}
    assert {w.key for w in app.slider} == {f"portfolio-filter-{s.name}" for s in numbers}
    assert app.metric[0].value == f"{len(case.clients):,}"
    table = app.dataframe[0].value
    assert table.columns.tolist()[0] == ("row" if case.id_column is None else "client")
    assert table.columns.tolist()[1:] == [s.label.en for s in specs]
    assert table.iloc[:, 0].tolist() == [str(i) for i in case.clients.index]

    category = next(s for s in choices if s.kind == "categorical")
    value = case.clients[category.name].value_counts().index[0]
    number = numbers[0]
    column = pd.to_numeric(case.clients[number.name])
    low, high = int(column.median()), int(column.max()) + 1
    if number.kind == "integer":
        high = int(column.max())
    app.multiselect(key=f"portfolio-filter-{category.name}").set_value([value]).run()
    app.slider(key=f"portfolio-filter-{number.name}").set_value((low, high)).run()
    assert not app.exception
    expected = (case.clients[category.name] == value) & column.between(low, high)
    assert 0 < expected.sum() < len(case.clients)
    assert app.metric[0].value == f"{int(expected.sum()):,}"
    shown = app.dataframe[0].value
    assert shown.iloc[:, 0].tolist() == [str(i) for i in case.clients.index[expected]]
    app.text_input(key="search").input(str(case.clients.index[expected][0])).run()
    assert str(case.clients.index[expected][0]) in app.dataframe[0].value.iloc[:, 0].tolist()


def _percents(text: str) -> list[float]:
    return [float(p) for p in re.findall(r"(\d+(?:\.\d+)?)%", text)]


def test_a_risk_model_says_the_levers_lower_the_score(
    german_case: SourceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, german_case.env)
    advisor = Advisor.from_bundle(load_bundle(german_case.bundle), german_case.clients)
    assert advisor.direction(advisor.products[0]) == "lower"
    client_id, advice = next(
        (i, a) for i in german_case.clients.index[:60] if (a := advisor.advise(i)).levers
    )
    assert all(lever.score_after < lever.score_before for lever in advice.levers)
    app = _app()
    app.text_input(key="client_search").input(client_id).run()
    assert not app.exception
    goal = next(c.value for c in app.caption if c.value.startswith("Risk score today"))
    assert _percents(goal) == [round(100 * advice.score, 1), round(100 * advice.goal, 1)]
    assert "levers bring it below" in goal
    assert any(s.value.startswith("Levers to lower the risk") for s in app.subheader)
    for lever in advice.levers:
        card = app.container(key=f"lever-{lever.rank}")
        moved = next(c.value for c in card.caption if c.value.startswith("Lowers the risk score"))
        before, after = _percents(moved)
        assert after < before
        assert (before, after) == (
            round(100 * lever.score_before, 1),
            round(100 * lever.score_after, 1),
        )
    app.segmented_control(key="language").set_value("fr").run()
    assert any(c.value.startswith("Score de risque actuel") for c in app.caption)
    card = app.container(key="lever-1")
    assert any(c.value.startswith("Baisse le score de risque") for c in card.caption)


def test_one_variable_alone_is_an_error_on_every_page(
    bank_bundle: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, {"LEVERS_BUNDLE": str(bank_bundle)})
    app = _app()
    assert not app.exception
    assert app.error[0].value == (
        "The app cannot open its bundle and data: LEVERS_DATA: must be set with LEVERS_BUNDLE "
        "(a bundle folder and its client data). Got it unset. Hint: set both, or neither for "
        "the demo (levers app --bundle DIR --data SOURCE sets both)."
    )
    assert not app.title


def test_data_that_does_not_match_the_bundle_lists_the_problems(
    bank_bundle: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "other.csv"
    pd.DataFrame({"age": [30, 40], "city": ["Lyon", "Porto"]}).to_csv(data, index=False)
    _serve(monkeypatch, {"LEVERS_BUNDLE": str(bank_bundle), "LEVERS_DATA": str(data)})
    app = _app()
    assert not app.exception
    assert app.error[0].value.startswith("The app cannot open its bundle and data: ")
    assert "problems in the constraint file" in app.error[0].value
    listed = app.code[0].value
    assert "features.job: must be a column of the data" in listed
    assert "features.age" not in listed  # the data has age


def test_the_campaign_page_runs_on_the_apps_source(case: SourceCase) -> None:
    from advisor.campaigns import Campaign

    cap = 20
    app = _app()
    app.switch_page("app_pages/campaign.py").run()
    app.number_input(key="campaign-cap").set_value(cap).run()
    app.radio(key="campaign-engine").set_value("search").run()
    app.button(key="campaign-run").click().run()
    assert not app.exception
    mask = [i < cap for i in range(len(case.clients))]
    campaign = Campaign.from_bundle(load_bundle(case.bundle), case.clients, engine="search")
    totals = campaign.run(case.clients, segment=mask).totals
    risk = case.name == "german"
    extra = "Expected bad outcomes avoided" if risk else "Expected extra sales"
    assert {m.label: m.value for m in app.metric} == {
        "Clients in the segment": f"{totals.n_segment:,}",
        "Coverage": f"{100 * totals.coverage:.1f}%",
        "Clients advised": f"{totals.n_advised:,}",
        extra: f"{totals.expected_extra_sales:,.1f}",
    }
    assert totals.n_advised > 0
    assert totals.expected_extra_sales > 0  # a risk campaign lowers the score: bad outcomes avoided


def test_a_client_with_a_missing_value_is_advised_and_shown(
    synthetic_case: SourceCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, synthetic_case.env)
    clients = synthetic_case.clients
    unknown = clients["income"].isna()
    assert 0.1 < unknown.mean() < 0.3  # the constraint file keeps them (missing: keep)
    client_id = str(clients.index[unknown][0])
    app = _app()
    app.text_input(key="client_search").input(client_id).run()
    assert not app.exception
    situation = app.container(key="profile").dataframe[0].value
    assert situation.set_index("Feature").loc["Monthly income", "Value"] == "missing"
    fixed = [w for w in app.text_input if w.label.startswith("Monthly income")]
    assert [(w.value, w.disabled) for w in fixed] == [("missing", True)]  # what-if: not editable
    advice = Advisor.from_bundle(load_bundle(synthetic_case.bundle), clients).advise(client_id)
    for lever in advice.levers:  # a lever never "changes" the missing income
        assert "income" not in {a.feature for a in lever.actions}
    app.switch_page("app_pages/portfolio.py").run()
    assert app.metric[0].value == f"{len(clients):,}"  # the full range keeps them
    slider = app.slider(key="portfolio-filter-income")
    low, high = slider.min + slider.step, slider.max
    slider.set_value((low, high)).run()
    expected = clients["income"].between(low, high)
    assert expected.sum() < (~unknown).sum()
    assert app.metric[0].value == f"{int(expected.sum()):,}"  # filtered: they leave
    app.switch_page("app_pages/constraints.py").run()
    rules = app.dataframe[0].value.set_index("feature")
    assert rules.loc["income", "if missing"] == "keep"  # the file's missing: keep, shown


def test_the_clients_can_come_from_a_sqlite_table(
    bank_case: SourceCase, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    database = tmp_path / "bank.db"
    with sqlite3.connect(database) as connection:
        pd.read_csv(bank_case.data).to_sql("clients", connection, index=False)
    url = f"sqlite:///{database}?table=clients"
    _serve(monkeypatch, {"LEVERS_BUNDLE": str(bank_case.bundle), "LEVERS_DATA": url})
    app = _app()
    assert not app.exception
    assert url in app.caption[0].value
    app.text_input(key="client_search").input("4000").run()
    assert app.selectbox(key="client").value == "4000"
    app.switch_page("app_pages/portfolio.py").run()
    assert not app.exception
    assert app.metric[0].value == f"{len(bank_case.clients):,}"
