"""The optuna study behind :func:`~advisor.models.train`: objective, stopper and leaderboard.

Each trial picks a family and its hyper-parameters (TPE sampler), and is scored by stratified
k-fold cross-validation on the training part (AUC or average precision). The families' default
settings are enqueued first, so the winner is never worse than the defaults on cross-validation;
a median pruner stops weak trials after a fold; with a budget every fold is time-boxed (a fold
that would end after the budget is not started or is stopped, and its trial pruned with the
reason; a family whose first fit alone would overrun is skipped) and a stopper ends the study
when the next trial would overrun it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from advisor.errors import ModelError
from advisor.models._deadline import OutOfTime
from advisor.models._families import FAMILIES, Estimator
from counterfactuals import FeatureSpace

__all__ = [
    "METRICS",
    "PILOT_ROWS",
    "Metric",
    "StudyOutcome",
    "StudySettings",
    "TrialProgress",
    "leaderboard",
    "run_study",
    "search_rows",
    "started_trials",
]

FloatArray = NDArray[np.float64]
Metric = Literal["roc_auc", "average_precision"]
METRICS: tuple[Metric, ...] = ("roc_auc", "average_precision")
# A trial failing with one of these is recorded as failed; the study goes on.
_TRIAL_ERRORS = (ValueError, RuntimeError, FloatingPointError, xgb.core.XGBoostError)
_SCORERS: dict[str, Callable[[NDArray[np.int64], FloatArray], float]] = {
    "roc_auc": lambda y, s: float(roc_auc_score(y, s)),
    "average_precision": lambda y, s: float(average_precision_score(y, s)),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialProgress:
    """What a progress display needs after each trial, and once before the final refit.

    The refit event has ``state == "refit"``, the winner's ``trial``, ``family`` and score, and
    ``refit_s``: the refit's estimated seconds (the winner's mean fold fit time scaled by the
    training rows), announced before it starts.
    """

    trial: int
    family: str
    state: str
    cv_score: float | None
    best_score: float | None
    elapsed_s: float
    budget_s: float | None
    refit_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StudySettings:
    """How a study searches: among which families, for which objective, within which limits.

    Parameters
    ----------
    families
        Model families the sampler chooses among (their defaults are tried first).
    metric
        The cross-validation objective.
    n_folds
        Stratified cross-validation folds.
    seed
        Seed of the folds, the sampler and every model.
    monotone
        XGBoost's per-design-column monotone constraints, or None (unconstrained).
    budget_s
        Seconds the study may take (None: no time limit).
    n_trials
        Trials at most (None: until the budget is spent).
    space
        The feature space of the design (which columns a missing value is imputed in, for
        the families that impute); None: every column on its own.
    """

    families: tuple[str, ...]
    metric: Metric
    n_folds: int
    seed: int
    monotone: tuple[int, ...] | None
    budget_s: float | None
    n_trials: int | None
    space: FeatureSpace | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyOutcome:
    """A finished study: every trial, the best complete one and its out-of-fold margins.

    ``skipped``: family -> why it was skipped (its first fit alone would exceed the budget).
    """

    study: optuna.Study
    best: optuna.trial.FrozenTrial
    oof: FloatArray
    skipped: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Best:
    """The best complete trial so far: its number, CV score and out-of-fold margins."""

    number: int
    score: float
    oof: FloatArray


class _Objective:
    """Cross-validated score of one trial; remembers the best trial's out-of-fold margins.

    With a ``deadline`` every fold is time-boxed: a fold that would end after it is not started
    (or is stopped, :class:`OutOfTime`) and the trial is pruned with the reason; a family whose
    first fit alone would overrun is skipped (``skipped``: family -> reason).
    """

    def __init__(self, design: FloatArray, y: NDArray[np.int64], settings: StudySettings) -> None:
        self.design, self.y, self.settings = design, y, settings
        folds = StratifiedKFold(n_splits=settings.n_folds, shuffle=True, random_state=settings.seed)
        self.folds = list(folds.split(design, y))
        self.best: _Best | None = None
        self.deadline: float | None = None
        self.skipped: dict[str, str] = {}
        self.fold_s: dict[str, float] = {}  # a family's shortest fold fit so far

    def __call__(self, trial: optuna.Trial) -> float:
        name = str(trial.suggest_categorical("family", self.settings.families))
        params = FAMILIES[name].suggest(trial)
        if name in self.skipped:
            _prune(trial, f"skipped: {self.skipped[name]}", by_budget=True)
        oof = np.zeros(len(self.y))
        scores: list[float] = []
        fit_times: list[float] = []
        for k, (train_idx, valid_idx) in enumerate(self.folds):
            self._check_time(trial, k, float(np.mean(fit_times)) if fit_times else None, name)
            start = time.perf_counter()
            estimator = self._fit(trial, name, params, train_idx, k)
            fit_times.append(time.perf_counter() - start)
            self.fold_s[name] = min(self.fold_s.get(name, np.inf), fit_times[-1])
            oof[valid_idx] = estimator.margin(self.design[valid_idx])
            scores.append(_SCORERS[self.settings.metric](self.y[valid_idx], oof[valid_idx]))
            trial.set_user_attr("fit_time_s", float(np.mean(fit_times)))
            trial.report(float(np.mean(scores)), k)
            if k < len(self.folds) - 1 and trial.should_prune():
                _prune(
                    trial,
                    f"pruned after fold {k + 1} of {len(self.folds)} "
                    f"(mean so far {np.mean(scores):.4f})",
                )
        score = float(np.mean(scores))
        trial.set_user_attr("cv_std", float(np.std(scores)))
        if self.best is None or score > self.best.score:
            self.best = _Best(number=trial.number, score=score, oof=oof)
        return score

    def _check_time(self, trial: optuna.Trial, k: int, fold_s: float | None, name: str) -> None:
        """Prune the trial when fold ``k`` would end after the deadline (fold time known)."""
        if self.deadline is None:
            return
        estimate = fold_s if fold_s is not None else self.fold_s.get(name)
        left = self.deadline - time.perf_counter()
        if left <= 0 or (estimate is not None and estimate > left):
            needs = "" if estimate is None else f": a fold takes about {estimate:.1f} s"
            _prune(
                trial,
                f"stopped by the budget before fold {k + 1} of {len(self.folds)}{needs}, "
                f"{max(left, 0.0):.1f} s left",
                by_budget=True,
            )

    def _fit(
        self, trial: optuna.Trial, name: str, params: dict[str, Any], rows: Any, k: int
    ) -> Estimator:
        """Fit fold ``k``; a failure is noted, a fit out of time prunes (or skips the family)."""
        try:
            return FAMILIES[name].fit(
                self.design[rows],
                self.y[rows],
                params,
                self.settings.seed,
                self.settings.monotone,
                self.settings.space,
                deadline=self.deadline,
            )
        except OutOfTime as exc:
            if name not in self.fold_s:
                self.skipped[name] = f"its first fit alone would exceed the budget ({exc.reason})"
            _prune(
                trial,
                f"stopped by the budget during fold {k + 1} of {len(self.folds)} ({exc.reason})",
                by_budget=True,
            )
        except _TRIAL_ERRORS as exc:
            trial.set_user_attr("note", f"failed: {type(exc).__name__}: {str(exc)[:160]}")
            raise


def _prune(trial: optuna.Trial, reason: str, *, by_budget: bool = False) -> NoReturn:
    """Stop ``trial`` as pruned, with ``reason`` in its ``note`` (and ``pruned_by``)."""
    trial.set_user_attr("note", reason)
    trial.set_user_attr("pruned_by", "budget" if by_budget else "pruner")
    raise optuna.TrialPruned()


def leaderboard(study: optuna.Study, metric: str) -> pd.DataFrame:
    """Return every trial of ``study``, best complete trial first (ties: earlier first).

    Only complete trials are ranked: they come first, best first, so a complete trial's
    position is its rank. Pruned (by the median rule or the budget) and failed trials follow,
    unranked, with their ``state``, no score and the reason in ``note``. Trials queued but
    never started (the study stopped first) are left out.

    Columns: ``trial``, ``family``, ``state``, ``cv_<metric>`` (NaN unless complete),
    ``cv_std``, ``fit_time_s``, ``params`` (without the family prefix) and ``note``.
    """
    rows = []
    for t in started_trials(study):
        family = str(t.params.get("family", ""))
        prefix = f"{family}."
        complete = t.state == optuna.trial.TrialState.COMPLETE
        rows.append(
            {
                "trial": t.number,
                "family": family,
                "state": t.state.name.lower(),
                f"cv_{metric}": t.value if complete and t.value is not None else np.nan,
                "cv_std": t.user_attrs.get("cv_std", np.nan),
                "fit_time_s": t.user_attrs.get("fit_time_s", np.nan),
                "params": {k[len(prefix) :]: v for k, v in t.params.items() if k != "family"},
                "note": t.user_attrs.get("note", ""),
            }
        )
    board = pd.DataFrame(rows)
    order = board[f"cv_{metric}"].fillna(-np.inf).to_numpy()
    ranked = board.iloc[np.lexsort((board["trial"].to_numpy(), -order))]
    return ranked.reset_index(drop=True)


def started_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Return the trials that ran (a queued trial the study stopped before is left out)."""
    return [t for t in study.trials if t.state != optuna.trial.TrialState.WAITING]


