"""The ``encoding`` and ``decimal`` parameters of the CSV reader, and decimal commas detected."""

from __future__ import annotations

import codecs

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from advisor.errors import DatasetError

__all__ = ["check_decimal", "check_encoding", "convert_decimal_commas"]

# a number whose decimal mark is a comma: 10,5  -3,25  ,5  7  1,5e3 (spaces around allowed)
_DECIMAL_COMMA = r"\s*[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?\s*"
_DECIMAL_COMMA_LINE = f"^{_DECIMAL_COMMA}$"
_ASCII_PROBE = "id;x,y\r\n"


def check_encoding(encoding: object) -> str | None:
    """Return the Python codec name of ``encoding`` (``utf-8`` read as ``utf-8-sig``), or None.

    Examples
    --------
    >>> check_encoding("latin-1"), check_encoding("UTF8"), check_encoding(None)
    ('iso8859-1', 'utf-8-sig', None)
    """
    if encoding is None:
        return None
    examples = "such as 'utf-8', 'cp1252' or 'latin-1'"
    if not isinstance(encoding, str):
        msg = f"encoding: must be the name of a text encoding {examples}."
        raise DatasetError(f"{msg} Got {type(encoding).__name__}.")
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        msg = f"encoding: must be a known text encoding {examples}. Got {encoding!r}."
        raise DatasetError(f"{msg} Hint: leave it out to detect UTF-8 or Windows-1252.") from exc
    try:
        keeps_ascii = _ASCII_PROBE.encode(name) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError, TypeError):
        keeps_ascii = False
    if not keeps_ascii:
        msg = "encoding: must write ASCII as single bytes (UTF-8, cp1252, latin-1, ...)."
        raise DatasetError(f"{msg} Got {encoding!r}. Hint: convert the file to UTF-8.")
    return "utf-8-sig" if name == "utf-8" else name


def check_decimal(decimal: object) -> str | None:
    """Return ``decimal`` when it is ``"."``, ``","`` or None (detect), else raise.

    Examples
    --------
    >>> check_decimal(","), check_decimal(None)
    (',', None)
    """
    if decimal is None or (isinstance(decimal, str) and decimal in (".", ",")):
        return decimal
    msg = "decimal: must be '.' or ',' (or None to detect a decimal comma)."
    raise DatasetError(f"{msg} Got {decimal!r}.")


def convert_decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with its decimal-comma text columns as floats.

    A text column converts when every non-missing value is a number with at most one comma
    as its decimal mark (``10,5``, ``-3``, ``,5``) and at least one value has the comma.
    Other columns are left as they are.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": ["10,5", "3", None], "y": ["a,1", "2,0", "3,0"]})
    >>> convert_decimal_commas(frame)["y"].tolist()
    ['a,1', '2,0', '3,0']
    >>> convert_decimal_commas(frame)["x"].tolist()
    [10.5, 3.0, nan]
    """
    converted: dict[object, pd.Series] = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.StringDtype):
            text = pa.array(column, type=pa.string(), from_pandas=True)
        elif column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) == "string":
            text = pa.array(column.to_numpy(), type=pa.string(), from_pandas=True)
        else:
            continue  # numbers, or mixed objects (infer_dtype is one C pass)
        if not pc.any(pc.match_substring(text, ",")).as_py():
            continue
        if not pc.all(pc.match_substring_regex(text, _DECIMAL_COMMA_LINE)).as_py():
            continue
        dotted = pc.utf8_trim_whitespace(pc.replace_substring(text, ",", "."))
        numbers = pc.cast(dotted, pa.float64()).to_numpy(zero_copy_only=False)
        converted[name] = pd.Series(numbers, index=column.index, dtype="float64")
    if not converted:
        return frame
    frame = frame.copy()
    for column_name, numbers in converted.items():
        frame[column_name] = numbers
    return frame
