"""The ``levers`` command line."""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer
from rich.console import Console
from rich.table import Table

from advisor._atomic import check_output, write_text_atomic
from advisor._cli_advise import advise_command
from advisor._cli_app import app_command
from advisor._cli_audit import audit_app
from advisor._cli_audit_replay import replay_command
from advisor._cli_campaign import campaign_app
from advisor._cli_data_options import DecimalOption, EncodingOption
from advisor._cli_models import models_app, train_command
from advisor._cli_study import study_app
from advisor._console import shown, text
from advisor.datasets import (
    describe_table,
    find_id_column,
    read_clients,
    read_table,
    row_references,
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
    draft_constraints,
    inspect_constraint_file,
    read_constraint_text,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["app", "main"]

_P = ParamSpec("_P")

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
console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


def _interruptible(command: Callable[_P, None]) -> Callable[_P, None]:
    """Turn Ctrl-C during ``command`` into one line and exit code 130 (no traceback).

    Every file the commands write goes through a temporary file renamed at the end, so an
    interrupted command has written nothing.
    """

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except KeyboardInterrupt:
            errors.print("interrupted; nothing written", markup=False, highlight=False)
            raise typer.Exit(code=130) from None

    return run


app.command("train")(_interruptible(train_command))
app.add_typer(models_app, name="models")
app.command("advise")(_interruptible(advise_command))
app.command("app")(app_command)
app.add_typer(campaign_app, name="campaign")
app.add_typer(study_app, name="study")
audit_app.command("replay")(_interruptible(replay_command))
app.add_typer(audit_app, name="audit")


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


def _fail(exc: AdvisorError | ConstraintError) -> typer.Exit:
    """Print ``exc`` as one error (untrusted names in it shown inert) and exit with code 2."""
    message = "\n".join(shown(line) for line in str(exc).splitlines())
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


_FORCE_HELP = "Replace --out if it exists (without it, an existing file is left alone)."


@data_app.command("demo")
@_interruptible
def data_demo(
    out: Annotated[Path, typer.Option(help="Output file, .parquet or .csv.")],
    n_clients: Annotated[
        int, typer.Option(help="Number of clients, 1 to 5,368,709 (about 400 bytes each).")
    ] = 20_000,
    seed: Annotated[
        int, typer.Option(help="Seed of the structural causal model, 0 to 2**63 - 1.")
    ] = 0,
    force: Annotated[bool, typer.Option("--force", help=_FORCE_HELP)] = False,
) -> None:
    """Generate the built-in demo portfolio (synthetic clients with ground truth)."""
    from advisor.datasets import DemoPortfolioSCM  # the demo model: loaded here only

    try:
        scm = DemoPortfolioSCM(seed=seed)
        check_output(out, suffixes=(".csv", ".parquet"), overwrite=force)
        start = time.perf_counter()
        with console.status(f"Generating {n_clients:,} clients..."):
            clients = scm.sample(n_clients)
            path = write_table(clients, out, overwrite=force)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    elapsed = time.perf_counter() - start
    console.print(
        f"Wrote {len(clients):,} clients x {clients.shape[1]} columns to {shown(path)} "
        f"in {elapsed:.1f} s (seed {seed}).",
        highlight=False,
        soft_wrap=True,
    )


@data_app.command("describe")
@_interruptible
def data_describe(
    file: Annotated[
        str,
        typer.Argument(
            help="A .csv (separator and encoding detected) or .parquet file, or a SQL URL "
            "(sqlite:///clients.db?table=clients)."
        ),
    ],
    target: Annotated[
        list[str] | None,
        typer.Option(help="Target column (repeatable); guessed from the names when omitted."),
    ] = None,
    encoding: EncodingOption = None,
    decimal: DecimalOption = None,
) -> None:
    """Describe a client table: rows, columns, kinds, missing values, target rates."""
    try:
        # a file as stored (read_table: no data set decoded by its name); a SQL source as read
        table = (
            read_clients(file, encoding=encoding, decimal=decimal)
            if "://" in file
            else read_table(file, encoding=encoding, decimal=decimal)
        )
        summary = describe_table(table, targets=target)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    console.print(
        f"[bold]{shown(file)}[/]: {summary.n_rows:,} rows x {len(summary.columns)} columns",
        highlight=False,
        soft_wrap=True,
    )
    columns = Table("column", "kind", "dtype", "missing", "unique", "example", title="Columns")
    for col in summary.columns:
        missing = f"{col.n_missing:,} ({col.n_missing / max(summary.n_rows, 1):.1%})"
        columns.add_row(
            text(col.name),
            text(col.kind),
            text(col.dtype),
            missing,
            f"{col.n_unique:,}",
            text(col.example),
        )
    console.print(columns)
    targets = Table("target", "positive", "rate", "label shares", title="Targets")
    for t in summary.targets:
        rate = "" if t.positive_rate is None else f"{t.positive_rate:.2%}"
        shares = ", ".join(f"{label}: {share:.1%}" for label, share in t.shares.items())
        targets.add_row(text(t.name), text(t.positive_label or ""), rate, text(shares))
    if summary.targets:
        console.print(targets)
    else:
        console.print("No target column found; name one with --target.")


@constraints_app.command("schema")
@_interruptible
def constraints_schema(
    out: Annotated[
        Path | None,
        typer.Option(help="Write the schema to this .json file instead of printing it."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=_FORCE_HELP)] = False,
) -> None:
    """Print the JSON Schema of constraint files (for editors' YAML completion)."""
    if out is not None:
        try:
            check_output(out, suffixes=(".json",), overwrite=force)
        except AdvisorError as exc:
            raise _fail(exc) from exc
    schema = json.dumps(constraint_file_schema(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(schema)
        return
    try:
        write_text_atomic(out, schema, overwrite=force)
    except AdvisorError as exc:
        raise _fail(exc) from exc
    console.print(
        f"Wrote the constraint-file schema to {shown(out)}.", highlight=False, soft_wrap=True
    )


def _print_problems(problems: tuple[FileProblem, ...] | list[FileProblem]) -> None:
    for problem in problems:
        prefix = "[yellow]warning:[/] " if problem.severity == "warning" else "[red]error:[/] "
        lines = "\n".join(shown(line) for line in str(problem).splitlines())
        console.print(prefix + lines, highlight=False, soft_wrap=True)


def _roles_table(constraint_set: ConstraintSet) -> Table:
    table = Table("role", "n", "features", title="Features by role")
    described = constraint_set.describe()
    for role, group in described.groupby("role", sort=False):
        table.add_row(text(role), str(len(group)), text(", ".join(map(str, group["feature"]))))
    return table


def _not_levers_table(constraint_set: ConstraintSet) -> Table:
    table = Table("product", "not levers for it", title="Lever rules per product")
    for rule in constraint_set.product_rules:
        table.add_row(text(rule.product), text(", ".join(rule.not_levers)))
    return table


def _named_rows(frame: pd.DataFrame | None, declared: str | None) -> pd.DataFrame | None:
    """``frame`` with its rows named by file line and client id, for the binding's messages.

    The file's ``id_column`` must be a column of the data; two id-like columns and no
    ``id_column`` is a warning (lines only).
    """
    if frame is None:
        return None
    try:
        ids = find_id_column(frame, declared=declared)
    except AdvisorError as exc:
        if declared is not None:
            raise _fail(exc) from exc
        console.print(f"[yellow]warning:[/] {shown(exc)}", highlight=False, soft_wrap=True)
        ids = None
    return frame.set_axis(row_references(frame, ids))


@constraints_app.command("check")
@_interruptible
def constraints_check(
    file: Annotated[Path, typer.Argument(help="The constraint file (YAML).")],
    data: Annotated[
        str | None,
        typer.Option(
            help="Bind to a data set: a CSV/Parquet file, a SQL URL "
            "(sqlite:///clients.db?table=clients), a real data set (german.data, "
            "bank-full.csv, Caravan.csv...) or 'demo'."
        ),
    ] = None,
    encoding: EncodingOption = None,
    decimal: DecimalOption = None,
) -> None:
    """Validate a constraint file (and its binding to data): OK with a summary, or every problem."""
    try:
        doc, problems = inspect_constraint_file(read_constraint_text(file), file.name)
    except ConstraintError as exc:
        raise _fail(exc) from exc
    if doc is None:
        _print_problems(problems)
        n = sum(p.severity == "error" for p in problems)
        console.print(f"[red]{shown(file.name)}: {n} problem{'s' if n != 1 else ''}.[/]")
        raise typer.Exit(code=1)
    try:
        frame = read_clients(data, encoding=encoding, decimal=decimal) if data is not None else None
    except AdvisorError as exc:
        raise _fail(exc) from exc
    try:
        constraint_set = bind_constraints(doc, _named_rows(frame, doc.id_column))
    except ConstraintFileError as exc:
        _print_problems(exc.problems)
        n = sum(p.severity == "error" for p in exc.problems)
        console.print(
            f"[red]{shown(file.name)}: {n} problem{'s' if n != 1 else ''} binding"
            f"{'' if data is None else ' to ' + shown(data)}.[/]"
        )
        raise typer.Exit(code=1) from exc
    except ConstraintError as exc:
        console.print(f"[red]error:[/] {shown(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from exc
    _print_problems([*problems, *constraint_set.notes])
    bound = f", bound to {shown(data)} ({len(frame):,} rows)" if frame is not None else ""
    n_products = len(constraint_set.product_rules)
    per_product = f"lever rules for {n_products} products, " if n_products else ""
    console.print(
        f"[green]OK[/] {shown(file.name)}: {constraint_set.n_features} features, "
        f"{len(constraint_set.rules)} rules, {len(constraint_set.derived)} derived, "
        f"{per_product}max changes {constraint_set.max_changes or 'unlimited'}{bound}.",
        highlight=False,
        soft_wrap=True,
    )
    console.print(_roles_table(constraint_set))
    if constraint_set.product_rules:
        console.print(_not_levers_table(constraint_set))


@constraints_app.command("draft")
@_interruptible
def constraints_draft(
    data: Annotated[
        str,
        typer.Argument(
            help="The data: a CSV/Parquet file, a SQL URL (sqlite:///clients.db?table=clients), "
            "a real data set (german.data, bank-full.csv, Caravan.csv...) or 'demo'."
        ),
    ],
    target: Annotated[
        str | None,
        typer.Option(help="The column the model predicts: left out, and used to flag leaks."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the draft to this .yaml file instead of printing it."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=_FORCE_HELP)] = False,
    encoding: EncodingOption = None,
    decimal: DecimalOption = None,
) -> None:
    """Draft a constraint file from a data set: kinds, p1/p99 bounds, roles to decide, flags."""
    try:
        if out is not None:
            check_output(out, suffixes=(".yaml", ".yml"), overwrite=force)
        frame = read_clients(data, encoding=encoding, decimal=decimal)
        draft = draft_constraints(frame, target=target, name=Path(data).stem or "draft")
        if out is not None:
            write_text_atomic(out, draft.text, overwrite=force)
    except (AdvisorError, ConstraintError) as exc:
        raise _fail(exc) from exc
    for flag in draft.flags:
        errors.print(text(f"warning: {flag}"), highlight=False, soft_wrap=True)
    if out is None:
        sys.stdout.write(draft.text)
        return
    console.print(
        f"Wrote a draft of {len(draft.features)} features ({len(draft.commented_out)} commented "
        f"out) to {shown(out)}. Check it: levers constraints check {shown(out)} --data "
        f"{shown(data)}",
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    """Run the ``levers`` command line (Ctrl-C before a command starts: one line, exit 130)."""
    try:
        app()
    except KeyboardInterrupt:  # while the command line is still being read (a loaded machine)
        errors.print("interrupted; nothing written", markup=False, highlight=False)
        sys.exit(130)


if __name__ == "__main__":  # python -m advisor.cli
    main()