def _stopper(
    budget_s: float | None, started: float, progress: Callable[[TrialProgress], None] | None
) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    durations: list[float] = []

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        elapsed = time.perf_counter() - started
        if trial.duration is not None:
            durations.append(trial.duration.total_seconds())
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        best = max((t.value for t in done if t.value is not None), default=None)
        if progress is not None:
            progress(
                TrialProgress(
                    trial=trial.number,
                    family=str(trial.params.get("family", "")),
                    state=trial.state.name.lower(),
                    cv_score=trial.value,
                    best_score=best,
                    elapsed_s=elapsed,
                    budget_s=budget_s,
                )
            )
        if budget_s is None or not done:
            return
        if elapsed + max(durations[-10:]) > budget_s:
            study.stop()

    return callback


def _new_study(settings: StudySettings) -> optuna.Study:
    """Return a maximising study: seeded TPE sampler, median pruner, families' defaults queued."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=settings.seed, multivariate=True, group=True, n_startup_trials=8
        )
    pruner = optuna.pruners.MedianPruner(n_startup_trials=6, n_warmup_steps=1)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    for name in settings.families:
        study.enqueue_trial(FAMILIES[name].default_trial())
    return study


DEADLINE_SHARE = 0.95
"""Share of the study's budget its folds may use (the rest: calibration, test, overheads)."""
PILOT_ROWS = 2_000
"""Rows of the pilot fit that times the search (:func:`search_rows`)."""
MIN_SEARCH_ROWS = 1_000
"""The search never runs on fewer training rows than this (unless the data has fewer)."""


