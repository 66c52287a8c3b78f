"""Core types of a bound constraint set: features, rules and violations (frozen, typed)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from constraints.errors import ConstraintError

__all__ = [
    "FORMATS",
    "KINDS",
    "MISSING",
    "ROLES",
    "Alternatives",
    "CategoryValue",
    "ChangeClause",
    "ChangeGroup",
    "Clause",
    "DerivedFeature",
    "FeatureSpec",
    "LinearClause",
    "MembershipClause",
    "OneHotGroup",
    "ProductRule",
    "Rule",
    "Text",
    "Violation",
]

CategoryValue = str | int | bool
Kind = Literal["continuous", "integer", "binary", "categorical", "ordinal"]
KINDS: tuple[Kind, ...] = ("continuous", "integer", "binary", "categorical", "ordinal")
MISSING = ("forbid", "keep", "impute")
FORMATS = ("auto", "percent", "currency", "integer", "decimals")
ROLES = ("immutable", "actionable", "context")


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """A text in English and French."""

    en: str
    fr: str

    def get(self, language: str) -> str:
        """Return the text in ``language`` (``en`` or ``fr``)."""
        if language not in ("en", "fr"):
            raise ConstraintError(f"language: must be en or fr. Got {language!r}.")
        return self.en if language == "en" else self.fr


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpec:
    """One feature, with its bounds resolved against data (numbers, never percentiles).

    Numeric values of categorical and ordinal features are category codes (the position in
    ``categories``; for ordinals the rank); binary features are 0/1 and ``categories`` holds
    the (false, true) labels.

    ``missing`` says what a missing value means: ``forbid`` (an error), ``keep`` (it stays
    missing and no lever changes it) or ``impute`` (replaced by ``imputed``, a code computed
    from the data the file was bound to; NaN when it was bound to no data).

    ``format`` says how numbers are shown (``auto``, ``percent``: a ratio 0.4 reads 40 %,
    ``currency``, ``integer``, ``decimals``: ``decimals`` of them); ``lever_increase`` /
    ``lever_decrease`` replace ``lever`` for a change up / down; a change smaller than
    ``min_change`` (0: any) is not a lever.
    """

    name: str
    kind: Kind
    role: Literal["immutable", "actionable", "context"]
    protected: bool = False
    direction: Literal["increase", "decrease", "any"] = "any"
    lower: float = -math.inf
    upper: float = math.inf
    max_change: float = math.inf
    max_change_percent: float = math.inf
    step: float = 0.0
    categories: tuple[CategoryValue, ...] = ()
    transitions: tuple[tuple[int, tuple[int, ...]], ...] | None = None
    cost_per_unit: float = 0.0
    cost_per_change: float = 0.0
    cost_percentile_shift: float = 0.0
    scale: float = 1.0
    unit: str = ""
    description: str = ""
    label: Text = field(default_factory=lambda: Text(en="", fr=""))
    lever: Text | None = None
    lever_increase: Text | None = None
    lever_decrease: Text | None = None
    format: Literal["auto", "percent", "currency", "integer", "decimals"] = "auto"
    decimals: int = 0
    min_change: float = 0.0
    missing: Literal["forbid", "keep", "impute"] = "forbid"
    imputed: float = math.nan

    def __post_init__(self) -> None:
        where = f"features.{self.name}"
        if self.kind not in KINDS:
            raise ConstraintError(f"{where}.kind: must be one of {', '.join(KINDS)}.")
        if self.missing not in MISSING:
            raise ConstraintError(
                f"{where}.missing: must be one of {', '.join(MISSING)}. Got {self.missing!r}."
            )
        if self.missing != "impute" and not math.isnan(self.imputed):
            raise ConstraintError(
                f"{where}.imputed: only a feature with missing: impute has an imputed value. "
                f"Got {self.imputed} with missing: {self.missing}."
            )
        if self.lower > self.upper:
            raise ConstraintError(
                f"{where}: min must not exceed max. Got min {self.lower} > max {self.upper}."
            )
        if self.protected and self.role != "immutable":
            raise ConstraintError(f"{where}.role: a protected attribute must be immutable.")
        if not self.scale > 0:
            raise ConstraintError(f"{where}: scale must be > 0. Got {self.scale}.")
        if self.format not in FORMATS:
            raise ConstraintError(
                f"{where}.format: must be one of {', '.join(FORMATS)}. Got {self.format!r}."
            )
        if not 0 <= self.decimals <= 6:
            raise ConstraintError(f"{where}.decimals: must be 0 to 6. Got {self.decimals}.")
        if not (self.min_change >= 0 and math.isfinite(self.min_change)):
            raise ConstraintError(
                f"{where}.min_change: must be a finite amount >= 0. Got {self.min_change}."
            )

    @property
    def is_categorical(self) -> bool:
        """Whether values are codes of unordered categories."""
        return self.kind == "categorical"

    @property
    def n_categories(self) -> int:
        """Number of categories (2 for binary, 0 for numeric features)."""
        if self.kind == "binary":
            return 2
        return len(self.categories)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinearClause:
    """``sum(coef * feature) op bound`` on the candidate's values."""

    terms: tuple[tuple[str, float], ...]
    op: Literal["<=", ">=", "=="]
    bound: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipClause:
    """The candidate's ``feature`` takes one of ``codes`` (category codes, or 0/1)."""

    feature: str
    codes: frozenset[int]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeClause:
    """``feature`` changes (in the given way) between the client and the candidate."""

    feature: str
    kind: Literal["changes", "increases", "decreases", "stays"]


Clause = LinearClause | MembershipClause | ChangeClause


Alternatives = tuple[tuple[Clause, ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """``requirement`` must hold whenever ``condition`` holds and a feature it names changed.

    Both are alternatives (``or``) of clauses that must all hold (``and``); an empty
    ``condition`` always holds.
    """

    name: str
    condition: Alternatives
    requirement: Alternatives
    text: str
    description: str = ""
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedFeature:
    """``feature`` moves with ``sum(coef * source) + constant`` when its sources change."""

    feature: str
    terms: tuple[tuple[str, float], ...]
    constant: float
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OneHotGroup:
    """Binary features of which exactly one is 1; changing the group counts as one change."""

    name: str
    features: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeGroup:
    """Features that move together as one action; they count as one change."""

    name: str
    features: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRule:
    """Features that are not levers for ``product``: kept as they are when levers aim at it."""

    product: str
    not_levers: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        where = f"products.{self.product}"
        if not isinstance(self.product, str) or not self.product.strip():
            raise ConstraintError(f"products: names must be non-empty texts. Got {self.product!r}.")
        if not self.not_levers:
            raise ConstraintError(f"{where}.not_levers: must list at least one feature. Got none.")
        if len(set(self.not_levers)) != len(self.not_levers):
            raise ConstraintError(
                f"{where}.not_levers: must list each feature once. Got {list(self.not_levers)}."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One broken rule for one candidate; ``feature`` is empty for global rules."""

    feature: str
    rule: str
    message: str
