"""The true effect of a demo campaign, against the demo's structural causal model.

The oracle intervenes on each client alone, through the public SCM, with the lever's actions
(as ``benchmarks/levers_ground_truth.py`` does), where the code under test batches clients by
the set of features they change and reads the lever's values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.campaigns import (
    TRUE_EFFECT_COLUMNS,
    Campaign,
    CampaignContext,
    CampaignError,
    CampaignResult,
    CampaignStatus,
    ClientOutcome,
    GlobalActions,
    TrueEffect,
    demo_true_effect,
)
from advisor.datasets import DemoPortfolioSCM, descendants
from advisor.levers import Advisor, Lever, actions_of
from counterfactuals import Change

PRODUCT = "life_insurance"
N_CLIENTS = 120


@pytest.fixture(scope="module")
def advisor(demo_search_advisor: Advisor) -> Advisor:
    return demo_search_advisor


@pytest.fixture(scope="module")
def clients(advisor: Advisor) -> pd.DataFrame:
    assert advisor.reference is not None
    return advisor.reference.iloc[:N_CLIENTS]


@pytest.fixture(scope="module")
def result(advisor: Advisor, clients: pd.DataFrame) -> CampaignResult:
    return Campaign.from_advisor(advisor, product=PRODUCT).run(clients)


@pytest.fixture(scope="module")
def effect(result: CampaignResult) -> TrueEffect:
    return demo_true_effect(result)


def _alone(scm: DemoPortfolioSCM, client: pd.DataFrame, lever: Lever) -> float:
    """The true uplift of one client's lever, intervened alone with the lever's actions."""
    after = scm.intervene(client, {a.feature: a.after for a in lever.steps})
    return float(scm.true_propensity(after, PRODUCT)[0] - scm.true_propensity(client, PRODUCT)[0])


def _with_outcomes(
    result: CampaignResult, outcomes: list[ClientOutcome], **context: object
) -> CampaignResult:
    found = result.require_context("test")
    return CampaignResult(
        product=result.product,
        outcomes=tuple(outcomes),
        product_value=result.product_value,
        provenance=result.provenance,
        context=CampaignContext(
            campaign=context.get("campaign", found.campaign),
            clients=context.get("clients", found.clients),  # type: ignore[arg-type]
        ),
    )


def test_levers_true_effect_equals_each_client_intervened_alone(
    result: CampaignResult, clients: pd.DataFrame, effect: TrueEffect
) -> None:
    scm = DemoPortfolioSCM(seed=0)
    levered = [o for o in result.outcomes if o.levers]
    assert len(levered) >= 10
    table = effect.per_client
    assert list(table.columns) == list(TRUE_EFFECT_COLUMNS)
    assert table["client"].tolist() == [o.client for o in levered]
    want = [_alone(scm, clients.loc[[o.client]], o.levers[0]) for o in levered[:25]]
    np.testing.assert_allclose(table["true_uplift"].iloc[:25], want, rtol=0, atol=1e-12)
    before = scm.true_propensity(clients.loc[table["client"]], PRODUCT)
    np.testing.assert_allclose(table["true_before"], before, rtol=0, atol=1e-12)
    assert effect.n_clients == len(levered)
    assert effect.levers_true == pytest.approx(table["true_uplift"].sum(), abs=1e-9)
    assert effect.levers_expected == pytest.approx(result.totals.expected_extra_sales, abs=1e-12)
    assert effect.levers_ratio == pytest.approx(effect.levers_true / effect.levers_expected)
    assert effect.levers_true > 0  # the demo's levers do raise the true take-up
    assert effect.global_ratio is None
    assert effect.n_global is None
    data = json.loads(json.dumps(effect.to_dict(), allow_nan=False))
    assert data["levers_true"] == effect.levers_true
    assert "per_client" not in data


def test_a_lever_without_a_causal_path_has_no_true_effect(
    result: CampaignResult, clients: pd.DataFrame
) -> None:
    assert f"take_{PRODUCT}" not in descendants({"mobile_app"})  # the oracle: the graph
    campaign = result.require_context("test").campaign
    cs = campaign.info.constraints
    chosen = clients[~clients["mobile_app"].astype(bool)].iloc[:8]
    outcomes = []
    for client, row in chosen.iterrows():
        after = {str(k): v for k, v in row[list(cs.feature_names)].items()} | {"mobile_app": True}
        actions = actions_of(cs, [Change(feature="mobile_app", before=False, after=True)])
        before_score, after_score = campaign.info.model.score(
            pd.DataFrame([row[list(cs.feature_names)].to_dict(), after])
        )
        lever = Lever(
            rank=1,
            actions=actions,
            score_before=float(before_score),
            score_after=float(after_score),
            cost=0.5,
            n_changes=1,
            support=None,
            values=after,
        )
        outcomes.append(
            ClientOutcome(
                client=client,
                status=CampaignStatus.LEVER,
                score=float(before_score),
                goal=0.2,
                levers=(lever,),
            )
        )
    synthetic = _with_outcomes(result, outcomes, clients=chosen)
    effect = demo_true_effect(synthetic)
    assert effect.n_clients == len(chosen)
    assert (effect.per_client["true_uplift"] == 0.0).all()
    assert (effect.per_client["changed"] == "mobile_app").all()
    assert effect.levers_true == 0.0


def test_ids_come_from_the_index_when_the_column_is_absent(
    result: CampaignResult, effect: TrueEffect
) -> None:
    clients = result.require_context("test").clients
    again = demo_true_effect(
        _with_outcomes(result, list(result.outcomes), clients=clients.drop(columns="client_id"))
    )
    assert again == effect
    renamed = clients.drop(columns="client_id").reset_index(drop=True)
    outcomes = [
        ClientOutcome(client=k, status=o.status, score=o.score, goal=o.goal, levers=o.levers)
        for k, o in enumerate(result.outcomes)
    ]
    with pytest.raises(CampaignError, match=r"^true effect: the clients must carry their demo"):
        demo_true_effect(_with_outcomes(result, outcomes, clients=renamed))


def test_wrong_seed_and_bad_inputs_get_one_line_errors(result: CampaignResult) -> None:
    with pytest.raises(
        CampaignError, match=r"^true effect: clients: must come from the demo portfolio with seed=1"
    ):
        demo_true_effect(result, seed=1)
    with pytest.raises(CampaignError, match=r"^true effect\.seed: must be a whole number from 0"):
        demo_true_effect(result, seed=-1)
    with pytest.raises(CampaignError, match=r"^global_actions: must be the GlobalActions of "):
        demo_true_effect(result, global_actions="nope")
    bare = CampaignResult(
        product=result.product,
        outcomes=result.outcomes,
        product_value=result.product_value,
        provenance=result.provenance,
    )
    with pytest.raises(CampaignError, match=r"^true effect: needs the campaign and its clients"):
        demo_true_effect(bare)


def test_a_campaign_off_the_demo_is_refused(bank_bundle: Path, bank_data: pd.DataFrame) -> None:
    campaign = Campaign.from_bundle(bank_bundle, bank_data, engine="search")
    result = campaign.run(bank_data.iloc[:20])
    with pytest.raises(
        CampaignError, match=r"^true effect: needs the demo portfolio's causal model .*\. Got "
    ) as caught:
        demo_true_effect(result)
    assert "\n" not in str(caught.value)


def _by_action(action: Any, client: pd.Series) -> dict[str, Any]:
    """An action applied to one client from its own description (set / at least / at most)."""
    moves = {}
    for feature, value in action.changes.items():
        way = action.directions[feature]
        current = client[feature]
        if way == "at_least":
            value = max(current, value)
        elif way == "at_most":
            value = min(current, value)
        moves[feature] = value
    return moves


def test_global_actions_true_effect_equals_each_client_intervened_alone(
    result: CampaignResult, clients: pd.DataFrame
) -> None:
    actions = result.summarize(max_actions=3)
    assert isinstance(actions, GlobalActions)
    assert len(actions.assignments) >= 5
    effect = demo_true_effect(result, actions)
    assigned = actions.assignments
    assert effect.n_global == len(assigned)
    expected = float((assigned["score_after"] - assigned["score"]).sum())
    assert effect.global_expected == pytest.approx(expected, abs=1e-12)
    table = effect.per_client[effect.per_client["source"] == "global"]
    assert table["client"].tolist() == assigned["client"].tolist()
    assert table["action"].tolist() == assigned["action"].tolist()
    scm = DemoPortfolioSCM(seed=0)
    by_rank = {a.rank: a for a in actions.actions}
    cs = result.require_context("test").campaign.info.constraints
    derived = {d.feature for d in cs.derived}
    want = []
    for client, rank in zip(assigned["client"][:25], assigned["action"][:25], strict=True):
        row = clients.loc[[client]]
        moves = _by_action(by_rank[int(rank)], row.iloc[0])
        after = scm.intervene(row, {f: v for f, v in moves.items() if f not in derived})
        want.append(
            float(scm.true_propensity(after, PRODUCT)[0] - scm.true_propensity(row, PRODUCT)[0])
        )
    np.testing.assert_allclose(table["true_uplift"].iloc[:25], want, rtol=0, atol=1e-12)
    true = float(table["true_uplift"].sum())
    assert effect.global_true == pytest.approx(true, abs=1e-9)
    assert effect.global_ratio == pytest.approx(true / expected)
    data = json.loads(json.dumps(effect.to_dict(), allow_nan=False))
    assert data["n_global"] == len(assigned)
