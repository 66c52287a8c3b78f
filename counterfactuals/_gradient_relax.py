"""The gradient engine's relaxed problem: variables, bounds and prices of a batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from constraints import ConstraintSet
from counterfactuals._engine import EngineRequest
from counterfactuals._model import TorchFunction
from counterfactuals.errors import CounterfactualError

__all__ = ["Relaxation", "relax"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


# ----------------------------------------------------------------------------- relaxation
@dataclass(frozen=True, slots=True)
class Relaxation:
    """Arrays of one batch; rows are (client, start) pairs, client-major.

    The variables are ``u = (x - client) / scale`` (every feature but categories) and one
    logit per (categorical feature, category); the model reads the standardised design
    ``base + u @ through + weights @ categories``.
    """

    requests: tuple[EngineRequest, ...]
    owner: IntArray  # (N,) request of each row
    clients: FloatArray  # (N, d) codes
    lower: FloatArray  # (N, d) bounds of u
    upper: FloatArray
    allowed: dict[int, BoolArray]  # coded feature -> (N, k) reachable codes
    categorical: tuple[int, ...]
    mask: BoolArray  # (N, n_categorical, k_max) categories a row may take (padding False)
    current: IntArray  # (N, n_categorical) the client's categories
    l1: FloatArray  # (N,)
    weight: FloatArray  # (d,) price of moving each feature by one scale (a category: once)
    bound: FloatArray  # (N,) margin bound
    sign: FloatArray  # (N,) +1: margin >= bound, -1: margin <= bound
    base: FloatArray  # (N, n_design)
    through: FloatArray  # (d, n_design), derived features included
    categories: FloatArray  # (n_categorical * k_max, n_design)
    function: TorchFunction

    def rows(self, keep: IntArray, **changes: Any) -> Relaxation:
        """Return the relaxation of rows ``keep`` (with some arrays replaced)."""
        per_row = ("owner", "clients", "lower", "upper", "mask", "current", "l1", "bound")
        new = {k: getattr(self, k)[keep] for k in (*per_row, "sign", "base")}
        new["allowed"] = {j: a[keep] for j, a in self.allowed.items()}
        return replace(self, **{**new, **changes})


def box(request: EngineRequest, scales: FloatArray, kinds: Sequence[str]) -> tuple[FloatArray, ...]:
    """Return the bounds of one client's u (0 included: no change)."""
    b, c = request.bounds, request.client
    lo, hi = np.zeros(len(c)), np.zeros(len(c))
    for j in np.flatnonzero(b.movable).tolist():
        if kinds[j] != "categorical":
            codes = b.allowed[j]
            a, z = (min(codes), max(codes)) if codes else (b.lower[j], b.upper[j])
            lo[j], hi[j] = min((a - c[j]) / scales[j], 0.0), max((z - c[j]) / scales[j], 0.0)
    return lo, hi


def design_maps(
    cs: ConstraintSet, space: Any, f: TorchFunction, k_max: int
) -> tuple[FloatArray, ...]:
    """Return the design maps of codes (d, n_design) and categories, and the derived spread."""
    d = cs.n_features
    spread = cs.compiled.derived_map()  # a change of codes -> derived features recomputed
    codes = np.zeros((d, space.n_design))
    categories = np.zeros((0, space.n_design))
    for j, spec in enumerate(cs.features):
        cols = space.design_columns(spec.name)
        if spec.kind == "categorical":
            block = np.zeros((k_max, space.n_design))
            block[: cols.stop - cols.start, cols] = np.eye(cols.stop - cols.start)
            categories = np.vstack([categories, block])
        else:
            codes[j, cols.start] = 1.0
    scale = np.asarray(f.scale, dtype=np.float64)
    return codes / scale, categories / scale, spread


def prices(cs: ConstraintSet) -> FloatArray:
    """Return the cost of moving each feature by one scale (per change + per unit x scale).

    Features the file gives no cost get a tenth of the mean price, so they still count.
    """
    cp = cs.compiled
    price = cp.cost_per_change + cp.cost_per_unit * cp.scale
    positive = price[cp.mutable & (price > 0)]
    if not positive.size:
        return np.ones(cs.n_features)
    return np.maximum(price, 0.1 * float(positive.mean())) / float(positive.mean())


