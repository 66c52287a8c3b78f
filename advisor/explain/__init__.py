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
    from advisor.explain._factory import EXPLAINER_CLASSES, make_explainer
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
    "METHODS",
    "ROLES",
    "SCALES",
    "Explainer",
    "Explanation",
    "FeatureWeight",
    "Fidelity",
    "Stability",
    "make_explainer",
]

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "EXPLAINER_CLASSES": "advisor.explain._factory",
    "make_explainer": "advisor.explain._factory",
    "METHODS": "advisor.explain._types",
    "ROLES": "advisor.explain._types",
    "SCALES": "advisor.explain._types",
    "Explainer": "advisor.explain._types",
    "Explanation": "advisor.explain._types",
    "FeatureWeight": "advisor.explain._types",
    "Fidelity": "advisor.explain._types",
    "Stability": "advisor.explain._types",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
