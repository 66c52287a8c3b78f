"""A campaign: the cheapest levers for one product over a whole segment, in batches.

The goal, the product's frozen holding, the wording and the costs are the
:class:`~advisor.levers.Advisor`'s; the search is :func:`counterfactuals.generate_many`
(model calls shared across a batch of clients, every answer verified by the real model and
the constraint file), never one model call per client.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.campaigns._distributed import run_partitions
from advisor.campaigns._partitions import BundleSource
from advisor.campaigns._segment import exclusion_mask, segment_mask
from advisor.campaigns._types import (
    CampaignContext,
    CampaignResult,
    CampaignStatus,
    ClientOutcome,
    Provenance,
)
from advisor.errors import AdvisorError, CampaignError, ModelError
from advisor.levers import Advisor, Lever, actions_of, goal_reached, rank_levers, search_goal
from advisor.models import ModelBundle, ProductRecommender, PropensityModel, load_bundle
from constraints import AnyOf, ConstraintSet, InstanceOf, ParamSpec, Whole, check_params
from counterfactuals import (
    CounterfactualError,
    CounterfactualResult,
    Status,
    Target,
    generate_many,
)

__all__ = ["CAMPAIGN_PARAMS", "RUN_PARAMS", "Campaign"]

Progress = Callable[[int, int], object]

CAMPAIGN_PARAMS: ParamSpec = {
    "product": (InstanceOf((str,), "a product name"), None),
    "batch_size": Whole(1, 100_000),
}
"""The rules of :class:`Campaign`'s own options (the others are the Advisor's)."""

RUN_PARAMS: ParamSpec = {
    "clients": InstanceOf((pd.DataFrame,), "a DataFrame of clients (one row each)"),
    "n_levers": Whole(1, 10),
    "progress": (AnyOf(callable, "a callable progress(done, total)"), None),
}
"""The rules of :meth:`Campaign.run`'s parameters (``segment``/``exclude`` checked apart)."""


def _library_version() -> str:
    try:
        return version("levers")
    except PackageNotFoundError:  # pragma: no cover - an uninstalled checkout
        return "unknown"


