"""``levers advise``: the levers for one client, in the terminal or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from advisor._console import inert, shown, text
from advisor.datasets import read_client_data
from advisor.errors import AdvisorError
from advisor.levers import Advice, Advisor, check_language, load_demo_advisor
from advisor.models import load_bundle
from constraints import ConstraintError, Whole, check_params

__all__ = ["advise_command"]

console = Console(width=None if sys.stdout.isatty() else 120)
_MAX_LEVERS = 10


def _error(message: str) -> typer.Exit:
    lines = "\n".join(shown(line) for line in message.splitlines())
    console.print(f"[bold red]error:[/] {lines}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _advisor(bundle: Path | None, data: Path | None, id_column: str) -> Advisor:
    if bundle is None and data is None:
        return load_demo_advisor()[0]
    if bundle is None or data is None:
        raise AdvisorError(
            "--bundle and --data: give both (a bundle and the data it was trained on), or "
            "neither for the demo. Got only one."
        )
    frame = read_client_data(data)
    if id_column in frame.columns:
        frame = frame.set_index(frame[id_column].astype(str), drop=False)
        frame.index.name = None
    else:
        frame = frame.set_axis(frame.index.astype(str))
    return Advisor.from_bundle(load_bundle(bundle), frame)


def _levers_table(advice: Advice, language: str) -> Table:
    table = Table(title=text(f"Levers for {advice.product_label[language]}"))
    for column in ("#", "actions", "score", "effort", "support"):
        table.add_column(column, justify="left" if column == "actions" else "right")
    for lever in advice.levers:
        table.add_row(
            str(lever.rank),
            Text("\n".join(inert(line) for line in lever.describe(language))),
            f"{lever.score_before:.1%} -> {lever.score_after:.1%}",
            f"{lever.cost:.2f}",
            "" if lever.support is None else f"{lever.support:.0%}",
        )
    return table


def _as_json(advice: Advice, language: str) -> dict[str, Any]:
    return {
        "product": advice.product,
        "product_label": advice.product_label[language],
        "status": advice.status.value,
        "score": advice.score,
        "goal": advice.goal,
        "support": advice.support,
        "reason": advice.reason_text(language),
        "engine": advice.engine,
        "levers": [lever.to_dict(language) for lever in advice.levers],
    }


def advise_command(
    client: Annotated[str, typer.Argument(help="Client id (e.g. C0000001 in the demo).")],
    product: Annotated[
        str | None, typer.Option(help="Product to aim at (default: the advisor's pick).")
    ] = None,
    n_levers: Annotated[
        int, typer.Option("--levers", help=f"Levers to show at most, 1 to {_MAX_LEVERS}.")
    ] = 3,
    language: Annotated[str, typer.Option("--lang", help="en or fr.")] = "en",
    bundle: Annotated[
        Path | None, typer.Option(help="Model bundle (default: the demo bundle).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="The bundle's training data (CSV/Parquet or a data set).")
    ] = None,
    id_column: Annotated[str, typer.Option(help="Column holding client ids.")] = "client_id",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the levers for one client: actions in words, score before -> after, effort."""
    try:
        check_params(
            {"--levers": n_levers}, {"--levers": Whole(1, _MAX_LEVERS)}, error=AdvisorError
        )
        check_language(language)
        advisor = _advisor(bundle, data, id_column)
        advice = advisor.advise(client, product=product, n_levers=n_levers)
    except (AdvisorError, ConstraintError) as exc:
        raise _error(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(_as_json(advice, language), indent=2, default=str))
        return
    console.print(
        f"{shown(client)}: {shown(advice.product_label[language])} {advice.score:.1%} today, "
        f"goal {advice.goal:.1%}",
        highlight=False,
    )
    if advice.levers:
        console.print(_levers_table(advice, language))
    else:
        console.print(text(advice.reason_text(language) or ""), highlight=False)
