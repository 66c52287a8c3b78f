"""One column of a data set described for a draft constraint file: kind, bounds, flags."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from constraints._limits import MAX_NUMBER

__all__ = [
    "DRAFT_LEAK_MIN_ROWS",
    "DRAFT_LEAK_THRESHOLD",
    "DRAFT_MAX_CATEGORIES",
    "DRAFT_MAX_COLUMNS",
    "DRAFT_PURITY_THRESHOLD",
    "Column",
    "DraftFlag",
    "Target",
    "comment",
    "describe_column",
    "scalar",
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
_ID_NAME = re.compile(r"(^|[_\W])(id|ids|number|no|nr|num|key|uuid)$|^id[_\W]", re.IGNORECASE)
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
        target almost perfectly), ``missing`` (missing values: written ``missing: keep``;
        every value missing, or non-finite values: commented out) or
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
class Column:
    name: str
    kind: str
    lines: tuple[str, ...]
    notes: tuple[str, ...]
    flags: tuple[DraftFlag, ...]

    @property
    def commented(self) -> bool:
        return any(f.commented_out for f in self.flags)


def scalar(value: Any) -> str:
    """Return ``value`` (a text, a number or a list of them) as one line of YAML."""
    if isinstance(value, list):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    if isinstance(value, str) and (not value.isprintable() or value != value.strip()):
        return json.dumps(value, ensure_ascii=False)  # JSON strings are YAML double-quoted
    # dumped inside a flow sequence, so that commas, colons and braces are quoted too
    text = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=10**9)
    return text.strip()[1:-1]


def comment(text: str) -> str:
    """Return ``text`` safe inside a YAML comment (control characters as spaces)."""
    return "".join(c if c.isprintable() else " " for c in text)


def _humanise(name: str) -> str:
    text = re.sub(r"[_.{}]+", " ", comment(name)).strip() or "Feature"
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


class Target:
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


def _flag(name: str, reason: Reason, message: str) -> DraftFlag:
    return DraftFlag(
        feature=name, reason=reason, message=message, commented_out=reason != "id_name"
    )


def _value_flags(name: str, column: pd.Series, numeric: bool, n_distinct: int) -> list[DraftFlag]:
    """Return the flags about the values: missing, identifiers, id-like names, constants."""
    flags: list[DraftFlag] = []
    n, n_missing = len(column), int(column.isna().sum())
    if n_missing == n:
        flags.append(_flag(name, "missing", "every value is missing: drop the column."))
    elif n_missing:
        flags.append(
            DraftFlag(
                feature=name,
                reason="missing",
                message=f"{n_missing:,} missing values ({n_missing / n:.0%} of rows): written "
                "missing: keep (the value stays unknown and levers never change it); write "
                "missing: {impute: median} (numbers) or {impute: mode} to fill them instead.",
                commented_out=False,
            )
        )
    elif numeric and not np.all(np.abs(column.to_numpy(dtype=np.float64)) <= MAX_NUMBER):
        flags.append(
            _flag(
                name,
                "missing",
                "holds infinite or huge values (beyond 1e15): correct them, then uncomment.",
            )
        )
    id_name = bool(_ID_NAME.search(name))
    unique = n_distinct == n and n > 1
    whole = numeric and n_missing == 0 and _is_whole(column.to_numpy(dtype=np.float64))
    monotone = whole and (column.is_monotonic_increasing or column.is_monotonic_decreasing)
    consecutive = whole and unique and float(column.max() - column.min()) == n - 1
    if unique and (id_name or (n >= 20 and (not numeric or monotone or consecutive))):
        flags.append(
            _flag(
                name,
                "identifier",
                "a likely row identifier (a different value on every row): never a model "
                "feature; keep it to find clients.",
            )
        )
    elif id_name:
        flags.append(
            _flag(
                name,
                "id_name",
                f"an id-like name ({n_distinct:,} distinct values): a key or a code? Declare "
                "codes categorical; drop keys.",
            )
        )
    if n_distinct == 1:
        flags.append(
            _flag(
                name, "constant", "a constant column (one value): it cannot help a model; drop it."
            )
        )
    return flags


def _leak(
    name: str, column: pd.Series, numeric: bool, target: Target
) -> tuple[str, DraftFlag | None]:
    """Return the column's figure against the target, and a leak flag when it is too good."""
    measured = target.score(column, numeric)
    if measured is None:
        return "", None
    kind, value = measured
    figure = ""
    if kind == "AUC":
        figure = f"alone it predicts the target with AUC {value:.3f}"
    elif value >= 0.5:
        figure = f"{value:.1%} of rows are in categories with a single target value"
    if value < (DRAFT_LEAK_THRESHOLD if kind == "AUC" else DRAFT_PURITY_THRESHOLD):
        return figure, None
    message = (
        f"a likely leak of the target: {figure}. Is it known before the outcome? Uncomment "
        "only if it is."
    )
    return figure, _flag(name, "leak", message)


def _flags(
    name: str, column: pd.Series, numeric: bool, n_distinct: int, target: Target | None
) -> tuple[list[DraftFlag], str]:
    flags = _value_flags(name, column, numeric, n_distinct)
    if target is None or n_distinct <= 1 or any(f.reason == "identifier" for f in flags):
        return flags, ""
    figure, leak = _leak(name, column, numeric, target)
    return [*flags, leak] if leak is not None else flags, figure


