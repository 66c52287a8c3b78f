"""The report of ``compare_engines.py``: time ratios, the issue's bars, tables and files."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _engines_metrics import MethodRow
from _engines_runs import OURS, ManyRow


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One of the issue's bars: what it says (with the measured value) and its verdict."""

    name: str
    ok: bool | None  # None: not measurable in this run


COLUMNS = (
    "dataset",
    "model",
    "method",
    "coverage",
    "covered_ok",
    "validity",
    "feasible",
    "changes",
    "changed",
    "proximity",
    "plausibility",
    "diversity",
    "time_median",
    "time_p95",
    "ratio_dice_random",
    "setup_s",
    "calls",
    "rows_scored",
    "model_s",
    "outside_s",
    "top_cost",
    "optimal",
)


# ----------------------------------------------------------------------------- ratios
def add_ratios(rows: list[MethodRow]) -> list[MethodRow]:
    """Each method's median time over DiCE-random's (same data set and model)."""
    out = []
    for row in rows:
        ref = next(
            (
                r
                for r in rows
                if (r.dataset, r.model) == (row.dataset, row.model)
                and r.method.startswith("dice-random")
            ),
            None,
        )
        base = math.nan if ref is None else ref.time_median
        ratio = row.time_median / base if base > 0 else math.nan
        out.append(replace(row, ratio_dice_random=ratio))
    return out


# ----------------------------------------------------------------------------- bars
def _bar(name: str, value: float, ok: bool) -> Bar:
    """A bar; ``None`` (not measurable) when its value is NaN."""
    return Bar(name=name, ok=None if math.isnan(value) else ok)


def engine_bars(tag: str, r: MethodRow, proved: set[int], genetic: float) -> list[Bar]:
    """Bars every one of our engines must pass (``genetic``: DiCE-genetic's proximity)."""
    m = r.engine
    if r.first_error:
        return [Bar(name=f"{tag} {m}: runs ({r.first_error[:100]})", ok=False)]
    n_viol = sum(r.violations.values())
    covered = len(proved & set(r.found_clients)) / len(proved) if proved else math.nan
    checks = [
        Bar(name=f"{tag} {m}: 0 violations ({n_viol})", ok=n_viol == 0),
        _bar(f"{tag} {m}: validity 100 % ({pct(r.validity)})", r.validity, r.validity == 1),
        _bar(
            f"{tag} {m}: coverage >= 99 % of {len(proved)} clients known to have a lever "
            f"({pct(covered)})",
            covered,
            covered >= 0.99,
        ),
    ]
    if m != "search" or not tag.endswith("/xgboost"):
        return checks  # the issue sets sparsity and proximity bars for search on XGBoost
    return [
        *checks,
        _bar(f"{tag} {m}: mean changes <= 2.0 ({r.changes:.2f})", r.changes, r.changes <= 2),
        _bar(
            f"{tag} {m}: proximity <= DiCE-genetic, same clients ({r.proximity:.2f} vs "
            f"{genetic:.2f})",
            r.proximity + genetic,
            r.proximity <= genetic,
        ),
    ]


def same_clients_proximity(ours: MethodRow, genetic: MethodRow | None) -> tuple[float, float]:
    """Mean proximity of ours and DiCE-genetic over the clients both answered."""
    if genetic is None:
        return ours.proximity, math.nan
    a, b = ours.prox_by_client, genetic.prox_by_client
    common = sorted(set(a) & set(b))
    if not common:
        return ours.proximity, math.nan
    return float(np.mean([a[i] for i in common])), float(np.mean([b[i] for i in common]))


def bars(rows: list[MethodRow], many_rows: list[ManyRow]) -> list[Bar]:
    """The issue's bars, per data set and model (``None``: not measurable in this run)."""
    out: list[Bar] = []
    for key in dict.fromkeys((r.dataset, r.model) for r in rows):
        group = {r.engine: r for r in rows if (r.dataset, r.model) == key}
        out += setting_bars(key, group)
    for m in many_rows:
        note = f", {m.error}" if m.error else ""
        name = f"{m.dataset}/{m.model} generate_many {m.clients:,} clients <= 300 s "
        out.append(
            Bar(name=name + f"({m.seconds:.0f} s{note})", ok=not m.error and m.seconds <= 300)
        )
    return out


