"""Business values (frames) <-> the numeric arrays of a constraint set, with clear errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from constraints._compiled import FloatArray
from constraints._domain import shown_rows
from constraints._types import FeatureSpec
from constraints.errors import ConstraintError

__all__ = ["decode_frame", "encode_column", "encode_values"]

_TRUE = {"yes", "true", "1", "y", "t"}
_FALSE = {"no", "false", "0", "n", "f"}


def _rows(where: str, mask: np.ndarray, index: pd.Index) -> str:
    return f"{where} ({shown_rows(mask, index)})"


def _show_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _float_or_infinity(value: Any) -> Any:
    """``float(value)`` for an int too large for floating point (+-inf), else ``value``."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")
    return value


def _category_codes(spec: FeatureSpec, column: pd.Series) -> np.ndarray:
    """Codes of categories (-1 when unknown, NaN when missing); text matches numbers too."""
    index = pd.Index(list(spec.categories))
    missing = column.isna().to_numpy()
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = index.get_indexer(pd.Index(column.cat.categories))
        raw = column.cat.codes.to_numpy()
        codes = np.where(raw >= 0, lookup[np.maximum(raw, 0)], -1).astype(np.float64)
    else:
        codes = index.get_indexer(pd.Index(column.to_numpy(dtype=object))).astype(np.float64)
    unknown = (codes < 0) & ~missing
    if unknown.any():
        as_text = pd.Index([str(c) for c in spec.categories])
        retry = as_text.get_indexer(pd.Index(column[unknown].astype(str).str.strip()))
        codes[unknown] = retry
    codes[missing] = np.nan
    return codes


def _encode_coded(spec: FeatureSpec, column: pd.Series) -> np.ndarray:
    if spec.kind == "binary":
        if column.dtype == bool or pd.api.types.is_numeric_dtype(column.dtype):
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isin(values, (0.0, 1.0)) & ~np.isnan(values)
            if bad.any():
                shown = sorted({_show_number(v) for v in values[bad]})[:5]
                raise ConstraintError(
                    f"data.{spec.name}: a binary feature must hold 0/1 or true/false. Got "
                    f"{', '.join(shown)}. Hint: map the values to 0/1, or declare kind: "
                    f"integer (a count) or categorical."
                )
            return values
        labels = [str(x) for x in spec.categories] if spec.categories else []
        mapping = {label: float(code) for code, label in enumerate(labels)}
        for word in _TRUE:
            mapping.setdefault(word, 1.0)
        for word in _FALSE:
            mapping.setdefault(word, 0.0)
        lowered = {key.lower(): value for key, value in mapping.items()}
        mapped = column.astype("string").str.strip().str.lower().map(lowered)
        codes = np.array(mapped.to_numpy(dtype=np.float64, na_value=np.nan))
        codes[np.isnan(codes) & column.notna().to_numpy()] = -1.0
    else:
        codes = _category_codes(spec, column)
    unknown = codes < 0
    if unknown.any():
        found = sorted({str(v) for v in column[unknown]})
        shown = found[:5]
        allowed = ", ".join(map(str, spec.categories or ("yes", "no")))
        hint = "add them to the constraint file, or clean the data."
        if all(s.lstrip("-").isdigit() for s in found) and not any(
            str(c).lstrip("-").isdigit() for c in spec.categories
        ):
            listed = ", ".join(str(i) for i in range(len(spec.categories)))
            hint = (
                "the column holds numeric codes: decode it to the category names, or list the "
                f"codes as categories (e.g. categories: [{listed}])."
            )
        raise ConstraintError(
            f"data.{spec.name}: values must be among the categories ({allowed}). Got "
            f"{', '.join(repr(s) for s in shown)} in {shown_rows(unknown, column.index)}. "
            f"Hint: {hint}"
        )
    return codes


