"""The append-only audit store: round trips, the hash chain against tampering, concurrency.

The oracle for every hash is recomputed here with hashlib from the rows read with the sqlite3
module directly (not through the store); tampering is done the way an intruder would, with
sqlite3 on the file.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.audit import (
    GENESIS_HASH,
    AuditSettings,
    AuditStore,
    audit_store,
    default_audit_path,
)
from advisor.errors import AdvisorError
from tests.advisor._audit_worker import append_many


def oracle_hash(prev_hash: str, record_id: int, timestamp: str, payload: Any) -> str:
    """The documented record hash, written out again (docs/audit.md)."""
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(f"{prev_hash}\n{record_id}\n{timestamp}\n{text}".encode()).hexdigest()


def raw_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, timestamp, payload, prev_hash, hash FROM records ORDER BY id"
        ).fetchall()


def tamper(path: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Run ``statements`` on the file with sqlite3 directly, the triggers dropped first."""
    conn = sqlite3.connect(path)
    try:
        for name in ("records_no_update", "records_no_delete"):
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
        conn.commit()
    finally:
        conn.close()


def filled(path: Path, n: int = 5, **options: Any) -> AuditStore:
    store = AuditStore(path, **options)
    for i in range(n):
        store.append({"client_id": f"c{i % 2}", "i": i})
    return store


# --- round trips and the chain -------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
payloads = st.dictionaries(st.text(max_size=10), json_values, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(payloads, min_size=1, max_size=4))
def test_any_payload_round_trips_and_the_chain_verifies(batch: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = AuditStore(Path(folder) / "a.sqlite")
        written = [store.append(payload) for payload in batch]
        canon = [json.dumps(p, sort_keys=True, allow_nan=False) for p in batch]
        assert [r.id for r in written] == list(range(1, len(batch) + 1))
        assert [json.dumps(r.payload, sort_keys=True) for r in written] == canon
        read = store.records()
        assert [json.dumps(r.payload, sort_keys=True) for r in read] == canon
        assert [json.dumps(store.get(r.id).payload, sort_keys=True) for r in read] == canon
        prev = GENESIS_HASH
        for row, payload in zip(raw_rows(store.path), batch, strict=True):
            record_id, timestamp, _, prev_hash, stored = row
            assert prev_hash == prev
            assert stored == oracle_hash(prev, record_id, timestamp, payload)
            prev = stored
        report = store.verify()
        assert (report.ok, report.n_records, report.problems) == (True, len(batch), ())
        assert (report.last_id, report.last_hash) == (len(batch), prev)


def test_a_record_holds_a_utc_timestamp_and_its_dict_nests_the_payload(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "a.sqlite")
    record = store.append({"id": "not the record id", "levers": [1, 2]})
    moment = datetime.fromisoformat(record.timestamp)
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - moment) < timedelta(days=1)
    assert record.to_dict() == {
        "id": 1,
        "timestamp": record.timestamp,
        "prev_hash": GENESIS_HASH,
        "hash": record.hash,
        "payload": {"id": "not the record id", "levers": [1, 2]},
    }
    assert store.get(1) == record
    assert store.count() == 1


def test_the_file_is_sqlite_in_wal_mode_with_the_format_in_meta(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "a.sqlite")
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert (meta["format"], meta["version"], meta["hash_client_ids"]) == ("levers-audit", "1", "0")
    assert len(bytes.fromhex(meta["salt"])) == 32


# --- append-only and tampering -------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE records SET payload = '{}' WHERE id = 2",
        "DELETE FROM records WHERE id = 5",
        "UPDATE meta SET value = '0' WHERE key = 'version'",
        "DELETE FROM meta",
    ],
)
def test_the_triggers_abort_updates_and_deletes(tmp_path: Path, statement: str) -> None:
    store = filled(tmp_path / "a.sqlite")
    before = raw_rows(store.path)
    with (
        sqlite3.connect(store.path) as conn,
        pytest.raises(
            sqlite3.IntegrityError, match=r"^the audit store is append-only: no (UPDATE|DELETE)$"
        ),
    ):
        conn.execute(statement)
    assert raw_rows(store.path) == before
    assert store.verify().ok


