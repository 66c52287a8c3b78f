"""The optuna study behind :func:`~advisor.models.train`: objective and stopper.

Each trial picks a family and its hyper-parameters (TPE sampler), and is scored by stratified
k-fold cross-validation on the training part (AUC or average precision). The families' default
settings are enqueued first, so the winner is never worse than the defaults on cross-validation;
a median pruner stops weak trials after a fold; with a budget every trial is time-boxed (a trial
whose folds left would end after the budget is not continued, a fit that would overrun is
stopped, and the trial is pruned with the reason; a family whose trials cannot finish is
skipped, see :class:`_Objective`) and a stopper ends the study when the next trial would
overrun it, or when every family is skipped.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import numpy as np
import optuna
import xgboost as xgb
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from advisor.errors import ModelError
from advisor.models._deadline import OutOfTime
from advisor.models._families import FAMILIES, Estimator
from advisor.models._leaderboard import started_trials
from counterfactuals import FeatureSpace

__all__ = [
    "DEADLINE_SHARE",
    "MAX_TIME_PRUNES",
    "METRICS",
    "TRIAL_ERRORS",
    "Metric",
    "StudyOutcome",
    "StudySettings",
    "TrialProgress",
    "run_study",
]

FloatArray = NDArray[np.float64]
Metric = Literal["roc_auc", "average_precision"]
METRICS: tuple[Metric, ...] = ("roc_auc", "average_precision")
# A trial failing with one of these is recorded as failed; the study goes on.
TRIAL_ERRORS = (ValueError, RuntimeError, FloatingPointError, xgb.core.XGBoostError)
_SCORERS: dict[str, Callable[[NDArray[np.int64], FloatArray], float]] = {
    "roc_auc": lambda y, s: float(roc_auc_score(y, s)),
    "average_precision": lambda y, s: float(average_precision_score(y, s)),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialProgress:
    """What a progress display needs after each trial, and once before the final refit.

    The refit event has ``state == "refit"``, the winner's ``trial``, ``family`` and score, and
    ``refit_s``: the refit's estimated seconds (the winner's slowest fold fit scaled by the
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

    ``skipped``: family -> why it was skipped (its trials cannot finish within the budget),
    for the families that completed no trial (one that did, then ran out of time near the end
    of the budget, is skipped too, its later trials noted ``skipped: …``, but not listed).
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


MAX_TIME_PRUNES = 3
"""A family is skipped once this many of its trials were stopped by the budget."""


