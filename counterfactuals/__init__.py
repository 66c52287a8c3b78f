"""Counterfactual search engines, model adapters, results and metrics.

May import :mod:`constraints`; never :mod:`advisor` nor :mod:`app`.
"""

from counterfactuals.errors import CounterfactualError

__all__ = ["CounterfactualError"]
