"""``levers audit replay``: recompute a recorded advice and say whether it is identical."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advisor._cli_audit import AuditOption, audit_error, console, open_audit_store
from advisor._console import shown
from advisor.errors import AdvisorError
from constraints import ConstraintError

__all__ = ["replay_command"]


def replay_command(
    record_id: Annotated[int, typer.Argument(help="The record's id (levers audit show).")],
    bundle: Annotated[
        Path | None,
        typer.Option(help="Model bundle (default: the folder the record names)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="The reference data (default: the source the record names; the demo "
            "portfolio is drawn again)."
        ),
    ] = None,
    audit: AuditOption = None,
) -> None:
    """Recompute a recorded advice: identical (exit 0), its differences (1), or why not (2)."""
    from advisor.audit import replay

    store = open_audit_store(audit)
    try:
        report = replay(store.get(record_id), reference=data, bundle=bundle)
    except (AdvisorError, ConstraintError) as exc:
        raise audit_error(exc) from exc
    if report.identical:
        console.print(f"record {record_id}: identical", highlight=False)
    else:
        n = len(report.differences)
        console.print(f"record {record_id}: {n} difference{'s' * (n != 1)}", highlight=False)
        for line in report.differences:
            console.print(f"  {shown(line)}", highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"[dim]note: library version {shown(note)}[/]", highlight=False)
    if not report.identical:
        raise typer.Exit(code=1)
