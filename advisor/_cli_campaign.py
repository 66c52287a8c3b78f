"""``levers campaign run`` and ``levers campaign show``: a campaign from the terminal.

``run`` loads a bundle and its clients (or the demo), runs :class:`~advisor.campaigns.Campaign`
over the segment with a progress bar, prints the summary, and writes the folder
``--out``: ``levers.parquet`` and ``levers.csv`` (one row per client, what a CRM loads) and
``campaign.json`` (options, provenance, totals; written last, when everything else is).
``show`` prints a folder's ``campaign.json`` again. ``--lang fr`` prints every line of
both in French (the texts are in :mod:`advisor._campaign_words`); the files are the same
in either language.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from advisor._atomic import write_text_atomic
from advisor._cli_data_options import DecimalOption, EncodingOption
from advisor._console import shown
from advisor.errors import AdvisorError, CampaignError
from constraints import ConstraintError, ParamSpec, Whole, check_params

if TYPE_CHECKING:  # campaigns (Dask, the models) are imported by the commands only
    from advisor._campaign_file import CampaignFile
    from advisor._cli_campaign_inputs import Loaded
    from advisor.campaigns import CampaignResult

__all__ = ["campaign_app"]

_T = TypeVar("_T")

console = Console(width=None if sys.stdout.isatty() else 120)
campaign_app = typer.Typer(
    help="Run a campaign over a segment of clients, and show its results.", no_args_is_help=True
)

INTERRUPTED = 130  # the shell's code for Ctrl-C
MAX_LIMIT = 10_000_000  # rows of a data file at most (advisor.datasets)
MAX_WORKERS = 256
MAX_ACTIONS = 20

LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        help="en or fr: the language of every line printed (tables, global actions, "
        "fairness); the files written are the same.",
    ),
]


def _option_rules() -> ParamSpec:
    """Return the rules of the numeric options (those of the library's parameters)."""
    from advisor.campaigns import CAMPAIGN_PARAMS, RUN_PARAMS, SUMMARIZE_PARAMS
    from advisor.levers import ADVISOR_PARAMS

    return {
        "--limit": (Whole(1, MAX_LIMIT), None),
        "--n-levers": RUN_PARAMS["n_levers"],
        "--max-actions": SUMMARIZE_PARAMS["max_actions"],
        "--workers": (Whole(1, MAX_WORKERS), None),
        "--batch-size": CAMPAIGN_PARAMS["batch_size"],
        "--seed": ADVISOR_PARAMS["seed"],
        "--time-limit-s": ADVISOR_PARAMS["time_limit_s"],
    }


def _error(message: str) -> typer.Exit:
    lines = "\n".join(shown(line) for line in message.splitlines())  # each line inert
    console.print(f"[bold red]error:[/] {lines}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _attempt(
    status: str, compute: Callable[[], _T], warnings: list[str], language: str = "en"
) -> _T | None:
    """Return ``compute()``, or None with a warning: a failed report never loses the levers."""
    from advisor._campaign_words import say

    with console.status(say(status, language)):
        try:
            return compute()
        except AdvisorError as exc:
            warning = (str(exc).splitlines() or [type(exc).__name__])[0]
            warnings.append(warning)
            prefix = shown(say("warning", language))
            console.print(f"[yellow]{prefix}[/]{shown(warning)}", highlight=False, soft_wrap=True)
            return None


def _reports(
    result: CampaignResult, loaded: Loaded, max_actions: int, language: str = "en"
) -> tuple[dict[str, dict[str, Any] | None], list[str]]:
    """Return the reports of a finished run as plain data, and why any is missing.

    The true effect is computed on the demo only (its causal model is known).
    """
    from advisor.campaigns import demo_true_effect, fairness_report

    warnings: list[str] = []
    actions = _attempt("status_actions", lambda: result.summarize(max_actions), warnings, language)
    fairness = _attempt("status_fairness", lambda: fairness_report(result), warnings, language)
    truth = None
    if loaded.demo_seed is not None:
        seed = loaded.demo_seed
        truth = _attempt(
            "status_truth",
            lambda: demo_true_effect(result, actions, seed=seed),
            warnings,
            language,
        )
    reports = {
        "global_actions": None if actions is None else actions.to_dict(),
        "fairness": None if fairness is None else fairness.to_dict(),
        "true_effect": None if truth is None else truth.to_dict(),
    }
    return reports, warnings


def _write(
    out: Path,
    result: CampaignResult,
    loaded: Loaded,
    options: dict[str, Any],
    overwrite: bool,
    language: str = "en",
) -> CampaignFile:
    """Write the levers and then campaign.json (last: its presence means a complete run)."""
    from advisor._campaign_file import FILE_NAME, campaign_record
    from advisor._cli_campaign_inputs import CSV, PARQUET

    reports, warnings = _reports(result, loaded, int(options["max_actions"]), language)
    record = campaign_record(
        result,
        label=loaded.label,
        label_fr=loaded.campaign.info.label.get("fr"),
        currency=loaded.currency,
        options=options,
        extras=reports,
        warnings=warnings,
        files={"parquet": PARQUET, "csv": CSV},
    )
    out.mkdir(exist_ok=True)
    result.write(out / PARQUET, overwrite=overwrite)
    result.write(out / CSV, overwrite=overwrite)
    content = json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(out / FILE_NAME, content, overwrite=overwrite)
    return record


# ---------------------------------------------------------------------------- commands
@campaign_app.command("run")
def campaign_run(
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Run on the demo bundle and portfolio (LEVERS_DEMO_BUNDLE, LEVERS_DEMO_CLIENTS).",
        ),
    ] = False,
    bundle: Annotated[
        Path | None, typer.Option(help="A model bundle folder (levers train --out).")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="The clients: CSV (plain, .zip/.gz/.bz2/.xz; separator, encoding and decimal "
            "mark detected), Parquet, a SQL URL (sqlite:///clients.db?table=clients) or a known "
            "data set."
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="The bundle's training data (default: --data). It sets the goal (the score of "
            "the product's top 10 % clients) and binds the constraint file's percentile bounds."
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Column holding client ids (default: the bundle's recorded id column, else "
            "a detected id-like column, else row numbers from 1)."
        ),
    ] = None,
    encoding: EncodingOption = None,
    decimal: DecimalOption = None,
    product: Annotated[
        str | None,
        typer.Option(help="Product to aim at (required for a recommender; a model: its target)."),
    ] = None,
    segment: Annotated[
        str | None,
        typer.Option(help="Clients to cover, e.g. \"age >= 30 and region in ['north']\"."),
    ] = None,
    exclude: Annotated[
        str | None, typer.Option(help="A boolean column: clients never to target (opt-out).")
    ] = None,
    n_levers: Annotated[int, typer.Option(help="Levers kept per client, 1 to 10.")] = 1,
    max_actions: Annotated[
        int, typer.Option(help=f"Global actions at most, 1 to {MAX_ACTIONS}.")
    ] = 5,
    engine: Annotated[
        str,
        typer.Option(
            help="search (the default for segments: hundreds of clients/s per worker), auto "
            "(the exact MILP when the model allows it: proves 'no lever', but 3-14 clients/s), "
            "exact or gradient."
        ),
    ] = "search",
    seed: Annotated[int, typer.Option(help="Seed of the search, 0 to 2**63 - 1.")] = 0,
    time_limit_s: Annotated[
        float, typer.Option(help="Time limit per client's search, at most 86400 s (24 h).")
    ] = 5.0,
    workers: Annotated[
        int | None,
        typer.Option(help=f"Run on a local Dask cluster of N workers (1 to {MAX_WORKERS})."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on this Dask scheduler (tcp://host:port; env LEVERS_DASK_SCHEDULER)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: ./campaign-<product>).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish a stopped run in --out from its checkpoints.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the results of an existing --out folder.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(help="Only the first N clients of the segment (to try it out).")
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(help="Clients per partition (a checkpoint, a progress step), 1 to 100,000."),
    ] = 1_000,
    language: LangOption = "en",
) -> None:
    """Find the cheapest lever of every client of a segment; print the summary; write --out."""
    from advisor._campaign_file import FILE_NAME
    from advisor._campaign_words import count, say
    from advisor._cli_campaign_inputs import CSV, PARQUET, check_out, first_clients
    from advisor._cli_campaign_run import (
        drop_checkpoints,
        interrupted_line,
        run_with_checkpoints,
        where_it_runs,
    )
    from advisor._cli_campaign_tables import print_record
    from advisor.campaigns import exclusion_mask, segment_mask
    from advisor.levers import check_language

    options: dict[str, Any] = {
        "demo": demo,
        "bundle": None if bundle is None else str(bundle),
        "data": data,
        "reference": reference,
        "id_column": id_column,
        "encoding": encoding,
        "decimal": decimal,
        "product": product,
        "segment": segment,
        "exclude": exclude,
        "n_levers": n_levers,
        "max_actions": max_actions,
        "engine": engine,
        "seed": seed,
        "time_limit_s": time_limit_s,
        "workers": workers,
        "scheduler": scheduler,
        "limit": limit,
        "batch_size": batch_size,
    }
    folder = out
    try:
        check_language(language)
        _check_options(options, out=out, force=force, resume=resume)
        loaded = _load(options, language)
        folder = out if out is not None else Path(f"campaign-{loaded.campaign.product}")
        if out is None:
            check_out(folder, force=force, resume=resume)
        clients = first_clients(loaded.clients, segment, limit)
        segment_mask(segment, clients)  # refused here, before the folder is created
        exclusion_mask(exclude, clients)
        options["out"] = str(folder)
        options["ran_on"] = where_it_runs(workers, scheduler)
        result = run_with_checkpoints(
            console, loaded, clients, folder, options, force=force, resume=resume, language=language
        )
        record = _write(folder, result, loaded, options, force or resume, language)
        drop_checkpoints(folder)
    except (AdvisorError, ConstraintError) as exc:
        raise _error(str(exc)) from exc
    except KeyboardInterrupt:
        console.print(interrupted_line(folder, language), highlight=False, soft_wrap=True)
        raise typer.Exit(code=INTERRUPTED) from None
    print_record(console, record, language)
    n = count(result.totals.n_segment, language)
    wrote = say("wrote", language, parquet=folder / PARQUET, csv=CSV, json=FILE_NAME, n=n)
    console.print(shown(wrote), highlight=False, soft_wrap=True)


def _check_options(options: dict[str, Any], *, out: Path | None, force: bool, resume: bool) -> None:
    """Refuse bad numbers, contradictory options and an unusable --out before any work."""
    from advisor._cli_campaign_inputs import check_out, check_sources

    rules = _option_rules()
    check_params(
        {name: options[name.removeprefix("--").replace("-", "_")] for name in rules},
        rules,
        error=CampaignError,
    )
    check_sources(options["demo"], options["bundle"], options["data"], options["reference"])
    if options["demo"] and (options["encoding"] is not None or options["decimal"] is not None):
        raise CampaignError("--encoding and --decimal: apply to --data. Got --demo.")
    if options["workers"] is not None and options["scheduler"] is not None:
        raise CampaignError("--workers and --scheduler: give one. Got both.")
    if out is not None:
        check_out(out, force=force, resume=resume)


def _load(options: dict[str, Any], language: str = "en") -> Loaded:
    from advisor._campaign_words import say
    from advisor._cli_campaign_inputs import load_demo, load_from_bundle

    search = {k: options[k] for k in ("engine", "seed", "time_limit_s", "batch_size")}
    with console.status(say("loading", language)):
        if options["demo"]:
            return load_demo(options["product"], search)
        return load_from_bundle(
            Path(options["bundle"]),
            options["data"],
            options["reference"],
            options["id_column"],
            options["product"],
            encoding=options["encoding"],
            decimal=options["decimal"],
            **search,
        )


@campaign_app.command("show")
def campaign_show(
    folder: Annotated[Path, typer.Argument(help="A campaign folder (levers campaign run --out).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print campaign.json itself.")] = False,
    language: LangOption = "en",
) -> None:
    """Print a campaign's summary, global actions and fairness table from its folder."""
    from advisor._campaign_file import read_campaign_file
    from advisor._cli_campaign_tables import print_record
    from advisor.levers import check_language

    try:
        check_language(language)
        record = read_campaign_file(folder)
    except AdvisorError as exc:
        raise _error(str(exc)) from exc
    if as_json:
        sys.stdout.write(
            json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
        )
        return
    print_record(console, record, language)
