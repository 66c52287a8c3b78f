"""The three model families behind one interface: search space, defaults, fit, margin, files.

Every family is fitted on the design matrix of a :class:`counterfactuals.FeatureSpace` and
returns a fitted estimator whose ``margin`` is the raw score (a log-odds before calibration).
Missing values (``missing: keep``, NaN in the design): XGBoost reads them natively; the
logistic regression and the MLP replace them inside the model (:mod:`advisor.models._impute`).
"""

from __future__ import annotations

import io
import json
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from pickle import UnpicklingError
from typing import Any, Protocol

import numpy as np
import optuna
import torch
import xgboost as xgb
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from advisor.errors import BundleError, ModelError
from advisor.models._deadline import OutOfTime
from advisor.models._impute import IMPUTATION_FILE, DesignImputer, fit_imputer
from advisor.models._mlp import TorchMLPClassifier
from advisor.models._mlp_state import mlp_from_state, mlp_state
from advisor.models._skops import loads_sklearn, save_sklearn
from counterfactuals import (
    FeatureSpace,
    LinearFunction,
    TorchFunction,
    TreeEnsemble,
    margin_model,
)

__all__ = [
    "FAMILIES",
    "Estimator",
    "Family",
    "LogisticEstimator",
    "MLPEstimator",
    "XGBoostEstimator",
    "load_estimator",
]

FloatArray = NDArray[np.float64]
Params = dict[str, Any]
#: Returns the bytes of one file of a model folder, by name (the bundle reader checks them).
FileReader = Callable[[str], bytes]


def _folder_reader(directory: Path) -> FileReader:
    def read(name: str) -> bytes:
        try:
            return (directory / name).read_bytes()
        except OSError as exc:
            raise BundleError(f"{directory / name}: must be a readable file. Got {exc}.") from exc

    return read


class Estimator(Protocol):
    """A fitted model of one family: raw margins on the design matrix, and its files."""

    @property
    def family(self) -> str:
        """The family name (logistic, xgboost, mlp)."""
        ...

    def margin(self, design: FloatArray) -> FloatArray:
        """Return the raw score (log-odds scale, before calibration) of each row."""
        ...

    def structure(self) -> TreeEnsemble | LinearFunction | TorchFunction:
        """Return the margin as a function of the design matrix (for counterfactual engines)."""
        ...

    def save(self, directory: Path) -> tuple[str, ...]:
        """Write the model's files into ``directory``; return their names."""
        ...


def _filled(imputer: DesignImputer | None, design: FloatArray, family: str) -> FloatArray:
    """Return the design with missing values imputed (a model saved without values refuses)."""
    if imputer is not None:
        return imputer.transform(design)
    if np.isnan(design).any():
        raise ModelError(
            f"design: a {family} model saved without imputation values needs every value. Got "
            "missing values. Hint: retrain the model with this version of Levers."
        )
    return design


def _read_imputer(read: FileReader, where: Path) -> DesignImputer | None:
    """Read ``imputation.json``; ``None`` for a model saved before imputation existed."""
    try:
        data = read(IMPUTATION_FILE)
    except BundleError as exc:
        if "must be listed" in str(exc) or "must be a readable file" in str(exc):
            return None
        raise
    return DesignImputer.from_json(data, where / IMPUTATION_FILE)


def _save_imputer(imputer: DesignImputer | None, directory: Path) -> tuple[str, ...]:
    if imputer is None:
        return ()
    (directory / IMPUTATION_FILE).write_text(imputer.to_json(), encoding="utf-8")
    return (IMPUTATION_FILE,)


def _structure_of(model: Any, kind: type[Any]) -> Any:
    found = margin_model(model)
    if found is None or not isinstance(found.function, kind):
        raise ModelError(f"model: its structure cannot be read as {kind.__name__}.")
    return found.function


