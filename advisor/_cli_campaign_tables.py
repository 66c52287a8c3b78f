"""What ``levers campaign run`` and ``show`` print: the progress bar and the tables.

Tables are built from the validated ``campaign.json`` record only (:class:`CampaignFile`),
so ``show`` prints exactly what ``run`` printed, in English or French (``--lang``; the
texts are in :mod:`advisor._campaign_words`). Every value from a file (labels, segment
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

from advisor._campaign_file import (
    CampaignFile,
    TrueEffectRecord,
    fairness_of,
    global_actions_of,
    product_label_of,
)
from advisor._campaign_words import count, french_number, number, say, share
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


def rate_and_eta(
    done: float, total: float | None, elapsed: float | None, language: str = "en"
) -> str:
    """Say the mean rate so far and the time left at that rate.

    Examples
    --------
    >>> rate_and_eta(300, 1200, 60.0)
    '5.0 clients/s, ETA 0:03:00'
    >>> rate_and_eta(0, None, 2.0)
    '? clients/s, ETA ?'
    >>> rate_and_eta(300, 1200, 60.0, "fr")
    '5,0 clients/s, reste 0:03:00'
    """
    rate = done / elapsed if done and elapsed else math.nan
    if not (math.isfinite(rate) and rate > 0):
        return say("rate", language, rate="?", left="?")
    seconds = math.inf if total is None else max(total - done, 0) / rate
    left = "?" if seconds > _MAX_ETA_S else str(timedelta(seconds=round(seconds)))
    if language == "fr":
        left = left.replace(" days, ", " j ").replace(" day, ", " j ")
    return say("rate", language, rate=number(rate, language, 1), left=left)


class _RateColumn(ProgressColumn):
    """Clients per second since the start, and the time left at that rate.

    Rich's own speed needs several updates within 30 s; a campaign reports once per batch
    (minutes apart with the exact engine), so the mean since the start is steadier.
    """

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language

    def render(self, task: Task) -> Text:
        return Text(rate_and_eta(task.completed, task.total, task.elapsed, self.language))


def progress_bar(console: Console, language: str = "en") -> Progress:
    """Return the bar of a run: clients done / total, rate, ETA (off when not a terminal)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(language),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # a log or a pipe gets the summary only
    )


def _segment(options: dict[str, Any], lang: str) -> str:
    segment = say("all_clients", lang) if options.get("segment") is None else options["segment"]
    if options.get("limit") is not None:
        segment = f"{segment}{say('first_clients', lang, n=count(options['limit'], lang))}"
    return str(segment)


def _ran_on(options: dict[str, Any], lang: str) -> str:
    """Say where the run went: the record keeps the English words, said again in ``lang``."""
    stored = str(options.get("ran_on") or "in-process")
    workers = options.get("workers")
    if lang == "en":
        return stored
    if stored.startswith("local Dask cluster") and isinstance(workers, int):
        return say("local_cluster", lang, n=workers, s="s" if workers > 1 else "")
    if stored.startswith("Dask scheduler "):
        return say("scheduler", lang, address=stored.removeprefix("Dask scheduler "))
    return say("in_process", lang) if stored == "in-process" else stored


def summary_table(record: CampaignFile, language: str = "en") -> Table:
    """Return the campaign's figures as a two-column table (from ``campaign.json``)."""
    t, p, o, lang = record.totals, record.provenance, record.options, language
    value = say("no_value", lang)
    if t.expected_value is not None:
        value = f"{number(t.expected_value, lang, 0)} {record.currency or ''}".rstrip()
    q = t.cost_quantiles
    costs = (
        say("no_lever", lang)
        if not q
        else " / ".join(number(q[k], lang) for k in ("0.25", "0.5", "0.75"))
    )
    rate = t.n_segment / p.elapsed_s if p.elapsed_s > 0 else 0.0
    excluded = count(t.n_excluded, lang)
    if o.get("exclude") is not None:
        excluded += say("column", lang, name=o["exclude"])
    rows = [
        ("product", f"{product_label_of(record, lang)} ({record.product})"),
        ("segment", _segment(o, lang)),
        ("n_segment", count(t.n_segment, lang)),
        ("n_excluded", excluded),
        ("n_reached", count(t.n_reached, lang)),
        ("n_searched", count(t.n_searched, lang)),
        ("n_advised", count(t.n_advised, lang)),
        ("coverage_row", share(t.coverage, lang)),
        ("no_lever_row", f"{count(t.n_none_proved, lang)} / {count(t.n_none_not_found, lang)}"),
        ("extra_sales_row", number(t.expected_extra_sales, lang, 1)),
        ("value_row", value),
        ("cost_row", costs),
        ("goal_row", share(p.goal, lang)),
        ("time_row", say("time", lang, s=number(p.elapsed_s, lang, 1), rate=number(rate, lang, 1))),
        ("engines_row", ", ".join(p.engines_used) or say("no_engine", lang)),
        ("engine_row", f"{p.engine}, {p.seed}"),
        ("ran_on_row", _ran_on(o, lang)),
        ("written_row", record.created_at or say("unknown", lang)),
    ]
    table = Table(say("figure", lang), say("value", lang), title=say("summary", lang))
    for key, cell in rows:
        table.add_row(say(key, lang), text(cell))
    return table


