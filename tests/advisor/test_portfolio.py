"""Portfolio views: settings from the environment, filters, holding summaries."""

from __future__ import annotations

import pandas as pd
import pytest

from advisor.datasets import PRODUCTS
from advisor.errors import AdvisorError
from advisor.portfolio import (
    ClientFilter,
    DemoSettings,
    filter_clients,
    holdings_summary,
    load_demo_portfolio,
    portfolio_overview,
)


def test_settings_from_the_environment() -> None:
    assert DemoSettings.from_env({}) == DemoSettings(n_clients=20_000, seed=0)
    settings = DemoSettings.from_env({"LEVERS_DEMO_CLIENTS": "5_000", "LEVERS_DEMO_SEED": "3"})
    assert settings == DemoSettings(n_clients=5_000, seed=3)
    with pytest.raises(
        AdvisorError, match=r"^LEVERS_DEMO_CLIENTS: must be a whole number\. Got 'lots'\.$"
    ):
        DemoSettings.from_env({"LEVERS_DEMO_CLIENTS": "lots"})


def test_load_demo_portfolio_follows_the_settings() -> None:
    clients = load_demo_portfolio(DemoSettings(n_clients=300, seed=2))
    assert len(clients) == 300


def test_filters_combine(small_portfolio: pd.DataFrame) -> None:
    query = ClientFilter(regions=("north", "south"), occupations=("retired",), age_range=(60, 90))
    selected = filter_clients(small_portfolio, query)
    assert len(selected) > 0
    assert selected["region"].isin(["north", "south"]).all()
    assert (selected["occupation"] == "retired").all()
    assert selected["age"].between(60, 90).all()
    assert len(filter_clients(small_portfolio, ClientFilter())) == len(small_portfolio)
    found = filter_clients(small_portfolio, ClientFilter(search="c0000042"))
    assert found["client_id"].tolist() == ["C0000042"]


def test_bad_age_range_is_explained() -> None:
    with pytest.raises(AdvisorError, match=r"^ClientFilter\.age_range: must satisfy 18 <= low"):
        ClientFilter(age_range=(50, 40))


def test_holdings_summary_and_overview(small_portfolio: pd.DataFrame) -> None:
    summary = holdings_summary(small_portfolio)
    assert summary["product"].tolist() == list(PRODUCTS)
    held = small_portfolio["has_home_loan"].mean()
    assert summary.set_index("product").loc["home_loan", "held"] == pytest.approx(held)
    shares = summary[["held", "taken_next_12m"]].to_numpy()
    assert ((shares >= 0) & (shares <= 1)).all()
    overview = portfolio_overview(small_portfolio)
    assert overview["clients"] == len(small_portfolio)
    assert portfolio_overview(small_portfolio.head(0))["clients"] == 0
    assert (holdings_summary(small_portfolio.head(0))["held"] == 0).all()