# ---------------------------------------------------------------------------- logistic
@dataclass(frozen=True, slots=True)
class LogisticEstimator:
    """Standardisation then an L2-penalised logistic regression (scikit-learn, saved by skops).

    Missing design values take the ``imputer``'s (fitted on the training rows).
    """

    pipeline: Pipeline
    imputer: DesignImputer | None = None

    @property
    def family(self) -> str:
        """Return ``"logistic"``."""
        return "logistic"

    def margin(self, design: FloatArray) -> FloatArray:
        """Return the linear score of each row (missing values imputed)."""
        filled = _filled(self.imputer, design, self.family)
        return np.asarray(self.pipeline.decision_function(filled), dtype=np.float64)

    def structure(self) -> LinearFunction:
        """Return the score as one linear function of the design matrix (scaler folded in).

        A missing entry takes the imputed value (``missing_value``), as in :meth:`margin`.
        """
        found: LinearFunction = _structure_of(self.pipeline, LinearFunction)
        if self.imputer is None:
            return found
        return replace(found, missing_value=np.asarray(self.imputer.fill, dtype=np.float64))

    def save(self, directory: Path) -> tuple[str, ...]:
        """Write ``logistic.skops`` (and ``imputation.json``)."""
        save_sklearn(self.pipeline, directory / "logistic.skops")
        return ("logistic.skops", *_save_imputer(self.imputer, directory))

    @classmethod
    def load(cls, directory: Path) -> LogisticEstimator:
        """Read ``logistic.skops`` from a folder (see :meth:`from_files`)."""
        return cls.from_files(_folder_reader(directory), directory)

    @classmethod
    def from_files(cls, read: FileReader, where: Path) -> LogisticEstimator:
        """Build from ``logistic.skops`` (only the trusted scikit-learn types are accepted)."""
        name = "logistic.skops"
        return cls(loads_sklearn(read(name), Pipeline, where / name), _read_imputer(read, where))


def _suggest_logistic(trial: optuna.Trial) -> Params:
    return {"C": trial.suggest_float("logistic.C", 1e-4, 1e2, log=True)}


def _fit_logistic(
    design: FloatArray,
    y: NDArray[np.int64],
    params: Mapping[str, Any],
    seed: int,
    monotone: tuple[int, ...] | None,  # only XGBoost takes monotone constraints
    space: FeatureSpace | None = None,
    deadline: float | None = None,  # lbfgs cannot be interrupted: the study checks between folds
) -> LogisticEstimator:
    model = LogisticRegression(C=float(params["C"]), max_iter=5000, random_state=seed)
    pipeline = Pipeline([("scale", StandardScaler()), ("model", model)])
    imputer = fit_imputer(design, space)
    pipeline.fit(imputer.transform(design), y)
    return LogisticEstimator(pipeline, imputer)


# ---------------------------------------------------------------------------- xgboost
PREDICT_THREADS = 1
"""Threads of an XGBoost model's predictions (see :class:`XGBoostEstimator`)."""


