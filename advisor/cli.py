"""The ``levers`` command line."""

from __future__ import annotations

import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from advisor.datasets import describe_table, make_demo_portfolio, read_table, write_table
from advisor.errors import AdvisorError

__all__ = ["app", "main"]

app = typer.Typer(
    name="levers",
    help="Levers: actionable, constraint-respecting levers for bank client advisors.",
    no_args_is_help=True,
    add_completion=False,
)
data_app = typer.Typer(help="Generate and inspect client data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(width=None if sys.stdout.isatty() else 120)


def _show_version(value: bool) -> None:
    if value:
        console.print(f"levers {version('levers')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_show_version),
    ] = False,
) -> None:
    """Levers: actionable, constraint-respecting levers for bank client advisors."""


def _fail(exc: AdvisorError) -> typer.Exit:
    console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
    return typer.Exit(code=2)


@data_app.command("demo")
def data_demo(
    out: Annotated[Path, typer.Option(help="Output file, .parquet or .csv.")],
    n_clients: Annotated[int, typer.Option(help="Number of clients.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the structural causal model.")] = 0,
) -> None:
    """Generate the built-in demo portfolio (synthetic clients with ground truth)."""
    try:
        start = time.perf_counter()
        with console.status(f"Generating {n_clients:,} clients..."):
            clients = make_demo_portfolio(n_clients=n_clients, seed=seed)
            path = write_table(clients, out)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    elapsed = time.perf_counter() - start
    console.print(
        f"Wrote {len(clients):,} clients x {clients.shape[1]} columns to {path} "
        f"in {elapsed:.1f} s (seed {seed})."
    )


@data_app.command("describe")
def data_describe(
    file: Annotated[Path, typer.Argument(help="A .csv (any separator) or .parquet file.")],
    target: Annotated[
        list[str] | None,
        typer.Option(help="Target column (repeatable); guessed from the names when omitted."),
    ] = None,
) -> None:
    """Describe a client table: rows, columns, kinds, missing values, target rates."""
    try:
        summary = describe_table(read_table(file), targets=target)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    console.print(f"[bold]{file}[/]: {summary.n_rows:,} rows x {len(summary.columns)} columns")
    columns = Table("column", "kind", "dtype", "missing", "unique", "example", title="Columns")
    for col in summary.columns:
        missing = f"{col.n_missing:,} ({col.n_missing / max(summary.n_rows, 1):.1%})"
        columns.add_row(col.name, col.kind, col.dtype, missing, f"{col.n_unique:,}", col.example)
    console.print(columns)
    targets = Table("target", "positive", "rate", "label shares", title="Targets")
    for t in summary.targets:
        rate = "" if t.positive_rate is None else f"{t.positive_rate:.2%}"
        shares = ", ".join(f"{label}: {share:.1%}" for label, share in t.shares.items())
        targets.add_row(t.name, t.positive_label or "", rate, shares)
    if summary.targets:
        console.print(targets)
    else:
        console.print("No target column found; name one with --target.")


def main() -> None:
    """Run the ``levers`` command line."""
    app()
