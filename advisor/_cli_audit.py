"""``levers audit verify`` and ``levers audit show``: the audit trail of advice served.

The store is ``--audit PATH`` when given, else the one ``LEVERS_AUDIT`` names (the default
file in the user's data folder when unset). These commands only read: a missing store is an
error (never created empty), and the store's own client-id setting is followed.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from advisor._console import inert, shown, text
from advisor.errors import AdvisorError

if TYPE_CHECKING:  # sqlite3 and the store load in the commands only
    from advisor.audit import AuditRecord, AuditStore

__all__ = ["AuditOption", "audit_app", "audit_error", "open_audit_store"]

console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
audit_app = typer.Typer(
    help="The audit trail of advice served: verify its hash chain, list its records.",
    no_args_is_help=True,
)
AuditOption = Annotated[
    Path | None,
    typer.Option(
        "--audit",
        help="The audit store to read (default: LEVERS_AUDIT, else audit.sqlite in the user's "
        "data folder).",
    ),
]
_DEFAULT_LIMIT = 100


def audit_error(message: object) -> typer.Exit:
    """Print ``message`` as one error (inert) and return the exit (code 2) to raise."""
    lines = "\n".join(shown(line) for line in str(message).splitlines())
    console.print(f"[bold red]error:[/] {lines}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def open_audit_store(audit: Path | None) -> AuditStore:
    """Return the existing store ``--audit`` or the environment names; exit 2 otherwise."""
    from advisor.audit import AuditSettings, AuditStore

    try:
        path = audit if audit is not None else AuditSettings.from_env().path
        if path is None:
            raise AdvisorError(
                "LEVERS_AUDIT: the audit trail is off (LEVERS_AUDIT=off), so there is no store "
                "to read. Hint: pass --audit PATH to read one."
            )
        return AuditStore(path, create=False)
    except AdvisorError as exc:
        raise audit_error(exc) from exc


@audit_app.command("verify")
def verify_command(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="A hash an earlier verify printed (kept elsewhere): it must still be the hash "
            "of a record, so a rebuilt chain or removed last records are found."
        ),
    ] = None,
    audit: AuditOption = None,
) -> None:
    """Walk the hash chain: "N records, chain intact" (exit 0), or every problem (exit 1)."""
    store = open_audit_store(audit)
    try:
        report = store.verify(anchor=anchor)
    except AdvisorError as exc:
        raise audit_error(exc) from exc
    where = shown(store.path)
    if report.ok:
        console.print(
            f"{report.n_records:,} records, chain intact ({where}). Last record "
            f"{report.last_id}, hash {report.last_hash} (keep it elsewhere to anchor the "
            "chain).",
            highlight=False,
            soft_wrap=True,
        )
        return
    for problem in report.problems:
        console.print(f"[red]problem:[/] {shown(problem)}", highlight=False, soft_wrap=True)
    n = len(report.problems)
    console.print(
        f"[red]{report.n_records:,} records, chain broken: {n} problem{'s' if n != 1 else ''} "
        f"({where}).[/]",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(code=1)


def parse_since(value: str) -> date | datetime:
    """Read ``--since``: a date (YYYY-MM-DD) or an ISO datetime (a naive one is UTC)."""
    given = value.strip()
    try:
        if len(given) == 10:
            return date.fromisoformat(given)
        return datetime.fromisoformat(given)
    except ValueError as exc:
        raise AdvisorError(
            "--since: must be a date (YYYY-MM-DD) or an ISO datetime (2026-12-03T15:00, UTC "
            f"unless it has an offset). Got {inert(repr(value)[:80])}."
        ) from exc


def _cell(payload: Any, key: str) -> str:
    value = payload.get(key) if isinstance(payload, dict) else None
    return "" if value is None else str(value)


def _n_levers(payload: Any) -> str:
    levers = payload.get("levers") if isinstance(payload, dict) else None
    return str(len(levers)) if isinstance(levers, list) else ""


def _table(records: list[AuditRecord]) -> Table:
    table = Table("id", "time (UTC)", "who", "client", "product", "status", "levers")
    for record in records:
        payload = record.payload
        table.add_row(
            str(record.id),
            text(record.timestamp[:19].replace("T", " ")),
            text(_cell(payload, "who")),
            text(_cell(payload, "client_id")),
            text(_cell(payload, "product")),
            text(_cell(payload, "status")),
            _n_levers(payload),
        )
    return table


def _json_text(records: list[AuditRecord]) -> str:
    """Return the records as a JSON list in printable ASCII (the rest written as escapes)."""
    dumped = json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=True)
    return dumped.replace("\x7f", "\\u007f") + "\n"


@audit_app.command("show")
def show_command(
    client: Annotated[
        str | None,
        typer.Option(help="Only this client's records: the id as given (hashed like the store)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only records from this UTC date (YYYY-MM-DD) or ISO datetime on."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of records, each with its id.")
    ] = False,
    limit: Annotated[
        int, typer.Option(help="Show the latest N matching records, 1 to 1,000,000.")
    ] = _DEFAULT_LIMIT,
    audit: AuditOption = None,
) -> None:
    """List audit records (id, time, who, client, product, status, levers), or JSON."""
    try:
        moment = None if since is None else parse_since(since)
        if not 1 <= limit <= 1_000_000:
            raise AdvisorError(f"--limit: must be 1 to 1,000,000. Got {limit}.")
    except AdvisorError as exc:
        raise audit_error(exc) from exc
    store = open_audit_store(audit)
    try:
        records = store.records(client=client, since=moment, limit=limit)
        total = len(records) if len(records) < limit else store.count(client=client, since=moment)
    except AdvisorError as exc:
        raise audit_error(exc) from exc
    if as_json:
        sys.stdout.write("\n".join(inert(line) for line in _json_text(records).split("\n")))
    elif records:
        console.print(_table(records))
    if total > len(records):
        errors.print(
            f"showing the latest {len(records):,} of {total:,} matching records (--limit to "
            "see more)",
            highlight=False,
            markup=False,
        )
    elif not records and not as_json:
        console.print("No record matches.", highlight=False)
