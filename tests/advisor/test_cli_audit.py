"""``levers audit verify`` and ``levers audit show`` on real store files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.audit import AuditStore
from advisor.cli import app

runner = CliRunner()


def store_of(path: Path, payloads: list[dict[str, Any]], **options: Any) -> AuditStore:
    store = AuditStore(path, **options)
    for payload in payloads:
        store.append(payload)
    return store


def advice(i: int, client: str = "c1", **extra: Any) -> dict[str, Any]:
    return {
        "who": "alice",
        "client_id": client,
        "product": "savings",
        "status": "found",
        "levers": [{"cost": 1.0}] * (i % 3),
        "i": i,
        **extra,
    }


def test_verify_an_intact_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = store_of(tmp_path / "a.sqlite", [advice(i) for i in range(4)])
    last = store.verify().last_hash
    result = runner.invoke(app, ["audit", "verify", "--audit", str(store.path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.replace("\n", " ").strip() == (
        f"4 records, chain intact ({store.path}). Last record 4, hash {last} (keep it "
        "elsewhere to anchor the chain)."
    )
    result = runner.invoke(app, ["audit", "verify", "--anchor", last, "--audit", str(store.path)])
    assert result.exit_code == 0
    store.append(advice(5))
    result = runner.invoke(
        app, ["audit", "verify", "--anchor", "f" * 64, "--audit", str(store.path)]
    )
    assert result.exit_code == 1
    assert result.stdout.replace("\n", " ").strip() == (
        f"problem: anchor {'f' * 64}: no record has this hash any more (records up to the "
        "anchored one were rewritten or removed, or the chain was rebuilt) 5 records, chain "
        f"broken: 1 problem ({store.path})."
    )
    result = runner.invoke(app, ["audit", "verify", "--anchor", "xyz", "--audit", str(store.path)])
    assert result.exit_code == 2
    assert result.stdout.startswith("error: anchor: must be a record hash")
    monkeypatch.setenv("LEVERS_AUDIT", str(store.path))  # the environment's store
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0
    assert result.stdout.startswith("5 records, chain intact")


def test_verify_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    store = store_of(tmp_path / "a.sqlite", [advice(i) for i in range(5)])
    with sqlite3.connect(store.path) as conn:
        conn.execute("DROP TRIGGER records_no_update")
        conn.execute("DROP TRIGGER records_no_delete")
        conn.execute("UPDATE records SET payload = '{\"i\":1}' WHERE id = 2")
        conn.execute("DELETE FROM records WHERE id = 4")
    result = runner.invoke(app, ["audit", "verify", "--audit", str(store.path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[2:5] == [
        "problem: record 2: its hash does not match its content (edited after it was written)",
        "problem: record 4: missing (a gap between record 3 and record 5)",
        "problem: record 5: its prev_hash does not match the hash of record 3 (a record "
        "before it was removed, replaced or forged)",
    ]
    assert lines[0].startswith("problem: the append-only guard records_no_update is missing")
    assert " ".join(lines[5:]) == f"4 records, chain broken: 5 problems ({store.path})."


@pytest.mark.parametrize("command", ["verify", "show"])
def test_unusable_stores_are_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("LEVERS_AUDIT", "off")
    result = runner.invoke(app, ["audit", command])
    assert result.exit_code == 2
    assert result.stdout.replace("\n", " ").strip() == (
        "error: LEVERS_AUDIT: the audit trail is off (LEVERS_AUDIT=off), so there is no store "
        "to read. Hint: pass --audit PATH to read one."
    )
    missing = tmp_path / "typo.sqlite"
    result = runner.invoke(app, ["audit", command, "--audit", str(missing)])
    assert result.exit_code == 2
    assert result.stdout.replace("\n", " ").strip() == (
        f"error: audit store {missing}: must exist. Got no such file. Hint: check --audit or "
        "LEVERS_AUDIT (records are written by levers advise and the app)."
    )
    assert not missing.exists()  # reading never creates a store
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["audit", command, "--audit", str(notes)])
    assert result.exit_code == 2
    assert result.stdout.replace("\n", " ").strip() == (
        f"error: audit store {notes}: must be a Levers audit store. Got a file that is not SQLite."
    )
    result = runner.invoke(app, ["audit", command, "--audit", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stdout.strip() == f"error: audit store {tmp_path}: must be a file. Got a folder."


def test_show_lists_records_in_a_table(tmp_path: Path) -> None:
    store = store_of(
        tmp_path / "a.sqlite", [advice(1), advice(2, client="c2"), {"kind": "something else"}]
    )
    result = runner.invoke(app, ["audit", "show", "--audit", str(store.path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.replace("┃", "│").splitlines()
    rows = [line.split("│") for line in lines if "│" in line]
    cells = [[cell.strip() for cell in row[1:-1]] for row in rows]
    assert cells[0] == ["id", "time (UTC)", "who", "client", "product", "status", "levers"]
    stamps = [r.timestamp[:19].replace("T", " ") for r in store.records()]
    assert cells[1:] == [
        ["1", stamps[0], "alice", "c1", "savings", "found", "1"],
        ["2", stamps[1], "alice", "c2", "savings", "found", "2"],
        ["3", stamps[2], "", "", "", "", ""],
    ]


def test_show_json_filters_and_limits(tmp_path: Path) -> None:
    store = store_of(tmp_path / "a.sqlite", [advice(i, client=f"c{i % 2}") for i in range(6)])
    path = str(store.path)
    result = runner.invoke(app, ["audit", "show", "--json", "--audit", path])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert listed == [r.to_dict() for r in store.records()]
    assert [r["id"] for r in listed] == [1, 2, 3, 4, 5, 6]
    result = runner.invoke(app, ["audit", "show", "--json", "--client", "c1", "--audit", path])
    assert [r["id"] for r in json.loads(result.stdout)] == [2, 4, 6]
    result = runner.invoke(app, ["audit", "show", "--json", "--limit", "2", "--audit", path])
    assert [r["id"] for r in json.loads(result.stdout)] == [5, 6]
    assert result.stderr == "showing the latest 2 of 6 matching records (--limit to see more)\n"
    third = store.records()[3].timestamp
    for since in (third, third[:26]):  # with its offset, and naive (UTC)
        result = runner.invoke(app, ["audit", "show", "--json", "--since", since, "--audit", path])
        assert [r["id"] for r in json.loads(result.stdout)] == [4, 5, 6]
    result = runner.invoke(app, ["audit", "show", "--since", "2999-01-01", "--audit", path])
    assert (result.exit_code, result.stdout) == (0, "No record matches.\n")


def test_show_finds_hashed_clients_by_their_real_id(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "h.sqlite", hash_client_ids=True)
    for i, client in enumerate(["anna", "bob", "anna"]):
        store.append(advice(i, client=store.client_key(client)))
    result = runner.invoke(
        app, ["audit", "show", "--json", "--client", "anna", "--audit", str(store.path)]
    )
    listed = json.loads(result.stdout)
    assert [r["id"] for r in listed] == [1, 3]
    assert {r["payload"]["client_id"] for r in listed} == {store.client_key("anna")}
    assert "anna" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", "yesterday"],
            "error: --since: must be a date (YYYY-MM-DD) or an ISO datetime (2026-12-03T15:00, "
            "UTC unless it has an offset). Got 'yesterday'.",
        ),
        (
            ["--since", "2026-13-01"],
            "error: --since: must be a date (YYYY-MM-DD) or an ISO datetime (2026-12-03T15:00, "
            "UTC unless it has an offset). Got '2026-13-01'.",
        ),
        (["--limit", "0"], "error: --limit: must be 1 to 1,000,000. Got 0."),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    store = store_of(tmp_path / "a.sqlite", [advice(1)])
    result = runner.invoke(app, ["audit", "show", *args, "--audit", str(store.path)])
    assert result.exit_code == 2
    assert result.stdout.replace("\n", " ").strip() == message


def test_client_ids_from_files_print_inert(tmp_path: Path) -> None:
    hostile = "[bold red]x[/]\x1b[2J\u202eevil\x7f"
    store = store_of(tmp_path / "a.sqlite", [advice(1, client=hostile, who="\x1b]0;t\x07")])
    result = runner.invoke(app, ["audit", "show", "--audit", str(store.path)])
    assert result.exit_code == 0
    for raw in ("\x1b", "\u202e", "\x7f", "\x07"):
        assert raw not in result.stdout
    assert "[bold red]x[/]\\x1b[2J\\u202eevil\\x7f" in result.stdout
    result = runner.invoke(app, ["audit", "show", "--json", "--audit", str(store.path)])
    assert result.exit_code == 0
    assert result.stdout.isascii()
    assert all(ch.isprintable() for ch in result.stdout.replace("\n", ""))
    assert json.loads(result.stdout)[0]["payload"]["client_id"] == hostile


def test_a_tampered_payload_is_one_line_in_show(tmp_path: Path) -> None:
    store = store_of(tmp_path / "a.sqlite", [advice(1)])
    with sqlite3.connect(store.path) as conn:
        conn.execute("DROP TRIGGER records_no_update")
        conn.execute("UPDATE records SET payload = 'oops' WHERE id = 1")
    result = runner.invoke(app, ["audit", "show", "--audit", str(store.path)])
    assert result.exit_code == 2
    assert result.stdout.replace("\n", " ").strip() == (
        "error: record 1: must hold a JSON object. Got something else (the store was tampered "
        "with). Hint: run levers audit verify."
    )
