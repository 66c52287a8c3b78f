"""AutoML: an optuna study across model families and hyper-parameters, then calibration.

``train`` splits off a stratified test set, runs a TPE study (stratified k-fold
cross-validation, objective AUC or average precision) across the requested families — the
families' default settings are tried first, so the winner is never worse than the defaults on
cross-validation — fits a monotone calibrator on the winner's out-of-fold scores, refits the
winner on the whole training part and measures it on the test set.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from advisor.errors import ModelError
from advisor.models._data import ConstraintSource, TrainingData, prepare_training_data
from advisor.models._families import FAMILIES, check_families
from advisor.models._metrics import TestMetrics, evaluate
from advisor.models._propensity import CalibrationMethod, PropensityModel, fit_calibrator
from constraints import ConstraintSet
from counterfactuals import FeatureSpace

__all__ = [
    "TrainingReport",
    "TrainingResult",
    "TrialProgress",
    "monotone_constraints",
    "train",
    "training_split",
]

FloatArray = NDArray[np.float64]
Metric = Literal["roc_auc", "average_precision"]
# A trial failing with one of these is recorded as failed; the study goes on.
_TRIAL_ERRORS = (ValueError, RuntimeError, FloatingPointError, xgb.core.XGBoostError)
_Part = tuple[NDArray[np.intp], FloatArray, NDArray[np.int64]]
_METRICS: dict[str, Callable[[NDArray[np.int64], FloatArray], float]] = {
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
class TrainingReport:
    """How a model was trained: data, split, study and provenance (for the model card)."""

    target: str
    classes: tuple[Any, Any]
    features: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    n_rows: int
    n_train: int
    n_test: int
    positive_rate: float
    families: tuple[str, ...]
    excluded_families: tuple[str, ...]
    metric: str
    n_folds: int
    seed: int
    budget_s: float | None
    n_trials: int
    stopped_by: str
    monotone: bool
    calibration: str
    elapsed_s: float
    data_sha256: str
    constraint_sha256: str | None
    constraint_text: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingResult:
    """The calibrated winner, every trial of the study and the held-out test metrics.

    ``test_rows`` are the index labels of the held-out test clients in the training data.
    """

    model: PropensityModel
    leaderboard: pd.DataFrame
    metrics: TestMetrics
    report: TrainingReport
    constraints: ConstraintSet
    test_rows: pd.Index

    @property
    def best(self) -> pd.Series:
        """The leaderboard row of the selected model."""
        return self.leaderboard.iloc[0]


def monotone_constraints(constraints: ConstraintSet, space: FeatureSpace) -> tuple[int, ...]:
    """Return XGBoost's per-column monotone constraints from the levers' directions.

    An actionable feature whose direction is ``increase`` gets +1 (moving it up never lowers
    the score), ``decrease`` gets -1; categorical indicator columns and other features get 0.
    """
    signs = [0] * space.n_design
    for spec in constraints.features:
        if spec.role != "actionable" or spec.kind == "categorical" or spec.direction == "any":
            continue
        column = space.design_columns(spec.name).start
        signs[column] = 1 if spec.direction == "increase" else -1
    return tuple(signs)


@dataclass(frozen=True, slots=True)
class _Best:
    """The best complete trial so far: its number, CV score and out-of-fold margins."""

    number: int
    score: float
    oof: FloatArray


class _Objective:
    """Cross-validated score of one trial; remembers the best trial's out-of-fold margins."""

    def __init__(
        self,
        data: tuple[FloatArray, NDArray[np.int64]],
        families: tuple[str, ...],
        settings: tuple[Metric, int, int, tuple[int, ...] | None],
    ) -> None:
        self.design, self.y = data
        self.families = families
        self.metric, n_folds, self.seed, self.monotone = settings
        folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=self.seed)
        self.folds = list(folds.split(self.design, self.y))
        self.best: _Best | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        name = trial.suggest_categorical("family", self.families)
        family = FAMILIES[str(name)]
        params = family.suggest(trial)
        oof = np.zeros(len(self.y))
        scores: list[float] = []
        fit_times: list[float] = []
        for k, (train_idx, valid_idx) in enumerate(self.folds):
            start = time.perf_counter()
            try:
                estimator = family.fit(
                    self.design[train_idx], self.y[train_idx], params, self.seed, self.monotone
                )
            except _TRIAL_ERRORS as exc:
                trial.set_user_attr("note", f"failed: {type(exc).__name__}: {str(exc)[:160]}")
                raise
            fit_times.append(time.perf_counter() - start)
            oof[valid_idx] = estimator.margin(self.design[valid_idx])
            scores.append(_METRICS[self.metric](self.y[valid_idx], oof[valid_idx]))
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
            self.best = _Best(trial.number, score, oof)
        return score


