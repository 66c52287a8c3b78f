"""The demo portfolio's structural causal model: rates, reproducibility, interventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.datasets import (
    CAUSAL_GRAPH,
    PRODUCTS,
    DemoPortfolioSCM,
    demo_portfolio_info,
    descendants,
    intervene,
    make_demo_portfolio,
    true_propensity,
)
from advisor.errors import DatasetError

N = 20_000


@pytest.fixture(scope="module")
def portfolio() -> pd.DataFrame:
    return make_demo_portfolio(n_clients=N, seed=0)


# Every observed column a caller may intervene on, with a value that differs for most clients.
INTERVENTIONS: dict[str, object] = {
    "age": 30,
    "region": "capital",
    "household": "couple",
    "children": 2,
    "occupation": "executive",
    "tenure_years": 5,
    "monthly_income": 4_000.0,
    "has_savings_account": True,
    "has_life_insurance": True,
    "has_securities_account": True,
    "has_home_loan": True,
    "has_consumer_loan": True,
    "has_premium_card": True,
    "has_home_insurance": True,
    "has_protection_insurance": True,
    "savings_balance": 25_000.0,
    "debt_ratio": 0.3,
    "salary_domiciled": True,
    "mobile_app": True,
    "digital_logins_per_month": 20,
    "monthly_savings_transfer": 150.0,
    "advisor_meetings_per_year": 6,
    "current_balance": 3_000.0,
    "card_spend_monthly": 900.0,
    "overdraft_days_per_month": 0,
}


def test_columns_and_kinds_match_the_description(portfolio: pd.DataFrame) -> None:
    info = demo_portfolio_info()
    assert list(portfolio.columns) == list(info.columns)
    assert portfolio["client_id"].is_unique
    for name, column in info.columns.items():
        dtype = portfolio[name].dtype
        expected = {
            "binary": pd.api.types.is_bool_dtype,
            "integer": pd.api.types.is_integer_dtype,
            "continuous": pd.api.types.is_float_dtype,
            "categorical": lambda d: isinstance(d, pd.CategoricalDtype),
            "identifier": pd.api.types.is_string_dtype,
        }[column.kind]
        assert expected(dtype), f"{name}: {dtype} is not {column.kind}"
    assert not portfolio.isna().any().any()


def test_domains_are_plausible(portfolio: pd.DataFrame) -> None:
    assert portfolio["age"].between(18, 90).all()
    assert portfolio["age"].min() == 18
    assert portfolio["age"].max() >= 85
    assert (portfolio["tenure_years"] <= portfolio["age"] - 18).all()
    assert (portfolio["monthly_income"] > 0).all()
    assert 1_800 < portfolio["monthly_income"].median() < 3_200
    assert portfolio["debt_ratio"].between(0, 1).all()
    assert portfolio["overdraft_days_per_month"].between(0, 31).all()
    assert (portfolio.loc[portfolio["age"] >= 70, "occupation"] == "retired").mean() > 0.9
    held = portfolio[[f"has_{p}" for p in PRODUCTS]].sum(axis=1)
    assert (held == portfolio["n_products"]).all()
    assert (portfolio["monthly_savings_transfer"] % 10 == 0).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_take_up_rates_are_between_2_and_20_percent(seed: int) -> None:
    clients = make_demo_portfolio(n_clients=N, seed=seed)
    for product in PRODUCTS:
        rate = clients[f"take_{product}"].mean()
        assert 0.02 <= rate <= 0.20, f"{product}: {rate:.3f}"


def test_nobody_takes_a_product_already_held(portfolio: pd.DataFrame) -> None:
    for product in PRODUCTS:
        held = portfolio[f"has_{product}"]
        assert not (held & portfolio[f"take_{product}"]).any()
        assert (true_propensity(portfolio, product)[held.to_numpy()] == 0).all()


def test_labels_follow_the_true_propensity(portfolio: pd.DataFrame) -> None:
    for product in PRODUCTS:
        p = true_propensity(portfolio, product)
        assert ((p >= 0) & (p <= 1)).all()
        labels = portfolio[f"take_{product}"].to_numpy()
        # Observed rate within 4 standard errors of the mean true propensity.
        se = np.sqrt((p * (1 - p)).sum()) / len(p)
        assert abs(labels.mean() - p.mean()) < 4 * se, product
        high, low = p >= np.quantile(p, 0.9), p <= np.quantile(p, 0.5)
        assert labels[high].mean() > 3 * labels[low].mean(), product


def test_all_propensities_at_once_match_one_by_one(portfolio: pd.DataFrame) -> None:
    clients = portfolio.iloc[100:400]
    table = DemoPortfolioSCM(seed=0).true_propensities(clients)
    assert list(table.columns) == list(PRODUCTS)
    assert table.index.equals(clients.index)
    for product in PRODUCTS:
        np.testing.assert_array_equal(table[product], true_propensity(clients, product))


def test_same_seed_gives_the_same_clients_bit_for_bit() -> None:
    pd.testing.assert_frame_equal(make_demo_portfolio(3_000, seed=7), make_demo_portfolio(3_000, 7))


def test_other_seed_gives_other_clients() -> None:
    a, b = make_demo_portfolio(3_000, seed=0), make_demo_portfolio(3_000, seed=1)
    assert (a["age"] != b["age"]).mean() > 0.9


def test_a_sample_is_a_prefix_of_any_larger_sample() -> None:
    small, large = make_demo_portfolio(500, seed=3), make_demo_portfolio(5_000, seed=3)
    pd.testing.assert_frame_equal(small, large.head(500))


@pytest.mark.parametrize("feature", sorted(INTERVENTIONS))
def test_intervention_changes_descendants_only(portfolio: pd.DataFrame, feature: str) -> None:
    clients = portfolio.head(4_000)
    value = INTERVENTIONS[feature]
    if feature == "tenure_years":  # must stay <= age - 18
        clients = clients[clients["age"] >= 23]
    after = intervene(clients, {feature: value})
    assert (after[feature] == value).all()
    downstream = descendants({feature})
    changed = {c for c in clients.columns if not clients[c].equals(after[c])} - {feature}
    assert changed <= downstream, f"non-descendants changed: {changed - downstream}"
    if downstream and (clients[feature] != value).mean() > 0.2:
        assert changed, f"do({feature}) changed no descendant"
    untouched = [c for c in clients.columns if c not in downstream | {feature}]
    pd.testing.assert_frame_equal(clients[untouched], after[untouched])


def test_graph_is_acyclic_and_descendants_are_transitive() -> None:
    order = list(CAUSAL_GRAPH)
    for node, parents in CAUSAL_GRAPH.items():
        assert all(order.index(p) < order.index(node) for p in parents), node
    assert "savings_balance" not in descendants({"monthly_savings_transfer"})
    assert {"overdraft_days_per_month", "take_consumer_loan"} <= descendants({"salary_domiciled"})
    # Levers act on behaviour and take-up, never on today's holdings (which are history).
    for lever in ("salary_domiciled", "mobile_app", "monthly_savings_transfer"):
        assert not any(d.startswith("has_") for d in descendants({lever})), lever


def test_lever_raises_the_true_propensity(portfolio: pd.DataFrame) -> None:
    clients = portfolio[~portfolio["salary_domiciled"] & ~portfolio["has_home_loan"]].head(2_000)
    before = true_propensity(clients, "home_loan")
    after = true_propensity(intervene(clients, {"salary_domiciled": True}), "home_loan")
    assert (after >= before).all()
    assert after.mean() > 1.5 * before.mean()


def test_intervention_leaves_its_input_untouched(portfolio: pd.DataFrame) -> None:
    clients = portfolio.head(100).copy()
    snapshot = clients.copy()
    intervene(clients, {"mobile_app": True})
    pd.testing.assert_frame_equal(clients, snapshot)


def test_per_client_values_and_subsets_and_order(portfolio: pd.DataFrame) -> None:
    clients = portfolio.iloc[[40, 3, 17, 3]]  # any subset, any order, repeated rows
    amounts = np.array([100.0, 0.0, 250.0, 500.0])
    after = intervene(clients, {"monthly_savings_transfer": amounts})
    assert after["monthly_savings_transfer"].tolist() == amounts.tolist()
    assert list(after.index) == list(clients.index)
    alone = intervene(portfolio.iloc[[17]], {"monthly_savings_transfer": 250.0})
    pd.testing.assert_frame_equal(after.iloc[[2]], alone)


def test_interventions_compose(portfolio: pd.DataFrame) -> None:
    clients = portfolio.head(1_000)
    both = intervene(clients, {"mobile_app": True, "salary_domiciled": True})
    chained = intervene(intervene(clients, {"mobile_app": True}), {"salary_domiciled": True})
    pd.testing.assert_frame_equal(both, chained)


def test_a_later_intervention_recomputes_an_earlier_descendant(portfolio: pd.DataFrame) -> None:
    # monthly_savings_transfer descends from salary_domiciled: the joint call keeps both values,
    # the chained call recomputes the transfer (documented in docs/demo-portfolio.md).
    clients = portfolio[~portfolio["salary_domiciled"]].head(500)
    changes = {"monthly_savings_transfer": 300.0, "salary_domiciled": True}
    joint = intervene(clients, changes)
    assert (joint["monthly_savings_transfer"] == 300.0).all()
    chained = intervene(
        intervene(clients, {"monthly_savings_transfer": 300.0}), {"salary_domiciled": True}
    )
    assert (chained["monthly_savings_transfer"] != 300.0).any()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    rows=st.lists(st.integers(0, 299), min_size=1, max_size=20),
    feature=st.sampled_from(sorted(INTERVENTIONS)),
)
def test_setting_observed_values_is_the_identity(seed: int, rows: list[int], feature: str) -> None:
    clients = make_demo_portfolio(300, seed=seed).iloc[rows]
    scm = DemoPortfolioSCM(seed=seed)
    pd.testing.assert_frame_equal(scm.intervene(clients, {feature: clients[feature]}), clients)


def test_wrong_seed_is_detected(portfolio: pd.DataFrame) -> None:
    with pytest.raises(
        DatasetError, match=r"^clients: must come from the demo portfolio with seed=5"
    ):
        intervene(portfolio.head(50), {"mobile_app": True}, seed=5)


def test_caller_columns_travel_unchanged(portfolio: pd.DataFrame) -> None:
    clients = portfolio.head(10).assign(score=np.arange(10.0))
    after = intervene(clients, {"advisor_meetings_per_year": 4})
    assert list(after.columns) == list(clients.columns)
    assert after["score"].tolist() == list(np.arange(10.0))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"age_years": 40}, r"^changes: keys must be demo-portfolio features\. Got 'age_years'\."),
        ({"take_home_loan": True}, r"^changes\.take_home_loan: must not be a 12-month take-up"),
        ({"sex": "male"}, r"^changes\.sex: is a protected attribute"),
        ({"n_products": 3}, r"^changes\.n_products: is derived from the has_\* holdings"),
        ({"region": "paris"}, r"^changes\.region: must be one of capital, north, east, south"),
        ({"children": 1.5}, r"^changes\.children: must be a whole number in \[0, 10\]\. Got 1\.5"),
        (
            {"monthly_savings_transfer": -50},
            r"^changes\.monthly_savings_transfer: must be a number",
        ),
        (
            {"mobile_app": "maybe"},
            r"^changes\.mobile_app: must be true or false \(or 1/0\)\. Got 'maybe'\.$",
        ),
        ({"tenure_years": 80}, r"^changes\.tenure_years: must be a whole number in \[0, 72\]"),
        ({"age": [30, 40]}, r"^changes\.age: must be one value, or one value per client \(5\)"),
        ({"age": 18, "tenure_years": 3}, r"^changes\.tenure_years: must be at most age - 18"),
    ],
)
def test_bad_interventions_are_explained(
    portfolio: pd.DataFrame, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(DatasetError, match=message):
        intervene(portfolio.head(5), changes)


def test_bad_inputs_are_explained(portfolio: pd.DataFrame) -> None:
    with pytest.raises(DatasetError, match=r"^n_clients: must be between 1 and"):
        make_demo_portfolio(0)
    with pytest.raises(DatasetError, match=r"^seed: must be an integer in \[0, 2\*\*63\)\. Got -1"):
        make_demo_portfolio(10, seed=-1)
    with pytest.raises(DatasetError, match=r"^product: must be one of savings_account"):
        true_propensity(portfolio, "car_loan")
    with pytest.raises(DatasetError, match=r"^clients: must hold every demo-portfolio feature\. "):
        true_propensity(portfolio.drop(columns=["mobile_app"]), "home_loan")
    with pytest.raises(DatasetError, match=r"^clients\.client_id: must look like 'C0000042'"):
        intervene(portfolio.head(3).assign(client_id="X1"), {"mobile_app": True})
    with pytest.raises(
        DatasetError, match=r"^clients\.age: must be a whole number in \[18, 90\]\. Got 17\.$"
    ):
        true_propensity(portfolio.head(3).assign(age=17), "home_loan")
    with pytest.raises(DatasetError, match=r"^clients\.mobile_app: must be true or false"):
        true_propensity(portfolio.head(3).assign(mobile_app="often"), "home_loan")
    with pytest.raises(DatasetError, match=r"^clients\.region: must be one of capital"):
        intervene(portfolio.head(3).astype({"region": str}).assign(region="mars"), {"age": 40})


def test_csv_round_trip_keeps_the_scm_usable(portfolio: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    portfolio.head(200).to_csv(path, index=False)
    reread = pd.read_csv(path)
    expected = true_propensity(portfolio.head(200), "premium_card")
    np.testing.assert_array_equal(true_propensity(reread, "premium_card"), expected)


def test_documented_graph_matches_the_code() -> None:
    from advisor.datasets import causal_graph_dot

    committed = Path(__file__).resolve().parents[2] / "docs" / "img" / "demo-causal-graph.dot"
    assert committed.read_text(encoding="utf-8") == causal_graph_dot(), (
        "docs/img/demo-causal-graph.dot is stale: regenerate it (docs/demo-portfolio.md)"
    )
