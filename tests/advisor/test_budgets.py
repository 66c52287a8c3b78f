"""Budgets that hold: time-boxed folds, skipped families, search samples, the refit announced.

The assertions are about behaviour (what was pruned, skipped, sampled, announced and ranked);
the one end-to-end duration check keeps a generous margin and a budget of a few seconds, on
data built so that the slow families cannot finish (an unbounded run would take minutes).
"""

from __future__ import annotations

import io
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from rich.progress import Progress

from advisor._cli_models import _leaderboard_table, _TrialBar
from advisor.datasets import make_demo_portfolio
from advisor.models import TrialProgress, train
from advisor.models._deadline import OutOfTime
from advisor.models._families import FAMILIES, LogisticEstimator
from advisor.models._mlp import TorchMLPClassifier
from advisor.models._study import StudySettings, _new_study, _Objective, leaderboard
from constraints import load_constraints
from tests.conftest import REPO_ROOT

BUDGET_NOTE = r"^(stopped by the budget (before|during) fold \d of \d|skipped: its first fit)"


@pytest.fixture(scope="module")
def big_design() -> tuple[np.ndarray, np.ndarray]:
    """200,000 rows, 10 features: a logistic fold takes well under a second, an MLP minutes."""
    rng = np.random.default_rng(0)
    design = rng.normal(size=(200_000, 10))
    y = (design @ rng.normal(size=10) + rng.logistic(size=len(design)) > 1.0).astype(np.int64)
    # torch's one-time start-up (first fit of a process) is not interruptible: pay it here
    small = FAMILIES["mlp"]
    small.fit(design[:300], y[:300], small.defaults, 0, None)
    return design, y


def test_an_mlp_fit_stops_when_it_would_overrun(big_design: Any) -> None:
    design, y = big_design
    mlp = TorchMLPClassifier(random_state=0)
    with pytest.raises(OutOfTime) as caught:
        mlp.fit(design, y, deadline=time.perf_counter() + 0.3)
    assert caught.value.reason.startswith(("needs about", "reached the budget"))


def test_an_xgboost_fit_stops_when_it_would_overrun(big_design: Any) -> None:
    design, y = big_design
    params = {**FAMILIES["xgboost"].defaults, "n_estimators": 300}
    with pytest.raises(OutOfTime, match=r"^(needs about|reached the budget)"):
        FAMILIES["xgboost"].fit(design, y, params, 0, None, deadline=time.perf_counter() + 0.1)


@pytest.mark.parametrize("name", ["mlp", "xgboost", "logistic"])
def test_a_deadline_that_is_kept_changes_nothing(model_design: Any, name: str) -> None:
    design, y = model_design
    family = FAMILIES[name]
    params = {**family.defaults, "n_estimators": 20} if name == "xgboost" else family.defaults
    free = family.fit(design, y, params, 3, None)
    boxed = family.fit(design, y, params, 3, None, deadline=time.perf_counter() + 600)
    np.testing.assert_array_equal(free.margin(design), boxed.margin(design))


@pytest.fixture(scope="module")
def model_design() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    design = rng.normal(size=(400, 5))
    return design, (design[:, 0] + rng.normal(size=400) > 0).astype(np.int64)


