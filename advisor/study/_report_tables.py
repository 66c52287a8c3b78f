"""The study's result tables, read and checked before a report is written from them.

A study folder (``levers study run --out DIR``) holds ``study.json`` and five tidy tables,
each as Parquet (read first) or CSV. :func:`read_study` reads them all and refuses, with one
error naming the file and the column, a folder where one is missing or has the wrong shape.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from advisor._console import inert
from advisor.errors import AdvisorError

__all__ = ["TABLES", "StudyTables", "read_study"]

_NUMBER = "number"
_TEXT = "text"

TABLES: dict[str, dict[str, str]] = {
    "explanations": {
        "dataset": _TEXT,
        "model": _TEXT,
        "method": _TEXT,
        "client": _TEXT,
        "rerun": _NUMBER,
        "seed": _NUMBER,
        "feature": _TEXT,
        "weight": _NUMBER,
        "rank": _NUMBER,
        "role": _TEXT,
        "scale": _TEXT,
        "runtime_s": _NUMBER,
    },
    "curves": {
        "dataset": _TEXT,
        "model": _TEXT,
        "method": _TEXT,
        "client": _TEXT,
        "curve": _TEXT,
        "k": _NUMBER,
        "output": _NUMBER,
    },
    "metrics": {
        "dataset": _TEXT,
        "model": _TEXT,
        "method": _TEXT,
        "metric": _TEXT,
        "value": _NUMBER,
        "n": _NUMBER,
    },
    "agreement": {
        "dataset": _TEXT,
        "model": _TEXT,
        "method_a": _TEXT,
        "method_b": _TEXT,
        "spearman": _NUMBER,
    },
    "levers_agreement": {"client": _TEXT, "product": _TEXT, "method": _TEXT, "share": _NUMBER},
}
"""Every table a report reads: its columns and whether each holds numbers or text."""

_RUN_FACTS: dict[str, type | tuple[type, ...]] = {
    "datasets": list,
    "models": list,
    "methods": list,
    "quick": bool,
    "seed": int,
    "n_clients": int,
    "n_reruns": int,
    "versions": dict,
    "started_at": str,
    "elapsed_s": (int, float),
    "skipped": list,
}
_SKIPPED_KEYS = ("dataset", "model", "method", "reason")
_HINT = "Hint: run `levers study run --out DIR` again to write a complete study folder."


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyTables:
    """One study folder's run facts (``study.json``) and its five result tables."""

    folder: Path
    study: dict[str, Any]
    explanations: pd.DataFrame
    curves: pd.DataFrame
    metrics: pd.DataFrame
    agreement: pd.DataFrame
    levers_agreement: pd.DataFrame


def read_study(folder: Path | str) -> StudyTables:
    """Read and check the study written in ``folder``.

    Raises
    ------
    AdvisorError
        ``folder`` is not a folder, ``study.json`` or a table is missing or unreadable, a
        column is missing, a number column holds text, or a run fact has the wrong type.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise AdvisorError(
            f"study folder: must be a path (text or pathlib.Path). Got {type(folder).__name__}."
        )
    path = Path(folder)
    if not path.is_dir():
        raise AdvisorError(
            f"study folder {inert(path)}: must be an existing folder. Got no folder. {_HINT}"
        )
    tables = {name: _read_table(path, name, columns) for name, columns in TABLES.items()}
    return StudyTables(folder=path, study=_read_facts(path / "study.json"), **tables)


def _read_facts(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise AdvisorError(f"{inert(path)}: must exist. Got no such file. {_HINT}")
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdvisorError(f"{inert(path)}: must be readable JSON. Got {exc}. {_HINT}") from exc
    if not isinstance(facts, dict):
        raise AdvisorError(f"{inert(path)}: must hold a JSON object. Got {type(facts).__name__}.")
    for key, kind in _RUN_FACTS.items():
        value = facts.get(key)
        if (
            key not in facts
            or not isinstance(value, kind)
            or isinstance(value, bool) != (kind is bool)
        ):
            raise AdvisorError(
                f"{inert(path)}: key {key!r} must be a {_kind_name(kind)}. Got {value!r}. {_HINT}"
            )
    for position, entry in enumerate(facts["skipped"]):
        if not isinstance(entry, dict) or any(key not in entry for key in _SKIPPED_KEYS):
            raise AdvisorError(
                f"{inert(path)}: skipped[{position}] must hold {', '.join(_SKIPPED_KEYS)}. "
                f"Got {entry!r}."
            )
    return facts


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {list: "list", dict: "object", bool: "true/false", int: "whole number", str: "text"}
    if isinstance(kind, tuple):
        return "number"
    return names.get(kind, kind.__name__)


def _read_table(folder: Path, name: str, columns: dict[str, str]) -> pd.DataFrame:
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    path = parquet if parquet.is_file() else csv
    if not path.is_file():
        raise AdvisorError(
            f"{inert(parquet)}: must exist (or {csv.name}). Got no such file. {_HINT}"
        )
    try:
        frame = pd.read_parquet(path) if path is parquet else pd.read_csv(path, dtype=str)
    except Exception as exc:  # a corrupt file fails in pyarrow or the CSV parser
        raise AdvisorError(f"{inert(path)}: must be a readable table. Got {exc}.") from exc
    for column, kind in columns.items():
        if column not in frame.columns:
            raise AdvisorError(
                f"{inert(path)}: column {column!r} must exist. Got columns "
                f"{', '.join(map(str, frame.columns))}. {_HINT}"
            )
        if kind == _NUMBER:
            frame[column] = _numbers(path, column, frame[column])
        else:
            frame[column] = frame[column].astype(str)
    return frame[list(columns)].reset_index(drop=True)


def _numbers(path: Path, column: str, values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        first = values[bad].iloc[0]
        raise AdvisorError(
            f"{inert(path)}: column {column!r} must hold numbers. Got {first!r} in row "
            f"{int(bad.to_numpy().nonzero()[0][0]) + 1}."
        )
    return numbers.astype(float)
