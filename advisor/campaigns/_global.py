"""Global actions: a few actions for a whole segment, verified client by client.

An action sets some features to a value ("salary paid into the account") or moves them at
least (at most) to a threshold ("monthly savings transfer >= 150"). Candidates come from the
clients' own cheapest levers (their feature sets, with thresholds at quantiles of the
levers' values). Every candidate is then applied to every client that has a lever: it
*covers* the client only when the changed client passes every rule of the constraint file
and the real model scores it at or above the client's goal (one batched model call per
block of candidates, never per client). The selection of at most ``max_actions`` actions
maximises the clients covered, then minimises their total cost (each client follows the
cheapest chosen action that covers it): exactly, as two HiGHS MILPs (``scipy.optimize.milp``)
when the problem fits, greedily otherwise; :attr:`GlobalActions.method` says which.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array

from advisor.errors import CampaignError
from constraints import ConstraintSet, Number, ParamSpec, Whole, check_params, tolerance

if TYPE_CHECKING:
    from advisor.campaigns._types import CampaignResult

__all__ = ["SUMMARIZE_PARAMS", "GlobalAction", "GlobalActions", "summarize"]

SUMMARIZE_PARAMS: ParamSpec = {
    "max_actions": Whole(1, 20),
    "time_limit_s": Number(0.1, 86_400.0),
    "max_candidates": Whole(1, 2_000),
    "max_cost_ratio": (Number(1.0, 1e6), None),
}
"""The rules of :func:`summarize`'s options."""

QUANTILES = (0.25, 0.5, 0.75, 0.9, 1.0)
"""Thresholds tried for each group of levers: these quantiles of the levers' values."""

MAX_MILP_PAIRS = 2_000_000
"""Above this many (client, covering action) pairs the selection is greedy."""

MAX_COST_MILP_PAIRS = 5_000
"""Above this many pairs the cost step is a local search (swaps) instead of a MILP."""

_BLOCK_ROWS = 200_000
DIRECTIONS = ("set", "at_least", "at_most")


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalAction:
    """One action of a campaign, and the clients it is assigned to.

    ``changes`` maps a feature to the business value to reach; ``directions`` says how:
    ``set`` (exactly that value), ``at_least`` / ``at_most`` (clients beyond it keep
    theirs). ``n_covered`` clients follow this action (each client the cheapest chosen
    action that covers it); ``coverage`` is their share of the clients with an individual
    lever; ``cost_ratio`` is their mean cost here over the mean cost of their own
    cheapest levers.
    """

    rank: int
    changes: Mapping[str, Any]
    directions: Mapping[str, str]
    text: Mapping[str, str]
    n_covered: int
    coverage: float
    mean_cost: float
    expected_extra_sales: float
    cost_ratio: float

    def to_dict(self) -> dict[str, Any]:
        """Return the action as plain data (JSON-serialisable)."""
        return {
            "rank": self.rank,
            "changes": {k: _plain(v) for k, v in self.changes.items()},
            "directions": dict(self.directions),
            "text": dict(self.text),
            "n_covered": self.n_covered,
            "coverage": self.coverage,
            "mean_cost": self.mean_cost,
            "expected_extra_sales": self.expected_extra_sales,
            "cost_ratio": self.cost_ratio,
        }


