"""Next-best product: held products never recommended, ranking by expected value, bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.errors import ModelError
from advisor.models import (
    ProductCatalog,
    RecommenderTraining,
    load_bundle,
    load_product_catalog,
    save_bundle,
    train_recommender,
)
from constraints import ConstraintSet
from tests.conftest import REPO_ROOT

CATALOG = REPO_ROOT / "configs" / "catalogs" / "demo-products.yaml"


@pytest.fixture(scope="module")
def training(model_clients: pd.DataFrame, model_constraints: ConstraintSet) -> RecommenderTraining:
    catalog = load_product_catalog(CATALOG)
    small = ProductCatalog(
        name="three products",
        products={
            k: catalog.products[k] for k in ("savings_account", "life_insurance", "home_insurance")
        },
    )
    return train_recommender(
        model_clients,
        small,
        model_constraints,
        families=("logistic",),
        n_trials=1,
        budget_s=None,
        n_folds=3,
    )


def test_the_demo_catalogue_matches_the_demo_portfolio(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    catalog = load_product_catalog(CATALOG)
    assert len(catalog.products) == 8
    catalog.check_against(model_constraints, model_clients)


def test_held_products_are_never_recommended(
    training: RecommenderTraining, model_clients: pd.DataFrame
) -> None:
    recommender = training.recommender
    clients = model_clients.head(500)
    table = recommender.recommend(clients, top=3)
    held = {
        (client, product)
        for product, spec in recommender.catalog.products.items()
        for client in clients.index[clients[spec.held]]
    }
    pairs = set(zip(table["client"], table["product"], strict=True))
    assert not pairs & held
    # every client gets as many products as they do not hold (at most 3)
    n_free = 3 - clients[[p.held for p in recommender.catalog.products.values()]].sum(axis=1)
    counts = table.groupby("client").size().reindex(clients.index, fill_value=0)
    np.testing.assert_array_equal(counts.to_numpy(), n_free.to_numpy())


def test_ranking_by_expected_value(
    training: RecommenderTraining, model_clients: pd.DataFrame
) -> None:
    recommender = training.recommender
    table = recommender.recommend(model_clients.head(300), top=3)
    np.testing.assert_allclose(table["expected_value"], table["propensity"] * table["value"])
    for _, group in table.groupby("client"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["expected_value"].is_monotonic_decreasing
    by_p = recommender.recommend(model_clients.head(300), top=1, by="propensity")
    scores = recommender.propensities(model_clients.head(300))
    best = scores.loc[by_p["client"]].max(axis=1).to_numpy()
    np.testing.assert_allclose(by_p["propensity"].to_numpy(), best)


def test_all_products_scored_in_one_call(
    training: RecommenderTraining, model_clients: pd.DataFrame
) -> None:
    recommender = training.recommender
    codes = recommender.space.to_codes(model_clients.head(100))
    matrix = recommender.propensity_codes(codes)
    assert matrix.shape == (100, 3)
    held = recommender.held_codes(codes)
    assert (matrix[held] == 0.0).all()
    assert (matrix[~held] > 0.0).all()
    frame = recommender.propensities(model_clients.head(100))
    np.testing.assert_array_equal(frame.to_numpy(), matrix)


def test_recommender_bundle_round_trip(
    training: RecommenderTraining, model_clients: pd.DataFrame, tmp_path: Path
) -> None:
    path = save_bundle(training, tmp_path / "rec")
    bundle = load_bundle(path)
    assert bundle.card.kind == "recommender"
    assert set(bundle.card.models) == {"savings_account", "life_insurance", "home_insurance"}
    assert bundle.recommender is not None
    assert bundle.recommender.products == training.recommender.products  # catalogue order kept
    clients = model_clients.head(200)
    pd.testing.assert_frame_equal(
        bundle.recommender.recommend(clients), training.recommender.recommend(clients)
    )


def test_bad_requests(
    training: RecommenderTraining, model_clients: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match=r"^codes: must have 27 columns, one per feature"):
        training.recommender.propensity_codes(np.zeros((2, 5)))
    with pytest.raises(ModelError, match=r"^top: must be a whole number >= 1\. Got 0\.$"):
        training.recommender.recommend(model_clients.head(3), top=0)
    with pytest.raises(
        ModelError, match=r"^by: must be one of expected_value, propensity\. Got 'value'\.$"
    ):
        training.recommender.recommend(model_clients.head(3), by="value")  # type: ignore[arg-type]
    top: Any = np.int64(2)  # numpy scalars are plain numbers
    pd.testing.assert_frame_equal(
        training.recommender.recommend(model_clients.head(5), top=top),
        training.recommender.recommend(model_clients.head(5), top=2),
    )
    catalog_dict: Any = training.recommender.catalog.model_dump()
    with pytest.raises(
        ModelError,
        match=r"^catalog: must be a ProductCatalog \(see load_product_catalog\)\. Got dict\.$",
    ):
        train_recommender(model_clients, catalog_dict, training.constraints, n_trials=1)
    for budget in (float("nan"), float("inf"), -1.0, 86_401.0):
        with pytest.raises(
            ModelError,
            match=rf"^budget_s: must be a finite number of seconds in \(0, 86400\] or None\. "
            rf"Got {budget}\.$",
        ):
            train_recommender(
                model_clients, training.recommender.catalog, training.constraints, budget_s=budget
            )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nproducts:\n  p: {label: {en: P, fr: P}, target: t, held: h, value: -1}\n"
    )
    with pytest.raises(
        ModelError, match=r"bad\.yaml: products\.p\.value: Input should be greater than 0"
    ):
        load_product_catalog(bad)
    catalog = ProductCatalog.model_validate(
        {
            "name": "x",
            "products": {
                "p": {"label": {"en": "P", "fr": "P"}, "target": "t", "held": "age", "value": 1}
            },
        }
    )
    with pytest.raises(
        ModelError, match=r"products\.p\.held: must be a binary feature\. Got kind integer"
    ):
        catalog.check_against(training.constraints)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(holdings=st.lists(st.booleans(), min_size=3, max_size=3), top=st.integers(1, 4))
def test_property_held_products_never_come_back(
    training: RecommenderTraining, model_clients: pd.DataFrame, holdings: list[bool], top: int
) -> None:
    recommender = training.recommender
    clients = model_clients.head(20).copy()
    held_columns = [p.held for p in recommender.catalog.products.values()]
    for column, value in zip(held_columns, holdings, strict=True):
        clients[column] = value
    table = recommender.recommend(clients, top=top)
    held = {p for p, spec in recommender.catalog.products.items() if clients[spec.held].all()}
    assert not set(table["product"]) & held
    assert len(table) == len(clients) * min(top, 3 - sum(holdings))
