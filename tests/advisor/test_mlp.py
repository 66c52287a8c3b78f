"""TorchMLPClassifier: scikit-learn conformance, determinism, early stopping and persistence."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.typing import NDArray
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from advisor.models import TorchMLPClassifier
from advisor.models._mlp_state import mlp_from_state, mlp_state

# Small and quick, yet accurate enough for check_classifiers_train (scaled blobs, 300 rows).
CHECKED = TorchMLPClassifier(
    hidden_layer_sizes=(16,), learning_rate=1e-2, batch_size=32, max_epochs=40, random_state=0
)


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    # scikit-learn marks the same check as failing for SGDClassifier, for the same reason.
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "mini-batch AdamW: repeating a row changes the batches, the number of steps per "
            "epoch and the validation split, so an integer weight equals repetition only in "
            "expectation, not to rtol=1e-7 (zero weights are tested against removal instead)."
        ),
    }


# parametrize_with_checks is untyped: give the decorator its type once.
contract_checks: Callable[[Callable[..., None]], Callable[..., None]] = parametrize_with_checks(
    [CHECKED], expected_failed_checks=expected_failed_checks
)


@contract_checks
def test_follows_the_sklearn_estimator_contract(
    estimator: BaseEstimator, check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # scikit-learn skips its array-API check (numpy namespace) unless this variable is set;
    # the check only reads it, so setting it here runs the check instead of skipping it.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


Data = tuple[NDArray[np.float64], NDArray[np.int64]]


@pytest.fixture(scope="module")
def moons() -> Data:
    X, y = make_moons(n_samples=1_000, noise=0.15, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def blobs() -> Data:
    X, y = make_blobs(n_samples=400, centers=3, n_features=4, random_state=1)
    return X, y


def quick(**params: Any) -> TorchMLPClassifier:
    """A small network trained with a large step, for fast tests."""
    defaults: dict[str, Any] = {
        "hidden_layer_sizes": (16, 16),
        "learning_rate": 1e-2,
        "batch_size": 64,
        "max_epochs": 30,
        "random_state": 0,
    }
    return TorchMLPClassifier(**{**defaults, **params})


def test_same_seed_gives_bit_identical_probabilities(moons: Data) -> None:
    X, y = moons
    torch_state = torch.random.get_rng_state()
    first, second = quick(random_state=7).fit(X, y), quick(random_state=7).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.loss_curve_ == second.loss_curve_
    assert first.validation_scores_ == second.validation_scores_
    # Torch's global generator is neither seeded nor consumed (not even by the default init).
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_different_seeds_give_different_networks(moons: Data) -> None:
    X, y = moons
    first, second = quick(random_state=1).fit(X, y), quick(random_state=2).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), second.predict_proba(X))


def test_learns_a_nonlinear_boundary(moons: Data) -> None:
    X, y = moons
    model = quick(max_epochs=60).fit(X[:700], y[:700])
    assert roc_auc_score(y[700:], model.predict_proba(X[700:])[:, 1]) > 0.95
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_early_stopping_stops_early_and_restores_the_best_epoch() -> None:
    X, y = make_blobs(n_samples=400, centers=3, n_features=4, cluster_std=4.0, random_state=1)
    params: dict[str, Any] = {"max_epochs": 300, "n_iter_no_change": 5, "tol": 0.0}
    stopped = quick(**params).fit(X, y)
    best = stopped.best_epoch_
    assert stopped.n_epochs_ == best + 5 < 300
    assert len(stopped.validation_scores_) == len(stopped.loss_curve_) == stopped.n_epochs_
    assert best == int(np.argmin(stopped.validation_scores_)) + 1
    # The same run cut at the best epoch ends with the weights that were restored.
    cut = quick(**{**params, "max_epochs": best}).fit(X, y)
    assert cut.n_epochs_ == cut.best_epoch_ == best
    np.testing.assert_array_equal(stopped.predict_proba(X), cut.predict_proba(X))


def test_without_early_stopping_every_epoch_runs(blobs: Data) -> None:
    X, y = blobs
    model = quick(early_stopping=False, max_epochs=7).fit(X, y)
    assert model.n_epochs_ == model.best_epoch_ == len(model.loss_curve_) == 7
    assert model.validation_scores_ == []


def test_binary_and_multiclass_outputs(moons: Data, blobs: Data) -> None:
    binary = quick(max_epochs=5).fit(*moons)
    logits = binary.decision_function(moons[0])
    assert logits.shape == (moons[0].shape[0],)
    proba = binary.predict_proba(moons[0])
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba[:, 1], expit(logits), rtol=1e-12)
    np.testing.assert_array_equal(binary.predict(moons[0]), (logits > 0).astype(int))
    multi = quick(max_epochs=5).fit(*blobs)
    proba = multi.predict_proba(blobs[0])
    assert multi.decision_function(blobs[0]).shape == proba.shape == (blobs[0].shape[0], 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    layers = [type(layer).__name__ for layer in multi.module_]
    assert layers == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert all(p.dtype == torch.float32 for p in multi.module_.parameters())


def test_zero_sample_weight_matches_removing_rows(blobs: Data) -> None:
    X, y = blobs
    weights = np.ones(y.size)
    weights[::4] = 0.0
    full_batch = quick(early_stopping=False, batch_size=1_000, max_epochs=10)
    weighted = full_batch.fit(X, y, sample_weight=weights).predict_proba(X)
    removed = full_batch.fit(X[weights > 0], y[weights > 0]).predict_proba(X)
    np.testing.assert_allclose(weighted, removed, atol=1e-5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"hidden_layer_sizes": (64, 0)},
            "TorchMLPClassifier.hidden_layer_sizes: must be a tuple of positive whole numbers. "
            "Got (64, 0).",
        ),
        (
            {"activation": "sigmoid"},
            "TorchMLPClassifier.activation: must be one of 'gelu', 'relu', 'tanh'. Got 'sigmoid'.",
        ),
        ({"alpha": -1.0}, "TorchMLPClassifier.alpha: must be a finite number >= 0. Got -1.0."),
        (
            {"learning_rate": 0},
            "TorchMLPClassifier.learning_rate: must be a finite number > 0. Got 0.",
        ),
        (
            {"batch_size": 2.5},
            "TorchMLPClassifier.batch_size: must be a positive whole number. Got 2.5.",
        ),
        (
            {"max_epochs": True},
            "TorchMLPClassifier.max_epochs: must be a positive whole number. Got True.",
        ),
        (
            {"early_stopping": "yes"},
            "TorchMLPClassifier.early_stopping: must be True or False. Got 'yes'.",
        ),
        (
            {"validation_fraction": 1.0},
            "TorchMLPClassifier.validation_fraction: must be a number strictly between 0 and 1. "
            "Got 1.0.",
        ),
        (
            {"n_iter_no_change": 0},
            "TorchMLPClassifier.n_iter_no_change: must be a positive whole number. Got 0.",
        ),
        ({"tol": float("nan")}, "TorchMLPClassifier.tol: must be a finite number >= 0. Got nan."),
    ],
)
def test_invalid_hyper_parameters_are_named(params: dict[str, Any], message: str) -> None:
    X, y = make_blobs(n_samples=20, centers=2, random_state=0)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TorchMLPClassifier(**params).fit(X, y)


def test_a_single_weighted_class_is_refused() -> None:
    X, y = make_blobs(n_samples=20, centers=2, random_state=0)
    message = (
        "TorchMLPClassifier.fit: y must hold at least two classes with positive sample_weight. "
        "Got 1 class: [1]."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TorchMLPClassifier().fit(X, y, sample_weight=(y == 1).astype(float))


def round_trip(model: TorchMLPClassifier, directory: Path) -> TorchMLPClassifier:
    config, state = mlp_state(model)
    (directory / "mlp.json").write_text(json.dumps(config))
    torch.save(state, directory / "mlp.pt")
    return mlp_from_state(
        json.loads((directory / "mlp.json").read_text()),
        torch.load(directory / "mlp.pt", weights_only=True),
    )


def test_round_trip_without_pickle_predicts_identically(blobs: Data, tmp_path: Path) -> None:
    X, y = blobs
    frame = pd.DataFrame(X, columns=["age", "income", "tenure", "balance"])
    labels = np.array(["card", "loan", "savings"], dtype=object)[y]
    model = quick(max_epochs=5, activation="gelu").fit(frame, labels)
    loaded = round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    assert loaded.get_params() == model.get_params()
    for name in ("n_features_in_", "n_epochs_", "best_epoch_", "loss_curve_"):
        assert getattr(loaded, name) == getattr(model, name)
    binary = quick(max_epochs=3, hidden_layer_sizes=()).fit(*make_moons(random_state=0))
    np.testing.assert_array_equal(
        round_trip(binary, tmp_path).decision_function(X[:, :2]), binary.decision_function(X[:, :2])
    )


def test_a_state_dict_not_matching_the_config_is_refused(blobs: Data) -> None:
    model = quick(max_epochs=2).fit(*blobs)
    config, state = mlp_state(model)
    config["params"]["hidden_layer_sizes"] = [16, 8]
    with pytest.raises(ValueError, match=r"^mlp_from_state: state_dict shapes must match the con"):
        mlp_from_state(config, state)
    del config["classes_"]
    with pytest.raises(ValueError, match=r"^mlp_from_state: config must hold the keys \["):
        mlp_from_state(config, state)


def test_a_random_state_object_cannot_be_saved(blobs: Data) -> None:
    model = quick(max_epochs=2, random_state=np.random.RandomState(0)).fit(*blobs)
    with pytest.raises(ValueError, match=r"^mlp_state: random_state must be None or an int"):
        mlp_state(model)
