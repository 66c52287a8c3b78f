"""The append-only audit store: one SQLite file of hash-chained records.

One table of records (``id``, ``timestamp``, ``payload`` as canonical JSON, ``prev_hash``,
``hash``) and a ``meta`` table (format, version, the client-id salt and whether ids are
hashed). SQLite triggers abort every UPDATE or DELETE of either table, so our own code cannot
rewrite a record either; the hash chain (:mod:`advisor.audit._chain`) makes a rewrite done
around the triggers detectable by :meth:`AuditStore.verify`.

Every call opens its own connection (WAL journal, a 30 s busy timeout) and closes it: a store
object may be shared by threads, and appends from many threads and processes are serialised
by ``BEGIN IMMEDIATE`` (read the last hash, insert, commit).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from advisor._console import inert
from advisor.audit._chain import (
    GENESIS_HASH,
    ChainReport,
    ChainWalk,
    canonical_json,
    record_hash,
)
from advisor.errors import AdvisorError

__all__ = ["AUDIT_FORMAT", "AUDIT_VERSION", "BUSY_TIMEOUT_S", "AuditRecord", "AuditStore"]

#: ``meta.format`` of every audit store, and the version of its layout this code reads.
AUDIT_FORMAT = "levers-audit"
AUDIT_VERSION = 1
#: How long an append waits for another writer before giving up.
BUSY_TIMEOUT_S = 30.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GUARDS = ("records_no_update", "records_no_delete", "meta_no_update", "meta_no_delete")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, "
    "payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_by_time ON records (timestamp)",
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the audit store is append-only: no {verb.upper()}'); END"
        for table in ("records", "meta")
        for verb in ("update", "delete")
    ),
)
_ROW = "SELECT id, timestamp, payload, prev_hash, hash FROM records"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One record of the audit store, as written.

    Attributes
    ----------
    id
        1, 2, 3 ... in append order.
    timestamp
        When it was appended: UTC ISO-8601 with microseconds, set by the store.
    payload
        The plain JSON data appended (its keys are the record builder's; see docs/audit.md).
    prev_hash, hash
        The previous record's hash (``"0" * 64`` for record 1) and this record's: the hex
        SHA-256 of ``prev_hash``, ``id``, ``timestamp`` and the canonical JSON of ``payload``.
    """

    id: int
    timestamp: str
    payload: Mapping[str, Any] = field(repr=False)
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"id", "timestamp", "prev_hash", "hash", "payload"}`` (JSON-ready)."""
        return {
            "id": self.id,
            "timestamp": self.timestamp,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "payload": dict(self.payload),
        }


def _record(row: tuple[Any, ...]) -> AuditRecord:
    record_id, timestamp, payload, prev_hash, hash_ = row
    try:
        data = json.loads(payload)
    except (ValueError, TypeError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise AdvisorError(
            f"record {inert(record_id)}: must hold a JSON object. Got something else (the store "
            "was tampered with). Hint: run levers audit verify."
        )
    return AuditRecord(
        id=record_id, timestamp=timestamp, payload=data, prev_hash=prev_hash, hash=hash_
    )


def _since_text(since: date | datetime) -> str:
    """``since`` as a stored timestamp: a date is its midnight UTC, a naive datetime is UTC."""
    if isinstance(since, datetime):
        moment = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    elif isinstance(since, date):
        moment = datetime.combine(since, time(0), tzinfo=UTC)
    else:
        raise AdvisorError(
            f"since: must be a date or a datetime. Got a {type(since).__qualname__}."
        )
    return moment.isoformat(timespec="microseconds")


class AuditStore:
    """An append-only SQLite file of hash-chained audit records.

    Parameters
    ----------
    path
        The store's file: created with its schema if missing (its folder must exist). An
        existing file must be an audit store of this version.
    hash_client_ids
        Whether records hold a salted hash of each client id instead of the id itself
        (:meth:`client_key`). It is fixed when the store is created; opening a store with the
        other setting is an error naming ``LEVERS_AUDIT_HASH_IDS``. ``None`` follows the store
        (off for a new one): what the commands that only read a store use.
    create
        Whether a missing file is created (``False``: a missing file is an error).

    Raises
    ------
    AdvisorError
        One line naming the file: a folder, a missing or read-only folder, a read-only file,
        a file that is not an audit store, another format version, the other id setting.
    """

    def __init__(
        self, path: str | Path, *, hash_client_ids: bool | None = None, create: bool = True
    ) -> None:
        if not isinstance(path, (str, Path)) or not str(path):
            raise AdvisorError(f"audit store: must be a file path. Got {inert(repr(path))}.")
        if hash_client_ids is not None and not isinstance(hash_client_ids, bool):
            raise AdvisorError(
                f"hash_client_ids: must be True, False or None. Got {inert(repr(hash_client_ids))}."
            )
        self.path = Path(path)
        self._where = f"audit store {inert(self.path)}"
        _check_location(self.path, self._where, create=create)
        meta = self._open_meta(hash_client_ids)
        self.hash_client_ids: bool = meta["hash_client_ids"] == "1"
        if hash_client_ids is not None and hash_client_ids != self.hash_client_ids:
            held = "hashed" if self.hash_client_ids else "as given"
            raise AdvisorError(
                f"{self._where}: was created with client ids {held}; it must be opened with "
                f"LEVERS_AUDIT_HASH_IDS={'1' if self.hash_client_ids else '0'}. Got "
                f"LEVERS_AUDIT_HASH_IDS={'1' if hash_client_ids else '0'}. Hint: set it back, "
                "or point LEVERS_AUDIT to another file."
            )
        self._salt = bytes.fromhex(meta["salt"])

    def __repr__(self) -> str:
        return f"AuditStore({str(self.path)!r}, hash_client_ids={self.hash_client_ids})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection for one call (autocommit; transactions are explicit)."""
        try:
            with closing(
                sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            ) as conn:
                yield conn
        except sqlite3.Error as exc:
            raise _store_error(self._where, exc) from exc

    def _open_meta(self, hash_client_ids: bool | None) -> dict[str, str]:
        with self._connect() as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not tables:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA:
                    conn.execute(statement)
                created = {
                    "format": AUDIT_FORMAT,
                    "version": str(AUDIT_VERSION),
                    "hash_client_ids": "1" if hash_client_ids else "0",
                    "salt": secrets.token_bytes(32).hex(),
                    "created": _now(),
                }
                conn.executemany(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", created.items()
                )
                conn.execute("COMMIT")
            meta = self._read_meta(conn, tables)
        return meta

    def _read_meta(self, conn: sqlite3.Connection, tables: set[str]) -> dict[str, str]:
        not_ours = f"{self._where}: must be a Levers audit store. Got an SQLite database"
        if tables and "meta" not in tables:
            raise AdvisorError(f"{not_ours} without its meta table.")
        meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
        if meta.get("format") != AUDIT_FORMAT or "records" not in {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }:
            raise AdvisorError(f"{not_ours} of another kind (no format {AUDIT_FORMAT!r}).")
        if meta.get("version") != str(AUDIT_VERSION):
            raise AdvisorError(
                f"{self._where}: must be an audit store of version {AUDIT_VERSION}. Got version "
                f"{inert(meta.get('version'))}. Hint: read it with the Levers version that "
                "wrote it."
            )
        if meta.get("hash_client_ids") not in ("0", "1") or len(meta.get("salt", "")) != 64:
            raise AdvisorError(f"{self._where}: its meta table is damaged (salt or id setting).")
        return meta

    def client_key(self, client_id: str) -> str:
        """Return what records hold for ``client_id``: itself, or ``"sha256:<hex>"``.

        With ``hash_client_ids`` on, the key is the SHA-256 of the store's own random salt
        (32 bytes, made when the store was created) followed by the id's UTF-8 bytes: the same
        id gives the same key in one store, and the key does not reveal the id without the
        store's salt.
        """
        if not isinstance(client_id, str) or not client_id:
            raise AdvisorError(
                f"client_id: must be a non-empty str. Got {inert(repr(client_id)[:80])}."
            )
        if not self.hash_client_ids:
            return client_id
        try:
            data = client_id.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise AdvisorError("client_id: must be text UTF-8 can encode.") from exc
        return "sha256:" + hashlib.sha256(self._salt + data).hexdigest()

    def append(self, payload: Mapping[str, Any]) -> AuditRecord:
        """Append one record holding ``payload`` and return it.

        ``payload`` must be plain JSON data (a NaN or infinite float, a numpy number or a
        non-str key is refused, naming its key path); it is stored as canonical JSON and
        read back equal (tuples become lists). Safe from any number of threads and processes:
        the last hash is read and the record inserted in one ``BEGIN IMMEDIATE`` transaction.
        """
        text = canonical_json(payload)
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                last = conn.execute("SELECT id, hash FROM records ORDER BY id DESC LIMIT 1")
                last_id, prev_hash = last.fetchone() or (0, GENESIS_HASH)
                record_id, timestamp = int(last_id) + 1, _now()
                digest = record_hash(str(prev_hash), record_id, timestamp, text)
                conn.execute(
                    "INSERT INTO records (id, timestamp, payload, prev_hash, hash) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (record_id, timestamp, text, prev_hash, digest),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return AuditRecord(
            id=record_id,
            timestamp=timestamp,
            payload=json.loads(text),
            prev_hash=str(prev_hash),
            hash=digest,
        )

    def get(self, record_id: int) -> AuditRecord:
        """Return record ``record_id``; an unknown id is an error naming the ids held."""
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise AdvisorError(
                f"record id: must be a whole number. Got {inert(repr(record_id)[:80])}."
            )
        if not 0 < record_id < 2**63:  # SQLite's integers: no record has another id
            raise AdvisorError(
                f"record id: must be a whole number from 1 to 2**63 - 1. Got "
                f"{str(record_id)[:80]}. Hint: levers audit show lists the records."
            )
        with self._connect() as conn:
            row = conn.execute(f"{_ROW} WHERE id = ?", (record_id,)).fetchone()
            low, high = conn.execute("SELECT min(id), max(id) FROM records").fetchone()
        if row is not None:
            return _record(row)
        held = "it holds no record" if low is None else f"it holds records {low} to {high}"
        raise AdvisorError(
            f"record {record_id}: must be a record of {self._where}. Got no such record ({held})."
        )

    def records(
        self,
        *,
        client: str | None = None,
        since: date | datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """Return the records in id order, optionally filtered.

        Parameters
        ----------
        client
            A client's id as given: the records whose ``payload["client_id"]`` is its
            :meth:`client_key` (or is ``client`` itself, so a hashed key shown by ``levers
            audit show`` finds its records too).
        since
            Records appended at or after this moment: a date is its midnight UTC, a naive
            datetime is read as UTC.
        limit
            At most this many records: the latest ones (still in id order).
        """
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise AdvisorError(f"limit: must be a whole number >= 1. Got {inert(repr(limit))}.")
        where, args = self._filter(client, since)
        sql = f"{_ROW}{where} ORDER BY id DESC" + ("" if limit is None else f" LIMIT {limit}")
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [_record(row) for row in reversed(rows)]

    def count(self, *, client: str | None = None, since: date | datetime | None = None) -> int:
        """Return the number of records held (those :meth:`records` would list)."""
        where, args = self._filter(client, since)
        with self._connect() as conn:
            return int(conn.execute(f"SELECT count(*) FROM records{where}", args).fetchone()[0])

    def _filter(self, client: str | None, since: date | datetime | None) -> tuple[str, list[str]]:
        """Return the SQL ``WHERE`` clause (or "") and its arguments for the filters."""
        where, args = [], []
        if client is not None:
            keys = sorted({self.client_key(client), client})
            where.append(f"json_extract(payload, '$.client_id') IN ({', '.join('?' * len(keys))})")
            args.extend(keys)
        if since is not None:
            where.append("timestamp >= ?")
            args.append(_since_text(since))
        return (f" WHERE {' AND '.join(where)}" if where else ""), args

    def verify(self, *, anchor: str | None = None) -> ChainReport:
        """Walk the whole chain and report every problem, each naming the record id.

        Found: a record whose hash does not match its content, a broken link (a
        ``prev_hash`` that is not the previous record's hash), a gap in the ids, a payload that
        is not a JSON object, and a removed append-only trigger. Not found by the chain alone:
        a whole chain rebuilt by someone who can rewrite the file, or its last records
        removed. ``anchor``, a record hash kept elsewhere (:attr:`ChainReport.last_hash` of an
        earlier check), catches both: it must still be the hash of a record.
        """
        if anchor is not None and (
            not isinstance(anchor, str) or len(anchor) != 64 or anchor.strip("0123456789abcdef")
        ):
            raise AdvisorError(
                f"anchor: must be a record hash (64 hex digits, as levers audit verify prints). "
                f"Got {inert(repr(anchor)[:80])}."
            )
        walk = ChainWalk()
        with self._connect() as conn:
            present = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            }
            for row in conn.execute(f"{_ROW} ORDER BY id"):
                walk.add(row)
            anchored = (
                anchor in (None, GENESIS_HASH)
                or conn.execute("SELECT 1 FROM records WHERE hash = ?", (anchor,)).fetchone()
                is not None
            )
        problems = (
            ()
            if anchored
            else (
                f"anchor {anchor}: no record has this hash any more (records up to the anchored "
                "one were rewritten or removed, or the chain was rebuilt)",
            )
        )
        return walk.report((name for name in _GUARDS if name not in present), problems)


