"""Build any explainer by its method name: one signature for every method."""

from __future__ import annotations

import importlib
from typing import Any

import pandas as pd

from advisor.errors import AdvisorError
from advisor.explain._types import METHODS, Explainer

__all__ = ["EXPLAINER_CLASSES", "local_method", "make_explainer"]

EXPLAINER_CLASSES: dict[str, tuple[str, str]] = {
    "lime": ("advisor.explain._lime", "LimeExplainer"),
    "levers_lime": ("advisor.explain._levers_lime", "LeversLimeExplainer"),
    "tree_shap": ("advisor.explain._shap", "TreeShapExplainer"),
    "exact_shap": ("advisor.explain._shap", "ExactShapExplainer"),
    "kernel_shap": ("advisor.explain._shap", "KernelShapExplainer"),
    "integrated_gradients": ("advisor.explain._gradients", "IntegratedGradientsExplainer"),
}
"""Each method's class (module, name), imported on first use (lime, shap, captum are heavy)."""


def make_explainer(
    method: str, model: Any, constraints: Any, data: pd.DataFrame, *, seed: int = 0, **params: Any
) -> Explainer:
    """Return the explainer of ``method`` for ``model``: ``explain(client)`` then explains.

    Every method takes the same arguments: the model, its constraint set, reference clients
    in business values (the background, perturbation and baseline data) and a seed; other
    parameters are the method's own (see each class).

    Raises
    ------
    AdvisorError
        An unknown method, a method that does not apply to the model's family (TreeSHAP
        needs XGBoost, integrated gradients the MLP), or bad parameters.
    """
    if method not in METHODS:
        raise AdvisorError(f"method: must be one of {', '.join(METHODS)}. Got {method!r}.")
    module, name = EXPLAINER_CLASSES[method]
    cls = getattr(importlib.import_module(module), name)
    explainer: Explainer = cls(model, constraints, data, seed=seed, **params)
    return explainer


def local_method(model: Any) -> str:
    """Return the method that explains a client to an advisor best for ``model``'s family.

    TreeSHAP for XGBoost (exact, fast); Levers LIME otherwise (plausible perturbations from
    the constraint file, with its fidelity reported).

    Raises
    ------
    AdvisorError
        ``model`` is not a trained propensity model.
    """
    family = getattr(model, "family", None)
    if family not in ("logistic", "xgboost", "mlp"):
        raise AdvisorError(f"model: must be a trained PropensityModel. Got {type(model).__name__}.")
    return "tree_shap" if family == "xgboost" else "levers_lime"
