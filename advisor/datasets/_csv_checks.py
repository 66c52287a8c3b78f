"""Checks a CSV file before and after pandas reads it: encoding, header, field counts, quotes.

The checks stream the file (1 MiB at a time, never whole in memory) and stay cheap: one pass
over the bytes (UTF-8, lines; a second one as Windows-1252 when the file is not UTF-8), one
single-threaded pyarrow parse that only counts fields, and, only when something is wrong, a
slower pass with :mod:`csv` that names the bad lines exactly.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from advisor.datasets._compressed import CompressedFile, open_bytes
from advisor.errors import DatasetError

__all__ = [
    "CsvLayout",
    "Source",
    "check_field_counts",
    "check_names",
    "data_lines",
    "detect_text",
    "diagnose_rows",
    "given_text",
    "scan_csv",
    "scan_text",
]

Source = Path | CompressedFile
"""A plain file, or the CSV inside a compressed one (read as a stream)."""

_CHUNK = 1 << 20
_HEADER_BYTES = 1 << 20
_MAX_PROBLEMS = 5
_SEPARATORS = ",;\t|"
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_CP1252 = "cp1252"
# UTF-8 letters with accents (U+00C0-U+00FF), typographic punctuation (U+2010-U+203F) and
# the euro sign: bytes that Windows-1252 text practically never holds in these pairs.
_UTF8_SEQUENCE = re.compile(rb"\xC3[\x80-\xBF]|\xE2\x80[\x90-\xBF]|\xE2\x82\xAC")
_OTHER_ENCODINGS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def _utf8_hint(encoding: str = "latin1") -> str:
    return (
        "Hint: save it as 'CSV UTF-8' (Excel, LibreOffice) or convert it, "
        f"e.g. iconv -f {encoding} -t utf-8 old.csv > new.csv."
    )


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """What the streaming checks learnt: separator, column names, data lines, encoding."""

    sep: str
    names: tuple[str, ...]
    n_rows: int
    encoding: str = "utf-8-sig"
    blank_lines: bool = False
    """Whether the file holds empty lines or lone-CR line ends (then rows are not lines 2..n+1)."""


def _chunks(path: Source) -> Iterator[bytes]:
    with open_bytes(path) as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _check_start(path: Source, start: bytes) -> None:
    """Refuse UTF-16/32 text (recognised by its byte-order mark)."""
    for bom, name in _OTHER_ENCODINGS.items():
        if start.startswith(bom) and not start.startswith(codecs.BOM_UTF8):
            msg = f"{path}: must be UTF-8 text. Got {name} text (byte-order mark {bom.hex()})."
            raise DatasetError(f"{msg} {_utf8_hint(name.lower())}")


def _count_lines(data: np.ndarray, state: list[int]) -> tuple[int, int]:
    """Return (lines ended, empty lines) in ``data``; ``state`` = [last newline, offset, byte]."""
    last_newline, offset, previous = state
    newlines = np.flatnonzero(data == 10)
    n_empty = 0
    if newlines.size:
        starts = np.concatenate(([last_newline + 1 - offset], newlines[:-1] + 1))
        before = np.where(newlines > 0, data[newlines - 1], previous)
        lengths = newlines - starts
        n_empty = int(((lengths == 0) | ((lengths == 1) & (before == 13))).sum())
        state[0] = offset + int(newlines[-1])
    state[1] = offset + data.size
    state[2] = int(data[-1])
    return int(newlines.size), n_empty


def _scan_pass(
    path: Source, encoding: str, not_utf8: _Undecodable | None = None, *, given: bool = False
) -> tuple[int, bool]:
    """One streaming pass: decode as ``encoding``, refuse NUL bytes, count non-empty lines.

    Returns the count and whether any line is empty or ends with a lone CR.

    Lines end with LF, CRLF or a lone CR (as pandas reads them); empty lines ended by a lone
    CR are counted as lines (the count then only triggers the closer look). A byte that does
    not decode raises :class:`_Undecodable` (UTF-8 or a ``given`` encoding) or a
    :class:`DatasetError` (Windows-1252 as detected).
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    state = [-1, 0, 10]
    n_lines = n_empty = n_lone_cr = 0
    for chunk in _chunks(path):
        offset = state[1]
        n_crlf = chunk.count(b"\r\n") + int(state[2] == 13 and chunk[:1] == b"\n")
        n_lone_cr += chunk.count(b"\r") - n_crlf
        if offset == 0:
            _check_start(path, chunk)
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            start = offset - (len(exc.object) - len(chunk)) + exc.start
            line = n_lines + chunk.count(b"\n", 0, max(start - offset, 0)) + 1
            _undecodable(path, encoding if not given else "", start, exc.object[exc.start], line)
        if not_utf8 is not None:
            _check_not_mixed(path, chunk, (offset, n_lines), not_utf8)
        nul = chunk.find(b"\x00")
        if nul >= 0:
            line = n_lines + chunk.count(b"\n", 0, nul) + 1
            msg = (
                f"{path}, line {line}: must be text. Got a NUL byte at byte offset {offset + nul:,}"
            )
            raise DatasetError(f"{msg} (a binary file, or UTF-16 text?). {_utf8_hint()}")
        ended, empty = _count_lines(np.frombuffer(chunk, dtype=np.uint8), state)
        n_lines += ended
        n_empty += empty
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        start = state[1] - len(exc.object) + exc.start
        _undecodable(path, encoding if not given else "", start, exc.object[exc.start], n_lines + 1)
    if state[1] > state[0] + 1 and state[2] != 13:
        n_lines += 1
    return n_lines + n_lone_cr - n_empty, bool(n_empty or n_lone_cr)


