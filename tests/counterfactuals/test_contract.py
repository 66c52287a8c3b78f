"""The engine contract, run against every engine x every model family (DESIGN.md).

Immutables unchanged and every rule respected; validity as the real model says; the same
seed gives the same result; the input is never mutated; "none found" is a status; an engine
that cannot serve a model refuses with the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from constraints import ConstraintSet
from counterfactuals import (
    ENGINES,
    CounterfactualError,
    CounterfactualResult,
    Status,
    Target,
    generate,
    generate_many,
)

FAMILIES = ("logistic", "xgboost", "mlp")
ENGINE_NAMES = ("auto", "exact", "search", "gradient")
N_CLIENTS = 4


def _serves(engine: str, family: str) -> bool:
    if engine in ("auto", "search"):
        return True
    if engine == "exact":
        return family in ("logistic", "xgboost")
    return family == "mlp"


@pytest.fixture(scope="module")
def negatives(trained: dict[str, Any], model_clients: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per family: a few non-holders the model scores below 0.5, with their scores."""
    pool = model_clients.loc[~model_clients["has_life_insurance"]].iloc[:400]
    out = {}
    for family, result in trained.items():
        score = result.model.score(pool)
        chosen = pool.loc[(score < 0.5) & (score > 0.05)].iloc[:N_CLIENTS]
        out[family] = chosen
    return out


def _target(model: Any, client: pd.DataFrame) -> Target:
    """A reachable but real goal: 1.6x the client's score (at most 0.6)."""
    base = float(model.score(client)[0])
    return Target.probability(min(0.6, max(base * 1.6, base + 0.02)))


def _codes(cs: ConstraintSet, result: CounterfactualResult) -> np.ndarray:
    return cs.to_array(result.to_frame()[list(cs.feature_names)])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_engine_contract(
    engine: str,
    family: str,
    trained: dict[str, Any],
    negatives: dict[str, pd.DataFrame],
    model_constraints: ConstraintSet,
) -> None:
    model = trained[family].model
    cs = model_constraints
    clients = negatives[family]
    assert len(clients) == N_CLIENTS
    if not _serves(engine, family):
        client = clients.iloc[[0]]
        with pytest.raises(CounterfactualError, match=rf"^engine: {engine} cannot serve"):
            generate(model, client, cs, _target(model, client), engine=engine, n=2)
        return
    n_found = 0
    for i in range(N_CLIENTS):
        client = clients.iloc[[i]]
        before = client.copy(deep=True)
        target = _target(model, client)
        result = generate(model, client, cs, target, n=3, engine=engine, seed=7, time_limit_s=20)
        pd.testing.assert_frame_equal(client, before)  # input never mutated
        assert result.status in (Status.FOUND, Status.NONE)
        if result.status is Status.NONE:
            assert result.reason
            assert not result.counterfactuals
            continue
        n_found += 1
        codes = _codes(cs, result)
        check = cs.check(cs.to_array(client), codes)
        assert check.ok.all(), check.to_frame().to_string()  # immutables, bounds, rules
        frame = result.to_frame()[list(cs.feature_names)]
        scores = model.score(frame)  # validity as the real model says
        assert (scores >= target.threshold).all()
        np.testing.assert_allclose(scores, [cf.score for cf in result.counterfactuals])
        again = generate(model, client, cs, target, n=3, engine=engine, seed=7, time_limit_s=20)
        first, second = result.to_dict(), again.to_dict()
        first.pop("elapsed_s")
        second.pop("elapsed_s")
        assert first == second  # same seed -> same result
    assert n_found >= 1, f"{engine} on {family} found nothing for {N_CLIENTS} clients"


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_none_is_a_status(
    engine: str,
    family: str,
    trained: dict[str, Any],
    negatives: dict[str, pd.DataFrame],
    model_constraints: ConstraintSet,
) -> None:
    if not _serves(engine, family):
        pytest.skip("refusal is checked by the contract test")
    model = trained[family].model
    client = negatives[family].iloc[[0]]
    result = generate(
        model, client, model_constraints, Target.probability(0.9999), n=2, engine=engine
    )
    assert result.status is Status.NONE
    assert not result.counterfactuals
    assert result.reason.startswith("No lever")
    assert result.best_score is None or result.best_score < 0.9999


@pytest.mark.parametrize("family", FAMILIES)
def test_generate_many_matches_generate(
    family: str,
    trained: dict[str, Any],
    negatives: dict[str, pd.DataFrame],
    model_constraints: ConstraintSet,
) -> None:
    model = trained[family].model
    clients = negatives[family]
    target = Target.probability(0.3)
    many = generate_many(model, clients, model_constraints, target, n=2, engine="search")
    assert len(many) == len(clients)
    for i, result in enumerate(many):
        one = generate(model, clients.iloc[[i]], model_constraints, target, n=2, engine="search")
        assert one.status == result.status
        assert [cf.to_dict() for cf in one.counterfactuals] == [
            cf.to_dict() for cf in result.counterfactuals
        ]


def test_every_registered_engine_is_in_the_table() -> None:
    assert set(ENGINES) == {"exact", "search", "gradient"}
