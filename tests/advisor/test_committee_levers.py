"""Robust levers under a committee of refits (``Advisor(robust_refits=k)``).

Oracles: each committee member's own score of a lever's values (scored outside the
advisor), the bundle's model's score, and a second advisor built with the same seed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.errors import AdvisorError
from advisor.levers import Advisor, Status, goal_reached
from advisor.models import PropensityModel, load_bundle
from constraints import ConstraintSet, parse_constraints
from tests.advisor._refresh_data import N_ROWS, REFRESH_YAML, fit_one, refresh_frame

K = 3
N_CLIENTS = 4


@functools.cache
def _data(family: str) -> tuple[pd.DataFrame, ConstraintSet, PropensityModel]:
    frame = refresh_frame(N_ROWS, 0)
    constraints = parse_constraints(REFRESH_YAML, frame)
    return frame, constraints, fit_one(frame, constraints, family)


def _score(model: PropensityModel, values: Mapping[str, Any]) -> float:
    frame = pd.DataFrame([values])[list(model.feature_names)].infer_objects()
    return float(model.score(frame)[0])


def _levers(advisor: Advisor, data: pd.DataFrame) -> list[Any]:
    model = advisor.product(advisor.products[0]).model
    goal = advisor.goal_for(advisor.products[0])
    below = data.index[model.score(data) < goal][:N_CLIENTS]
    return [lever for c in below for lever in advisor.advise(c, n_levers=2).levers]


@pytest.mark.parametrize("family", ["logistic", "xgboost"])
def test_a_committee_lever_reaches_the_goal_on_every_member(family: str) -> None:
    data, constraints, model = _data(family)
    advisor = Advisor(model, constraints, reference=data, robust_refits=K, seed=3)
    product = advisor.products[0]
    goal = advisor.goal_for(product)
    committee = advisor.committee(product)
    assert len(committee.refits) == K
    assert committee.model is model
    assert {m.family for m in committee.refits} == {family}
    # the refits are real: each scores the reference clients differently from the bundle
    for refit in committee.refits:
        assert not np.allclose(refit.score(data), model.score(data))
    levers = _levers(advisor, data)
    assert levers
    for lever in levers:
        scores = [_score(member, lever.values) for member in committee.members]
        assert all(goal_reached(s, goal, "raise") for s in scores), scores
        # the client is shown the bundle's model's score
        assert lever.score_after == pytest.approx(_score(model, lever.values))
    # without the committee, some plain lever misses the goal on a refit
    plain = _levers(Advisor(model, constraints, reference=data, seed=3), data)
    assert any(
        not goal_reached(_score(refit, lever.values), goal, "raise")
        for lever in plain
        for refit in committee.refits
    )


def test_the_same_seed_gives_the_same_refits_and_levers() -> None:
    data, constraints, model = _data("logistic")
    first, second = (
        Advisor(model, constraints, reference=data, robust_refits=2, seed=5) for _ in range(2)
    )
    product = first.products[0]
    for a, b in zip(first.committee(product).refits, second.committee(product).refits, strict=True):
        np.testing.assert_array_equal(a.score(data), b.score(data))
    other = Advisor(model, constraints, reference=data, robust_refits=2, seed=6)
    assert not np.allclose(
        other.committee(product).refits[0].score(data),
        first.committee(product).refits[0].score(data),
    )
    assert [lv.values for lv in _levers(first, data)] == [lv.values for lv in _levers(second, data)]


def test_the_option_is_recorded_and_off_by_default() -> None:
    data, constraints, model = _data("logistic")
    assert Advisor(model, constraints, reference=data).options["robust_refits"] == 0
    on = Advisor(model, constraints, reference=data, robust_refits=4)
    assert on.options["robust_refits"] == 4


@pytest.mark.parametrize("refits", [1, 21, -1, 2.5, "3", True])
def test_a_bad_number_of_refits_is_refused_in_one_sentence(refits: Any) -> None:
    data, constraints, model = _data("logistic")
    with pytest.raises(AdvisorError) as caught:
        Advisor(model, constraints, reference=data, robust_refits=refits)
    assert str(caught.value) == (
        f"robust_refits: must be one of 0 or a whole number from 2 to 20. Got {refits!r}."
    )


@pytest.mark.parametrize("engine", ["exact", "gradient"])
def test_an_engine_that_needs_the_structure_is_refused_with_a_committee(engine: str) -> None:
    data, constraints, model = _data("logistic")
    with pytest.raises(AdvisorError, match=r"^engine: must be 'auto' or 'search' with "):
        Advisor(model, constraints, reference=data, robust_refits=2, engine=engine)


def test_a_committee_needs_the_reference_clients_outcome() -> None:
    data, constraints, model = _data("logistic")
    client = data.drop(columns="target").iloc[[0]]
    for reference in (None, data.drop(columns="target")):
        advisor = Advisor(model, constraints, reference=reference, robust_refits=2, goal=0.9)
        with pytest.raises(AdvisorError, match=r"^robust_refits: needs the reference clients"):
            advisor.advise(client)


def test_a_risk_lever_gets_under_the_ceiling_on_every_member(
    german_bundle: Path, german_data: pd.DataFrame
) -> None:
    advisor = Advisor.from_bundle(load_bundle(german_bundle), german_data, robust_refits=2)
    product = advisor.products[0]
    ceiling = advisor.goal_for(product)
    committee = advisor.committee(product)
    model = committee.model
    above = np.flatnonzero(model.score(german_data) > ceiling)[:3]
    advice = [advisor.advise(german_data.iloc[[int(i)]], n_levers=1) for i in above]
    assert {a.status for a in advice} <= {Status.FOUND, Status.NONE}
    levers = [lv for a in advice for lv in a.levers]
    assert levers
    for lever in levers:
        scores = [_score(member, lever.values) for member in committee.members]
        assert all(goal_reached(s, ceiling, "lower") for s in scores), scores


def test_an_advice_of_the_committee_replays_identically(
    german_bundle: Path, german_data: pd.DataFrame, tmp_path: Path
) -> None:
    """The committee is refitted from the record's options (seeded): the replay matches."""
    from advisor.audit import AuditStore, ReplayReport, replay

    store = AuditStore(tmp_path / "audit.sqlite")
    advisor = Advisor.from_bundle(
        load_bundle(german_bundle),
        german_data,
        robust_refits=2,
        time_limit_s=None,  # a search cut by the clock is not reproducible
        audit=store,
    )
    model = advisor.committee(advisor.products[0]).model
    above = np.flatnonzero(model.score(german_data) > advisor.goal_for(advisor.products[0]))
    advice = advisor.advise(german_data.iloc[[int(above[0])]], n_levers=2)
    record = store.records()[-1]
    assert record.payload["options"]["robust_refits"] == 2
    assert advice.levers
    assert len(record.payload["levers"]) == len(advice.levers)
    report = replay(store.get(record.id), reference=german_data)
    assert report == ReplayReport(record_id=record.id, identical=True, differences=())


def test_a_campaign_of_a_committee_advisor_reaches_the_goal_on_every_member() -> None:
    """Campaign.from_advisor searches under the advisor's committee too."""
    from advisor.campaigns import Campaign

    data, constraints, model = _data("logistic")
    advisor = Advisor(model, constraints, reference=data, robust_refits=K, seed=3)
    product = advisor.products[0]
    goal = advisor.goal_for(product)
    below = data.loc[model.score(data) < goal].iloc[: 2 * N_CLIENTS]
    result = Campaign.from_advisor(advisor).run(below)
    levers = [lever for outcome in result.outcomes for lever in outcome.levers]
    assert levers
    for lever in levers:
        scores = [_score(member, lever.values) for member in advisor.committee(product).members]
        assert all(goal_reached(s, goal, "raise") for s in scores), scores
