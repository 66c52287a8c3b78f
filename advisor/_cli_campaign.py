"""``levers campaign run`` and ``levers campaign show``: a campaign from the terminal.

``run`` loads a bundle and its clients (or the demo), runs :class:`~advisor.campaigns.Campaign`
over the segment with a progress bar, prints the summary, and writes the folder
``--out``: ``levers.parquet`` and ``levers.csv`` (one row per client, what a CRM loads) and
``campaign.json`` (options, provenance, totals; written last, when everything else is).
``show`` prints a folder's ``campaign.json`` again.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from advisor._atomic import write_text_atomic
from advisor._campaign_file import FILE_NAME, CampaignFile, campaign_record, read_campaign_file
from advisor._console import inert, shown, text
from advisor.campaigns import RUN_PARAMS, Campaign, CampaignError, CampaignResult, segment_mask
from advisor.datasets import make_demo_portfolio, read_client_data
from advisor.errors import AdvisorError
from advisor.models import (
    DemoBundleSettings,
    ModelBundle,
    ProductRecommender,
    build_demo_bundle,
    load_bundle,
)
from constraints import ConstraintError, ConstraintFileError, Whole, check_params

__all__ = ["campaign_app"]

console = Console(width=None if sys.stdout.isatty() else 120)
campaign_app = typer.Typer(
    help="Run a campaign over a segment of clients, and show its results.", no_args_is_help=True
)

INTERRUPTED = 130  # the shell's code for Ctrl-C
PARQUET, CSV = "levers.parquet", "levers.csv"
MAX_LIMIT = 10_000_000  # rows of a data file at most (advisor.datasets)
MAX_WORKERS = 256
MAX_ACTIONS = 20
OPTION_RULES = {
    "--limit": (Whole(1, MAX_LIMIT), None),
    "--n-levers": RUN_PARAMS["n_levers"],
    "--max-actions": Whole(1, MAX_ACTIONS),
    "--workers": (Whole(1, MAX_WORKERS), None),
}


def _error(message: str) -> typer.Exit:
    lines = "\n".join(shown(line) for line in message.splitlines())  # each line inert
    console.print(f"[bold red]error:[/] {lines}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


# ---------------------------------------------------------------------------- inputs
@dataclass(frozen=True, slots=True, kw_only=True)
class _Loaded:
    """What a run needs: the campaign, the clients to run it on, and what it is called."""

    campaign: Campaign
    clients: pd.DataFrame
    label: str
    currency: str | None


def _check_sources(
    demo: bool, bundle: Path | None, data: str | None, reference: str | None
) -> None:
    if demo and (bundle is not None or data is not None or reference is not None):
        raise CampaignError(
            "--demo: runs on the demo bundle and portfolio; --bundle, --data and --reference "
            "do not apply. Got both. Hint: drop --demo, or the other options."
        )
    if not demo and (bundle is None or data is None):
        raise CampaignError(
            "campaign run: needs --bundle and --data (a bundle and the clients to run it on), "
            "or --demo. Got "
            + ("only --bundle." if bundle is not None else "only --data." if data else "neither.")
        )


def _indexed(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """Index clients by ``id_column`` when the data has it (as ``levers advise`` does)."""
    if id_column in frame.columns:
        frame = frame.set_index(frame[id_column].astype(str), drop=False)
        frame.index.name = None
        return frame
    return frame.set_axis(frame.index.astype(str))


def _check_features(bundle: ModelBundle, frame: pd.DataFrame, option: str, given: str) -> None:
    """Refuse data without the bundle's features in one line (before any binding)."""
    missing = [f for f in bundle.card.features if f not in frame.columns]
    if missing:
        shown_names = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise CampaignError(
            f"{option} {given}: must hold every feature of the bundle {bundle.path}. Got none "
            f"for {shown_names} ({len(missing)} of {len(bundle.card.features)} missing). Hint: "
            f"give the data the bundle was trained on (levers models show {bundle.path} lists "
            "its features)."
        )


def _binding_error(exc: AdvisorError, option: str, given: str) -> CampaignError:
    """Say in one line why the bundle's constraint file does not bind to the data."""
    cause = exc.__cause__
    if not isinstance(cause, ConstraintFileError):
        return CampaignError(str(exc))
    errors = [p for p in cause.problems if p.severity == "error"] or list(cause.problems)
    first = errors[0]
    count = f"{len(errors)} problems, the first" if len(errors) > 1 else "1 problem"
    hint = f" Hint: {first.hint}" if first.hint else ""
    return CampaignError(
        f"{option} {given}: must match the bundle's constraint file. Got {count}: "
        f"{first.path}: {first.message}{hint}"
    )