def _leaderboard(study: optuna.Study, metric: str) -> pd.DataFrame:
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


def _check_settings(
    metric: object, n_folds: object, budget_s: object, n_trials: object, test_size: object
) -> None:
    if metric not in _METRICS:
        raise ModelError(f"metric: must be 'roc_auc' or 'average_precision'. Got {metric!r}.")
    if not isinstance(n_folds, int) or not 2 <= n_folds <= 20:
        raise ModelError(f"n_folds: must be a whole number from 2 to 20. Got {n_folds!r}.")
    if budget_s is not None and (not isinstance(budget_s, (int, float)) or budget_s <= 0):
        raise ModelError(f"budget_s: must be a positive number of seconds. Got {budget_s!r}.")
    if n_trials is not None and (not isinstance(n_trials, int) or n_trials < 1):
        raise ModelError(f"n_trials: must be a whole number >= 1. Got {n_trials!r}.")
    if budget_s is None and n_trials is None:
        raise ModelError("budget_s, n_trials: at least one must be set. Got neither.")
    if not isinstance(test_size, float) or not 0.05 <= test_size <= 0.5:
        raise ModelError(f"test_size: must be a fraction from 0.05 to 0.5. Got {test_size!r}.")


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


def _run_study(
    objective: _Objective,
    seed: int,
    limits: tuple[float | None, int | None],
    progress: Callable[[TrialProgress], None] | None,
) -> tuple[optuna.Study, float]:
    budget_s, n_trials = limits
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, n_startup_trials=8
        )
    pruner = optuna.pruners.MedianPruner(n_startup_trials=6, n_warmup_steps=1)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    for name in objective.families:
        study.enqueue_trial(FAMILIES[name].default_trial())
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.optimize(
            objective,
            n_trials=n_trials,
            timeout=budget_s,
            callbacks=[_stopper(budget_s, started, progress)],
            catch=_TRIAL_ERRORS,
        )
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        errors = {t.user_attrs.get("note", "") for t in study.trials} - {""}
        raise ModelError(
            f"train: at least one trial must complete. Got {len(study.trials)} failed or pruned "
            f"trials{': ' + '; '.join(sorted(errors)) if errors else ''}. Hint: raise budget_s."
        )
    return study, time.perf_counter() - started


def train(
    data: pd.DataFrame,
    target: str,
    constraints: ConstraintSource,
    *,
    families: str | tuple[str, ...] | list[str] = ("logistic", "xgboost", "mlp"),
    budget_s: float | None = 300.0,
    n_trials: int | None = None,
    metric: Metric = "roc_auc",
    positive: Any = None,
    monotone: bool = False,
    calibration: CalibrationMethod = "sigmoid",
    n_folds: int = 5,
    test_size: float = 0.2,
    seed: int = 0,
    progress: Callable[[TrialProgress], None] | None = None,
) -> TrainingResult:
    """Select, tune, calibrate and test a propensity model for one binary target.

    Parameters
    ----------
    data
        Clients in business values with the target column; columns that are not features
        of the constraint file are ignored (and listed in the report).
    target
        The binary target column.
    constraints
        The constraint file (its features are the model's features), or a bound set.
    families
        Model families to search among: ``logistic``, ``xgboost``, ``mlp``.
    budget_s
        Wall-clock budget of the whole run in seconds (study, refit and test).
    n_trials
        Maximum number of trials. With a budget that is not reached, the run is
        deterministic for a seed; the model card records how many trials ran.
    metric
        The cross-validation objective: ``roc_auc`` or ``average_precision``.
    positive
        The positive class of the target (inferred from yes/1/true when omitted).
    monotone
        Constrain XGBoost so that moving a lever in its allowed direction never lowers the
        score; families that cannot honour it are excluded (and listed in the report).
    calibration
        ``sigmoid`` (Platt; keeps the ranking) or ``isotonic``.
    n_folds
        Stratified cross-validation folds.
    test_size
        Fraction of rows held out for the test metrics.
    seed
        Seed of the split, the folds, the sampler and every model.
    progress
        Called after each trial (for progress bars).

    Returns
    -------
    TrainingResult
        The calibrated model, the leaderboard (every trial), the test metrics and a report.
    """
    started = time.perf_counter()
    names = check_families(families)
    _check_settings(metric, n_folds, budget_s, n_trials, test_size)
    if not isinstance(seed, int) or seed < 0:
        raise ModelError(f"seed: must be a whole number >= 0. Got {seed!r}.")
    prepared = prepare_training_data(data, target, constraints, positive)
    excluded = tuple(n for n in names if monotone and not FAMILIES[n].supports_monotone)
    names = tuple(n for n in names if n not in excluded)
    if not names:
        raise ModelError(
            f"families: monotone=True needs a family that supports it (xgboost). Got "
            f"{', '.join(excluded)}."
        )
    design = prepared.space.to_design(prepared.codes)
    split = _split(prepared, design, n_folds, test_size, seed)
    (_, x_train, y_train), (test_idx, x_test, y_test) = split
    signs = monotone_constraints(prepared.constraints, prepared.space) if monotone else None
    objective = _Objective((x_train, y_train), names, (metric, n_folds, seed, signs))
    remaining = None if budget_s is None else budget_s - (time.perf_counter() - started)
    study, _ = _run_study(objective, seed, (remaining, n_trials), progress)
    if objective.best is None:  # pragma: no cover - _run_study raises without a complete trial
        raise ModelError("train: at least one trial must complete. Got none.")
    best = study.trials[objective.best.number]
    family = FAMILIES[str(best.params["family"])]
    params = {k.split(".", 1)[1]: v for k, v in best.params.items() if k != "family"}
    calibrator = fit_calibrator(objective.best.oof, y_train, calibration)
    estimator = family.fit(x_train, y_train, params, seed, signs)
    model = PropensityModel(
        space=prepared.space,
        estimator=estimator,
        calibrator=calibrator,
        params=params,
        target=prepared.target,
        classes=prepared.classes,
    )
    metrics = evaluate(y_test, calibrator.transform(estimator.margin(x_test)))
    stopped_by = "n_trials" if n_trials is not None and len(study.trials) >= n_trials else "budget"
    run = {
        "metric": metric,
        "n_folds": n_folds,
        "seed": seed,
        "budget_s": budget_s,
        "stopped_by": stopped_by,
        "monotone": monotone,
        "calibration": calibration,
        "started": started,
    }
    report = _report(prepared, (len(y_train), len(y_test)), study, (names, excluded), run)
    return TrainingResult(
        model=model,
        leaderboard=_leaderboard(study, metric),
        metrics=metrics,
        report=report,
        constraints=prepared.constraints,
        test_rows=prepared.index[test_idx],
    )


