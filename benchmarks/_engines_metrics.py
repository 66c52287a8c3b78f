"""The metrics of ``compare_engines.py``: one :class:`MethodRow` per setting and method.

Every returned counterfactual is re-scored by the real model (validity) and checked against
every constraint (violations per rule type); then coverage, changes, proximity,
plausibility, diversity and time per client (:mod:`counterfactuals.metrics`); and how the
method used the model, per client: calls, rows scored, seconds inside and outside the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from _engines_data import Setting, reached
from _engines_runs import MethodRuns, empty_codes

from counterfactuals import metrics


@dataclass(frozen=True, slots=True, kw_only=True)
class Quality:
    """Validity, feasibility, violations and distances of a method's counterfactuals."""

    validity: float
    feasible: float
    violations: dict[str, int]
    changes: float
    changed: float
    proximity: float
    plausibility: float
    good: np.ndarray  # per counterfactual: valid and feasible


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodRow:
    """One row of the tables: a method on a data set and model (field order: the JSON's)."""

    dataset: str
    model: str
    method: str
    target: str
    clients: int
    coverage: float
    cfs: int
    time_median: float
    time_p95: float
    time_total: float
    statuses: dict[str, int]
    first_error: str
    validity: float
    feasible: float
    violations: dict[str, int]
    changes: float
    changed: float
    proximity: float
    plausibility: float
    found_clients: list[int]  # clients with a valid, feasible counterfactual
    prox_by_client: dict[int, float]  # mean proximity per client answered
    covered_ok: float
    diversity: float
    setup_s: float
    calls: float  # medians per client: model calls, rows they scored,
    rows_scored: float
    model_s: float  # seconds inside the model,
    outside_s: float  # and the rest of the client's time (NaN: not counted)
    top_cost: float  # mean cost of each answered client's first counterfactual
    cost_by_client: dict[int, float]  # that cost per client answered
    optimal: float  # share of answered clients whose first is proved cost-minimal
    ratio_dice_random: float = math.nan  # set by ``add_ratios``

    @property
    def engine(self) -> str:
        """The method's name, without the counterfactuals asked (``search n=5``: search)."""
        return self.method.split()[0]


def evaluate(s: Setting, answers: MethodRuns) -> MethodRow:
    """One table row: coverage, validity, violations, distances, diversity and time."""
    cs = s.constraints
    runs = answers.runs
    clients = cs.to_array(s.clients[list(cs.feature_names)])
    found = [i for i, r in enumerate(runs) if len(r.codes)]
    sizes = [len(runs[i].codes) for i in found]
    x = np.vstack([runs[i].codes for i in found]) if found else empty_codes(s)
    c = np.repeat(clients[found], sizes, axis=0) if found else x
    times = metrics.time_summary([r.seconds for r in runs])
    q = quality(s, c, x)
    good = np.split(q.good, np.cumsum(sizes)[:-1]) if found else []
    found_clients = [found[k] for k, g in enumerate(good) if g.any()]
    prox = np.split(metrics.proximity(cs, c, x), np.cumsum(sizes)[:-1]) if found else []
    diverse = [metrics.diversity(cs, runs[i].codes) for i in found if len(runs[i].codes) > 1]
    costs = {i: float(cs.cost(clients[i][None, :], runs[i].codes[:1])[0]) for i in found_clients}
    return MethodRow(
        dataset=s.case.name,
        model=s.family,
        method=answers.label,
        target=s.describe,
        clients=len(runs),
        coverage=len(found) / max(len(runs), 1),
        cfs=len(x),
        time_median=times["median"],
        time_p95=times["p95"],
        time_total=float(sum(r.seconds for r in runs)),
        statuses=_count(r.status for r in runs),
        first_error=next((r.message for r in runs if r.status == "error"), ""),
        validity=q.validity,
        feasible=q.feasible,
        violations=q.violations,
        changes=q.changes,
        changed=q.changed,
        proximity=q.proximity,
        plausibility=q.plausibility,
        found_clients=found_clients,
        prox_by_client={found[k]: float(np.mean(p)) for k, p in enumerate(prox)},
        covered_ok=len(found_clients) / max(len(runs), 1),
        diversity=float(np.mean(diverse)) if diverse else math.nan,
        setup_s=answers.setup_s,
        calls=_median([r.calls for r in runs]),
        rows_scored=_median([r.rows for r in runs]),
        model_s=_median([r.model_s for r in runs]),
        outside_s=_median([r.seconds - r.model_s for r in runs]),
        top_cost=float(np.mean(list(costs.values()))) if costs else math.nan,
        cost_by_client=costs,
        optimal=_mean([runs[i].optimal for i in found]),
    )


def quality(s: Setting, c: np.ndarray, x: np.ndarray) -> Quality:
    """Validity, feasibility, violations and distances of counterfactuals ``x`` of ``c``."""
    cs = s.constraints
    if not len(x):
        return Quality(
            validity=math.nan,
            feasible=math.nan,
            violations=dict.fromkeys(metrics.RULE_TYPES, 0),
            changes=math.nan,
            changed=math.nan,
            proximity=math.nan,
            plausibility=math.nan,
            good=np.zeros(0, dtype=bool),
        )
    valid = reached(s.model, cs, s.target, cs.to_frame(x))
    feasible = cs.check(c, x).ok
    return Quality(
        validity=_mean(valid),
        feasible=_mean(feasible),
        violations=metrics.violations(cs, c, x),
        changes=_mean(metrics.change_count(cs, c, x)),
        changed=_mean(metrics.sparsity(c, x)),
        proximity=_mean(metrics.proximity(cs, c, x)),
        plausibility=_mean(metrics.plausibility(cs, x, s.reference)),
        good=valid & feasible,
    )


def _mean(values: object) -> float:
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()) if array.size else math.nan


def _median(values: list[float]) -> float:
    """The median of the counted values (NaN when none was counted)."""
    array = np.asarray(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    return float(np.median(array)) if array.size else math.nan


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out
