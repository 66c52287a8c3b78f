"""A campaign's answer: one outcome per client, totals and provenance (frozen, no rendering)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from advisor.campaigns._fairness import fairness_report
from advisor.campaigns._fairness_types import FairnessReport
from advisor.campaigns._global import GlobalActions, summarize
from advisor.campaigns._truth import TrueEffect, demo_true_effect
from advisor.datasets import write_table
from advisor.errors import CampaignError
from advisor.levers import Lever
from constraints import Flag, check_params

__all__ = [
    "COLUMNS",
    "CampaignContext",
    "CampaignResult",
    "CampaignStatus",
    "CampaignTotals",
    "ClientOutcome",
    "Provenance",
]

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


class CampaignStatus(StrEnum):
    """What a campaign decided for one client of the segment.

    ``LEVER``: at least one lever; ``NONE_PROVED``: the engine proved that no lever exists
    within the constraint file; ``NONE_NOT_FOUND``: none was found in the time allowed
    (one may exist); ``REACHED``: the client already meets the goal or holds the product;
    ``EXCLUDED``: the client must never be targeted (opt-out) and was not searched.
    """

    LEVER = "lever"
    NONE_PROVED = "none-proved"
    NONE_NOT_FOUND = "none-not-found"
    REACHED = "reached"
    EXCLUDED = "excluded"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOutcome:
    """One client of the segment: status, score today, the goal and the ranked levers.

    ``score`` is NaN for an excluded client (never scored); ``levers`` is empty unless the
    status is ``LEVER``; ``goal`` is the score the search aimed at.
    """

    client: Any
    status: CampaignStatus
    score: float
    goal: float
    levers: tuple[Lever, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.status, CampaignStatus):
            raise CampaignError(f"status: must be a CampaignStatus. Got {self.status!r}.")
        if (self.status is CampaignStatus.LEVER) != bool(self.levers):
            raise CampaignError(
                f"levers: status LEVER exactly when levers are given. Got {self.status.name} "
                f"with {len(self.levers)} levers."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """What ran a campaign, enough to run it again and get the same frame.

    ``model_sha256`` and ``constraints_sha256`` come from the bundle's model card (the
    hash of its files' hashes, and of the constraint file's text); they are ``None`` for
    a campaign built from objects in memory. ``workers`` ran the partitions (1 in-process),
    on the Dask ``scheduler`` at that address (``None``: in-process); ``n_partitions``
    partitions of ``batch_size`` clients, ``n_resumed`` of them read from a checkpoint.
    ``goal_direction`` is ``raise`` (a propensity) or ``lower`` (a risk score: ``goal`` is a
    ceiling and levers bring the score down).
    """

    product: str
    engine: str
    engines_used: tuple[str, ...]
    seed: int
    time_limit_s: float | None
    goal: float
    min_uplift: float
    n_levers: int
    batch_size: int
    elapsed_s: float
    library_version: str
    model_sha256: str | None = None
    constraints_sha256: str | None = None
    workers: int = 1
    scheduler: str | None = None
    n_partitions: int = 0
    n_resumed: int = 0
    goal_direction: Literal["raise", "lower"] = "raise"

    def to_dict(self) -> dict[str, Any]:
        """Return the provenance as plain data (JSON-serialisable)."""
        return {name: getattr(self, name) for name in self.__slots__} | {
            "engines_used": list(self.engines_used)
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignContext:
    """What a result needs to be examined further (global actions, fairness, true effect).

    ``campaign`` is the :class:`~advisor.campaigns.Campaign` that ran (its model, constraint
    file, goal and seed); ``clients`` are the segment's clients in business values, in the
    outcomes' order and with their index (excluded clients included). A result read back
    from disk has no context.
    """

    campaign: Any
    clients: pd.DataFrame


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignTotals:
    """A campaign's figures, computed from its outcomes.

    ``coverage`` is advised / searched (clients of the segment neither excluded nor
    already reached); ``expected_extra_sales`` sums the cheapest levers' score uplifts (for
    a risk score, ``goal_direction`` ``lower``: the score drops, the bad outcomes avoided);
    ``expected_value`` multiplies it by the product's value (``None`` without a value);
    ``cost_quantiles`` are the cheapest levers' costs at 10/25/50/75/90 % (empty without
    levers).
    """

    n_segment: int
    n_excluded: int
    n_reached: int
    n_searched: int
    n_advised: int
    n_none_proved: int
    n_none_not_found: int
    coverage: float
    expected_extra_sales: float
    expected_value: float | None
    cost_quantiles: Mapping[float, float]


COLUMNS = (
    "client",
    "status",
    "product",
    "score",
    "goal",
    "lever_rank",
    "actions_en",
    "actions_fr",
    "changes",
    "score_after",
    "uplift",
    "cost",
    "n_changes",
)
"""The columns of :meth:`CampaignResult.to_frame`, in order."""


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _lever_row(lever: Lever) -> dict[str, Any]:
    changes = {a.feature: [_plain(a.before), _plain(a.after)] for a in lever.actions}
    return {
        "lever_rank": lever.rank,
        "actions_en": "; ".join(lever.describe("en")),
        "actions_fr": "; ".join(lever.describe("fr")),
        "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True, default=str),
        "score_after": lever.score_after,
        "uplift": lever.uplift,
        "cost": lever.cost,
        "n_changes": lever.n_changes,
    }


_NO_LEVER = {
    "lever_rank": 0,
    "actions_en": "",
    "actions_fr": "",
    "changes": "",
    "score_after": math.nan,
    "uplift": math.nan,
    "cost": math.nan,
    "n_changes": 0,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignResult:
    """The answer of :meth:`Campaign.run <advisor.campaigns.Campaign.run>`.

    Parameters
    ----------
    product
        The product the campaign aims at.
    outcomes
        One per client of the segment, in the clients' order (excluded clients included).
    product_value
        The value of one sale (the recommender catalogue's ``value``); ``None`` otherwise.
    provenance
        What ran it.
    context
        The campaign and the segment's clients (set by :meth:`Campaign.run`; ``None`` for a
        result read from disk). Not part of equality.
    """

    product: str
    outcomes: tuple[ClientOutcome, ...]
    product_value: float | None
    provenance: Provenance
    context: CampaignContext | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.outcomes:
            raise CampaignError("outcomes: a campaign result must hold at least one client.")

    def require_context(self, what: str) -> CampaignContext:
        """Return the context, or raise a CampaignError saying ``what`` needs it."""
        if self.context is None:
            raise CampaignError(
                f"{what}: needs the campaign and its clients. Got a result without them (read "
                "from disk). Hint: run the campaign again, or pass them explicitly."
            )
        return self.context

    def summarize(
        self,
        max_actions: int = 5,
        *,
        time_limit_s: float = 60.0,
        max_candidates: int = 200,
        max_cost_ratio: float | None = 2.0,
    ) -> GlobalActions:
        """Choose at most ``max_actions`` global actions, each verified client by client.

        Candidates come from the clients' cheapest levers; an action covers a client only
        when the changed client passes every rule of the constraint file and the real model
        scores it at or above the client's goal. The selection maximises the clients covered
        (among those with an individual lever), then minimises their cost, exactly (HiGHS
        MILP) when it fits within ``time_limit_s``, greedily otherwise. An action is
        proposed to a client only when it costs at most ``max_cost_ratio`` times the
        client's own cheapest lever (``None``: any cost). Needs the context.
        """
        return summarize(
            self,
            max_actions,
            time_limit_s=time_limit_s,
            max_candidates=max_candidates,
            max_cost_ratio=max_cost_ratio,
        )

    def fairness(self, **options: Any) -> FairnessReport:
        """Return the fairness of recourse report (:func:`~advisor.campaigns.fairness_report`).

        ``options`` are that function's (``tolerance``, ``age_feature``, ``age_bands``,
        ``attributes``, ``min_group_size``). Needs the context.
        """
        return fairness_report(self, **options)

    def true_effect(
        self, global_actions: GlobalActions | None = None, *, seed: int | None = None
    ) -> TrueEffect:
        """Return the demo's true effect (:func:`~advisor.campaigns.demo_true_effect`)."""
        return demo_true_effect(self, global_actions, seed=seed)

    def status_counts(self) -> dict[CampaignStatus, int]:
        """Return how many clients have each status (every status listed, zeros included)."""
        counts = dict.fromkeys(CampaignStatus, 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        return counts

    @property
    def totals(self) -> CampaignTotals:
        """The campaign's figures (see :class:`CampaignTotals`)."""
        counts = self.status_counts()
        cheapest = [o.levers[0] for o in self.outcomes if o.levers]
        searched = (
            counts[CampaignStatus.LEVER]
            + counts[CampaignStatus.NONE_PROVED]
            + counts[CampaignStatus.NONE_NOT_FOUND]
        )
        sign = -1.0 if self.provenance.goal_direction == "lower" else 1.0
        extra = float(sum(sign * lever.uplift for lever in cheapest))
        costs = np.array([lever.cost for lever in cheapest], dtype=np.float64)
        return CampaignTotals(
            n_segment=len(self.outcomes),
            n_excluded=counts[CampaignStatus.EXCLUDED],
            n_reached=counts[CampaignStatus.REACHED],
            n_searched=searched,
            n_advised=len(cheapest),
            n_none_proved=counts[CampaignStatus.NONE_PROVED],
            n_none_not_found=counts[CampaignStatus.NONE_NOT_FOUND],
            coverage=len(cheapest) / searched if searched else 0.0,
            expected_extra_sales=extra,
            expected_value=None if self.product_value is None else extra * self.product_value,
            cost_quantiles=(
                {q: float(np.quantile(costs, q)) for q in QUANTILES} if len(costs) else {}
            ),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per client (and per lever when a client has several), columns :data:`COLUMNS`.

        Clients without a lever get one row with ``lever_rank`` 0, empty texts and NaN
        figures; ``changes`` is JSON ``{feature: [before, after]}`` in business values.
        """
        rows = []
        for outcome in self.outcomes:
            head = {
                "client": outcome.client,
                "status": outcome.status.value,
                "product": self.product,
                "score": outcome.score,
                "goal": outcome.goal,
            }
            if not outcome.levers:
                rows.append(head | _NO_LEVER)
            rows.extend(head | _lever_row(lever) for lever in outcome.levers)
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def write(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write :meth:`to_frame` to a ``.csv`` or ``.parquet`` file, atomically.

        The file a CRM loads; see :func:`advisor.datasets.write_table` for the rules
        (the folder must exist; an existing file needs ``overwrite``).
        """
        check_params({"overwrite": overwrite}, {"overwrite": Flag()}, error=CampaignError)
        frame = self.to_frame()
        frame["client"] = frame["client"].astype(str)
        return write_table(frame, path, overwrite=overwrite)
