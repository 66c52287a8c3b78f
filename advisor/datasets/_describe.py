"""A quick description of any client table: kinds, missing values, target rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.errors import DatasetError

__all__ = ["ColumnSummary", "TableSummary", "TargetSummary", "describe_table", "guess_targets"]

_TARGET_NAMES = {"y", "target", "label", "class", "purchase", "credit_risk", "default"}
_POSITIVE = ("yes", "true", "1", "1.0", "bad")


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnSummary:
    """Kind, missing and infinite values, and cardinality of one column."""

    name: str
    kind: str
    dtype: str
    n_missing: int
    n_unique: int
    example: str
    n_infinite: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetSummary:
    """Label shares of a target column, and its positive rate when a positive label exists."""

    name: str
    shares: dict[str, float]
    positive_label: str | None
    positive_rate: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSummary:
    """Description of a table: size, columns and targets."""

    n_rows: int
    columns: tuple[ColumnSummary, ...]
    targets: tuple[TargetSummary, ...]


def _kind(series: pd.Series) -> str:
    values = series.dropna()
    if pd.api.types.is_bool_dtype(series) or values.nunique() == 2:
        return "binary"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "continuous"
    if values.is_unique and len(values) > 1:
        return "identifier"
    return "categorical"


def guess_targets(columns: Sequence[str]) -> list[str]:
    """Return the columns that look like targets (``take_*``, ``y``, ``class``, ...)."""
    return [c for c in columns if c.startswith("take_") or c.lower() in _TARGET_NAMES]


def _target(series: pd.Series) -> TargetSummary:
    shares = series.astype(str).value_counts(normalize=True, dropna=False).sort_index()
    labels = {str(label): float(share) for label, share in shares.items()}
    positive = next((lab for lab in labels if lab.lower() in _POSITIVE), None)
    rate = labels[positive] if positive is not None and len(labels) == 2 else None
    return TargetSummary(
        name=str(series.name),
        shares=labels,
        positive_label=positive if rate is not None else None,
        positive_rate=rate,
    )


def _n_infinite(series: pd.Series) -> int:
    """Count ``inf`` / ``-inf`` values of a numeric column (other columns have none)."""
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return 0
    return int(np.isinf(series.to_numpy(dtype="float64", na_value=np.nan)).sum())


def describe_table(frame: pd.DataFrame, targets: Sequence[str] | None = None) -> TableSummary:
    """Describe ``frame``: one summary per column and label shares of the target columns.

    Parameters
    ----------
    frame
        Any table of clients.
    targets
        Target columns; guessed from the column names when ``None``.

    Returns
    -------
    TableSummary
        Rows, per-column kind / missing / infinite values / cardinality, and target rates.
        Infinite values (``inf``, ``-inf``, numbers above 1.8e308 in a CSV) are counted,
        not refused: binding a constraint set to the table refuses them.

    Raises
    ------
    DatasetError
        ``frame`` is not a DataFrame, repeats a column name, or a target is not a column.

    Examples
    --------
    >>> frame = pd.DataFrame({"age": [30, 40], "y": ["no", "yes"]})
    >>> describe_table(frame).targets[0].positive_rate
    0.5
    """
    if not isinstance(frame, pd.DataFrame):
        raise DatasetError(f"frame: must be a pandas DataFrame. Got {type(frame).__name__}.")
    repeated = sorted({str(name) for name in frame.columns[frame.columns.duplicated()]})
    if repeated:
        msg = f"frame: column names must be unique. Got {', '.join(map(repr, repeated))} repeated."
        raise DatasetError(f"{msg} Hint: rename the columns.")
    chosen = guess_targets(list(map(str, frame.columns))) if targets is None else list(targets)
    unknown = [t for t in chosen if t not in frame.columns]
    if unknown:
        raise DatasetError(
            f"targets: must be columns of the table. Got {', '.join(map(repr, unknown))}. "
            f"Hint: columns are {', '.join(map(str, frame.columns[:12]))}."
        )
    columns = tuple(
        ColumnSummary(
            name=str(name),
            kind=_kind(frame[name]),
            dtype=str(frame[name].dtype),
            n_missing=int(frame[name].isna().sum()),
            n_unique=int(frame[name].nunique()),
            example=str(frame[name].dropna().iloc[0]) if frame[name].notna().any() else "",
            n_infinite=_n_infinite(frame[name]),
        )
        for name in frame.columns
    )
    return TableSummary(
        n_rows=len(frame),
        columns=columns,
        targets=tuple(_target(frame[t]) for t in chosen),
    )
