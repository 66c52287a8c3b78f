"""The ``gradient`` engine: projected gradient descent on a torch model's relaxed problem.

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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

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
    select,
    shrink,
    slack_of,
    sparsify,
    unique_rows,
)
from counterfactuals._gradient_optimise import end_points
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
        relaxed problem prefers the plans the constraint file says are cheap.
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
        "steps": Whole(1, 100_000),  # upper bounds: a run is never unbounded
        "polish_steps": Whole(0, 100_000),
        "learning_rate": Number(0.0, low_open=True),
        "restarts": Whole(1, 1_000),
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

    def supports_missing(self, request: EngineRequest) -> Support:
        """Say whether the engine can serve a client with missing values (``missing: keep``).

        A missing value stays fixed at the value the model imputes for it
        (``TorchFunction.missing_value``); a model that does not say is refused.
        """
        support = self.supports(request.adapter, request.target)
        if not support:
            return support
        column = (request.target.linear_goal() or (0, "", 0.0))[0]
        function = request.adapter.margins[column].function
        if not isinstance(function, TorchFunction) or function.missing_value is None:
            return Support.no(
                "the client has missing values and the torch model does not say which value "
                "it imputes. Hint: use the search engine"
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


def _solve_batch(
    engine: GradientEngine, requests: Sequence[EngineRequest], n: int, seed: int
) -> list[EngineOutput]:
    """Solve a batch: end points -> projected -> valid -> sparsified -> checked -> chosen."""
    rel, ends, stopped = end_points(engine, requests, seed)
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
