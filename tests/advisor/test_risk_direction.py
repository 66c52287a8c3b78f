"""Risk models: the goal is a ceiling and every lever brings the score down (German credit).

The oracle is the real model: every lever's values are scored again, outside the advisor,
and compared with the ceiling and the score before.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor.campaigns import Campaign, CampaignStatus
from advisor.levers import Advisor, Status, goal_reached, search_goal
from advisor.models import load_bundle, monotone_constraints
from constraints import ConstraintFileError, parse_constraints

N_CLIENTS = 12


@pytest.fixture(scope="module")
def risk_advisor(german_bundle: Path, german_data: pd.DataFrame) -> Advisor:
    frame = german_data.set_axis([str(i + 1) for i in range(len(german_data))])
    return Advisor.from_bundle(load_bundle(german_bundle), frame, engine="search")


def _above(advisor: Advisor, n: int, low: float, high: float) -> list[str]:
    """``n`` applications whose score is between goal + ``low`` and goal + ``high``."""
    reference = advisor.reference
    assert reference is not None
    scores = advisor.product(advisor.products[0]).model.score(reference)
    goal = advisor.goal_for(advisor.products[0])
    inside = np.flatnonzero((scores > goal + low) & (scores <= goal + high))
    return [str(reference.index[i]) for i in inside[:n]]


def test_the_card_records_the_files_direction(german_bundle: Path) -> None:
    bundle = load_bundle(german_bundle)
    assert {entry.goal for entry in bundle.card.models.values()} == {"lower"}
    assert bundle.card.models["propensity"].classes[1] == "bad"


def test_the_ceiling_is_the_median_risk(risk_advisor: Advisor) -> None:
    product = risk_advisor.products[0]
    assert risk_advisor.direction(product) == "lower"
    reference = risk_advisor.reference
    assert reference is not None
    expected = np.quantile(
        risk_advisor.product(risk_advisor.products[0]).model.score(reference), 0.5
    )
    assert risk_advisor.goal_for(product) == pytest.approx(expected)


def test_every_lever_lowers_the_risk_below_the_ceiling(risk_advisor: Advisor) -> None:
    clients = _above(risk_advisor, N_CLIENTS, 0.0, 0.15)
    assert len(clients) == N_CLIENTS
    found = 0
    for client in clients:
        advice = risk_advisor.advise(client, n_levers=3)
        assert advice.direction == "lower"
        assert advice.goal <= advice.score - risk_advisor.min_uplift + 1e-12
        if advice.status is not Status.FOUND:
            continue
        found += 1
        for lever in advice.levers:
            again = float(
                risk_advisor.product(risk_advisor.products[0]).model.score(
                    pd.DataFrame([lever.values])
                )[0]
            )
            assert again == pytest.approx(lever.score_after, abs=1e-9)
            assert lever.score_after < lever.score_before
            assert again <= advice.goal + 1e-9
    assert found >= N_CLIENTS // 2


def test_the_same_model_aimed_up_raises_the_score(
    german_bundle: Path, german_data: pd.DataFrame
) -> None:
    """The direction decides: forced to ``raise``, the levers push the risk up."""
    advisor = Advisor.from_bundle(
        load_bundle(german_bundle), german_data, engine="search", goal_direction="raise"
    )
    scores = advisor.product(advisor.products[0]).model.score(german_data)
    goal = advisor.goal_for(advisor.products[0])
    below = np.flatnonzero((scores < goal - 0.05) & (scores > goal - 0.2))[:5]
    found = 0
    for row in below:
        advice = advisor.advise(german_data.iloc[[int(row)]])
        assert advice.direction == "raise"
        found += advice.status is Status.FOUND
        assert all(lever.score_after > lever.score_before for lever in advice.levers)
    assert found >= 3


def test_support_counts_the_good_applications(risk_advisor: Advisor) -> None:
    population = risk_advisor.population(risk_advisor.products[0])
    assert population is not None
    assert population.outcome is not None
    good = (population.frame["credit_risk"] == "good").to_numpy()
    np.testing.assert_array_equal(population.outcome, good)


def test_a_risk_campaign_lowers_every_score(risk_advisor: Advisor) -> None:
    reference = risk_advisor.reference
    assert reference is not None
    campaign = Campaign.from_advisor(risk_advisor)
    result = campaign.run(reference.iloc[:80])
    goal = result.provenance.goal
    assert result.provenance.goal_direction == "lower"
    scores = risk_advisor.product(risk_advisor.products[0]).model.score(reference.iloc[:80])
    for outcome, score in zip(result.outcomes, scores, strict=True):
        if outcome.status is CampaignStatus.REACHED:
            assert score <= goal
        for lever in outcome.levers:
            assert lever.score_after < lever.score_before
            assert lever.score_after <= outcome.goal + 1e-9
    levered = [o for o in result.outcomes if o.levers]
    assert levered
    drop = sum(o.levers[0].score_before - o.levers[0].score_after for o in levered)
    assert result.totals.expected_extra_sales == pytest.approx(drop)
    actions = result.summarize(max_actions=2, time_limit_s=20)
    if len(actions.assignments):
        goals = {o.client: o.goal for o in levered}
        for client, after in zip(
            actions.assignments["client"], actions.assignments["score_after"], strict=True
        ):
            assert after <= goals[client] + 1e-9


def test_an_older_card_follows_the_file(german_bundle: Path, tmp_path: Path) -> None:
    """A card written before it recorded the goal: the constraint file's ``goal`` applies."""
    copy = tmp_path / "old"
    shutil.copytree(german_bundle, copy)
    card = copy / "model_card.json"
    raw = json.loads(card.read_text())
    for entry in raw["models"].values():
        del entry["goal"]
    card.write_text(json.dumps(raw, indent=2))
    digest = hashlib.sha256(card.read_bytes()).hexdigest()
    (copy / "model_card.sha256").write_text(f"{digest}  model_card.json\n")
    bundle = load_bundle(copy)
    assert bundle.card.models["propensity"].goal is None
    assert Advisor.from_bundle(bundle).direction(bundle.model.target) == "lower"