def encode_column(spec: FeatureSpec, column: pd.Series) -> np.ndarray:
    """Return the numeric values of one feature's column (codes for categories)."""
    if spec.kind in ("binary", "categorical", "ordinal"):
        values = _encode_coded(spec, column)
    elif column.dtype == bool:
        values = column.to_numpy(dtype=np.float64)
    else:
        try:
            numbers = pd.to_numeric(column, errors="coerce")
        except OverflowError:  # a Python int beyond floating point: read as +-inf
            numbers = pd.to_numeric(column.map(_float_or_infinity), errors="coerce")
        bad = numbers.isna() & column.notna()
        if bad.any():
            shown = sorted({str(v) for v in column[bad]})[:3]
            raise ConstraintError(
                f"data.{spec.name}: a {spec.kind} feature must hold numbers. Got "
                f"{', '.join(repr(s) for s in shown)} in "
                f"{shown_rows(bad.to_numpy(), column.index)}. Hint: clean "
                f"the column (numbers without separators or units), or declare the feature "
                f"categorical."
            )
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any() and spec.missing != "keep":
        if spec.missing == "impute" and not math.isnan(spec.imputed):
            return np.where(missing, spec.imputed, values)
        raise ConstraintError(_missing_message(spec, missing, column.index))
    return values


def _missing_message(spec: FeatureSpec, missing: np.ndarray, index: pd.Index) -> str:
    """Return the error for missing values a feature cannot take (count, share, fix)."""
    n, total = int(missing.sum()), len(missing)
    share = f"{100.0 * n / total:.1f}".rstrip("0").rstrip(".")
    got = _rows(f"{n:,} of {total:,} rows missing ({share} %)", missing, index)
    if spec.missing == "impute":
        return (
            f"data.{spec.name}: a missing value needs its imputed value, computed when the "
            f"constraint file is bound to data. Got {got} and a file bound to no data. "
            f"Hint: bind the file to the training data (load_constraints(path, data))."
        )
    return (
        f"data.{spec.name}: values must not be missing. Got {got}. Hint: the feature has "
        f"missing: forbid (the default); write missing: keep for {spec.name} in the "
        f"constraint file (the value stays "
        f"unknown and levers never change it), or missing: {{impute: median}} (replaced by "
        f"the data's median), or drop these rows."
    )


def encode_pair(spec: FeatureSpec, before: Any, after: Any) -> tuple[float, float]:
    """Return the numeric values of two business values of one feature (a change).

    Plain numbers and known category labels take a dictionary lookup; anything else goes
    through :func:`encode_column` (same values, same errors).
    """
    table = _lookup(spec)
    fast: list[float] = []
    for value in (before, after):
        if table is None and isinstance(value, (int, float, np.integer, np.floating)):
            if isinstance(value, (bool, np.bool_)) or math.isnan(value):
                break
            fast.append(float(value))
        elif spec.kind == "binary" and isinstance(value, (bool, np.bool_)):
            fast.append(float(value))
        elif table is not None and spec.kind != "binary" and _hashable(value) in table:
            fast.append(table[value])
        else:
            break
    if len(fast) == 2:
        return fast[0], fast[1]
    old, new = (float(v) for v in encode_column(spec, pd.Series([before, after])))
    return old, new


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return None
    return value


_FAST_ROWS = 512


@lru_cache(maxsize=4096)
def _lookup(spec: FeatureSpec) -> dict[Any, float] | None:
    """Exact value -> code of a coded feature (``None`` for numeric features)."""
    if spec.kind not in ("binary", "categorical", "ordinal"):
        return None
    table: dict[Any, float] = {}
    if spec.kind == "binary":
        table.update({False: 0.0, True: 1.0})
        words = [*(spec.categories or ()), *sorted(_FALSE), *sorted(_TRUE)]
        codes = [float(i) for i in range(len(spec.categories))] + [0.0] * len(_FALSE)
        codes += [1.0] * len(_TRUE)
        for word, code in zip(words, codes, strict=True):
            table.setdefault(str(word).lower(), code)
        return table
    for code, category in enumerate(spec.categories):
        table.setdefault(category, float(code))
        table.setdefault(str(category), float(code))
    return table


