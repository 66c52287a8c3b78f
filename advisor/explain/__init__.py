"""Explanations of a model's scores: local (LIME, Levers LIME, SHAP, gradients) and global.

Every local method is an explainer built with :func:`make_explainer` (or its class) whose
``explain(client)`` returns a frozen :class:`Explanation`: one weight per feature, in
business words (EN/FR), with the method, its parameters, seed, runtime and, for surrogates,
their fidelity and stability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
    from advisor.explain._factory import EXPLAINER_CLASSES, local_method, make_explainer
    from advisor.explain._global import GLOBAL_METHODS, global_importance, importance_by_role
    from advisor.explain._gradients import IntegratedGradientsExplainer
    from advisor.explain._levers_lime import LeversLimeExplainer
    from advisor.explain._lime import LimeExplainer
    from advisor.explain._shap import (
        MAX_EXACT_FEATURES,
        ExactShapExplainer,
        KernelShapExplainer,
        TreeShapExplainer,
    )
    from advisor.explain._text import explanation_text
    from advisor.explain._types import (
        METHODS,
        ROLES,
        SCALES,
        Explainer,
        Explanation,
        FeatureWeight,
        Fidelity,
        Stability,
    )

__all__ = [
    "EXPLAINER_CLASSES",
    "GLOBAL_METHODS",
    "MAX_EXACT_FEATURES",
    "METHODS",
    "ROLES",
    "SCALES",
    "ExactShapExplainer",
    "Explainer",
    "Explanation",
    "FeatureWeight",
    "Fidelity",
    "IntegratedGradientsExplainer",
    "KernelShapExplainer",
    "LeversLimeExplainer",
    "LimeExplainer",
    "Stability",
    "TreeShapExplainer",
    "explanation_text",
    "global_importance",
    "importance_by_role",
    "local_method",
    "make_explainer",
]

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "EXPLAINER_CLASSES": "advisor.explain._factory",
    "make_explainer": "advisor.explain._factory",
    "local_method": "advisor.explain._factory",
    "LimeExplainer": "advisor.explain._lime",
    "LeversLimeExplainer": "advisor.explain._levers_lime",
    "explanation_text": "advisor.explain._text",
    "METHODS": "advisor.explain._types",
    "ROLES": "advisor.explain._types",
    "SCALES": "advisor.explain._types",
    "Explainer": "advisor.explain._types",
    "Explanation": "advisor.explain._types",
    "FeatureWeight": "advisor.explain._types",
    "Fidelity": "advisor.explain._types",
    "Stability": "advisor.explain._types",
    "GLOBAL_METHODS": "advisor.explain._global",
    "global_importance": "advisor.explain._global",
    "importance_by_role": "advisor.explain._global",
    "IntegratedGradientsExplainer": "advisor.explain._gradients",
    "MAX_EXACT_FEATURES": "advisor.explain._shap",
    "ExactShapExplainer": "advisor.explain._shap",
    "KernelShapExplainer": "advisor.explain._shap",
    "TreeShapExplainer": "advisor.explain._shap",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
