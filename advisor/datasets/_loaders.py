"""Loaders for the real data sets in ``shared/data``: bank marketing, German credit, Caravan.

Each loader reads the file once with :func:`pandas.read_csv` (every value as text), checks
separator, schema and values with vectorised tests, and returns a :class:`Dataset` whose
categorical columns are pandas categoricals in readable labels and whose numbers are
``int64`` / ``float64``. Problems raise :class:`DatasetError` in the house message shape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from advisor.datasets._bank_columns import (
    _BANK_ADDITIONAL_CODES,
    _BANK_ADDITIONAL_COLUMNS,
    _BANK_ADDITIONAL_ORDER,
    _BANK_COLUMNS,
    _BANK_FULL_CODES,
    _BANK_FULL_ORDER,
    _BANK_HINT,
    _BANK_SOURCE,
)
from advisor.datasets._caravan_columns import CARAVAN_COLUMNS
from advisor.datasets._csv_checks import scan_text
from advisor.datasets._files import MAX_BYTES
from advisor.datasets._german_columns import (
    _GERMAN_CODES,
    _GERMAN_COLUMNS,
    _GERMAN_SOURCE,
)
from advisor.datasets._types import ColumnInfo, Dataset, DatasetInfo
from advisor.errors import DatasetError, DatasetFileNotFoundError

__all__ = ["load_bank_marketing", "load_caravan", "load_german_credit"]

_SEPARATOR_NAMES = {";": "';'", ",": "','", "\t": "tab", " ": "space"}


@dataclass(frozen=True, slots=True)
class _Source:
    """The file being read; builds the ``<where>`` part of error messages."""

    path: Path

    def where(self, column: str | None = None, row: int | None = None) -> str:
        """Return ``<path>[, column 'c'][, line n]`` (``row``: index of a non-blank line)."""
        parts = [str(self.path)]
        if column is not None:
            parts.append(f"column {column!r}")
        if row is not None:
            parts.append(f"line {self.line_of(row)}")
        return ", ".join(parts)

    def line_of(self, row: int) -> int:
        """Return the 1-based file line of the ``row``-th non-blank line (as pandas counts)."""
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            non_blank = (number for number, line in enumerate(lines, start=1) if line.strip())
            for index, number in enumerate(non_blank):
                if index == row:
                    return number
        return row + 1

    def first_line(self) -> str:
        """Return the first line without its line ending."""
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            return lines.readline().rstrip("\r\n").lstrip("\ufeff")


def _resolve(path: str | os.PathLike[str], default_name: str, hint: str) -> _Source:
    """Return the file at ``path``, or ``default_name`` inside it when it is a folder."""
    given = Path(path)
    if given.is_dir():
        if not (given / default_name).is_file():
            msg = f"{given}: must be a folder holding {default_name}. Got a folder without it."
            raise DatasetFileNotFoundError(f"{msg} Hint: {hint}")
        given = given / default_name
    elif not given.is_file():
        msg = f"{given}: must be an existing file or a folder holding {default_name}."
        raise DatasetFileNotFoundError(f"{msg} Got no such file or folder.")
    size = given.stat().st_size
    if size > MAX_BYTES:
        msg = f"{given}: must be at most {MAX_BYTES:,} bytes. Got {size:,} bytes."
        raise DatasetError(f"{msg} Hint: split the file.")
    return _Source(given)


def _check_separator(source: _Source, sep: str) -> None:
    """Fail unless ``sep`` is the most frequent separator of the first line."""
    line = source.first_line()
    if not line.strip():
        raise DatasetError(f"{source.path}: must start with a data line. Got an empty first line.")
    counts = {candidate: line.count(candidate) for candidate in (sep, ";", ",", "\t", " ")}
    found = max(counts, key=lambda candidate: counts[candidate])
    if found != sep or counts[sep] == 0:
        got = f"{_SEPARATOR_NAMES[found]} in the first line" if counts[found] else "one field"
        msg = f"{source.path}: must be separated by {_SEPARATOR_NAMES[sep]}. Got {got}."
        raise DatasetError(f"{msg} Hint: save the file with the original separator.")


def _read_table(source: _Source, sep: str, n_fields: int | None = None) -> pd.DataFrame:
    """Read every value as text (row index = index of the non-blank line).

    With ``n_fields`` (files without header), every line must have that many fields.
    """
    scan_text(source.path)  # UTF-8 and no NUL byte, or an error naming line and byte offset
    _check_separator(source, sep)
    try:
        raw = pd.read_csv(
            source.path,
            sep=r"\s+" if sep == " " else sep,
            header=None,
            dtype=str,
            na_filter=False,
            encoding="utf-8",
        )
    except pd.errors.ParserError as exc:
        raise _field_count_error(source, sep, n_fields, str(exc)) from exc
    except UnicodeDecodeError as exc:
        msg = f"{source.path}: must be UTF-8 text. Got an undecodable byte at offset {exc.start}."
        raise DatasetError(msg) from exc
    if n_fields is not None and (raw.shape[1] != n_fields or bool((raw == "").any(axis=None))):
        raise _field_count_error(source, sep, n_fields, "")
    spans = raw.apply(lambda column: column.str.contains("\n", regex=False, na=False)).any(axis=1)
    if bool(spans.any()):
        where = source.where(row=int(spans.to_numpy().argmax()))
        msg = f"{where}: values must not span lines. Got a quoted value holding a line break."
        raise DatasetError(f'{msg} Hint: an unbalanced quote (") merges the lines after it.')
    return raw


def _field_count_error(
    source: _Source, sep: str, n_fields: int | None, detail: str
) -> DatasetError:
    """Pinpoint the first line whose number of fields is wrong."""
    name = _SEPARATOR_NAMES[sep]
    if n_fields is not None:
        with source.path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                count = len(line.split() if sep == " " else line.split(sep))
                if line.strip() and count != n_fields:
                    msg = f"must have {n_fields} {name}-separated fields. Got {count}."
                    return DatasetError(f"{source.path}, line {number}: {msg}")
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if match is None:
        return DatasetError(f"{source.path}: must be a {name}-separated table. Got: {detail}")
    expected, line_number, seen = match.groups()
    msg = f"must have {expected} {name}-separated fields like the first line. Got {seen}."
    return DatasetError(f"{source.path}, line {line_number}: {msg}")


def _split_header(raw: pd.DataFrame, source: _Source, expected: tuple[str, ...]) -> pd.DataFrame:
    """Name the data rows after the header line, in the order of ``expected``."""
    header = [str(name) for name in raw.iloc[0]]
    missing = [name for name in expected if name not in header]
    unexpected = [name for name in header if name not in expected]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    problems = (missing, unexpected, duplicated)
    if any(problems):
        got = "; ".join(
            f"{label} {', '.join(map(repr, names))}"
            for label, names in zip(("missing", "unexpected", "duplicated"), problems, strict=True)
            if names
        )
        msg = f"{source.path}: must have the {len(expected)} columns {', '.join(expected)}."
        raise DatasetError(f"{msg} Got {got}.")
    data = raw.iloc[1:].set_axis(header, axis="columns")
    return data[list(expected)]


def _convert(
    raw: pd.DataFrame,
    source: _Source,
    columns: Mapping[str, ColumnInfo],
    codes: Mapping[str, Mapping[str, str]],
    ordered: Collection[str] = (),
) -> pd.DataFrame:
    """Decode coded columns to categoricals, the rest to ``int64`` (``float64``: continuous)."""
    converted: dict[str, pd.Series] = {}
    for name, info in columns.items():
        if name in codes:
            converted[name] = _decode(raw[name], source, codes[name], ordered=name in ordered)
        else:
            converted[name] = _to_number(raw[name], source, integer=info.kind != "continuous")
    return pd.DataFrame(converted).reset_index(drop=True)


def _decode(
    values: pd.Series, source: _Source, codes: Mapping[str, str], *, ordered: bool
) -> pd.Series:
    """Map codes to labels; an unknown code names the column, line and allowed codes."""
    labels = values.map(dict(codes))
    unknown = labels.isna()
    if bool(unknown.any()):
        bad = pd.unique(values[unknown])
        shown = ", ".join(repr(str(code)) for code in bad[:5])
        where = source.where(str(values.name), int(values.index[int(unknown.argmax())]))
        allowed = ", ".join(map(repr, codes))
        msg = f"{where}: must hold one of {allowed}. Got {shown} ({_rows(unknown)})."
        raise DatasetError(msg)
    dtype = pd.CategoricalDtype(list(dict.fromkeys(codes.values())), ordered=ordered)
    return labels.astype(dtype)


def _rows(bad: pd.Series) -> str:
    """Return ``"1 bad row"`` / ``"n bad rows"`` for a boolean mask."""
    n_bad = int(bad.sum())
    return f"{n_bad} bad row{'' if n_bad == 1 else 's'}"


def _to_number(values: pd.Series, source: _Source, *, integer: bool) -> pd.Series:
    """Parse numbers; a bad value names the column, its line and the value."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna()
    if integer:
        bad |= numbers.mod(1) != 0
    if bool(bad.any()):
        first = int(bad.argmax())
        where = source.where(str(values.name), int(values.index[first]))
        what = "whole numbers" if integer else "numbers"
        got = f"{str(values.iloc[first])!r} ({_rows(bad)})"
        raise DatasetError(f"{where}: must hold {what}. Got {got}.")
    return numbers.astype("int64" if integer else "float64")


