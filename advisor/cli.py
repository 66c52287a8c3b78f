"""The ``levers`` command line."""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from advisor._cli_advise import advise_command
from advisor._cli_models import models_app, train_command
from advisor.datasets import (
    describe_table,
    make_demo_portfolio,
    read_client_data,
    read_table,
    write_table,
)
from advisor.errors import AdvisorError
from constraints import (
    ConstraintError,
    ConstraintFileError,
    ConstraintSet,
    FileProblem,
    bind_constraints,
    constraint_file_schema,
    inspect_constraint_file,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="levers",
    help="Levers: actionable, constraint-respecting levers for bank client advisors.",
    no_args_is_help=True,
    add_completion=False,
)
data_app = typer.Typer(help="Generate and inspect client data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
constraints_app = typer.Typer(
    help="Write and check constraint files (what a lever may change).", no_args_is_help=True
)
app.add_typer(constraints_app, name="constraints")
app.command("train")(train_command)
app.add_typer(models_app, name="models")
app.command("advise")(advise_command)
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


@constraints_app.command("schema")
def constraints_schema(
    out: Annotated[
        Path | None, typer.Option(help="Write the schema to this file instead of printing it.")
    ] = None,
) -> None:
    """Print the JSON Schema of constraint files (for editors' YAML completion)."""
    text = json.dumps(constraint_file_schema(), indent=2, ensure_ascii=False)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"Wrote the constraint-file schema to {out}.")


def _print_problems(problems: tuple[FileProblem, ...] | list[FileProblem]) -> None:
    for problem in problems:
        prefix = "[yellow]warning:[/] " if problem.severity == "warning" else "[red]error:[/] "
        console.print(prefix + escape(str(problem)), highlight=False)


def _roles_table(constraint_set: ConstraintSet) -> Table:
    table = Table("role", "n", "features", title="Features by role")
    described = constraint_set.describe()
    for role, group in described.groupby("role", sort=False):
        table.add_row(str(role), str(len(group)), ", ".join(group["feature"]))
    return table


@constraints_app.command("check")
def constraints_check(
    file: Annotated[Path, typer.Argument(help="The constraint file (YAML).")],
    data: Annotated[
        str | None,
        typer.Option(
            help="Bind to a data set: a CSV/Parquet file, a real data set (german.data, "
            "bank-full.csv, Caravan.csv...) or 'demo'."
        ),
    ] = None,
) -> None:
    """Validate a constraint file (and its binding to data): OK with a summary, or every problem."""
    if not file.is_file():
        console.print(
            f"[red]error:[/] {escape(str(file))}: must be a constraint file. Got nothing there."
        )
        raise typer.Exit(code=2)
    doc, problems = inspect_constraint_file(file.read_text(encoding="utf-8"), file.name)
    if doc is None:
        _print_problems(problems)
        n = sum(p.severity == "error" for p in problems)
        console.print(f"[red]{file.name}: {n} problem{'s' if n != 1 else ''}.[/]")
        raise typer.Exit(code=1)
    try:
        frame = read_client_data(data) if data is not None else None
    except AdvisorError as exc:
        raise _fail(exc) from exc
    try:
        constraint_set = bind_constraints(doc, frame)
    except ConstraintFileError as exc:
        _print_problems(exc.problems)
        n = sum(p.severity == "error" for p in exc.problems)
        console.print(f"[red]{file.name}: {n} problem{'s' if n != 1 else ''} binding to {data}.[/]")
        raise typer.Exit(code=1) from exc
    except ConstraintError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from exc
    _print_problems([*problems, *constraint_set.notes])
    bound = f", bound to {data} ({len(frame):,} rows)" if frame is not None else ""
    console.print(
        f"[green]OK[/] {file.name}: {constraint_set.n_features} features, "
        f"{len(constraint_set.rules)} rules, {len(constraint_set.derived)} derived, "
        f"max changes {constraint_set.max_changes or 'unlimited'}{bound}.",
        highlight=False,
    )
    console.print(_roles_table(constraint_set))


def main() -> None:
    """Run the ``levers`` command line."""
    app()
