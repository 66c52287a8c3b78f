"""The app shows every feature value in the constraint file's ``format``, widgets included.

A bundle is trained here from a bank's own file whose constraint file gives a ``percent``
ratio (card utilisation, 0 to 1), a ``currency`` amount (savings in €, with cents) and an
``integer`` count kept as a continuous number (branch visits, 3.41 a month). The oracles are
the client data read with pandas and the bundle's model scoring a row changed in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from advisor.models import load_bundle
from tests.app.conftest import ENTRY, SOURCE_VARIABLES

NNBSP = "\u202f"  # the narrow space before % (and between thousands in French)

FORMATTED_CONSTRAINTS = """\
version: 1
name: formatted-bank
max_changes: 2
features:
  age:
    kind: integer
    role: immutable
    unit: years
    label: {en: Age, fr: Âge}
  utilisation:
    kind: continuous
    role: actionable
    min: 0
    max: 1
    format: percent
    cost: {per_unit: 2}
    label: {en: Card utilisation, fr: Utilisation de la carte}
  savings:
    kind: continuous
    role: actionable
    direction: increase
    min: 0
    max: p99
    format: currency
    unit: €
    cost: {per_unit: 0.0005}
    label: {en: Savings balance, fr: Solde d'épargne}
  visits:
    kind: continuous
    role: actionable
    min: 0
    max: 20
    format: integer
    cost: {per_unit: 0.5}
    label: {en: Branch visits a month, fr: Visites en agence par mois}
  plan:
    kind: categorical
    categories: [basic, plus, premium]
    role: immutable
    label: {en: Account plan, fr: Formule de compte}
"""


def formatted_clients(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    utilisation = rng.beta(2.0, 3.0, n).round(4)
    savings = rng.gamma(2.0, 2_000.0, n).round(2)
    visits = rng.gamma(2.0, 1.7, n).round(2)
    plan = rng.choice(["basic", "plus", "premium"], n)
    logit = -0.5 - 3.0 * utilisation + 0.0002 * savings + 0.2 * visits
    subscribed = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return pd.DataFrame(
        {
            "customer_ref": [f"CR-{i:05d}" for i in range(1, n + 1)],
            "age": rng.integers(18, 80, n),
            "utilisation": utilisation,
            "savings": savings,
            "visits": visits,
            "plan": plan,
            "subscribed": subscribed,
        }
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Formatted:
    bundle: Path
    data: Path
    clients: pd.DataFrame  # indexed by customer_ref, as the app indexes them


@pytest.fixture(scope="module")
def formatted(tmp_path_factory: pytest.TempPathFactory) -> Formatted:
    from advisor.models import save_bundle, train

    folder = tmp_path_factory.mktemp("formatted-bank")
    data, rules = folder / "clients.csv", folder / "constraints.yaml"
    formatted_clients().to_csv(data, index=False)
    rules.write_text(FORMATTED_CONSTRAINTS, encoding="utf-8")
    clients = pd.read_csv(data)
    result = train(
        clients, "subscribed", rules, families=("logistic",), n_trials=1, budget_s=None, n_folds=2
    )
    bundle = save_bundle(result, folder / "bundle")
    return Formatted(
        bundle=bundle, data=data, clients=clients.set_index("customer_ref", drop=False)
    )


@pytest.fixture
def app(formatted: Formatted, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    for name in SOURCE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEVERS_BUNDLE", str(formatted.bundle))
    monkeypatch.setenv("LEVERS_DATA", str(formatted.data))
    monkeypatch.setenv("LEVERS_ID_COLUMN", "customer_ref")
    found = AppTest.from_file(ENTRY, default_timeout=120).run()
    assert not found.exception
    return found


# ---------------------------------------------------------------- oracles, from the values
def percent_of(shown: str, language: str = "en") -> float:
    """The number of a ``40.6 %`` text (French ``40,6 %``); fails on anything else."""
    match = re.fullmatch(rf"(\d+(?:[.,]\d)?){NNBSP}%", shown)
    assert match, shown
    return float(match.group(1).replace(",", ".") if language == "fr" else match.group(1))


def currency(value: float) -> str:
    whole = abs(value - round(value)) < 0.005
    return (f"{value:,.0f}" if whole else f"{value:,.2f}") + " €"


def check_formatted(name: str, value: float, shown: str) -> None:
    if name == "utilisation":
        assert percent_of(shown) == round(100 * value, 1), (value, shown)
    elif name == "savings":
        assert shown == currency(value)
    elif name == "visits":
        assert shown == f"{round(value):,}"


def product_of(formatted: Formatted) -> str:
    from advisor.levers import Advisor

    return Advisor.from_bundle(load_bundle(formatted.bundle), formatted.clients).products[0]


def pick_client(clients: pd.DataFrame) -> str:
    """A client whose utilisation has a second decimal in points and savings have cents."""
    cents = (clients["savings"] * 100 % 100).round() != 0
    fine = (clients["utilisation"] * 1000 % 1).round(6) != 0
    return str(clients.index[cents & fine & (clients["utilisation"] > 0.3)][0])


# ---------------------------------------------------------------- the client page
def test_the_profile_and_the_what_if_widgets_show_the_files_formats(
    app: AppTest, formatted: Formatted
) -> None:
    client_id = pick_client(formatted.clients)
    row = formatted.clients.loc[client_id].to_dict()
    app.text_input(key="client_search").input(client_id).run()
    assert not app.exception
    assert app.selectbox(key="client").value == client_id
    situation, habits = (frame.value for frame in app.container(key="profile").dataframe)
    shown = dict(zip(habits["Feature"], habits["Value"], strict=True))
    check_formatted("utilisation", float(row["utilisation"]), shown["Card utilisation"])
    check_formatted("savings", float(row["savings"]), shown["Savings balance"])
    check_formatted("visits", float(row["visits"]), shown["Branch visits a month"])
    assert "." in shown["Savings balance"]  # cents shown
    assert "." not in shown["Branch visits a month"]
    age = situation.set_index("Feature").loc["Age", "Value"]
    assert age == f"{row['age']} years"

    product = product_of(formatted)
    prefix = f"whatif-{client_id}-{product}-"
    ratio = app.slider(key=prefix + "utilisation")
    assert ratio.label == "Card utilisation (%)"
    assert (ratio.min, ratio.max, ratio.step) == (0.0, 100.0, 0.1)
    assert ratio.value == round(100 * row["utilisation"], 1)
    assert ratio.proto.format == "%.1f %%"
    money = app.slider(key=prefix + "savings")
    assert money.label == "Savings balance (€)"
    assert money.proto.format in ("%.0f", "%.2f")
    assert money.value == round(row["savings"], money.proto.format.count("2") * 2)
    count = app.slider(key=prefix + "visits")
    assert count.label == "Branch visits a month"
    assert count.proto.format == "%.0f"
    assert (count.value, count.step) == (round(row["visits"]), 1.0)


def test_moving_the_percent_slider_gives_the_model_the_ratio_shown(
    app: AppTest, formatted: Formatted
) -> None:
    client_id = pick_client(formatted.clients)
    app.text_input(key="client_search").input(client_id).run()
    bundle = load_bundle(formatted.bundle)
    product = product_of(formatted)
    before = next(m for m in app.metric if m.label == "Score with these changes").value
    app.slider(key=f"whatif-{client_id}-{product}-utilisation").set_value(25.3).run()
    assert not app.exception
    row = formatted.clients.loc[[client_id]].drop(columns="subscribed")
    oracle = float(bundle.model.score(row.assign(utilisation=0.253))[0])
    wrong = float(bundle.model.score(row.assign(utilisation=0.2530001 * 100))[0])
    score = next(m for m in app.metric if m.label == "Score with these changes").value
    assert score != before
    assert score == f"{100 * oracle:.1f}%"
    assert score != f"{100 * wrong:.1f}%"  # the points were turned back into a ratio
    (edits,) = [str(m.value) for m in app.markdown if f"25.3{NNBSP}%" in str(m.value)]
    # one edit: untouched, the other sliders give back the client's exact values
    assert edits.startswith("- ")
    assert "\n" not in edits


def test_the_lever_changes_are_shown_in_the_files_formats(
    app: AppTest, formatted: Formatted
) -> None:
    from advisor.levers import Advisor

    advisor = Advisor.from_bundle(load_bundle(formatted.bundle), formatted.clients)
    found = [(str(i), advisor.advise(i)) for i in formatted.clients.index[:40]]
    client_id, advice = next((i, a) for i, a in found if a.levers)
    app.text_input(key="client_search").input(client_id).run()
    assert not app.exception
    changes = app.container(key="lever-1").dataframe[0].value
    labels = {"Card utilisation": "utilisation", "Savings balance": "savings"}
    labels["Branch visits a month"] = "visits"
    for action in advice.levers[0].actions:
        line = changes.loc[changes["Feature"] == action.label["en"]].iloc[0]
        name = labels[action.label["en"]]
        check_formatted(name, float(action.before), line["Before"])
        check_formatted(name, float(action.after), line["After"])


def test_french_says_the_same_values_with_a_decimal_comma(
    app: AppTest, formatted: Formatted
) -> None:
    client_id = pick_client(formatted.clients)
    row = formatted.clients.loc[client_id].to_dict()
    app.segmented_control(key="language").set_value("fr").run()
    app.text_input(key="client_search").input(client_id).run()
    assert not app.exception
    habits = app.container(key="profile").dataframe[1].value
    shown = dict(zip(habits.iloc[:, 0], habits.iloc[:, 1], strict=True))
    assert percent_of(shown["Utilisation de la carte"], "fr") == round(100 * row["utilisation"], 1)
    expected = f"{row['savings']:,.2f}".replace(",", NNBSP).replace(".", ",") + " €"
    assert shown["Solde d'épargne"] == expected
    situation = app.container(key="profile").dataframe[0].value
    assert situation.set_index(situation.columns[0]).loc["Âge"].iloc[0] == f"{row['age']} ans"


# ---------------------------------------------------------------- the portfolio page
def test_the_portfolio_table_kpis_and_range_slider_use_the_formats(
    app: AppTest, formatted: Formatted
) -> None:
    clients = formatted.clients
    app.switch_page("app_pages/portfolio.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    for label, name in (
        ("Card utilisation", "utilisation"),
        ("Savings balance", "savings"),
        ("Branch visits a month", "visits"),
    ):
        for value, shown in zip(clients[name], table[label], strict=True):
            check_formatted(name, value, shown)
    assert table["Age"].tolist() == clients["age"].tolist()  # no format: numbers, sortable
    median = next(m for m in app.metric if m.label.endswith("Card utilisation"))
    assert percent_of(median.value) == round(100 * clients["utilisation"].median(), 1)

    slider = app.slider(key="portfolio-filter-utilisation")
    assert slider.label == "Card utilisation (%)"
    assert slider.proto.format == "%.1f %%"
    assert slider.min <= 100 * clients["utilisation"].min() <= slider.min + slider.step
    assert slider.max >= 100 * clients["utilisation"].max() >= slider.max - slider.step
    slider.set_value((20.0, 50.0)).run()
    assert not app.exception
    expected = clients["utilisation"].between(0.2, 0.5)
    assert 0 < expected.sum() < len(clients)
    assert app.metric[0].value == f"{int(expected.sum()):,}"
    shown = app.dataframe[0].value
    assert shown.iloc[:, 0].tolist() == clients.index[expected].tolist()
    money = app.slider(key="portfolio-filter-savings")
    assert money.label == "Savings balance (€)"
    assert money.proto.format == "%.0f"


def test_the_campaign_segment_slider_uses_the_percent_format(
    app: AppTest, formatted: Formatted
) -> None:
    app.switch_page("app_pages/campaign.py").run()
    app.multiselect(key="campaign-filters").set_value(["utilisation"]).run()
    assert not app.exception
    slider = app.slider(key="campaign-filter-utilisation")
    assert slider.proto.format == "%.1f %%"
    assert slider.label == "Card utilisation (%)"
    assert slider.max <= 100.0
    slider.set_value((20.0, 50.0)).run()
    assert not app.exception
    expected = int(formatted.clients["utilisation"].between(0.2, 0.5).sum())
    assert any(f"{expected:,} " in c.value for c in app.caption)
