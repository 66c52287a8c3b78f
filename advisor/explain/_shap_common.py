"""What the SHAP and gradient explainers share: parameters, reference codes, the result.

Parameters are declared as data (:func:`constraints.check_params`) and a name the method does
not know is refused with the list of those it does; the reference clients become codes once;
every explanation is built the same way (:func:`build_explanation`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from advisor.explain._client import (
    checked_params,
    client_codes,
    feature_weights,
    reference_codes,
)
from advisor.explain._types import Explanation
from advisor.models import PropensityModel
from constraints import ConstraintSet, OneOf, ParamSpec

__all__ = [
    "OUTPUTS",
    "OUTPUT_RULE",
    "Prepared",
    "background_sample",
    "build_explanation",
    "output_function",
    "prepare",
    "reference_codes",
    "sum_by_feature",
]

FloatArray = NDArray[np.float64]
OUTPUTS = ("margin", "probability")
"""What the Shapley value function averages: the raw margin or the calibrated score."""
OUTPUT_RULE = OneOf(OUTPUTS)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The checked model, constraint set, reference codes, seed and parameters of one explainer."""

    model: PropensityModel
    constraints: ConstraintSet
    codes: FloatArray
    seed: int
    params: dict[str, Any]


def prepare(
    where: str,
    model: Any,
    constraints: Any,
    data: Any,
    *,
    seed: Any,
    given: Mapping[str, Any],
    spec: ParamSpec,
    defaults: Mapping[str, Any],
    family: Callable[[PropensityModel], object] | None = None,
) -> Prepared:
    """Check everything an explainer is built from; return it with the defaults filled in.

    ``where`` is the explainer's class name (it prefixes messages); ``family`` refuses a model
    the method cannot explain.
    """
    checked_model, checked_constraints, checked_seed, params = checked_params(
        where, model, constraints, seed, given, spec, defaults
    )
    if family is not None:
        family(checked_model)
    codes = reference_codes(checked_model, data)
    return Prepared(checked_model, checked_constraints, codes, checked_seed, params)


def background_sample(codes: FloatArray, n: int, seed: int) -> FloatArray:
    """Return ``n`` reference rows drawn without replacement (all of them when fewer)."""
    if n >= len(codes):
        return codes.copy()
    rows = np.random.default_rng(seed).choice(len(codes), size=n, replace=False)
    return codes[np.sort(rows)]


def output_function(model: PropensityModel, output: str) -> Callable[[FloatArray], FloatArray]:
    """Return the model's margin or calibrated score as a function of (n, d) codes."""
    return model.margin_codes if output == "margin" else model.score_codes


def sum_by_feature(model: PropensityModel, design_values: FloatArray) -> FloatArray:
    """Sum (n, n_design) per-column values into (n, d) per-feature values (one-hot groups)."""
    space = model.space
    out = np.empty((len(design_values), space.n_features), dtype=np.float64)
    for j, name in enumerate(space.names):
        out[:, j] = design_values[:, space.design_columns(name)].sum(axis=1)
    return out


def client_of(model: PropensityModel, client: Any, constraints: ConstraintSet) -> FloatArray:
    """Return the (d,) codes of one client (every feature, known categories, the domain)."""
    return client_codes(model, client, constraints)[1]


def build_explanation(
    prepared: Prepared,
    method: str,
    codes: FloatArray,
    weights: FloatArray,
    *,
    output: float,
    base: float,
    scale: str,
    started: float,
    parameters: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Explanation:
    """Return the frozen explanation of one client (weights in the constraint file's order)."""
    names = prepared.constraints.feature_names
    entries = feature_weights(
        prepared.constraints, codes, {n: float(w) for n, w in zip(names, weights, strict=True)}
    )
    return Explanation(
        method=method,
        product=prepared.model.target,
        score=float(prepared.model.score_codes(codes[None, :])[0]),
        output=float(output),
        base=float(base),
        scale=scale,
        weights=entries,
        parameters=dict(prepared.params if parameters is None else parameters),
        seed=seed,
        runtime_s=time.perf_counter() - started,
    )