def print_record(console: Console, record: CampaignFile, language: str = "en") -> None:
    """Print everything ``campaign.json`` holds: the summary, then each report present."""
    lang = language
    console.print(summary_table(record, lang))
    for warning in record.warnings:
        console.print(Text(say("warning", lang), style="yellow") + text(warning), soft_wrap=True)
    actions = global_actions_of(record)
    if actions is not None:
        for line in global_action_lines(actions, lang):
            console.print(line, soft_wrap=True)
        if len(actions.curve):
            console.print(curve_table(actions, lang))
    fairness = fairness_of(record)
    if fairness is not None:
        console.print(fairness_table(fairness, lang))
        for flag in fairness.flag_texts(lang):
            console.print(Text(say("flag", lang), style="bold yellow") + text(flag))
        for note in fairness.note_texts(lang):
            console.print(text(note, style="dim"))
    if record.true_effect is not None:
        console.print(true_effect_table(record.true_effect, lang))


def global_action_lines(actions: GlobalActions, language: str = "en") -> list[Text]:
    """Return a title line and one line per global action (its full text, never wrapped)."""
    lang = language
    covered = sum(a.n_covered for a in actions.actions)
    title = say(
        "actions_title",
        lang,
        n=len(actions.actions),
        covered=count(covered, lang),
        with_lever=count(actions.n_with_lever, lang),
        candidates=count(actions.n_candidates, lang),
        method=actions.method,
    )
    lines = [Text(title, style="bold")]
    for a in actions.actions:
        line = Text(f"{a.rank}. ") + text(a.text.get(lang) or a.text.get("en", ""))
        n = count(a.n_covered, lang)
        figures = say(
            "action_figures",
            lang,
            clients=say("one_client" if a.n_covered == 1 else "clients", lang, n=n),
            share=share(a.coverage, lang),
            cost=number(a.mean_cost, lang),
            ratio=number(a.cost_ratio, lang),
            sales=number(a.expected_extra_sales, lang),
        )
        lines.append(line + Text(figures, style="dim"))
    if not actions.actions:
        lines.append(Text(say("no_action", lang)))
    return lines


def curve_table(actions: GlobalActions, language: str = "en") -> Table:
    """Return the coverage-cost curve: the best k actions, for k = 1 .. max_actions."""
    lang = language
    table = Table(title=say("curve", lang))
    table.add_column("k", justify="right")
    for key in ("covered", "coverage", "mean_cost", "cost_ratio", "extra_sales"):
        table.add_column(say(key, lang), justify="right")
    for row in actions.curve.to_dict(orient="records"):
        table.add_row(
            str(row["k"]),
            count(int(row["n_covered"]), lang),
            share(row["coverage"], lang),
            number(row["mean_cost"], lang),
            number(row["cost_ratio"], lang),
            number(row["expected_extra_sales"], lang),
        )
    return table


def fairness_table(report: FairnessReport, language: str = "en") -> Table:
    """Return coverage and cost of the cheapest levers per protected group (flags marked)."""
    lang = language
    tolerance = f"{report.tolerance:g}"
    tolerance = french_number(tolerance) if lang == "fr" else tolerance
    table = Table(title=say("fairness", lang, tolerance=tolerance))
    for key in ("attribute", "group"):
        table.add_column(say(key, lang), justify="left")
    for key in ("searched", "advised", "coverage", "mean_cost", "median_cost"):
        table.add_column(say(key, lang), justify="right")
    table.add_column(say("flag_column", lang))
    for g in report.groups:
        table.add_row(
            text(g.attribute),
            text(g.group),
            count(g.n_searched, lang),
            count(g.n_advised, lang),
            share(g.coverage, lang),
            number(g.mean_cost, lang),
            number(g.median_cost, lang),
            Text(say("flagged", lang), style="bold yellow") if g.flagged else "",
        )
    return table


def true_effect_table(effect: TrueEffectRecord, language: str = "en") -> Table:
    """Return the model's expected extra sales next to the demo SCM's true ones."""
    lang = language
    table = Table(title=say("truth", lang, seed=effect.seed))
    table.add_column(say("applied", lang), justify="left")
    for key in ("truth_clients", "expected_sales", "true_sales", "true_ratio"):
        table.add_column(say(key, lang), justify="right")
    table.add_row(
        say("cheapest_levers", lang),
        count(effect.n_clients, lang),
        number(effect.levers_expected, lang),
        number(effect.levers_true, lang),
        share(effect.levers_ratio, lang),
    )
    if effect.n_global is not None:
        table.add_row(
            say("global_actions", lang),
            count(effect.n_global, lang),
            number(effect.global_expected, lang),
            number(effect.global_true, lang),
            share(effect.global_ratio, lang),
        )
    return table