@dataclass(frozen=True, slots=True)
class XGBoostEstimator:
    """A gradient-boosted tree ensemble (XGBoost booster, saved as JSON).

    Predictions run on one thread (``nthread=1``, set on purpose): engines and campaigns
    call the model on small batches, where XGBoost's default of every core is up to 10x
    slower on a busy server; campaigns scale out with processes instead.
    """

    booster: xgb.Booster

    def __post_init__(self) -> None:
        self.booster.set_param({"nthread": PREDICT_THREADS})

    @property
    def family(self) -> str:
        """Return ``"xgboost"``."""
        return "xgboost"

    def margin(self, design: FloatArray) -> FloatArray:
        """Return the sum of the trees' leaf values plus the base score, per row."""
        raw = self.booster.inplace_predict(design, predict_type="margin")
        return np.asarray(raw, dtype=np.float64).reshape(len(design))

    def structure(self) -> TreeEnsemble:
        """Return the trees (float32 thresholds, XGBoost's ``x < t`` goes left)."""
        found: TreeEnsemble = _structure_of(self.booster, TreeEnsemble)
        return found

    def save(self, directory: Path) -> tuple[str, ...]:
        """Write ``xgboost.json`` (XGBoost's own JSON model format)."""
        self.booster.save_model(directory / "xgboost.json")
        return ("xgboost.json",)

    @classmethod
    def load(cls, directory: Path) -> XGBoostEstimator:
        """Read ``xgboost.json`` from a folder (see :meth:`from_files`)."""
        return cls.from_files(_folder_reader(directory), directory)

    @classmethod
    def from_files(cls, read: FileReader, where: Path) -> XGBoostEstimator:
        """Build from the bytes of ``xgboost.json`` (XGBoost's JSON model format)."""
        data = read("xgboost.json")
        booster = xgb.Booster()
        if not data.lstrip().startswith(b"{"):
            raise BundleError(
                f"{where / 'xgboost.json'}: must be an XGBoost JSON model. Got "
                "a file that is not JSON."
            )
        try:
            booster.load_model(bytearray(data))
        except xgb.core.XGBoostError as exc:
            raise BundleError(
                f"{where / 'xgboost.json'}: must be an XGBoost JSON model. Got a file "
                f"XGBoost cannot read ({str(exc).splitlines()[0][:120]})."
            ) from exc
        return cls(booster)


class DeadlineCallback(xgb.callback.TrainingCallback):
    """Stop an XGBoost fit (:class:`OutOfTime`) when its trees would end after ``deadline``.

    The deadline is checked after every tree; the pace from the third tree on, measured from the
    end of the first (which carries the one-time costs: histograms, threads).
    """

    def __init__(self, deadline: float, n_trees: int) -> None:
        super().__init__()
        self.deadline, self.n_trees = deadline, n_trees
        self.started = self.warm = time.perf_counter()

    def before_training(self, model: Any) -> Any:
        """Start the clock."""
        self.started = time.perf_counter()
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        """Check the pace after each tree; never asks XGBoost to stop (raises instead)."""
        now, done = time.perf_counter(), epoch + 1
        if now > self.deadline:
            raise OutOfTime(f"reached the budget after {done} trees, {now - self.started:.1f} s")
        if done == 1:
            self.warm = now
        elif done >= 3:
            needed = (now - self.warm) / (done - 1) * (self.n_trees - done)
            if now + needed > self.deadline:
                raise OutOfTime(
                    f"needs about {needed:.1f} s more ({self.n_trees - done} trees at "
                    f"{(now - self.warm) / (done - 1) * 1000:.0f} ms), "
                    f"{self.deadline - now:.1f} s left"
                )
        return False


XGB_DEFAULTS: Params = {
    "n_estimators": 100,
    "max_depth": 6,
    "learning_rate": 0.3,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
    "gamma": 0.0,
}


