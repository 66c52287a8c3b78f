"""The ``gradient`` engine: projected gradient descent on a torch model's relaxed request.

The movable features become continuous variables (categories a softmax over the reachable
codes; integers, ordinals and yes/no features continuous in their interval), frozen features
stay fixed and derived features follow their sources. The loss is a hinge on the margin goal
(``link.margin_for(threshold)`` plus a small epsilon) plus an L1 distance to the client in
median absolute deviations, each feature weighted by its cost per scale. Adam runs on many
starts at once (the client and feasible random plans, times a ladder of distance weights;
all clients of a batch in one tensor), clipping to each client's bounds after every step.

A second phase makes the plans discrete and short: each end point's changes are ranked by
their first-order effect on the margin; for k = 1..max_changes the top k are kept, their
codes fixed to the next reachable value away from the client, and only their amounts are
polished by gradient again. Every end point is then rounded (steps, integers, reachable
codes), repaired by :meth:`ConstraintSet.project`, checked, sparsified (changes the goal
does not need are undone, amounts shrunk by bisection) and the cheapest plans with distinct
sets of changed features are returned. Everything is seeded (``ConstraintSet.sample``); no
global random state is read or set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from constraints import Flag, Number, ParamSpec, TupleOf, Whole, check_dataclass
from counterfactuals._engine import (
    EngineOutput,
    EngineRequest,
    Support,
    check_solve,
    register_engine,
)
from counterfactuals._gradient_finish import (
    cheapest,
    round_plans,
    select,
    shrink,
    slack_of,
    sparsify,
    unique_rows,
)
from counterfactuals._gradient_relax import Relaxation, relax
from counterfactuals._model import ModelAdapter, TorchFunction
from counterfactuals._target import BoundTarget
from counterfactuals.errors import CounterfactualError

__all__ = ["GradientEngine"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
_CHUNK = 512  # clients per optimisation batch


@register_engine
@dataclass(frozen=True, slots=True, kw_only=True)
class GradientEngine:
    """Projected gradient search for torch models (Wachter-style, with constraints).

    Parameters
    ----------
    steps
        Adam steps of the first phase (every feature free).
    polish_steps
        Adam steps of the second phase (the amounts of a few fixed changes).
    learning_rate
        Adam step size in median absolute deviations (decays linearly to a tenth).
    restarts
        Starts per distance weight: the client, then feasible random plans drawn by
        :meth:`ConstraintSet.sample` with the seed.
    l1_weights
        Weights of the L1 distance against the hinge on the margin; each start runs once
        per weight (large weights give small, sparse changes; small ones reach far goals).
    margin_epsilon
        How far past the margin bound the hinge pushes (logit units), to survive rounding.
    rounding
        Rounding thresholds: 0.5 rounds to the nearest allowed value; smaller values lean
        away from the client (a fractional move past the threshold takes the next value).
    sparsify
        Undo, one at a time, the changes the goal does not need (cheapest result kept),
        then shrink each changed amount towards the client as far as the goal allows.
    cost_weighted
        Weigh each feature's distance by its cost per scale (per change + per unit), so the
        relaxed request prefers the plans the constraint file says are cheap.
    """

    name: ClassVar[str] = "gradient"
    steps: int = 150
    polish_steps: int = 60
    learning_rate: float = 0.1
    restarts: int = 4
    l1_weights: tuple[float, ...] = (0.5, 0.1, 0.02)
    margin_epsilon: float = 0.1
    rounding: tuple[float, ...] = (0.5, 0.2)
    sparsify: bool = True
    cost_weighted: bool = True

    PARAMETERS: ClassVar[ParamSpec] = {
        "steps": Whole(1),
        "polish_steps": Whole(0),
        "learning_rate": Number(0.0, low_open=True),
        "restarts": Whole(1),
        "l1_weights": TupleOf(Number(0.0), "numbers >= 0"),
        "margin_epsilon": Number(0.0),
        "rounding": TupleOf(Number(0.0, 1.0, low_open=True, high_open=True), "numbers in (0, 1)"),
        "sparsify": Flag(),
        "cost_weighted": Flag(),
    }

    def __post_init__(self) -> None:
        check_dataclass(self, self.PARAMETERS, error=CounterfactualError)

    def supports(self, adapter: ModelAdapter, target: BoundTarget) -> Support:
        """Say whether the engine can serve the request (a torch margin, one output's goal)."""
        goal = target.linear_goal()
        if goal is None:
            return Support.no(
                "the gradient engine needs a goal on one output's probability (a threshold, "
                f"or a flip of a binary classifier). Got: {target.target.describe()}."
            )
        margin = adapter.margins.get(goal[0])
        if margin is None or not isinstance(margin.function, TorchFunction):
            got = "a model of unknown structure" if margin is None else f"a {margin.kind} model"
            return Support.no(
                f"the gradient engine needs a torch model's margin for output "
                f"{adapter.outputs[goal[0]]!r}. Got {got}."
            )
        return Support.yes()

    def solve(self, request: EngineRequest, n: int, seed: int) -> EngineOutput:
        """Search one client's counterfactuals."""
        return self.solve_many([request], n, seed)[0]

    def solve_many(
        self, requests: Sequence[EngineRequest], n: int, seed: int
    ) -> list[EngineOutput]:
        """Search many clients at once (one tensor per batch); same answers as ``solve``."""
        n, seed = check_solve(n, seed)
        outputs: list[EngineOutput | None] = [None] * len(requests)
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, request in enumerate(requests):
            support = self.supports(request.adapter, request.target)
            if not support:
                raise CounterfactualError(
                    f"engine: gradient cannot serve this request: {support.reason}"
                )
            goal = request.target.linear_goal()
            column = goal[0] if goal is not None else -1
            key = (id(request.adapter), id(request.constraints), column)
            groups.setdefault(key, []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), _CHUNK):
                part = idx[start : start + _CHUNK]
                batch = [requests[i] for i in part]
                for i, out in zip(part, _solve_batch(self, batch, n, seed), strict=True):
                    outputs[i] = out
        return [o for o in outputs if o is not None]


