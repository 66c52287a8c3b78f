"""Hostile client tables: read_table refuses them with the line, write_table never half-writes."""

from __future__ import annotations

import json
import os
import re
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.datasets import describe_table, read_clients, read_table, write_table
from advisor.errors import DatasetError, DatasetFileNotFoundError

ROWS = "".join(f"{i},{2 * i},x{i}\n" for i in range(48))  # lines 2..49 under the header


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- field counts and quotes ---------------------------------------------------------


def test_extra_fields_in_the_first_row_are_refused_not_shifted(tmp_path: Path) -> None:
    # pandas alone reads this as 3 columns, the first three fields becoming the index.
    path = _write(tmp_path, "t.csv", "a,b,c\n1,2,3,4,5,6\n" + ROWS)
    fields = "must have 3 ','-separated fields like the header. Got 6 fields."
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(path))}, line 2: {fields}"):
        read_table(path)


def test_every_bad_line_is_named_up_to_five(tmp_path: Path) -> None:
    lines = ["a,b,c", *ROWS.splitlines()]
    lines[10] += ",9,9,9"  # line 11
    lines[20] = "1,2"  # line 21: too few fields (pandas pads these silently)
    path = _write(tmp_path, "t.csv", "\n".join(lines) + "\n")
    with pytest.raises(
        DatasetError, match=r", line 11: .* Got 6 fields\. Also line 21: 2 fields\."
    ):
        read_table(path)


def test_an_unbalanced_quote_is_refused_at_the_line_it_opens(tmp_path: Path) -> None:
    lines = ["a,b,c", *ROWS.splitlines()]
    lines[5] = '4,"5,6'  # line 6 opens a quote; line 11 closes it: 5 lines merged in one value
    lines[10] = '7,8",9'
    path = _write(tmp_path, "t.csv", "\n".join(lines) + "\n")
    with pytest.raises(
        DatasetError, match=r", line 6: values must not span lines\. Got a quoted value running to"
    ):
        read_table(path)


def test_a_quote_never_closed_is_refused_at_the_line_it_opens(tmp_path: Path) -> None:
    lines = ["a,b,c", *ROWS.splitlines()]
    lines[30] = '4,"5,6'
    path = _write(tmp_path, "t.csv", "\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r", line 31: values must not span lines\. .*line 49"):
        read_table(path)


def test_a_semicolon_file_with_crlf_and_blank_lines_still_reads(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a;b\r\n1;2\r\n\r\n3;4\r\n5;6")
    frame = read_table(path)
    assert frame.to_dict("list") == {"a": [1, 3, 5], "b": [2, 4, 6]}


def test_old_mac_line_endings_read_and_count_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\r1,2\r3,4\r")
    assert read_table(path).to_dict("list") == {"a": [1, 3], "b": [2, 4]}
    with pytest.raises(DatasetError, match=r"at most 1 rows \(max_rows\)\. Got 2 lines"):
        read_table(path, max_rows=1)
    with pytest.raises(DatasetError, match=r"must hold rows below the header line"):
        read_table(_write(tmp_path, "h.csv", "a,b\r\r"))
    with pytest.raises(DatasetError, match=r", line 2: must have 2 ','-separated fields"):
        read_table(_write(tmp_path, "r.csv", "a,b\r,c,d\n1,2\n"))


# --- header, encoding, file kinds ----------------------------------------------------


def test_a_header_without_rows_is_a_clean_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b,c\n")
    with pytest.raises(
        DatasetError, match=r"must hold rows below the header line\. Got a header \(3 columns\)"
    ):
        read_table(path)


@pytest.mark.parametrize(
    ("header", "got"),
    [("a,a,c", "'a' 2 times"), ("a,,c", "an empty name in column 2"), ("a, ,a", "column 2")],
)
def test_repeated_or_empty_column_names_are_refused(tmp_path: Path, header: str, got: str) -> None:
    path = _write(tmp_path, "t.csv", f"{header}\n1,2,3\n")
    with pytest.raises(DatasetError, match=rf"line 1: column names must be unique .*{got}"):
        read_table(path)


def test_a_folder_is_not_a_table(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").mkdir()
    with pytest.raises(DatasetError, match=r"clients\.csv: must be a file\. Got a folder\."):
        read_table(tmp_path / "clients.csv")
    with pytest.raises(DatasetError, match=r"clients\.csv: must be a file\. Got a folder\."):
        read_clients(tmp_path / "clients.csv")


def test_a_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetFileNotFoundError, match=r"must be an existing file"):
        read_table(tmp_path / "none.parquet")


def test_a_named_pipe_is_refused_instead_of_waiting_for_ever(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "t.csv")
    with pytest.raises(DatasetError, match=r"t\.csv: must be a regular file\. Got a named pipe"):
        read_table(tmp_path / "t.csv")


@pytest.mark.parametrize("name", ["x" * 300 + ".csv", "file.csv/t.csv"])
def test_an_impossible_path_is_a_clean_error(tmp_path: Path, name: str) -> None:
    _write(tmp_path, "file.csv", "a\n1\n")
    with pytest.raises(DatasetError, match=r"must be a readable file\. Got (File name too|Not a)"):
        read_table(tmp_path / name)
    with pytest.raises(
        DatasetError, match=r"must be (a file name you can write|an existing folder)"
    ):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / name)


def test_a_long_but_valid_name_is_written(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"a": [1]}), tmp_path / ("x" * 250 + ".csv"))
    assert read_table(path).shape == (1, 1)