class _Objective:
    """Cross-validated score of one trial; remembers the best trial's out-of-fold margins.

    With a ``deadline`` every trial is time-boxed: before each fold, a trial whose folds left
    would end after it (at this trial's mean fold time, or the family's fastest fold) is
    pruned with the reason, and so is a trial whose fit would overrun (:class:`OutOfTime`).
    A family is skipped (``skipped``: family -> reason; its later trials pruned at once) when
    its first fit alone would overrun, when one of its trials is stopped and a whole trial at
    its fastest fold no longer fits in what is left, or after :data:`MAX_TIME_PRUNES` of its
    trials were stopped. The study stops once every family is skipped or the time is spent.
    """

    def __init__(self, design: FloatArray, y: NDArray[np.int64], settings: StudySettings) -> None:
        self.design, self.y, self.settings = design, y, settings
        folds = StratifiedKFold(n_splits=settings.n_folds, shuffle=True, random_state=settings.seed)
        self.folds = list(folds.split(design, y))
        self.best: _Best | None = None
        self.deadline: float | None = None
        self.skipped: dict[str, str] = {}
        self.fold_s: dict[str, float] = {}  # a family's shortest fold fit so far
        self.time_prunes: dict[str, int] = {}  # a family's trials stopped by the budget

    def __call__(self, trial: optuna.Trial) -> float:
        name = str(trial.suggest_categorical("family", self.settings.families))
        params = FAMILIES[name].suggest(trial)
        if name in self.skipped:
            self._stop_when_nothing_can_run(trial)
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
            trial.set_user_attr("fit_max_s", max(fit_times))  # for the refit's estimate
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
        """Prune the trial when its folds from ``k`` on would end after the deadline."""
        if self.deadline is None:
            return
        estimate = fold_s if fold_s is not None else self.fold_s.get(name)
        left = self.deadline - time.perf_counter()
        n_left = len(self.folds) - k
        if left <= 0 or (estimate is not None and n_left * estimate > left):
            needs = (
                "" if estimate is None else f": {n_left} folds take about {n_left * estimate:.1f} s"
            )
            self._out_of_time(
                trial,
                name,
                f"stopped by the budget before fold {k + 1} of {len(self.folds)}{needs}, "
                f"{max(left, 0.0):.1f} s left",
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
            self._out_of_time(
                trial,
                name,
                f"stopped by the budget during fold {k + 1} of {len(self.folds)} ({exc.reason})",
            )
        except TRIAL_ERRORS as exc:
            trial.set_user_attr("note", f"failed: {type(exc).__name__}: {str(exc)[:160]}")
            raise

    def _out_of_time(self, trial: optuna.Trial, name: str, note: str) -> NoReturn:
        """Prune a trial stopped by the budget; skip its family when its trials cannot finish."""
        self.time_prunes[name] = self.time_prunes.get(name, 0) + 1
        left = (self.deadline or 0.0) - time.perf_counter()
        fastest = self.fold_s.get(name)
        n_folds = len(self.folds)
        if name in self.skipped or left <= 0:
            pass
        elif fastest is not None and n_folds * fastest > left:
            self.skipped[name] = (
                f"its trials cannot finish in the time left: one takes about "
                f"{n_folds * fastest:.1f} s ({n_folds} folds of {fastest:.1f} s at its fastest), "
                f"{left:.1f} s were left"
            )
        elif self.time_prunes[name] >= MAX_TIME_PRUNES:
            self.skipped[name] = f"{MAX_TIME_PRUNES} of its trials were stopped by the budget"
        self._stop_when_nothing_can_run(trial)
        _prune(trial, note, by_budget=True)

    def _stop_when_nothing_can_run(self, trial: optuna.Trial) -> None:
        """Stop the study once the time is spent or every family is skipped."""
        left = None if self.deadline is None else self.deadline - time.perf_counter()
        if (left is not None and left <= 0) or set(self.settings.families) <= set(self.skipped):
            trial.study.stop()


def _prune(trial: optuna.Trial, reason: str, *, by_budget: bool = False) -> NoReturn:
    """Stop ``trial`` as pruned, with ``reason`` in its ``note`` (and ``pruned_by``)."""
    trial.set_user_attr("note", reason)
    trial.set_user_attr("pruned_by", "budget" if by_budget else "pruner")
    raise optuna.TrialPruned()


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
        No trial completed (every one failed or was pruned): the message gives each family's
        reason and, when the budget stopped them, the fixes (a larger budget, fewer rows,
        fewer families).
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
                catch=TRIAL_ERRORS,
            )
    finally:
        optuna.logging.set_verbosity(before)
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        raise _no_complete_trial(study, objective)
    if objective.best is None:  # pragma: no cover - a complete trial sets it
        raise ModelError("train: at least one trial must complete. Got none.")
    return StudyOutcome(
        study=study,
        best=study.trials[objective.best.number],
        oof=objective.best.oof,
        skipped={k: v for k, v in objective.skipped.items() if k not in _completed(study)},
    )


def _completed(study: optuna.Study) -> set[str]:
    """Return the families with a complete trial."""
    done = optuna.trial.TrialState.COMPLETE
    return {str(t.params.get("family", "")) for t in study.trials if t.state == done}


def _no_complete_trial(study: optuna.Study, objective: _Objective) -> ModelError:
    """Say why no trial completed: each skipped family's reason, else every trial's note."""
    trials = started_trials(study)
    skipped = objective.skipped
    notes = {
        str(t.user_attrs.get("note", ""))
        for t in trials
        if str(t.params.get("family", "")) not in skipped
    } - {""}
    reasons = [f"{name} skipped: {why}" for name, why in skipped.items()] + sorted(notes)
    n_trials = f"{len(trials)} trial{'' if len(trials) == 1 else 's'}"
    got = f"Got {n_trials}, none complete{': ' if reasons else ''}{'; '.join(reasons)}."
    budget = objective.settings.budget_s
    if not any(t.user_attrs.get("pruned_by") == "budget" for t in trials) or budget is None:
        return ModelError(f"train: at least one trial must complete. {got}")
    return ModelError(
        f"train: at least one trial must complete within the budget (budget_s; the search had "
        f"{budget:.1f} s of it). {got} Hint: raise budget_s (levers train --budget-s), train on "
        "fewer rows, or leave the slow families out (families; levers train --families)."
    )