def _suggest_xgboost(trial: optuna.Trial) -> Params:
    return {
        # At most 300 trees of depth <= 6 keeps the exact counterfactual engine fast.
        "n_estimators": trial.suggest_int("xgboost.n_estimators", 50, 300, step=25),
        "max_depth": trial.suggest_int("xgboost.max_depth", 2, 6),
        "learning_rate": trial.suggest_float("xgboost.learning_rate", 0.01, 0.3, log=True),
        "subsample": trial.suggest_float("xgboost.subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("xgboost.colsample_bytree", 0.3, 1.0),
        "min_child_weight": trial.suggest_float("xgboost.min_child_weight", 1.0, 100.0, log=True),
        "reg_lambda": trial.suggest_float("xgboost.reg_lambda", 1e-3, 100.0, log=True),
        "gamma": trial.suggest_float("xgboost.gamma", 0.0, 5.0),
    }


def _fit_xgboost(
    design: FloatArray,
    y: NDArray[np.int64],
    params: Mapping[str, Any],
    seed: int,
    monotone: tuple[int, ...] | None,
    space: FeatureSpace | None = None,  # XGBoost reads missing values natively
    deadline: float | None = None,
) -> XGBoostEstimator:
    callbacks = None if deadline is None else [DeadlineCallback(deadline, params["n_estimators"])]
    model = xgb.XGBClassifier(
        **params,
        tree_method="hist",
        random_state=seed,
        n_jobs=2,
        monotone_constraints=monotone,
        callbacks=callbacks,
    )
    model.fit(design, y)
    return XGBoostEstimator(model.get_booster())


# ---------------------------------------------------------------------------- torch MLP
@dataclass(frozen=True, slots=True)
class MLPEstimator:
    """Standardisation then a torch MLP (scaler by skops, weights as a ``state_dict``).

    Missing design values take the ``imputer``'s (fitted on the training rows).
    """

    scaler: StandardScaler
    mlp: TorchMLPClassifier
    imputer: DesignImputer | None = None

    @property
    def family(self) -> str:
        """Return ``"mlp"``."""
        return "mlp"

    def margin(self, design: FloatArray) -> FloatArray:
        """Return the network's positive-class logit per row (missing values imputed)."""
        filled = _filled(self.imputer, design, self.family)
        logits = self.mlp.decision_function(self.scaler.transform(filled))
        return np.asarray(logits, dtype=np.float64)

    def structure(self) -> TorchFunction:
        """Return the network with its standardisation (positive logit in column 0)."""
        return TorchFunction(
            module=self.mlp.module_,
            mean=np.asarray(self.scaler.mean_, dtype=np.float64),
            scale=np.asarray(self.scaler.scale_, dtype=np.float64),
            column=0,
            missing_value=None
            if self.imputer is None
            else np.asarray(self.imputer.fill, dtype=np.float64),
        )

    def save(self, directory: Path) -> tuple[str, ...]:
        """Write ``scaler.skops``, ``mlp.json`` (architecture) and ``mlp.pt`` (weights)."""
        save_sklearn(self.scaler, directory / "scaler.skops")
        config, state = mlp_state(self.mlp)
        (directory / "mlp.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        torch.save(state, directory / "mlp.pt")
        return ("mlp.json", "mlp.pt", "scaler.skops", *_save_imputer(self.imputer, directory))

    @classmethod
    def load(cls, directory: Path) -> MLPEstimator:
        """Read the scaler, the architecture and the weights from a folder."""
        return cls.from_files(_folder_reader(directory), directory)

    @classmethod
    def from_files(cls, read: FileReader, where: Path) -> MLPEstimator:
        """Build from the scaler, the architecture and the weights (``weights_only=True``)."""
        scaler = loads_sklearn(read("scaler.skops"), StandardScaler, where / "scaler.skops")
        config_bytes, weights = read("mlp.json"), read("mlp.pt")
        try:
            config = json.loads(config_bytes.decode("utf-8"))
            if not isinstance(config, dict):
                raise TypeError(f"mlp.json holds a {type(config).__name__}, not an object")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # torch warns on foreign pickles
                state = torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")
            if not isinstance(state, dict):
                raise TypeError(f"mlp.pt holds a {type(state).__name__}, not a state_dict")
            mlp = mlp_from_state(config, state)
        except (
            OSError,
            ValueError,
            RuntimeError,
            KeyError,
            TypeError,
            AttributeError,
            UnpicklingError,
            RecursionError,
        ) as exc:
            detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise BundleError(
                f"{where}: mlp.json and mlp.pt must describe one torch MLP. Got an "
                f"unreadable or inconsistent pair ({detail})."
            ) from exc
        return cls(scaler, mlp, _read_imputer(read, where))


_MLP_LAYERS = ("32", "64", "128", "64x32", "128x64", "256x128")


def _suggest_mlp(trial: optuna.Trial) -> Params:
    return {
        "hidden_layer_sizes": trial.suggest_categorical("mlp.hidden_layer_sizes", _MLP_LAYERS),
        "learning_rate": trial.suggest_float("mlp.learning_rate", 1e-4, 1e-2, log=True),
        "alpha": trial.suggest_float("mlp.alpha", 1e-6, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("mlp.batch_size", (128, 256, 512)),
        "activation": trial.suggest_categorical("mlp.activation", ("relu", "gelu", "tanh")),
    }


def _layers(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in str(text).split("x"))


def _fit_mlp(
    design: FloatArray,
    y: NDArray[np.int64],
    params: Mapping[str, Any],
    seed: int,
    monotone: tuple[int, ...] | None,  # only XGBoost takes monotone constraints
    space: FeatureSpace | None = None,
    deadline: float | None = None,
) -> MLPEstimator:
    imputer = fit_imputer(design, space)
    design = imputer.transform(design)
    scaler = StandardScaler().fit(design)
    mlp = TorchMLPClassifier(
        hidden_layer_sizes=_layers(params["hidden_layer_sizes"]),
        activation=params["activation"],
        alpha=float(params["alpha"]),
        learning_rate=float(params["learning_rate"]),
        batch_size=int(params["batch_size"]),
        max_epochs=60,
        early_stopping=True,
        n_iter_no_change=6,
        random_state=seed,
    )
    mlp.fit(scaler.transform(design), y, deadline=deadline)
    return MLPEstimator(scaler, mlp, imputer)


# ---------------------------------------------------------------------------- registry
class FitFunction(Protocol):
    """Fit a family: design, labels, parameters, seed, monotone signs, feature space, deadline.

    The feature space tells the imputation which design columns form a categorical. A fit
    given a ``deadline`` (a :func:`time.perf_counter` instant) that it would overrun raises
    :class:`~advisor.models._deadline.OutOfTime` (XGBoost after a tree, the MLP between
    mini-batches; the logistic regression is not interrupted).
    """

    def __call__(
        self,
        design: FloatArray,
        y: NDArray[np.int64],
        params: Mapping[str, Any],
        seed: int,
        monotone: tuple[int, ...] | None,
        space: FeatureSpace | None = None,
        deadline: float | None = None,
    ) -> Estimator:
        """Return the fitted estimator."""
        ...


@dataclass(frozen=True, slots=True)
class Family:
    """A model family: its default parameters, its optuna search space and how to fit it."""

    name: str
    defaults: Mapping[str, Any]
    suggest: Callable[[optuna.Trial], Params]
    fit: FitFunction
    supports_monotone: bool
    loader: Callable[[FileReader, Path], Estimator]

    def default_trial(self) -> dict[str, Any]:
        """Return the default parameters as an optuna trial to enqueue."""
        return {"family": self.name, **{f"{self.name}.{k}": v for k, v in self.defaults.items()}}


FAMILIES: dict[str, Family] = {
    "logistic": Family(
        name="logistic",
        defaults={"C": 1.0},
        suggest=_suggest_logistic,
        fit=_fit_logistic,
        supports_monotone=False,
        loader=LogisticEstimator.from_files,
    ),
    "xgboost": Family(
        name="xgboost",
        defaults=XGB_DEFAULTS,
        suggest=_suggest_xgboost,
        fit=_fit_xgboost,
        supports_monotone=True,
        loader=XGBoostEstimator.from_files,
    ),
    "mlp": Family(
        name="mlp",
        defaults={
            "hidden_layer_sizes": "64x32",
            "learning_rate": 1e-3,
            "alpha": 1e-4,
            "batch_size": 256,
            "activation": "relu",
        },
        suggest=_suggest_mlp,
        fit=_fit_mlp,
        supports_monotone=False,
        loader=MLPEstimator.from_files,
    ),
}


def load_estimator(family: str, read: FileReader, where: Path) -> Estimator:
    """Build a fitted estimator of ``family`` from the files ``read`` returns (folder ``where``)."""
    if family not in FAMILIES:
        raise BundleError(
            f"{where}: the model family must be one of {', '.join(FAMILIES)}. Got {family[:64]!r}."
        )
    return FAMILIES[family].loader(read, where)
