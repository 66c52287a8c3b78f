"""Robust levers (``Advisor(robust_margin=...)``): they beat the goal by the margin, and hold
when the model is retrained where plain levers do not.

Oracles: the model's own score of each lever's values (scored outside the advisor), and a
real refit of the same training on a bootstrap resample of the rows.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import AdvisorError
from advisor.levers import (
    ADVISOR_PARAMS,
    GOAL_CEILING,
    GOAL_FLOOR,
    ROBUST_MARGIN,
    Advisor,
    goal_reached,
    search_goal,
)
from advisor.models import PropensityModel, load_bundle
from constraints import ConstraintSet, Number, parse_constraints
from tests.advisor._refresh_data import N_ROWS, REFRESH_YAML, fit_one, refresh_frame

MARGIN = 0.1
N_CLIENTS = 8


@functools.cache
def _refresh() -> tuple[pd.DataFrame, ConstraintSet, PropensityModel, PropensityModel]:
    """The data, its constraint set, the model and the model retrained on a bootstrap."""
    data = refresh_frame(N_ROWS, 0)
    constraints = parse_constraints(REFRESH_YAML, data)
    resample = data.sample(n=len(data), replace=True, random_state=1)
    resample = resample.set_axis([f"B{i:03d}" for i in range(len(resample))])
    return data, constraints, fit_one(data, constraints), fit_one(resample, constraints, seed=1)


def _score(model: PropensityModel, constraints: ConstraintSet, values: Mapping[str, Any]) -> float:
    frame = pd.DataFrame([values])[list(constraints.feature_names)].infer_objects()
    return float(model.score(frame)[0])


def _levers_below_the_goal(margin: float) -> tuple[Advisor, list[Any]]:
    """The first ``N_CLIENTS`` clients below the goal, advised with ``margin``: their levers."""
    data, constraints, model, _ = _refresh()
    advisor = Advisor(model, constraints, reference=data, robust_margin=margin)
    goal = advisor.goal_for(advisor.products[0])
    below = data.index[model.score(data) < goal][:N_CLIENTS]
    return advisor, [lever for c in below for lever in advisor.advise(c, n_levers=1).levers]


def test_a_robust_lever_clears_the_goal_by_the_margin_on_the_model() -> None:
    advisor, levers = _levers_below_the_goal(MARGIN)
    _, constraints, model, _ = _refresh()
    goal = advisor.goal_for(advisor.products[0])
    assert len(levers) >= N_CLIENTS // 2
    for lever in levers:
        rescored = _score(model, constraints, lever.values)
        assert rescored == pytest.approx(lever.score_after)
        assert rescored >= goal + MARGIN - 1e-9


def test_robust_levers_hold_on_a_refit_where_plain_levers_do_not() -> None:
    """The goal the client was promised (the old model's) is checked on the retrained model."""
    _, constraints, _, refit = _refresh()
    valid = {}
    for margin in (0.0, MARGIN):
        advisor, levers = _levers_below_the_goal(margin)
        goal = advisor.goal_for(advisor.products[0])
        assert levers
        scores = np.array([_score(refit, constraints, lever.values) for lever in levers])
        valid[margin] = goal_reached(scores, goal, "raise").mean()
    assert valid[0.0] <= 0.5  # plain levers sit on the goal: a refit moves half of them under
    assert valid[MARGIN] == 1.0


def test_a_robust_risk_lever_gets_under_the_ceiling_by_the_margin(
    german_bundle: Path, german_data: pd.DataFrame
) -> None:
    frame = german_data.set_axis([str(i + 1) for i in range(len(german_data))])
    bundle = load_bundle(german_bundle)
    advisor = Advisor.from_bundle(bundle, frame, engine="search", robust_margin=ROBUST_MARGIN)
    product = advisor.products[0]
    model = advisor.product(product).model
    scores = model.score(frame)
    ceiling = float(np.median(scores))
    assert advisor.goal_for(product) == pytest.approx(ceiling)
    risky = [str(i + 1) for i in np.flatnonzero((scores > ceiling) & (scores < ceiling + 0.1))]
    found = 0
    for client in risky[:4]:
        advice = advisor.advise(client, product=product)
        assert advice.goal <= ceiling - ROBUST_MARGIN + 1e-12
        for lever in advice.levers:
            rescored = float(model.score(pd.DataFrame([lever.values]))[0])
            assert rescored <= ceiling - ROBUST_MARGIN + 1e-9
        found += bool(advice.levers)
    assert found >= 2


def test_no_margin_is_the_plain_advisor() -> None:
    data, constraints, model, _ = _refresh()
    client = data.index[int(np.argmin(model.score(data)))]
    plain = Advisor(model, constraints, reference=data).advise(client)
    zero = Advisor(model, constraints, reference=data, robust_margin=0.0).advise(client)
    assert [lv.values for lv in plain.levers] == [lv.values for lv in zero.levers]
    assert plain.goal == zero.goal


@given(
    score=st.floats(0.0, 1.0),
    goal=st.floats(0.001, 0.999),
    uplift=st.floats(0.0, 0.5),
    margin=st.floats(0.0, 0.5),
)
def test_a_search_goal_is_beyond_the_goal_by_the_margin(
    score: float, goal: float, uplift: float, margin: float
) -> None:
    up = search_goal(score, goal, uplift, "raise", margin=margin)
    down = search_goal(score, goal, uplift, "lower", margin=margin)
    assert up == GOAL_CEILING or up >= max(goal + margin, score + uplift) - 1e-12
    assert up <= GOAL_CEILING
    assert down == GOAL_FLOOR or down <= min(goal - margin, score - uplift) + 1e-12
    assert down >= GOAL_FLOOR
    assert up >= search_goal(score, goal, uplift, "raise")
    assert down <= search_goal(score, goal, uplift, "lower")


@pytest.mark.parametrize("margin", [-0.01, 0.51, float("nan"), "0.1", True, None])
def test_a_bad_margin_is_refused_in_one_sentence(margin: Any) -> None:
    data, constraints, model, _ = _refresh()
    with pytest.raises(
        AdvisorError,
        match=r"^robust_margin: must be a probability margin in \[0, 0\.5\]\. Got .+\.$",
    ):
        Advisor(model, constraints, reference=data, robust_margin=margin)


def test_the_margin_has_a_ceiling_and_the_measured_one_is_within_it() -> None:
    rule = ADVISOR_PARAMS["robust_margin"]
    assert isinstance(rule, Number)
    assert rule.high == 0.5
    assert rule.convert(ROBUST_MARGIN) == (True, ROBUST_MARGIN)


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--robust-margin", "0.7"],
            "--robust-margin: must be a probability margin in [0, 0.5]. Got 0.7.",
        ),
        (
            ["--robust", "--robust-margin", "0.1"],
            f"--robust and --robust-margin: give one (--robust is --robust-margin "
            f"{ROBUST_MARGIN:g}). Got both.",
        ),
    ],
)
def test_the_cli_refuses_a_bad_margin_in_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["advise", "C0000001", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_the_cli_robust_flag_aims_below_the_ceiling_by_the_margin(
    german_bundle: Path, german_data: pd.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "german.csv"
    german_data.to_csv(data, index=False)
    scores = load_bundle(german_bundle).model.score(german_data)
    ceiling = float(np.median(scores))
    row = int(np.flatnonzero(scores > ceiling + 0.1)[0])
    args = ["--bundle", str(german_bundle), "--data", str(data), "--json"]
    result = runner.invoke(app, ["advise", str(row + 1), *args, "--robust"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    expected = min(ceiling - ROBUST_MARGIN, scores[row] - 0.03)
    assert payload["goal"] == pytest.approx(expected)
    for lever in payload["levers"]:
        assert lever["score_after"] <= ceiling - ROBUST_MARGIN + 1e-9


def test_a_campaign_of_a_robust_advisor_aims_beyond_the_goal_by_the_margin() -> None:
    """Campaign.from_advisor keeps the advisor's margin: each lever clears goal + margin."""
    from advisor.campaigns import Campaign

    data, constraints, model, _ = _refresh()
    advisor = Advisor(model, constraints, reference=data, robust_margin=MARGIN)
    goal = advisor.goal_for(advisor.products[0])
    below = data.loc[model.score(data) < goal].iloc[:N_CLIENTS]
    result = Campaign.from_advisor(advisor).run(below)
    levers = [lever for outcome in result.outcomes for lever in outcome.levers]
    assert len(levers) >= N_CLIENTS // 2
    for lever in levers:
        assert _score(model, constraints, lever.values) >= goal + MARGIN - 1e-9
