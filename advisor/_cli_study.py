"""``levers study run`` and ``levers study report``: the comparative study of explanations.

``run`` checks every option (data sets, models, methods, seed, the output folder, the real
data files) before any work, then runs :func:`advisor.study.run_study` with one line of
progress per step and prints the key measures; ``report`` writes the HTML/PDF report of a
study folder. The study's modules (the models, lime, shap, torch) load in the commands only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from advisor._console import shown
from advisor.errors import AdvisorError

__all__ = ["study_app"]

console = Console(width=None if sys.stdout.isatty() else 120)
study_app = typer.Typer(
    help="The comparative study of explanation methods: run it, then write its report.",
    no_args_is_help=True,
)

_SHOWN_METRICS = (
    "deletion_auc",
    "insertion_auc",
    "truth_spearman",
    "stability_jaccard_seeds",
    "actionability_top5",
    "runtime_s",
)


def _error(message: str) -> typer.Exit:
    lines = "\n".join(shown(line) for line in message.splitlines())
    console.print(f"[bold red]error:[/] {lines}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _names(option: str, given: str | None, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """Split a comma-separated option and refuse a name outside ``allowed``."""
    if given is None:
        return None
    names = tuple(name.strip() for name in given.split(","))
    unknown = [name for name in names if name not in allowed]
    if not names or unknown:
        raise _error(
            f"{option}: must be comma-separated names among {', '.join(allowed)}. Got "
            f"{', '.join(repr(n) for n in unknown) or repr(given)}."
        )
    return tuple(dict.fromkeys(names))


@study_app.command("run")
def run_command(
    datasets: Annotated[
        str, typer.Option(help="Comma-separated data sets among demo, bank, german.")
    ] = "demo,bank,german",
    models: Annotated[
        str, typer.Option(help="Comma-separated model families among logistic, xgboost, mlp.")
    ] = "logistic,xgboost,mlp",
    methods: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated methods among lime, levers_lime, tree_shap, exact_shap, "
            "kernel_shap, integrated_gradients (default: all; a method that does not apply "
            "to a family is skipped, with the reason in study.json)."
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small data and one AutoML trial: minutes.")
    ] = False,
    out: Annotated[
        Path, typer.Option(help="Folder of the result tables (new, empty or an earlier study's).")
    ] = Path("study"),
    seed: Annotated[int, typer.Option(help="Seed of the data, models, clients, methods.")] = 0,
    n_clients: Annotated[
        int | None, typer.Option(help="Held-out clients per data set (default 3 quick, 30 full).")
    ] = None,
    n_reruns: Annotated[
        int | None,
        typer.Option(help="Seeds per explanation, stability (default 5 quick, 10 full)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder of the real data sets (default: $LEVERS_SHARED_DATA)."),
    ] = None,
) -> None:
    """Run the comparative study and write its tables to --out (parquet and CSV)."""
    from advisor.explain import METHODS
    from advisor.study import DATASETS, MODELS, check_out, run_study

    chosen_datasets = _names("--datasets", datasets, DATASETS)
    chosen_models = _names("--models", models, MODELS)
    chosen_methods = _names("--methods", methods, tuple(METHODS))

    try:
        check_out(out)
        started = time.perf_counter()

        def say(message: str) -> None:
            console.print(
                f"[dim]{time.perf_counter() - started:7.1f} s[/] {shown(message)}", highlight=False
            )

        result = run_study(
            out,
            datasets=chosen_datasets or DATASETS,
            models=chosen_models or MODELS,
            methods=chosen_methods,
            n_clients=n_clients,
            n_reruns=n_reruns,
            quick=quick,
            seed=seed,
            progress=say,
            data_dir=data_dir,
        )
    except AdvisorError as exc:
        raise _error(str(exc)) from None
    _print_summary(result.table("metrics"))
    skipped = result.study["skipped"]
    console.print(
        f"{len(skipped)} method runs skipped (reasons in study.json). Tables written to "
        f"{shown(result.out)} in {result.study['elapsed_s']:.0f} s.",
        highlight=False,
    )


def _print_summary(metrics: object) -> None:
    import pandas as pd

    frame = metrics if isinstance(metrics, pd.DataFrame) else pd.DataFrame()
    if frame.empty:
        return
    wide = frame.pivot_table(
        index=["dataset", "model", "method"], columns="metric", values="value", sort=False
    )
    columns = [name for name in _SHOWN_METRICS if name in wide.columns]
    table = Table("data set", "model", "method", *columns)
    for key, row in wide.iterrows():
        cells = ["" if pd.isna(row[c]) else f"{row[c]:.3g}" for c in columns]
        table.add_row(*(shown(part) for part in key), *cells)  # type: ignore[attr-defined]
    console.print(table)


@study_app.command("report")
def report_command(
    folder: Annotated[Path, typer.Argument(help="A study folder (levers study run --out).")],
) -> None:
    """Write DIR/report.html (self-contained) and DIR/report.pdf from a study's tables."""
    try:
        from advisor.study import write_report
    except (ImportError, AttributeError):
        raise _error(
            "levers study report: the report writer is not part of this installation. "
            "Hint: update Levers; the study's tables are in the folder meanwhile."
        ) from None
    try:
        html, pdf = write_report(folder)
    except AdvisorError as exc:
        raise _error(str(exc)) from None
    console.print(f"Report written: {shown(html)} and {shown(pdf)}.", highlight=False)
