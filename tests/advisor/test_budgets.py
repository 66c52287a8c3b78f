"""Budgets that hold: time-boxed folds, skipped families, search samples, the refit announced.

The assertions are about behaviour (what was pruned, skipped, sampled, announced and ranked);
the one end-to-end duration check is the documented promise itself (budget + 10 % + the
announced refit), with a budget of a few seconds, on data built so that the slow families
cannot finish (an unbounded run would take minutes).
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from rich.console import Console
from rich.progress import Progress
from typer.testing import CliRunner

from advisor._cli_models import _leaderboard_table, _TrialBar
from advisor.cli import app
from advisor.datasets import make_demo_portfolio
from advisor.errors import ModelError
from advisor.models import TrialProgress, load_bundle, train
from advisor.models._deadline import OutOfTime
from advisor.models._families import FAMILIES, LogisticEstimator
from advisor.models._leaderboard import leaderboard
from advisor.models._mlp import TorchMLPClassifier
from advisor.models._pilot import MIN_SEARCH_ROWS, plan_search
from advisor.models._study import (
    MAX_TIME_PRUNES,
    StudySettings,
    _new_study,
    _Objective,
    run_study,
)
from constraints import load_constraints
from tests.conftest import REPO_ROOT

BUDGET_NOTE = (
    r"^(stopped by the budget (before|during) fold \d of \d"
    r"|skipped: (its first fit|its trials cannot finish))"
)
SKIP_REASON = (
    r"^(its first fit alone would exceed the budget \(|its trials cannot finish in the time "
    r"left: one takes about|\d of its trials were stopped by the budget$)"
)
CONSTRAINTS = str(REPO_ROOT / "configs" / "demo-portfolio.yaml")


def _settings(families: tuple[str, ...], **given: Any) -> StudySettings:
    values: dict[str, Any] = {"metric": "roc_auc", "n_folds": 2, "seed": 0, "monotone": None}
    values |= {"budget_s": None, "n_trials": None} | given
    return StudySettings(families=families, **values)


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
def test_a_budget_holds_on_data_too_large_for_it(big_design: Any) -> None:
    # big_design has paid torch's one-time start-up (1-3 s under load, not interruptible)
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
    # the promise itself: within the budget + 10 %, plus the refit as announced before it
    # started; without time boxes the MLP alone needs minutes here
    assert elapsed <= 1.1 * budget + report.refit_estimate_s
    for family, reason in report.skipped_families.items():
        assert re.match(SKIP_REASON, reason)
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


@pytest.fixture(scope="module")
def mid_design() -> tuple[np.ndarray, np.ndarray]:
    """6,000 rows: every family completes a trial in about a second without a deadline."""
    rng = np.random.default_rng(2)
    design = rng.normal(size=(6_000, 6))
    return design, (design[:, 0] - design[:, 1] + rng.normal(size=6_000) > 0).astype(np.int64)


def test_a_family_whose_trials_cannot_finish_is_skipped_after_one(mid_design: Any) -> None:
    design, y = mid_design
    settings = _settings(("logistic", "mlp"), n_folds=3)
    objective = _Objective(design, y, settings)
    study = _new_study(settings)
    study.optimize(objective, n_trials=2)  # the queued defaults, no deadline: both complete
    fastest = objective.fold_s["mlp"]
    # time for one or two MLP folds, not for three: its first fold would finish, its trial
    # cannot (this used to start a fold, prune before the next, and start the next MLP trial)
    objective.deadline = time.perf_counter() + 2.5 * fastest
    study.enqueue_trial(FAMILIES["mlp"].default_trial())
    study.optimize(objective, n_trials=1)
    objective.deadline = time.perf_counter() + 600.0  # time enough now: skipped stays skipped
    for name in ("mlp", "mlp", "logistic"):
        study.enqueue_trial(FAMILIES[name].default_trial())
    study.optimize(objective, n_trials=3)
    board = leaderboard(study, "roc_auc").sort_values("trial")
    later = board[board["trial"] >= 2]
    assert later["family"].tolist() == ["mlp", "mlp", "mlp", "logistic"]
    assert later["state"].tolist() == ["pruned", "pruned", "pruned", "complete"]
    notes = later["note"].tolist()
    assert notes[0].startswith("stopped by the budget before fold 1 of 3: 3 folds take about")
    assert set(objective.skipped) == {"mlp"}
    assert objective.skipped["mlp"].startswith("its trials cannot finish in the time left: ")
    assert notes[1] == notes[2] == f"skipped: {objective.skipped['mlp']}"
    assert objective.time_prunes == {"mlp": 1}


def test_a_family_is_skipped_after_three_trials_stopped_by_the_budget(mid_design: Any) -> None:
    design, y = mid_design
    settings = _settings(("logistic", "xgboost"))
    objective = _Objective(design, y, settings)
    study = _new_study(settings)
    objective.deadline = time.perf_counter() + 600.0
    objective.fold_s["xgboost"] = 0.01  # a whole trial at its fastest fold fits: not skipped
    for n_stopped in range(1, MAX_TIME_PRUNES + 1):  # heavier trials stopped during a fold
        with pytest.raises(optuna.TrialPruned):
            objective._out_of_time(study.ask(), "xgboost", "stopped by the budget during fold 1")
        skipped = n_stopped == MAX_TIME_PRUNES
        assert ("xgboost" in objective.skipped) is skipped
    assert objective.skipped == {"xgboost": "3 of its trials were stopped by the budget"}
    assert re.match(SKIP_REASON, objective.skipped["xgboost"])


def test_a_study_whose_families_are_all_skipped_ends_with_the_fix(big_design: Any) -> None:
    design, y = big_design
    settings = _settings(("mlp",), budget_s=0.3)
    # the MLP's defaults need 7 epochs over 100,000 rows (about 0.7 s on 2 idle cores) and
    # get 0.285 s: its first fit alone overruns, the family is skipped and the study stops at
    # once (it used to start trial after trial, each pruned, until the budget ended)
    with pytest.raises(
        ModelError,
        match=r"^train: at least one trial must complete within the budget \(budget_s; the "
        r"search had 0\.3 s of it\)\. Got 1 trial, none complete: mlp skipped: its first fit "
        r"alone would exceed the budget \(.+\)\. Hint: raise budget_s \(levers train "
        r"--budget-s\), train on fewer rows, or leave the slow families out \(families; "
        r"levers train --families\)\.$",
    ):
        run_study(design, y, settings)


@pytest.mark.parametrize("families", [("logistic", "mlp"), ("mlp", "logistic")])
def test_the_pilot_times_every_family_and_the_slowest_decides(
    big_design: Any, families: tuple[str, ...]
) -> None:
    design, y = big_design
    budget = 4.0
    plan = plan_search(design, y, _settings(families, n_folds=5, budget_s=budget))
    assert set(plan.trial_s) == set(families)  # not only the first family's defaults
    slowest = max(plan.trial_s.values())
    assert plan.slowest is not None
    assert plan.trial_s[plan.slowest] == slowest
    if slowest <= budget / 2:  # pragma: no cover - an MLP trial on 200,000 rows takes minutes
        assert plan.rows is None
        return
    assert plan.rows is not None
    assert len(plan.rows) == max(MIN_SEARCH_ROWS, int(len(y) * budget / 4 / slowest))
    assert abs(y[plan.rows].mean() - y.mean()) <= 1 / len(plan.rows)  # stratified
    assert np.all(np.diff(plan.rows) > 0)


@pytest.mark.parametrize(
    ("n_rows", "budget_s"),
    [
        (200_000, None),  # no budget
        (4_000, 60.0),  # no pilot could call for a sample: 8,000 x 2 families / 4 rows at most
    ],
)
def test_nothing_is_timed_when_it_could_not_matter(
    big_design: Any, n_rows: int, budget_s: float | None
) -> None:
    design, y = big_design
    settings = _settings(("logistic", "mlp"), n_folds=5, budget_s=budget_s, n_trials=3)
    plan = plan_search(design[:n_rows], y[:n_rows], settings)
    assert plan.rows is None
    assert plan.trial_s == {}
    assert plan.slowest is None


@pytest.fixture(scope="module")
def train_csv(model_clients: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    clients = model_clients.loc[~model_clients["has_life_insurance"]].head(1_500)
    path = tmp_path_factory.mktemp("budgets") / "clients.csv"
    clients.to_csv(path, index=False)
    return path


def test_n_trials_alone_runs_without_a_budget_and_reproduces(
    train_csv: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    clients = pd.read_csv(train_csv)
    args = ["train", "--data", str(train_csv), "--target", "take_life_insurance"]
    args += ["--constraints", CONSTRAINTS, "--families", "logistic,xgboost"]
    args += ["--n-trials", "3", "--seed", "7"]
    runs = []
    for name in ("first", "second"):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        card = json.loads((tmp_path / name / "model_card.json").read_text(encoding="utf-8"))
        entry = card["models"]["propensity"]
        assert entry["budget_s"] is None  # --n-trials alone: no budget
        assert (entry["n_trials"], entry["stopped_by"]) == (3, "n_trials")
        folder = tmp_path / name / "models" / "propensity"
        board = json.loads((folder / "leaderboard.json").read_text(encoding="utf-8"))
        for row in board:
            del row["fit_time_s"]  # wall-clock seconds: the one column that may differ
        # the fitted model, score for score (skops names its arrays by memory address, so
        # the files' bytes differ between runs while the model does not)
        scores = load_bundle(tmp_path / name).model.score(clients).tobytes()
        runs.append((board, entry["cv_score"], entry["params"], scores))
    assert [row["state"] for row in runs[0][0]] == ["complete"] * 3
    assert runs[0] == runs[1]  # the same leaderboard, winner and scores, bit for bit


def test_a_budget_spent_before_the_search_is_a_clear_error(train_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    args = ["train", "--data", str(train_csv), "--target", "take_life_insurance"]
    args += ["--constraints", CONSTRAINTS, "--out", str(out), "--budget-s", "0.0001"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.startswith(
        "error: budget_s: must leave time for the search after preparing the data (and timing "
        "the families on a sample), which took "
    )
    assert text.endswith(
        "Got 0.0001 s. Hint: raise budget_s (levers train --budget-s), or train on fewer rows."
    )
    assert "Traceback" not in result.output
    assert not out.exists()
