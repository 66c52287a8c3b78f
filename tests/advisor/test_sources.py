"""Client sources read by read_clients: CSV (encodings, separators), Parquet, SQLite, DuckDB.

Every database is a real file written in the test with sqlite3 or duckdb (not SQLAlchemy, the
reader under test); the oracle is the frame written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import duckdb
import numpy as np
import pandas as pd
import pytest

from advisor.datasets import (
    INTERACTIVE_MAX_ROWS,
    load_german_credit,
    read_clients,
)
from advisor.errors import DatasetError, DatasetFileNotFoundError
from tests.conftest import shared_data_file

ROWS: list[tuple[object, ...]] = [
    (1, 2500.5, "José", 41),
    (2, None, "Zoë", 35),
    (3, 1800.0, None, 62),
]


def _expected() -> pd.DataFrame:
    """The frame every source holds: ints, floats with a missing value, text with a missing one."""
    return pd.DataFrame(
        {
            "client_id": np.array([1, 2, 3], dtype=np.int64),
            "income": [2500.5, np.nan, 1800.0],
            "name": pd.Series(["José", "Zoë", None], dtype="str"),
            "age": np.array([41, 35, 62], dtype=np.int64),
        }
    )


def _sqlite(folder: Path, rows: list[tuple[object, ...]] = ROWS) -> Path:
    path = folder / "clients.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE clients (client_id INTEGER, income REAL, name TEXT, age INTEGER)")
        con.execute('CREATE TABLE "Other Table" (a INTEGER)')
        con.executemany("INSERT INTO clients VALUES (?, ?, ?, ?)", rows)
    con.close()
    return path


def _duckdb(folder: Path) -> Path:
    path = folder / "clients.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE clients (client_id BIGINT, income DOUBLE, name VARCHAR, age BIGINT)")
    con.executemany("INSERT INTO clients VALUES (?, ?, ?, ?)", ROWS)
    con.close()
    return path


def _csv_text(sep: str = ",") -> str:
    lines = [sep.join(("client_id", "income", "name", "age"))]
    for row in ROWS:
        lines.append(sep.join("" if value is None else str(value) for value in row))
    return "\n".join(lines) + "\n"


def _source(kind: str, folder: Path) -> str:
    if kind == "csv-utf8":
        (folder / "c.csv").write_text(_csv_text(), encoding="utf-8")
        return str(folder / "c.csv")
    if kind == "csv-bom-semicolon":
        (folder / "c.csv").write_text(_csv_text(";"), encoding="utf-8-sig")
        return str(folder / "c.csv")
    if kind == "csv-latin1-tab":
        (folder / "c.csv").write_bytes(_csv_text("\t").encode("latin-1"))
        return str(folder / "c.csv")
    if kind == "parquet":
        _expected().to_parquet(folder / "c.parquet", index=False)
        return str(folder / "c.parquet")
    if kind.startswith("sqlite"):
        db = f"sqlite:///{_sqlite(folder)}"
    else:
        db = f"duckdb:///{_duckdb(folder)}"
    if kind.endswith("table"):
        return f"{db}?table=clients"
    return f"{db}?query={quote('SELECT * FROM clients ORDER BY client_id')}"


@pytest.mark.parametrize(
    "kind",
    [
        "csv-utf8",
        "csv-bom-semicolon",
        "csv-latin1-tab",
        "parquet",
        "sqlite-table",
        "sqlite-query",
        "duckdb-table",
        "duckdb-query",
    ],
)
def test_every_source_kind_reads_back_the_frame_written(kind: str, tmp_path: Path) -> None:
    frame = read_clients(_source(kind, tmp_path))
    pd.testing.assert_frame_equal(frame, _expected())


def test_a_relative_sqlite_url_is_read_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sqlite(tmp_path)
    monkeypatch.chdir(tmp_path)
    pd.testing.assert_frame_equal(read_clients("sqlite:///clients.db?table=clients"), _expected())


# --- encodings -------------------------------------------------------------------------


def test_a_latin1_file_reads_its_accents_right(tmp_path: Path) -> None:
    text = "prénom;ville;montant\nJosé;Liège;1\nZoë;Köln;2\nFrançois;Besançon;3\n"
    path = tmp_path / "clients.csv"
    path.write_bytes(text.encode("latin-1"))
    frame = read_clients(path)
    assert frame.columns.tolist() == ["prénom", "ville", "montant"]
    assert frame["prénom"].tolist() == ["José", "Zoë", "François"]
    assert frame["ville"].tolist() == ["Liège", "Köln", "Besançon"]
    assert frame["montant"].dtype == np.int64


def test_a_windows_1252_file_reads_its_euro_signs_and_ligatures(tmp_path: Path) -> None:
    text = "name,note\nCœur,prix 5 €\n“Ann”,—\n"
    path = tmp_path / "clients.csv"
    path.write_bytes(text.encode("cp1252"))
    frame = read_clients(path)
    assert frame.to_numpy().tolist() == [["Cœur", "prix 5 €"], ["“Ann”", "—"]]


def test_a_latin1_file_past_the_first_mebibyte_is_read_whole(tmp_path: Path) -> None:
    names = [f"Zoë{i}" for i in range(150_000)]  # about 1.2 MB: the accents span 2 chunks
    path = tmp_path / "clients.csv"
    path.write_bytes(("name\n" + "\n".join(names) + "\nJosé\n").encode("latin-1"))
    frame = read_clients(path)
    assert frame["name"].tolist() == [*names, "José"]


def test_a_bom_file_keeps_its_first_column_name_clean(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("\ufeffclient_id,ville\n1,Liège\n".encode())
    assert read_clients(path).columns.tolist() == ["client_id", "ville"]
    assert read_clients(path)["ville"].tolist() == ["Liège"]


def test_a_bad_line_of_a_latin1_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("a;b\nJosé;1\nZoë;2;3\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"line 3: must have 2 ';'-separated fields"):
        read_clients(path)


# --- SQL -------------------------------------------------------------------------------


def test_a_query_filters_and_keeps_colons_and_accents(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    query = "SELECT client_id, name, '10:30' AS t FROM clients WHERE name = 'José';"
    frame = read_clients(f"sqlite:///{db}?query={quote(query)}")
    assert frame.to_dict("list") == {"client_id": [1], "name": ["José"], "t": ["10:30"]}


def test_a_table_name_with_a_space_and_capitals_is_quoted(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    with sqlite3.connect(db) as con:
        con.execute('INSERT INTO "Other Table" VALUES (7)')
    con.close()
    frame = read_clients(f"sqlite:///{db}?table={quote('Other Table')}")
    assert frame.to_dict("list") == {"a": [7]}


def test_a_duckdb_view_is_a_table_too(tmp_path: Path) -> None:
    path = _duckdb(tmp_path)
    con = duckdb.connect(str(path))
    con.execute("CREATE VIEW adults AS SELECT client_id FROM clients WHERE age > 40")
    con.close()
    frame = read_clients(f"duckdb:///{path}?table=adults")
    assert sorted(frame["client_id"].tolist()) == [1, 3]


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_an_unknown_table_lists_the_tables_that_exist(backend: str, tmp_path: Path) -> None:
    path = _sqlite(tmp_path) if backend == "sqlite" else _duckdb(tmp_path)
    tables = "Other Table, clients" if backend == "sqlite" else "clients"
    with pytest.raises(
        DatasetError,
        match=rf"table=client: the table must exist\. Got no table or view 'client'; "
        rf"the tables are: {tables}\.$",
    ):
        read_clients(f"{backend}:///{path}?table=client")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM clients", r"the query must be a SELECT statement\. Got 'DELETE'\."),
        ("DROP TABLE clients", r"must be a SELECT statement\. Got 'DROP'\."),
        ("SELECT 1; DROP TABLE clients", r"must be one SELECT statement\. Got several"),
        (
            "WITH x AS (SELECT 1) INSERT INTO clients SELECT * FROM clients",
            r"must only read \(one SELECT statement\)\. Got the word 'INSERT'",
        ),
        ("SELECT * INTO copy FROM clients", r"Got the word 'INTO'"),
        ("ATTACH 'other.db' AS other", r"Got 'ATTACH'"),
        ("PRAGMA writable_schema = 1", r"Got 'PRAGMA'"),
    ],
)
def test_a_query_that_is_not_one_select_is_refused(
    query: str, message: str, tmp_path: Path
) -> None:
    db = _sqlite(tmp_path)
    with pytest.raises(DatasetError, match=message):
        read_clients(f"sqlite:///{db}?query={quote(query)}")
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM clients").fetchone() == (3,)
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clients.db"]


def test_write_words_inside_quotes_are_data_not_statements(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    query = "SELECT 'DELETE; DROP' AS \"update\" FROM clients -- INSERT\nLIMIT 1"
    frame = read_clients(f"sqlite:///{db}?query={quote(query)}")
    assert frame.to_dict("list") == {"update": ["DELETE; DROP"]}


def test_a_failing_query_gives_the_databases_message_only(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    with pytest.raises(
        DatasetError,
        match=r"query=SELECT nope FROM clients: the query must be readable\. Got the "
        r"database's error: no such column: nope\.$",
    ):
        read_clients(f"sqlite:///{db}?query={quote('SELECT nope FROM clients')}")


def test_duckdb_queries_cannot_read_other_files(tmp_path: Path) -> None:
    path = _duckdb(tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    query = f"SELECT * FROM read_csv('{secret}')"
    with pytest.raises(DatasetError, match=r"the query must be readable\. Got .*disabled"):
        read_clients(f"duckdb:///{path}?query={quote(query)}")


def test_missing_values_and_types_from_sql(tmp_path: Path) -> None:
    rows: list[tuple[object, ...]] = [(1, None, None, None), (2, 1.5, "b", 7)]
    db = _sqlite(tmp_path, rows)
    frame = read_clients(f"sqlite:///{db}?table=clients")
    assert frame["client_id"].dtype == np.int64
    assert frame["income"].isna().tolist() == [True, False]
    assert frame["age"].isna().tolist() == [True, False]
    assert frame["age"].iloc[1] == 7
    assert frame["name"].isna().tolist() == [True, False]


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_a_file_that_is_not_a_database_is_a_one_line_error(backend: str, tmp_path: Path) -> None:
    path = tmp_path / "clients.db"
    path.write_text("client_id,age\n1,40\n" * 300)
    with pytest.raises(DatasetError, match=r"must be readable\. Got the database's error: [^\n]+$"):
        read_clients(f"{backend}:///{path}?table=clients")
    assert path.read_text() == "client_id,age\n1,40\n" * 300


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_a_missing_database_file_is_an_error_and_is_not_created(
    backend: str, tmp_path: Path
) -> None:
    url = f"{backend}:///{tmp_path / 'nope.db'}?table=clients"
    with pytest.raises(
        DatasetFileNotFoundError,
        match=rf"nope\.db must exist\. Got no such file\. Hint: {backend}:///rel/path is relative",
    ):
        read_clients(url)
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///{d}/clients.db", r"must name a table \(\?table=NAME\) or a query .* neither"),
        (
            "sqlite:///{d}/clients.db?table=clients&query=SELECT%201",
            r"must name a table .* Got both",
        ),
        ("sqlite:///{d}/clients.db?table=a&table=b", r"must give table= once\. Got it 2 times"),
        ("sqlite:///{d}/clients.db?table=", r"must name a table .* Got neither"),
        ("sqlite:///{d}/clients.db?table=%20", r"must not be empty"),
        ("sqlite:///{d}/clients.db?table=clients&timeout=5", r"Got also timeout\.$"),
        ("sqlite:///{d}?table=clients", r"must be a file\. Got a folder\.$"),
        ("sqlite://?table=clients", r"must name a database file"),
        ("duckdb:///:memory:?table=clients", r"must name a database file"),
        ("nosuchdb://host/db?table=clients", r"Got the unknown scheme 'nosuchdb'\.$"),
        ("{d}/clients.db", r"must be given as a database URL\. .*Hint: sqlite:///"),
        ("{d}/clients.xlsx", r"must end in \.csv or \.parquet"),
    ],
)
def test_bad_sources_name_the_source_and_the_fix(url: str, message: str, tmp_path: Path) -> None:
    _sqlite(tmp_path)
    (tmp_path / "clients.xlsx").write_bytes(b"PK")
    with pytest.raises(DatasetError, match=message):
        read_clients(url.replace("{d}", str(tmp_path)))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://alice:s3cretpw@127.0.0.1:1/bank?table=clients",
        "postgresql://alice:s3cretpw@127.0.0.1:1/bank?query=SELECT%20*%20FROM%20clients",
        "postgresql://alice:s3cretpw@bad host:port/bank?table=clients",
    ],
)
def test_a_password_never_appears_in_an_error(url: str) -> None:
    # No server listens on port 1: whether the driver is installed or not, it is an error.
    with pytest.raises(DatasetError) as caught:
        read_clients(url)
    assert "s3cretpw" not in str(caught.value)
    assert "alice:***@" in str(caught.value)


# --- row limits ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv-utf8", "parquet", "sqlite-table", "duckdb-query"])
def test_a_source_over_max_rows_is_refused_naming_the_limit(kind: str, tmp_path: Path) -> None:
    source = _source(kind, tmp_path)
    with pytest.raises(DatasetError, match=r"must hold at most 2 rows \(max_rows\)\. Got 3"):
        read_clients(source, max_rows=2)
    assert len(read_clients(source, max_rows=3)) == 3


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_max_rows_must_be_a_whole_number(bad: object) -> None:
    with pytest.raises(DatasetError, match=r"^max_rows: must be a whole number >= 1 or None\."):
        read_clients("demo", max_rows=bad)  # type: ignore[arg-type]


def test_the_interactive_limit_is_a_row_count_the_demo_fits_in() -> None:
    assert isinstance(INTERACTIVE_MAX_ROWS, int)
    assert len(read_clients("demo", max_rows=INTERACTIVE_MAX_ROWS)) == 20_000


# --- known data sets -----------------------------------------------------------------


def test_a_known_data_set_is_decoded_by_its_loader() -> None:
    path = shared_data_file("german-credit", "german.data")
    expected = load_german_credit(path).frame
    pd.testing.assert_frame_equal(read_clients(path), expected)
    with pytest.raises(DatasetError, match=r"german\.data: must hold at most 999 rows"):
        read_clients(path, max_rows=999)


@pytest.mark.parametrize("bad", [None, 3, True, b"demo"])
def test_a_source_must_be_text_or_a_path(bad: object) -> None:
    with pytest.raises(DatasetError, match=r"^source: must be 'demo', a file path or a database"):
        read_clients(bad)  # type: ignore[arg-type]
