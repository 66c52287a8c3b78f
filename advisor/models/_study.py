"""The optuna study behind :func:`~advisor.models.train`: objective, stopper and leaderboard.

Each trial picks a family and its hyper-parameters (TPE sampler), and is scored by stratified
k-fold cross-validation on the training part (AUC or average precision). The families' default
settings are enqueued first, so the winner is never worse than the defaults on cross-validation;
a median pruner stops weak trials after a fold; a stopper ends the study when the next trial
and the winner's final refit would overrun the budget.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from advisor.errors import ModelError
from advisor.models._families import FAMILIES
from counterfactuals import FeatureSpace

__all__ = [
    "METRICS",
    "Metric",
    "StudyOutcome",
    "StudySettings",
    "TrialProgress",
    "leaderboard",
    "run_study",
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
    """What a progress display needs after each trial."""

    trial: int
    family: str
    state: str
    cv_score: float | None
    best_score: float | None
    elapsed_s: float
    budget_s: float | None


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
    """A finished study: every trial, the best complete one and its out-of-fold margins."""

    study: optuna.Study
    best: optuna.trial.FrozenTrial
    oof: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True)
class _Best:
    """The best complete trial so far: its number, CV score and out-of-fold margins."""

    number: int
    score: float
    oof: FloatArray


class _Objective:
    """Cross-validated score of one trial; remembers the best trial's out-of-fold margins."""

    def __init__(self, design: FloatArray, y: NDArray[np.int64], settings: StudySettings) -> None:
        self.design, self.y, self.settings = design, y, settings
        folds = StratifiedKFold(n_splits=settings.n_folds, shuffle=True, random_state=settings.seed)
        self.folds = list(folds.split(design, y))
        self.best: _Best | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        name = trial.suggest_categorical("family", self.settings.families)
        family = FAMILIES[str(name)]
        params = family.suggest(trial)
        oof = np.zeros(len(self.y))
        scores: list[float] = []
        fit_times: list[float] = []
        for k, (train_idx, valid_idx) in enumerate(self.folds):
            start = time.perf_counter()
            try:
                estimator = family.fit(
                    self.design[train_idx],
                    self.y[train_idx],
                    params,
                    self.settings.seed,
                    self.settings.monotone,
                    self.settings.space,
                )
            except _TRIAL_ERRORS as exc:
                trial.set_user_attr("note", f"failed: {type(exc).__name__}: {str(exc)[:160]}")
                raise
            fit_times.append(time.perf_counter() - start)
            oof[valid_idx] = estimator.margin(self.design[valid_idx])
            scores.append(_SCORERS[self.settings.metric](self.y[valid_idx], oof[valid_idx]))
            trial.set_user_attr("fit_time_s", float(np.mean(fit_times)))
            trial.report(float(np.mean(scores)), k)
            if k < len(self.folds) - 1 and trial.should_prune():
                trial.set_user_attr(
                    "note",
                    f"pruned after fold {k + 1} of {len(self.folds)} "
                    f"(mean so far {np.mean(scores):.4f})",
                )
                raise optuna.TrialPruned()
        score = float(np.mean(scores))
        trial.set_user_attr("cv_std", float(np.std(scores)))
        if self.best is None or score > self.best.score:
            self.best = _Best(number=trial.number, score=score, oof=oof)
        return score


def leaderboard(study: optuna.Study, metric: str) -> pd.DataFrame:
    """Return every trial of ``study``, best complete trial first (ties: earlier first).

    Columns: ``trial``, ``family``, ``state``, ``cv_<metric>`` (NaN unless complete),
    ``cv_std``, ``fit_time_s``, ``params`` (without the family prefix) and ``note``.
    """
    rows = []
    for t in study.trials:
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
        final_fit = 1.5 * float(study.best_trial.user_attrs.get("fit_time_s", 0.0))
        if elapsed + max(durations[-10:]) + final_fit > budget_s:
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
        study=study, best=study.trials[objective.best.number], oof=objective.best.oof
    )