def _starts(engine: GradientEngine, rel: Relaxation, seed: int) -> tuple[FloatArray, ...]:
    """Return the starting u and logits: the client, then feasible random plans."""
    w, r = len(engine.l1_weights), engine.restarts
    cs = rel.requests[0].constraints
    u0 = np.zeros((len(rel.requests), r, rel.clients.shape[1]))
    picked = np.repeat(rel.current[:: w * r][:, None, :], r, axis=1)
    for i, request in enumerate(rel.requests):
        drawn = cs.sample(request.client, r - 1, seed) if r > 1 else np.zeros((0, u0.shape[2]))
        u0[i, 1 : 1 + len(drawn)] = (drawn - request.client) / cs.scales
        picked[i, 1 : 1 + len(drawn)] = np.rint(drawn[:, list(rel.categorical)])
    u0 = np.repeat(u0.reshape(len(rel.requests) * r, -1), w, axis=0)
    picked = np.repeat(picked.reshape(len(rel.requests) * r, picked.shape[2]), w, axis=0)
    logits = np.full(rel.mask.shape, -2.0)
    np.put_along_axis(logits, picked[:, :, None].astype(np.intp), 0.0, axis=2)
    u0[:, list(rel.categorical)] = 0.0
    return np.clip(u0, rel.lower, rel.upper), logits


def _tensors(rel: Relaxation) -> dict[str, Any]:
    import torch

    names = ("mask", "base", "through", "categories", "sign", "bound", "l1", "lower", "upper")
    t: dict[str, Any] = {k: torch.as_tensor(getattr(rel, k)) for k in names}
    t["current"] = torch.as_tensor(rel.current, dtype=torch.int64)[:, :, None]
    t["weight"] = torch.as_tensor(rel.weight)
    t["category_weight"] = torch.as_tensor(rel.weight[list(rel.categorical)])[None, :, None]
    t["function"] = rel.function
    return t


def _margin(t: dict[str, Any], u: Any, weights: Any) -> Any:
    """Return the margins (N,) of relaxed rows."""
    import torch

    z = t["base"] + u @ t["through"] + weights.flatten(1) @ t["categories"]
    f = t["function"]
    return f.module(z.to(torch.float32))[:, f.column].to(torch.float64)


