"""Draft a starting constraint file from a data set: kinds, percentile bounds, flags.

The draft is YAML text with comments for the business expert. Every feature gets the safe
role ``context`` and a comment saying what to decide. Columns that must not go into a model
as they are (row identifiers, constant columns, likely leaks of the target, columns with
missing or non-finite values, text with too many categories) are written commented out, so
the draft validates and binds to its data as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from constraints._limits import MAX_NUMBER
from constraints.errors import ConstraintError

__all__ = [
    "DRAFT_LEAK_MIN_ROWS",
    "DRAFT_LEAK_THRESHOLD",
    "DRAFT_MAX_CATEGORIES",
    "DRAFT_MAX_COLUMNS",
    "DRAFT_PURITY_THRESHOLD",
    "ConstraintDraft",
    "DraftFlag",
    "draft_constraint_file",
    "draft_constraints",
]

DRAFT_MAX_COLUMNS = 2_000
"""Most columns a data set may have (the data limit of ``read_table``)."""
DRAFT_MAX_CATEGORIES = 50
"""Most categories a text column may have to be drafted as categorical (else commented out)."""
DRAFT_LEAK_THRESHOLD = 0.95
"""A number column alone predicting a two-class target with this AUC is a likely leak."""
DRAFT_LEAK_MIN_ROWS = 30
"""Fewest rows with a known target for leak flags (fewer say nothing)."""
DRAFT_PURITY_THRESHOLD = 0.99
"""A text column with this share of rows in single-target categories is a likely leak."""

Reason = Literal["identifier", "constant", "leak", "missing", "many_categories", "id_name"]
_ID_NAME = re.compile(r"(^|[_\W])(id|ids|number|no|nr|num|key|uuid)$|^id[_\W]|id$", re.IGNORECASE)
_FALSE = ("no", "false", "0", "n", "f", "non", "neg", "negative")
_ORDERED_WORDS = (
    {"low", "medium", "high"},
    {"low", "mid", "high"},
    {"small", "medium", "large"},
    {"none", "low", "medium", "high"},
    {"poor", "fair", "good", "excellent"},
    {"very low", "low", "medium", "high", "very high"},
    {"never", "rarely", "sometimes", "often", "always"},
    {"primary", "secondary", "tertiary"},
    {"bad", "average", "good"},
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftFlag:
    """A column the expert must look at before using the draft.

    Attributes
    ----------
    feature
        The column's name.
    reason
        ``identifier`` (unique per row, or an id-like name with increasing whole numbers),
        ``id_name`` (an id-like name: a key or a code?), ``constant``, ``leak`` (predicts the
        target almost perfectly), ``missing`` (missing or non-finite values) or
        ``many_categories`` (text with more than 50 categories).
    message
        One sentence with the measured figure.
    commented_out
        Whether the column is written commented out in the draft.
    """

    feature: str
    reason: Reason
    message: str
    commented_out: bool

    def __str__(self) -> str:
        return f"{self.feature}: {self.message}"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Column:
    name: str
    kind: str
    lines: tuple[str, ...]
    notes: tuple[str, ...]
    flags: tuple[DraftFlag, ...]

    @property
    def commented(self) -> bool:
        return any(f.commented_out for f in self.flags)


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9)
    return text.strip().removesuffix("...").strip()


def _humanise(name: str) -> str:
    text = re.sub(r"[_.]+", " ", name).strip() or name
    return text[:1].upper() + text[1:]


def _is_whole(values: np.ndarray) -> bool:
    return bool(np.all(values == np.rint(values)))


def _category(value: Any) -> str | int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return str(value)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
        column.dtype
    )


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


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Return max(AUC, 1 - AUC) of ``scores`` for the binary ``positive`` (ties averaged)."""
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    auc = (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(max(auc, 1.0 - auc))


def _purity(codes: pd.Series, target: pd.Series) -> float:
    """Return the share of rows in categories where the target takes a single value."""
    table = pd.DataFrame({"c": codes.astype(str).to_numpy(), "t": target.astype(str).to_numpy()})
    distinct = table.groupby("c", sort=False)["t"].transform("nunique")
    return float((distinct == 1).mean())


class _Target:
    """The target, for leak detection (rows where it is missing are left out)."""

    def __init__(self, column: pd.Series) -> None:
        self.known = column.notna().to_numpy()
        self.values = column[self.known]
        distinct = pd.unique(self.values.astype(str))
        self.positive: np.ndarray | None = None
        if len(distinct) == 2:
            self.positive = (self.values.astype(str) == sorted(distinct)[1]).to_numpy()
        self.useful = len(distinct) >= 2 and len(self.values) >= DRAFT_LEAK_MIN_ROWS

    def score(self, column: pd.Series, numeric: bool) -> tuple[str, float] | None:
        if not self.useful:
            return None
        values = column[self.known]
        present = values.notna().to_numpy()
        if present.sum() < 2:
            return None
        if numeric and self.positive is not None:
            positive = self.positive[present]
            if positive.all() or not positive.any():
                return None
            scores = values[present].to_numpy(dtype=np.float64)
            return "AUC", _auc(scores, positive)
        if numeric:
            return None
        return "pure", _purity(values[present], self.values[present])


def _flags(
    name: str, column: pd.Series, numeric: bool, n_distinct: int, target: _Target | None
) -> tuple[list[DraftFlag], str]:
    flags: list[DraftFlag] = []
    n = len(column)
    n_missing = int(column.isna().sum())
    figure = ""
    if n_missing:
        flags.append(
            DraftFlag(
                feature=name,
                reason="missing",
                message=f"{n_missing:,} missing values ({n_missing / n:.0%} of rows): a bound "
                "constraint file needs every value; impute or drop them, then uncomment.",
                commented_out=True,
            )
        )
    elif numeric:
        values = column.to_numpy(dtype=np.float64)
        if not np.all(np.abs(values) <= MAX_NUMBER):
            flags.append(
                DraftFlag(
                    feature=name,
                    reason="missing",
                    message="holds infinite or huge values (beyond 1e15): correct them, then "
                    "uncomment.",
                    commented_out=True,
                )
            )
    id_name = bool(_ID_NAME.search(name))
    unique = n_distinct == n and n > 1
    whole_numbers = numeric and n_missing == 0 and _is_whole(column.to_numpy(dtype=np.float64))
    monotone = whole_numbers and (column.is_monotonic_increasing or column.is_monotonic_decreasing)
    consecutive = whole_numbers and unique and float(column.max() - column.min()) == n - 1
    if unique and (id_name or (n >= 20 and (not numeric or monotone or consecutive))):
        flags.append(
            DraftFlag(
                feature=name,
                reason="identifier",
                message="a likely row identifier (a different value on every row): never a "
                "model feature; keep it to find clients.",
                commented_out=True,
            )
        )
    elif id_name:
        flags.append(
            DraftFlag(
                feature=name,
                reason="id_name",
                message=f"an id-like name ({n_distinct:,} distinct values): a key or a code? "
                "Declare codes categorical; drop keys.",
                commented_out=False,
            )
        )
    if n_distinct == 1:
        flags.append(
            DraftFlag(
                feature=name,
                reason="constant",
                message="a constant column (one value): it cannot help a model; drop it.",
                commented_out=True,
            )
        )
    if target is not None and n_distinct > 1 and not any(f.reason == "identifier" for f in flags):
        measured = target.score(column, numeric)
        if measured is not None:
            kind, value = measured
            if kind == "AUC":
                figure = f"alone it predicts the target with AUC {value:.3f}"
            elif value >= 0.5:
                figure = f"{value:.1%} of rows are in categories with a single target value"
            limit = DRAFT_LEAK_THRESHOLD if kind == "AUC" else DRAFT_PURITY_THRESHOLD
            if value >= limit:
                flags.append(
                    DraftFlag(
                        feature=name,
                        reason="leak",
                        message=f"a likely leak of the target: {figure}. Is it known before the "
                        "outcome? Uncomment only if it is.",
                        commented_out=True,
                    )
                )
    return flags, figure


def _percentile_bounds(values: np.ndarray, kind: str) -> list[str]:
    """Return ``min: p1`` / ``max: p99``, or p0 / p100 when whole p1 and p99 would cross."""
    low, high = np.percentile(values, [1, 99])
    if kind == "integer" and np.ceil(low - 1e-9) > np.floor(high + 1e-9):
        return ["min: p0", "max: p100"]
    return ["min: p1", "max: p99"]


def _ordinal_hint(categories: list[str | int], ordered_dtype: bool) -> str:
    if ordered_dtype:
        return "the data orders these categories: consider kind: ordinal with order: [...]"
    words = {str(c).strip().lower() for c in categories}
    if len(categories) >= 3 and all(isinstance(c, int) for c in categories):
        return "numeric codes: if they are ranked, consider kind: ordinal with order: [...]"
    if len(categories) >= 3 and any(words <= group for group in _ORDERED_WORDS):
        return "these categories look ordered: consider kind: ordinal with order: [...]"
    return ""


def _describe(name: str, column: pd.Series, target: _Target | None) -> _Column:
    present = column.dropna()
    numeric = _numeric(column)
    n_distinct = int(present.nunique())
    flags, figure = _flags(name, column, numeric, n_distinct, target)
    lines: list[str] = []
    notes: list[str] = []
    distinct = pd.unique(present)
    if pd.api.types.is_bool_dtype(column.dtype) or (
        numeric and n_distinct == 2 and set(np.asarray(distinct, dtype=float)) <= {0.0, 1.0}
    ):
        kind = "binary"
    elif numeric:
        values = present.to_numpy(dtype=np.float64)
        finite = values[np.abs(values) <= MAX_NUMBER]
        kind = "integer" if len(finite) and _is_whole(finite) else "continuous"
        if n_distinct > 1 and len(finite) == len(values) and len(values):
            lines += _percentile_bounds(values, kind)
        if n_distinct == 2:
            notes.append("two values: map them to 0/1 for kind: binary")
    elif n_distinct == 2 and len({str(v).strip().lower() for v in distinct}) == 2:
        kind = "binary"
        labels = sorted({str(v).strip() for v in distinct})
        if labels[1].strip().lower() in _FALSE and labels[0].strip().lower() not in _FALSE:
            labels.reverse()
        lines.append(f"values: {_scalar(labels)}")
        notes.append(f"{_scalar(labels[1])} is read as true")
    else:
        kind = "categorical"
        by_text: dict[str, str | int] = {}
        for value in distinct:
            by_text.setdefault(str(value), _category(value))
        categories = [by_text[k] for k in sorted(by_text)]
        identifier = any(f.reason == "identifier" for f in flags)
        if len(categories) > DRAFT_MAX_CATEGORIES and not identifier:
            flags.append(
                DraftFlag(
                    feature=name,
                    reason="many_categories",
                    message=f"{len(categories):,} categories (more than "
                    f"{DRAFT_MAX_CATEGORIES}): drop the column or group its values first.",
                    commented_out=True,
                )
            )
        if len(categories) > DRAFT_MAX_CATEGORIES:
            categories = categories[:DRAFT_MAX_CATEGORIES]
            notes.append(f"first {DRAFT_MAX_CATEGORIES} categories only")
        if not categories:
            categories = ["TODO"]
        lines.append(f"categories: {_scalar(categories)}")
        ordered = isinstance(column.dtype, pd.CategoricalDtype) and bool(column.dtype.ordered)
        hint = _ordinal_hint(categories, ordered)
        if hint:
            notes.append(hint)
    if figure:
        notes.append(figure)
    label = _humanise(name)
    lines.append(f"label: {{en: {_scalar(label)}, fr: {_scalar('TODO ' + label)}}}")
    return _Column(
        name=name,
        kind=kind,
        lines=(f"kind: {kind}", "role: context", *lines),
        notes=tuple(notes),
        flags=tuple(flags),
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
# Commented-out features (identifiers, constants, likely leaks, missing values, too many
# categories)
# are left out on purpose: uncomment one only once its problem is solved.
"""


def _feature_block(column: _Column) -> list[str]:
    ask = "immutable? actionable (then direction)? or context?"
    head = [f"  # {column.name}: {ask}"]
    head += [f"  # note: {note}" for note in column.notes]
    head += [f"  # FLAG {flag.reason}: {flag.message}" for flag in column.flags]
    key = _scalar(column.name)
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
    numbers get percentile bounds ``min: p1`` / ``max: p99``; labels get English placeholders
    and French ones marked TODO. Identifiers, constant columns and (given a ``target``) likely
    leaks are flagged: row identifiers, constant columns, leaks, columns with missing or non-finite
    values and text with more than 50 categories are written commented out, so the draft validates and
    binds to ``frame`` without the target as it is.

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
    """  # noqa: E501
    _validate(frame, target, name)
    goal = _Target(frame[target]) if target is not None else None
    columns = [_describe(c, frame[c], goal) for c in frame.columns if c != target]
    active = [c for c in columns if not c.commented]
    if not active:
        raise ConstraintError(
            f"frame: must have at least one column usable as a feature. Got only flagged "
            f"columns ({', '.join(c.name for c in columns[:5])}). Hint: impute missing values "
            "or drop identifiers first."
        )
    lines = [_HEADER.format(name=name, n_rows=len(frame)).rstrip("\n")]
    flags = [flag for c in columns for flag in c.flags]
    if flags:
        lines.append("#\n# Flags (see the features below):")
        lines += [f"#   {flag.feature}: {flag.reason}" for flag in flags]
    if target is not None:
        lines.append(f"#\n# Target (not a feature): {target}")
    lines += [
        "version: 1",
        f"name: {_scalar(name)}",
        "description: TODO what the model predicts and who the levers are for.",
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
