"""Integrated gradients of the torch MLP's margin, per business feature (``captum``).

The path runs on the design matrix (categoricals one-hot) from a baseline client to the
client; the attributions of a categorical's one-hot columns are summed back to the feature.
The baseline is the reference clients' typical client: the median of each continuous
feature, the lower median of each integer or ordinal one, the most frequent value of each
binary or categorical one (missing values ignored). The network runs in float64 on a copy,
so the completeness gap (attributions against ``margin(client) - margin(baseline)``) is the
quadrature's error only; it is reported in the explanation's parameters. A missing value
(``missing: keep``) enters the path as the value the model imputes for it.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np

from advisor.errors import AdvisorError
from advisor.explain._shap_common import (
    FloatArray,
    Prepared,
    build_explanation,
    client_of,
    prepare,
    sum_by_feature,
)
from advisor.explain._types import Explanation
from advisor.models import MLPEstimator, PropensityModel
from constraints import OneOf, ParamSpec, Whole
from counterfactuals import TorchFunction

__all__ = ["INTEGRATION_METHODS", "IntegratedGradientsExplainer", "typical_client"]


def _need_mlp(model: PropensityModel) -> None:
    if not isinstance(model.estimator, MLPEstimator):
        raise AdvisorError(
            f"model: integrated_gradients explains the torch MLP (family mlp) only. Got a "
            f"{model.family} model. Hint: use tree_shap for XGBoost, exact_shap (up to 12 "
            "features) or kernel_shap otherwise."
        )


def typical_client(model: PropensityModel, codes: FloatArray) -> FloatArray:
    """Return the (d,) codes of the reference clients' typical client (see the module doc)."""
    out = np.empty(codes.shape[1], dtype=np.float64)
    for j, kind in enumerate(model.space.kinds):
        column = codes[:, j][~np.isnan(codes[:, j])]
        if not len(column):
            raise AdvisorError(
                f"data: {model.space.names[j]} must have at least one known value to build "
                "the integrated-gradients baseline. Got only missing values."
            )
        if kind == "continuous":
            out[j] = float(np.median(column))
        elif kind in ("integer", "ordinal"):
            out[j] = float(np.quantile(column, 0.5, method="lower"))
        else:
            values, counts = np.unique(column, return_counts=True)
            out[j] = float(values[np.argmax(counts)])
    return out


INTEGRATION_METHODS = ("riemann_middle", "riemann_trapezoid", "gausslegendre")
"""captum's quadratures offered (Gauss-Legendre's nodes cost O(n_steps^3) to compute)."""
MAX_GAUSS_STEPS = 1_000
"""Most Gauss-Legendre points (1,000 take about 2 s to compute, each call)."""
_SPEC: ParamSpec = {
    "n_steps": Whole(2, 10_000),
    "method": OneOf(INTEGRATION_METHODS),
    "internal_batch_size": Whole(1, 1_000_000),
}


class IntegratedGradientsExplainer:
    """Integrated gradients (``captum.attr.IntegratedGradients``) of the MLP's margin.

    Parameters
    ----------
    model, constraints, data, seed
        As for every explainer; ``data`` gives the baseline (its typical client, see
        :func:`typical_client`); nothing is drawn at random (the explanation's seed is None).
    n_steps
        Points along the path (default 1,000; at most 1,000 for ``gausslegendre``).
    method
        captum's quadrature: ``riemann_middle`` (default), ``riemann_trapezoid`` or
        ``gausslegendre``.
    internal_batch_size
        Path points per network call (default 1,000).

    The explanation's parameters add ``baseline`` (the typical client in business values),
    ``completeness_gap`` (sum of the weights minus the margin difference) and
    ``relative_gap`` (that gap over the absolute margin difference; None when it is 0).
    """

    def __init__(self, model: Any, constraints: Any, data: Any, *, seed: int = 0, **params: Any):
        self._prepared: Prepared = prepare(
            "IntegratedGradientsExplainer",
            model,
            constraints,
            data,
            seed=seed,
            given=params,
            spec=_SPEC,
            defaults={"n_steps": 1_000, "method": "riemann_middle", "internal_batch_size": 1_000},
            family=_need_mlp,
        )
        params = self._prepared.params
        if params["method"] == "gausslegendre" and params["n_steps"] > MAX_GAUSS_STEPS:
            raise AdvisorError(
                f"IntegratedGradientsExplainer.n_steps: must be at most {MAX_GAUSS_STEPS} with "
                f"gausslegendre (its nodes cost n_steps^3). Got {params['n_steps']}. Hint: use "
                "method='riemann_middle' for more steps."
            )
        self._baseline = typical_client(self._prepared.model, self._prepared.codes)
        structure = self._prepared.model.estimator.structure()
        if not isinstance(structure, TorchFunction):  # pragma: no cover - MLPEstimator's
            raise AdvisorError("model: the MLP's network cannot be read.")
        self._network = structure
        self._module = copy.deepcopy(structure.module).double().eval()

    @property
    def method(self) -> str:
        """Return ``"integrated_gradients"``."""
        return "integrated_gradients"

    def _design(self, codes: FloatArray) -> FloatArray:
        """Return the design row of ``codes`` with missing entries imputed as the model does."""
        design = self._prepared.model.space.to_design(codes[None, :])
        fill = self._network.missing_value
        if fill is not None and np.isnan(design).any():
            design = np.where(np.isnan(design), fill, design)
        return design

    def _attributions(self, design: FloatArray, baseline: FloatArray) -> FloatArray:
        import torch
        from captum.attr import IntegratedGradients

        mean = torch.as_tensor(self._network.mean, dtype=torch.float64)
        scale = torch.as_tensor(self._network.scale, dtype=torch.float64)
        column = self._network.column

        def forward(x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self._module((x - mean) / scale)[:, column]
            return out

        found = IntegratedGradients(forward).attribute(
            torch.as_tensor(design, dtype=torch.float64),
            baselines=torch.as_tensor(baseline, dtype=torch.float64),
            n_steps=self._prepared.params["n_steps"],
            method=self._prepared.params["method"],
            internal_batch_size=self._prepared.params["internal_batch_size"],
        )
        return np.asarray(found.detach().numpy(), dtype=np.float64)

    def explain(self, client: Any) -> Explanation:
        """Return the client's integrated gradients from the baseline, on the margin."""
        started = time.perf_counter()
        p = self._prepared
        codes = client_of(p.model, client, p.constraints)
        attributions = self._attributions(self._design(codes), self._design(self._baseline))
        weights = sum_by_feature(p.model, attributions)[0]
        margins = p.model.margin_codes(np.vstack([codes, self._baseline]))
        gap = float(weights.sum() - (margins[0] - margins[1]))
        difference = abs(float(margins[0] - margins[1]))
        baseline = p.model.space.to_frame(self._baseline[None, :]).iloc[0]
        parameters = {
            **p.params,
            "baseline": {
                k: (v.item() if isinstance(v, np.generic) else v) for k, v in baseline.items()
            },
            "completeness_gap": gap,
            "relative_gap": abs(gap) / difference if difference > 0 else None,
        }
        return build_explanation(
            p,
            self.method,
            codes,
            weights,
            output=float(margins[0]),
            base=float(margins[1]),
            scale="margin",
            started=started,
            parameters=parameters,
        )
