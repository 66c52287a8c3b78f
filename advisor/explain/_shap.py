"""Shapley values of a client's score over the business features: tree, exact and kernel SHAP.

- :class:`TreeShapExplainer` (``tree_shap``): XGBoost's own exact TreeSHAP
  (``pred_contribs``, path-dependent: the trees' training cover is the background) on the
  design matrix; a categorical's one-hot columns are summed back to the feature. The weights
  plus the bias add up to the margin (float32 rounding aside). XGBoost only.
- :class:`ExactShapExplainer` (``exact_shap``): interventional Shapley values by the
  definition, every one of the 2^d coalitions of business features, absent features taken
  from a seeded background sample of the reference clients; any family, up to
  :data:`MAX_EXACT_FEATURES` features.
- :class:`KernelShapExplainer` (``kernel_shap``): ``shap.KernelExplainer`` over the business
  features (codes), background a seeded sample of the reference clients; any family, any size.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from advisor.errors import AdvisorError
from advisor.explain._shap_common import (
    OUTPUT_RULE,
    FloatArray,
    background_sample,
    build_explanation,
    client_of,
    output_function,
    prepare,
    sum_by_feature,
)
from advisor.explain._types import Explanation
from advisor.models import PropensityModel, XGBoostEstimator
from constraints import ParamSpec, Whole

__all__ = [
    "MAX_EXACT_FEATURES",
    "MAX_GLOBAL_EXACT_FEATURES",
    "ExactShapExplainer",
    "KernelShapExplainer",
    "TreeShapExplainer",
    "exact_shap_values",
    "kernel_shap_values",
    "tree_shap_values",
]

MAX_EXACT_FEATURES = 12
"""Most business features exact SHAP takes: 2^12 = 4,096 coalitions per client."""
MAX_GLOBAL_EXACT_FEATURES = 8
"""Most features global importance explains with exact SHAP (kernel SHAP above)."""
BLOCK_ROWS = 200_000
"""Rows per model call when exact SHAP evaluates its coalitions (memory bound)."""


# ---------------------------------------------------------------------------- TreeSHAP
def _need_xgboost(model: PropensityModel) -> XGBoostEstimator:
    estimator = model.estimator
    if not isinstance(estimator, XGBoostEstimator):
        raise AdvisorError(
            f"model: tree_shap explains XGBoost models only. Got a {model.family} model. "
            "Hint: use exact_shap (up to 12 features) or kernel_shap for this family."
        )
    return estimator


def tree_shap_values(model: PropensityModel, codes: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return XGBoost's exact TreeSHAP values per business feature (n, d) and the bias (n,).

    Values and bias are on the margin; per row they add up to the model's margin.
    """
    import xgboost as xgb

    estimator = _need_xgboost(model)
    design = model.space.to_design(codes)
    matrix = xgb.DMatrix(design, missing=np.nan, nthread=1)
    contribs = np.asarray(estimator.booster.predict(matrix, pred_contribs=True), np.float64)
    return sum_by_feature(model, contribs[:, :-1]), contribs[:, -1]


class TreeShapExplainer:
    """Exact TreeSHAP of an XGBoost model's margin, per business feature.

    Parameters
    ----------
    model, constraints, data, seed
        As for every explainer (:func:`advisor.explain.make_explainer`); ``data`` is checked
        but not used (the trees' cover is the background) and TreeSHAP draws nothing at
        random (the explanation's seed is None).
    """

    def __init__(self, model: Any, constraints: Any, data: Any, *, seed: int = 0, **params: Any):
        self._prepared = prepare(
            "TreeShapExplainer",
            model,
            constraints,
            data,
            seed=seed,
            given=params,
            spec={},
            defaults={},
            family=_need_xgboost,
        )

    @property
    def method(self) -> str:
        """Return ``"tree_shap"``."""
        return "tree_shap"

    def explain(self, client: Any) -> Explanation:
        """Return the client's TreeSHAP values; weights plus base equal the margin."""
        started = time.perf_counter()
        codes = client_of(self._prepared.model, client, self._prepared.constraints)
        values, bias = tree_shap_values(self._prepared.model, codes[None, :])
        output = float(self._prepared.model.margin_codes(codes[None, :])[0])
        return build_explanation(
            self._prepared,
            self.method,
            codes,
            values[0],
            output=output,
            base=float(bias[0]),
            scale="margin",
            started=started,
        )


