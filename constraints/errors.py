"""Errors raised by the constraints package."""

from __future__ import annotations

__all__ = ["ConstraintError"]


class ConstraintError(ValueError):
    """Root of every error raised by :mod:`constraints` (a constraint file or rule is invalid)."""
