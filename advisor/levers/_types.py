"""The advisor's answer for one client: actions in business words, levers, advice.

Frozen and free of rendering: pages and the CLI turn them into cards and tables. Every text
is kept in both languages (``{"en": ..., "fr": ...}``), so switching language never re-runs
a search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from advisor.errors import AdvisorError
from advisor.levers._ood import OutOfDistribution
from counterfactuals import Status

__all__ = [
    "LANGUAGES",
    "Action",
    "Advice",
    "Language",
    "Lever",
    "check_language",
]

Language = Literal["en", "fr"]
LANGUAGES: tuple[Language, ...] = ("en", "fr")


def check_language(language: object) -> Language:
    """Return ``language`` when it is a supported language code, else raise a clear error."""
    if language not in LANGUAGES:
        raise AdvisorError(f"language: must be one of {', '.join(LANGUAGES)}. Got {language!r}.")
    return language


def _check_texts(name: str, texts: Mapping[str, str]) -> None:
    missing = [lang for lang in LANGUAGES if not texts.get(lang)]
    if missing:
        raise AdvisorError(f"{name}: must have a text in {', '.join(missing)}. Got {texts!r}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One change of a lever, said in business words.

    Parameters
    ----------
    feature
        The constraint file's feature name.
    label
        The feature's label, per language.
    before, after
        Business values (a category label, an amount, True/False).
    text
        What the advisor proposes, per language (the constraint file's lever template).
    consequence
        True for a derived feature that follows from the other actions (e.g. the number
        of products held); it is shown as a consequence, not as something to do.
    """

    feature: str
    label: Mapping[str, str]
    before: Any
    after: Any
    text: Mapping[str, str]
    consequence: bool = False

    def __post_init__(self) -> None:
        _check_texts(f"action {self.feature!r}: text", self.text)
        _check_texts(f"action {self.feature!r}: label", self.label)

    def describe(self, language: str = "en") -> str:
        """Return the action in ``language``."""
        return self.text[check_language(language)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Lever:
    """One counterfactual turned into a plan an advisor can propose.

    Parameters
    ----------
    rank
        1 for the lever shown first.
    actions
        What to do (consequences last).
    score_before, score_after
        The model's calibrated score for the target product now and after the lever.
    cost
        The constraint file's cost of the changes (effort for the client).
    n_changes
        Number of features the lever changes (consequences included, as the file counts).
    support
        Share of the reference clients nearest to the lever's target point (matching the
        client's immutable attributes) who are in the target state; ``None`` without
        reference data.
    values
        The client after the lever, in business values.
    """

    rank: int
    actions: tuple[Action, ...]
    score_before: float
    score_after: float
    cost: float
    n_changes: int
    support: float | None
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise AdvisorError(f"rank: must be >= 1. Got {self.rank}.")
        if not self.actions:
            raise AdvisorError("actions: a lever must change at least one feature. Got none.")
        for name in ("score_before", "score_after"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise AdvisorError(f"{name}: must be a probability in [0, 1]. Got {value}.")
        if not math.isfinite(self.cost) or self.cost < 0:
            raise AdvisorError(f"cost: must be a finite number >= 0. Got {self.cost}.")
        if self.support is not None and not 0.0 <= self.support <= 1.0:
            raise AdvisorError(f"support: must be a share in [0, 1]. Got {self.support}.")

    @property
    def uplift(self) -> float:
        """Score after minus score before (probability points)."""
        return self.score_after - self.score_before

    @property
    def steps(self) -> tuple[Action, ...]:
        """The actions to do (consequences left out)."""
        return tuple(a for a in self.actions if not a.consequence)

    def describe(self, language: str = "en") -> list[str]:
        """Return the lever's actions in ``language`` (consequences last)."""
        return [a.describe(language) for a in self.actions]

    def to_dict(self, language: str = "en") -> dict[str, Any]:
        """Return the lever as plain data (texts in ``language``)."""
        return {
            "rank": self.rank,
            "actions": self.describe(language),
            "changes": [  # an unknown (imputed) value before is None: JSON has no NaN
                {
                    "feature": a.feature,
                    "before": None if _nan(a.before) else a.before,
                    "after": a.after,
                }
                for a in self.actions
            ],
            "score_before": self.score_before,
            "score_after": self.score_after,
            "uplift": self.uplift,
            "cost": self.cost,
            "n_changes": self.n_changes,
            "support": self.support,
        }


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Advice:
    """What the advisor can tell about one client and one product.

    Parameters
    ----------
    client
        The client as given (business values).
    product
        The product the levers aim at (the model's target for a single-model bundle).
    product_label
        The product's name per language.
    goal
        The score the levers must reach (a calibrated probability).
    score
        The client's score today.
    levers
        Ranked, deduplicated levers (empty unless ``status`` is ``FOUND``).
    status
        The same :class:`counterfactuals.Status` as a search: ``FOUND`` (levers),
        ``NONE`` (no lever within the constraints) or ``REACHED`` (the client already
        meets the goal, or holds the product).
    reason
        Why there is no lever (or why none is needed), per language; ``None`` with levers.
    recommendations
        For a recommender: the products the client does not hold, ranked (``product``,
        ``label``, ``propensity``, ``value``, ``expected_value``); ``None`` otherwise.
    engine, elapsed_s
        The counterfactual engine that answered and the time it took.
    support
        Share of the target state among the reference clients nearest to the client as
        they are today (to compare with each lever's support); ``None`` without reference.
    direction
        ``raise`` (a propensity: ``goal`` is a floor the levers lift the score to) or
        ``lower`` (a risk score: ``goal`` is a ceiling, every lever's ``score_after`` is
        below its ``score_before``).
    search
        What the search was asked, as plain data, so the advice can be recomputed:
        ``n_levers``, and after a search the engine's ``params``, its ``seed`` and the ``n``
        counterfactuals asked for (``{"n_levers": ...}`` alone when no search ran).
    ood
        Whether the client, and the client after each lever, is far from the reference
        clients the model learned from (:class:`OutOfDistribution`, with the warning in
        plain words); ``None`` without reference data (fewer than 30 clients).
    """

    client: pd.Series
    product: str
    product_label: Mapping[str, str]
    goal: float
    score: float
    levers: tuple[Lever, ...]
    status: Status
    reason: Mapping[str, str] | None
    recommendations: pd.DataFrame | None
    engine: str
    elapsed_s: float
    support: float | None = None
    direction: Literal["raise", "lower"] = "raise"
    search: Mapping[str, Any] = field(default_factory=dict)
    ood: OutOfDistribution | None = None

    def __post_init__(self) -> None:
        if self.ood is not None and len(self.ood.levers) != len(self.levers):
            raise AdvisorError(
                f"ood: must flag each of the {len(self.levers)} levers. Got {len(self.ood.levers)}."
            )
        if self.direction not in ("raise", "lower"):
            raise AdvisorError(f"direction: must be raise or lower. Got {self.direction!r}.")
        if not isinstance(self.status, Status):
            raise AdvisorError(f"status: must be a counterfactuals.Status. Got {self.status!r}.")
        if self.status is Status.FOUND and not self.levers:
            raise AdvisorError("levers: status FOUND needs at least one lever. Got none.")
        if self.status is not Status.FOUND:
            if self.levers:
                raise AdvisorError(f"levers: status {self.status.name} must come without levers.")
            if self.reason is None:
                raise AdvisorError(f"reason: status {self.status.name} needs a reason. Got None.")
            _check_texts("reason", self.reason)

    def reason_text(self, language: str = "en") -> str | None:
        """Return why there is no lever, in ``language`` (``None`` when there are levers)."""
        return None if self.reason is None else self.reason[check_language(language)]

    def to_frame(self, language: str = "en") -> pd.DataFrame:
        """One row per lever: rank, actions (joined), score before/after, uplift, cost, support."""
        check_language(language)
        rows = [
            {**lever.to_dict(language), "actions": "; ".join(lever.describe(language))}
            for lever in self.levers
        ]
        columns = [
            "rank",
            "actions",
            "score_before",
            "score_after",
            "uplift",
            "cost",
            "n_changes",
            "support",
        ]
        return pd.DataFrame(rows, columns=columns)