def reachable(
    cs: ConstraintSet, requests: Sequence[EngineRequest], r: int, filled: FloatArray
) -> dict[int, BoolArray]:
    """Return the codes each coded feature may take, (r rows per client, k).

    ``filled`` holds the clients' codes with missing values at the model's imputed ones.
    """
    allowed: dict[int, BoolArray] = {}
    for j, spec in enumerate(cs.features):
        if spec.kind in ("binary", "categorical", "ordinal"):
            mask = np.zeros((len(requests), spec.n_categories), dtype=bool)
            for i, p in enumerate(requests):
                codes = p.bounds.allowed[j] if p.bounds.movable[j] else None
                mask[i, sorted(codes or {round(filled[i, j])})] = True
            allowed[j] = np.repeat(mask, r, axis=0)
    return allowed


def filled_clients(requests: Sequence[EngineRequest], space: Any, f: TorchFunction) -> FloatArray:
    """Return the clients' codes, a missing value replaced by the code the model imputes.

    A missing value is frozen: the relaxed problem holds it at what the model sees (a
    number's imputed value, a categorical's imputed category); candidates get it back
    missing when they are projected onto the constraint set.
    """
    clients = np.stack([p.client for p in requests])
    missing = np.isnan(clients)
    if not missing.any():
        return clients
    if f.missing_value is None:  # supports_missing() said so already
        raise CounterfactualError("engine: gradient needs the model's imputed values.")
    fill = np.asarray(f.missing_value, dtype=np.float64)
    codes = np.empty(clients.shape[1])
    for j, (name, kind) in enumerate(zip(space.names, space.kinds, strict=True)):
        cols = space.design_columns(name)
        codes[j] = float(np.argmax(fill[cols])) if kind == "categorical" else fill[cols.start]
    filled: FloatArray = np.where(missing, codes, clients)
    return filled


def relax(
    requests: Sequence[EngineRequest],
    *,
    restarts: int,
    l1_weights: tuple[float, ...],
    cost_weighted: bool,
) -> Relaxation:
    """Return the relaxed problem of a batch of clients (same adapter and goal column).

    Each client gets ``restarts`` starts per distance weight in ``l1_weights``;
    ``cost_weighted`` prices each feature's distance by its cost per scale.
    """
    p0 = requests[0]
    cs, r = p0.constraints, restarts * len(l1_weights)
    kinds = [f.kind for f in cs.features]
    goal = p0.target.linear_goal() or (0, ">=", 0.5)
    function = p0.adapter.margins[goal[0]].function
    if not isinstance(function, TorchFunction):  # supports() said so already
        raise CounterfactualError("engine: gradient needs a torch model's margin.")
    filled = filled_clients(requests, p0.adapter.space, function)
    clients = np.repeat(filled, r, axis=0)
    allowed = reachable(cs, requests, r, filled)
    categorical = tuple(j for j, k in enumerate(kinds) if k == "categorical")
    k_max = max([allowed[j].shape[1] for j in categorical], default=1)
    padded = np.zeros((len(clients), len(categorical), k_max), dtype=bool)
    for k, j in enumerate(categorical):
        padded[:, k, : allowed[j].shape[1]] = allowed[j]
    goals = [p.target.linear_goal() or (0, ">=", 0.5) for p in requests]
    margin = p0.adapter.margins[goals[0][0]]
    f = margin.function
    if not isinstance(f, TorchFunction):  # supports() said so already
        raise CounterfactualError("engine: gradient needs a torch model's margin.")
    codes_map, categories_map, spread = design_maps(cs, p0.adapter.space, f, k_max)
    boxes = [box(p, cs.scales, kinds) for p in requests]
    return Relaxation(
        requests=tuple(requests),
        owner=np.repeat(np.arange(len(requests)), r),
        clients=clients,
        lower=np.repeat(np.stack([b[0] for b in boxes]), r, axis=0),
        upper=np.repeat(np.stack([b[1] for b in boxes]), r, axis=0),
        allowed=allowed,
        categorical=categorical,
        mask=padded,
        current=np.rint(clients[:, list(categorical)]).astype(np.intp),
        l1=np.tile(np.array(l1_weights), restarts * len(requests)),
        weight=prices(cs) if cost_weighted else np.ones(cs.n_features),
        bound=np.repeat([margin.link.margin_for(g[2]) for g in goals], r),
        sign=np.repeat([1.0 if g[1] == ">=" else -1.0 for g in goals], r),
        base=clients @ codes_map - np.asarray(f.mean) / np.asarray(f.scale),
        through=(cs.scales[:, None] * spread) @ codes_map,
        categories=categories_map,
        function=f,
    )


# ----------------------------------------------------------------------------- optimisation
