"""Exact influence functions for the L2-penalised logistic regression (closed-form Hessian).

scikit-learn's ``LogisticRegression`` (lbfgs, L2) minimises, on the standardised design ``z``,

    C * sum_i loss_i(theta) + 0.5 * ||w||^2,        theta = (w, b), the intercept b not penalised.

Its Hessian at the optimum is ``H = C * Z~' diag(p (1 - p)) Z~ + diag(1, ..., 1, 0)`` with
``Z~ = [z, 1]``. Dropping training client ``i`` moves the optimum by ``H^-1 grad(C loss_i)``
to first order (Koh & Liang, 2017), so the *presence* of ``i`` changes the margin of a client
``x`` by ``C (y_i - p_i) z~_x' H^-1 z~_i``. The (d + 1, n) matrix ``H^-1 Z~' diag(C (y - p))``
is computed once; a client then costs one matrix-vector product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from advisor.errors import ModelError

__all__ = ["LogisticInfluence", "fit_logistic_influence"]

FloatArray = NDArray[np.float64]
METHOD = "influence function (exact Hessian of the L2-penalised log-loss)"


@dataclass(frozen=True, slots=True)
class LogisticInfluence:
    """Precomputed ``H^-1``-projected training gradients of a standardised logistic model."""

    scaler: StandardScaler
    intercept: bool
    projected: FloatArray  # (d + 1 or d, n_train)

    def influence(self, design: FloatArray) -> FloatArray:
        """Return the (n_clients, n_train) effect of each training client on each margin."""
        return np.asarray(self._augment(design) @ self.projected, dtype=np.float64)

    def _augment(self, design: FloatArray) -> FloatArray:
        z = np.asarray(self.scaler.transform(design), dtype=np.float64)
        return np.column_stack([z, np.ones(len(z))]) if self.intercept else z


def _parts(pipeline: object) -> tuple[StandardScaler, LogisticRegression]:
    steps = pipeline.steps if isinstance(pipeline, Pipeline) else []
    if len(steps) != 2 or not (
        isinstance(steps[0][1], StandardScaler) and isinstance(steps[1][1], LogisticRegression)
    ):
        raise ModelError(
            "model: the logistic estimator must be a StandardScaler then a LogisticRegression. "
            f"Got {[type(step).__name__ for _, step in steps] or type(pipeline).__name__}."
        )
    model: LogisticRegression = steps[1][1]
    penalty = getattr(model, "penalty", "l2")
    l1_ratio = getattr(model, "l1_ratio", 0.0)
    if penalty not in ("l2", "deprecated") or l1_ratio not in (None, 0, 0.0):
        raise ModelError(
            "model: influence functions need an L2-penalised logistic regression. Got "
            f"penalty={penalty!r}, l1_ratio={l1_ratio!r}."
        )
    if model.class_weight is not None or not np.isfinite(model.C) or model.coef_.shape[0] != 1:
        raise ModelError(
            "model: influence functions need a binary logistic regression with a finite C and "
            f"no class weights. Got C={model.C!r}, class_weight={model.class_weight!r}."
        )
    return steps[0][1], model


def check_scaler_rows(scaler: StandardScaler, design: FloatArray, where: str) -> None:
    """Raise when ``design`` is not the matrix ``scaler`` was fitted on (count and means)."""
    n_seen = int(np.asarray(scaler.n_samples_seen_).max())
    if n_seen == len(design) and np.allclose(design.mean(axis=0), scaler.mean_, rtol=1e-6):
        return
    detail = " with other feature means" if n_seen == len(design) else ""
    raise ModelError(
        f"train: must be exactly the {n_seen} training clients the {where} was fitted on. "
        f"Got {len(design)} clients{detail}. Hint: rebuild them with "
        "advisor.models.training_split on the training data."
    )


def fit_logistic_influence(
    pipeline: object, design: FloatArray, y: NDArray[np.int64]
) -> LogisticInfluence:
    """Precompute the exact influence of every training client (see the module docstring)."""
    scaler, model = _parts(pipeline)
    check_scaler_rows(scaler, design, "logistic model")
    z = np.asarray(scaler.transform(design), dtype=np.float64)
    intercept = bool(model.fit_intercept)
    z_aug = np.column_stack([z, np.ones(len(z))]) if intercept else z
    theta = np.concatenate([model.coef_[0], model.intercept_]) if intercept else model.coef_[0]
    p = expit(z_aug @ theta)
    c = float(model.C)
    penalty = np.ones(z_aug.shape[1])
    if intercept:
        penalty[-1] = 0.0
    hessian = c * (z_aug.T * (p * (1.0 - p))) @ z_aug + np.diag(penalty)
    factor = cho_factor(hessian + 1e-10 * np.eye(len(hessian)))
    projected = cho_solve(factor, (z_aug * (c * (y - p))[:, None]).T)
    return LogisticInfluence(scaler, intercept, np.asarray(projected, dtype=np.float64))