def test_monotone_signs_flip_for_a_risk_score(german_bundle: Path) -> None:
    model = load_bundle(german_bundle).model
    constraints = Advisor.from_bundle(load_bundle(german_bundle)).constraints
    up = np.array(monotone_constraints(constraints, model.space, "raise"))
    down = np.array(monotone_constraints(constraints, model.space, "lower"))
    assert up.any()
    np.testing.assert_array_equal(down, -up)


def test_the_file_states_the_direction() -> None:
    text = "name: t\ngoal: {goal}\nfeatures:\n  a: {{kind: integer, role: actionable}}\n"
    assert parse_constraints(text.format(goal="lower")).goal == "lower"
    assert (
        parse_constraints("name: t\nfeatures:\n  a: {kind: integer, role: actionable}\n").goal
        == "raise"
    )
    with pytest.raises(ConstraintFileError, match="goal"):
        parse_constraints(text.format(goal="down"))


@given(
    score=st.floats(0.0, 1.0),
    goal=st.floats(0.01, 0.99),
    uplift=st.floats(0.0, 0.5),
)
def test_a_search_goal_is_beyond_both_the_goal_and_the_uplift(
    score: float, goal: float, uplift: float
) -> None:
    up = search_goal(score, goal, uplift, "raise")
    down = search_goal(score, goal, uplift, "lower")
    assert up >= goal
    assert up >= score + uplift or up == pytest.approx(0.999)
    assert down <= goal
    assert down <= score - uplift or down == pytest.approx(0.001)
    assert goal_reached(score, goal, "raise") == (score >= goal)
    assert goal_reached(score, goal, "lower") == (score <= goal)
