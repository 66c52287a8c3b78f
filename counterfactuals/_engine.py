"""The engine contract: a bound request in, candidate codes out (the API verifies them)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from constraints import ClientBounds, ConstraintSet, ParamSpec, Whole, check_params
from counterfactuals._model import ModelAdapter
from counterfactuals._target import BoundTarget
from counterfactuals.errors import CounterfactualError

__all__ = [
    "ENGINES",
    "MAX_COUNTERFACTUALS",
    "MAX_SEED",
    "MAX_TIME_S",
    "SOLVE_PARAMS",
    "Engine",
    "EngineOutput",
    "EngineRequest",
    "Support",
    "check_solve",
    "missing_support",
    "register_engine",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


MAX_TIME_S = 86_400.0
"""The longest time limit any search accepts (24 h): a run is never unbounded."""
MAX_COUNTERFACTUALS = 1_000
"""The most counterfactuals one client may ask for."""
MAX_SEED = 2**63 - 1
"""The largest seed (numpy's generators take any, the limit keeps messages short)."""

SOLVE_PARAMS: ParamSpec = {"n": Whole(1, MAX_COUNTERFACTUALS), "seed": Whole(0, MAX_SEED)}
"""The rules of ``solve`` / ``solve_many``'s own parameters (every engine checks them)."""


def check_solve(n: Any, seed: Any) -> tuple[int, int]:
    """Return ``n`` and ``seed`` checked against :data:`SOLVE_PARAMS` (as Python ints)."""
    checked = check_params({"n": n, "seed": seed}, SOLVE_PARAMS, error=CounterfactualError)
    return checked["n"], checked["seed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Support:
    """Whether an engine can serve a request, and why not (``reason`` empty when it can).

    Truthy exactly when the engine can serve it: ``if engine.supports(adapter, target):``.
    """

    ok: bool
    reason: str = ""

    def __post_init__(self) -> None:
        if self.ok == bool(self.reason):
            raise CounterfactualError(
                "Support: a reason is given exactly when the engine cannot serve the request. "
                f"Got ok={self.ok} with reason {self.reason!r}."
            )

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def yes(cls) -> Support:
        """Say the engine can serve the request."""
        return cls(ok=True)

    @classmethod
    def no(cls, reason: str) -> Support:
        """Say the engine cannot serve the request, and why."""
        return cls(ok=False, reason=reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineRequest:
    """One client's search request, bound and validated (codes in feature-space order).

    ``client`` is the client's (d,) codes; ``bounds`` what each feature may become for this
    client (:meth:`ConstraintSet.bounds_for`); ``deadline`` a ``time.perf_counter()`` value
    after which engines stop (``None``: no limit). ``cost_bound``: a counterfactual costing
    more is of no use (``auto`` sets it to the cost of the search's best before it runs the
    exact engine, which then prunes every move costing more and proves none is cheaper).
    ``known``: a verified counterfactual at that cost (the search's), the exact engine's
    starting point.
    """

    adapter: ModelAdapter
    constraints: ConstraintSet
    client: FloatArray
    target: BoundTarget
    bounds: ClientBounds
    baseline: FloatArray
    deadline: float | None = None
    cost_bound: float | None = None
    known: FloatArray | None = None

    def proba(self, codes: FloatArray) -> FloatArray:
        """(m, d) codes -> (m, k) probabilities through the fast path (one model call)."""
        return self.adapter.proba_codes(np.asarray(codes, dtype=np.float64))

    def slack(self, codes: FloatArray, proba: FloatArray | None = None) -> FloatArray:
        """How far each row is past the goal (>= 0: reached), (m,); one model call."""
        codes = np.asarray(codes, dtype=np.float64)
        p = self.proba(codes) if proba is None else proba
        held = self.adapter.held(codes) if self.adapter.held is not None else None
        return self.target.slack(p, held, self.adapter.values)

    def time_left(self) -> float:
        """Seconds left before the deadline (inf without one)."""
        if self.deadline is None:
            return float("inf")
        return self.deadline - time.perf_counter()


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineOutput:
    """What an engine returns; the API verifies every candidate before it reaches a caller.

    Parameters
    ----------
    candidates
        (m, d) codes, best first (at most a few more than asked for is fine).
    proved_none
        The engine proved that no counterfactual exists within the constraints (exact
        engines' infeasibility certificate; or a finite search space fully enumerated).
    timed_out
        The deadline stopped the engine before it finished.
    optimal
        The first candidate is proved cost-minimal.
    proved_bound
        The engine proved that no counterfactual costs less than the request's
        ``cost_bound`` (so a counterfactual at that cost is optimal).
    gap
        Relative optimality gap of the first candidate (``None`` for heuristics).
    best_codes
        When nothing reaches the goal: the best point the engine found (for the reason).
    binding
        Constraints the engine found binding (names as in the file, e.g. ``max_changes``,
        ``rule:savings within means``, ``immutable:age``).
    notes
        Free text for the result's ``notes``.
    """

    candidates: FloatArray
    proved_none: bool = False
    timed_out: bool = False
    optimal: bool = False
    proved_bound: bool = False
    gap: float | None = None
    best_codes: FloatArray | None = None
    binding: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)


def missing_support(engine: Engine, request: EngineRequest) -> Support:
    """Say whether ``engine`` can serve a client with missing values (``missing: keep``).

    An engine that keeps a missing value missing (frozen for that client) declares
    ``keeps_missing = True``, or answers per request with a ``supports_missing(request)``
    method; the others cannot serve such a client.
    """
    missing = np.isnan(request.client)
    if not missing.any():
        return Support.yes()
    per_request = getattr(engine, "supports_missing", None)
    if callable(per_request):
        answer: Support = per_request(request)
        return answer
    if getattr(engine, "keeps_missing", False):
        return Support.yes()
    names = [request.adapter.space.names[j] for j in np.flatnonzero(missing)]
    shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
    return Support.no(
        f"the client's {shown} {'is' if len(names) == 1 else 'are'} missing and the "
        f"{engine.name} engine needs every value. Hint: use the search engine, which keeps "
        "missing values missing"
    )


class Engine(Protocol):
    """A search algorithm with its hyper-parameters (a small frozen dataclass).

    An engine that serves clients with missing values (``missing: keep``: NaN in the
    client's codes, frozen for that client) also sets ``keeps_missing: ClassVar[bool] = True``
    or defines ``supports_missing(request) -> Support`` (see :func:`missing_support`).
    """

    name: ClassVar[str]

    def supports(self, adapter: ModelAdapter, target: BoundTarget) -> Support:
        """Say whether this engine can serve the request, and why not."""

    def solve(self, request: EngineRequest, n: int, seed: int) -> EngineOutput:
        """Search one client's counterfactuals."""

    def solve_many(
        self, requests: Sequence[EngineRequest], n: int, seed: int
    ) -> list[EngineOutput]:
        """Search many clients at once (share model calls); same answers as ``solve``."""


ENGINES: dict[str, type[Any]] = {}


def register_engine(cls: type[Any]) -> type[Any]:
    """Class decorator: add an engine to the registry under its ``name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise CounterfactualError(f"{cls.__name__}.name: must be a non-empty string.")
    ENGINES[name] = cls
    return cls