def _optimise(
    engine: GradientEngine, rel: Relaxation, start: tuple[FloatArray, ...], steps: int
) -> tuple[FloatArray, FloatArray, bool]:
    """Run Adam; return u, the category weights and whether the deadline stopped it."""
    import torch

    t = _tensors(rel)
    u, logits = (torch.tensor(v).requires_grad_(True) for v in start)
    optimiser = torch.optim.Adam([u, logits], lr=engine.learning_rate)
    stopped = False
    for step in range(steps):
        if step % 10 == 0 and min(p.time_left() for p in rel.requests) <= 0:
            stopped = True
            break
        for group in optimiser.param_groups:
            group["lr"] = engine.learning_rate * (1.0 - 0.9 * step / steps)
        weights = torch.softmax(logits.masked_fill(~t["mask"], -math.inf), dim=2)
        gap = t["sign"] * (t["bound"] - _margin(t, u, weights)) + engine.margin_epsilon
        moved = (u.abs() * t["weight"]).sum(dim=1)
        moved = moved + ((1.0 - weights.gather(2, t["current"])) * t["category_weight"]).sum((1, 2))
        loss = (torch.relu(gap) + t["l1"] * moved).sum()
        u.grad, logits.grad = torch.autograd.grad(loss, [u, logits])
        optimiser.step()
        with torch.no_grad():
            u.copy_(torch.clamp(u, t["lower"], t["upper"]))
    with torch.no_grad():
        weights = torch.softmax(logits.masked_fill(~t["mask"], -math.inf), dim=2)
    return u.detach().numpy().copy(), weights.numpy().copy(), stopped


def _contributions(rel: Relaxation, u: FloatArray, weights: FloatArray) -> FloatArray:
    """Return each change unit's first-order effect towards the goal, (N, n_units)."""
    import torch

    t = _tensors(rel)
    u_t, w_t = torch.tensor(u, requires_grad=True), torch.tensor(weights, requires_grad=True)
    g_u, g_w = (g.numpy() for g in torch.autograd.grad(_margin(t, u_t, w_t).sum(), [u_t, w_t]))
    effect = g_u * u
    current = np.zeros_like(weights)
    np.put_along_axis(current, rel.current[:, :, None], 1.0, axis=2)
    effect[:, list(rel.categorical)] = (g_w * (weights - current)).sum(axis=2)
    cp = rel.requests[0].constraints.compiled
    unit_of = cp.unit_of
    units = np.zeros((len(u), cp.n_units))
    for j in np.flatnonzero(unit_of >= 0).tolist():
        units[:, unit_of[j]] += rel.sign * effect[:, j]
    return units


def _supports(
    rel: Relaxation, u: FloatArray, weights: FloatArray
) -> tuple[FloatArray, list[tuple[IntArray, BoolArray]]]:
    """Return the away moves and (rows, features kept) of each short plan to polish.

    Units are ranked by their effect, and by their effect per unit of cost; the top k of
    each ranking (k = 1..max_changes, all with a positive effect) make a plan.
    """
    cs = rel.requests[0].constraints
    unit_of = cs.compiled.unit_of
    effect = _contributions(rel, u, weights)
    away = round_plans(rel, u, weights, 1e-9)  # any move: the next reachable value away
    costs = cs.feature_costs(rel.clients, away)
    unit_cost = np.zeros_like(effect)
    for j in np.flatnonzero(unit_of >= 0).tolist():
        unit_cost[:, unit_of[j]] += costs[:, j]
    plans = []
    for score in (effect, effect / np.maximum(unit_cost, 1e-3)):
        order = np.argsort(-score, axis=1, kind="stable")
        rank = np.argsort(order, axis=1, kind="stable")
        useful = np.take_along_axis(effect, order, axis=1) > 0
        for k in range(1, min(cs.max_changes or 5, effect.shape[1]) + 1):
            inside = (rank[:, np.maximum(unit_of, 0)] < k) & (unit_of >= 0)
            plans.append((np.flatnonzero(useful[:, :k].all(axis=1)), inside))
    return away - rel.clients, plans