class _Undecodable(Exception):
    """A byte that is not UTF-8: where it is (the caller then tries Windows-1252)."""

    def __init__(self, offset: int, byte: int, line: int) -> None:
        super().__init__(offset, byte, line)
        self.offset, self.byte, self.line = offset, byte, line


def _undecodable(path: Source, encoding: str, offset: int, byte: int, line: int) -> None:
    if encoding != _CP1252:
        raise _Undecodable(offset, byte, line)
    msg = (
        f"{path}, line {line}: must be UTF-8 or Windows-1252 (latin-1) text. Got the byte "
        f"0x{byte:02X} at byte offset {offset:,}, which is neither"
    )
    raise DatasetError(f"{msg}. {_utf8_hint('cp1252')}")


def _check_not_mixed(
    path: Source, chunk: bytes, where: tuple[int, int], not_utf8: _Undecodable
) -> None:
    """Refuse a file that is not UTF-8 yet holds UTF-8 accented letters, euro signs, quotes.

    Read as Windows-1252, they would become silent mojibake (``é`` read as ``Ã©``).
    """
    found = _UTF8_SEQUENCE.search(chunk)
    if found is None:
        return
    offset, n_lines = where
    line = n_lines + chunk.count(b"\n", 0, found.start()) + 1
    text = found.group().decode("utf-8")
    msg = (
        f"{path}: must be in one encoding. Got UTF-8 text ({text!r} on line {line}, byte "
        f"offset {offset + found.start():,}) and bytes that are not UTF-8 (0x{not_utf8.byte:02X} "
        f"on line {not_utf8.line}, byte offset {not_utf8.offset:,})"
    )
    raise DatasetError(f"{msg}. Hint: convert the latin-1 lines to UTF-8 and save the file again.")


def scan_text(path: Source) -> int:
    """Check UTF-8 and NUL bytes in one streaming pass; return the number of non-empty lines.

    Lines end with LF, CRLF or a lone CR (as pandas reads them).
    """
    try:
        return _scan_pass(path, "utf-8")[0]
    except _Undecodable as exc:
        _encoding_error(path, exc.offset, exc.byte, exc.line)
        raise  # pragma: no cover (_encoding_error always raises)


def detect_text(path: Source) -> tuple[tuple[int, bool], str]:
    """Return (non-empty lines, any blank line) and the encoding, in one or two streaming passes.

    The encoding is ``utf-8-sig`` when the whole file is UTF-8 (a byte-order mark is allowed),
    else ``cp1252`` (Windows-1252, a superset of latin-1's printable characters) when every
    byte decodes as such and no UTF-8 accented letter, euro sign or typographic quote appears
    (a file mixing both encodings is refused). UTF-16/32 text and NUL bytes are refused.
    """
    try:
        return _scan_pass(path, "utf-8"), "utf-8-sig"
    except _Undecodable as exc:
        not_utf8 = exc
    with open_bytes(path) as handle:
        if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            msg = f"{path}: must be in one encoding. Got a UTF-8 byte-order mark and bytes"
            raise DatasetError(f"{msg} that are not UTF-8. {_utf8_hint()}")
    return _scan_pass(path, _CP1252, not_utf8), _CP1252