def _encode_small(features: tuple[FeatureSpec, ...], data: pd.DataFrame) -> FloatArray | None:
    """Encode a few rows value by value; ``None`` when a value needs the full path."""
    block = data[[f.name for f in features]].to_numpy(dtype=object)
    out = np.empty(block.shape, dtype=np.float64)
    for j, spec in enumerate(features):
        table = _lookup(spec)
        column = block[:, j]
        try:
            if table is None:
                values = column.astype(np.float64)
                if np.isnan(values).any():
                    return None
                out[:, j] = values
            else:
                out[:, j] = [table[v] for v in column]
        except (KeyError, TypeError, ValueError, OverflowError):
            return None
    return out


def encode_values(features: tuple[FeatureSpec, ...], data: Any) -> FloatArray:
    """Return an (n, d) float array in the features' order from a frame, a row or an array."""
    names = [f.name for f in features]
    if isinstance(data, pd.Series):
        data = data.to_frame().T
    elif isinstance(data, Mapping):
        data = pd.DataFrame([dict(data)])
    if isinstance(data, pd.DataFrame):
        missing = [n for n in names if n not in data.columns]
        if missing:
            raise ConstraintError(
                f"data: must have a column for every feature of the constraint set. Got no "
                f"column {', '.join(repr(m) for m in missing[:10])}"
                f"{' ...' if len(missing) > 10 else ''}."
            )
        if data.columns.duplicated().any():
            dup = sorted(set(data.columns[data.columns.duplicated()]))
            raise ConstraintError(f"data: column names must be unique. Got {dup} twice.")
        if len(data) <= _FAST_ROWS:
            fast = _encode_small(features, data)
            if fast is not None:
                return fast
        out = np.empty((len(data), len(names)), dtype=np.float64)
        for j, spec in enumerate(features):
            out[:, j] = encode_column(spec, data[spec.name])
        return out
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConstraintError(
            f"values: must be a DataFrame, a row (Series or dict) or a numeric array in the "
            f"order {names[:5]}... Got {type(data).__name__}."
        ) from exc
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != len(names):
        raise ConstraintError(
            f"values: an array must have {len(names)} columns, one per feature "
            f"({', '.join(names[:6])}{', ...' if len(names) > 6 else ''}). "
            f"Got shape {array.shape}."
        )
    return array.copy()


_DTYPES: dict[int, tuple[FeatureSpec, pd.CategoricalDtype]] = {}


def _category_dtype(spec: FeatureSpec) -> pd.CategoricalDtype:
    """Return the categorical dtype of a coded feature's column, built once per spec object.

    Building it was most of a small frame's cost. Keyed by identity, not equality: equal
    specs may hold categories of other types (``1`` and ``1.0``), hence other dtypes.
    """
    hit = _DTYPES.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    labels = list(spec.categories)
    text = all(isinstance(label, str) for label in labels)
    # text labels as plain objects: scikit-learn and records() read them as objects, and
    # converting arrow-backed text categories costs about 1 ms per frame
    index = pd.Index(labels, dtype=object) if text else pd.Index(labels)
    dtype = pd.CategoricalDtype(index, ordered=spec.kind == "ordinal")
    if len(_DTYPES) >= 4096:
        _DTYPES.clear()
    _DTYPES[id(spec)] = (spec, dtype)
    return dtype


def decode_frame(features: tuple[FeatureSpec, ...], values: FloatArray) -> pd.DataFrame:
    """Return business values (labels, amounts) for an (n, d) array."""
    out: dict[str, Any] = {}
    for j, spec in enumerate(features):
        column = values[:, j]
        missing = np.isnan(column)
        if spec.kind == "binary" and not spec.categories:
            flags = column.astype(bool)
            if missing.any():  # a nullable boolean keeps the missing values
                out[spec.name] = pd.array(flags, dtype="boolean")
                out[spec.name][missing] = pd.NA
            else:
                out[spec.name] = flags
        elif spec.kind in ("binary", "categorical", "ordinal"):
            codes = np.rint(np.where(missing, -1.0, column)).astype(np.int64)
            out[spec.name] = pd.Categorical.from_codes(codes, dtype=_category_dtype(spec))
        elif spec.kind == "integer" and np.isfinite(column).all():
            out[spec.name] = np.rint(column).astype(np.int64)
        else:
            out[spec.name] = column.copy()
    return pd.DataFrame(out, copy=False)  # every column is a fresh array