def _load_demo(product: str | None, options: dict[str, Any]) -> _Loaded:
    settings = DemoBundleSettings.from_env()
    if not (settings.out / "model_card.json").is_file():
        with console.status("Training the demo bundle (once)..."):
            build_demo_bundle(settings, overwrite=False)
    portfolio = make_demo_portfolio(n_clients=settings.n_clients, seed=settings.seed)
    portfolio = _indexed(portfolio, "client_id")
    campaign = Campaign.from_bundle(settings.out, portfolio, product=product, **options)
    return _described(campaign, portfolio)


def _load_bundle(
    folder: Path,
    data: str,
    reference: str | None,
    id_column: str,
    product: str | None,
    **options: Any,
) -> _Loaded:
    bundle = load_bundle(folder)
    clients = _indexed(read_client_data(data), id_column)
    _check_features(bundle, clients, "--data", inert(data))
    frame = clients if reference is None else _indexed(read_client_data(reference), id_column)
    if reference is not None:
        _check_features(bundle, frame, "--reference", inert(reference))
    try:
        campaign = Campaign.from_bundle(bundle, frame, product=product, **options)
    except CampaignError:
        raise
    except AdvisorError as exc:
        option = "--data" if reference is None else "--reference"
        raise _binding_error(exc, option, inert(reference or data)) from exc
    return _described(campaign, clients)


def _described(campaign: Campaign, clients: pd.DataFrame) -> _Loaded:
    model = campaign.advisor.model
    currency = model.catalog.currency if isinstance(model, ProductRecommender) else None
    return _Loaded(
        campaign=campaign,
        clients=clients,
        label=campaign.info.label.get("en", campaign.product),
        currency=currency,
    )


def _first(clients: pd.DataFrame, segment: str | None, limit: int | None) -> pd.DataFrame:
    """Return the first ``limit`` clients of the segment (all of them without a limit)."""
    if limit is None:
        return clients
    return clients.loc[segment_mask(segment, clients)].head(limit)


# ---------------------------------------------------------------------------- output folder
def _check_out(out: Path, *, force: bool, resume: bool) -> None:
    """Refuse an output folder that cannot be used, before any work."""
    where = f"--out {inert(out)}"
    if force and resume:
        raise CampaignError(
            "--force and --resume: give one (--force starts again, --resume finishes a stopped "
            "run). Got both."
        )
    if out.exists() and not out.is_dir():
        raise CampaignError(f"{where}: must be a folder. Got a file.")
    if not out.parent.is_dir():
        raise CampaignError(
            f"{where}: must be in an existing folder. Got no folder {inert(out.parent)}. "
            "Hint: create the folder first."
        )
    target = out if out.is_dir() else out.parent
    if not os.access(target, os.W_OK | os.X_OK):
        raise CampaignError(f"{where}: must be a folder you can write to. Got a read-only one.")
    if out.is_dir() and any(out.iterdir()) and not (force or resume):
        raise CampaignError(
            f"{where}: must be a new or empty folder. Got a folder with files. Hint: pass "
            "--force to replace its results, or --resume to finish a stopped run."
        )


def _write(
    out: Path, result: CampaignResult, loaded: _Loaded, options: dict[str, Any], overwrite: bool
) -> CampaignFile:
    out.mkdir(exist_ok=True)
    result.write(out / PARQUET, overwrite=overwrite)
    result.write(out / CSV, overwrite=overwrite)
    record = campaign_record(
        result,
        label=loaded.label,
        currency=loaded.currency,
        options=options,
        extras={},
        files={"parquet": PARQUET, "csv": CSV},
    )
    content = json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(out / FILE_NAME, content, overwrite=overwrite)
    return record


