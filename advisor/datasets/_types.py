"""Typed descriptions of the data sets Levers works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import pandas as pd

__all__ = ["ColumnInfo", "Dataset", "DatasetInfo"]

ColumnKind = Literal["continuous", "integer", "binary", "categorical", "ordinal", "identifier"]
ColumnRole = Literal["immutable", "actionable", "context", "target", "identifier", "holding"]

_KINDS = ("continuous", "integer", "binary", "categorical", "ordinal", "identifier")
_ROLES = ("immutable", "actionable", "context", "target", "identifier", "holding")


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnInfo:
    """What one column means.

    Parameters
    ----------
    meaning
        One sentence in business words.
    kind
        The column's measurement kind.
    role
        Suggested lever role (the constraint file has the final word).
    unit
        Business unit (``"EUR"``, ``"years"``, ...), empty when unitless.
    """

    meaning: str
    kind: ColumnKind
    role: ColumnRole
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(
                f"ColumnInfo.kind: must be one of {', '.join(_KINDS)}. Got {self.kind!r}."
            )
        if self.role not in _ROLES:
            raise ValueError(
                f"ColumnInfo.role: must be one of {', '.join(_ROLES)}. Got {self.role!r}."
            )
        if not self.meaning.strip():
            raise ValueError("ColumnInfo.meaning: must be a non-empty sentence. Got ''.")


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetInfo:
    """Description of a data set: provenance, targets and column meanings.

    Parameters
    ----------
    name
        Short identifier, e.g. ``"bank-marketing"``.
    source
        Provenance and citation in one or two sentences.
    targets
        Target column names (one for single-product data, one per product otherwise).
    positive_label
        The value of a target column that the model scores as the positive class.
    desired_label
        The value levers aim for (equal to ``positive_label`` for propensity data; the
        opposite for risk data such as German credit, where the model scores "bad").
    columns
        Meaning of every column of the frame, in frame order.
    """

    name: str
    source: str
    targets: tuple[str, ...]
    positive_label: object
    desired_label: object
    columns: Mapping[str, ColumnInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError(
                f"DatasetInfo.targets: must name at least one column. Got {self.targets!r}."
            )
        missing = [t for t in self.targets if self.columns and t not in self.columns]
        if missing:
            raise ValueError(f"DatasetInfo.targets: must be described in columns. Got {missing!r}.")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def to_frame(self) -> pd.DataFrame:
        """Return the column descriptions as a table (one row per column)."""
        rows = [
            {"column": n, "kind": c.kind, "role": c.role, "unit": c.unit, "meaning": c.meaning}
            for n, c in self.columns.items()
        ]
        return pd.DataFrame(rows, columns=["column", "kind", "role", "unit", "meaning"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Dataset:
    """A loaded data set: a typed frame and its description.

    Parameters
    ----------
    frame
        One row per client, business units, categorical columns as pandas categoricals.
    info
        Provenance, targets and column meanings.
    """

    frame: pd.DataFrame
    info: DatasetInfo

    def __post_init__(self) -> None:
        absent = [t for t in self.info.targets if t not in self.frame.columns]
        if absent:
            raise ValueError(f"Dataset.frame: must hold the target columns. Got no {absent!r}.")
