"""Levers' advisor: data sets, models, recommendations, levers, evidence and campaigns."""

from advisor.errors import AdvisorError, DatasetError, DatasetFileNotFoundError

__all__ = ["AdvisorError", "DatasetError", "DatasetFileNotFoundError"]