# ---------------------------------------------------------------------------- printing
class _RateColumn(ProgressColumn):
    """Clients per second (rich's own estimate over the last 30 s)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("? clients/s" if speed is None else f"{speed:,.1f} clients/s")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # a log or a pipe gets the summary only
    )


def _summary_table(record: CampaignFile) -> Table:
    t, p, o = record.totals, record.provenance, record.options
    segment = "all clients" if o.get("segment") is None else str(o["segment"])
    if o.get("limit") is not None:
        segment += f" (first {o['limit']:,} clients)"
    value = "n/a (no value per sale)"
    if t.expected_value is not None:
        value = f"{t.expected_value:,.0f} {record.currency or ''}".rstrip()
    q = t.cost_quantiles
    costs = "no lever" if not q else f"{q['0.25']:.2f} / {q['0.5']:.2f} / {q['0.75']:.2f}"
    rate = t.n_segment / p.elapsed_s if p.elapsed_s > 0 else 0.0
    rows = [
        ("product", f"{record.product_label} ({record.product})"),
        ("segment", segment),
        ("clients in the segment", f"{t.n_segment:,}"),
        ("excluded (never targeted)", f"{t.n_excluded:,}" + _column(o.get("exclude"))),
        ("already reached", f"{t.n_reached:,}"),
        ("searched", f"{t.n_searched:,}"),
        ("advised (with a lever)", f"{t.n_advised:,}"),
        ("coverage (advised / searched)", f"{t.coverage:.1%}"),
        ("no lever: proved / not found", f"{t.n_none_proved:,} / {t.n_none_not_found:,}"),
        ("expected extra sales", f"{t.expected_extra_sales:,.1f}"),
        ("expected value", value),
        ("lever cost: 25 % / median / 75 %", costs),
        ("goal (score to reach)", f"{p.goal:.1%}"),
        ("time", f"{p.elapsed_s:,.1f} s ({rate:,.1f} clients/s)"),
        ("engines used", ", ".join(p.engines_used) or "none (nobody searched)"),
        ("engine asked, seed", f"{p.engine}, {p.seed}"),
    ]
    table = Table("figure", "value", title="Campaign summary")
    for name, cell in rows:
        table.add_row(name, text(cell))
    return table


def _column(name: Any) -> str:
    return "" if name is None else f" (column {name})"


def _print_record(record: CampaignFile) -> None:
    console.print(_summary_table(record))


# ---------------------------------------------------------------------------- commands
@campaign_app.command("run")
def campaign_run(
    demo: Annotated[
        bool, typer.Option("--demo", help="Run on the demo bundle and portfolio.")
    ] = False,
    bundle: Annotated[
        Path | None, typer.Option(help="A model bundle folder (levers train --out).")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(help="The clients: CSV (separator detected), Parquet, or a known data set."),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="The bundle's training data (default: --data). It sets the goal (the score of "
            "the product's top 10 % clients) and binds the constraint file's percentile bounds."
        ),
    ] = None,
    id_column: Annotated[str, typer.Option(help="Column holding client ids.")] = "client_id",
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
        str, typer.Option(help="auto (exact when it applies, else search), exact or search.")
    ] = "auto",
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
) -> None:
    """Find the cheapest lever of every client of a segment; print the summary; write --out."""
    options: dict[str, Any] = {
        "demo": demo,
        "bundle": None if bundle is None else str(bundle),
        "data": data,
        "reference": reference,
        "id_column": id_column,
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
    }
    try:
        check_params(
            {
                "--limit": limit,
                "--n-levers": n_levers,
                "--max-actions": max_actions,
                "--workers": workers,
            },
            OPTION_RULES,
            error=CampaignError,
        )
        _check_sources(demo, bundle, data, reference)
        if workers is not None and scheduler is not None:
            raise CampaignError("--workers and --scheduler: give one. Got both.")
        if out is not None:
            _check_out(out, force=force, resume=resume)
        search = {"engine": engine, "seed": seed, "time_limit_s": time_limit_s}
        with console.status("Loading the bundle and the clients..."):
            if bundle is not None and data is not None:
                loaded = _load_bundle(bundle, data, reference, id_column, product, **search)
            else:  # --demo (_check_sources refused the other cases)
                loaded = _load_demo(product, search)
        folder = out if out is not None else Path(f"campaign-{loaded.campaign.product}")
        if out is None:
            _check_out(folder, force=force, resume=resume)
        clients = _first(loaded.clients, segment, limit)
        with _progress() as progress:
            task = progress.add_task("Searching levers", total=None)
            result = loaded.campaign.run(
                clients,
                segment=segment,
                exclude=exclude,
                n_levers=n_levers,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        options["out"] = str(folder)
        record = _write(folder, result, loaded, options, overwrite=force or resume)
    except (AdvisorError, ConstraintError) as exc:
        raise _error(str(exc)) from exc
    except KeyboardInterrupt:
        console.print("interrupted; nothing written", highlight=False)
        raise typer.Exit(code=INTERRUPTED) from None
    _print_record(record)
    console.print(
        f"Wrote {shown(folder / PARQUET)}, {CSV} and {FILE_NAME} ({result.totals.n_segment:,} "
        "clients).",
        highlight=False,
        soft_wrap=True,
    )


@campaign_app.command("show")
def campaign_show(
    folder: Annotated[Path, typer.Argument(help="A campaign folder (levers campaign run --out).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print campaign.json itself.")] = False,
) -> None:
    """Print a campaign's summary, global actions and fairness table from its folder."""
    try:
        record = read_campaign_file(folder)
    except AdvisorError as exc:
        raise _error(str(exc)) from exc
    if as_json:
        sys.stdout.write(
            json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
        )
        return
    _print_record(record)
