"""Portfolio views: settings from the environment, generic filters, rates and holdings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.errors import AdvisorError
from advisor.portfolio import (
    ClientFilter,
    DemoSettings,
    filter_clients,
    holdings_summary,
    load_demo_portfolio,
    observed_rate,
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


def _by_hand(clients: pd.DataFrame, query: ClientFilter) -> list[Any]:
    """The oracle: each row checked on its own, in plain Python."""
    kept = []
    for client_id, row in clients.iterrows():
        if query.search.strip() and query.search.strip().lower() not in str(client_id).lower():
            continue
        if any(values and row[n] not in values for n, values in query.choices.items()):
            continue
        if any(
            pd.isna(row[n]) or not low <= float(row[n]) <= high
            for n, (low, high) in query.ranges.items()
        ):
            continue
        kept.append(client_id)
    return kept


def test_filters_on_any_columns_combine(small_portfolio: pd.DataFrame) -> None:
    clients = small_portfolio.set_index("client_id", drop=False)
    query = ClientFilter(
        choices={"region": ("north", "south"), "occupation": ("retired",)},
        ranges={"age": (60, 90)},
    )
    selected = filter_clients(clients, query)
    assert len(selected) > 0
    assert selected.index.tolist() == _by_hand(clients, query)
    assert len(filter_clients(clients, ClientFilter())) == len(clients)
    found = filter_clients(clients, ClientFilter(search="c0000042"))
    assert found.index.tolist() == ["C0000042"]
    # an empty choice does not filter
    assert len(filter_clients(clients, ClientFilter(choices={"region": ()}))) == len(clients)


def test_a_missing_value_leaves_the_selection_only_when_its_feature_is_filtered() -> None:
    clients = pd.DataFrame(
        {"income": [1_000.0, math.nan, 3_000.0], "city": ["Lyon", None, "Porto"]},
        index=["1", "2", "3"],
    )
    assert filter_clients(clients, ClientFilter(ranges={"income": (0, 5_000)})).index.tolist() == [
        "1",
        "3",
    ]
    assert filter_clients(clients, ClientFilter(choices={"city": ("Lyon",)})).index.tolist() == [
        "1"
    ]
    assert len(filter_clients(clients, ClientFilter(search="2"))) == 1


_frames = st.integers(min_value=0, max_value=30).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "grade": st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n),
            "amount": st.lists(st.one_of(st.none(), st.integers(-50, 50)), min_size=n, max_size=n),
        }
    )
)


@settings(max_examples=60, deadline=None)
@given(
    columns=_frames,
    grades=st.sets(st.sampled_from(["a", "b", "c"])),
    bounds=st.tuples(st.integers(-60, 60), st.integers(-60, 60)).map(sorted),
    search=st.sampled_from(["", "1", "2", "x"]),
)
def test_filter_clients_matches_a_row_by_row_check(
    columns: dict[str, list[Any]], grades: set[str], bounds: list[int], search: str
) -> None:
    n = len(columns["grade"])
    clients = pd.DataFrame(
        {"grade": columns["grade"], "amount": pd.array(columns["amount"], dtype="Float64")},
        index=[str(i + 1) for i in range(n)],
    )
    query = ClientFilter(
        search=search,
        choices={"grade": tuple(sorted(grades))},
        ranges={"amount": (bounds[0], bounds[1])},
    )
    assert filter_clients(clients, query).index.tolist() == _by_hand(clients, query)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"ranges": {"age": (50, 40)}},
            r"^ClientFilter\.ranges\['age'\]: low must not exceed high\. Got \(50, 40\)\.$",
        ),
        (
            {"ranges": {"age": (0, math.inf)}},
            r"^ClientFilter\.ranges\['age'\]: bounds must be finite\. Got inf\.$",
        ),
        (
            {"ranges": {"age": 5}},
            r"^ClientFilter\.ranges\['age'\]: must be a \(low, high\) pair\. Got 5\.$",
        ),
        (
            {"choices": {"job": "admin"}},
            r"^ClientFilter\.choices\['job'\]: must be a list of values\. Got 'admin'\.$",
        ),
        ({"search": 3}, r"^ClientFilter\.search: must be a string\. Got 3\.$"),
    ],
)
def test_bad_filters_are_explained(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(AdvisorError, match=message):
        ClientFilter(**kwargs)


def test_a_feature_the_clients_lack_is_named() -> None:
    clients = pd.DataFrame({"age": [30]}, index=["1"])
    with pytest.raises(
        AdvisorError,
        match=r"^ClientFilter: every feature must be a column of the clients\. Got 'job'\. ",
    ):
        filter_clients(clients, ClientFilter(choices={"job": ("admin",)}))


def test_observed_rate_counts_the_positive_class() -> None:
    clients = pd.DataFrame({"y": ["yes", "no", None, "yes"], "flag": [1, 0, 0, 0]})
    assert observed_rate(clients, "y", "yes") == 0.5
    assert observed_rate(clients, "flag", 1) == 0.25
    assert observed_rate(clients, "flag", "1") == 0.25  # a class the card keeps as text
    assert observed_rate(clients, "absent", "yes") is None
    assert observed_rate(clients.head(0), "y", "yes") is None


def test_holdings_summary_follows_the_recommenders_catalogue(demo_advisor: Any) -> None:
    clients = demo_advisor.reference
    summary = holdings_summary(clients, demo_advisor).set_index("product")
    assert summary.index.tolist() == list(demo_advisor.products)
    for product in demo_advisor.products:
        info = demo_advisor.product(product)
        assert summary.loc[product, "held"] == pytest.approx(clients[info.held].mean())
        assert summary.loc[product, "taken"] == pytest.approx(clients[info.target].mean())
        assert summary.loc[product, "label_fr"] == demo_advisor.product_label(product, "fr")
    empty = holdings_summary(clients.head(0), demo_advisor)
    assert np.isnan(empty["held"].to_numpy()).all()
    without_targets = clients.drop(columns=[demo_advisor.product(p).target for p in summary.index])
    assert holdings_summary(without_targets, demo_advisor)["taken"].isna().all()
