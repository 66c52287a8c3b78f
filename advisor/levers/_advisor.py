"""The advisor: for one client, where they stand and the levers that lift a product's score.

``Advisor.advise`` searches diverse counterfactuals with :func:`counterfactuals.generate`
(every one re-scored by the real model and re-checked against the constraint file), turns
each into actions in business words, measures its support among similar real clients,
deduplicates and ranks them (cheapest first; similar costs: larger uplift, then larger
support first).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from advisor.errors import AdvisorError, ModelError
from advisor.evidence import Evidence, SimilarIndex, fit_similar
from advisor.levers._bundle import bundle_parts
from advisor.levers._cache import OnceCache
from advisor.levers._committee import Committee, check_committee_engine, fit_committee
from advisor.levers._evidence import (
    EvidenceSources,
    FittedInfluence,
    NoInfluence,
    TrainingRecord,
    build_evidence,
    check_evidence_request,
    fit_product_influence,
)
from advisor.levers._goal import goal_reached, search_goal
from advisor.levers._inputs import check_options, client_frame
from advisor.levers._ood import OutOfDistribution
from advisor.levers._ood_guard import OodGuard, fit_ood_guard
from advisor.levers._products import Population, ProductInfo, population_of, products_of
from advisor.levers._provenance import BundleProvenance, bundle_provenance
from advisor.levers._ranking import rank_levers
from advisor.levers._types import Advice, Lever, check_language
from advisor.levers._whatif import Control, WhatIf, controls, what_if
from advisor.levers._wording import actions_of, held_reason, no_lever_reason, reached_reason
from advisor.models import ModelBundle, ProductRecommender, PropensityModel
from constraints import ConstraintSet, Whole, check_params
from counterfactuals import CounterfactualResult, Status, Target, generate

if TYPE_CHECKING:
    from advisor.audit import AuditStore

__all__ = ["Advisor"]

_N_TRIED = 3  # recommended products tried in turn when no product is named
RAISE_QUANTILE = 0.9  # default goal of a propensity: the top decile's score
LOWER_QUANTILE = 0.5  # default ceiling of a risk score: the median score


def _number_message(number: int, reference: pd.DataFrame | None) -> str:
    """Why a number is not a client: it could be an id or a row, and that is not guessed."""
    if reference is None:
        return (
            f"client: must be a Series, a dict or a one-row DataFrame (this advisor has no "
            f"reference clients to look an id up in). Got the number {number}."
        )
    column = reference.attrs.get("id_column")
    ids = f"column {column!r}" if column else "the reference's index"
    row = (
        f" or reference.iloc[[{number - 1}]] for row {number}"
        if 1 <= number <= len(reference)
        else ""
    )
    return (
        f"client: must be a client id as text ({ids}) or a one-row frame. Got the number "
        f"{number}, which could be an id or a row number: it is not guessed. Hint: "
        f"advisor.client({str(number)!r}) for the client whose id is {number}{row}."
    )


def _n_asked(n_levers: int) -> int:
    """How many counterfactuals a search asks for to give ``n_levers`` distinct levers."""
    return max(5, 2 * n_levers)


def _audit_store(audit: object) -> AuditStore | None:
    """Return the advisor's audit store: one given, the environment's (``"env"``), or none."""
    if audit is None:
        return None
    from advisor.audit import AuditStore, audit_store

    if isinstance(audit, AuditStore):
        return audit
    if audit == "env":
        return audit_store()
    raise AdvisorError(f"audit: must be an advisor.audit.AuditStore, 'env' or None. Got {audit!r}.")


def _unknown_id_message(client: str, reference: pd.DataFrame) -> str:
    """No such id: say which ids exist, and how to index a table read by row."""
    if len(client) > 60:  # a 10 kB id is not echoed whole
        client = f"{client[:40]}... ({len(client):,} characters)"
    if len(reference) == 0:
        return f"client: must be a reference client id. Got {client!r} and no reference clients."
    column = reference.attrs.get("id_column")
    if column:
        return (
            f"client: must be a client id of column {column!r}. Got {client!r}, no such "
            f"client. Hint: ids look like {reference.index[0]!r}."
        )
    if not pd.api.types.is_object_dtype(reference.index) and not pd.api.types.is_string_dtype(
        reference.index
    ):
        return (
            f"client: must be a reference client id. Got {client!r}; the reference is "
            f"indexed by {reference.index.dtype} labels (e.g. row positions), not ids. Hint: "
            f"index it by client id with advisor.datasets.index_clients(frame) before "
            f"building the advisor."
        )
    return (
        f"client: must be a reference client id. Got {client!r}. Hint: ids look like "
        f"{reference.index[0]!r}."
    )


class Advisor:
    """Levers and evidence for a model or a next-best-product recommender.

    Parameters
    ----------
    model
        A :class:`~advisor.models.PropensityModel` or a :class:`~advisor.models.ProductRecommender`.
    constraints
        The constraint file in force (bound to the data the model was trained on).
    reference
        Real clients with their outcomes (the training portfolio): similar-client evidence,
        support, the default goal and influential clients come from it. Optional.
    goal
        The score a lever must reach; ``None``: the score of the ``goal_quantile`` most
        likely clients of the product's population (0.5 without reference data). For a risk
        score (``goal_direction`` ``lower``) the goal is a ceiling the score must get under.
    goal_quantile
        The quantile of the population's scores that is the goal. ``None``: 0.9 for a
        propensity (levers bring the client among the 10 % most likely clients) and 0.5 for
        a risk score (among the less risky half: on German credit, 67.4 % of the applications
        above the median get a lever, 29.6 % of those above the 10 % least risky;
        ``benchmarks/risk_ceiling.py``).
    goal_direction
        ``raise`` (a propensity: levers lift the score) or ``lower`` (a risk score: the
        positive class is the bad outcome, levers bring it down); ``None``: the constraint
        file's ``goal`` (:meth:`from_bundle` passes the model card's).
    min_uplift
        A lever must also lift the score by at least this much (probability points):
        levers that only nudge a score over the line are fragile. On the demo portfolio's
        ground truth, levers lifting the model's score by at most 2 points raised the true
        propensity in 34 % of cases, by more than 5 points in 97 %
        (``benchmarks/levers_ground_truth.py``, docs/advisor.md).
    robust_margin
        Robust levers: a lever must beat the goal by this margin (probability points, 0 to
        0.5; 0: off), so that it still reaches the goal after the model is retrained.
        :data:`~advisor.levers.ROBUST_MARGIN` is the measured choice (docs/advisor.md,
        "Levers that survive a model refresh").
    robust_refits
        Robust levers under a committee: 0 (off) or k from 2 to 20. Each product's model is
        refitted k times (same family and parameters, seeded bootstrap resamples of its
        reference clients; once, on first use) and a lever must reach the goal on the
        bundle's model and on every refit (search engine only; docs/advisor.md).
    engine, seed, time_limit_s
        Passed to :func:`counterfactuals.generate`.
    n_neighbours
        How many nearest matching clients a lever's support is computed on.
    training_seed, training_hashes
        When ``reference`` is the training portfolio: the seed of the train/test split and
        each product's data fingerprint (from the model card); influential clients need them.
    product_label
        A single model's product name, ``{"en": ..., "fr": ...}`` (the label set at training,
        from the model card); ``None``: its target and positive class (``credit risk: bad``).
    audit
        An :class:`~advisor.audit.AuditStore`: every :meth:`advise` appends one record to it
        (docs/audit.md); ``"env"``: the store the environment names
        (:func:`~advisor.audit.audit_store`, ``LEVERS_AUDIT``); ``None`` (default): no record.
    """

    def __init__(
        self,
        model: PropensityModel | ProductRecommender,
        constraints: ConstraintSet,
        *,
        reference: pd.DataFrame | None = None,
        goal: float | None = None,
        goal_quantile: float | None = None,
        goal_direction: Literal["raise", "lower"] | None = None,
        min_uplift: float = 0.03,
        robust_margin: float = 0.0,
        robust_refits: int = 0,
        engine: str = "auto",
        seed: int = 0,
        time_limit_s: float | None = 5.0,
        n_neighbours: int = 50,
        training_seed: int | None = None,
        training_hashes: Mapping[str, str] | None = None,
        product_label: Mapping[str, str] | None = None,
        audit: AuditStore | Literal["env"] | None = None,
    ) -> None:
        options = check_options(
            {
                "constraints": constraints,
                "goal": goal,
                "goal_quantile": goal_quantile,
                "goal_direction": goal_direction,
                "min_uplift": min_uplift,
                "robust_margin": robust_margin,
                "robust_refits": robust_refits,
                "seed": seed,
                "time_limit_s": time_limit_s,
                "n_neighbours": n_neighbours,
                "training_seed": training_seed,
                "engine": engine,
            }
        )
        if reference is not None and (not isinstance(reference, pd.DataFrame) or reference.empty):
            raise AdvisorError("reference: must be a non-empty DataFrame of clients, or None.")
        self.model = model
        self.constraints: ConstraintSet = options["constraints"]
        self.reference = reference
        self.goal: float | None = options["goal"]
        self.goal_quantile: float | None = options["goal_quantile"]
        self.goal_direction: Literal["raise", "lower"] = (
            options["goal_direction"] or self.constraints.goal
        )
        self.min_uplift = float(options["min_uplift"])
        self.robust_margin = float(options["robust_margin"])
        self.robust_refits: int = options["robust_refits"]
        check_committee_engine(options["engine"], self.robust_refits)
        self.engine: str = options["engine"]
        self.seed: int = options["seed"]
        self.time_limit_s: float | None = options["time_limit_s"]
        self.n_neighbours: int = options["n_neighbours"]
        self.training = TrainingRecord(
            seed=options["training_seed"], hashes=dict(training_hashes or {})
        )
        # the checked options as plain data (the audit record's, and replay's, options)
        plain = {k: v for k, v in options.items() if k != "constraints"}
        self.options: Mapping[str, Any] = MappingProxyType(
            {**plain, "goal_direction": self.goal_direction}
        )
        self.audit: AuditStore | None = _audit_store(audit)
        self.provenance: BundleProvenance | None = None  # set by from_bundle
        self._products = products_of(
            model, self.constraints, self.goal_direction, label=product_label
        )
        # compute-once caches, safe when many app sessions share one advisor
        self._populations: OnceCache[str, Population | None] = OnceCache()
        self._similar: OnceCache[str, SimilarIndex | None] = OnceCache()
        self._goals: OnceCache[str, float] = OnceCache()
        self._influence: OnceCache[str, FittedInfluence | NoInfluence] = OnceCache()
        self._ood: OnceCache[str, OodGuard | None] = OnceCache()
        self._committees: OnceCache[str, Committee] = OnceCache()

    # ------------------------------------------------------------------ products
    @property
    def products(self) -> tuple[str, ...]:
        """The products levers can aim at (catalogue order)."""
        return tuple(self._products)

    @property
    def is_recommender(self) -> bool:
        """Whether the model is a next-best-product recommender."""
        return isinstance(self.model, ProductRecommender)

    def product(self, name: str) -> ProductInfo:
        """Return what the advisor knows about product ``name``."""
        if name not in self._products:
            raise AdvisorError(
                f"product: must be one of {', '.join(self._products)}. Got {name!r}."
            )
        return self._products[name]

    def product_label(self, product: str, language: str = "en") -> str:
        """Return the product's name for advisors, in ``language``."""
        return self.product(product).label[check_language(language)]

    def population(self, product: str) -> Population | None:
        """Return the reference clients of the product's model (``None`` without reference data)."""
        info, reference = self.product(product), self.reference
        if reference is None:
            return None
        return self._populations.get(product, lambda: population_of(info, reference))

    def direction(self, product: str) -> Literal["raise", "lower"]:
        """Return ``raise`` when levers lift ``product``'s score, ``lower`` for a risk score."""
        return self.product(product).direction

    def goal_for(self, product: str) -> float:
        """Return the score a lever must reach for ``product`` (a ceiling for a risk score)."""
        if self.goal is not None:
            return self.goal
        info = self.product(product)
        quantile = self.goal_quantile
        if quantile is None:
            quantile = RAISE_QUANTILE if info.direction == "raise" else LOWER_QUANTILE

        def compute() -> float:
            population = self.population(product)
            if population is None or population.frame.empty:
                return 0.5
            scores = info.model.score(population.frame)
            return float(np.quantile(scores, quantile))

        return self._goals.get(product, compute)

    # ------------------------------------------------------------------ scores
    def client(self, client: Any) -> pd.DataFrame:
        """Return ``client`` as a checked one-row frame (a reference id is accepted too).

        A client id is text (the reference's index, see
        :func:`advisor.datasets.index_clients`); a number is refused rather than guessed
        as an id or a row.
        """
        if isinstance(client, (int, np.integer)) and not isinstance(client, bool):
            raise AdvisorError(_number_message(int(client), self.reference))
        if isinstance(client, str) and self.reference is not None:
            if client not in self.reference.index:
                raise AdvisorError(_unknown_id_message(client, self.reference))
            return self.reference.loc[[client]]
        return client_frame(client, self.constraints)

    def scores(self, client: Any) -> pd.Series:
        """Return the client's calibrated score per product (0 for products already held)."""
        frame = self.client(client)
        if isinstance(self.model, ProductRecommender):
            return self.model.propensities(frame).iloc[0]
        return pd.Series({self.model.target: float(self.model.score(frame)[0])})

    def recommend(self, client: Any) -> pd.DataFrame | None:
        """Products the client does not hold, best first (``None`` for a single model)."""
        if not isinstance(self.model, ProductRecommender):
            return None
        frame = self.client(client)
        ranked = self.model.recommend(frame, top=len(self.products)).drop(columns="client")
        ranked.insert(3, "label_fr", [self.product_label(p, "fr") for p in ranked["product"]])
        return ranked.rename(columns={"label": "label_en"}).reset_index(drop=True)

    def holds(self, client: Any, product: str) -> bool:
        """Whether the client already holds ``product``."""
        held = self.product(product).held
        return held is not None and bool(self.client(client)[held].astype(bool).iloc[0])

    # ------------------------------------------------------------------ levers
    def similar_index(self, product: str) -> SimilarIndex | None:
        """Return the product's similar-client index (``None`` without outcomes)."""
        info = self.product(product)

        def compute() -> SimilarIndex | None:
            population = self.population(product)
            if population is None or population.outcome is None or population.frame.empty:
                return None
            return fit_similar(info.constraints, population.frame, population.outcome)

        return self._similar.get(product, compute)

    def influence(self, product: str) -> FittedInfluence | NoInfluence:
        """Return the product's influence index on its training rows (fitted once), or why not."""
        info = self.product(product)
        return self._influence.get(
            product,
            lambda: fit_product_influence(
                product, info.model, self.population(product), self.training, self.seed
            ),
        )

    def advise(
        self, client: Any, *, product: str | None = None, n_levers: int = 3, who: str | None = None
    ) -> Advice:
        """Where the client stands for a product and the best levers to lift the score.

        Parameters
        ----------
        client
            One client in business values (Series, dict, one-row frame or reference id).
        product
            The product to aim at. ``None``: for a recommender, the best-ranked products the
            client does not hold and is below the goal for, tried in turn (up to 3) until one
            has levers; the model's target for a single model.
        n_levers
            How many levers to return at most.
        who
            Who asks, for the audit record (``None``: the OS user); only read when the
            advisor has an ``audit`` store.

        Returns
        -------
        Advice
            Ranked, deduplicated levers, or the reason in plain words why there is none.
        """
        n_levers = check_params(
            {"n_levers": n_levers}, {"n_levers": Whole(1, 10)}, error=AdvisorError
        )["n_levers"]
        frame = self.client(client)
        advice = self._choose(frame, product, n_levers)
        if self.audit is not None:
            from advisor.audit import record_advice

            client_id = client if isinstance(client, str) else None
            record_advice(self.audit, advice, self, client_id=client_id, who=who)
        return advice

    def _choose(self, frame: pd.DataFrame, product: str | None, n_levers: int) -> Advice:
        ranked = self.recommend(frame)  # once: every product tried shares it
        if product is not None:
            return self._advise(frame, self.product(product).name, n_levers, ranked)
        first = None
        for name in self._candidates(ranked):
            advice = self._advise(frame, name, n_levers, ranked)
            if advice.status is Status.FOUND:
                return advice
            first = first or advice
        return first or self._advise(frame, self.products[0], n_levers, ranked)

    def _advise(
        self, frame: pd.DataFrame, name: str, n_levers: int, ranked: pd.DataFrame | None
    ) -> Advice:
        info = self.product(name)
        goal = self.goal_for(name)
        score = float(info.model.score(frame)[0])
        levers: tuple[Lever, ...] = ()
        status = Status.FOUND
        reason: dict[str, str] | None = None
        engine, elapsed = "", 0.0
        search: dict[str, Any] = {"n_levers": n_levers}
        lower = info.direction == "lower"
        if self.holds(frame, name):
            status, reason = Status.REACHED, held_reason(info.label)
        elif goal_reached(score, goal, info.direction):
            status, reason = Status.REACHED, reached_reason(info.label, score, goal, lower)
        else:
            goal = search_goal(
                score, goal, self.min_uplift, info.direction, margin=self.robust_margin
            )
            result = self._search(info, frame, goal, n_levers)
            engine, elapsed = result.engine, result.elapsed_s
            search |= {
                "params": dict(result.params),
                "seed": result.seed,
                "n": _n_asked(n_levers),
                "timed_out": result.timed_out,  # cut by the clock: a replay may differ
            }
            if result.status is Status.REACHED:
                status, reason = Status.REACHED, reached_reason(info.label, score, goal, lower)
            elif result.status is Status.NONE:
                status, reason = Status.NONE, no_lever_reason(info.constraints, info.label, result)
            else:
                levers = self._levers(info, frame, result, n_levers)
        return Advice(
            client=frame.iloc[0],
            product=name,
            product_label=info.label,
            goal=goal,
            score=score,
            levers=levers,
            status=status,
            reason=reason,
            recommendations=ranked,
            engine=engine,
            elapsed_s=elapsed,
            support=self._support(name, frame, frame),
            direction=info.direction,
            search=search,
            ood=self.out_of_distribution(name, frame, levers),
        )

    def _support(self, product: str, point: Any, frame: pd.DataFrame) -> float | None:
        """Return the target state's share among the reference clients nearest to ``point``."""
        index = self.similar_index(product)
        if index is None:
            return None
        return index.similar(point, frame, k=1, n_neighbourhood=self.n_neighbours).support

    def ood_guard(self, product: str) -> OodGuard | None:
        """Return the product's out-of-distribution guard (fitted once; ``None`` without data)."""
        info = self.product(product)

        def compute() -> OodGuard | None:
            population = self.population(product)
            if population is None:
                return None
            return fit_ood_guard(info.constraints, population.frame, seed=self.seed)

        return self._ood.get(product, compute)

    def out_of_distribution(
        self, product: str, frame: pd.DataFrame, levers: tuple[Lever, ...] = ()
    ) -> OutOfDistribution | None:
        """Whether the client and each lever's result lie far from the product's reference."""
        guard = self.ood_guard(product)
        if guard is None:
            return None
        return guard.check(self.client(frame), [lever.values for lever in levers])

    def _candidates(self, ranked: pd.DataFrame | None) -> list[str]:
        """Return up to 3 recommended products below their goal, best first (or the top one)."""
        if ranked is None or ranked.empty:
            return [self.products[0]]  # a single model, or the client holds everything
        below = [
            str(name)
            for name, score in zip(ranked["product"], ranked["propensity"], strict=True)
            if not goal_reached(float(score), self.goal_for(str(name)), self.direction(str(name)))
        ]
        return below[:_N_TRIED] or [str(ranked["product"].iloc[0])]

    # ------------------------------------------------------------------ what-if, evidence
    def controls(self, client: Any, *, product: str | None = None) -> tuple[Control, ...]:
        """Return the what-if editor's widgets: values each feature may take for this client."""
        frame = self.client(client)
        name = self._candidates(self.recommend(frame))[0] if product is None else product
        return controls(self.product(name), frame)

    def what_if(self, client: Any, changes: Mapping[str, Any], *, product: str) -> WhatIf:
        """Re-score the client after ``changes`` and re-check them against the constraint file."""
        return what_if(self.product(product), self.client(client), changes)

    def evidence(self, advice: Advice, lever: Lever | None = None, *, k: int = 10) -> Evidence:
        """Similar clients around the lever (or the client) and the most influential clients."""
        check_evidence_request(advice, lever, k)
        product = advice.product
        sources = EvidenceSources(
            similar=self.similar_index(product),
            population=self.population(product),
            n_neighbours=self.n_neighbours,
            features=self.constraints.feature_names,
            influence=lambda: self.influence(product),
        )
        return build_evidence(advice, lever, k, sources)

    @classmethod
    def from_bundle(
        cls, bundle: ModelBundle, reference: pd.DataFrame | None = None, **options: Any
    ) -> Advisor:
        """Build the advisor of a model bundle; ``reference``: its training portfolio.

        The bundle's constraint file is bound to ``reference`` (as at training time);
        without reference data it is bound alone (percentile bounds need data).
        """
        parts = bundle_parts(bundle, reference)
        options.setdefault("training_seed", parts.training_seed)
        options.setdefault("training_hashes", parts.training_hashes)
        options.setdefault("goal_direction", parts.goal_direction)
        options.setdefault("product_label", parts.product_label)
        advisor = cls(parts.model, parts.constraints, reference=reference, **options)
        advisor.provenance = bundle_provenance(bundle)
        return advisor

    def _search(
        self, info: ProductInfo, frame: pd.DataFrame, goal: float, n_levers: int
    ) -> CounterfactualResult:
        committee = self.committee(info.name) if self.robust_refits else None
        try:
            result = generate(
                info.model if committee is None else committee.adapter(),
                frame,
                info.constraints,
                Target.probability(goal, at_most=info.direction == "lower"),
                n=_n_asked(n_levers),
                engine=self.engine,
                seed=self.seed,
                time_limit_s=self.time_limit_s,
            )
        except ModelError as exc:
            raise AdvisorError(f"client: {exc}") from exc
        return result if committee is None else committee.verified(result, goal)

    def committee(self, product: str) -> Committee:
        """Return the product's committee of ``robust_refits`` refits (fitted once)."""
        info = self.product(product)
        return self._committees.get(
            product,
            lambda: fit_committee(info, self.population(product), self.robust_refits, self.seed),
        )

    def _levers(
        self, info: ProductInfo, frame: pd.DataFrame, result: CounterfactualResult, n_levers: int
    ) -> tuple[Lever, ...]:
        seen: set[tuple[str, ...]] = set()
        drafts = []
        for cf in result.counterfactuals:
            actions = actions_of(info.constraints, cf.changes)
            key = tuple(sorted(a.describe("en") for a in actions if not a.consequence))
            if key in seen:
                continue
            seen.add(key)
            drafts.append((cf, actions, self._support(info.name, cf.values, frame)))
        # ties on cost go to the larger improvement: a higher score, or a lower risk
        sign = -1.0 if info.direction == "lower" else 1.0
        order = rank_levers(
            [d[0].cost for d in drafts],
            [sign * d[0].score for d in drafts],
            [d[2] for d in drafts],
        )
        ranked = [drafts[i] for i in order]
        return tuple(
            Lever(
                rank=i + 1,
                actions=actions,
                score_before=result.baseline_score,
                score_after=float(cf.score),
                cost=float(cf.cost),
                n_changes=cf.n_changes,
                support=support,
                values=dict(cf.values),
            )
            for i, (cf, actions, support) in enumerate(ranked[:n_levers])
        )