def _percentile_bounds(values: np.ndarray, kind: str) -> list[str]:
    """Return ``min: p1`` / ``max: p99``, or p0 / p100 when whole p1 and p99 would cross."""
    low, high = np.percentile(values, [1, 99])
    if kind == "integer" and np.ceil(low - 1e-9) > np.floor(high + 1e-9):
        return ["min: p0", "max: p100"]
    return ["min: p1", "max: p99"]


def _format_hint(values: np.ndarray, kind: str) -> list[str]:
    """Return the suggested ``format`` line of a number column (none: no suggestion).

    ``integer`` for whole numbers; ``percent`` for a ratio (every value in [0, 1], not only
    0/1, which are binary). A trailing comment says the expert may delete or change it.
    Columns with two values get none (the draft suggests mapping them to 0/1 instead).
    """
    if not len(values):
        return []
    if kind == "integer":
        return ["format: integer        # suggested: whole numbers (delete or change it)"]
    if values.min() >= 0 and values.max() <= 1:
        return ["format: percent        # suggested: a ratio, 0.4 shows 40 % (delete or change)"]
    return []


def _ordinal_hint(categories: list[str | int], ordered_dtype: bool) -> str:
    if ordered_dtype:
        return "the data orders these categories: consider kind: ordinal with order: [...]"
    words = {str(c).strip().lower() for c in categories}
    if len(categories) >= 3 and all(isinstance(c, int) for c in categories):
        return "numeric codes: if they are ranked, consider kind: ordinal with order: [...]"
    if len(categories) >= 3 and any(words <= group for group in _ORDERED_WORDS):
        return "these categories look ordered: consider kind: ordinal with order: [...]"
    return ""


def _binary_text(distinct: np.ndarray) -> tuple[list[str], list[str]]:
    """Return the ``values:`` line of a two-label text column (a no/false word first)."""
    labels = sorted({str(v).strip() for v in distinct})
    if labels[1].lower() in _FALSE and labels[0].lower() not in _FALSE:
        labels.reverse()
    return [f"values: {scalar(labels)}"], [f"{scalar(labels[1])} is read as true"]


def _categorical(
    name: str, column: pd.Series, distinct: np.ndarray, flags: list[DraftFlag]
) -> tuple[list[str], list[str]]:
    """Return the ``categories:`` line and notes; flag more than 50 categories (in place)."""
    notes: list[str] = []
    by_text: dict[str, str | int] = {}
    for value in distinct:
        by_text.setdefault(str(value), _category(value))
    categories = [by_text[k] for k in sorted(by_text)]
    if len(categories) > DRAFT_MAX_CATEGORIES:
        if not any(f.reason == "identifier" for f in flags):
            message = (
                f"{len(categories):,} categories (more than {DRAFT_MAX_CATEGORIES}): drop the "
                "column or group its values first."
            )
            flags.append(_flag(name, "many_categories", message))
        categories = categories[:DRAFT_MAX_CATEGORIES]
        notes.append(f"first {DRAFT_MAX_CATEGORIES} categories only")
    ordered = isinstance(column.dtype, pd.CategoricalDtype) and bool(column.dtype.ordered)
    hint = _ordinal_hint(categories, ordered)
    return [f"categories: {scalar(categories or ['TODO'])}"], [*notes, *([hint] if hint else [])]


def describe_column(name: str, column: pd.Series, target: Target | None) -> Column:
    """Return one column's draft: kind, bounds or categories, label, notes and flags."""
    present = column.dropna()
    numeric = _numeric(column)
    n_distinct = int(present.nunique())
    flags, figure = _flags(name, column, numeric, n_distinct, target)
    lines: list[str] = []
    notes: list[str] = []
    distinct = np.asarray(pd.unique(present))
    if pd.api.types.is_bool_dtype(column.dtype) or (
        numeric and n_distinct == 2 and set(distinct.astype(float)) <= {0.0, 1.0}
    ):
        kind = "binary"
    elif numeric:
        values = present.to_numpy(dtype=np.float64)
        finite = values[np.abs(values) <= MAX_NUMBER]
        kind = "integer" if len(finite) and _is_whole(finite) else "continuous"
        if n_distinct > 1 and len(finite) == len(values):
            lines += _percentile_bounds(values, kind)
        if n_distinct != 2:  # two values are a yes/no in disguise: the note says so
            lines += _format_hint(finite, kind)
        if n_distinct == 2:
            notes.append("two values: map them to 0/1 for kind: binary")
    elif n_distinct == 2 and len({str(v).strip().lower() for v in distinct}) == 2:
        kind = "binary"
        lines, notes = _binary_text(distinct)
    else:
        kind = "categorical"
        lines, notes = _categorical(name, column, distinct, flags)
    label = _humanise(name)
    lines.append(f"label: {{en: {scalar(label)}, fr: {scalar('TODO ' + label)}}}")
    if column.isna().any():
        lines.append("missing: keep")
    return Column(
        name=name,
        kind=kind,
        lines=(f"kind: {kind}", "role: context", *lines),
        notes=(*notes, *([figure] if figure else [])),
        flags=tuple(flags),
    )
