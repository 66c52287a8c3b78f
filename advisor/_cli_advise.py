"""``levers advise``: the levers for one client, in the terminal or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from advisor._cli_data_options import DecimalOption, EncodingOption
from advisor._console import inert, shown, text
from advisor.datasets import INTERACTIVE_MAX_ROWS, index_clients, read_clients
from advisor.errors import AdvisorError
from advisor.levers import ROBUST_MARGIN
from constraints import ConstraintError, Whole, check_params

if TYPE_CHECKING:  # the advisor's stack (torch, XGBoost) is imported by the command only
    from advisor.audit import AuditRecord, ReferenceSource
    from advisor.levers import Advice, Advisor

__all__ = ["advise_command"]

console = Console(width=None if sys.stdout.isatty() else 120)
_MAX_LEVERS = 10


def _error(message: str) -> typer.Exit:
    lines = "\n".join(shown(line) for line in message.splitlines())
    console.print(f"[bold red]error:[/] {lines}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _advisor(
    bundle: Path | None,
    data: str | None,
    id_column: str | None,
    csv_text: tuple[str | None, str | None] = (None, None),
    **options: Any,
) -> tuple[Advisor, ReferenceSource]:
    """Return the advisor and where its reference clients come from (for the audit record)."""
    from advisor.audit import ReferenceSource
    from advisor.levers import Advisor, load_demo_advisor
    from advisor.models import DemoBundleSettings, load_bundle

    if bundle is None and data is None:
        if id_column is not None:
            raise AdvisorError(
                "--id-column: names a column of --data. Got no --data (the demo's ids are "
                "its client_id). Hint: drop --id-column, or give --bundle and --data."
            )
        settings = DemoBundleSettings.from_env()
        demo = ReferenceSource.demo(settings.n_clients, settings.seed)
        return load_demo_advisor(settings, **options)[0], demo
    if bundle is None or data is None:
        raise AdvisorError(
            "--bundle and --data: give both (a bundle and the data it was trained on), or "
            "neither for the demo. Got only one."
        )
    models = load_bundle(bundle)
    frame = index_clients(
        read_clients(
            data, max_rows=INTERACTIVE_MAX_ROWS, encoding=csv_text[0], decimal=csv_text[1]
        ),
        id_column,
        recorded=models.id_column,
    )
    source = ReferenceSource(
        source=data, id_column=id_column, encoding=csv_text[0], decimal=csv_text[1]
    )
    return Advisor.from_bundle(models, frame, **options), source


def _record(
    advice: Advice, advisor: Advisor, given: Any, language: str, source: ReferenceSource
) -> AuditRecord | None:
    """Append the advice to the environment's audit store (``None``: LEVERS_AUDIT=off)."""
    from advisor.audit import audit_store, current_user, record_advice

    store = audit_store()
    if store is None:
        return None
    client_id = given if isinstance(given, str) else None
    return record_advice(
        store,
        advice,
        advisor,
        who=current_user(),
        language=language,
        client_id=client_id,
        source=source,
    )


_ROW_FILES = (".json", ".csv")


def _client(advisor: Advisor, client: str) -> Any:
    """Return the client named on the command line: an id, inline JSON or a one-row file."""
    reference = advisor.reference
    if reference is not None and client in reference.index:
        return client
    if client.lstrip().startswith("{"):
        return _json_row(client, "the client")
    path = Path(client)
    if path.suffix.lower() in _ROW_FILES and path.is_file():
        if path.suffix.lower() == ".json":
            return _json_row(path.read_text(encoding="utf-8"), str(path))
        rows = read_clients(path, max_rows=INTERACTIVE_MAX_ROWS)
        if len(rows) != 1:
            raise AdvisorError(f"{path}: must hold one client (one row). Got {len(rows):,} rows.")
        return rows
    if len(client) > 60:  # a 10 kB id is not echoed whole
        client = f"{client[:40]}... ({len(client):,} characters)"
    if reference is None:
        raise AdvisorError(f"client: must be a JSON object or a one-row file. Got {client!r}.")
    column = reference.attrs.get("id_column")
    if column and client.strip().isdigit() and 1 <= int(client) <= len(reference):
        raise AdvisorError(
            f"client: {client} is not a client id of column {column!r}; row numbers are not "
            f"used when the data has an id column. Got no client with id {client!r}. Hint: "
            f"give a value of {column!r} (ids look like {reference.index[0]!r}), or name "
            "another id column with --id-column."
        )
    if column:
        where, hint = f"a value of column {column!r}", ""
    elif "id_column" in reference.attrs:
        where = f"a row number from 1 to {len(reference):,} (the data has no id column)"
        hint = "; name the id column with --id-column"
    else:
        where, hint = "a reference client id", ""
    raise AdvisorError(
        f"client: must be {where}, a JSON object or a .json/.csv file with one client. Got "
        f"{client!r}. Hint: ids look like {reference.index[0]!r}{hint}."
    )


