"""Global importance: permutation drop, mean |SHAP|, and the shares of the constraint roles.

:func:`global_importance` gives one row per business feature; :func:`importance_by_role`
tells how much of the model's importance lies in what the client is (immutable), in their
situation (context) and in what a lever may change (actionable).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import AdvisorError
from advisor.explain._shap import (
    MAX_GLOBAL_EXACT_FEATURES,
    exact_shap_values,
    kernel_shap_values,
    tree_shap_values,
)
from advisor.explain._shap_common import (
    FloatArray,
    background_sample,
    output_function,
    prepare,
    sum_by_feature,
)
from advisor.explain._types import ROLES
from advisor.models import PropensityModel, XGBoostEstimator, permutation_importance
from constraints import AnyOf, ParamSpec, Whole
from counterfactuals import LinearFunction

__all__ = ["GLOBAL_METHODS", "global_importance", "importance_by_role"]

GLOBAL_METHODS = ("permutation", "mean_abs_shap")
"""The global measures: permutation drop of ROC AUC (needs labels) and mean |SHAP| (margin)."""
GLOBAL_BACKGROUND = 50
"""Background rows of exact and kernel SHAP in :func:`global_importance`."""
GLOBAL_KERNEL_SAMPLES = 512
"""Coalitions per client of kernel SHAP in :func:`global_importance`."""


def _methods_rule() -> AnyOf:
    return AnyOf(
        lambda v: isinstance(v, tuple) and len(v) > 0 and set(v) <= set(GLOBAL_METHODS),
        f"a non-empty tuple of {', '.join(GLOBAL_METHODS)}",
    )


def linear_shap_values(
    model: PropensityModel, linear: LinearFunction, codes: FloatArray, background: FloatArray
) -> FloatArray:
    """Return the exact interventional SHAP values (n, d) of a linear margin.

    Per design column ``coef * (x - mean of the background)``, summed per feature (missing
    values take the model's imputation).
    """

    def filled(rows: FloatArray) -> FloatArray:
        design = model.space.to_design(rows)
        if linear.missing_value is not None:
            design = np.where(np.isnan(design), linear.missing_value, design)
        return design

    columns = linear.coef * (filled(codes) - filled(background).mean(axis=0))
    return sum_by_feature(model, columns)


def _mean_abs_shap(
    model: PropensityModel, codes: FloatArray, background: FloatArray, seed: int
) -> tuple[FloatArray, str]:
    """Return mean |SHAP| per feature on the margin and the SHAP method used."""
    if isinstance(model.estimator, XGBoostEstimator):
        values, _ = tree_shap_values(model, codes)
        return np.abs(values).mean(axis=0), "tree_shap"
    structure = model.estimator.structure()
    if isinstance(structure, LinearFunction):  # exact for any number of features
        values = linear_shap_values(model, structure, codes, background)
        return np.abs(values).mean(axis=0), "exact_shap"
    function = output_function(model, "margin")
    if model.space.n_features <= MAX_GLOBAL_EXACT_FEATURES:
        values, _, _ = exact_shap_values(function, codes, background)
        return np.abs(values).mean(axis=0), "exact_shap"
    values, _ = kernel_shap_values(function, codes, background, GLOBAL_KERNEL_SAMPLES, seed)
    return np.abs(values).mean(axis=0), "kernel_shap"


def global_importance(
    model: Any,
    constraints: Any,
    data: pd.DataFrame,
    *,
    y: Any = None,
    seed: int = 0,
    n_clients: int = 200,
    methods: tuple[str, ...] = GLOBAL_METHODS,
) -> pd.DataFrame:
    """Return the model's global importance per business feature.

    Parameters
    ----------
    model, constraints
        A trained propensity model and its constraint set.
    data
        Reference clients in business values (held-out clients are best).
    y
        Their labels, for the permutation drop; without them ``permutation`` is left out.
    seed
        Seed of the client sample, the SHAP background and the permutations.
    n_clients
        Clients sampled from ``data`` (all of them when fewer) for both measures.
    methods
        Among ``permutation`` (drop of ROC AUC when the feature is shuffled, 5 repeats) and
        ``mean_abs_shap`` (mean absolute SHAP value on the margin: TreeSHAP for XGBoost; exact
        interventional SHAP for a linear margin (the logistic model, closed form, any number
        of features) and up to 8 features; kernel SHAP with 512 coalitions above; background
        50 clients).

    Returns
    -------
    pandas.DataFrame
        One row per feature in the constraint file's order: ``feature``, ``role`` and one
        column per method computed. ``attrs`` holds ``shap_method``, ``n_clients``, ``seed``.
    """
    spec: ParamSpec = {"n_clients": Whole(2, 1_000_000), "methods": _methods_rule()}
    prepared = prepare(
        "global_importance",
        model,
        constraints,
        data,
        seed=seed,
        given={"n_clients": n_clients, "methods": methods},
        spec=spec,
        defaults={},
    )
    p = prepared
    n = len(p.codes)
    picked = np.arange(n)
    if p.params["n_clients"] < n:
        rng = np.random.default_rng(p.seed)
        picked = np.sort(rng.choice(n, size=p.params["n_clients"], replace=False))
    codes = p.codes[picked]
    names = list(p.constraints.feature_names)
    out = pd.DataFrame({"feature": names, "role": [p.constraints.feature(n).role for n in names]})
    out.attrs.update(n_clients=len(picked), seed=p.seed, shap_method=None)
    wanted = p.params["methods"]
    if "permutation" in wanted and y is not None:
        labels = np.asarray(y, dtype=object)
        if labels.ndim != 1 or len(labels) != len(data):
            raise AdvisorError(
                f"y: must hold one label per client of data ({len(data)}). Got shape "
                f"{labels.shape}."
            )
        found = permutation_importance(
            p.model, data.iloc[picked], labels[picked], seed=p.seed, n_repeats=5
        )
        out["permutation"] = found.set_index("feature")["drop_mean"].reindex(names).to_numpy()
    if "mean_abs_shap" in wanted:
        background = background_sample(p.codes, GLOBAL_BACKGROUND, p.seed + 1)
        values, used = _mean_abs_shap(p.model, codes, background, p.seed)
        out["mean_abs_shap"] = values
        out.attrs["shap_method"] = used
    return out


def importance_by_role(importance: pd.DataFrame) -> pd.DataFrame:
    """Return each role's share of the total importance, per method.

    Parameters
    ----------
    importance
        :func:`global_importance`'s table. Negative permutation drops (noise) count as 0.

    Returns
    -------
    pandas.DataFrame
        Index ``immutable``, ``context``, ``actionable``; one column per method; each column
        sums to 1 (NaN when the model gives every feature zero importance).
    """
    if not isinstance(importance, pd.DataFrame) or not {"feature", "role"} <= set(
        importance.columns
    ):
        raise AdvisorError(
            "importance: must be global_importance's table (columns feature, role and one per "
            f"method). Got {type(importance).__name__}."
        )
    columns = [c for c in GLOBAL_METHODS if c in importance.columns]
    if not columns:
        raise AdvisorError(
            f"importance: must hold at least one of {', '.join(GLOBAL_METHODS)}. Got columns "
            f"{list(importance.columns)}."
        )
    unknown = sorted(set(importance["role"]) - set(ROLES))
    if unknown:
        raise AdvisorError(f"importance.role: must be among {', '.join(ROLES)}. Got {unknown}.")
    positive = importance[columns].clip(lower=0.0).fillna(0.0)
    totals = positive.groupby(importance["role"]).sum().reindex(list(ROLES), fill_value=0.0)
    sums = totals.sum(axis=0)
    shares = totals / sums.where(sums > 0)
    shares.index.name = "role"
    return shares