class _Racing:
    """A value whose text form, once checked, lets another program create the target file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.n_calls = 0

    def __str__(self) -> str:
        self.n_calls += 1
        if self.n_calls > 1:
            self.path.write_text("theirs\n")
        return "x"


def test_a_file_appearing_during_the_write_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    racing = _Racing(path)
    with pytest.raises(DatasetError, match=r"t\.csv: must not exist .*--force"):
        write_table(pd.DataFrame({"a": [racing]}), path)
    assert racing.n_calls == 2
    assert path.read_text() == "theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_a_byte_neither_utf8_nor_cp1252_names_the_line_and_byte_offset(tmp_path: Path) -> None:
    # latin-1 text is read (tests/advisor/test_sources.py); 0x81 is not Windows-1252 either.
    text = "name,city\nAnn,Paris\nJosé,Liège\n".encode("latin-1") + b"Bo\x81,Nice\n"
    path = _write(tmp_path, "t.csv", text)
    offset = len(text) - len(b"\x81,Nice\n")
    with pytest.raises(
        DatasetError,
        match=rf"line 4: must be UTF-8 or Windows-1252 \(latin-1\) text\. Got the byte 0x81 at "
        rf"byte offset {offset}, which is neither\. .*iconv -f cp1252",
    ):
        read_table(path)


def test_a_utf8_file_with_a_latin1_byte_is_refused_not_garbled(tmp_path: Path) -> None:
    body = "é" * 700_000  # 1.4 MB of valid two-byte characters: chunks split a character
    text = f"a\n{body}\n".encode() + b"\xff\n"
    path = _write(tmp_path, "t.csv", text)
    with pytest.raises(
        DatasetError,
        match=r"must be in one encoding\. Got UTF-8 text \('é' on line 2, byte offset 2\) and "
        rf"bytes that are not UTF-8 \(0xFF on line 3, byte offset {len(text) - 2:,}\)",
    ):
        read_table(path)


def test_utf16_and_binary_files_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(DatasetError, match=r"Got UTF-16 text .*iconv -f utf-16"):
        read_table(path)
    path = _write(tmp_path, "u.csv", b"a,b\n1,\x00\n")
    with pytest.raises(
        DatasetError, match=r"line 2: must be text\. Got a NUL byte at byte offset 6"
    ):
        read_table(path)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "\ufeffa,b\n1,2\n".encode())
    assert read_table(path).columns.tolist() == ["a", "b"]


def test_a_corrupt_parquet_file_is_a_clean_error(tmp_path: Path) -> None:
    good = write_table(pd.DataFrame({"a": range(100)}), tmp_path / "t.parquet")
    data = good.read_bytes()
    path = _write(tmp_path, "bad.parquet", data[:8] + b"\x00" * (len(data) - 16) + data[-8:])
    with pytest.raises(DatasetError, match=r"bad\.parquet: must be a readable Parquet file\. Got"):
        read_table(path)
    path = _write(tmp_path, "cut.parquet", data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"cut\.parquet: must be a readable Parquet file\. Got"):
        read_table(path)


def test_corrupt_pandas_metadata_in_parquet_is_a_clean_error(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(pd.DataFrame({"a": [1, 2]}), preserve_index=False)
    meta = json.loads(table.schema.metadata[b"pandas"])
    del meta["columns"][0]["numpy_type"]  # as a flipped byte in the footer can leave it
    table = table.replace_schema_metadata({b"pandas": json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DatasetError, match=r"must be a readable Parquet file\. Got corrupt pandas"):
        read_table(tmp_path / "t.parquet")


# --- limits ---------------------------------------------------------------------------


def test_a_file_above_max_bytes_is_refused_before_reading(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\n1,2\n")  # 8 bytes
    assert read_table(path, max_bytes=8).shape == (1, 2)
    with pytest.raises(
        DatasetError, match=r"must be at most 7 bytes \(max_bytes\)\. Got 8 bytes\."
    ):
        read_table(path, max_bytes=7)


def test_the_default_size_limit_is_two_gigabytes(tmp_path: Path) -> None:
    for name in ("t.csv", "t.parquet"):
        with (tmp_path / name).open("wb") as sparse:  # sparse: 2 GB long, no disk used
            sparse.truncate(2_000_000_001)
        with pytest.raises(DatasetError, match=r"2,000,000,000 bytes \(max_bytes\)\. Got 2,000,"):
            read_table(tmp_path / name)


def test_rows_and_columns_above_their_limits_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b,c\n" + ROWS)
    assert read_table(path, max_rows=48, max_columns=3).shape == (48, 3)
    with pytest.raises(DatasetError, match=r"at most 47 rows \(max_rows\)\. Got 48 lines"):
        read_table(path, max_rows=47)
    with pytest.raises(DatasetError, match=r"line 1: must have at most 2 columns .* Got 3\."):
        read_table(path, max_columns=2)


def test_parquet_limits_come_from_its_metadata(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"a": range(50), "b": 1.0}), tmp_path / "t.parquet")
    with pytest.raises(DatasetError, match=r"at most 49 rows \(max_rows\)\. Got 50\."):
        read_table(path, max_rows=49)
    with pytest.raises(DatasetError, match=r"at most 1 columns \(max_columns\)\. Got 2\."):
        read_table(path, max_columns=1)
    texts = pd.DataFrame({"s": ["a" * 1000 + str(i) for i in range(200)]})
    texts.to_parquet(tmp_path / "s.parquet")  # 200 kB of text, compressed to about 15 kB
    size = (tmp_path / "s.parquet").stat().st_size
    with pytest.raises(
        DatasetError, match=r"\(max_bytes\)\. Got 2\d\d,\d+ bytes of uncompressed data"
    ):
        read_table(tmp_path / "s.parquet", max_bytes=2 * size)
    empty = tmp_path / "e.parquet"  # write_table refuses to write it; other tools do not
    pd.DataFrame({"a": pd.Series([], dtype=float)}).to_parquet(empty)
    with pytest.raises(DatasetError, match=r"must hold rows\. Got 1 columns and no rows\."):
        read_table(empty)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, None])
def test_limits_must_be_positive_whole_numbers(tmp_path: Path, bad: object) -> None:
    path = _write(tmp_path, "t.csv", "a\n1\n")
    with pytest.raises(DatasetError, match=r"^max_rows: must be a whole number >= 1\."):
        read_table(path, max_rows=bad)  # type: ignore[arg-type]


def test_infinite_values_are_read_and_counted_by_describe(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b,y\ninf,1,no\n-inf,2,yes\n1e308,3,no\n1e309,4,no\n")
    frame = read_table(path)
    assert np.isinf(frame["a"]).tolist() == [True, True, False, True]
    summary = {c.name: c for c in describe_table(frame).columns}
    assert (summary["a"].n_infinite, summary["b"].n_infinite, summary["y"].n_infinite) == (3, 0, 0)


# --- writes ---------------------------------------------------------------------------


def test_an_existing_file_is_only_replaced_with_overwrite(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "keep\n1\n")
    frame = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(DatasetError, match=r"t\.csv: must not exist .*overwrite=True \(--force\)"):
        write_table(frame, path)
    assert path.read_text() == "keep\n1\n"
    write_table(frame, path, overwrite=True)
    assert read_table(path).to_dict("list") == {"a": [1, 2]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


class _Interrupting:
    """A value whose text form presses Ctrl-C half way through writing.

    write_table reads every text value once to check it (first call), then writes it.
    """

    def __init__(self) -> None:
        self.n_calls = 0

    def __str__(self) -> str:
        self.n_calls += 1
        if self.n_calls > 1:
            raise KeyboardInterrupt
        return "x"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, suffix: str
) -> None:
    path = write_table(pd.DataFrame({"a": [1, 2]}), tmp_path / f"t{suffix}")
    before = path.read_bytes()
    frame = pd.DataFrame({"a": range(5000), "b": ["x"] * 4999 + [_Interrupting()]})
    # CSV: Ctrl-C while the row is written; Parquet: pyarrow refuses the object first.
    error = KeyboardInterrupt if suffix == ".csv" else DatasetError
    with pytest.raises(error):
        write_table(frame, path, overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_an_interrupted_first_write_leaves_nothing(tmp_path: Path) -> None:
    interrupting = _Interrupting()
    frame = pd.DataFrame({"a": range(5000), "b": ["x"] * 4999 + [interrupting]})
    with pytest.raises(KeyboardInterrupt):
        write_table(frame, tmp_path / "t.csv")
    assert interrupting.n_calls == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("frame", "name", "error"),
    [
        ([[1, 2]], "t.csv", r"^frame: must be a pandas DataFrame\. Got list\."),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "t.csv", r"^frame: column names must be"),
        (pd.DataFrame({"a": ["x\ny"]}), "t.csv", r"column 'a': CSV values must not hold line"),
        (pd.DataFrame({"a\rb": [1]}), "t.csv", r"the column names: CSV values must not hold line"),
        (pd.DataFrame({"a": ["x\x00"]}), "t.csv", r"column 'a': CSV values must not hold line"),
        (
            pd.DataFrame({"a": [b"\xff"]}),
            "t.csv",
            r"column 'a': CSV values must be text or numbers",
        ),
        (pd.DataFrame({"a": []}), "t.csv", r"^frame: must hold at least one row and one column\."),
        (pd.DataFrame(index=[1]), "t.parquet", r"^frame: must hold at least one row and one"),
        (
            pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])),
            "t.parquet",
            r"^frame: columns must have one level of names\. Got 2 levels\.",
        ),
        (pd.DataFrame({"a": [1]}), "t.xlsx", r"must end in \.csv or \.parquet"),
        (pd.DataFrame({"a": [1]}), "missing/t.csv", r"missing: must be an existing folder"),
        (
            pd.DataFrame({"a": [1]}),
            "file.csv/t.csv",
            r"file\.csv: must be an existing folder .*a file",
        ),
    ],
)
def test_write_table_validates_its_input(
    tmp_path: Path, frame: object, name: str, error: str
) -> None:
    _write(tmp_path, "file.csv", "a\n1\n")
    with pytest.raises(DatasetError, match=error):
        write_table(frame, tmp_path / name)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.csv"]


def test_a_folder_cannot_be_overwritten(tmp_path: Path) -> None:
    (tmp_path / "t.csv").mkdir()
    with pytest.raises(DatasetError, match=r"t\.csv: must be a file name\. Got a folder\."):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv", overwrite=True)


# --- properties -----------------------------------------------------------------------

_NAMES = st.text(string.ascii_letters + string.digits + "_ ", min_size=1, max_size=8).filter(
    lambda name: name.strip() != ""
)
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\n\r\x00"),
    max_size=12,
).map(lambda value: "v" + value)  # "v" keeps values from looking like numbers or NA


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    names = draw(st.lists(_NAMES, min_size=1, max_size=5, unique=True))
    n_rows = draw(st.integers(min_value=1, max_value=20))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "bool", "text"]))
        values: st.SearchStrategy[object]
        if kind == "int":
            values = st.integers(min_value=-(2**62), max_value=2**62)
        elif kind == "float":
            values = st.floats(allow_nan=False, allow_infinity=False, width=64)
        elif kind == "bool":
            values = st.booleans()
        else:
            values = _TEXT
        columns[name] = draw(st.lists(values, min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(columns)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=_frames(), data=st.data())
def test_written_csv_reads_back_and_one_extra_field_is_named(
    tmp_path: Path, frame: pd.DataFrame, data: st.DataObject
) -> None:
    path = write_table(frame, tmp_path / "t.csv", overwrite=True)
    back = read_table(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False, check_column_type=False)
    assert [str(back[c].dtype) == "bool" for c in back] == [
        str(frame[c].dtype) == "bool" for c in frame
    ]
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    row = data.draw(st.integers(min_value=1, max_value=len(lines) - 1), label="row")
    lines[row] += ",extra"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_fields = frame.shape[1]
    with pytest.raises(DatasetError, match=rf", line {row + 1}: must have {n_fields} "):
        read_table(bad)
