"""Small helpers shared by the real-data column tables."""

from __future__ import annotations

from advisor.datasets._types import ColumnInfo, ColumnKind, ColumnRole

__all__ = ["col", "words"]


def col(kind: ColumnKind, role: ColumnRole, meaning: str, unit: str = "") -> ColumnInfo:
    """Return a column description."""
    return ColumnInfo(meaning=meaning, kind=kind, role=role, unit=unit)


def words(text: str) -> tuple[str, ...]:
    """Split a space-separated list of names."""
    return tuple(text.split())
