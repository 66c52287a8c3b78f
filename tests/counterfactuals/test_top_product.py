"""The "product P becomes the top recommendation by a margin" target, on a real recommender."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from constraints import ConstraintSet
from counterfactuals import Status, Target, generate, generate_many


@pytest.fixture(scope="module")
def recommender(model_clients: pd.DataFrame, model_constraints: ConstraintSet) -> Any:
    from advisor.models import config_dir, load_product_catalog, train_recommender

    catalog = load_product_catalog(config_dir() / "catalogs" / "demo-products.yaml")
    training = train_recommender(
        model_clients,
        catalog,
        model_constraints,
        budget_s=None,
        families=("logistic",),
        n_trials=1,
        n_folds=3,
        seed=0,
    )
    return training.recommender


def test_levers_make_the_product_the_top_recommendation(
    recommender: Any, model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    clients = model_clients.iloc[:60]
    top = recommender.recommend(clients, top=1).set_index("client")["product"]
    product = "life_insurance"
    held = clients["has_life_insurance"].to_numpy()
    chosen = clients.loc[(top.reindex(clients.index) != product).to_numpy() & ~held].iloc[:16]
    assert len(chosen) >= 8
    target = Target.top(product, margin=0.05)
    results = generate_many(recommender, chosen, model_constraints, target, n=2, engine="search")
    found = [r for r in results if r.found]
    assert found, [r.reason for r in results]
    for result in found:
        frame = result.to_frame()[list(model_constraints.feature_names)]
        best = recommender.recommend(frame, top=2)
        firsts = best.loc[best["rank"] == 1]
        assert (firsts["product"] == product).all()
        ev = best.pivot(index="client", columns="rank", values="expected_value")
        assert (ev[1] >= 1.05 * ev[2] - 1e-12).all()
    for result in results:
        assert result.status in (Status.FOUND, Status.NONE)


def test_a_held_product_cannot_become_the_target(
    recommender: Any, model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    holder = model_clients.loc[model_clients["has_savings_account"]].iloc[[0]]
    result = generate(
        recommender, holder, model_constraints, Target.top("savings_account"), n=1, engine="search"
    )
    # the file lets a lever open an account, never close one: no lever can help
    assert result.status is Status.NONE
    assert result.reason.startswith("No lever")
