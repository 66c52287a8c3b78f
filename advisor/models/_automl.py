"""AutoML: an optuna study across model families and hyper-parameters, then calibration.

``train`` checks its parameters against :data:`TRAIN_PARAMS`, splits off a stratified test
set, runs the study (:mod:`advisor.models._study`: stratified k-fold cross-validation,
objective AUC or average precision, the families' defaults tried first, so the winner is never
worse than the defaults on cross-validation), fits a monotone calibrator on the winner's
out-of-fold scores, refits the winner on the whole training part and measures it on the test
set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.datasets import find_id_column
from advisor.errors import DatasetError, ModelError
from advisor.models._data import (
    ConstraintSource,
    DesignSplit,
    TrainingData,
    prepare_training_data,
    split_design,
)
from advisor.models._families import FAMILIES
from advisor.models._label import check_product_label
from advisor.models._leaderboard import leaderboard, started_trials
from advisor.models._metrics import TestMetrics, evaluate
from advisor.models._pilot import plan_search
from advisor.models._propensity import CalibrationMethod, PropensityModel, fit_calibrator
from advisor.models._study import (
    DEADLINE_SHARE,
    METRICS,
    Metric,
    StudyOutcome,
    StudySettings,
    TrialProgress,
    run_study,
)
from constraints import (
    GOALS,
    AnyOf,
    ConstraintSet,
    Flag,
    Number,
    OneOf,
    ParamSpec,
    Whole,
    check_params,
)
from counterfactuals import FeatureSpace

__all__ = [
    "MAX_BUDGET_S",
    "MAX_SEED",
    "MAX_TRIALS",
    "TRAIN_PARAMS",
    "TrainingReport",
    "TrainingResult",
    "monotone_constraints",
    "train",
]


def _is_families(value: Any) -> bool:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names:
        return False
    return all(isinstance(name, str) and name in FAMILIES for name in names)


MAX_BUDGET_S = 86_400.0  # 24 h: the longest run train accepts
MAX_TRIALS = 10_000
MAX_SEED = 2**32 - 1  # scikit-learn's random_state is 32-bit

TRAIN_PARAMS: ParamSpec = {
    "families": AnyOf(
        _is_families, f"one or more of {', '.join(FAMILIES)} (a name, a list or a tuple)"
    ),
    "budget_s": (Number(0.0, MAX_BUDGET_S, low_open=True, unit="seconds"), None),
    "n_trials": (Whole(1, MAX_TRIALS), None),
    "metric": OneOf(METRICS),
    "monotone": Flag(),
    "calibration": OneOf(("sigmoid", "isotonic")),
    "n_folds": Whole(2, 20),
    "test_size": Number(0.05, 0.5),
    "seed": Whole(0, MAX_SEED),
    "progress": (AnyOf(callable, "a callable taking a TrialProgress"), None),
    "goal": (OneOf(GOALS), None),
}
"""The rules of :func:`train`'s parameters (``budget_s`` and ``n_trials`` may not both be None)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingReport:
    """How a model was trained: data, split, study and provenance (for the model card).

    ``skipped_families``: family -> why the study skipped it (its trials could not finish
    within the budget left). ``refit_estimate_s``: the final refit's duration as announced
    before it started (the winner's slowest fold fit scaled by the training rows);
    ``refit_s``: as measured. ``elapsed_s`` includes the refit. ``n_search``: the training
    rows the study searched on (``n_train`` unless the budget forced a stratified sample; the
    refit always uses all ``n_train`` rows).
    """

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
    metric: Metric
    n_folds: int
    seed: int
    budget_s: float | None
    n_trials: int
    stopped_by: Literal["n_trials", "budget"]
    monotone: bool
    calibration: CalibrationMethod
    elapsed_s: float
    data_sha256: str
    constraint_sha256: str | None
    constraint_text: str | None
    goal: Literal["raise", "lower"] = "raise"
    label: dict[str, str] | None = None
    id_column: str | None = None
    skipped_families: dict[str, str] = field(default_factory=dict)
    n_search: int = 0
    refit_estimate_s: float = 0.0
    refit_s: float = 0.0


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


