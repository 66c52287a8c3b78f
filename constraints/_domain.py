"""Data checks made when a file is bound to data: values within the file's bounds, plausible.

A literal bound (``min: 18``, ``max: 30``, an ordinal's category) says which values a feature
can take, so data beyond it is an error: a typo or a unit mistake that would otherwise get
levers. One exception keeps real portfolios usable: for a feature levers move (actionable,
or derived), the bounds limit what a lever may propose (``campaign`` contacts up to 10), and
clients already beyond them are reported as a warning, unless the value is also implausible.

Without a literal bound, values far outside the bulk of the column, beyond
``p1 - 10 w`` or ``p99 + 10 w`` with ``w = p99 - p1`` (at least the mean absolute deviation,
and at least 1 for integers), are reported as a warning: percentile bounds come from the data
itself and check nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from constraints._limits import IMPLAUSIBLE_SPREAD
from constraints._resolve import category_labels
from constraints._schema import FeatureModel

__all__ = ["check_domain", "plausible_range", "shown_rows", "shown_values"]

Add = Callable[..., None]
_SHOWN = 5


def _row_label(index: pd.Index, position: int) -> str:
    value = index[position]
    if isinstance(index, pd.MultiIndex):  # (line, client): "6 (client 1005)"
        first, *others = value
        names = index.names[1:]
        extra = ", ".join(f"{name} {other}" for name, other in zip(names, others, strict=True))
        return f"{first} ({extra})"
    return str(value)


def shown_rows(mask: np.ndarray, index: pd.Index) -> str:
    """Return ``row 7`` or ``rows 3, 17, 20 and 5 more (8 rows)`` for the rows in ``mask``.

    Rows are named by ``index``: its labels, and its name as the noun when it has one
    (``line``: the file's line numbers; ``client``: client ids). A two-level index names
    both: ``lines 6 (client 1005), 11 (client 1010)``.

    Examples
    --------
    >>> shown_rows(np.array([True, False, True]), pd.RangeIndex(3))
    'rows 0, 2'
    >>> shown_rows(np.ones(1200, dtype=bool), pd.RangeIndex(1200))
    'rows 0, 1, 2 and 1,197 more (1,200 rows)'
    >>> shown_rows(np.array([False, True]), pd.Index(["7", "12"], name="client"))
    'client 12'
    >>> lines = pd.MultiIndex.from_arrays([[2, 6, 11], ["A1", "A5", "B2"]])
    >>> lines.names = ["line", "client"]
    >>> shown_rows(np.array([False, True, True]), lines)
    'lines 6 (client A5), 11 (client B2)'
    """
    n = int(mask.sum())
    positions = np.flatnonzero(mask)[:3]
    rows = [_row_label(index, int(p)) for p in positions]
    noun = index.names[0] if isinstance(index.names[0], str) and index.names[0] else "row"
    if n == 1:
        return f"{noun} {rows[0]}"
    more = f" and {n - 3:,} more ({n:,} {noun}s)" if n > 3 else ""
    return f"{noun}s {', '.join(rows)}{more}"


def shown_values(values: np.ndarray, label: Callable[[float], str] | None = None) -> str:
    """Return the distinct values (``-1000, -3``), or their range when more than five.

    Examples
    --------
    >>> shown_values(np.array([8.0, 7.0, 8.0]))
    '7, 8'
    >>> shown_values(np.array([11.0, 63.0, 12.0, 11.0, 40.0, 50.0, 20.0]))
    '11 to 63 (6 distinct values)'
    """
    distinct = np.unique(values).tolist()
    show = label or (lambda v: f"{v:g}")
    if len(distinct) <= _SHOWN:
        return ", ".join(show(v) for v in distinct)
    return f"{show(distinct[0])} to {show(distinct[-1])} ({len(distinct):,} distinct values)"


def plausible_range(values: np.ndarray, integer: bool) -> tuple[float, float, float, float] | None:
    """Return ``(low, high, p1, p99)``: values outside ``[low, high]`` are implausible.

    ``None`` when the column has no spread to judge by (a constant column of floats).

    Examples
    --------
    >>> low, high, p1, p99 = plausible_range(np.arange(18.0, 90.0), integer=True)
    >>> round(low), round(high)
    (-677, 784)
    """
    p1, p99 = (float(q) for q in np.percentile(values, [1, 99]))
    spread = float(np.mean(np.abs(values - np.median(values))))
    width = max(p99 - p1, spread, 1.0 if integer else 0.0)
    if not width > 0:
        return None
    return p1 - IMPLAUSIBLE_SPREAD * width, p99 + IMPLAUSIBLE_SPREAD * width, p1, p99


def _literal(model: FeatureModel, raw: Any) -> bool:
    if raw is None:
        return False
    return model.kind == "ordinal" or (isinstance(raw, (int, float)) and not isinstance(raw, bool))


def check_domain(
    add: Add,
    name: str,
    model: FeatureModel,
    values: np.ndarray,
    bounds: tuple[float | None, float | None],
    index: pd.Index,
    moved: bool,
) -> None:
    """Report data beyond the file's literal bounds (errors) and implausible values (warnings).

    ``moved`` says that levers move the feature (actionable, or derived): its bounds cap
    what a lever proposes, and clients already beyond them are a warning.
    """
    labels = [str(c) for c in category_labels(model)] if model.kind == "ordinal" else []

    def label(code: float) -> str:
        return repr(labels[int(code)]) if labels else f"{code:g}"

    fence = None if labels else plausible_range(values, model.kind == "integer")
    implausible = np.zeros(len(values), dtype=bool)
    if fence is not None:
        implausible = (values < fence[0]) | (values > fence[1])
    for key, bound in (("min", bounds[0]), ("max", bounds[1])):
        raw = getattr(model, key)
        if _literal(model, raw) and bound is not None:
            beyond = values < bound if key == "min" else values > bound
            if beyond.any():
                error = not moved or bool((beyond & implausible).any())
                got = f"{shown_values(values[beyond], label)} in {shown_rows(beyond, index)}"
                hint = f"correct the data, or widen {key} if these values are real."
                if beyond.all():
                    low, high = label(float(values.min())), label(float(values.max()))
                    got = f"every value beyond it: the data ranges from {low} to {high}"
                    hint = "check the unit of the bound (e.g. euros vs thousands of euros)."
                if error:
                    add(
                        ("features", name, key),
                        f"data values must lie within the file's bounds ({key} "
                        f"{label(bound)}). Got {got}.",
                        hint,
                    )
                else:
                    add(
                        ("features", name, key),
                        f"clients may already lie beyond {key} {label(bound)} (levers never "
                        f"propose such values). Got {got}.",
                        hint
                        if beyond.all()
                        else f"widen {key} if levers may propose such values; correct the data "
                        "if they are mistakes.",
                        "warning",
                    )
            continue
        if fence is None:
            continue
        side = implausible & (values < fence[2] if key == "min" else values > fence[3])
        if side.any():
            add(
                ("features", name),
                f"values should lie near the bulk of the data (98% of it lies between "
                f"{fence[2]:g} and {fence[3]:g}). Got {shown_values(values[side])} in "
                f"{shown_rows(side, index)}, more than {IMPLAUSIBLE_SPREAD:g} times that "
                f"range away.",
                f"check these rows (a unit or sign mistake?); a {key} in the file makes such "
                "values an error.",
                "warning",
            )
