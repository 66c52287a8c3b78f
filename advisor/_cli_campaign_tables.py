"""What ``levers campaign run`` and ``show`` print: the progress bar and the tables.

Tables are built from the validated ``campaign.json`` record only (:class:`CampaignFile`),
so ``show`` prints exactly what ``run`` printed. Every value from a file (labels, segment
strings, column names, action texts) goes through :func:`advisor._console.text`.
"""

from __future__ import annotations

import math
from datetime import timedelta
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
)
from rich.table import Table
from rich.text import Text

from advisor._campaign_file import CampaignFile, TrueEffectRecord, fairness_of, global_actions_of
from advisor._console import text
from advisor.campaigns import FairnessReport, GlobalActions

__all__ = [
    "curve_table",
    "fairness_table",
    "global_action_lines",
    "print_record",
    "progress_bar",
    "rate_and_eta",
    "summary_table",
    "true_effect_table",
]


_MAX_ETA_S = 1e9  # about 31 years: beyond, the time left is shown as "?"


def rate_and_eta(done: float, total: float | None, elapsed: float | None) -> str:
    """Say the mean rate so far and the time left at that rate.

    Examples
    --------
    >>> rate_and_eta(300, 1200, 60.0)
    '5.0 clients/s, ETA 0:03:00'
    >>> rate_and_eta(0, None, 2.0)
    '? clients/s, ETA ?'
    """
    rate = done / elapsed if done and elapsed else math.nan
    if not (math.isfinite(rate) and rate > 0):
        return "? clients/s, ETA ?"
    seconds = math.inf if total is None else max(total - done, 0) / rate
    left = "?" if seconds > _MAX_ETA_S else str(timedelta(seconds=round(seconds)))
    return f"{rate:,.1f} clients/s, ETA {left}"


class _RateColumn(ProgressColumn):
    """Clients per second since the start, and the time left at that rate.

    Rich's own speed needs several updates within 30 s; a campaign reports once per batch
    (minutes apart with the exact engine), so the mean since the start is steadier.
    """

    def render(self, task: Task) -> Text:
        return Text(rate_and_eta(task.completed, task.total, task.elapsed))


def progress_bar(console: Console) -> Progress:
    """Return the bar of a run: clients done / total, rate, ETA (off when not a terminal)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
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
        ("ran on", str(o.get("ran_on") or "in-process")),
        ("written at (UTC)", record.created_at or "unknown"),
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
    for warning in record.warnings:
        console.print(Text("warning: ", style="yellow") + text(warning), soft_wrap=True)
    actions = global_actions_of(record)
    if actions is not None:
        for line in global_action_lines(actions):
            console.print(line, soft_wrap=True)
        if len(actions.curve):
            console.print(curve_table(actions))
    fairness = fairness_of(record)
    if fairness is not None:
        console.print(fairness_table(fairness))
        for flag in fairness.flags:
            console.print(Text("flag: ", style="bold yellow") + text(flag))
        for note in fairness.notes:
            console.print(text(note, style="dim"))
    if record.true_effect is not None:
        console.print(true_effect_table(record.true_effect))


def _share(value: float | str | None) -> str:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:.1%}"
    return _number(value)


def _number(value: float | str | None, digits: int = 2) -> str:
    """Format a figure read back from JSON (``None`` for NaN, ``"inf"`` for infinity)."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:,.{digits}f}"
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def global_action_lines(actions: GlobalActions) -> list[Text]:
    """Return a title line and one line per global action (its full text, never wrapped)."""
    covered = sum(a.n_covered for a in actions.actions)
    lines = [
        Text(
            f"Global actions: {len(actions.actions)} cover {covered:,} of the "
            f"{actions.n_with_lever:,} clients with a lever ({actions.n_candidates:,} candidates "
            f"verified client by client; selected by {actions.method}).",
            style="bold",
        )
    ]
    for a in actions.actions:
        line = Text(f"{a.rank}. ") + text(a.text.get("en", ""))
        clients = f"{a.n_covered:,} client{'s' if a.n_covered != 1 else ''}"
        line += Text(
            f"  [{clients}, {_share(a.coverage)}; mean cost "
            f"{_number(a.mean_cost)}, {_number(a.cost_ratio)}x their own cheapest; "
            f"+{_number(a.expected_extra_sales)} expected sales]",
            style="dim",
        )
        lines.append(line)
    if not actions.actions:
        lines.append(Text("No global action (no client has a lever)."))
    return lines


def curve_table(actions: GlobalActions) -> Table:
    """Return the coverage-cost curve: the best k actions, for k = 1 .. max_actions."""
    table = Table(title="Coverage-cost curve (best k actions)")
    for name in ("k", "covered", "coverage", "mean cost", "cost ratio", "extra sales"):
        table.add_column(name, justify="right")
    for row in actions.curve.to_dict(orient="records"):
        table.add_row(
            str(row["k"]),
            f"{int(row['n_covered']):,}",
            _share(row["coverage"]),
            _number(row["mean_cost"]),
            _number(row["cost_ratio"]),
            _number(row["expected_extra_sales"]),
        )
    return table


def fairness_table(report: FairnessReport) -> Table:
    """Return coverage and cost of the cheapest levers per protected group (flags marked)."""
    table = Table(title=f"Fairness of recourse (tolerance {report.tolerance:g})")
    for name in ("attribute", "group", "searched", "advised", "coverage", "mean cost"):
        table.add_column(name, justify="left" if name in ("attribute", "group") else "right")
    table.add_column("median cost", justify="right")
    table.add_column("flag")
    for g in report.groups:
        table.add_row(
            text(g.attribute),
            text(g.group),
            f"{g.n_searched:,}",
            f"{g.n_advised:,}",
            _share(g.coverage),
            _number(g.mean_cost),
            _number(g.median_cost),
            Text("flagged", style="bold yellow") if g.flagged else "",
        )
    return table


def true_effect_table(effect: TrueEffectRecord) -> Table:
    """Return the model's expected extra sales next to the demo SCM's true ones."""
    table = Table(title=f"True effect (demo SCM, seed {effect.seed})")
    for name in (
        "applied",
        "clients",
        "expected extra sales",
        "true extra sales",
        "true / expected",
    ):
        table.add_column(name, justify="left" if name == "applied" else "right")
    table.add_row(
        "each client's cheapest lever",
        f"{effect.n_clients:,}",
        _number(effect.levers_expected),
        _number(effect.levers_true),
        _share(effect.levers_ratio),
    )
    if effect.n_global is not None:
        table.add_row(
            "the global actions",
            f"{effect.n_global:,}",
            _number(effect.global_expected),
            _number(effect.global_true),
            _share(effect.global_ratio),
        )
    return table