CURVE_COLUMNS = ("k", "n_covered", "coverage", "mean_cost", "cost_ratio", "expected_extra_sales")
ACTION_COLUMNS = (
    "rank",
    "action_en",
    "action_fr",
    "n_covered",
    "coverage",
    "mean_cost",
    "expected_extra_sales",
    "cost_ratio",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalActions:
    """The answer of :meth:`CampaignResult.summarize`.

    ``actions`` are the chosen actions for ``max_actions`` (largest share first);
    ``curve`` has one row per number of actions ``k`` (each ``k`` solved on its own):
    clients covered, coverage, mean cost, cost ratio and expected extra sales;
    ``assignments`` one row per covered client (``client``, ``action`` rank, ``cost``,
    ``score``, ``score_after``, ``cheapest_cost``) and ``after`` those clients' business
    values after their action. ``method`` is ``milp`` (both steps solved to optimality),
    ``milp-time-limit`` (a step stopped at the time limit with its best solution) or
    ``greedy`` (too large for the MILP). ``n_with_lever`` clients had an individual lever;
    ``n_candidates`` actions were verified.
    """

    actions: tuple[GlobalAction, ...]
    curve: pd.DataFrame = field(compare=False)
    assignments: pd.DataFrame = field(compare=False)
    after: pd.DataFrame = field(compare=False, repr=False)
    method: str
    n_with_lever: int
    n_candidates: int
    elapsed_s: float = field(compare=False)

    @property
    def coverage(self) -> float:
        """Share of the clients with an individual lever covered by the actions."""
        return float(sum(a.n_covered for a in self.actions)) / max(self.n_with_lever, 1)

    @property
    def cost_ratio(self) -> float:
        """Mean cost under the actions over the same clients' individual cheapest cost."""
        if self.assignments.empty:
            return math.nan
        own = float(self.assignments["cheapest_cost"].mean())
        mine = float(self.assignments["cost"].mean())
        return mine / own if own > 0 else (1.0 if mine == 0 else math.inf)

    def to_frame(self) -> pd.DataFrame:
        """One row per action (columns ``ACTION_COLUMNS``)."""
        rows = [
            {
                "rank": a.rank,
                "action_en": a.text["en"],
                "action_fr": a.text["fr"],
                "n_covered": a.n_covered,
                "coverage": a.coverage,
                "mean_cost": a.mean_cost,
                "expected_extra_sales": a.expected_extra_sales,
                "cost_ratio": a.cost_ratio,
            }
            for a in self.actions
        ]
        return pd.DataFrame(rows, columns=list(ACTION_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """Return plain data (JSON-serialisable); ``assignments`` and ``after`` are left out."""
        return {
            "actions": [a.to_dict() for a in self.actions],
            "curve": self.curve.to_dict(orient="records"),
            "method": self.method,
            "n_with_lever": self.n_with_lever,
            "n_candidates": self.n_candidates,
            "elapsed_s": self.elapsed_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GlobalActions:
        """Rebuild from :meth:`to_dict` (without ``assignments`` and ``after``)."""
        try:
            actions = tuple(GlobalAction(**a) for a in data["actions"])
            curve = pd.DataFrame(list(data["curve"]), columns=list(CURVE_COLUMNS))
            return cls(
                actions=actions,
                curve=curve,
                assignments=pd.DataFrame(),
                after=pd.DataFrame(),
                method=str(data["method"]),
                n_with_lever=int(data["n_with_lever"]),
                n_candidates=int(data["n_candidates"]),
                elapsed_s=float(data["elapsed_s"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CampaignError(
                f"global actions: must be the data GlobalActions.to_dict() writes. Got "
                f"{type(exc).__name__}: {exc}."
            ) from exc


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------- candidates
@dataclass(frozen=True, slots=True)
class _Candidate:
    features: tuple[int, ...]
    directions: tuple[str, ...]
    values: tuple[float, ...]  # codes


def _direction(cs: ConstraintSet, j: int, before: float, after: float) -> str:
    spec = cs.features[j]
    if spec.kind in ("categorical", "binary"):
        return "set"
    return "at_least" if after > before else "at_most"


def _candidates(
    cs: ConstraintSet, x: np.ndarray, a: np.ndarray, max_candidates: int
) -> list[_Candidate]:
    """Candidates from the levers: each feature set, thresholds at quantiles of the values."""
    derived = cs.compiled.derived_mask
    moved = (np.abs(a - x) > tolerance(x)) & ~derived
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in range(len(x)):
        cols = np.flatnonzero(moved[i])
        if not len(cols):
            continue
        dirs = tuple(_direction(cs, int(j), x[i, j], a[i, j]) for j in cols)
        key = (
            tuple(int(j) for j in cols),
            dirs,
            tuple(a[i, j] if d == "set" else None for j, d in zip(cols, dirs, strict=True)),
        )
        groups.setdefault(key, []).append(i)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0][0], kv[0][1]))
    found: dict[_Candidate, None] = {}
    for (cols, dirs, sets), members in ranked:
        for q in QUANTILES:
            values = []
            for j, d, s in zip(cols, dirs, sets, strict=True):
                if d == "set":
                    values.append(float(s))
                else:
                    level = q if d == "at_least" else 1.0 - q
                    values.append(float(np.quantile(a[members, j], level, method="inverted_cdf")))
            found[_Candidate(cols, dirs, tuple(values))] = None
            if len(found) >= max_candidates:
                return list(found)
    return list(found)


def _apply(cs: ConstraintSet, x: np.ndarray, cand: _Candidate) -> np.ndarray:
    rows = x.copy()
    for j, d, v in zip(cand.features, cand.directions, cand.values, strict=True):
        if d == "set":
            rows[:, j] = v
        elif d == "at_least":
            rows[:, j] = np.maximum(rows[:, j], v)
        else:
            rows[:, j] = np.minimum(rows[:, j], v)
    return cs.compiled.rederive(x, rows)


def _verify(
    cs: ConstraintSet,
    model: Any,
    x: np.ndarray,
    goals: np.ndarray,
    candidates: list[_Candidate],
    direction: Literal["raise", "lower"] = "raise",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cover (n, m), cost (n, m) and score (n, m) of every candidate on every client.

    A client is covered when the changed client passes every rule and its score reaches its
    goal: at or above it (``raise``), at or below it (a risk score, ``lower``).
    """
    n, m = len(x), len(candidates)
    cover = np.zeros((n, m), dtype=bool)
    cost = np.full((n, m), np.inf)
    score = np.full((n, m), np.nan)
    per_block = max(1, _BLOCK_ROWS // max(n, 1))
    for start in range(0, m, per_block):
        block = range(start, min(m, start + per_block))
        after = np.vstack([_apply(cs, x, candidates[j]) for j in block])
        before = np.tile(x, (len(block), 1))
        ok = cs.check(before, after).ok
        changed = (np.abs(after - before) > tolerance(before)).any(axis=1)
        scores = np.asarray(model.score(cs.to_frame(after)), dtype=np.float64)
        costs = cs.cost(before, after)
        margin = np.tile(goals, len(block)) - scores
        reach = margin >= -1e-12 if direction == "lower" else margin <= 1e-12
        for k, j in enumerate(block):
            part = slice(k * n, (k + 1) * n)
            cover[:, j] = ok[part] & changed[part] & reach[part]
            cost[:, j] = np.where(cover[:, j], costs[part], np.inf)
            score[:, j] = scores[part]
    return cover, cost, score


# ---------------------------------------------------------------------- selection
@dataclass(frozen=True, slots=True)
class _Choice:
    chosen: tuple[int, ...]


def _greedy(cover: np.ndarray, cost: np.ndarray, k: int) -> _Choice:
    covered = np.zeros(len(cover), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, cover.shape[1])):
        gain = (cover & ~covered[:, None]).sum(axis=0)
        gain[chosen] = -1
        best = int(gain.max())
        if best <= 0:
            break
        ties = np.flatnonzero(gain == best)
        mean_cost = [float(cost[cover[:, j] & ~covered, j].mean()) for j in ties]
        j = int(ties[int(np.argmin(mean_cost))])
        chosen.append(j)
        covered |= cover[:, j]
    return _Choice(tuple(chosen))


def _max_coverage(cover: np.ndarray, k: int, time_limit: float) -> tuple[np.ndarray, bool, int]:
    """MILP: choose <= k columns covering the most rows. Return (y, optimal, covered).

    Clients with the same coverage pattern are one weighted row (thousands of clients,
    a few hundred patterns).
    """
    patterns, counts = np.unique(cover, axis=0, return_counts=True)
    n, m = patterns.shape
    rows, cols = np.nonzero(patterns)
    # variables: y_0..y_{m-1} (binary), z_0..z_{n-1} (pattern covered, continuous in [0, 1])
    c = np.concatenate([np.zeros(m), -counts.astype(np.float64)])
    link = coo_array(
        (
            np.concatenate([-np.ones(len(rows)), np.ones(n)]),
            (np.concatenate([rows, np.arange(n)]), np.concatenate([cols, m + np.arange(n)])),
        ),
        shape=(n, m + n),
    )
    budget = csr_array((np.ones(m), (np.zeros(m, dtype=int), np.arange(m))), shape=(1, m + n))
    res = milp(
        c,
        constraints=[LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, 0, k)],
        integrality=np.concatenate([np.ones(m), np.zeros(n)]),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "presolve": True},
    )
    if res.x is None:
        return np.zeros(m, dtype=bool), False, 0
    y = res.x[:m] > 0.5
    covered = int(cover[:, y].any(axis=1).sum())
    return y, res.status == 0, covered


def _swaps(
    cover: np.ndarray, cost: np.ndarray, chosen: tuple[int, ...], k: int, need: int
) -> tuple[int, ...]:
    """Lower the total cost by swapping chosen actions, keeping >= ``need`` clients covered.

    Best-improvement local search: each step tries every (out, in) pair (and adding an
    action while fewer than ``k``), vectorised over clients; stops when none improves.
    """
    price = np.where(cover, cost, np.inf)
    current = list(chosen)
    best_total = _total(price, current)
    for _ in range(100):
        move: tuple[int | None, int] | None = None
        move_total = best_total
        outs: list[int | None] = [*current, None] if len(current) < k else list(current)
        for out in outs:  # None: add an action (while fewer than k)
            rest = [j for j in current if j != out]
            base = price[:, rest].min(axis=1) if rest else np.full(len(price), np.inf)
            trial = np.minimum(base[:, None], price)  # each column: rest + that action
            hit = np.isfinite(trial)
            ok = hit.sum(axis=0) >= need
            totals = np.where(hit, trial, 0.0).sum(axis=0)
            totals[current] = np.inf
            totals[~ok] = np.inf
            b = int(np.argmin(totals))
            if totals[b] < move_total - 1e-9:
                move, move_total = (out, b), float(totals[b])
        if move is None:
            break
        current = [j for j in current if j != move[0]] + [move[1]]  # out None: an addition
        best_total = move_total
    return tuple(sorted(current))


def _total(price: np.ndarray, chosen: list[int]) -> float:
    if not chosen:
        return 0.0
    best = price[:, chosen].min(axis=1)
    return float(best[np.isfinite(best)].sum())


def _min_cost(
    cover: np.ndarray, cost: np.ndarray, k: int, n_covered: int, time_limit: float
) -> tuple[np.ndarray | None, bool]:
    """MILP: choose <= k columns covering >= n_covered rows at the least total cost."""
    n, m = cover.shape
    rows, cols = np.nonzero(cover)
    p = len(rows)
    # variables: y (m binaries) then x_p (one per covering pair, continuous in [0, 1])
    c = np.concatenate([np.zeros(m), cost[rows, cols]])
    one_each = coo_array((np.ones(p), (rows, m + np.arange(p))), shape=(n, m + p))
    follow = coo_array(
        (
            np.concatenate([np.ones(p), -np.ones(p)]),
            (
                np.concatenate([np.arange(p), np.arange(p)]),
                np.concatenate([m + np.arange(p), cols]),
            ),
        ),
        shape=(p, m + p),
    )
    budget = coo_array((np.ones(m), (np.zeros(m, dtype=int), np.arange(m))), shape=(1, m + p))
    total = coo_array((np.ones(p), (np.zeros(p, dtype=int), m + np.arange(p))), shape=(1, m + p))
    res = milp(
        c,
        constraints=[
            LinearConstraint(one_each, 0, 1),
            LinearConstraint(follow, -np.inf, 0),
            LinearConstraint(budget, 0, k),
            LinearConstraint(total, n_covered, np.inf),
        ],
        integrality=np.concatenate([np.ones(m), np.zeros(p)]),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "presolve": True},
    )
    if res.x is None:
        return None, False
    return res.x[:m] > 0.5, res.status == 0


def _select(cover: np.ndarray, cost: np.ndarray, k: int, deadline: float) -> tuple[_Choice, str]:
    """Choose <= k actions: the most clients covered, then the least total cost.

    Coverage: an exact MILP on the clients' coverage patterns (greedy above
    ``MAX_MILP_PAIRS`` pairs or when the MILP stops at the time limit with less than greedy).
    Cost, with that coverage held: an exact MILP up to ``MAX_COST_MILP_PAIRS`` pairs, swaps
    above (method ``milp+swaps``).
    """
    pairs = int(cover.sum())
    if pairs == 0:
        return _Choice(()), "milp"
    greedy = _greedy(cover, cost, k)
    if pairs > MAX_MILP_PAIRS:
        return greedy, "greedy"
    left = max(0.1, deadline - time.perf_counter())
    y, optimal, covered = _max_coverage(cover, k, left / 2)
    greedy_covered = int(cover[:, list(greedy.chosen)].any(axis=1).sum())
    if greedy_covered > covered:  # a timed-out MILP
        return greedy, "greedy"
    chosen = tuple(int(j) for j in np.flatnonzero(y))
    if pairs > MAX_COST_MILP_PAIRS:
        swapped = _swaps(cover, cost, chosen, k, covered)
        if greedy_covered == covered:  # swaps are local: greedy's start may end cheaper
            other = _swaps(cover, cost, greedy.chosen, k, covered)
            if _total_cost(cover, cost, other) < _total_cost(cover, cost, swapped):
                swapped = other
        return _Choice(swapped), "milp+swaps" if optimal else "milp-time-limit"
    left = max(0.1, deadline - time.perf_counter())
    y2, optimal2 = _min_cost(cover, cost, k, covered, left)
    if y2 is not None:
        chosen = tuple(int(j) for j in np.flatnonzero(y2))
    good = optimal and optimal2 and y2 is not None
    return _Choice(chosen), "milp" if good else "milp-time-limit"


def _total_cost(cover: np.ndarray, cost: np.ndarray, chosen: tuple[int, ...]) -> float:
    """Return what the covered clients pay with ``chosen`` (each its cheapest action)."""
    which, paid = _assign(cover, cost, chosen)
    return float(paid[which >= 0].sum())


def _assign(
    cover: np.ndarray, cost: np.ndarray, chosen: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Each client's cheapest chosen covering action (-1: none) and its cost."""
    if not chosen:
        return np.full(len(cover), -1), np.full(len(cover), np.inf)
    sub = cost[:, list(chosen)]
    best = np.argmin(sub, axis=1)
    best_cost = sub[np.arange(len(sub)), best]
    which = np.where(np.isfinite(best_cost), np.asarray(chosen)[best], -1)
    return which, best_cost


# ---------------------------------------------------------------------- wording
def _describe(cs: ConstraintSet, cand: _Candidate, language: str) -> str:
    words = {
        "en": {"at_least": "at least", "at_most": "at most", "yes": "yes", "no": "no"},
        "fr": {"at_least": "au moins", "at_most": "au plus", "yes": "oui", "no": "non"},
    }[language]
    parts = []
    for j, d, code in zip(cand.features, cand.directions, cand.values, strict=True):
        spec = cs.features[j]
        label = getattr(spec.label, language) or spec.name
        if spec.kind == "binary" and not spec.categories:
            shown = words["yes"] if code else words["no"]
        else:
            shown = cs.format_value(spec.name, code, language)
        parts.append(f"{label}: {shown}" if d == "set" else f"{label} {words[d]} {shown}")
    return " + ".join(parts)


def _point(cs: ConstraintSet, cand: _Candidate) -> np.ndarray:
    """Return a row holding the candidate's values (other features at their lower bound or 0)."""
    row = np.zeros(cs.n_features)
    for j, spec in enumerate(cs.features):
        if math.isfinite(spec.lower) and not spec.is_categorical:
            row[j] = spec.lower
    for j, v in zip(cand.features, cand.values, strict=True):
        row[j] = v
    return row


# ---------------------------------------------------------------------- entry point
def summarize(
    result: CampaignResult,
    max_actions: int = 5,
    *,
    time_limit_s: float = 60.0,
    max_candidates: int = 200,
    max_cost_ratio: float | None = 2.0,
) -> GlobalActions:
    """Choose at most ``max_actions`` actions covering the most clients at the least cost.

    See the module docstring; :meth:`CampaignResult.summarize` calls this.
    """
    start = time.perf_counter()
    options = check_params(
        {
            "max_actions": max_actions,
            "time_limit_s": time_limit_s,
            "max_candidates": max_candidates,
            "max_cost_ratio": max_cost_ratio,
        },
        SUMMARIZE_PARAMS,
        error=CampaignError,
    )
    context = result.require_context("summarize")
    campaign = context.campaign
    cs: ConstraintSet = campaign.info.constraints
    levered = [o for o in result.outcomes if o.levers]
    if not levered:
        return _empty(start)
    ids = [o.client for o in levered]
    x = cs.to_array(context.clients.loc[ids])
    a = cs.to_array(pd.DataFrame([dict(o.levers[0].values) for o in levered], index=ids))
    goals = np.array([o.goal for o in levered])
    base = np.array([o.score for o in levered])
    cheapest = np.array([o.levers[0].cost for o in levered])
    candidates = _candidates(cs, x, a, options["max_candidates"])
    direction = campaign.info.direction
    cover, cost, score = _verify(cs, campaign.info.model, x, goals, candidates, direction)
    sign = -1.0 if direction == "lower" else 1.0  # a risk score: the gain is the drop
    if options["max_cost_ratio"] is not None:
        limit = options["max_cost_ratio"] * cheapest[:, None] + tolerance(cheapest)[:, None]
        cover &= cost <= limit
        cost = np.where(cover, cost, np.inf)
    deadline = start + options["time_limit_s"]
    curve, final, method = [], _Choice(()), "milp"
    for k in range(1, options["max_actions"] + 1):
        choice, how = _select(cover, cost, k, deadline)
        method = how if how != "milp" else method
        which, paid = _assign(cover, cost, choice.chosen)
        hit = which >= 0
        curve.append(
            {
                "k": k,
                "n_covered": int(hit.sum()),
                "coverage": float(hit.mean()),
                "mean_cost": float(paid[hit].mean()) if hit.any() else math.nan,
                "cost_ratio": _ratio(paid[hit], cheapest[hit]),
                "expected_extra_sales": sign
                * float((score[np.flatnonzero(hit), which[hit]] - base[hit]).sum()),
            }
        )
        final = choice
    return _answer(
        cs,
        candidates,
        cover,
        cost,
        score,
        final,
        ids,
        x,
        base,
        cheapest,
        curve,
        method,
        start,
        sign=sign,
    )


def _ratio(paid: np.ndarray, own: np.ndarray) -> float:
    if not len(paid):
        return math.nan
    mine, theirs = float(paid.mean()), float(own.mean())
    return mine / theirs if theirs > 0 else (1.0 if mine == 0 else math.inf)


def _empty(start: float) -> GlobalActions:
    return GlobalActions(
        actions=(),
        curve=pd.DataFrame(columns=list(CURVE_COLUMNS)),
        assignments=pd.DataFrame(
            columns=["client", "action", "cost", "score", "score_after", "cheapest_cost"]
        ),
        after=pd.DataFrame(),
        method="milp",
        n_with_lever=0,
        n_candidates=0,
        elapsed_s=time.perf_counter() - start,
    )


def _answer(
    cs: ConstraintSet,
    candidates: list[_Candidate],
    cover: np.ndarray,
    cost: np.ndarray,
    score: np.ndarray,
    final: _Choice,
    ids: list[Any],
    x: np.ndarray,
    base: np.ndarray,
    cheapest: np.ndarray,
    curve: list[dict[str, Any]],
    method: str,
    start: float,
    *,
    sign: float = 1.0,
) -> GlobalActions:
    which, paid = _assign(cover, cost, final.chosen)
    counts = Counter(int(w) for w in which if w >= 0)
    order = sorted(final.chosen, key=lambda j: (-counts[j], j))
    rank_of = {j: r for r, j in enumerate(order, start=1)}
    n = len(ids)
    actions = []
    for j in order:
        members = which == j
        cand = candidates[j]
        point = cs.to_frame(np.asarray([_point(cs, cand)]))
        actions.append(
            GlobalAction(
                rank=rank_of[j],
                changes={cs.feature_names[f]: _plain(point.iloc[0, f]) for f in cand.features},
                directions={
                    cs.feature_names[f]: d
                    for f, d in zip(cand.features, cand.directions, strict=True)
                },
                text={"en": _describe(cs, cand, "en"), "fr": _describe(cs, cand, "fr")},
                n_covered=int(members.sum()),
                coverage=float(members.sum()) / n,
                mean_cost=float(paid[members].mean()) if members.any() else math.nan,
                expected_extra_sales=sign * float((score[members, j] - base[members]).sum()),
                cost_ratio=_ratio(paid[members], cheapest[members]),
            )
        )
    hit = np.flatnonzero(which >= 0)
    rows_after = x[hit].copy()
    for j in order:
        members = which[hit] == j
        rows_after[members] = _apply(cs, x[hit][members], candidates[j])
    after = cs.to_frame(rows_after)
    after.index = pd.Index([ids[i] for i in hit])
    assignments = pd.DataFrame(
        {
            "client": [ids[i] for i in hit],
            "action": [rank_of[int(which[i])] for i in hit],
            "cost": paid[hit],
            "score": base[hit],
            "score_after": score[hit, which[hit]],
            "cheapest_cost": cheapest[hit],
        }
    )
    return GlobalActions(
        actions=tuple(actions),
        curve=pd.DataFrame(curve, columns=list(CURVE_COLUMNS)),
        assignments=assignments,
        after=after,
        method=method,
        n_with_lever=n,
        n_candidates=len(candidates),
        elapsed_s=time.perf_counter() - start,
    )