def _check_location(path: Path, where: str, *, create: bool) -> None:
    """Refuse, in one line, a path the store cannot use (before SQLite sees it)."""
    try:
        _check_file(path, where, create=create)
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a loop of links
        if isinstance(exc, AdvisorError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AdvisorError(f"{where}: must be a usable file path. Got {inert(reason)}.") from exc


def _check_file(path: Path, where: str, *, create: bool) -> None:
    if "\x00" in str(path):
        raise ValueError("embedded null byte")
    if path.is_dir():
        raise AdvisorError(f"{where}: must be a file. Got a folder.")
    if path.exists() and not path.is_file():
        raise AdvisorError(f"{where}: must be a file. Got a device, pipe or socket.")
    folder = path.parent
    if not folder.is_dir():
        raise AdvisorError(
            f"{where}: must be in an existing folder. Got no folder {inert(folder)}. "
            "Hint: create the folder first."
        )
    if not path.exists():
        if not create:
            raise AdvisorError(
                f"{where}: must exist. Got no such file. Hint: check --audit or LEVERS_AUDIT "
                "(records are written by levers advise and the app)."
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise AdvisorError(
                f"{where}: must be in a folder you can write to. Got a read-only one."
            )
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise AdvisorError(f"{where}: must be a file you can read. Got {exc.strerror}.") from exc
    if head and head != _SQLITE_MAGIC:
        raise AdvisorError(f"{where}: must be a Levers audit store. Got a file that is not SQLite.")
    if not head and not create:  # reading never turns a file into a store
        raise AdvisorError(
            f"{where}: must be a Levers audit store. Got an empty file. Hint: check --audit or "
            "LEVERS_AUDIT (records are written by levers advise and the app)."
        )
    if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK | os.X_OK):
        raise AdvisorError(
            f"{where}: must be a file you can write to, in a folder you can write to (SQLite "
            "keeps its journal beside it). Got a read-only one."
        )


def _store_error(where: str, exc: sqlite3.Error) -> AdvisorError:
    """One line for an SQLite failure: busy, not a database, read-only, full, other."""
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in message:
        return AdvisorError(
            f"{where}: must be free to write within {BUSY_TIMEOUT_S:.0f} s. Got it still "
            "locked by another process. Hint: try again."
        )
    if "not a database" in message:
        return AdvisorError(
            f"{where}: must be a Levers audit store. Got a file that is not SQLite."
        )
    if "append-only" in message:
        return AdvisorError(f"{where}: records are never rewritten. Got an attempt: {message}.")
    return AdvisorError(f"{where}: SQLite failed: {inert(message)}.")
