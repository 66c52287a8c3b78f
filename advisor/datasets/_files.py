"""Reading and writing client tables (CSV with a detected separator, or Parquet)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from advisor._atomic import write_atomic
from advisor.datasets._compressed import COMPRESSIONS, compressed_file, open_bytes
from advisor.datasets._csv_checks import (
    Source,
    check_field_counts,
    check_names,
    data_lines,
    diagnose_rows,
    scan_csv,
)
from advisor.datasets._decimal import check_decimal, check_encoding, convert_decimal_commas
from advisor.datasets._rows import FIRST_DATA_LINE, LINES_ATTR
from advisor.errors import DatasetError, DatasetFileNotFoundError

__all__ = ["MAX_BYTES", "MAX_COLUMNS", "MAX_ROWS", "read_table", "write_table"]

MAX_BYTES = 2_000_000_000
"""Default largest data file read, in bytes (2 GB); for Parquet also its uncompressed data."""
MAX_ROWS = 10_000_000
"""Default largest number of rows read (10 million)."""
MAX_COLUMNS = 2_000
"""Default largest number of columns read."""

_SUFFIXES = (".csv", ".parquet")


def _as_path(path: object, name: str) -> Path:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise DatasetError(f"{name}: must be a file path. Got {type(path).__name__}.")
    return Path(path)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise DatasetError(
            f"{path}: must end in .csv or .parquet. Got {suffix or 'no suffix'!r}. "
            "Hint: name the file e.g. clients.parquet."
        )
    return suffix


def _read_suffix(path: Path) -> str:
    """Return ``.csv``, ``.parquet`` or a compression suffix (``.gz``, ``.zip``, ...)."""
    suffix = path.suffix.lower()
    if suffix in COMPRESSIONS:
        return suffix
    if suffix not in _SUFFIXES:
        raise DatasetError(
            f"{path}: must end in .csv or .parquet (or .csv.gz, .csv.bz2, .csv.xz, .zip). Got "
            f"{suffix or 'no suffix'!r}. Hint: name the file e.g. clients.parquet."
        )
    return suffix


def _check_limit(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DatasetError(f"{name}: must be a whole number >= 1. Got {value!r}.")
    return value


def _existing_file(path: Path, max_bytes: int) -> None:
    """Refuse a folder, a missing, special or unreadable file and a file above ``max_bytes``."""
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        msg = f"{path}: must be an existing file. Got no such file."
        raise DatasetFileNotFoundError(msg) from exc
    except OSError as exc:
        raise DatasetError(f"{path}: must be a readable file. Got {exc.strerror}.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise DatasetError(f"{path}: must be a file. Got a folder. Hint: name the file inside it.")
    if not stat.S_ISREG(info.st_mode):
        msg = f"{path}: must be a regular file. Got a named pipe, device or socket."
        raise DatasetError(msg)
    if info.st_size > max_bytes:
        raise _too_big(path, f"{info.st_size:,} bytes", max_bytes)
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise DatasetError(f"{path}: must be a readable file. Got {exc.strerror}.") from exc


def _too_big(path: Path, got: str, max_bytes: int) -> DatasetError:
    msg = f"{path}: must be at most {max_bytes:,} bytes (max_bytes). Got {got}."
    return DatasetError(f"{msg} Hint: split the file or keep only the columns you need.")


def _read_parquet(path: Path, max_bytes: int, max_rows: int, max_columns: int) -> pd.DataFrame:
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, ValueError, OSError) as exc:
        msg = f"{path}: must be a readable Parquet file. Got {exc}"
        raise DatasetError(f"{msg.rstrip('.')}. Hint: write it again.") from exc
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > max_bytes:
        raise _too_big(path, f"{unpacked:,} bytes of uncompressed data", max_bytes)
    if meta.num_columns > max_columns:
        msg = f"{path}: must have at most {max_columns:,} columns (max_columns)."
        raise DatasetError(f"{msg} Got {meta.num_columns:,}.")
    if meta.num_rows > max_rows:
        msg = f"{path}: must hold at most {max_rows:,} rows (max_rows)."
        raise DatasetError(f"{msg} Got {meta.num_rows:,}. Hint: split the file or sample it.")
    if meta.num_rows == 0:
        raise DatasetError(f"{path}: must hold rows. Got {meta.num_columns} columns and no rows.")
    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise DatasetError(f"{path}: must be a readable Parquet file. Got {exc}") from exc
    except (LookupError, TypeError, AttributeError) as exc:  # corrupt pandas metadata
        msg = f"{path}: must be a readable Parquet file. Got corrupt pandas metadata"
        raise DatasetError(f"{msg} ({type(exc).__name__} {exc}). Hint: write it again.") from exc
    check_names([str(name) for name in frame.columns], str(path), "rename the columns.")
    return frame


def _read_csv(
    path: Source, limits: tuple[int, int], encoding: str | None, decimal: str | None
) -> pd.DataFrame:
    max_rows, max_columns = limits
    layout = scan_csv(path, max_rows=max_rows, max_columns=max_columns, encoding=encoding)
    if decimal == "," and layout.sep == ",":
        msg = f"{path}: decimal ',' needs another separator than ','. Got ','-separated values."
        raise DatasetError(f"{msg} Hint: leave decimal out, or export with ';' as separator.")
    if not check_field_counts(path, layout):
        problem = diagnose_rows(path, layout)
        if problem is not None:
            raise problem
    try:
        with open_bytes(path) as handle:
            frame = pd.read_csv(
                handle,
                sep=layout.sep,
                engine="c",
                index_col=False,
                encoding=layout.encoding,
                decimal=decimal or ".",
            )
    except DatasetError:
        raise
    except (ValueError, OSError) as exc:
        problem = diagnose_rows(path, layout)
        if problem is not None:
            raise problem from exc
        raise DatasetError(f"{path}: must be a readable csv table. Got {exc}.") from exc
    if len(frame) != layout.n_rows:
        problem = diagnose_rows(path, layout)
        if problem is not None:
            raise problem
    if frame.empty and len(frame) == 0:
        msg = (
            f"{path}: must hold rows below the header line. Got a header ({frame.shape[1]} columns)"
        )
        raise DatasetError(f"{msg} and no rows.")
    if decimal is None and layout.sep != ",":
        frame = convert_decimal_commas(frame)
    lines = data_lines(path, len(frame)) if layout.blank_lines else FIRST_DATA_LINE
    if lines is not None:
        frame.attrs[LINES_ATTR] = lines
    return frame


def read_table(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    decimal: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> pd.DataFrame:
    r"""Read a client table from CSV (plain or compressed) or Parquet.

    The limits are checked before the table is read whole: the file size from the file
    system, columns from the header line (CSV) or metadata (Parquet), rows by counting lines
    in one streaming pass (CSV) or from metadata (Parquet). A CSV file is read as UTF-8 (a
    byte-order mark is allowed) when it is UTF-8 throughout, else as Windows-1252 (latin-1);
    a file mixing both is refused. Every row must have the header's number of fields and no
    value may span lines (an unbalanced quote would merge lines); the error names the lines
    of the file (the header is line 1). Values such as ``inf`` or ``1e308`` are read as they
    are. When the separator is not ``,``, a text column whose every value is a number with a
    decimal comma (``10,5``) is read as floats.

    A compressed CSV (``.csv.gz``, ``.csv.bz2``, ``.csv.xz``, or a ``.zip`` holding exactly
    one ``.csv``) is decompressed as a stream, never to disk, and refused once it unpacks to
    more than ``max_bytes``.

    Parameters
    ----------
    path
        A ``.csv``, ``.csv.gz``, ``.csv.bz2``, ``.csv.xz``, ``.zip`` or ``.parquet`` file.
    encoding
        The CSV file's text encoding (a Python codec name such as ``"utf-8"``, ``"cp1252"``,
        ``"latin-1"``); None detects UTF-8 (with or without a byte-order mark) or
        Windows-1252.
    decimal
        The CSV file's decimal mark, ``"."`` or ``","``; None reads ``.`` and detects
        decimal-comma columns when the separator is not ``,``.
    max_bytes
        Largest file size, in bytes (default 2 GB); for Parquet also the size of its
        uncompressed data, for a compressed CSV also the size of the CSV it holds.
    max_rows
        Largest number of rows (default 10 million).
    max_columns
        Largest number of columns (default 2,000).

    Returns
    -------
    pandas.DataFrame
        The table as stored.

    Raises
    ------
    DatasetFileNotFoundError
        The file does not exist.
    DatasetError
        The suffix is not supported, a zip holds several CSV files or none, the encoding
        is unknown or the bytes do not decode, the path is a folder or unreadable, a limit is
        exceeded, the header has no rows below it or repeats or leaves out a column name,
        or the file cannot be parsed (the error names the line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text("a;b\n1;2\n")
    >>> read_table(folder / "t.csv").columns.tolist()
    ['a', 'b']
    >>> _ = (folder / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    >>> read_table(folder / "bad.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    advisor.errors.DatasetError: ...bad.csv, line 3: must have 2 ','-separated fields ...
    """
    path = _as_path(path, "path")
    for name, value in (
        ("max_bytes", max_bytes),
        ("max_rows", max_rows),
        ("max_columns", max_columns),
    ):
        _check_limit(name, value)
    encoding = check_encoding(encoding)
    decimal = check_decimal(decimal)
    suffix = _read_suffix(path)
    _existing_file(path, max_bytes)
    if suffix == ".parquet":
        if encoding is not None or decimal is not None:
            msg = f"{path}: encoding and decimal apply to CSV files only. Got a Parquet file"
            raise DatasetError(f"{msg}. Hint: leave them out (Parquet stores typed values).")
        return _read_parquet(path, max_bytes, max_rows, max_columns)
    source = compressed_file(path, max_bytes) or path
    return _read_csv(source, (max_rows, max_columns), encoding, decimal)


def _check_frame(frame: object, path: Path, suffix: str) -> pd.DataFrame:
    """Refuse what :func:`read_table` would not read back as written."""
    if not isinstance(frame, pd.DataFrame):
        raise DatasetError(f"frame: must be a pandas DataFrame. Got {type(frame).__name__}.")
    if frame.columns.nlevels > 1:
        msg = f"frame: columns must have one level of names. Got {frame.columns.nlevels} levels."
        raise DatasetError(f"{msg} Hint: join them, e.g. '_'.join(names).")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        msg = "frame: must hold at least one row and one column."
        raise DatasetError(f"{msg} Got {frame.shape[0]} rows x {frame.shape[1]} columns.")
    check_names([str(name) for name in frame.columns], "frame", "rename the columns.")
    if suffix == ".csv":
        _check_csv_text(frame, path)
    return frame


def _check_csv_text(frame: pd.DataFrame, path: Path) -> None:
    """Refuse line breaks and NUL characters in names and text values (CSV only)."""
    names = pd.Series([str(name) for name in frame.columns], dtype=object)
    columns = [("the column names", names)] + [
        (f"column {name!r}", frame[name])
        for name in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[name])
    ]
    for where, values in columns:
        try:
            text = values.dropna().astype(str)
        except (UnicodeError, TypeError, ValueError) as exc:
            msg = f"{path}, {where}: CSV values must be text or numbers. Got {exc}."
            raise DatasetError(f"{msg} Hint: convert them, or write .parquet.") from exc
        broken = text.str.contains("[\n\r\x00]", regex=True)
        if bool(broken.any()):
            msg = f"{path}, {where}: CSV values must not hold line breaks or NUL characters."
            got = f"Got {text[broken].iloc[0]!r}"
            raise DatasetError(f"{msg} {got}. Hint: write .parquet.")


def write_table(
    frame: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``frame`` to ``path`` as CSV or Parquet (by suffix), atomically.

    The table is written to a temporary file in the same folder, then renamed into place:
    an interruption (an error, Ctrl-C) leaves no temporary file and any existing file intact.

    Parameters
    ----------
    frame
        The table to write (its index is not written): at least one row and one column,
        one level of column names, unique and non-empty; for CSV, names and text values
        must not hold line breaks or NUL characters (write Parquet instead).
    path
        Target ``.csv`` or ``.parquet`` file; its folder must exist.
    overwrite
        Replace an existing file. Without it, an existing file is an error.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    DatasetError
        Bad frame or suffix, the file exists (and ``overwrite`` is false), the path is a
        folder, or the file cannot be written.
    DatasetFileNotFoundError
        The target's folder does not exist.
    """
    path = _as_path(path, "path")
    suffix = _suffix(path)
    if not isinstance(overwrite, bool):
        raise DatasetError(f"overwrite: must be True or False. Got {overwrite!r}.")
    _check_frame(frame, path, suffix)
    try:
        _check_target(path, overwrite=overwrite)
    except DatasetError:
        raise
    except OSError as exc:
        raise DatasetError(
            f"{path}: must be a file name you can write. Got {exc.strerror}."
        ) from exc
    _write_atomically(frame, path, suffix, overwrite=overwrite)
    return path


def _check_target(path: Path, *, overwrite: bool) -> None:
    if not path.parent.is_dir():
        what = "a file" if path.parent.exists() else "no such folder"
        msg = f"{path.parent}: must be an existing folder to write {path.name} in. Got {what}."
        raise DatasetFileNotFoundError(f"{msg} Hint: create the folder first.")
    if path.is_dir():
        raise DatasetError(f"{path}: must be a file name. Got a folder.")
    if path.exists() and not overwrite:
        msg = f"{path}: must not exist (it would be overwritten). Got an existing file."
        raise DatasetError(f"{msg} Hint: choose another name, or pass overwrite=True (--force).")


def _write_atomically(frame: pd.DataFrame, path: Path, suffix: str, *, overwrite: bool) -> None:
    def write(temporary: Path) -> None:
        if suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)

    try:
        write_atomic(
            path,
            write,
            overwrite=overwrite,
            error=DatasetError,
            hint="choose another name, or pass overwrite=True (--force)",
        )
    except DatasetError:
        raise
    except OSError as exc:
        raise DatasetError(f"{path}: must be writable. Got {exc.strerror or exc}.") from exc
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise DatasetError(
            f"{path}: the table cannot be written as {suffix[1:]}. Got {exc}"
        ) from exc
