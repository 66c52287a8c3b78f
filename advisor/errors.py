"""Errors raised by the advisor package.

Every error derives from :class:`AdvisorError`, itself a :class:`ValueError`, so generic
handlers keep working. Messages follow the house shape ``<where>: <what must hold>. Got
<value>.`` with an optional ``Hint: ...``.
"""

from __future__ import annotations

__all__ = [
    "AdvisorError",
    "BundleError",
    "CampaignError",
    "DatasetError",
    "DatasetFileNotFoundError",
    "ModelError",
]


class AdvisorError(ValueError):
    """Root of every error raised by :mod:`advisor`."""


class DatasetError(AdvisorError):
    """A data set cannot be generated, read or interpreted as asked."""


class DatasetFileNotFoundError(DatasetError, FileNotFoundError):
    """A data file (or the folder that should hold it) does not exist."""


class ModelError(AdvisorError):
    """A model cannot be trained or used as asked (bad target, too few positives, ...)."""


class BundleError(AdvisorError):
    """A model bundle folder is missing, corrupted, tampered with or of another version."""


class CampaignError(AdvisorError):
    """A campaign cannot run as asked (bad segment, unknown column, clients/model mismatch)."""
