"""Errors raised by the counterfactuals package."""

from __future__ import annotations

__all__ = ["CounterfactualError"]


class CounterfactualError(ValueError):
    """Root of every error raised by :mod:`counterfactuals` (an invalid search request)."""