def load_bank_marketing(path: str | os.PathLike[str], *, drop_duration: bool = True) -> Dataset:
    """Load the UCI bank marketing data (term-deposit phone campaigns).

    Parameters
    ----------
    path
        ``bank-full.csv``, ``bank.csv``, ``bank-additional-full.csv`` or
        ``bank-additional.csv`` (``;``-separated, with header), or a folder holding
        ``bank-full.csv``. The variant is detected from the header: bank-full style (17
        columns, with ``balance``) or bank-additional style (21 columns, with ``day_of_week``
        and five macro-economic indicators).
    drop_duration
        Drop ``duration`` (length of the last call). It is only known once the call is
        over and it leaks the target, as the UCI description itself warns; keep it only
        for benchmarks.

    Returns
    -------
    Dataset
        Target ``y`` (categorical ``["no", "yes"]``), positive and desired label ``"yes"``;
        categorical columns as pandas categoricals (``"unknown"`` is a real category),
        counts as ``int64``, indicators as ``float64``.

    Raises
    ------
    DatasetFileNotFoundError
        When the file, or ``bank-full.csv`` in the folder, does not exist.
    DatasetError
        When the file is not ``;``-separated, misses or adds columns, holds a value outside
        a column's documented categories (the target included) or a number that does not
        parse.
    """
    source = _resolve(path, "bank-full.csv", _BANK_HINT)
    raw = _read_table(source, ";")
    header = {str(name) for name in raw.iloc[0]}
    full = len(header ^ set(_BANK_FULL_ORDER)) <= len(header ^ set(_BANK_ADDITIONAL_ORDER))
    order = _BANK_FULL_ORDER if full else _BANK_ADDITIONAL_ORDER
    data = _split_header(raw, source, order)
    described = _BANK_COLUMNS if full else _BANK_ADDITIONAL_COLUMNS
    columns = {n: described[n] for n in order if not (drop_duration and n == "duration")}
    codes = _BANK_FULL_CODES if full else _BANK_ADDITIONAL_CODES
    labels = {name: {value: value for value in values} for name, values in codes.items()}
    frame = _convert(data, source, columns, labels)
    info = DatasetInfo(
        name="bank-marketing" if full else "bank-marketing-additional",
        source=f"{_BANK_SOURCE} File: {source.path.name}.",
        targets=("y",),
        positive_label="yes",
        desired_label="yes",
        columns=columns,
    )
    return Dataset(frame=frame, info=info)