class Campaign:
    """The cheapest levers for one product over a segment of clients.

    Parameters
    ----------
    model
        A :class:`~advisor.models.PropensityModel` or a
        :class:`~advisor.models.ProductRecommender` (as for :class:`~advisor.levers.Advisor`).
    constraints
        The constraint file in force, bound to the model's training data.
    product
        The product to aim at; ``None`` only for a single model (its target).
    target
        The score a lever must reach (a probability); ``None``: the Advisor's goal (the
        ``goal_quantile`` score of the product's population in ``reference``, 0.5 without).
    reference, goal_quantile, min_uplift, engine, seed, time_limit_s
        As for :class:`~advisor.levers.Advisor` (checked by its rules, ``ADVISOR_PARAMS``).
    batch_size
        Clients per :func:`counterfactuals.generate_many` call (progress is reported after
        each batch; the answers do not depend on it). It is also the size of a partition
        (the unit of work of a Dask worker and of a checkpoint).
    """

    source: BundleSource | None = None
    """The bundle and reference data a campaign of :meth:`from_bundle` is rebuilt from
    (on Dask workers); ``None`` for a campaign built from objects in memory."""

    def __init__(
        self,
        model: PropensityModel | ProductRecommender,
        constraints: ConstraintSet,
        *,
        product: str | None = None,
        target: float | None = None,
        reference: pd.DataFrame | None = None,
        goal_quantile: float | None = None,
        min_uplift: float = 0.03,
        engine: str = "auto",
        seed: int = 0,
        time_limit_s: float | None = 5.0,
        batch_size: int = 1_000,
    ) -> None:
        advisor = Advisor(
            model,
            constraints,
            reference=reference,
            goal=target,
            goal_quantile=goal_quantile,
            min_uplift=min_uplift,
            engine=engine,
            seed=seed,
            time_limit_s=time_limit_s,
        )
        self._setup(advisor, product, batch_size, hashes=(None, None))

    def _setup(
        self,
        advisor: Advisor,
        product: str | None,
        batch_size: int,
        *,
        hashes: tuple[str | None, str | None],
    ) -> None:
        options = check_params(
            {"product": product, "batch_size": batch_size}, CAMPAIGN_PARAMS, error=CampaignError
        )
        if options["product"] is None and advisor.is_recommender:
            raise CampaignError(
                f"product: must name the product a recommender's campaign aims at. Got None. "
                f"Hint: one of {', '.join(advisor.products)}."
            )
        name = options["product"] or advisor.products[0]
        try:
            self.info = advisor.product(name)
        except AdvisorError as exc:
            raise CampaignError(str(exc)) from exc
        self.advisor = advisor
        self.product: str = name
        self.batch_size: int = options["batch_size"]
        self.model_sha256, self.constraints_sha256 = hashes

    @classmethod
    def from_advisor(
        cls, advisor: Advisor, *, product: str | None = None, batch_size: int = 1_000
    ) -> Campaign:
        """Build the campaign of an existing advisor (its goal, engine, seed and time limit)."""
        if not isinstance(advisor, Advisor):
            raise CampaignError(
                f"advisor: must be an advisor.levers.Advisor. Got {type(advisor).__name__}."
            )
        campaign = cls.__new__(cls)
        campaign._setup(advisor, product, batch_size, hashes=(None, None))
        return campaign

    @classmethod
    def from_bundle(
        cls,
        bundle: ModelBundle | str | os.PathLike[str],
        reference: pd.DataFrame | None = None,
        *,
        product: str | None = None,
        batch_size: int = 1_000,
        **options: Any,
    ) -> Campaign:
        """Build the campaign of a model bundle (a folder or :func:`~advisor.models.load_bundle`).

        ``reference`` is the bundle's training data (the goal and the binding of the
        constraint file come from it); ``options`` are the Advisor's (``target`` is its
        ``goal``). The provenance records the card's model and constraint-file hashes. The
        campaign keeps the bundle's folder, ``reference`` and ``options`` (:attr:`source`):
        Dask workers rebuild it from them, checked against those hashes.
        """
        if isinstance(bundle, (str, os.PathLike)):
            bundle = load_bundle(Path(bundle))
        if "target" in options:
            options["goal"] = options.pop("target")
        source = BundleSource(
            path=Path(bundle.path).absolute(), reference=reference, options=dict(options)
        )
        advisor = Advisor.from_bundle(bundle, reference, **options)
        files = json.dumps(sorted(bundle.card.files.items())).encode()
        hashes = (hashlib.sha256(files).hexdigest(), bundle.card.constraint_file.sha256)
        campaign = cls.__new__(cls)
        campaign._setup(advisor, product, batch_size, hashes=hashes)
        campaign.source = source
        return campaign

    # ------------------------------------------------------------------ run
    def run(
        self,
        clients: pd.DataFrame,
        *,
        segment: Any = None,
        exclude: Any = None,
        n_levers: int = 1,
        progress: Progress | None = None,
        client: Any = None,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> CampaignResult:
        """Search the cheapest levers of every client of the segment.

        Parameters
        ----------
        clients
            Clients in business values, one row each, indexed by a unique client id.
        segment
            ``None`` (every client), an expression on the clients' columns (comparisons,
            ``in`` lists, ``and`` / ``or`` / ``not``; nothing else is evaluated) or a
            boolean mask aligned to the clients.
        exclude
            A boolean column name or mask: clients never to target (opt-out). They are
            counted as ``excluded``, never searched nor scored.
        n_levers
            Levers kept per client (ranked, deduplicated; the cheapest first).
        progress
            Called as ``progress(done, total)``: clients of the segment done out of all of
            them, after each partition (in-process also after each batch); partitions
            resumed from a checkpoint are reported done at once.
        client
            A ``dask.distributed.Client`` to run the partitions on; ``None``: in-process,
            unless ``LEVERS_DASK_SCHEDULER`` names a scheduler (``tcp://host:port``). A
            distributed run needs a campaign built by :meth:`from_bundle`.
        checkpoint
            A folder where each finished partition is written (a new or empty folder, or
            with ``resume`` the folder of a stopped run of the same campaign and clients).
        resume
            Reuse the finished partitions of ``checkpoint``; compute only the others.

        Returns
        -------
        CampaignResult
            One outcome per client of the segment, totals and provenance.
        """
        start = time.perf_counter()
        options = check_params(
            {"clients": clients, "n_levers": n_levers, "progress": progress},
            RUN_PARAMS,
            error=CampaignError,
        )
        frame = self._checked_clients(options["clients"])
        in_segment = segment_mask(segment, frame)
        excluded = exclusion_mask(exclude, frame)[in_segment]
        rows = frame.loc[in_segment]
        goal = self.advisor.goal_for(self.product)
        outcomes, engines, shape = run_partitions(
            self,
            rows,
            np.asarray(excluded, dtype=bool),
            goal,
            n_levers=options["n_levers"],
            progress=options["progress"],
            client=client,
            checkpoint=checkpoint,
            resume=resume,
        )
        return CampaignResult(
            product=self.product,
            outcomes=tuple(outcomes),
            product_value=self._value(),
            provenance=self._provenance(goal, options["n_levers"], engines, start, shape),
            context=CampaignContext(campaign=self, clients=rows),
        )

    def _checked_clients(self, clients: pd.DataFrame) -> pd.DataFrame:
        if clients.empty:
            raise CampaignError("clients: must hold at least one client. Got an empty frame.")
        if not clients.index.is_unique:
            raise CampaignError(
                "clients: the index must be a unique client id. Got repeated ids. Hint: "
                "clients.set_index('client_id') or reset_index(drop=True)."
            )
        needed = [*self.info.constraints.feature_names]
        needed += [] if self.info.held is None or self.info.held in needed else [self.info.held]
        missing = [f for f in needed if f not in clients.columns]
        if missing:
            raise CampaignError(
                f"clients: must hold every feature of the model and its constraint file. Got "
                f"none for {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}. Hint: "
                "the data does not match the bundle."
            )
        return clients

    def _fill(
        self,
        outcomes: list[ClientOutcome | None],
        rows: pd.DataFrame,
        searched: np.ndarray,
        goal: float,
        options: dict[str, Any],
    ) -> tuple[str, ...]:
        """Score the non-excluded clients, search those below the goal, fill their outcomes."""
        positions = np.flatnonzero(searched)
        todo = rows.iloc[positions]
        scores = self._scores(todo)
        held = (
            np.zeros(len(todo), dtype=bool)
            if self.info.held is None
            else np.asarray(todo[self.info.held].astype(bool).to_numpy(), dtype=bool)
        )
        direction = self.info.direction
        reached = held | goal_reached(scores, goal, direction)
        for k in np.flatnonzero(reached):
            outcomes[positions[k]] = ClientOutcome(
                client=todo.index[int(k)], status=CampaignStatus.REACHED, score=scores[k], goal=goal
            )
        # the Advisor's rule: a lever moves the score by >= min_uplift; clients closer than
        # that to the goal aim min_uplift beyond it (one target per tier, batched)
        # robust levers (Advisor.robust_margin) aim that much beyond the goal
        uplift = self.advisor.min_uplift
        aim = search_goal(goal, goal, 0.0, direction, margin=self.advisor.robust_margin)
        near = scores < aim + uplift if direction == "lower" else scores > aim - uplift
        tiers = (
            (aim, ~reached & ~near),
            (search_goal(aim, aim, uplift, direction), ~reached & near),
        )
        total, done, engines = int((~reached).sum()), 0, set()
        for tier_goal, members in tiers:
            for chunk in np.array_split(np.flatnonzero(members), self._n_chunks(members)):
                results = self._search(todo.iloc[chunk], tier_goal, options["n_levers"])
                for k, result in zip(chunk, results, strict=True):
                    engines.add(result.engine)
                    outcomes[positions[k]] = self._outcome(
                        todo.index[int(k)], scores[k], tier_goal, result, options["n_levers"]
                    )
                done += len(chunk)
                if options["progress"] is not None and len(chunk):
                    options["progress"](done, total)
        return tuple(sorted(engines))

    def _n_chunks(self, members: np.ndarray) -> int:
        return max(1, -(-int(members.sum()) // self.batch_size))

    def _scores(self, frame: pd.DataFrame) -> np.ndarray:
        if frame.empty:
            return np.zeros(0)
        try:
            return np.asarray(self.info.model.score(frame), dtype=np.float64)
        except (ModelError, CounterfactualError, KeyError, ValueError) as exc:
            raise CampaignError(f"clients: cannot be scored by the model: {exc}") from exc

    def _search(self, frame: pd.DataFrame, goal: float, n_levers: int) -> list[Any]:
        if frame.empty:
            return []
        # robust levers under a committee of refits (Advisor.robust_refits), as the advisor
        committee = self.advisor.committee(self.info.name) if self.advisor.robust_refits else None
        try:
            found = generate_many(
                self.info.model if committee is None else committee.adapter(),
                frame,
                self.info.constraints,
                Target.probability(goal, at_most=self.info.direction == "lower"),
                n=max(5, 2 * n_levers),
                engine=self.advisor.engine,
                seed=self.advisor.seed,
                time_limit_s=self.advisor.time_limit_s,
                diagnose=False,
            )
        except (ModelError, CounterfactualError) as exc:
            raise CampaignError(f"clients: {exc}") from exc
        return found if committee is None else [committee.verified(r, goal) for r in found]

    def _outcome(
        self, client: Any, score: float, goal: float, result: CounterfactualResult, n_levers: int
    ) -> ClientOutcome:
        if result.status is Status.FOUND:
            levers = self._levers(result, n_levers)
            return ClientOutcome(
                client=client, status=CampaignStatus.LEVER, score=score, goal=goal, levers=levers
            )
        if result.status is Status.REACHED:
            status = CampaignStatus.REACHED
        elif "proved" in result.reason:
            status = CampaignStatus.NONE_PROVED
        else:
            status = CampaignStatus.NONE_NOT_FOUND
        return ClientOutcome(client=client, status=status, score=score, goal=goal)

    def _levers(self, result: CounterfactualResult, n_levers: int) -> tuple[Lever, ...]:
        """Counterfactuals as levers: deduplicated by their actions, ranked cheapest first."""
        seen: set[tuple[str, ...]] = set()
        drafts = []
        for cf in result.counterfactuals:
            actions = actions_of(self.info.constraints, cf.changes)
            key = tuple(sorted(a.describe("en") for a in actions if not a.consequence))
            if key not in seen:
                seen.add(key)
                drafts.append((cf, actions))
        sign = -1.0 if self.info.direction == "lower" else 1.0  # ties: the larger improvement
        order = rank_levers(
            [d[0].cost for d in drafts], [sign * d[0].score for d in drafts], [None] * len(drafts)
        )
        return tuple(
            Lever(
                rank=rank,
                actions=drafts[i][1],
                score_before=result.baseline_score,
                score_after=float(drafts[i][0].score),
                cost=float(drafts[i][0].cost),
                n_changes=drafts[i][0].n_changes,
                support=None,
                values=dict(drafts[i][0].values),
            )
            for rank, i in enumerate(order[:n_levers], start=1)
        )

    def _value(self) -> float | None:
        model = self.advisor.model
        if isinstance(model, ProductRecommender):
            return float(model.catalog.products[self.product].value)
        return None

    def _provenance(
        self, goal: float, n_levers: int, engines: tuple[str, ...], start: float, shape: Any
    ) -> Provenance:
        return Provenance(
            workers=shape.workers,
            scheduler=shape.scheduler,
            n_partitions=shape.n_partitions,
            n_resumed=shape.n_resumed,
            product=self.product,
            engine=self.advisor.engine,
            engines_used=engines,
            seed=self.advisor.seed,
            time_limit_s=self.advisor.time_limit_s,
            goal=goal,
            min_uplift=self.advisor.min_uplift,
            n_levers=n_levers,
            batch_size=self.batch_size,
            elapsed_s=time.perf_counter() - start,
            library_version=_library_version(),
            model_sha256=self.model_sha256,
            constraints_sha256=self.constraints_sha256,
            goal_direction=self.info.direction,
        )
