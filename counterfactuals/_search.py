"""The model-agnostic ``search`` engine: sparse first, feasible only, minimal, diverse, batched.

For each client it tries every feasible single change in one batched model call, then
combinations of 2, 3... changes built from the most promising ones (a seeded beam), up to
the constraint set's ``max_changes``, and stops at the first level where enough distinct
feature sets reach the goal. Candidates are drawn only from the feasible set: numeric
features from a grid between the client's value and each reachable end, coded features
from their allowed codes, derived features recomputed, every row checked by the constraint
set before it is scored. Valid candidates are shrunk toward the client, feature by
feature (a vectorised bisection on the step grid), then ranked by the constraint file's
cost and the MAD-normalised L1 distance, one per changed-feature set.

:meth:`SearchEngine.solve_many` runs many clients in lock step so that each stage is one
model call over all of their candidates; each client's answer is the one
:meth:`SearchEngine.solve` gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, ConstraintSet, ParamSpec, Whole, check_dataclass
from counterfactuals._engine import (
    EngineOutput,
    EngineRequest,
    Support,
    check_solve,
    register_engine,
)
from counterfactuals._model import ModelAdapter
from counterfactuals._search_run import Search, run_search
from counterfactuals._search_space import build_space
from counterfactuals._target import BoundTarget
from counterfactuals.errors import CounterfactualError

__all__ = ["SearchEngine", "slack_batch"]

FloatArray = NDArray[np.float64]


@register_engine
@dataclass(frozen=True, slots=True, kw_only=True)
class SearchEngine:
    """Sparse-first batched search over the feasible set; works with any model.

    Parameters
    ----------
    n_grid
        Values tried per numeric feature and direction (every value when the step grid
        holds fewer).
    beam_width
        Units (features or groups) whose moves are combined at the next level, the most
        promising first.
    n_values
        Values per beam unit, those closest to the goal.
    n_random_units
        Units added to the beam at random (seeded), for diversity.
    n_parents
        Combinations extended by one more unit at the next level.
    n_refine_points
        Values scored per bisection round (a round is one model call).
    n_refine_rounds
        Rounds per changed numeric feature (0: no refinement). On a black box (a model
        without known structure, e.g. a scikit-learn pipeline on business frames, whose every
        call costs milliseconds however few rows it scores) the rounds' grid is scored in one
        round: ``(n_refine_points + 1) ** n_refine_rounds - 1`` values in one call.
    max_level
        Most changes per candidate (``None``: the constraint set's ``max_changes``).
    n_deep
        Levels beyond two changes are searched only while fewer than this many feature
        sets were found (1: a third change only when nothing sparser works; ``None``: until
        ``n`` sets). Sparse levers are easier to act on; on bank marketing (n=5) this keeps
        the mean number of changes at or below 2.
    max_exhaustive
        When nothing is found and the feasible space is finite with at most this many
        points, all of them are scored (``proved_none`` when none reaches the goal).
    n_wide
        When the sparse stages find nothing: random combinations of 2, then 3... moves of
        distinct units (any reachable value) scored per size, as a random search would, the
        valid ones then made sparser (0: off).
    max_rows
        Rows per model call in :meth:`solve_many`.
    batch_problems
        Clients searched in lock step by :meth:`solve_many` (bounds memory).
    """

    name: ClassVar[str] = "search"
    keeps_missing: ClassVar[bool] = True  # a missing value stays missing (frozen per client)

    n_grid: int = 12
    n_enumerate: int = 32
    beam_width: int = 6
    n_values: int = 8
    n_random_units: int = 1
    n_parents: int = 24
    n_refine_points: int = 7
    n_refine_rounds: int = 2
    max_level: int | None = None
    n_deep: int | None = 1
    max_exhaustive: int = 4096
    n_wide: int = 512
    max_rows: int = 200_000
    batch_problems: int = 256

    PARAMETERS: ClassVar[ParamSpec] = {
        # upper bounds: ~100x the defaults, so no setting can exhaust memory or run unbounded
        "n_grid": Whole(2, 1_000),
        "n_enumerate": Whole(0, 10_000),
        "beam_width": Whole(1, 1_000),
        "n_values": Whole(1, 1_000),
        "n_random_units": Whole(0, 1_000),
        "n_parents": Whole(1, 10_000),
        "n_refine_points": Whole(1, 1_000),
        "n_refine_rounds": Whole(0, 100),
        "max_level": (Whole(1, 1_000), None),
        "n_deep": (Whole(1, 1_000), None),
        "max_exhaustive": Whole(0, 1_000_000),
        "n_wide": Whole(0, 100_000),
        "max_rows": Whole(1, 10_000_000),
        "batch_problems": Whole(1, 100_000),
    }

    def __post_init__(self) -> None:
        check_dataclass(self, self.PARAMETERS, error=CounterfactualError)

    def supports(self, adapter: ModelAdapter, target: BoundTarget) -> Support:
        """Say yes: any model with batched probabilities, any target."""
        return Support.yes()

    def first_moves(
        self, constraints: ConstraintSet, bounds: ClientBounds, client: FloatArray
    ) -> FloatArray:
        """Return the rows the first stage scores for a client: its feasible single changes.

        ``bounds`` is ``constraints.bounds_for(client[None, :])``. A caller may score them
        ahead, in a call it makes anyway (the client's own score): on a model that remembers
        the rows it scored (:attr:`ModelAdapter.remembers`), the first stage then costs no call.
        """
        row = np.asarray(client, dtype=np.float64)
        if row.ndim != 1 or len(row) != len(constraints.features):
            raise CounterfactualError(
                f"client: must be one row of {len(constraints.features)} codes. "
                f"Got shape {row.shape}."
            )
        where = _Place(constraints=constraints, bounds=bounds, client=row)
        return build_space(where, (self.n_grid, self.n_enumerate)).moves

    def solve(self, request: EngineRequest, n: int, seed: int) -> EngineOutput:
        """Search one client's counterfactuals (at most ``n``, best first)."""
        return self.solve_many([request], n, seed)[0]

    def solve_many(
        self, requests: Sequence[EngineRequest], n: int, seed: int
    ) -> list[EngineOutput]:
        """Search many clients, sharing model calls; each answer equals :meth:`solve`'s."""
        n, seed = check_solve(n, seed)
        out: list[EngineOutput] = []
        for start in range(0, len(requests), self.batch_problems):
            block = list(requests[start : start + self.batch_problems])
            searches = [run_search(request, n, seed, self) for request in block]
            out.extend(_drive(block, searches, self.max_rows))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _Place:
    """A client's place without a goal (what the first stage's moves depend on)."""

    constraints: ConstraintSet
    bounds: ClientBounds
    client: FloatArray


def _drive(
    requests: list[EngineRequest], searches: list[Search], max_rows: int
) -> list[EngineOutput]:
    """Run searches in lock step: each round scores every pending request in one call."""
    outputs: list[EngineOutput | None] = [None] * len(searches)
    pending: dict[int, FloatArray] = {}

    def advance(i: int, slack: FloatArray | None) -> None:
        try:
            request = searches[i].send(slack) if slack is not None else next(searches[i])
        except StopIteration as stop:
            outputs[i] = stop.value
            return
        pending[i] = request

    for i in range(len(searches)):
        advance(i, None)
    while pending:
        batch = sorted(pending.items())
        pending.clear()
        for (i, _), slack in zip(batch, slack_batch(requests, batch, max_rows), strict=True):
            advance(i, slack)
    return [o for o in outputs if o is not None]


def slack_batch(
    requests: list[EngineRequest], batch: list[tuple[int, FloatArray]], max_rows: int
) -> list[FloatArray]:
    """Return the slack of each (request index, rows) pair of ``batch``.

    Rows of requests that share a model are scored together: one call per model (in chunks
    of ``max_rows``).
    """
    groups: dict[int, list[int]] = {}
    for k, (i, _) in enumerate(batch):
        groups.setdefault(id(requests[i].adapter), []).append(k)
    out: list[FloatArray] = [np.zeros(0)] * len(batch)
    for members in groups.values():
        codes = np.vstack([batch[k][1] for k in members])
        adapter = requests[batch[members[0]][0]].adapter
        proba = np.vstack(
            [
                np.asarray(adapter.proba_codes(codes[s : s + max_rows]), dtype=np.float64)
                for s in range(0, len(codes), max_rows)
            ]
        )
        edges = np.cumsum([0] + [len(batch[k][1]) for k in members])
        for k, lo, hi in zip(members, edges[:-1], edges[1:], strict=True):
            i, rows = batch[k]
            out[k] = requests[i].slack(rows, proba[lo:hi])
    return out