def _json_row(text: str, where: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdvisorError(
            f"{where}: must be valid JSON. Got an error at line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}."
        ) from exc
    if isinstance(found, list) and len(found) == 1:
        found = found[0]
    if not isinstance(found, dict):
        raise AdvisorError(
            f"{where}: must be one JSON object (feature: value). Got {type(found).__name__}."
        )
    return found


def _levers_table(advice: Advice, language: str) -> Table:
    from advisor.levers import levers_table_header, percent_text

    title, columns = levers_table_header(advice, language)
    table = Table(title=text(title))
    for k, column in enumerate(columns):
        table.add_column(column, justify="left" if k == 1 else "right")
    for lever in advice.levers:
        before, after = (percent_text(p, language) for p in (lever.score_before, lever.score_after))
        table.add_row(
            str(lever.rank),
            Text("\n".join(inert(line) for line in lever.describe(language))),
            f"{before} -> {after}",
            f"{lever.cost:.2f}",
            "" if lever.support is None else f"{lever.support:.0%}",
        )
    return table


def _as_json(
    advice: Advice, language: str, client: str | None, record: AuditRecord | None
) -> dict[str, Any]:
    return {
        "client": client,
        "product": advice.product,
        "product_label": advice.product_label[language],
        "status": advice.status.value,
        "direction": advice.direction,
        "score": advice.score,
        "goal": advice.goal,
        "support": advice.support,
        "reason": advice.reason_text(language),
        "engine": advice.engine,
        "levers": [lever.to_dict(language) for lever in advice.levers],
        "audit_record": None if record is None else record.id,
        "ood": None if advice.ood is None else advice.ood.to_dict(language),
    }


def _print_far(advice: Advice, language: str) -> None:
    """Warn, in plain words, when the client or a lever's result is far from the data."""
    ood = advice.ood
    if ood is None or not ood.any_far:
        return
    caution = "attention" if language == "fr" else "caution"
    if ood.client:
        console.print(f"[bold yellow]{caution}:[/] {shown(ood.reason_text(language) or '')}")
    for lever in advice.levers:
        warning = ood.lever_text(lever.rank, language)
        if warning is not None and not ood.client:
            console.print(f"[bold yellow]{caution} ({lever.rank}):[/] {shown(warning)}")


def _robust(robust: bool, margin: float | None) -> dict[str, float]:
    """Return the advisor's ``robust_margin``: --robust (the measured one) or --robust-margin."""
    from advisor.levers import ADVISOR_PARAMS

    if robust and margin is not None:
        raise AdvisorError(
            f"--robust and --robust-margin: give one (--robust is --robust-margin "
            f"{ROBUST_MARGIN:g}). Got both."
        )
    if margin is not None:
        rule = {"--robust-margin": ADVISOR_PARAMS["robust_margin"]}
        checked = check_params({"--robust-margin": margin}, rule, error=AdvisorError)
        return {"robust_margin": checked["--robust-margin"]}
    return {"robust_margin": ROBUST_MARGIN} if robust else {}


def advise_command(
    client: Annotated[
        str,
        typer.Argument(
            help="Client id (e.g. C0000001 in the demo; a value of the data's id column, or a "
            "row number 1..n when it has none), a JSON object of the client's features, or a "
            ".json/.csv file holding one client."
        ),
    ],
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
        str | None,
        typer.Option(
            help="The bundle's training data: CSV, Parquet, a known data set or a SQL URL "
            f"(sqlite:///clients.db?table=clients); at most {INTERACTIVE_MAX_ROWS:,} rows."
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Column holding client ids (default: the bundle's, else detected, else row "
            "numbers)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    encoding: EncodingOption = None,
    decimal: DecimalOption = None,
    robust: Annotated[
        bool,
        typer.Option(
            "--robust",
            help=f"Robust levers: each beats the goal by {ROBUST_MARGIN:g} (probability), so "
            "that it still reaches it after the model is retrained; fewer clients get one.",
        ),
    ] = False,
    robust_margin: Annotated[
        float | None,
        typer.Option(help="Robust levers with this margin above the goal, 0 to 0.5."),
    ] = None,
) -> None:
    """Show the levers for one client: actions in words, score before -> after, effort."""
    from advisor.levers import check_language

    try:
        check_params(
            {"--levers": n_levers}, {"--levers": Whole(1, _MAX_LEVERS)}, error=AdvisorError
        )
        check_language(language)
        advisor, source = _advisor(
            bundle, data, id_column, (encoding, decimal), **_robust(robust, robust_margin)
        )
        given = _client(advisor, client)
        advice = advisor.advise(given, product=product, n_levers=n_levers)
        record = _record(advice, advisor, given, language, source)  # before it is shown
    except (AdvisorError, ConstraintError) as exc:
        raise _error(str(exc)) from exc
    if as_json:
        typer.echo(
            json.dumps(
                _as_json(advice, language, given if isinstance(given, str) else None, record),
                indent=2,
                default=str,
            )
        )
        return
    from advisor.levers import advice_headline

    name = client if len(client) <= 40 else ("le client" if language == "fr" else "the client")
    console.print(shown(advice_headline(advice, name, language)), highlight=False)
    if advice.levers:
        console.print(_levers_table(advice, language))
    else:
        console.print(text(advice.reason_text(language) or ""), highlight=False)
    if record is not None:
        console.print(
            f"[dim]recorded as audit record {record.id} (levers audit replay {record.id})[/]",
            highlight=False,
        )
    _print_far(advice, language)
