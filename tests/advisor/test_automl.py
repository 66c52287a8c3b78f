"""AutoML: one feature space, three families, leaderboard, calibration, determinism, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.errors import ModelError
from advisor.models import TrainingResult, fit_calibrator, monotone_constraints, train
from constraints import ConstraintSet
from counterfactuals import FeatureSpace

FAMILY_NAMES = ("logistic", "xgboost", "mlp")


def non_holders(clients: pd.DataFrame) -> pd.DataFrame:
    return clients.loc[~clients["has_life_insurance"]]


def quick_train(
    clients: pd.DataFrame, constraints: ConstraintSet, **options: Any
) -> TrainingResult:
    """Train on life-insurance take-up among non-holders: few trials, 3 folds, no budget."""
    settings: dict[str, Any] = {"n_trials": 2, "budget_s": None, "n_folds": 3, **options}
    return train(non_holders(clients), "take_life_insurance", constraints, **settings)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_every_family_trains_a_calibrated_model(trained: dict[str, Any], family: str) -> None:
    result: TrainingResult = trained[family]
    assert result.model.family == family
    m = result.metrics
    assert 0.6 < m.auc <= 1.0, m
    assert 0.0 < m.brier < 0.25
    assert sum(m.calibration_count) == m.n_test
    assert all(0.0 <= p <= 1.0 for p in m.calibration_predicted)
    # calibrated: the mean prediction on the test set is close to the observed rate
    mean_prediction = float(np.dot(m.calibration_predicted, m.calibration_count)) / m.n_test
    assert abs(mean_prediction - m.positive_rate) < 0.05
    board = result.leaderboard
    assert list(board.columns) == [
        "trial",
        "family",
        "state",
        "cv_roc_auc",
        "cv_std",
        "fit_time_s",
        "params",
        "note",
    ]
    assert (board["family"] == family).all()
    assert board["fit_time_s"].gt(0).all()


def test_models_take_business_frames_in_the_constraint_files_order(
    trained: dict[str, Any], model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    model = trained["xgboost"].model
    assert model.feature_names == model_constraints.feature_names
    clients = model_clients.head(50)
    shuffled = clients[list(reversed(clients.columns))]
    np.testing.assert_array_equal(model.score(clients), model.score(shuffled))
    codes = FeatureSpace.from_constraints(model_constraints).to_codes(clients)
    np.testing.assert_array_equal(model.score(clients), model.score_codes(codes))
    proba = model.predict_proba(clients)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(clients)) <= {False, True}
    with pytest.raises(ModelError, match=r"^clients: must be a DataFrame .* Got a numpy array"):
        model.score(codes)
    report = trained["xgboost"].report
    assert "client_id" in report.ignored_columns
    assert "take_savings_account" in report.ignored_columns
    assert "take_life_insurance" not in report.ignored_columns


def test_same_seed_same_model_bit_for_bit(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    def run(seed: int) -> TrainingResult:
        return quick_train(
            model_clients,
            model_constraints,
            families=("logistic", "xgboost"),
            n_trials=4,
            seed=seed,
        )

    first, second, other = run(3), run(3), run(4)
    columns = ["trial", "family", "state", "cv_roc_auc", "params"]
    pd.testing.assert_frame_equal(first.leaderboard[columns], second.leaderboard[columns])
    clients = model_clients.head(200)
    np.testing.assert_array_equal(first.model.score(clients), second.model.score(clients))
    assert first.metrics == second.metrics
    assert not first.leaderboard[columns].equals(other.leaderboard[columns])
    # the defaults are tried first: trial 0 is logistic with C=1, trial 1 default XGBoost
    params = dict(zip(first.leaderboard["trial"], first.leaderboard["params"], strict=True))
    assert params[0] == {"C": 1.0}
    assert params[1]["n_estimators"] == 100


def test_monotone_xgboost_never_lowers_the_score_along_a_lever(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    result = quick_train(
        model_clients, model_constraints, families=("logistic", "xgboost"), monotone=True
    )
    assert result.model.family == "xgboost"
    assert result.report.excluded_families == ("logistic",)
    space = result.model.space
    signs = monotone_constraints(model_constraints, space)
    assert signs[space.design_columns("monthly_savings_transfer").start] == 1
    assert signs[space.design_columns("overdraft_days_per_month").start] == -1
    assert signs[space.design_columns("age").start] == 0  # context, not a lever
    codes = space.to_codes(model_clients.head(300))
    base = result.model.margin_codes(codes)
    for spec in model_constraints.features:
        if spec.role != "actionable" or spec.direction == "any":
            continue
        j = space.names.index(spec.name)
        step = 1.0 if spec.kind == "binary" else float(np.std(codes[:, j]) or 1.0)
        moved = codes.copy()
        moved[:, j] += step if spec.direction == "increase" else -step
        if spec.kind == "binary":
            moved[:, j] = np.minimum(moved[:, j], 1.0)
        assert (result.model.margin_codes(moved) >= base - 1e-6).all(), spec.name


def test_average_precision_objective(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    result = quick_train(
        model_clients, model_constraints, families="logistic", metric="average_precision"
    )
    assert "cv_average_precision" in result.leaderboard.columns
    assert result.report.metric == "average_precision"


def test_budget_stops_the_study(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    result = quick_train(
        model_clients, model_constraints, families=("logistic",), budget_s=3.0, n_trials=None
    )
    assert result.report.stopped_by == "budget"  # not n_trials: there was no trial limit
    assert result.report.budget_s == 3.0
    assert 1 <= result.report.n_trials == len(result.leaderboard)
    # how closely the budget is kept is a timing: benchmarks/automl.py measures it
    assert result.report.n_trials >= 1


def test_calibrator_inverse() -> None:
    rng = np.random.default_rng(0)
    margin = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * margin))).astype(np.int64)
    for method in ("sigmoid", "isotonic"):
        calibrator = fit_calibrator(margin, y, method)
        for p in (0.2, 0.5, 0.8):
            m = calibrator.margin_for(p)
            assert calibrator.transform(np.array([m + 1e-6]))[0] >= p - 1e-9
            assert calibrator.transform(np.array([m - 0.05]))[0] < p + 1e-9
    with pytest.raises(ModelError, match=r"^probability: must be strictly between 0 and 1"):
        calibrator.margin_for(1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target": "nope"}, r"^target: must be a column of the data\. Got 'nope'\."),
        ({"target": "age"}, r"^constraints: the target 'age' must not be a feature"),
        ({"target": "segment"}, r"^target 'segment': must hold exactly two classes\. Got 5"),
        ({"positive": "maybe"}, r"^positive: must be one of the target's values"),
        (
            {"families": ["forest"]},
            r"^families: must be one or more of logistic, xgboost, mlp \(a name, a list or a "
            r"tuple\)\. Got \['forest'\]\.$",
        ),
        (
            {"metric": "accuracy"},
            r"^metric: must be one of roc_auc, average_precision\. Got 'accuracy'\.$",
        ),
        (
            {"budget_s": None, "n_trials": None},
            r"^budget_s, n_trials: at least one must be set\. Got neither\.$",
        ),
        (
            {"budget_s": float("nan")},
            r"^budget_s: must be a finite number of seconds in \(0, 86400\] or None\. Got nan\.$",
        ),
        (
            {"budget_s": float("inf")},
            r"^budget_s: must be a finite number of seconds in \(0, 86400\] or None\. Got inf\.$",
        ),
        (
            {"budget_s": 0},
            r"^budget_s: must be a finite number of seconds in \(0, 86400\] or None\. Got 0\.$",
        ),
        ({"n_trials": 0}, r"^n_trials: must be a whole number from 1 to 10000 or None\. Got 0\.$"),
        ({"n_folds": 1}, r"^n_folds: must be a whole number from 2 to 20\. Got 1\.$"),
        ({"n_folds": 2.0}, r"^n_folds: must be a whole number from 2 to 20\. Got 2\.0\.$"),
        (
            {"test_size": 0.6},
            r"^test_size: must be a finite number in \[0\.05, 0\.5\]\. Got 0\.6\.$",
        ),
        ({"seed": -1}, r"^seed: must be a whole number from 0 to 4294967295\. Got -1\.$"),
        ({"seed": True}, r"^seed: must be a whole number from 0 to 4294967295\. Got True\.$"),
        ({"monotone": "yes"}, r"^monotone: must be True or False\. Got 'yes'\.$"),
        (
            {"calibration": "platt"},
            r"^calibration: must be one of sigmoid, isotonic\. Got 'platt'\.$",
        ),
        ({"constraints": "missing.yaml"}, r"^constraints: must be an existing constraint file"),
        (
            {"families": ("logistic", "mlp"), "monotone": True},
            r"^families: monotone=True needs a family that supports it \(xgboost\)\. Got "
            r"logistic, mlp\.$",
        ),
    ],
)
def test_bad_requests_get_clear_errors(
    model_clients: pd.DataFrame,
    model_constraints: ConstraintSet,
    change: dict[str, Any],
    message: str,
) -> None:
    args: dict[str, Any] = {
        "data": model_clients.assign(segment=model_clients["region"]),
        "target": "take_life_insurance",
        "constraints": model_constraints,
        "n_trials": 1,
    }
    args.update(change)
    with pytest.raises(ModelError, match=message):
        train(**args)


def test_numpy_scalars_are_accepted_as_plain_numbers(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    plain = quick_train(model_clients, model_constraints, families="logistic", seed=3)
    numpy = quick_train(
        model_clients,
        model_constraints,
        families="logistic",
        seed=np.int64(3),
        n_trials=np.int32(2),
        n_folds=np.int64(3),
        test_size=np.float64(0.2),
        monotone=np.bool_(False),
    )
    columns = ["trial", "family", "state", "cv_roc_auc", "params"]
    pd.testing.assert_frame_equal(plain.leaderboard[columns], numpy.leaderboard[columns])
    assert plain.metrics == numpy.metrics
    report = numpy.report
    assert (type(report.seed), type(report.n_folds), type(report.monotone)) == (int, int, bool)
    assert (report.seed, report.n_folds, report.n_trials) == (3, 3, 2)


def test_positive_class_is_inferred_or_must_be_named(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    clients = non_holders(model_clients).copy()
    clients["outcome"] = np.where(clients["take_life_insurance"], "signed", "declined")
    with pytest.raises(ModelError, match=r"^target 'outcome': the positive class must be named"):
        train(clients, "outcome", model_constraints, n_trials=1)
    result = train(
        clients,
        "outcome",
        model_constraints,
        positive="signed",
        families="logistic",
        n_trials=1,
        budget_s=None,
        n_folds=3,
    )
    assert result.model.classes == ("declined", "signed")
    few = clients.head(40)
    with pytest.raises(ModelError, match=r"^target 'outcome': each class must have at least"):
        train(few, "outcome", model_constraints, positive="signed", n_trials=1)


def test_pruned_trials_are_listed_without_a_full_score(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    result = quick_train(
        model_clients, model_constraints, families=("logistic", "xgboost"), n_trials=16
    )
    board = result.leaderboard
    assert len(board) == 16
    pruned = board[board["state"] == "pruned"]
    assert len(pruned) > 0
    assert pruned["cv_roc_auc"].isna().all()
    assert pruned["note"].str.match(r"^pruned after fold [12] of 3 \(mean so far 0\.\d{4}\)$").all()
    complete = board[board["state"] == "complete"]
    assert complete["note"].eq("").all()
    # complete trials first, best first
    assert board.index[board["state"] == "complete"].max() < pruned.index.min()
    assert complete["cv_roc_auc"].is_monotonic_decreasing
