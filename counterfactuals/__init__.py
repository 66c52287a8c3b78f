"""Counterfactual search engines, model adapters, results and metrics.

May import :mod:`constraints`; never :mod:`advisor` nor :mod:`app`.
"""

from counterfactuals._space import FeatureSpace
from counterfactuals.errors import CounterfactualError

__all__ = ["CounterfactualError", "FeatureSpace"]