def _encoding_error(path: Source, offset: int, byte: int, line: int) -> None:
    msg = f"{path}, line {line}: must be UTF-8 text. Got the byte 0x{byte:02X} at byte offset"
    raise DatasetError(
        f"{msg} {offset:,}, which is not UTF-8 (latin-1 or Windows-1252?). {_utf8_hint()}"
    )


def _header_line(path: Source, max_columns: int, encoding: str) -> str:
    with open_bytes(path) as handle:
        start = handle.read(_HEADER_BYTES)
    text = start.decode(encoding, errors="replace")
    line, *rest = re.split(r"\r\n|\r|\n", text, maxsplit=1)
    if not rest and len(start) == _HEADER_BYTES:
        n_fields = max(line.count(sep) for sep in _SEPARATORS) + 1
        if n_fields > max_columns:
            raise _too_many_columns(path, f"over {n_fields:,}", max_columns)
        msg = f"{path}, line 1: the header line must be shorter than {_HEADER_BYTES:,} bytes."
        raise DatasetError(f"{msg} Got a longer one.")
    if not line.strip():
        raise DatasetError(f"{path}, line 1: must be the header line. Got an empty line.")
    return line


def _too_many_columns(path: Source, got: str, max_columns: int) -> DatasetError:
    msg = f"{path}, line 1: must have at most {max_columns:,} columns (max_columns). Got {got}."
    return DatasetError(f"{msg} Hint: keep only the columns you need.")


def check_names(names: list[str], where: str, hint: str) -> None:
    """Refuse empty or repeated column names (pandas would rename them silently)."""
    problems = [
        f"an empty name in column {i}" for i, name in enumerate(names, 1) if not name.strip()
    ]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    problems += [f"{name!r} {n} times" for name, n in seen.items() if n > 1 and name.strip()]
    if problems:
        msg = f"{where}: column names must be unique and non-empty. Got {'; '.join(problems)}."
        raise DatasetError(f"{msg} Hint: {hint}")


def given_text(path: Source, encoding: str) -> tuple[int, bool]:
    """Check that the file decodes as the ``encoding`` given; return (non-empty lines, blank)."""
    try:
        return _scan_pass(path, encoding, given=True)
    except _Undecodable as exc:
        shown = "utf-8" if encoding == "utf-8-sig" else encoding
        msg = (
            f"{path}, line {exc.line}: must be {shown} text (encoding). Got the byte "
            f"0x{exc.byte:02X} at byte offset {exc.offset:,}, which is not"
        )
        hint = "Hint: give the file's encoding, or leave encoding out to detect it."
        raise DatasetError(f"{msg}. {hint}") from None


def scan_csv(
    path: Source, *, max_rows: int, max_columns: int, encoding: str | None = None
) -> CsvLayout:
    """Check encoding, header and size of a CSV file without loading it; return its layout.

    ``encoding`` (a Python codec name) skips the detection; None detects it.
    """
    if encoding is None:
        (n_lines, blank), encoding = detect_text(path)
    else:
        n_lines, blank = given_text(path, encoding)
    if n_lines == 0:
        raise DatasetError(f"{path}: must hold a header line and rows. Got an empty file.")
    line = _header_line(path, max_columns, encoding)
    try:
        sep = csv.Sniffer().sniff(line, delimiters=_SEPARATORS).delimiter
    except csv.Error:
        sep = ","
    try:
        names = next(csv.reader([line], delimiter=sep))
    except csv.Error as exc:
        raise DatasetError(f"{path}, line 1: must be a header line. Got {exc}.") from exc
    if len(names) > max_columns:
        raise _too_many_columns(path, f"{len(names):,}", max_columns)
    check_names(names, f"{path}, line 1", "rename them in the header line.")
    n_rows = n_lines - 1
    if n_rows == 0:
        msg = f"{path}: must hold rows below the header line. Got a header ({len(names)} columns)"
        raise DatasetError(f"{msg} and no rows.")
    if n_rows > max_rows:
        msg = f"{path}: must hold at most {max_rows:,} rows (max_rows). Got {n_rows:,} lines"
        raise DatasetError(f"{msg} below the header. Hint: split the file or sample it.")
    return CsvLayout(
        sep=sep, names=tuple(names), n_rows=n_rows, encoding=encoding, blank_lines=blank
    )


