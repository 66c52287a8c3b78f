"""A calibrated propensity model: business frame in, probability of the positive class out.

The equivalent of a scikit-learn ``Pipeline``: the feature space encodes the client frame
(business units, the constraint file's features in its order), the family's estimator gives a
raw margin, and a monotone calibrator maps it to a probability. Engines use the fast path on
codes (:meth:`PropensityModel.score_codes`); everyone else passes frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from advisor.errors import ModelError
from advisor.models._families import Estimator
from counterfactuals import (
    CounterfactualError,
    FeatureSpace,
    Link,
    MarginModel,
    ModelAdapter,
    logistic_link,
)

__all__ = ["Calibrator", "PropensityModel", "fit_calibrator"]

FloatArray = NDArray[np.float64]
CalibrationMethod = Literal["sigmoid", "isotonic"]


@dataclass(frozen=True, slots=True)
class Calibrator:
    """A monotone map from raw margins to probabilities (Platt sigmoid or isotonic).

    The sigmoid is strictly increasing, so it keeps the model's ranking (AUC) and a
    probability threshold maps back to exactly one margin threshold
    (:meth:`margin_for`), which exact counterfactual engines rely on.
    """

    method: CalibrationMethod
    model: LogisticRegression | IsotonicRegression

    def transform(self, margin: FloatArray) -> FloatArray:
        """Return calibrated probabilities of the positive class."""
        m = np.asarray(margin, dtype=np.float64).reshape(-1)
        if isinstance(self.model, LogisticRegression):
            return np.asarray(self.model.predict_proba(m[:, None])[:, 1], dtype=np.float64)
        return np.asarray(self.model.predict(m), dtype=np.float64)

    def link(self) -> Link:
        """Return the calibration as a counterfactual-engine link (margin -> probability)."""
        if isinstance(self.model, LogisticRegression):
            return logistic_link(float(self.model.coef_[0, 0]), float(self.model.intercept_[0]))
        return Link(name="isotonic", probability=self.transform, margin_for=self.margin_for)

    def margin_for(self, probability: float) -> float:
        """Return the smallest margin whose calibrated probability reaches ``probability``."""
        if not 0.0 < probability < 1.0:
            raise ModelError(f"probability: must be strictly between 0 and 1. Got {probability}.")
        if isinstance(self.model, LogisticRegression):
            a = float(self.model.coef_[0, 0])
            b = float(self.model.intercept_[0])
            logit = float(np.log(probability / (1.0 - probability)))
            return (logit - b) / a
        xs = np.asarray(self.model.X_thresholds_, dtype=np.float64)
        ys = np.asarray(self.model.y_thresholds_, dtype=np.float64)
        above = np.flatnonzero(ys >= probability)
        if not len(above):
            return float("inf")
        i = int(above[0])
        if i == 0:
            return float("-inf") if ys[0] >= probability else float(xs[0])
        # linear interpolation between knots i-1 and i
        t = (probability - ys[i - 1]) / (ys[i] - ys[i - 1])
        return float(xs[i - 1] + t * (xs[i] - xs[i - 1]))


def fit_calibrator(
    margin: FloatArray, y: NDArray[np.int64], method: CalibrationMethod = "sigmoid"
) -> Calibrator:
    """Fit a calibrator on out-of-fold margins and labels."""
    m = np.asarray(margin, dtype=np.float64).reshape(-1)
    if method == "sigmoid":
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(m[:, None], y)
        if platt.coef_[0, 0] <= 0:
            raise ModelError(
                "calibration: the model's scores must rise with the positive class. Got a "
                "non-increasing relation on the cross-validation folds (the model did not learn)."
            )
        return Calibrator("sigmoid", platt)
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
        return Calibrator("isotonic", iso.fit(m, y))
    raise ModelError(f"calibration: must be 'sigmoid' or 'isotonic'. Got {method!r}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class PropensityModel:
    """A trained, calibrated binary propensity model over a constraint file's features.

    Parameters
    ----------
    space
        The feature space (the constraint file's features, order and encoding).
    estimator
        The fitted family estimator (logistic, xgboost or mlp) on the design matrix.
    calibrator
        Maps the estimator's margin to a calibrated probability.
    params
        The hyper-parameters the estimator was fitted with.
    target
        Name of the target column the model predicts.
    classes
        The (negative, positive) labels of the target.
    """

    space: FeatureSpace
    estimator: Estimator
    calibrator: Calibrator
    params: dict[str, Any] = field(default_factory=dict)
    target: str = "target"
    classes: tuple[Any, Any] = (False, True)

    @property
    def family(self) -> str:
        """The model family (logistic, xgboost, mlp)."""
        return self.estimator.family

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The model's features, in order."""
        return self.space.names

    def _codes(self, clients: Any) -> FloatArray:
        if isinstance(clients, np.ndarray):
            raise ModelError(
                "clients: must be a DataFrame (or a row) in business values. Got a numpy "
                "array. Hint: use score_codes for arrays of codes."
            )
        try:
            return self.space.to_codes(clients)
        except CounterfactualError as exc:
            raise ModelError(str(exc)) from exc

    def margin_codes(self, codes: FloatArray) -> FloatArray:
        """Return raw margins for an (n, d) codes array (feature-space order)."""
        try:
            design = self.space.to_design(codes)
        except CounterfactualError as exc:
            raise ModelError(str(exc)) from exc
        return self.estimator.margin(design)

    def score_codes(self, codes: FloatArray) -> FloatArray:
        """Return the calibrated probability of the positive class for an (n, d) codes array."""
        return self.calibrator.transform(self.margin_codes(codes))

    def proba_codes(self, codes: FloatArray) -> FloatArray:
        """Return (n, 2) probabilities of the negative and positive class for codes."""
        p = self.score_codes(codes)
        return np.column_stack([1.0 - p, p])

    def margin_model(self) -> MarginModel:
        """Return the margin's structure on the design matrix and the calibration link."""
        return MarginModel(function=self.estimator.structure(), link=self.calibrator.link())

    def counterfactual_adapter(self) -> ModelAdapter:
        """Return how counterfactual engines see this model (fast path, real path, structure)."""
        return ModelAdapter(
            space=self.space,
            outputs=tuple(self.classes),
            proba_codes=self.proba_codes,
            proba_frame=self.predict_proba,
            structure=lambda: {1: self.margin_model()},
            family=self.family,
        )

    def score(self, clients: pd.DataFrame | pd.Series | dict[str, Any]) -> FloatArray:
        """Return the calibrated probability of the positive class, one per client."""
        return self.score_codes(self._codes(clients))

    def predict_proba(self, clients: pd.DataFrame | pd.Series | dict[str, Any]) -> FloatArray:
        """Return an (n, 2) array: probabilities of the negative and positive class."""
        p = self.score(clients)
        return np.column_stack([1.0 - p, p])

    def predict(self, clients: pd.DataFrame, threshold: float = 0.5) -> NDArray[Any]:
        """Return the predicted label (positive when the probability reaches ``threshold``)."""
        if not 0.0 < threshold < 1.0:
            raise ModelError(f"threshold: must be strictly between 0 and 1. Got {threshold}.")
        labels = np.array(self.classes, dtype=object)
        return labels[(self.score(clients) >= threshold).astype(np.int64)]