def test_a_family_that_cannot_fit_is_skipped_and_never_ranked(big_design: Any) -> None:
    design, y = big_design
    settings = StudySettings(
        families=("mlp", "logistic"),
        metric="roc_auc",
        n_folds=2,
        seed=0,
        monotone=None,
        budget_s=None,
        n_trials=None,
    )
    # the study's own loop, one trial at a time, with the deadline set by hand: the MLP's
    # defaults (queued first) need 7 epochs over 90,000 rows and get 0.5 s; the logistic
    # regression then runs without a deadline; a later MLP trial is pruned as skipped
    objective = _Objective(design, y, settings)
    study = _new_study(settings)
    objective.deadline = time.perf_counter() + 0.5
    study.optimize(objective, n_trials=1)
    objective.deadline = None
    study.optimize(objective, n_trials=1)
    study.enqueue_trial(FAMILIES["mlp"].default_trial())
    study.optimize(objective, n_trials=1)
    assert set(objective.skipped) == {"mlp"}
    assert objective.skipped["mlp"].startswith("its first fit alone would exceed the budget (")
    board = leaderboard(study, "roc_auc")
    assert len(board) == 3
    assert "waiting" not in set(board["state"])  # queued but never started: left out
    complete = board["state"] == "complete"
    assert complete.any()
    assert (board.loc[complete, "family"] == "logistic").all()
    n_ranked = int(complete.sum())
    assert complete.iloc[:n_ranked].all()  # ranked trials first, best first
    assert board["cv_roc_auc"].iloc[:n_ranked].is_monotonic_decreasing
    unranked = board.iloc[n_ranked:]
    assert unranked["cv_roc_auc"].isna().all()
    mlp = board[board["family"] == "mlp"]
    assert (mlp["state"] == "pruned").all()
    assert mlp["note"].str.match(BUDGET_NOTE).all()
    assert mlp["note"].iloc[-1].startswith("skipped: its first fit alone would exceed")
    pruned_by = {t.number: t.user_attrs.get("pruned_by") for t in study.trials}
    assert all(pruned_by[n] == "budget" for n in mlp["trial"])
    # the CLI ranks complete trials only; the others show their state instead of a rank
    result: Any = SimpleNamespace(leaderboard=board, report=SimpleNamespace(metric="roc_auc"))
    out = io.StringIO()
    Console(file=out, width=200).print(_leaderboard_table(result, top=len(board)))
    cells = [line.split("│") for line in out.getvalue().splitlines() if "│" in line]
    ranks = [row[1].strip() for row in cells if row[2].strip()]  # a trial's first line
    assert ranks[:n_ranked] == [str(k) for k in range(1, n_ranked + 1)]
    assert set(ranks[n_ranked:]) <= {"pruned", "fail"}


@pytest.mark.slow
def test_a_budget_holds_on_data_too_large_for_it() -> None:
    clients = make_demo_portfolio(n_clients=120_000, seed=1)
    clients = clients.loc[~clients["has_life_insurance"]]
    constraints = load_constraints(REPO_ROOT / "configs" / "demo-portfolio.yaml", clients)
    events: list[TrialProgress] = []
    budget = 4.0
    started = time.perf_counter()
    result = train(
        clients,
        "take_life_insurance",
        constraints,
        families=("logistic", "xgboost", "mlp"),
        budget_s=budget,
        n_folds=3,
        progress=events.append,
    )
    elapsed = time.perf_counter() - started
    report = result.report
    # the search ran on a stratified sample; the refit used every training row
    assert 1_000 <= report.n_search < report.n_train
    refit = events[-1]
    assert refit.state == "refit"
    assert refit.refit_s == report.refit_estimate_s > 0
    assert [e.state for e in events].count("refit") == 1
    assert refit.elapsed_s <= report.elapsed_s - report.refit_s  # announced before the refit
    if isinstance(result.model.estimator, LogisticEstimator):
        assert result.model.estimator.pipeline["scale"].n_samples_seen_ == report.n_train
    # behaviour, generously: the study and test within 10 % (+1 s of slack), plus the refit;
    # without time boxes the MLP alone needs minutes here
    assert elapsed <= 1.1 * budget + 1.0 + report.refit_s
    for family, reason in report.skipped_families.items():
        assert reason.startswith("its first fit alone would exceed the budget (")
        trials = result.leaderboard[result.leaderboard["family"] == family]
        assert (trials["state"] == "pruned").all()
    complete = result.leaderboard["state"] == "complete"
    assert complete.iloc[: int(complete.sum())].all()


def test_the_refit_is_announced_on_the_console() -> None:
    out = io.StringIO()
    with Progress(console=Console(file=out, width=200)) as progress:
        bar = _TrialBar(progress, 10.0, by_time=True)
        bar(
            TrialProgress(
                trial=4,
                family="xgboost",
                state="refit",
                cv_score=0.8,
                best_score=0.8,
                elapsed_s=9.5,
                budget_s=10.0,
                refit_s=2.3,
            ),
            "loan",
        )
    assert (
        "loan: refitting the winner (trial 4, xgboost) on every training row: about 2.3 s, "
        "after the search (9.5 s so far)." in out.getvalue()
    )
