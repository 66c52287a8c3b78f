"""``levers train`` and ``levers models show``: train, select and inspect model bundles."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from advisor._cli_data_options import DecimalOption, EncodingOption
from advisor._console import shown, text
from advisor.datasets import read_clients
from advisor.errors import AdvisorError
from constraints import ConstraintError

if TYPE_CHECKING:  # advisor.models (optuna, torch, XGBoost) is imported by the commands only
    from advisor.models import ModelBundle, TrainingResult, TrialProgress

__all__ = ["models_app", "train_command"]

console = Console(width=None if sys.stdout.isatty() else 120)
models_app = typer.Typer(help="Inspect trained model bundles.", no_args_is_help=True)


INTERRUPTED = 130  # the shell's code for Ctrl-C


def _error(message: str, code: int = 2) -> typer.Exit:
    lines = "\n".join(shown(line) for line in message.splitlines())  # each line inert
    console.print(f"[bold red]error:[/] {lines}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def _interrupted() -> typer.Exit:
    console.print("interrupted; nothing written", highlight=False)
    return typer.Exit(code=INTERRUPTED)


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Keep optuna's own log (a traceback on Ctrl-C) off the terminal; the bar shows trials."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def _check_numbers(budget_s: float | None, n_trials: int | None, seed: int) -> None:
    """Refuse a budget, trial count or seed out of range before any work."""
    from advisor.models import MAX_BUDGET_S, MAX_SEED, MAX_TRIALS

    if budget_s is not None and not (math.isfinite(budget_s) and 0 < budget_s <= MAX_BUDGET_S):
        raise _error(
            f"--budget-s: must be a finite number of seconds, > 0 and <= {MAX_BUDGET_S:,.0f} "
            f"(24 h). Got {budget_s!r}."
        )
    if n_trials is not None and not 1 <= n_trials <= MAX_TRIALS:
        raise _error(f"--n-trials: must be between 1 and {MAX_TRIALS:,}. Got {n_trials}.")
    if not 0 <= seed <= MAX_SEED:
        raise _error(f"--seed: must be between 0 and {MAX_SEED:,} (2**32 - 1). Got {seed}.")


def _families(text: str) -> tuple[str, ...]:
    from advisor.models import FAMILIES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        raise _error(
            f"--families: must be a comma-separated list among {', '.join(FAMILIES)}. Got {text!r}."
        )
    return names


def _positive(frame: pd.DataFrame, target: str, given: str | None) -> Any:
    """Return the positive class: given, inferred from yes/1/true, or asked on a terminal."""
    from advisor.models import infer_positive, observed_classes

    if given is not None or target not in frame.columns:
        return given
    values = observed_classes(frame[target])
    try:
        return infer_positive(values, target)
    except AdvisorError:
        if len(values) != 2 or not sys.stdin.isatty():
            raise
    choice: str = typer.prompt(
        f"Which value of {target!r} is the positive class ({' / '.join(map(str, values))})?"
    )
    return choice


class _TrialBar:
    """A rich progress bar over the time budget (or the number of trials)."""

    def __init__(self, progress: Progress, total: float, by_time: bool) -> None:
        self.progress, self.by_time = progress, by_time
        self.task = progress.add_task("starting", total=total)
        self.product, self.done_before, self.done = "", 0.0, 0.0

    def __call__(self, event: TrialProgress, product: str = "") -> None:
        if event.state == "refit":  # announced before the refit starts
            self.progress.console.print(_refit_line(event, product), highlight=False)
            return
        if product != self.product:  # a recommender trains one study per product, in turn
            self.product, self.done_before = product, self.done
        step = event.elapsed_s if self.by_time else event.trial + 1
        self.done = self.done_before + step
        best = "" if event.best_score is None else f"best {event.best_score:.4f}"
        where = f"{shown(product)}: " if product else ""
        self.progress.update(
            self.task,
            completed=self.done,
            description=f"{where}trial {event.trial} {event.family} {event.state} {best}",
        )


def _refit_line(event: TrialProgress, product: str) -> str:
    where = f"{shown(product)}: " if product else ""
    return (
        f"{where}refitting the winner (trial {event.trial}, {shown(event.family)}) on every "
        f"training row: about {event.refit_s or 0.0:.1f} s, after the search "
        f"({event.elapsed_s:.1f} s so far)."
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _leaderboard_table(result: TrainingResult, top: int = 10) -> Table:
    board = result.leaderboard
    metric = f"cv_{result.report.metric}"
    table = Table(
        "rank", "trial", "family", metric, "std", "fit s", "parameters", title="Leaderboard"
    )
    ranks = iter(range(1, len(board) + 1))  # complete trials only: the others are unranked
    for values in board.head(top).to_dict(orient="records"):
        params = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in values["params"].items()
        )
        score = values[metric]
        complete = values["state"] == "complete"
        table.add_row(
            str(next(ranks)) if complete else values["state"],
            str(values["trial"]),
            str(values["family"]),
            "" if pd.isna(score) else f"{score:.4f}",
            "" if pd.isna(values["cv_std"]) else f"{values['cv_std']:.4f}",
            "" if pd.isna(values["fit_time_s"]) else f"{values['fit_time_s']:.2f}",
            params if values["state"] == "complete" else f"({values['note']}) {params}",
        )
    return table


def _print_result(result: TrainingResult, out: Path) -> None:
    console.print(_leaderboard_table(result))
    m, r = result.metrics, result.report
    console.print(
        f"Selected: [bold]{result.model.family}[/] after {r.n_trials} trials "
        f"({r.elapsed_s:.0f} s, stopped by {r.stopped_by}). Test set ({m.n_test:,} clients): "
        f"AUC {m.auc:.4f}, average precision {m.average_precision:.4f}, Brier {m.brier:.4f}.",
        highlight=False,
    )
    if r.ignored_columns:
        console.print(
            f"Ignored columns (not in the constraint file): "
            f"{', '.join(map(shown, r.ignored_columns))}",
            highlight=False,
        )
    ids = "none (clients are numbered by row)" if r.id_column is None else shown(r.id_column)
    console.print(f"Client ids: {ids} (recorded in the bundle).", highlight=False)
    if r.excluded_families:
        console.print(f"Excluded (no monotone support): {', '.join(r.excluded_families)}")
    for family, reason in r.skipped_families.items():
        console.print(f"Skipped {shown(family)}: {shown(reason)}.", highlight=False)
    if r.n_search < r.n_train:
        console.print(
            f"Searched on a stratified sample of {r.n_search:,} of {r.n_train:,} training rows "
            f"(the budget allowed no more); the final model is refitted on all {r.n_train:,}.",
            highlight=False,
        )
    if r.goal == "lower":
        console.print(
            f"Goal: lower (a risk score: levers bring P({shown(r.target)} = "
            f"{shown(r.classes[1])}) down).",
            highlight=False,
        )
    console.print(f"Saved the bundle to {shown(out)}.", highlight=False)


def train_command(
    data: Annotated[
        str | None,
        typer.Option(
            help="Training data: CSV (separator and encoding detected), Parquet, a known data "
            "set or a SQL URL (sqlite:///clients.db?table=clients)."
        ),
    ] = None,
    target: Annotated[str | None, typer.Option(help="The binary target column.")] = None,
    constraints: Annotated[
        Path | None, typer.Option(help="The constraint file: its features are the model's.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Bundle folder to write (new, empty, or a bundle with --force)."),
    ] = None,
    budget_s: Annotated[
        float | None,
        typer.Option(
            help="Time budget in seconds (> 0, at most 86400 = 24 h), kept within 10 % plus the "
            "final refit (announced). Default: 300, or none with --n-trials (a fixed number "
            "of trials gives the same model on any machine; a budget does not)."
        ),
    ] = None,
    families: Annotated[
        str, typer.Option(help="Comma-separated families: logistic,xgboost,mlp.")
    ] = "logistic,xgboost,mlp",
    metric: Annotated[str, typer.Option(help="roc_auc or average_precision.")] = "roc_auc",
    positive: Annotated[
        str | None, typer.Option(help="Positive class (inferred from yes/1/true otherwise).")
    ] = None,
    n_trials: Annotated[
        int | None, typer.Option(help="Stop after this many trials (1 to 10000).")
    ] = None,
    monotone: Annotated[
        bool, typer.Option(help="Levers moved in their allowed direction never lower the score.")
    ] = False,
    goal: Annotated[
        str | None,
        typer.Option(
            help="raise (a propensity: levers lift the score) or lower (a risk score: the "
            "positive class is the bad outcome, levers bring it down). Default: the constraint "
            "file's goal."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, folds, sampler and models.")] = 0,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Column of client ids, recorded in the bundle (default: detected, else none)."
        ),
    ] = None,
    product_label: Annotated[
        str | None,
        typer.Option(
            "--label",
            help="The product's name for advisors, e.g. 'Card default' (default: the "
            "target and positive class).",
        ),
    ] = None,
    product_label_fr: Annotated[
        str | None,
        typer.Option("--label-fr", help="The product's name in French (default: --label)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing bundle folder.")] = False,
    demo: Annotated[
        bool, typer.Option(help="Build the demo bundle the app opens on (other options ignored).")
    ] = False,
    encoding: EncodingOption = None,
    decimal: DecimalOption = None,
) -> None:
    """Select and tune a model (AutoML), calibrate it, test it and save a bundle."""
    from advisor.models import ModelBundle, save_bundle, train

    if demo:
        _train_demo(out)
        return
    if data is None or target is None or constraints is None or out is None:
        given = {"--data": data, "--target": target, "--constraints": constraints, "--out": out}
        missing = ", ".join(name for name, value in given.items() if value is None)
        raise _error(f"train: {missing} must be given (or --demo). Got none.")
    if budget_s is None and n_trials is None:
        budget_s = 300.0
    _check_numbers(budget_s, n_trials, seed)
    names = _families(families)
    try:
        ModelBundle.check_target(out, overwrite=force)
        frame = read_clients(data, encoding=encoding, decimal=decimal)
        label = _positive(frame, target, positive)
        with _quiet_optuna(), _progress() as progress:
            by_time = n_trials is None
            bar = _TrialBar(progress, (budget_s or 0.0) if by_time else n_trials or 1, by_time)
            result = train(
                frame,
                target,
                constraints,
                families=names,
                budget_s=budget_s,
                n_trials=n_trials,
                metric=metric,  # type: ignore[arg-type]
                positive=label,
                monotone=monotone,
                seed=seed,
                progress=bar,
                goal=goal,  # type: ignore[arg-type]  # checked by train
                label=None
                if product_label is None
                else {"en": product_label, "fr": product_label_fr or product_label},
                id_column=id_column,
            )
        path = save_bundle(result, out, overwrite=force)
    except (AdvisorError, ConstraintError) as exc:
        raise _error(str(exc)) from exc
    except KeyboardInterrupt:
        raise _interrupted() from None
    _print_result(result, path)


def _train_demo(out: Path | None) -> None:
    from advisor.models import (
        DemoBundleSettings,
        ModelBundle,
        build_demo_bundle,
        demo_catalog,
        load_bundle,
    )

    settings = DemoBundleSettings.from_env()
    if out is not None:
        settings = replace(settings, out=out)
    by_time = settings.n_trials is None
    try:
        ModelBundle.check_target(settings.out, overwrite=True)
        n_products = len(demo_catalog().products)
        total = settings.budget_s if by_time else n_products * (settings.n_trials or 1)
        with _quiet_optuna(), _progress() as progress:
            bar = _TrialBar(progress, total, by_time)
            path = build_demo_bundle(settings, progress=lambda product, e: bar(e, product))
        bundle = load_bundle(path)
    except (AdvisorError, ConstraintError) as exc:
        raise _error(str(exc)) from exc
    except KeyboardInterrupt:
        raise _interrupted() from None
    console.print(_card_table(bundle))
    console.print(f"Saved the demo bundle to {shown(path)}.", highlight=False)


def _card_table(bundle: ModelBundle) -> Table:
    metrics = {entry.metric for entry in bundle.card.models.values()}
    names = {"roc_auc": "CV AUC", "average_precision": "CV AP"}
    cv = names.get(metrics.pop(), "CV") if len(metrics) == 1 else "CV score"
    table = Table(title="Models (CV: cross-validation; AUC, AP, Brier: held-out test set)")
    longest = max(len(text(name)) for name in bundle.card.models)
    table.add_column("model", no_wrap=True, min_width=longest)
    table.add_column("family", no_wrap=True, min_width=8)
    for header in (cv, "AUC", "AP", "Brier", "trials"):
        table.add_column(header, justify="right", no_wrap=True, min_width=6)
    for name, entry in bundle.card.models.items():
        test = entry.test
        table.add_row(
            text(name),
            text(entry.family),
            f"{entry.cv_score:.4f}",
            f"{test.auc:.4f}",
            f"{test.average_precision:.4f}",
            f"{test.brier:.4f}",
            str(entry.n_trials),
        )
    return table


@models_app.command("show")
def models_show(
    bundle: Annotated[Path, typer.Argument(help="A model bundle folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw model card.")] = False,
) -> None:
    """Print a bundle's model card (after checking every file against it)."""
    from advisor.models import load_bundle

    try:
        loaded = load_bundle(bundle)
    except AdvisorError as exc:
        raise _error(str(exc), code=1) from exc
    card = loaded.card
    if as_json:
        sys.stdout.write(json.dumps(card.model_dump(mode="json"), indent=2) + "\n")
        return
    digest = card.constraint_file.sha256
    console.print(
        f"[bold]{shown(bundle)}[/]: {card.kind} bundle created {shown(card.created_at)}, seed "
        f"{card.seed}, {len(card.features)} features; constraint file "
        f"{shown(card.constraint_file.name)} "
        f"({'no file' if digest is None else 'sha256 ' + shown(digest[:12])}).",
        highlight=False,
    )
    console.print(_integrity_line(loaded), highlight=False)
    console.print(_card_table(loaded))
    console.print("Features: " + ", ".join(map(shown, card.features)), highlight=False)
    console.print(
        "Libraries: " + ", ".join(f"{shown(k)} {shown(v)}" for k, v in card.libraries.items()),
        highlight=False,
    )


def _integrity_line(bundle: ModelBundle) -> str:
    """Say exactly what :func:`load_bundle` verified."""
    n_files = bundle.integrity.n_files
    files = (
        f"{n_files} files listed in the card read and matching their SHA-256, all inside the "
        "folder, no symbolic links; unlisted files are never read"
    )
    if bundle.integrity.card_verified:
        return f"Integrity: card matches model_card.sha256; {files}."
    return (
        "Integrity: [yellow]card not verified[/] (no model_card.sha256: written by an older "
        f"Levers; re-save or retrain the bundle to add it); {files}."
    )