# ---------------------------------------------------------------------------- exact SHAP
def _coalitions(d: int) -> NDArray[np.bool_]:
    """(2^d, d): row k holds feature j when bit j of k is set."""
    return ((np.arange(2**d)[:, None] >> np.arange(d)) & 1).astype(bool)


def _shapley_weights(d: int) -> FloatArray:
    """w[s] = s! (d - s - 1)! / d!, the weight of a coalition of size s (s < d)."""
    return np.array(
        [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)]
    )


def coalition_values(
    function: Callable[[FloatArray], FloatArray],
    codes: FloatArray,
    background: FloatArray,
    block_rows: int = BLOCK_ROWS,
) -> FloatArray:
    """Return v[i, k]: the mean output over the background with coalition k taken from client i.

    One model call per block of (client, coalition) pairs of at most ``block_rows`` rows.
    """
    n, d = codes.shape
    masks = _coalitions(d)
    n_coalitions, m = len(masks), len(background)
    values = np.empty(n * n_coalitions, dtype=np.float64)
    per_block = max(1, block_rows // m)
    for start in range(0, n * n_coalitions, per_block):
        jobs = np.arange(start, min(start + per_block, n * n_coalitions))
        keep = masks[jobs % n_coalitions][:, None, :]
        rows = np.where(keep, codes[jobs // n_coalitions][:, None, :], background[None, :, :])
        out = function(rows.reshape(-1, d)).reshape(len(jobs), m)
        values[jobs] = out.mean(axis=1)
    return values.reshape(n, n_coalitions)


def exact_shap_values(
    function: Callable[[FloatArray], FloatArray], codes: FloatArray, background: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return exact interventional Shapley values (n, d), v(empty) (n,) and v(all) (n,).

    ``function`` maps (rows, d) codes to outputs; absent features take background values
    (each coalition's value is the mean over the background rows).
    """
    d = codes.shape[1]
    _check_size(d)
    values = coalition_values(function, codes, background)
    masks = _coalitions(d)
    sizes = masks.sum(axis=1)
    weights = _shapley_weights(d)
    phi = np.empty((len(codes), d), dtype=np.float64)
    for j in range(d):
        without = np.flatnonzero(~masks[:, j])
        gains = values[:, without | (1 << j)] - values[:, without]
        phi[:, j] = gains @ weights[sizes[without]]
    return phi, values[:, 0], values[:, -1]


def _check_size(d: int) -> None:
    if d > MAX_EXACT_FEATURES:
        raise AdvisorError(
            f"model: exact_shap takes at most {MAX_EXACT_FEATURES} features "
            f"({2**MAX_EXACT_FEATURES} coalitions). Got {d}. Hint: use kernel_shap (or "
            "tree_shap for XGBoost)."
        )


def _small_enough(model: PropensityModel) -> None:
    _check_size(model.space.n_features)


_EXACT_SPEC: ParamSpec = {"n_background": Whole(1, 10_000), "output": OUTPUT_RULE}


class ExactShapExplainer:
    """Exact interventional Shapley values over the business features (up to 12 features).

    Parameters
    ----------
    model, constraints, data, seed
        As for every explainer; ``data`` are the reference clients the background is drawn
        from (``seed`` draws it).
    n_background
        Background rows (default 100): each coalition's value is the mean output over them,
        so one client costs ``2^d * n_background`` model rows.
    output
        ``margin`` (default) or ``probability`` (the calibrated score).
    """

    def __init__(self, model: Any, constraints: Any, data: Any, *, seed: int = 0, **params: Any):
        self._prepared = prepare(
            "ExactShapExplainer",
            model,
            constraints,
            data,
            seed=seed,
            given=params,
            spec=_EXACT_SPEC,
            defaults={"n_background": 100, "output": "margin"},
            family=_small_enough,
        )
        p = self._prepared
        self._background = background_sample(p.codes, p.params["n_background"], p.seed)
        self._function = output_function(p.model, p.params["output"])

    @property
    def method(self) -> str:
        """Return ``"exact_shap"``."""
        return "exact_shap"

    def explain(self, client: Any) -> Explanation:
        """Return the client's exact Shapley values; weights plus base equal the output."""
        started = time.perf_counter()
        codes = client_of(self._prepared.model, client, self._prepared.constraints)
        phi, empty, full = exact_shap_values(self._function, codes[None, :], self._background)
        return build_explanation(
            self._prepared,
            self.method,
            codes,
            phi[0],
            output=float(full[0]),
            base=float(empty[0]),
            scale=self._prepared.params["output"],
            started=started,
            parameters={**self._prepared.params, "n_background": len(self._background)},
            seed=self._prepared.seed,
        )


# ---------------------------------------------------------------------------- KernelSHAP
@contextlib.contextmanager
def _numpy_seeded(seed: int) -> Iterator[None]:
    """Seed numpy's global generator (shap draws from it) and restore its state afterwards."""
    state = np.random.get_state()  # noqa: NPY002 - restored below
    np.random.seed(seed)  # noqa: NPY002 - shap's KernelExplainer takes no generator
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def kernel_shap_values(
    function: Callable[[FloatArray], FloatArray],
    codes: FloatArray,
    background: FloatArray,
    n_samples: int,
    seed: int,
) -> tuple[FloatArray, float]:
    """Return KernelSHAP values (n, d) and the expected output over the background.

    No L1 feature selection (every feature gets a value); the coalitions are drawn from
    numpy's global generator seeded with ``seed`` and restored afterwards.
    """
    import shap

    explainer = shap.KernelExplainer(function, background, link="identity")
    with _numpy_seeded(seed):
        values = explainer.shap_values(codes, nsamples=n_samples, l1_reg=False, silent=True)
    return np.asarray(values, dtype=np.float64).reshape(codes.shape), float(
        np.asarray(explainer.expected_value).reshape(-1)[0]
    )


_KERNEL_SPEC: ParamSpec = {
    "n_background": Whole(1, 10_000),
    "n_samples": (Whole(1, 1_000_000), None),
    "output": OUTPUT_RULE,
}


class KernelShapExplainer:
    """KernelSHAP (``shap.KernelExplainer``) over the business features, for any family.

    Parameters
    ----------
    model, constraints, data, seed
        As for every explainer; ``seed`` draws the background and the coalitions.
    n_background
        Background rows drawn from ``data`` (default 50).
    n_samples
        Coalitions evaluated per client, at least ``2 d`` (default None: shap's
        ``2 d + 2048``); each costs ``n_background`` model rows.
    output
        ``margin`` (default) or ``probability``.
    """

    def __init__(self, model: Any, constraints: Any, data: Any, *, seed: int = 0, **params: Any):
        self._prepared = prepare(
            "KernelShapExplainer",
            model,
            constraints,
            data,
            seed=seed,
            given=params,
            spec=_KERNEL_SPEC,
            defaults={"n_background": 50, "n_samples": None, "output": "margin"},
        )
        p = self._prepared
        d = p.model.space.n_features
        if p.params["n_samples"] is None:
            p.params["n_samples"] = 2 * d + 2048
        if p.params["n_samples"] < 2 * d:
            raise AdvisorError(
                f"KernelShapExplainer.n_samples: must be at least 2 x {d} features = {2 * d} "
                f"(fewer leave the regression singular). Got {p.params['n_samples']}."
            )
        self._background = background_sample(p.codes, p.params["n_background"], p.seed)
        self._function = output_function(p.model, p.params["output"])

    @property
    def method(self) -> str:
        """Return ``"kernel_shap"``."""
        return "kernel_shap"

    def explain(self, client: Any) -> Explanation:
        """Return the client's KernelSHAP values; weights plus base equal the output."""
        started = time.perf_counter()
        p = self._prepared
        codes = client_of(p.model, client, p.constraints)
        phi, base = kernel_shap_values(
            self._function, codes[None, :], self._background, p.params["n_samples"], p.seed
        )
        output = float(self._function(codes[None, :])[0])
        return build_explanation(
            p,
            self.method,
            codes,
            phi[0],
            output=output,
            base=base,
            scale=p.params["output"],
            started=started,
            parameters={**p.params, "n_background": len(self._background)},
            seed=p.seed,
        )
