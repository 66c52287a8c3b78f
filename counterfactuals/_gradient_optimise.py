"""The gradient engine's two optimisation phases, on a batch's relaxed problem.

Phase one runs Adam on every start at once (the client and feasible random plans, times a
ladder of distance weights), every feature free. Phase two keeps, per end point, the top k
changes by first-order effect (k = 1..max_changes), fixes their codes to the next reachable
value away from the client and polishes only their amounts. :func:`end_points` returns every
end point rounded (one row per end point and rounding threshold).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from counterfactuals._engine import EngineRequest
from counterfactuals._gradient_finish import round_plans
from counterfactuals._gradient_relax import Relaxation, relax

__all__ = ["GradientParams", "end_points"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


class GradientParams(Protocol):
    """The hyper-parameters the optimisation reads (:class:`~counterfactuals.GradientEngine`)."""

    @property
    def steps(self) -> int: ...
    @property
    def polish_steps(self) -> int: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def restarts(self) -> int: ...
    @property
    def l1_weights(self) -> tuple[float, ...]: ...
    @property
    def margin_epsilon(self) -> float: ...
    @property
    def rounding(self) -> tuple[float, ...]: ...
    @property
    def cost_weighted(self) -> bool: ...


def _starts(engine: GradientParams, rel: Relaxation, seed: int) -> tuple[FloatArray, ...]:
    """Return the starting u and logits: the client, then feasible random plans."""
    w, r = len(engine.l1_weights), engine.restarts
    cs = rel.requests[0].constraints
    u0 = np.zeros((len(rel.requests), r, rel.clients.shape[1]))
    picked = np.repeat(rel.current[:: w * r][:, None, :], r, axis=1)
    for i, request in enumerate(rel.requests):
        drawn = cs.sample(request.client, r - 1, seed) if r > 1 else np.zeros((0, u0.shape[2]))
        filled = rel.clients[i * w * r]  # a missing value: the model's imputed one, frozen
        drawn = np.where(np.isnan(drawn), filled, drawn)
        u0[i, 1 : 1 + len(drawn)] = (drawn - filled) / cs.scales
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
    engine: GradientParams, rel: Relaxation, start: tuple[FloatArray, ...], steps: int
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


def _short_plans(
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
    away, plans = _short_plans(rel, u, weights)
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
def end_points(
    engine: GradientParams, requests: Sequence[EngineRequest], seed: int
) -> tuple[Relaxation, FloatArray, bool]:
    """Run both phases; return every end point's rounded codes, one row per end point."""
    rel = relax(
        requests,
        restarts=engine.restarts,
        l1_weights=engine.l1_weights,
        cost_weighted=engine.cost_weighted,
    )
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