def _split(
    prepared: TrainingData, design: FloatArray, n_folds: int, test_size: float, seed: int
) -> tuple[_Part, _Part]:
    y = prepared.y
    n_pos = int(y.sum())
    n_min = min(n_pos, len(y) - n_pos)
    needed = int(np.ceil(n_folds / (1.0 - test_size))) + 2
    if n_min < needed:
        raise ModelError(
            f"target {prepared.target!r}: each class must have at least {needed} rows for "
            f"{n_folds}-fold cross-validation and a test set. Got {n_pos} positive and "
            f"{len(y) - n_pos} negative rows."
        )
    train_idx, test_idx = training_split(y, test_size=test_size, seed=seed)
    return (train_idx, design[train_idx], y[train_idx]), (test_idx, design[test_idx], y[test_idx])


def training_split(
    y: NDArray[np.int64], *, test_size: float = 0.2, seed: int = 0
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the (train, test) row positions :func:`train` uses for 0/1 labels ``y``.

    The split is stratified and seeded, so evidence and diagnostics can find the exact
    training clients of a bundle's model again from the same data.
    """
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise ModelError("y: must be a 1-d array of 0/1 labels. Got another array.")
    if not 0.0 < test_size < 1.0:
        raise ModelError(f"test_size: must be strictly between 0 and 1. Got {test_size}.")
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=test_size, stratify=labels, random_state=seed
    )
    return np.asarray(train_idx, dtype=np.int64), np.asarray(test_idx, dtype=np.int64)


def _report(
    prepared: TrainingData,
    sizes: tuple[int, int],
    study: optuna.Study,
    families: tuple[tuple[str, ...], tuple[str, ...]],
    run: dict[str, Any],
) -> TrainingReport:
    return TrainingReport(
        target=prepared.target,
        classes=prepared.classes,
        features=prepared.space.names,
        ignored_columns=prepared.ignored_columns,
        n_rows=len(prepared.y),
        n_train=sizes[0],
        n_test=sizes[1],
        positive_rate=float(prepared.y.mean()),
        families=families[0],
        excluded_families=families[1],
        metric=run["metric"],
        n_folds=run["n_folds"],
        seed=run["seed"],
        budget_s=run["budget_s"],
        n_trials=len(study.trials),
        stopped_by=run["stopped_by"],
        monotone=run["monotone"],
        calibration=run["calibration"],
        elapsed_s=time.perf_counter() - run["started"],
        data_sha256=prepared.data_sha256,
        constraint_sha256=prepared.constraint_sha256,
        constraint_text=prepared.constraint_text,
    )
