"""Draft a starting constraint file from a data set: kinds, percentile bounds, flags.

The draft is YAML text with comments for the business expert. Every feature gets the safe
role ``context`` and a comment saying what to decide; a column with missing values gets
``missing: keep``. Columns that must not go into a model as they are (row identifiers,
constant columns, likely leaks of the target, columns with non-finite values or no value at
all, text with too many categories) are written commented out, so the draft validates and
binds to its data as it is. Each column is described by
:mod:`constraints._draft_columns`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from constraints._draft_columns import (
    DRAFT_MAX_COLUMNS,
    Column,
    DraftFlag,
    Target,
    comment,
    describe_column,
    scalar,
)
from constraints.errors import ConstraintError

__all__ = ["ConstraintDraft", "draft_constraint_file", "draft_constraints"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstraintDraft:
    """A drafted constraint file: its YAML text and the columns it flags.

    Attributes
    ----------
    text
        The YAML text, with comments (validates, and binds to the data without the target).
    features
        The columns written as features (not commented out), in the data's order.
    commented_out
        The columns written commented out.
    flags
        Every flag, in the data's column order.
    """

    text: str
    features: tuple[str, ...]
    commented_out: tuple[str, ...]
    flags: tuple[DraftFlag, ...]


def _validate(frame: Any, target: str | None, name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ConstraintError(f"frame: must be a pandas DataFrame. Got {type(frame).__name__}.")
    if not isinstance(name, str) or not name.strip():
        raise ConstraintError(f"name: must be a non-empty text. Got {name!r}.")
    n_columns = len(frame.columns)
    if n_columns > DRAFT_MAX_COLUMNS:
        raise ConstraintError(
            f"frame: must have at most {DRAFT_MAX_COLUMNS:,} columns. Got {n_columns:,}. "
            "Hint: select the model's columns first."
        )
    if frame.columns.duplicated().any():
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise ConstraintError(
            f"frame: column names must be unique. Got {', '.join(dup[:5])} more than once. "
            "Hint: rename or drop the duplicates."
        )
    if not all(isinstance(c, str) for c in frame.columns):
        bad = [repr(c) for c in frame.columns if not isinstance(c, str)][:3]
        raise ConstraintError(
            f"frame: column names must be texts. Got {', '.join(bad)}. Hint: rename the "
            "columns (frame.columns = frame.columns.astype(str))."
        )
    if target is not None and target not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:8])) + (" ..." if n_columns > 8 else "")
        raise ConstraintError(
            f"target: must be a column of the data. Got {target!r}. Hint: the columns are {shown}."
        )
    if len(frame) == 0 or n_columns == 0 or n_columns == (1 if target is not None else 0):
        raise ConstraintError(
            f"frame: must have at least one row and one column besides the target. Got "
            f"{len(frame):,} rows and {n_columns:,} columns."
        )


_HEADER = """\
# Draft constraint file for {name}, written by `levers constraints draft` from {n_rows:,} rows.
# A starting point, not a decision: a business expert must read every feature.
#
# What you must decide, feature by feature:
#   role       immutable   never changed by a lever (age, history, protected attributes)
#              actionable  the bank or the client may change it: a lever may propose it
#              context     changes over time but is not an action (the safe default here)
#   direction  for actionable features: increase, decrease or any
#   min, max   p1 / p99 are the data's 1st and 99th percentiles; write business limits
#   label      the French labels are marked TODO
#   protected: true on protected attributes (sex, nationality...), which stay immutable
# Kinds are inferred from the data; ordinal is never inferred, only suggested in a comment.
#   missing    keep: a missing value stays unknown (levers never change it); or
#              {{impute: median}} / {{impute: mode}} to fill it from the data
#   format     suggested from the values: percent for ratios in [0, 1] (0.4 shows 40 %),
#              integer for whole numbers; change it (currency, {{decimals: 2}}) or delete it
# Commented-out features (identifiers, constants, likely leaks, non-finite or no values, too
# many categories) are left out on purpose: uncomment one only once its problem is solved.
"""


def _feature_block(column: Column) -> list[str]:
    ask = "immutable? actionable (then direction)? or context?"
    head = [f"  # {comment(column.name)}: {ask}"]
    head += [f"  # note: {comment(note)}" for note in column.notes]
    head += [f"  # FLAG {flag.reason}: {comment(flag.message)}" for flag in column.flags]
    key = scalar(column.name)
    body = [f"  {key}:", *(f"    {line}" for line in column.lines)]
    if column.commented:
        body = [f"  # {line[2:]}" for line in body]
    return [*head, *body]


def draft_constraints(
    frame: pd.DataFrame, *, target: str | None = None, name: str = "draft"
) -> ConstraintDraft:
    r"""Draft a constraint file from a data set (one feature per column except the target).

    Kinds are inferred (binary, integer, continuous, categorical with its categories; ordinal
    only suggested); every feature gets ``role: context`` and a comment saying what to decide;
    numbers get percentile bounds ``min: p1`` / ``max: p99`` and a suggested ``format``
    (``percent`` for a ratio: values in [0, 1], not only 0/1; ``integer`` for whole numbers);
    labels get English placeholders and French ones marked TODO. Identifiers, constant columns and (given a ``target``) likely
    leaks are flagged: row identifiers, constant columns, leaks, columns with non-finite values
    or no value at all and text with more than 50 categories are written commented out, so the
    draft validates and binds to ``frame`` without the target as it is. A column with missing
    values is written with ``missing: keep`` (and flagged).

    Parameters
    ----------
    frame
        The data, one row per client (at most 2,000 columns, unique names).
    target
        The column the model predicts: left out of the features, used to flag leaks (a
        column alone predicting it with AUC >= 0.95, or a categorical column with >= 99 % of
        rows in categories where the target has a single value; measured only on 30 rows
        or more with a known target).
    name
        The ``name`` of the constraint file.

    Returns
    -------
    ConstraintDraft
        The YAML text and the flags.

    Examples
    --------
    >>> frame = pd.DataFrame({"client_id": [1, 2, 3, 4], "age": [30, 41, 52, 63],
    ...                       "region": ["north", "south", "north", "east"]})
    >>> draft = draft_constraints(frame, name="clients")
    >>> draft.features, draft.commented_out
    (('age', 'region'), ('client_id',))
    >>> print(draft.flags[0])
    client_id: a likely row identifier (a different value on every row): never a model feature; keep it to find clients.
    >>> "\nid_column: client_id\n" in draft.text
    True
    """  # noqa: E501
    _validate(frame, target, name)
    goal = Target(frame[target]) if target is not None else None
    columns = [describe_column(c, frame[c], goal) for c in frame.columns if c != target]
    active = [c for c in columns if not c.commented]
    if not active:
        raise ConstraintError(
            f"frame: must have at least one column usable as a feature. Got only flagged "
            f"columns ({', '.join(c.name for c in columns[:5])}). Hint: drop identifiers and "
            "empty columns first."
        )
    lines = [_HEADER.format(name=comment(name), n_rows=len(frame)).rstrip("\n")]
    flags = [flag for c in columns for flag in c.flags]
    if flags:
        lines.append("#\n# Flags (see the features below):")
        lines += [f"#   {comment(flag.feature)}: {flag.reason}" for flag in flags]
    if target is not None:
        lines.append(f"#\n# Target (not a feature): {comment(target)}")
    lines += [
        "version: 1",
        f"name: {scalar(name)}",
        "description: TODO what the model predicts and who the levers are for.",
        "# raise: the model scores an outcome the bank wants (a sale) and levers lift it;",
        "# lower: a risk score (the positive class is a default, a churn) that levers bring down.",
        "goal: raise",
        *_id_column_lines(flags),
        "",
        "features:",
    ]
    for column in columns:
        lines += _feature_block(column)
    return ConstraintDraft(
        text="\n".join(lines) + "\n",
        features=tuple(c.name for c in active),
        commented_out=tuple(c.name for c in columns if c.commented),
        flags=tuple(flags),
    )


def _id_column_lines(flags: list[DraftFlag]) -> list[str]:
    """``id_column: X`` for the one likely identifier; a choice to make for several."""
    ids = [flag.feature for flag in flags if flag.reason == "identifier"]
    why = "# the clients' ids: levers look clients up by it (never by row number)."
    if len(ids) == 1:
        return [why, f"id_column: {scalar(ids[0])}"]
    if ids:
        shown = ", ".join(comment(name) for name in ids)
        return [why, f"# TODO one of {shown} (or none):", f"# id_column: {scalar(ids[0])}"]
    return []


def draft_constraint_file(
    frame: pd.DataFrame, *, target: str | None = None, name: str = "draft"
) -> str:
    r"""Return the YAML text of :func:`draft_constraints` (flags are in its comments).

    Examples
    --------
    >>> text = draft_constraint_file(pd.DataFrame({"income": [1200.5, 2300.0, 3100.25]}))
    >>> print(text.split("features:\n")[1])
      # income: immutable? actionable (then direction)? or context?
      income:
        kind: continuous
        role: context
        min: p1
        max: p99
        label: {en: Income, fr: TODO Income}
    <BLANKLINE>
    """
    return draft_constraints(frame, target=target, name=name).text