def _polish_rows(
    rel: Relaxation, u: FloatArray, weights: FloatArray
) -> tuple[Relaxation, tuple[FloatArray, ...]]:
    """Return second-phase rows: short plans with codes fixed, amounts free."""
    cs = rel.requests[0].constraints
    away, plans = _supports(rel, u, weights)
    numeric = np.ones(rel.clients.shape[1], dtype=bool)
    numeric[list(rel.allowed)] = False
    coded = ~numeric
    coded[list(rel.categorical)] = False
    cat = list(rel.categorical)
    parts = []
    for rows, inside in plans:
        free, fixed = inside[rows] & numeric, np.where(inside[rows] & coded, away[rows], 0.0)
        lower = np.where(free, rel.lower[rows], fixed / cs.scales)
        upper = np.where(free, rel.upper[rows], fixed / cs.scales)
        chosen = np.rint(rel.clients[rows][:, cat] + away[rows][:, cat]).astype(np.intp)
        chosen = np.where(inside[rows][:, cat], chosen, rel.current[rows])
        mask = np.zeros_like(rel.mask[rows])
        np.put_along_axis(mask, chosen[:, :, None], True, axis=2)
        parts.append((rows, lower, upper, mask))
    flat = int(np.prod(rel.mask.shape[1:]))
    keys = np.vstack(
        [np.column_stack([rel.owner[r], lo, hi, m.reshape(len(r), flat)]) for r, lo, hi, m in parts]
    )
    _, first = np.unique(keys, axis=0, return_index=True)
    rows = np.concatenate([p[0] for p in parts])[first]
    new = rel.rows(
        rows,
        lower=np.vstack([p[1] for p in parts])[first],
        upper=np.vstack([p[2] for p in parts])[first],
        mask=np.concatenate([p[3] for p in parts])[first],
    )
    return new, (np.clip(u[rows], new.lower, new.upper), np.zeros(new.mask.shape))


# ----------------------------------------------------------------------------- rounding
def _end_points(
    engine: GradientEngine, requests: Sequence[EngineRequest], seed: int
) -> tuple[Relaxation, FloatArray, bool]:
    """Run both phases; return every end point's rounded codes, one row per end point."""
    rel = relax(engine, requests)
    u0, logits = _starts(engine, rel, seed)
    u, weights, stopped = _optimise(engine, rel, (u0, logits), engine.steps)
    chosen = np.where(rel.mask, logits, -np.inf).argmax(axis=2)[:, :, None]
    ends = [
        (rel, u0, np.where(np.arange(rel.mask.shape[2]) == chosen, 1.0, 0.0)),
        (rel, u, weights),
    ]
    if engine.polish_steps and not stopped:
        polish, start = _polish_rows(rel, u, weights)
        if len(polish.owner):
            u2, w2, stopped = _optimise(engine, polish, start, engine.polish_steps)
            ends.append((polish, u2, w2))
    owner = np.concatenate([r.owner for r, _, _ in ends for _ in engine.rounding])
    codes = np.vstack(
        [round_plans(r, a, w, theta) for r, a, w in ends for theta in engine.rounding]
    )
    return rel, np.column_stack([owner, codes]), stopped


def _solve_batch(
    engine: GradientEngine, requests: Sequence[EngineRequest], n: int, seed: int
) -> list[EngineOutput]:
    """Solve a batch: end points -> projected -> valid -> sparsified -> checked -> chosen."""
    rel, ends, stopped = _end_points(engine, requests, seed)
    cs = rel.requests[0].constraints
    clients = np.stack([p.client for p in rel.requests])
    owner = ends[:, 0].astype(np.intp)
    projected = cs.project(clients[owner], ends[:, 1:])
    owner, codes = unique_rows(owner[projected.changed], projected.values[projected.changed])
    slack = slack_of(rel.requests, owner, codes)
    found_owner, found = cheapest(cs, clients, owner[slack >= 0], codes[slack >= 0], 4 * n + 4)
    if engine.sparsify and len(found):
        found_owner, found = unique_rows(*sparsify(rel, found_owner, found))
        found_owner, found = unique_rows(found_owner, shrink(rel, found_owner, found))
    if len(found):
        ok = cs.check(clients[found_owner], found).ok
        ok &= slack_of(rel.requests, found_owner, found) >= 0
        found_owner, found = found_owner[ok], found[ok]
    outputs = []
    for i, request in enumerate(rel.requests):
        candidates = select(cs, request.client, found[found_owner == i], n)
        mine = np.flatnonzero(owner == i)
        best = codes[mine[np.argmax(slack[mine])]][None, :] if mine.size else None
        outputs.append(
            EngineOutput(
                candidates=candidates,
                timed_out=stopped,
                best_codes=None if len(candidates) else best,
                notes=("gradient: stopped at the time limit",) if stopped else (),
                stats={
                    "end_points": int(np.sum(ends[:, 0] == i)),
                    "valid": int(np.sum(owner[slack >= 0] == i)),
                },
            )
        )
    return outputs
