"""Vanilla LIME through the ``lime`` package (tabular): the baseline Levers LIME improves on.

LIME (Ribeiro et al., KDD 2016) as its authors ship it, on the model's codes: categorical and
yes/no features are lime categorical features (perturbed from the reference data's
frequencies, weighed as "being in the client's category"); numeric features are discretised
into the reference data's quartiles and weighed as "being in the client's quartile"
(lime's defaults). The training data are the reference clients' codes; the explained output
is the calibrated score, one batch call per explanation. Perturbations ignore the constraint
file: they may leave the data and break its rules (see Levers LIME).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.explain._client import client_codes, feature_weights
from advisor.explain._lime_common import (
    checked_params,
    domain_check,
    fidelity_of,
    reference_codes,
)
from advisor.explain._types import Explanation, Fidelity
from constraints import Number, ParamSpec, Whole

__all__ = ["LimeExplainer"]

FloatArray = NDArray[np.float64]

BLAS_THREADS = 1
"""Threads of lime's ridge fit (one is the fastest for its small matrices)."""
PARAMETERS: ParamSpec = {
    "num_samples": Whole(100, 1_000_000),
    "kernel_width": (Number(0.0, low_open=True), None),
    "n_heldout": Whole(10, 1_000_000),
}
DEFAULTS: dict[str, Any] = {"num_samples": 5000, "kernel_width": None, "n_heldout": 1000}


class LimeExplainer:
    """Explain a score with lime's ``LimeTabularExplainer`` (method ``"lime"``).

    Parameters
    ----------
    model
        A trained :class:`advisor.models.PropensityModel`.
    constraints
        Its constraint set (features in the model's order): labels and roles.
    data
        Reference clients in business values: lime's training data (statistics, quartiles,
        category frequencies). A missing value takes its column's median.
    seed
        lime's ``random_state``: the same seed gives the same explanation.
    num_samples
        Perturbations per explanation (lime's default, 5,000).
    kernel_width
        Width of lime's exponential kernel; None is lime's default, ``0.75 * sqrt(d)``.
    n_heldout
        Perturbations drawn the same way after the fit to measure the held-out error.
    """

    method = "lime"

    def __init__(
        self, model: Any, constraints: Any, data: pd.DataFrame, *, seed: int = 0, **params: Any
    ) -> None:
        self.model, self.constraints, self.seed, self.params = checked_params(
            "LimeExplainer", model, constraints, seed, params, PARAMETERS, DEFAULTS
        )
        self.reference = reference_codes(self.model, data)
        self._medians = _column_medians(self.reference)
        self._training = np.where(np.isnan(self.reference), self._medians, self.reference)
        coded = self.constraints.compiled.coded
        self._categorical = [
            j
            for j, name in enumerate(self.constraints.feature_names)
            if coded[j] or self.constraints.feature(name).kind == "binary"
        ]

    def _explainer(self) -> Any:
        from lime.lime_tabular import LimeTabularExplainer

        return LimeTabularExplainer(
            self._training,
            mode="classification",
            feature_names=list(self.constraints.feature_names),
            categorical_features=self._categorical,
            class_names=["no", "yes"],
            kernel_width=self.params["kernel_width"],
            feature_selection="none",
            discretize_continuous=True,
            random_state=self.seed,
        )

    def _width(self) -> float:
        width = self.params["kernel_width"]
        return float(width) if width is not None else float(np.sqrt(self.reference.shape[1]) * 0.75)

    def _predict(self, codes: FloatArray) -> FloatArray:
        array = np.asarray(codes, dtype=np.float64)
        result: FloatArray = self.model.proba_codes(array)
        return result

    def explain(self, client: Any) -> Explanation:
        """Explain ``client``'s calibrated score with lime (weights on lime's own scale).

        A weight is lime's coefficient of "the client's category" or "the client's quartile"
        (standardised indicator), in score units per standard deviation of that indicator.
        """
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        _, codes = client_codes(self.model, client, self.constraints)
        domain_check(self.constraints, codes, self.reference)
        row = np.where(np.isnan(codes), self._medians, codes)
        explainer = self._explainer()
        d = len(row)
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            result = explainer.explain_instance(
                row,
                self._predict,
                labels=(1,),
                num_features=d,
                num_samples=self.params["num_samples"],
            )
        coefficients = np.zeros(d)
        for j, weight in result.local_exp[1]:
            coefficients[int(j)] = float(weight)
        intercept = float(result.intercept[1])
        fidelity = self._fidelity(explainer, row, coefficients, intercept, float(result.score))
        names = self.constraints.feature_names
        entries = feature_weights(
            self.constraints, codes, {n: float(w) for n, w in zip(names, coefficients, strict=True)}
        )
        score = float(self.model.score_codes(row[None, :])[0])
        return Explanation(
            method=self.method,
            product=self.model.target,
            score=score,
            output=score,
            base=intercept,
            scale="probability",
            weights=entries,
            parameters={**self.params, "kernel_width_used": self._width()},
            seed=self.seed,
            runtime_s=time.perf_counter() - started,
            fidelity=fidelity,
        )

    def _fidelity(
        self,
        explainer: Any,
        row: FloatArray,
        coefficients: FloatArray,
        intercept: float,
        r2: float,
    ) -> Fidelity:
        """Lime's own weighted R^2, and the error on perturbations drawn as lime draws them.

        lime has no public sampler, so its own (``__data_inverse``, lime 0.2) draws the
        held-out perturbations after the fit (the generator has moved on: new draws), and
        lime's kernel weighs them.
        """
        draw = explainer._LimeTabularExplainer__data_inverse
        data, inverse = draw(row, self.params["n_heldout"] + 1)
        scaled = (data - explainer.scaler.mean_) / explainer.scaler.scale_
        distances = np.sqrt(((scaled[1:] - scaled[0]) ** 2).sum(axis=1))  # row 0: the client
        weights = np.asarray(explainer.base.kernel_fn(distances), dtype=np.float64)
        predicted = intercept + scaled[1:] @ coefficients
        scores = self._predict(inverse[1:])[:, 1]
        return fidelity_of(r2, scores, predicted, weights)


def _column_medians(reference: FloatArray) -> FloatArray:
    """Median of each column ignoring missing values (0 for a column with none present)."""
    out = np.zeros(reference.shape[1])
    present = ~np.isnan(reference).all(axis=0)
    if present.any():
        out[present] = np.nanmedian(reference[:, present], axis=0)
    return out
