"""Client tables from a SQL database through a SQLAlchemy URL: a table or a SELECT query.

``sqlite:///clients.db?table=clients``, ``duckdb:///clients.duckdb?query=SELECT ...`` (the
query URL-encoded), ``postgresql+psycopg://user@host/db?table=clients``. SQLite and DuckDB
files are opened read-only (DuckDB also without file-system access); PostgreSQL connections
run read-only transactions. Names are quoted by SQLAlchemy and checked against the tables
that exist; a query must be one SELECT statement. Passwords never appear in errors.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from advisor.datasets._csv_checks import check_names
from advisor.errors import DatasetError, DatasetFileNotFoundError

__all__ = ["is_sql_url", "read_sql_source"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_FILE_BACKENDS = ("sqlite", "duckdb")
_URL_FORMS = (
    "sqlite:///clients.db?table=clients, duckdb:///clients.duckdb?table=clients or "
    "postgresql+psycopg://user@host/db?table=clients"
)
_DRIVERS = {"duckdb": "duckdb-engine", "postgresql": "psycopg[binary]"}
_MAX_NAMES = 20
# What a read-only SELECT never needs (outside quotes and comments); REPLACE is left out: it
# is also a string function.
_WRITE_WORDS = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|UPSERT|CREATE|DROP|ALTER|TRUNCATE|ATTACH|DETACH|COPY|"
    r"PRAGMA|GRANT|REVOKE|CALL|EXEC|EXECUTE|INSTALL|LOAD|EXPORT|IMPORT|VACUUM|SET|INTO|LOCK)\b",
    re.IGNORECASE,
)
_QUOTED_OR_COMMENT = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|--[^\n]*|/\*.*?\*/", re.DOTALL
)


def is_sql_url(text: str) -> bool:
    """Return True when ``text`` starts like a URL (``scheme://``), not like a file path."""
    return bool(_SCHEME.match(text))


@dataclass(frozen=True, slots=True)
class _SqlSource:
    """A parsed source: the engine's URL, what to read, and how to name it in errors."""

    url: URL
    shown: str
    table: str | None
    query: str | None


def _mask(text: str) -> str:
    """Hide a password in a URL that SQLAlchemy could not parse."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", text)


def _parse(text: str) -> _SqlSource:
    try:
        url = make_url(text)
    except (sa_exc.ArgumentError, ValueError) as exc:
        msg = f"{_mask(text)}: must be a SQLAlchemy database URL such as {_URL_FORMS}."
        raise DatasetError(f"{msg} Got a URL that does not parse ({exc}).") from exc
    base = url.difference_update_query(["table", "query"])
    shown = base.render_as_string(hide_password=True)
    try:
        url.get_dialect()
    except sa_exc.NoSuchModuleError as exc:
        msg = f"{shown}: must use a database SQLAlchemy knows, such as {_URL_FORMS}."
        raise DatasetError(f"{msg} Got the unknown scheme {url.drivername!r}.") from exc
    except ImportError:
        pass  # a missing driver: named when the engine is created
    params: dict[str, str] = {}
    for key in ("table", "query"):
        value = url.query.get(key)
        if isinstance(value, tuple):
            raise DatasetError(f"{shown}: must give {key}= once. Got it {len(value)} times.")
        if value is not None:
            params[key] = value
    table, query = params.get("table"), params.get("query")
    if (table is None) == (query is None):
        got = "both" if params else "neither"
        msg = f"{shown}: must name a table (?table=NAME) or a query (?query=SELECT...)."
        raise DatasetError(f"{msg} Got {got}. Hint: e.g. {_URL_FORMS}.")
    what = f"table={table}" if table is not None else f"query={_short(query or '')}"
    shown = f"{shown}{'&' if base.query else '?'}{what}"
    if not (table or query or "").strip():
        raise DatasetError(f"{shown}: the table name or query must not be empty.")
    if base.get_backend_name() in _FILE_BACKENDS and base.query:
        extra = ", ".join(sorted(base.query))
        msg = f"{shown}: must have only a table= or query= parameter. Got also {extra}."
        raise DatasetError(msg)
    return _SqlSource(url=base, shown=shown, table=table, query=query)


def _short(query: str) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= 80 else f"{flat[:77]}..."


def _database_file(source: _SqlSource) -> Path:
    """Return the existing database file of a SQLite/DuckDB URL (never created by reading)."""
    name = source.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        msg = f"{source.shown}: must name a database file (sqlite:///path/to/clients.db)."
        raise DatasetError(f"{msg} Got {name or 'no file'!r}.")
    path = Path(name)
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        scheme = source.url.get_backend_name()
        msg = f"{source.shown}: the database file {path} must exist. Got no such file."
        raise DatasetFileNotFoundError(
            f"{msg} Hint: {scheme}:///rel/path is relative, {scheme}:////abs/path absolute."
        ) from exc
    except OSError as exc:
        raise DatasetError(f"{source.shown}: must be a readable file. Got {exc.strerror}.") from exc
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise DatasetError(f"{source.shown}: the database {path} must be a file. Got {what}.")
    return path


def _quiet_duckdb(connection: Any, _record: Any) -> None:
    """Keep DuckDB from drawing a progress bar on the terminal during long reads."""
    connection.execute("SET enable_progress_bar = false")


def _engine(source: _SqlSource) -> Engine:
    backend = source.url.get_backend_name()
    try:
        if backend == "sqlite":
            if source.url.drivername not in ("sqlite", "sqlite+pysqlite"):
                msg = f"{source.shown}: must use the sqlite driver (sqlite:///...)."
                raise DatasetError(f"{msg} Got {source.url.drivername!r}.")
            uri = f"{_database_file(source).resolve().as_uri()}?mode=ro"
            return sa.create_engine(
                "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=sa.NullPool
            )
        if backend == "duckdb":
            _database_file(source)
            config = {"enable_external_access": False}
            read_only = {"read_only": True, "config": config}
            engine = sa.create_engine(source.url, connect_args=read_only, poolclass=sa.NullPool)
            sa.event.listen(engine, "connect", _quiet_duckdb)
            return engine
        return sa.create_engine(source.url, poolclass=sa.NullPool)
    except ImportError as exc:
        hint = (
            f"pip install {_DRIVERS[backend]}"
            if backend in _DRIVERS
            else f"install the Python driver SQLAlchemy's {backend} dialect names"
        )
        msg = f"{source.shown}: needs the database driver of {source.url.drivername!r}."
        raise DatasetError(f"{msg} Got {exc}. Hint: {hint}.") from exc


def check_select(query: str, shown: str) -> str:
    """Return ``query`` without a final ``;`` when it is one SELECT statement, else refuse it.

    A safeguard on top of the read-only connection: the first word must be SELECT or WITH, no
    second statement may follow, and no word that writes (INSERT, UPDATE, CREATE, ATTACH,
    INTO, SET, ...) may appear outside quotes and comments.
    """
    body = query.strip().rstrip(";").rstrip()
    bare = _QUOTED_OR_COMMENT.sub(" ", body)
    first = re.match(r"[\s(]*(\w+)", bare)
    hint = "Hint: read from a table (?table=NAME) or give one SELECT ... FROM ... query."
    if first is None or first.group(1).upper() not in ("SELECT", "WITH"):
        word = first.group(1) if first else body[:20]
        raise DatasetError(f"{shown}: the query must be a SELECT statement. Got {word!r}. {hint}")
    if ";" in bare:
        msg = f"{shown}: the query must be one SELECT statement. Got several (a ';' inside)."
        raise DatasetError(f"{msg} {hint}")
    writes = _WRITE_WORDS.search(bare)
    if writes is not None:
        msg = f"{shown}: the query must only read (one SELECT statement)."
        got = f"Got the word {writes.group(1).upper()!r}"
        raise DatasetError(f"{msg} {got}. {hint} A column of that name must be quoted.")
    return body


def _table(conn: Connection, source: _SqlSource) -> sa.TableClause:
    """Return the table (or view) named in the URL, as it exists in the database."""
    wanted = source.table or ""
    inspector = sa.inspect(conn)
    schema, name = None, wanted
    existing = inspector.get_table_names() + inspector.get_view_names()
    if wanted not in existing and "." in wanted:
        schema, name = wanted.split(".", 1)
        try:
            existing = inspector.get_table_names(schema) + inspector.get_view_names(schema)
        except sa_exc.SQLAlchemyError:
            existing = []
    if name not in existing:
        same = [found for found in existing if found.lower() == name.lower()]
        if len(same) != 1:
            listed = ", ".join(sorted(existing)[:_MAX_NAMES]) or "none"
            more = f" (first {_MAX_NAMES} of {len(existing)})" if len(existing) > _MAX_NAMES else ""
            msg = f"{source.shown}: the table must exist. Got no table or view {wanted!r}"
            raise DatasetError(f"{msg}; the tables are: {listed}{more}.")
        name = same[0]
    return sa.table(name, schema=schema)


def _statement(conn: Connection, source: _SqlSource) -> tuple[Any, Any]:
    """Return the SELECT to read and the one that counts its rows."""
    if source.table is not None:
        table = _table(conn, source)
        return sa.select(sa.text("*")).select_from(table), sa.select(sa.func.count()).select_from(
            table
        )
    escaped = check_select(source.query or "", source.shown).replace(":", r"\:")
    text = sa.text(escaped)
    counted = sa.select(sa.func.count()).select_from(text.columns().subquery("levers_rows"))
    return text, counted


def _read(conn: Connection, source: _SqlSource, max_rows: int) -> pd.DataFrame:
    if source.url.get_backend_name() == "postgresql":
        conn = conn.execution_options(postgresql_readonly=True)
    select, count = _statement(conn, source)
    n_rows = int(conn.execute(count).scalar_one())
    if n_rows > max_rows:
        msg = f"{source.shown}: must hold at most {max_rows:,} rows (max_rows). Got {n_rows:,}."
        hint = "Hint: select fewer clients (a query with WHERE or LIMIT), or raise max_rows."
        raise DatasetError(f"{msg} {hint}")
    frame = pd.read_sql(select, conn)
    check_names([str(name) for name in frame.columns], source.shown, "rename them (AS ...).")
    if len(frame) == 0:
        msg = f"{source.shown}: must hold rows. Got {frame.shape[1]} columns and no rows."
        raise DatasetError(msg)
    return frame


def _database_message(exc: BaseException, password: str | None) -> str:
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    if password:
        text = text.replace(password, "***")
    return text.rstrip(".")


def read_sql_source(text: str, max_rows: int) -> pd.DataFrame:
    """Read a table or a SELECT query from the database a SQLAlchemy URL names.

    The rows are counted (``SELECT COUNT(*)``) before they are read; above ``max_rows`` the
    table is refused. NULLs become NaN/None; integer columns without NULL stay integers.
    """
    source = _parse(text)
    engine = _engine(source)
    try:
        with engine.connect() as conn:
            return _read(conn, source, max_rows)
    except sa_exc.SQLAlchemyError as exc:
        what = "the query" if source.query is not None else "the table"
        message = _database_message(exc, source.url.password)
        msg = f"{source.shown}: {what} must be readable. Got the database's error: {message}."
        raise DatasetError(msg) from exc
    finally:
        engine.dispose()
