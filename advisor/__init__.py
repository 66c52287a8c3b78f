"""Levers' advisor: data sets, models, recommendations, levers, evidence and campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports
from advisor.errors import AdvisorError, DatasetError, DatasetFileNotFoundError

if TYPE_CHECKING:
    from advisor.audit import replay

__all__ = ["AdvisorError", "DatasetError", "DatasetFileNotFoundError", "replay"]

# ``advisor.replay`` (an audit record recomputed) is imported on first use: see advisor._lazy.
_EXPORTS = {"replay": "advisor.audit"}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
