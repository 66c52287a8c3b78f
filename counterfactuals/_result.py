"""Results of a search: changes, counterfactuals and the result with its status."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from counterfactuals._target import Target
from counterfactuals.errors import CounterfactualError

__all__ = ["Change", "Counterfactual", "CounterfactualResult", "Status"]


class Status(StrEnum):
    """The outcome of a search, and of an advice built on one (one vocabulary for both).

    ``FOUND``: counterfactuals (levers) were found; ``NONE``: none (the reason says whether
    that is proved or only not found in time); ``REACHED``: the client already meets the
    goal. Members are strings (``Status.FOUND == "found"``), so JSON carries the value.
    """

    FOUND = "found"
    NONE = "none"
    REACHED = "reached"


def _plain(value: Any) -> Any:
    """Return a JSON-friendly Python scalar for a numpy/pandas value."""
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One feature's move, in business values (category labels, amounts)."""

    feature: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Counterfactual:
    """A verified counterfactual: the client's values after the changes, and what it costs.

    ``score`` is the real model's score of the target (re-scored through its full
    preprocessing); ``cost`` is the constraint file's cost of the changes.
    """

    values: Mapping[str, Any]
    changes: tuple[Change, ...]
    score: float
    cost: float
    distance: float = 0.0

    def __post_init__(self) -> None:
        if not self.changes:
            raise CounterfactualError("Counterfactual.changes: must hold at least one change.")
        if not math.isfinite(self.score) or not math.isfinite(self.cost):
            raise CounterfactualError(
                f"Counterfactual: score and cost must be finite. Got {self.score}, {self.cost}."
            )

    @property
    def n_changes(self) -> int:
        """Number of features changed (derived features included)."""
        return len(self.changes)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable description."""
        return {
            "values": {k: _plain(v) for k, v in self.values.items()},
            "changes": [
                {"feature": c.feature, "before": _plain(c.before), "after": _plain(c.after)}
                for c in self.changes
            ],
            "score": self.score,
            "cost": self.cost,
            "distance": self.distance,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterfactualResult:
    """The answer to one search; "no counterfactual" is a status, not an exception.

    Parameters
    ----------
    query
        The client, in business values.
    target
        The goal searched for.
    counterfactuals
        Verified counterfactuals, best (cheapest) first; empty unless ``status`` is FOUND.
    status
        :class:`Status`: ``FOUND``, ``NONE`` (no counterfactual; ``reason`` says why) or
        ``REACHED`` (the client already meets the target).
    engine
        The engine that produced the counterfactuals (for ``auto``: the one that answered).
    params
        The engine's hyper-parameters.
    seed
        The seed of every random step.
    elapsed_s
        Wall time of the whole request, verification included.
    baseline_score
        The client's current score of the target.
    reason
        Why no counterfactual was returned (empty when FOUND).
    best_score
        The best score reachable within the constraints when NONE and known.
    binding
        Constraints that bind: relaxing one of these would make a lever possible.
    optimal
        The first counterfactual is proved cost-minimal (exact engine).
    gap
        The exact engine's relative optimality gap (0 when optimal); ``None`` for heuristics.
    notes
        Anything the caller should know (time limit hit, fallbacks taken...).
    timed_out
        The time limit stopped the engine (or the diagnosis of a "none found"): the answer
        depends on the machine's speed and load, and a second run may differ.
    """

    query: Mapping[str, Any]
    target: Target
    counterfactuals: tuple[Counterfactual, ...]
    status: Status
    engine: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    elapsed_s: float = 0.0
    baseline_score: float = math.nan
    reason: str = ""
    best_score: float | None = None
    binding: tuple[str, ...] = ()
    optimal: bool = False
    gap: float | None = None
    notes: tuple[str, ...] = ()
    timed_out: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            raise CounterfactualError(
                f"status: must be a Status ({', '.join(s.name for s in Status)}). "
                f"Got {self.status!r}."
            )
        if (self.status is Status.FOUND) != bool(self.counterfactuals):
            raise CounterfactualError(
                "status: FOUND exactly when counterfactuals are returned. "
                f"Got {self.status.name} with {len(self.counterfactuals)}."
            )
        if self.status is not Status.FOUND and not self.reason:
            raise CounterfactualError(f"reason: a {self.status.name} result must say why.")

    @property
    def found(self) -> bool:
        """Whether at least one counterfactual was found."""
        return self.status is Status.FOUND

    def to_frame(self) -> pd.DataFrame:
        """One row per counterfactual: rank, score, cost, n_changes, then every feature."""
        rows = []
        for rank, cf in enumerate(self.counterfactuals, start=1):
            row: dict[str, Any] = {
                "rank": rank,
                "score": cf.score,
                "cost": cf.cost,
                "n_changes": cf.n_changes,
            }
            row.update(cf.values)
            rows.append(row)
        columns = ["rank", "score", "cost", "n_changes", *self.query.keys()]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable description."""
        return {
            "query": {k: _plain(v) for k, v in self.query.items()},
            "target": self.target.describe(),
            "status": self.status.value,
            "reason": self.reason,
            "engine": self.engine,
            "params": {k: _plain(v) for k, v in self.params.items()},
            "seed": self.seed,
            "elapsed_s": self.elapsed_s,
            "baseline_score": self.baseline_score,
            "best_score": self.best_score,
            "binding": list(self.binding),
            "optimal": self.optimal,
            "gap": self.gap,
            "notes": list(self.notes),
            "timed_out": self.timed_out,
            "counterfactuals": [cf.to_dict() for cf in self.counterfactuals],
        }
