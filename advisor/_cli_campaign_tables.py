"""What ``levers campaign run`` and ``show`` print: the progress bar and the tables.

Tables are built from the validated ``campaign.json`` record only (:class:`CampaignFile`),
so ``show`` prints exactly what ``run`` printed. Every value from a file (labels, segment
strings, column names, action texts) goes through :func:`advisor._console.text`.
"""

from __future__ import annotations

from typing import Any

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

from advisor._campaign_file import CampaignFile
from advisor._console import text

__all__ = ["print_record", "progress_bar", "summary_table"]


class _RateColumn(ProgressColumn):
    """Clients per second (rich's own estimate over the last 30 s)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("? clients/s" if speed is None else f"{speed:,.1f} clients/s")


def progress_bar(console: Console) -> Progress:
    """Return the bar of a run: clients done / total, rate, ETA (off when not a terminal)."""
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


def summary_table(record: CampaignFile) -> Table:
    """Return the campaign's figures as a two-column table (from ``campaign.json``)."""
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


def print_record(console: Console, record: CampaignFile) -> None:
    """Print everything ``campaign.json`` holds: the summary, then each report present."""
    console.print(summary_table(record))