def search_rows(
    design: FloatArray, y: NDArray[np.int64], settings: StudySettings
) -> NDArray[np.intp] | None:
    """Return the rows the study searches on when the budget forces a sample, else None.

    A pilot fit of the first family's defaults on a stratified sample of at most
    :data:`PILOT_ROWS` rows is timed and scaled linearly to a fold; when one trial
    (``n_folds`` folds) would take more than half of ``settings.budget_s``, the search runs on a
    stratified sample sized for a trial to take a quarter of the budget (at least
    :data:`MIN_SEARCH_ROWS` rows), so that several trials fit.
    """
    budget, n = settings.budget_s, len(y)
    if budget is None or n <= MIN_SEARCH_ROWS:
        return None
    family = FAMILIES[settings.families[0]]
    pilot = _stratified(y, min(PILOT_ROWS, n), settings.seed)
    started = time.perf_counter()
    try:
        family.fit(
            design[pilot],
            y[pilot],
            family.defaults,
            settings.seed,
            settings.monotone,
            settings.space,
            deadline=started + budget / 2,
        )
    except OutOfTime:
        pass
    except _TRIAL_ERRORS:
        return None  # the study reports the family's failure
    fold_rows = n * (settings.n_folds - 1) / settings.n_folds
    trial_s = settings.n_folds * (time.perf_counter() - started) * fold_rows / len(pilot)
    if trial_s <= budget / 2:
        return None
    n_search = max(MIN_SEARCH_ROWS, int(n * budget / 4 / trial_s))
    return None if n_search >= n else _stratified(y, n_search, settings.seed)


def _stratified(y: NDArray[np.int64], n_rows: int, seed: int) -> NDArray[np.intp]:
    """Return ``n_rows`` sorted positions of ``y``, stratified by class (all rows if fewer)."""
    rows = np.arange(len(y))
    if n_rows >= len(y):
        return rows
    kept, _ = train_test_split(rows, train_size=n_rows, stratify=y, random_state=seed)
    return np.sort(np.asarray(kept, dtype=np.intp))


def run_study(
    design: FloatArray,
    y: NDArray[np.int64],
    settings: StudySettings,
    progress: Callable[[TrialProgress], None] | None = None,
) -> StudyOutcome:
    """Run the study on the training part (design rows and their 0/1 labels).

    Parameters
    ----------
    design, y
        The training part's design matrix and labels.
    settings
        Families, objective, folds, seed, monotone constraints and limits.
    progress
        Called after each trial.

    Raises
    ------
    ModelError
        No trial completed (every one failed or was pruned).
    """
    objective = _Objective(design, y, settings)
    before = optuna.logging.get_verbosity()  # no INFO line per trial; a caller's quieter
    optuna.logging.set_verbosity(max(before, optuna.logging.WARNING))  # setting stays
    study = _new_study(settings)
    started = time.perf_counter()
    if settings.budget_s is not None:  # 5 % left for the calibration, the test and overheads
        objective.deadline = started + DEADLINE_SHARE * settings.budget_s
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.optimize(
                objective,
                n_trials=settings.n_trials,
                timeout=settings.budget_s,
                callbacks=[_stopper(settings.budget_s, started, progress)],
                catch=_TRIAL_ERRORS,
            )
    finally:
        optuna.logging.set_verbosity(before)
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        errors = {t.user_attrs.get("note", "") for t in study.trials} - {""}
        raise ModelError(
            f"train: at least one trial must complete. Got {len(study.trials)} failed or pruned "
            f"trials{': ' + '; '.join(sorted(errors)) if errors else ''}. Hint: raise budget_s."
        )
    if objective.best is None:  # pragma: no cover - a complete trial sets it
        raise ModelError("train: at least one trial must complete. Got none.")
    return StudyOutcome(
        study=study,
        best=study.trials[objective.best.number],
        oof=objective.best.oof,
        skipped=dict(objective.skipped),
    )
