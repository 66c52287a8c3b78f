"""Global actions: every covered client verified on its own, the selection against brute force.

Oracles: each assigned client is changed by the action's own words (``set`` / ``at_least`` /
``at_most`` on business values), checked against the constraint file and scored by the real
model one client at a time; the MILP selection is compared with an enumeration of every
subset of candidate actions.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.campaigns import Campaign, CampaignError, CampaignResult, GlobalActions, _global
from advisor.campaigns._global import _assign, _greedy, _select
from advisor.levers import Advisor

PRODUCT = "life_insurance"


@pytest.fixture(scope="module")
def advisor(demo_search_advisor: Advisor) -> Advisor:
    return demo_search_advisor


@pytest.fixture(scope="module")
def result(advisor: Advisor) -> CampaignResult:
    assert advisor.reference is not None
    campaign = Campaign.from_advisor(advisor, product=PRODUCT)
    return campaign.run(advisor.reference.iloc[:400])


@pytest.fixture(scope="module")
def actions(result: CampaignResult) -> GlobalActions:
    return result.summarize(3)


def _rows(frame: pd.DataFrame) -> list[Any]:
    return list(frame.itertuples())


def _by_words(
    client: pd.Series, action: dict[str, Any], directions: dict[str, str]
) -> dict[str, Any]:
    after: dict[str, Any] = {str(k): v for k, v in client.items()}
    for feature, value in action.items():
        how = directions[feature]
        if how == "set":
            after[feature] = value
        elif how == "at_least":
            after[feature] = max(after[feature], value)
        else:
            after[feature] = min(after[feature], value)
    return after


def test_every_covered_client_is_verified_alone(
    result: CampaignResult, actions: GlobalActions
) -> None:
    assert result.context is not None
    campaign = result.context.campaign
    cs, model = campaign.info.constraints, campaign.info.model
    clients = result.context.clients
    goals = {o.client: o.goal for o in result.outcomes}
    by_rank = {a.rank: a for a in actions.actions}
    assert len(actions.assignments) > 0
    for row in _rows(actions.assignments):
        action = by_rank[row.action]
        client = clients.loc[row.client, list(cs.feature_names)]
        after = pd.DataFrame([_by_words(client, dict(action.changes), dict(action.directions))])
        codes = cs.rederive(cs.to_array(client.to_frame().T), cs.to_array(after))
        assert cs.check(client.to_frame().T, codes).ok[0], row.client
        score = float(model.score(cs.to_frame(codes))[0])
        assert score >= goals[row.client] - 1e-12
        assert score == pytest.approx(row.score_after, abs=1e-9)
        assert float(cs.cost(client.to_frame().T, codes)[0]) == pytest.approx(row.cost)
        expected_after = cs.to_frame(codes).iloc[0]
        got = actions.after.loc[row.client, list(cs.feature_names)]
        assert [str(v) for v in got] == [str(v) for v in expected_after]


def test_only_clients_with_a_lever_are_assigned_and_totals_agree(
    result: CampaignResult, actions: GlobalActions
) -> None:
    with_lever = {o.client: o for o in result.outcomes if o.levers}
    assert actions.n_with_lever == len(with_lever)
    assert set(actions.assignments["client"]) <= set(with_lever)
    assert actions.assignments["client"].is_unique
    for row in _rows(actions.assignments):
        assert row.cheapest_cost == pytest.approx(with_lever[row.client].levers[0].cost)
        assert row.cost <= 2.0 * row.cheapest_cost + 1e-6  # the default max_cost_ratio
    counts = actions.assignments["action"].value_counts()
    for action in actions.actions:
        assert action.n_covered == counts.get(action.rank, 0)
        assert action.coverage == pytest.approx(action.n_covered / actions.n_with_lever)
    last = actions.curve.iloc[-1]
    assert last["n_covered"] == len(actions.assignments)
    assert last["mean_cost"] == pytest.approx(actions.assignments["cost"].mean())
    assert actions.coverage == pytest.approx(last["coverage"])
    assert list(actions.curve["k"]) == [1, 2, 3]
    assert actions.curve["n_covered"].is_monotonic_increasing  # each k solved to optimality
    assert actions.method in ("milp", "milp+swaps")
    assert [a.rank for a in actions.actions] == list(range(1, len(actions.actions) + 1))


def test_texts_dict_round_trip_and_frame(actions: GlobalActions) -> None:
    frame = actions.to_frame()
    assert len(frame) == len(actions.actions)
    for action, row in zip(actions.actions, frame.itertuples(), strict=True):
        assert row.action_en == action.text["en"]
        for feature in action.changes:
            assert feature not in ("sex", "age")  # never an immutable or context feature
        assert action.text["en"] != action.text["fr"]
    back = GlobalActions.from_dict(json.loads(json.dumps(actions.to_dict())))
    assert back == actions
    pd.testing.assert_frame_equal(back.curve, actions.curve, check_dtype=False)
    with pytest.raises(CampaignError, match="global actions: must be the data"):
        GlobalActions.from_dict({"actions": "x"})


def test_a_tighter_cost_ratio_never_costs_more(result: CampaignResult) -> None:
    loose = result.summarize(2, max_cost_ratio=None)
    tight = result.summarize(2, max_cost_ratio=1.2)
    assert (tight.assignments["cost"] <= 1.2 * tight.assignments["cheapest_cost"] + 1e-6).all()
    assert loose.curve["n_covered"].iloc[-1] >= tight.curve["n_covered"].iloc[-1]


def test_bad_options_and_results_without_context(result: CampaignResult) -> None:
    with pytest.raises(CampaignError, match="max_actions: must be"):
        result.summarize(0)
    with pytest.raises(CampaignError, match="max_cost_ratio: must be"):
        result.summarize(2, max_cost_ratio=0.5)
    bare = CampaignResult(
        product=result.product,
        outcomes=result.outcomes,
        product_value=result.product_value,
        provenance=result.provenance,
    )
    with pytest.raises(CampaignError, match="summarize: needs the campaign and its clients"):
        bare.summarize()


# ------------------------------------------------------------------ the selection itself
def _brute_force(cover: np.ndarray, cost: np.ndarray, k: int) -> tuple[int, float]:
    best = (0, 0.0)
    for size in range(1, min(k, cover.shape[1]) + 1):
        for subset in itertools.combinations(range(cover.shape[1]), size):
            sub = np.where(cover[:, subset], cost[:, subset], np.inf)
            paid = sub.min(axis=1)
            hit = np.isfinite(paid)
            value = (int(hit.sum()), -float(paid[hit].sum()))
            if value > (best[0], -best[1]):
                best = (value[0], -value[1])
    return best


def _instances(clients: tuple[int, int], actions: tuple[int, int]) -> Any:
    """Random selection problems: (coverage flags, prices, (n, m), k)."""
    return st.integers(*clients).flatmap(
        lambda n: st.integers(*actions).flatmap(
            lambda m: st.tuples(
                st.lists(st.booleans(), min_size=n * m, max_size=n * m),
                st.lists(st.integers(1, 9), min_size=n * m, max_size=n * m),
                st.just((n, m)),
                st.integers(1, 3),
            )
        )
    )


@settings(max_examples=60, deadline=None)
@given(_instances((1, 10), (1, 5)))
def test_milp_selection_equals_brute_force(data: tuple[Any, ...]) -> None:
    flags, prices, (n, m), k = data
    cover = np.array(flags).reshape(n, m)
    cost = np.where(cover, np.array(prices, dtype=float).reshape(n, m), np.inf)
    choice, method = _select(cover, cost, k, time.perf_counter() + 30)
    assert method == "milp"
    assert len(choice.chosen) <= k
    which, paid = _assign(cover, cost, choice.chosen)
    hit = which >= 0
    best_covered, best_cost = _brute_force(cover, cost, k)
    assert int(hit.sum()) == best_covered
    assert math.isclose(float(paid[hit].sum()), best_cost, abs_tol=1e-6)
    greedy_hit = _assign(cover, cost, _greedy(cover, cost, k).chosen)[0] >= 0
    assert greedy_hit.sum() <= best_covered


def test_result_methods_are_the_reports(result: CampaignResult, actions: GlobalActions) -> None:
    from advisor.campaigns import demo_true_effect, fairness_report

    assert result.fairness(tolerance=0.3) == fairness_report(result, tolerance=0.3)
    effect = result.true_effect(actions)
    assert effect == demo_true_effect(result, actions)
    assert effect.n_global == len(actions.assignments)
    assert effect.global_expected == pytest.approx(
        float((actions.assignments["score_after"] - actions.assignments["score"]).sum())
    )


@settings(max_examples=60, deadline=None)
@given(_instances((2, 12), (2, 6)))
def test_swaps_keep_the_best_coverage_and_never_cost_more_than_greedy(
    data: tuple[Any, ...],
) -> None:
    flags, prices, (n, m), k = data
    cover = np.array(flags).reshape(n, m)
    cost = np.where(cover, np.array(prices, dtype=float).reshape(n, m), np.inf)
    limit = _global.MAX_COST_MILP_PAIRS
    _global.MAX_COST_MILP_PAIRS = 0  # force the local search on small instances
    try:
        choice, method = _select(cover, cost, k, time.perf_counter() + 30)
    finally:
        _global.MAX_COST_MILP_PAIRS = limit
    best_covered, best_cost = _brute_force(cover, cost, k)
    which, paid = _assign(cover, cost, choice.chosen)
    hit = which >= 0
    assert int(hit.sum()) == best_covered
    assert len(choice.chosen) <= k
    if best_covered:
        assert method == "milp+swaps"
        assert float(paid[hit].sum()) >= best_cost - 1e-9
        g_which, g_paid = _assign(cover, cost, _greedy(cover, cost, k).chosen)
        if int((g_which >= 0).sum()) == best_covered:
            assert float(paid[hit].sum()) <= float(g_paid[g_which >= 0].sum()) + 1e-9