def setting_bars(key: tuple[str, str], group: dict[str, MethodRow]) -> list[Bar]:
    """The bars of one (data set, model) ``key`` (``group``: its rows by engine).

    Coverage counts the clients where exact found a counterfactual (it proves one exists);
    without exact (MLP, or exact failing), those where any method found a valid, feasible one.
    """
    out: list[Bar] = []
    tag = f"{key[0]}/{key[1]}"
    ours = {m: r for m, r in group.items() if m in OURS}
    exact_ran = "exact" in group and not group["exact"].first_error
    witnesses = [group["exact"]] if exact_ran else list(group.values())
    proved: set[int] = set().union(*(set(r.found_clients) for r in witnesses))
    for r in ours.values():
        mine, genetic = same_clients_proximity(r, group.get("dice-genetic"))
        out += engine_bars(tag, replace(r, proximity=mine), proved, genetic)
    search = ours.get("search")
    if search is not None and not search.first_error and key[1] == "xgboost":
        med = search.time_median
        ref = group["dice-random"].time_median if "dice-random" in group else math.nan
        name = f"{tag} search n=5 median <= DiCE-random / 10 ({med:.3f} s vs {ref:.3f} s)"
        out.append(_bar(name, ref, med <= ref / 10))
    if key[1].startswith("sklearn-"):  # a foreign pipeline (issue 20): search and auto
        ref = group["dice-random"].time_median if "dice-random" in group else math.nan
        for engine in ("search", "auto"):
            row = ours.get(engine)
            if row is None or row.first_error:
                continue
            med, p95 = row.time_median, row.time_p95
            name = f"{tag} {engine} median <= DiCE-random / 10 ({med:.3f} s vs {ref:.3f} s)"
            out.append(_bar(name, ref, med <= ref / 10))
            out.append(Bar(name=f"{tag} {engine} p95 <= 0.5 s ({p95:.3f} s)", ok=p95 <= 0.5))
    exact = ours.get("exact")
    if exact is not None and not exact.first_error:
        median, p95 = exact.time_median, exact.time_p95
        out.append(Bar(name=f"{tag} exact n=1 median <= 1 s ({median:.3f} s)", ok=median <= 1))
        out.append(Bar(name=f"{tag} exact n=1 p95 <= 10 s ({p95:.3f} s)", ok=p95 <= 10))
        share = exact.optimal
        out.append(
            _bar(f"{tag} exact n=1 optimality proved >= 80 % ({share:.1%})", share, share >= 0.8)
        )
    for engine in ("exact", "auto"):
        row = ours.get(engine)
        if row is None or row.first_error or search is None or search.first_error:
            continue
        both = set(row.cost_by_client) & set(search.cost_by_client)
        worse = [i for i in both if row.cost_by_client[i] > search.cost_by_client[i] + 1e-6]
        label = f"{tag} {engine}: never costlier than the search ({len(worse)} of {len(both)})"
        out.append(Bar(name=label, ok=not worse))
    return out


# ----------------------------------------------------------------------------- tables, files
def tables(rows: list[MethodRow]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The main table and the violations table (with each method's statuses)."""
    main = pd.DataFrame([{k: getattr(r, k) for k in COLUMNS} for r in rows], columns=list(COLUMNS))
    viol = pd.DataFrame(
        [
            {
                "dataset": r.dataset,
                "model": r.model,
                "method": r.method,
                **r.violations,
                "statuses": " ".join(f"{k}:{v}" for k, v in r.statuses.items()),
            }
            for r in rows
        ]
    )
    return main, viol


def markdown(frame: pd.DataFrame) -> str:
    """``frame`` as a markdown table (floats to 3 significant digits)."""

    def cell(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write(out: Path, rows: list[MethodRow], many_rows: list[ManyRow], checks: list[Bar]) -> None:
    """Write ``out.json`` (every row, the bars) and ``out.md`` (the tables, the bars)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "rows": [asdict(r) for r in rows],
        "generate_many": [asdict(m) for m in many_rows],
        "bars": [{"bar": b.name, "pass": b.ok} for b in checks],
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    main, viol = tables(rows)
    many_text = markdown(pd.DataFrame([asdict(m) for m in many_rows])) if many_rows else "(not run)"
    text = [
        "# Counterfactual engines compared",
        "",
        markdown(main),
        "",
        "## Violations per rule type, statuses",
        "",
        markdown(viol),
        "",
        "## generate_many",
        "",
        many_text,
        "",
        "## Bars",
        "",
        *bar_lines(checks, "- "),
    ]
    out.with_suffix(".md").write_text("\n".join(text) + "\n")
    print(f"\nwritten: {out.with_suffix('.json')}, {out.with_suffix('.md')}")


def bar_lines(checks: Iterable[Bar], indent: str) -> list[str]:
    """One line per bar: ``[PASS]``, ``[FAIL]`` or ``[n/a ]`` then the bar."""
    return [f"{indent}[{verdict(b.ok)}] {b.name}" for b in checks]


def pct(value: float) -> str:
    """A share as a percentage (``n/a`` for NaN)."""
    return "n/a" if math.isnan(value) else f"{100 * value:.1f} %"


def verdict(ok: bool | None) -> str:
    """A bar's verdict, four characters wide."""
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    raise TypeError(type(value).__name__)