def load_german_credit(path: str | os.PathLike[str]) -> Dataset:
    """Load the Statlog German credit data with readable column names and labels.

    Parameters
    ----------
    path
        ``german.data`` (space-separated, no header, 21 fields a line) or the folder
        holding it.

    Returns
    -------
    Dataset
        A-codes decoded to labels (``employment_since`` and ``job`` ordered categoricals),
        numbers as ``int64``; target ``credit_risk`` (categorical ``["good", "bad"]``, from
        class 1/2), positive label ``"bad"`` (the model scores risk), desired ``"good"``.

    Raises
    ------
    DatasetFileNotFoundError
        When the file, or ``german.data`` in the folder, does not exist.
    DatasetError
        When the file is not space-separated, a line has not 21 fields, a code is unknown
        (the error names column, line and allowed codes) or a number does not parse.
    """
    source = _resolve(path, "german.data", "pass the path of german.data itself.")
    raw = _read_table(source, " ", n_fields=len(_GERMAN_COLUMNS))
    raw = raw.set_axis(list(_GERMAN_COLUMNS), axis="columns")
    ordered = ("employment_since", "job")
    frame = _convert(raw, source, _GERMAN_COLUMNS, _GERMAN_CODES, ordered=ordered)
    info = DatasetInfo(
        name="german-credit",
        source=_GERMAN_SOURCE,
        targets=("credit_risk",),
        positive_label="bad",
        desired_label="good",
        columns=_GERMAN_COLUMNS,
    )
    return Dataset(frame=frame, info=info)


def load_caravan(path: str | os.PathLike[str]) -> Dataset:
    """Load the Caravan insurance data (CoIL Challenge 2000).

    Non-commercial research and education use only (owner's disclaimer).

    Parameters
    ----------
    path
        ``Caravan.csv`` (training set), ``caravan_eval_coil2000.csv`` (official hold-out
        set; same header), or a folder holding ``Caravan.csv``.

    Returns
    -------
    Dataset
        85 features as ``int64`` (1-43 zip-code sociodemographics, immutable; 44-85
        contribution bands and numbers of policies per product, holdings) and the target
        ``Purchase`` (categorical ``["No", "Yes"]``), positive and desired label ``"Yes"``.

    Raises
    ------
    DatasetFileNotFoundError
        When the file, or ``Caravan.csv`` in the folder, does not exist.
    DatasetError
        When the file is not comma-separated, misses or adds columns, ``Purchase`` holds
        another value than ``No`` / ``Yes``, or a feature is not a whole number.
    """
    hint = "pass caravan_eval_coil2000.csv itself to load the hold-out set."
    source = _resolve(path, "Caravan.csv", hint)
    data = _split_header(_read_table(source, ","), source, tuple(CARAVAN_COLUMNS))
    frame = _convert(data, source, CARAVAN_COLUMNS, {"Purchase": {"No": "No", "Yes": "Yes"}})
    info = DatasetInfo(
        name="caravan",
        source="CoIL Challenge 2000 (Sentient Machine Research; van der Putten and van Someren, "
        f"2000), UCI doi:10.24432/C5630S; non-commercial use only. File: {source.path.name}.",
        targets=("Purchase",),
        positive_label="Yes",
        desired_label="Yes",
        columns=CARAVAN_COLUMNS,
    )
    return Dataset(frame=frame, info=info)