def monotone_constraints(
    constraints: ConstraintSet,
    space: FeatureSpace,
    goal: Literal["raise", "lower"] | None = None,
) -> tuple[int, ...]:
    """Return XGBoost's per-column monotone constraints from the levers' directions.

    An actionable feature whose direction is ``increase`` gets +1 (moving it up never lowers
    the score), ``decrease`` gets -1; categorical indicator columns and other features get 0.
    For a risk score (``goal`` is ``lower``; ``None``: the set's ``goal``) the signs flip:
    moving a lever in its allowed direction never raises the risk.
    """
    flip = -1 if (goal or constraints.goal) == "lower" else 1
    signs = [0] * space.n_design
    for spec in constraints.features:
        if spec.role != "actionable" or spec.kind == "categorical" or spec.direction == "any":
            continue
        column = space.design_columns(spec.name).start
        signs[column] = flip * (1 if spec.direction == "increase" else -1)
    return tuple(signs)


@dataclass(frozen=True, slots=True, kw_only=True)
class _TrainOptions:
    """:func:`train`'s parameters, checked; ``families`` are those the study may use."""

    families: tuple[str, ...]
    excluded_families: tuple[str, ...]
    budget_s: float | None
    n_trials: int | None
    metric: Metric
    monotone: bool
    calibration: CalibrationMethod
    n_folds: int
    test_size: float
    seed: int
    goal: Literal["raise", "lower"] | None