def data_lines(path: Source, n_rows: int) -> tuple[int, ...] | None:
    """Return the file's line number of each data row (blank lines skipped), or None.

    One streaming pass, for files with blank lines (others have their rows on lines 2 to
    n + 1). None when the lines cannot be told apart (lone-CR line ends) or do not match the
    ``n_rows`` rows read.
    """
    numbers: list[np.ndarray] = []
    line = 0  # lines ended so far
    carry = 0  # content bytes (not CR) of the line running into the next chunk
    n_cr = n_crlf = 0
    previous = 10
    for chunk in _chunks(path):
        n_cr += chunk.count(b"\r")
        n_crlf += chunk.count(b"\r\n") + int(previous == 13 and chunk[:1] == b"\n")
        previous = chunk[-1]
        data = np.frombuffer(chunk, dtype=np.uint8)
        content = np.concatenate(([0], np.cumsum((data != 10) & (data != 13))))
        newlines = np.flatnonzero(data == 10)
        starts = np.concatenate(([0], newlines[:-1] + 1)) if newlines.size else newlines
        counts = content[newlines] - content[starts]
        if newlines.size:
            counts[0] += carry
            carry = int(content[-1] - content[newlines[-1] + 1])
        else:
            carry += int(content[-1])
        numbers.append(line + 1 + np.flatnonzero(counts > 0))
        line += int(newlines.size)
    if n_cr != n_crlf:
        return None
    found = np.concatenate([*numbers, [line + 1] if carry else []]).astype(np.int64)
    rows = found[1:]  # below the header, the first non-empty line
    return tuple(int(n) for n in rows) if rows.size == n_rows else None


def check_field_counts(path: Source, layout: CsvLayout) -> bool:
    """Return True when every row has the header's field count and rows match the lines.

    A fast single-threaded pyarrow parse that converts one column only; ``False`` means
    :func:`diagnose_rows` must look closer.
    """
    first = layout.names[0]
    encoding = "utf8" if layout.encoding == "utf-8-sig" else layout.encoding
    try:
        with open_bytes(path) as handle:
            reader = pa_csv.open_csv(
                handle,
                read_options=pa_csv.ReadOptions(use_threads=False, encoding=encoding),
                parse_options=pa_csv.ParseOptions(delimiter=layout.sep, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(
                    include_columns=[first], column_types={first: pa.string()}
                ),
            )
            n_rows = sum(int(batch.num_rows) for batch in reader)
    except DatasetError:
        raise
    except (pa.ArrowException, ValueError, OSError):
        return False
    return n_rows == layout.n_rows


def diagnose_rows(path: Source, layout: CsvLayout) -> DatasetError | None:
    """Name the first lines whose field count is wrong or whose quoted value spans lines."""
    n_fields = len(layout.names)
    problems: list[tuple[int, str]] = []
    with io.TextIOWrapper(open_bytes(path), encoding=layout.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=layout.sep)
        last = 0
        try:
            for record in reader:
                start, last = last + 1, reader.line_num
                if last > start:
                    problems.append((start, f"a quoted value running to line {last}"))
                elif record and start > 1 and len(record) != n_fields:
                    problems.append((start, f"{len(record)} fields"))
                if len(problems) == _MAX_PROBLEMS:
                    break
        except csv.Error as exc:
            problems.append((last + 1, f"{exc} (an unbalanced quote?)"))
    if not problems:
        return None
    line, first = problems[0]
    sep = _SEPARATOR_NAMES[layout.sep]
    if first.endswith("fields"):
        head = f"must have {n_fields} {sep}-separated fields like the header. Got {first}."
        hint = f"quote values holding the separator {sep}, or remove the stray separator."
    else:
        head = f"values must not span lines. Got {first}."
        hint = 'an unbalanced quote (") merges the lines after it: close it.'
    others = "; ".join(f"line {n}: {what}" for n, what in problems[1:])
    also = f" Also {others}{' (first 5 shown)' if len(problems) == _MAX_PROBLEMS else ''}."
    return DatasetError(f"{path}, line {line}: {head}{also if others else ''} Hint: {hint}")