def test_dropped_triggers_are_reported(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite")
    tamper(store.path)
    report = store.verify()
    assert not report.ok
    assert report.problems == tuple(
        f"the append-only guard {name} is missing (someone removed it; records may have been "
        "rewritten)"
        for name in ("records_no_update", "records_no_delete")
    )


def test_an_edited_payload_is_named(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite")
    tamper(store.path, "UPDATE records SET payload = ? WHERE id = 3", params=('{"i":99}',))
    problems = store.verify().problems
    assert problems[2:] == (
        "record 3: its hash does not match its content (edited after it was written)",
    )


def test_an_edited_record_with_its_hash_recomputed_breaks_the_next_link(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite")
    _, timestamp, _, prev_hash, _ = raw_rows(store.path)[2]
    forged = oracle_hash(prev_hash, 3, timestamp, {"i": 99})
    tamper(
        store.path,
        "UPDATE records SET payload = ?, hash = ? WHERE id = 3",
        params=('{"i":99}', forged),
    )
    assert store.verify().problems[2:] == (
        "record 4: its prev_hash does not match the hash of record 3 (a record before it was "
        "removed, replaced or forged)",
    )


def test_a_deleted_record_is_a_gap_and_a_broken_link(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite")
    tamper(store.path, "DELETE FROM records WHERE id = 3")
    report = store.verify()
    assert report.n_records == 4
    assert report.problems[2:] == (
        "record 3: missing (a gap between record 2 and record 4)",
        "record 4: its prev_hash does not match the hash of record 2 (a record before it was "
        "removed, replaced or forged)",
    )


def test_deleted_first_records_are_named(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite")
    tamper(store.path, "DELETE FROM records WHERE id <= 2")
    assert store.verify().problems[2:] == (
        "records 1 to 2: missing (a gap before record 3)",
        "record 3: its prev_hash does not match the hash of the start of the chain (a record "
        "before it was removed, replaced or forged)",
    )


@pytest.mark.parametrize(
    ("record_id", "prev", "expected"),
    [
        (6, "last", "record 6: its hash does not match its content (edited after it was written)"),
        (
            9,
            "last",
            "records 6 to 8: missing (a gap before record 9)|record 9: its hash does not match "
            "its content (edited after it was written)",
        ),
        (0, "genesis", "record 0: an id below 1 (forged)"),
    ],
)
def test_a_forged_row_is_named(tmp_path: Path, record_id: int, prev: str, expected: str) -> None:
    """A row inserted with sqlite3 (no trigger stops an INSERT) and a made-up hash."""
    store = filled(tmp_path / "a.sqlite")
    prev_hash = raw_rows(store.path)[-1][4] if prev == "last" else GENESIS_HASH
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
            (record_id, datetime.now(UTC).isoformat(), '{"i":7}', prev_hash, "f" * 64),
        )
    report = store.verify()
    assert report.problems == tuple(expected.split("|"))
    assert report.n_records == 6


def test_a_forged_row_whose_payload_is_not_a_json_object_is_named(tmp_path: Path) -> None:
    """Rows with a correct hash (the intruder knows the formula) but no JSON object inside."""
    store = filled(tmp_path / "a.sqlite", n=1)
    prev = raw_rows(store.path)[-1][4]
    stamp = "2026-01-01T00:00:00.000000+00:00"
    with sqlite3.connect(store.path) as conn:
        for record_id, text in ((2, "not json"), (3, "[1]")):
            digest = hashlib.sha256(f"{prev}\n{record_id}\n{stamp}\n{text}".encode()).hexdigest()
            conn.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?)", (record_id, stamp, text, prev, digest)
            )
            prev = digest
    assert store.verify().problems == (
        "record 2: its payload is not JSON (forged)",
        "record 3: its payload is not a JSON object (forged)",
    )


def test_a_rebuilt_chain_verifies_but_not_against_a_kept_hash(tmp_path: Path) -> None:
    """The documented limit: whoever can rewrite the whole file can rebuild the chain; the
    last hash kept elsewhere (an anchor) no longer matches."""
    store = filled(tmp_path / "a.sqlite")
    anchor = store.verify().last_hash
    rows = raw_rows(store.path)
    tamper(store.path, "DELETE FROM records")
    prev = GENESIS_HASH
    with sqlite3.connect(store.path) as conn:
        for record_id, timestamp, payload, _, _ in rows:
            edited = {**json.loads(payload), "i": -1}
            digest = oracle_hash(prev, record_id, timestamp, edited)
            conn.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                (
                    record_id,
                    timestamp,
                    json.dumps(edited, sort_keys=True, separators=(",", ":")),
                    prev,
                    digest,
                ),
            )
            prev = digest
    report = store.verify()
    assert report.problems[2:] == ()
    assert report.last_hash != anchor
    assert store.verify(anchor=anchor).problems[2:] == (
        f"anchor {anchor}: no record has this hash any more (records up to the anchored one "
        "were rewritten or removed, or the chain was rebuilt)",
    )


def test_an_anchor_finds_removed_last_records(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite")
    middle = store.get(3).hash
    anchor = store.verify().last_hash
    assert store.verify(anchor=anchor).ok
    assert store.verify(anchor=GENESIS_HASH).ok  # an empty store's "last hash"
    store.append({"later": True})
    assert store.verify(anchor=anchor).ok  # records appended after the anchor are fine
    tamper(store.path, "DELETE FROM records WHERE id >= 5")
    report = store.verify(anchor=anchor)
    assert report.problems[2:] == (
        f"anchor {anchor}: no record has this hash any more (records up to the anchored one "
        "were rewritten or removed, or the chain was rebuilt)",
    )
    assert store.verify(anchor=middle).problems[2:] == ()
    with pytest.raises(
        AdvisorError,
        match=r"^anchor: must be a record hash \(64 hex digits, as levers audit verify prints\)\. "
        r"Got 'ABC'\.$",
    ):
        store.verify(anchor="ABC")


# --- client ids ----------------------------------------------------------------------------


def test_hashed_client_ids_use_the_stores_salt(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "h.sqlite", hash_client_ids=True)
    with sqlite3.connect(store.path) as conn:
        salt = bytes.fromhex(dict(conn.execute("SELECT key, value FROM meta"))["salt"])
    key = store.client_key("client 42 é")
    assert key == "sha256:" + hashlib.sha256(salt + "client 42 é".encode()).hexdigest()
    other = AuditStore(tmp_path / "other.sqlite", hash_client_ids=True)
    assert other.client_key("client 42 é") != key  # each store has its own salt
    assert AuditStore(store.path).hash_client_ids  # None follows the store
    assert AuditStore(store.path, hash_client_ids=True).client_key("client 42 é") == key


def test_records_filter_by_client_real_or_hashed_key(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "h.sqlite", hash_client_ids=True)
    for i in range(6):
        store.append({"client_id": store.client_key(f"c{i % 3}"), "i": i})
    store.append({"no client": True})
    assert [r.payload["i"] for r in store.records(client="c1")] == [1, 4]
    assert [r.payload["i"] for r in store.records(client=store.client_key("c2"))] == [2, 5]
    assert store.records(client="c9") == []
    plain = filled(tmp_path / "p.sqlite", n=4)
    assert plain.client_key("c1") == "c1"
    assert [r.id for r in plain.records(client="c1")] == [2, 4]


@pytest.mark.parametrize(("created", "opened"), [(True, False), (False, True)])
def test_the_other_id_setting_is_refused_naming_the_variable(
    tmp_path: Path, created: bool, opened: bool
) -> None:
    path = tmp_path / "h.sqlite"
    AuditStore(path, hash_client_ids=created)
    held = "hashed" if created else "as given"
    with pytest.raises(
        AdvisorError,
        match=rf"^audit store {path}: was created with client ids {held}; it must be opened "
        rf"with LEVERS_AUDIT_HASH_IDS={int(created)}\. Got LEVERS_AUDIT_HASH_IDS={int(opened)}\. "
        r"Hint: set it back, or point LEVERS_AUDIT to another file\.$",
    ):
        AuditStore(path, hash_client_ids=opened)


# --- filters -------------------------------------------------------------------------------


def test_since_and_limit(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite", n=6)
    stamps = [datetime.fromisoformat(r.timestamp) for r in store.records()]
    assert [r.id for r in store.records(since=stamps[3])] == [4, 5, 6]
    naive = stamps[3].astimezone(UTC).replace(tzinfo=None)
    assert [r.id for r in store.records(since=naive)] == [4, 5, 6]
    paris = stamps[3].astimezone(datetime.now().astimezone().tzinfo)
    assert [r.id for r in store.records(since=paris)] == [4, 5, 6]
    today = stamps[0].date()
    assert len(store.records(since=today)) == 6
    assert store.records(since=today + timedelta(days=1)) == []
    assert [r.id for r in store.records(limit=2)] == [5, 6]
    assert [r.id for r in store.records(client="c0", limit=2)] == [3, 5]


# --- concurrency ---------------------------------------------------------------------------


def check_full_chain(store: AuditStore, n_workers: int, n_each: int) -> None:
    report = store.verify()
    assert (report.ok, report.n_records) == (True, n_workers * n_each), report.problems
    records = store.records()
    assert [r.id for r in records] == list(range(1, n_workers * n_each + 1))
    written = sorted((r.payload["client_id"], r.payload["i"]) for r in records)
    assert written == sorted((f"w{w}", i) for w in range(n_workers) for i in range(n_each))


def test_four_processes_append_one_unbroken_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    store = AuditStore(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=append_many, args=(str(path), w, 25)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    check_full_chain(store, 4, 25)


def test_threads_share_one_store_object(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "a.sqlite")
    failures: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            for i in range(25):
                store.append({"client_id": f"w{worker}", "i": i})
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    check_full_chain(store, 8, 25)


def test_stores_created_at_once_agree_on_one_salt(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    keys: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: keys.append(AuditStore(path, hash_client_ids=True).client_key("x"))
        )
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 6
    assert len(set(keys)) == 1


# --- refused input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"a": float("nan")},
            r"payload\.a: must be a finite number \(JSON has no NaN or infinity\)\. Got nan\. "
            r"Hint: write None for a missing value\.",
        ),
        (
            {"levers": [{"score": float("-inf")}]},
            r"payload\.levers\[0\]\.score: must be a finite number \(JSON has no NaN or "
            r"infinity\)\. Got -inf\. Hint: write None for a missing value\.",
        ),
        (
            {"n": np.int64(3)},
            r"payload\.n: must be plain JSON data \(None, bool, int, float, str, list, dict with "
            r"str keys\)\. Got a numpy\.int64\.",
        ),
        ({"d": {1: "x"}}, r"payload\.d: keys must be str\. Got 1\."),
        (
            {"t": "\ud800"},
            r"payload\.t: must be text UTF-8 can encode\. Got a lone surrogate at position 0\.",
        ),
        ([1, 2], r"payload: must be a mapping \(a dict of plain JSON data\)\. Got a list\."),
        (
            {"big": "x" * 10_000_001},
            r"payload: must take at most 10,000,000 bytes as JSON\. Got 10,000,011\.",
        ),
    ],
)
def test_bad_payloads_are_refused_naming_the_key(
    tmp_path: Path, payload: Any, message: str
) -> None:
    store = AuditStore(tmp_path / "a.sqlite")
    with pytest.raises(AdvisorError, match=f"^{message}$"):
        store.append(payload)
    assert store.count() == 0


def test_too_deep_a_payload_is_refused(tmp_path: Path) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(70):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(
        AdvisorError,
        match=r"^payload\.a(\.a){63}: must nest at most 64 levels deep\. Got deeper\.$",
    ):
        AuditStore(tmp_path / "a.sqlite").append(deep)


def test_unknown_ids_and_bad_arguments(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    store = AuditStore(path)
    with pytest.raises(
        AdvisorError,
        match=rf"^record 1: must be a record of audit store {path}\. Got no such record "
        r"\(it holds no record\)\.$",
    ):
        store.get(1)
    filled(path, n=3)
    with pytest.raises(
        AdvisorError, match=r"^record 7: .* Got no such record \(it holds records 1 to 3\)\.$"
    ):
        store.get(7)
    with pytest.raises(AdvisorError, match=r"^record id: must be a whole number\. Got True\.$"):
        store.get(True)
    with pytest.raises(AdvisorError, match=r"^limit: must be a whole number >= 1\. Got 0\.$"):
        store.records(limit=0)
    with pytest.raises(AdvisorError, match=r"^since: must be a date or a datetime\. Got a str\.$"):
        store.records(since="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(AdvisorError, match=r"^client_id: must be a non-empty str\. Got ''\.$"):
        store.client_key("")
    with pytest.raises(AdvisorError, match=r"^client_id: must be a non-empty str\. Got 42\.$"):
        store.client_key(42)  # type: ignore[arg-type]


def test_unusable_paths_are_one_line_each(tmp_path: Path) -> None:
    cases: list[tuple[Path, str]] = []
    folder = tmp_path / "folder"
    folder.mkdir()
    cases.append((folder, "must be a file. Got a folder."))
    nowhere = tmp_path / "missing" / "a.sqlite"
    cases.append(
        (
            nowhere,
            f"must be in an existing folder. Got no folder {nowhere.parent}. "
            "Hint: create the folder first.",
        )
    )
    text = tmp_path / "notes.txt"
    text.write_text("SQLite? no", encoding="utf-8")
    cases.append((text, "must be a Levers audit store. Got a file that is not SQLite."))
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE clients (id INTEGER)")
    cases.append(
        (other, "must be a Levers audit store. Got an SQLite database without its meta table.")
    )
    kind = tmp_path / "kind.db"
    with sqlite3.connect(kind) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    cases.append(
        (
            kind,
            "must be a Levers audit store. Got an SQLite database of another kind "
            "(no format 'levers-audit').",
        )
    )
    for path, message in cases:
        with pytest.raises(AdvisorError) as caught:
            AuditStore(path)
        assert str(caught.value) == f"audit store {path}: {message}"
    assert not nowhere.parent.exists()
    assert text.read_text(encoding="utf-8") == "SQLite? no"
    with pytest.raises(
        AdvisorError,
        match=r"^audit store .*: must exist\. Got no such file\. Hint: check --audit or "
        r"LEVERS_AUDIT \(records are written by levers advise and the app\)\.$",
    ):
        AuditStore(tmp_path / "new.sqlite", create=False)
    assert not (tmp_path / "new.sqlite").exists()


def test_another_version_is_refused(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite", n=1)
    with sqlite3.connect(store.path) as conn:
        conn.execute("DROP TRIGGER meta_no_update")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'version'")
    with pytest.raises(
        AdvisorError,
        match=rf"^audit store {store.path}: must be an audit store of version 1\. Got version 2\. "
        r"Hint: read it with the Levers version that wrote it\.$",
    ):
        AuditStore(store.path)


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    path.touch()
    assert AuditStore(path).append({"x": 1}).id == 1


def open_message(path: Path) -> str:
    """The error opening ``path`` gives; as user nobody when this runs as root (root may write
    any file), in a forked child that drops its privileges."""
    if os.geteuid() != 0:
        with pytest.raises(AdvisorError) as caught:
            AuditStore(path)
        return str(caught.value)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                AuditStore(path)
                message = "opened"
            except AdvisorError as exc:
                message = str(exc)
            os.write(write, message.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX file permissions")
def test_a_read_only_file_is_one_line() -> None:
    shared = Path(tempfile.mkdtemp(prefix="levers-audit-"))
    try:
        shared.chmod(0o755)
        path = shared / "a.sqlite"
        filled(path, n=1)
        path.chmod(0o444)
        assert open_message(path) == (
            f"audit store {path}: must be a file you can write to, in a folder you can write "
            "to (SQLite keeps its journal beside it). Got a read-only one."
        )
        path.chmod(0o666)
        shared.chmod(0o555)
        assert open_message(path).endswith("Got a read-only one.")
        shared.chmod(0o755)
        path.unlink()
        shared.chmod(0o555)
        assert open_message(path) == (
            f"audit store {path}: must be in a folder you can write to. Got a read-only one."
        )
    finally:
        shared.chmod(0o755)
        for child in shared.iterdir():
            child.unlink()
        shared.rmdir()


# --- settings ------------------------------------------------------------------------------


def test_settings_from_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "data"
    default = {"XDG_DATA_HOME": str(data), "HOME": str(tmp_path / "home")}
    if sys.platform.startswith("linux"):
        assert default_audit_path(default) == data / "levers" / "audit.sqlite"
        assert default_audit_path({"HOME": "/h", "XDG_DATA_HOME": "relative"}) == Path(
            "/h/.local/share/levers/audit.sqlite"
        )
    settings_ = AuditSettings.from_env(default)
    assert settings_ == AuditSettings(
        path=default_audit_path(default), hash_client_ids=False, create_folder=True
    )
    store = settings_.open()
    assert store is not None
    assert store.path.is_file()  # the default folders were created
    for off in ("off", "OFF", " no ", "0", "false"):
        assert AuditSettings.from_env({"LEVERS_AUDIT": off}).path is None
        assert audit_store({"LEVERS_AUDIT": off}) is None
    given_ = AuditSettings.from_env(
        {"LEVERS_AUDIT": str(tmp_path / "x.sqlite"), "LEVERS_AUDIT_HASH_IDS": "Yes"}
    )
    assert given_ == AuditSettings(path=tmp_path / "x.sqlite", hash_client_ids=True)
    deep = {"LEVERS_AUDIT": str(tmp_path / "no" / "such" / "x.sqlite")}
    with pytest.raises(AdvisorError, match=r"^audit store .*: must be in an existing folder\."):
        audit_store(deep)
    with pytest.raises(
        AdvisorError,
        match=r"^LEVERS_AUDIT_HASH_IDS: must be 1, true, yes or on \(hash client ids\), or 0, "
        r"false, no or off\. Got 'maybe'\.$",
    ):
        AuditSettings.from_env({"LEVERS_AUDIT_HASH_IDS": "maybe"})


def test_tests_never_write_the_users_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings_ = AuditSettings.from_env()
    assert settings_.path is not None
    assert settings_.path != default_audit_path()
    assert settings_.path.is_relative_to(tmp_path_factory.getbasetemp())


def test_since_accepts_a_plain_date(tmp_path: Path) -> None:
    store = filled(tmp_path / "a.sqlite", n=2)
    assert len(store.records(since=date(2000, 1, 1))) == 2


def test_the_documented_check_without_levers_runs_and_catches_an_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/audit.md's stand-alone check (hashlib and sqlite3 only) passes on a store and
    fails on an edited record."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    snippet = doc.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    filled(tmp_path / "audit.sqlite")
    exec(snippet, {})
    tamper(tmp_path / "audit.sqlite", "UPDATE records SET timestamp = 'x' WHERE id = 4")
    with pytest.raises(AssertionError, match=r"^4$"):
        exec(snippet, {})


def test_special_and_impossible_paths_are_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(AdvisorError) as caught:
        AuditStore(fifo)  # never opened: reading a pipe would wait forever
    assert str(caught.value) == f"audit store {fifo}: must be a file. Got a device, pipe or socket."
    with pytest.raises(AdvisorError) as caught:
        AuditStore(tmp_path / "a\x00b.sqlite")
    assert str(caught.value) == (
        f"audit store {tmp_path}/a\\x00b.sqlite: must be a usable file path. Got embedded null "
        "byte."
    )
    long = tmp_path / ("x" * 300)
    with pytest.raises(AdvisorError) as caught:
        AuditStore(long)
    assert (
        str(caught.value)
        == f"audit store {long}: must be a usable file path. Got File name too long."
    )


def test_a_store_locked_too_long_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor.audit._store as store_module

    store = filled(tmp_path / "a.sqlite", n=1)
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        with pytest.raises(AdvisorError) as caught:
            store.append({"late": True})
        assert str(caught.value) == (
            f"audit store {store.path}: must be free to write within 0 s. Got it still locked "
            "by another process. Hint: try again."
        )
        assert [r.id for r in store.records()] == [1]  # readers are not blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.append({"late": True}).id == 2