def _options(values: Mapping[str, Any]) -> _TrainOptions:
    """Check :func:`train`'s parameters against :data:`TRAIN_PARAMS` and resolve the families."""
    checked = check_params(values, TRAIN_PARAMS, error=ModelError)
    if checked["budget_s"] is None and checked["n_trials"] is None:
        raise ModelError("budget_s, n_trials: at least one must be set. Got neither.")
    given = checked["families"]
    names = tuple(dict.fromkeys((given,) if isinstance(given, str) else given))
    monotone: bool = checked["monotone"]
    excluded = tuple(n for n in names if monotone and not FAMILIES[n].supports_monotone)
    if len(excluded) == len(names):
        raise ModelError(
            f"families: monotone=True needs a family that supports it (xgboost). Got "
            f"{', '.join(excluded)}."
        )
    return _TrainOptions(
        families=tuple(n for n in names if n not in excluded),
        excluded_families=excluded,
        budget_s=checked["budget_s"],
        n_trials=checked["n_trials"],
        metric=checked["metric"],
        monotone=monotone,
        calibration=checked["calibration"],
        n_folds=checked["n_folds"],
        test_size=checked["test_size"],
        seed=checked["seed"],
        goal=checked["goal"],
    )


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
    goal: Literal["raise", "lower"] | None = None,
    label: str | Mapping[str, str] | None = None,
    id_column: str | None = None,
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
        Wall-clock budget in seconds (finite, above 0, at most 86,400 = 24 h), kept within
        10 % plus the final refit: every trial is time-boxed (a trial that would overrun is
        pruned, with the reason in the leaderboard's ``note``; a family whose trials cannot
        finish is skipped, ``report.skipped_families``); the refit on the whole
        training part comes after, estimated and announced first (a ``TrialProgress`` with
        ``state == "refit"``). A budget is not reproducible across machines; ``n_trials``
        with ``budget_s=None`` is.
    n_trials
        Maximum number of trials, from 1 to 10,000. With a budget that is not reached, the run is
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
        Seed of the split, the folds, the sampler and every model, from 0 to 2**32 - 1.
    progress
        Called after each trial (for progress bars), and once before the final refit with
        its estimated duration (``state == "refit"``, ``refit_s``).
    goal
        ``raise`` (a propensity: levers lift the score) or ``lower`` (a risk score: the
        positive class is the bad outcome and levers bring it down); ``None``: the constraint
        file's ``goal``. Recorded in the report and the model card.
    label
        The product's name for advisors: a text, or ``{"en": ..., "fr": ...}`` (French
        optional), at most 200 characters; recorded in the model card (``None``: the target
        and positive class, e.g. ``credit risk: bad``).
    id_column
        The column of client ids in ``data``; None: the constraint file's ``id_column``,
        else detected as ``advisor.datasets.index_clients`` does (None when the data has
        none). Binding errors name rows by it (and by file line). Recorded in
        the report and the model card, so that the bundle's clients are looked up by it.

    Returns
    -------
    TrainingResult
        The calibrated model, the leaderboard (every trial), the test metrics and a report.

    Raises
    ------
    ModelError
        A parameter breaks :data:`TRAIN_PARAMS` (``<name>: must be <rule>. Got <value>.``),
        neither ``budget_s`` nor ``n_trials`` is set, the data does not fit the constraint
        file or the target, preparing the data spends the budget, or no trial completes (the
        message names each family's reason and, with a budget, the fixes).
    """
    started = time.perf_counter()
    options = _options(
        {
            "families": families,
            "budget_s": budget_s,
            "n_trials": n_trials,
            "metric": metric,
            "monotone": monotone,
            "calibration": calibration,
            "n_folds": n_folds,
            "test_size": test_size,
            "seed": seed,
            "progress": progress,
            "goal": goal,
        }
    )
    product_label = check_product_label(label)
    prepared = prepare_training_data(data, target, constraints, positive, id_column=id_column)
    direction = options.goal or prepared.constraints.goal
    try:
        ids = find_id_column(data, id_column, declared=prepared.constraints.id_column)
    except DatasetError as exc:
        raise ModelError(str(exc)) from exc
    split = split_design(
        prepared, n_folds=options.n_folds, test_size=options.test_size, seed=options.seed
    )
    remaining = None
    if options.budget_s is not None:
        remaining = options.budget_s - (time.perf_counter() - started)
    signs = None
    if options.monotone:
        signs = monotone_constraints(prepared.constraints, prepared.space, direction)
    settings = StudySettings(
        families=options.families,
        metric=options.metric,
        n_folds=options.n_folds,
        seed=options.seed,
        monotone=signs,
        budget_s=remaining,
        n_trials=options.n_trials,
        space=prepared.space,
    )
    _check_time_left(options.budget_s, started)
    sample = plan_search(split.x_train, split.y_train, settings).rows
    if options.budget_s is not None:  # what the pilot fits left
        _check_time_left(options.budget_s, started)
        remaining = options.budget_s - (time.perf_counter() - started)
        settings = replace(settings, budget_s=remaining)
    searched = (split.x_train, split.y_train)
    if sample is not None:  # the budget forces a stratified sample; the refit uses every row
        searched = (split.x_train[sample], split.y_train[sample])
    outcome = run_study(*searched, settings, progress)
    refit = _announce_refit(outcome, settings, (searched[1], split.y_train), progress, started)
    refit_started = time.perf_counter()
    model = _fit_winner(prepared, split, outcome, settings, (options.calibration, searched[1]))
    refit = (refit[0], time.perf_counter() - refit_started)
    metrics = evaluate(
        split.y_test, model.calibrator.transform(model.estimator.margin(split.x_test))
    )
    return TrainingResult(
        model=model,
        leaderboard=leaderboard(outcome.study, options.metric),
        metrics=metrics,
        report=replace(
            _report(prepared, split, outcome, options, started, refit),
            goal=direction,
            id_column=ids,
            label=product_label,
        ),
        constraints=prepared.constraints,
        test_rows=prepared.index[split.test_rows],
    )


def _check_time_left(budget_s: float | None, started: float) -> None:
    """Refuse a budget that preparing the data (and timing the families) has already spent."""
    if budget_s is None:
        return
    spent = time.perf_counter() - started
    if spent >= DEADLINE_SHARE * budget_s:
        raise ModelError(
            f"budget_s: must leave time for the search after preparing the data (and timing "
            f"the families on a sample), which took {spent:.2f} s. Got {budget_s:g} s. Hint: "
            "raise budget_s (levers train --budget-s), or train on fewer rows."
        )


def _announce_refit(
    outcome: StudyOutcome,
    settings: StudySettings,
    labels: tuple[NDArray[np.int64], NDArray[np.int64]],
    progress: Callable[[TrialProgress], None] | None,
    started: float,
) -> tuple[float, float]:
    """Estimate the final refit (slowest fold fit x rows ratio) and announce it first.

    ``labels``: the rows searched and the whole training part (the refit's rows). The slowest
    fold, not the mean: the estimate is part of the budget's promise.
    """
    fold_rows = len(labels[0]) * (settings.n_folds - 1) / settings.n_folds
    attrs = outcome.best.user_attrs
    fold_s = float(attrs.get("fit_max_s", attrs.get("fit_time_s", 0.0)))
    estimate = fold_s * len(labels[1]) / fold_rows
    if progress is not None:
        progress(
            TrialProgress(
                trial=outcome.best.number,
                family=str(outcome.best.params["family"]),
                state="refit",
                cv_score=outcome.best.value,
                best_score=outcome.best.value,
                elapsed_s=time.perf_counter() - started,
                budget_s=settings.budget_s,
                refit_s=estimate,
            )
        )
    return estimate, 0.0


def _fit_winner(
    prepared: TrainingData,
    split: DesignSplit,
    outcome: StudyOutcome,
    settings: StudySettings,
    calibration: tuple[CalibrationMethod, NDArray[np.int64]],
) -> PropensityModel:
    """Calibrate the best trial on its out-of-fold margins, refit it on the training part.

    ``calibration``: the method and the labels of the rows searched (the margins' rows).
    """
    family = FAMILIES[str(outcome.best.params["family"])]
    params = {k.split(".", 1)[1]: v for k, v in outcome.best.params.items() if k != "family"}
    calibrator = fit_calibrator(outcome.oof, calibration[1], calibration[0])
    estimator = family.fit(
        split.x_train, split.y_train, params, settings.seed, settings.monotone, settings.space
    )
    return PropensityModel(
        space=prepared.space,
        estimator=estimator,
        calibrator=calibrator,
        params=params,
        target=prepared.target,
        classes=prepared.classes,
    )


def _report(
    prepared: TrainingData,
    split: DesignSplit,
    outcome: StudyOutcome,
    options: _TrainOptions,
    started: float,
    refit: tuple[float, float],
) -> TrainingReport:
    n_trials = len(started_trials(outcome.study))
    limit = options.n_trials
    return TrainingReport(
        target=prepared.target,
        classes=prepared.classes,
        features=prepared.space.names,
        ignored_columns=prepared.ignored_columns,
        n_rows=len(prepared.y),
        n_train=len(split.y_train),
        n_test=len(split.y_test),
        positive_rate=float(prepared.y.mean()),
        families=options.families,
        excluded_families=options.excluded_families,
        metric=options.metric,
        n_folds=options.n_folds,
        seed=options.seed,
        budget_s=options.budget_s,
        n_trials=n_trials,
        stopped_by="n_trials" if limit is not None and n_trials >= limit else "budget",
        monotone=options.monotone,
        calibration=options.calibration,
        elapsed_s=time.perf_counter() - started,
        data_sha256=prepared.data_sha256,
        constraint_sha256=prepared.constraint_sha256,
        constraint_text=prepared.constraint_text,
        skipped_families=dict(outcome.skipped),
        n_search=len(outcome.oof),
        refit_estimate_s=refit[0],
        refit_s=refit[1],
    )
