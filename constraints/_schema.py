"""The constraint file format as pydantic v2 models: structure only (meaning: _document_check).

The models are the single source of the JSON Schema printed by ``levers constraints schema``
for editors. Cross-field rules (a protected attribute must be immutable, categories must
exist, expressions must parse) are checked afterwards, so every problem is reported at once.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from constraints._yaml_source import SourceMap

__all__ = [
    "PERCENTILE_PATTERN",
    "PERCENT_PATTERN",
    "CategoryValue",
    "ConstraintFile",
    "CostModel",
    "DecimalsModel",
    "FeatureModel",
    "ImputeModel",
    "ProductModel",
    "RuleModel",
    "Wording",
]

PERCENTILE_PATTERN = re.compile(r"^p(100|\d{1,2}(\.\d+)?)$")
PERCENT_PATTERN = re.compile(r"^(\d+(\.\d+)?)\s*%$")

CategoryValue = Annotated[
    StrictStr | StrictInt,
    Field(description="A category: text, or a whole number for coded categories."),
]
Number = StrictFloat | StrictInt
NonNegative = Annotated[Number, Field(ge=0)]
Kind = Literal["continuous", "integer", "binary", "categorical", "ordinal"]
Role = Literal["immutable", "actionable", "context"]
Direction = Literal["increase", "decrease", "any"]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        allow_inf_nan=False,
    )


class Wording(_Model):
    """A text in English and French."""

    en: Annotated[StrictStr, Field(min_length=1, description="English text.")]
    fr: Annotated[StrictStr, Field(min_length=1, description="French text.")]


class CostModel(_Model):
    """How much a change of this feature costs (the terms given are added)."""

    per_unit: NonNegative | None = Field(
        None, description="Cost of one unit of change (e.g. per euro)."
    )
    per_mad: NonNegative | None = Field(
        None,
        description="Cost of a change of one median absolute deviation of the data "
        "(the default, with weight 1, when no cost is given).",
    )
    per_change: NonNegative | None = Field(
        None, description="Fixed cost of changing the feature at all."
    )
    percentile_shift: NonNegative | None = Field(
        None,
        description="Cost per unit of percentile shift in the data, |Q(after) - Q(before)| "
        "with Q in [0, 1] (as in actionable recourse).",
    )


def _check_bound(value: Any) -> Any:
    if value is None or (isinstance(value, (int, float, str)) and not isinstance(value, bool)):
        return value
    raise ValueError(
        "must be a number, a percentile of the data such as p1 or p99, or (ordinal "
        "features) one of the categories"
    )


class ImputeModel(_Model):
    """A missing value replaced by a statistic of the data the file is bound to."""

    impute: Literal["median", "mode"] = Field(
        description="median (numbers and ordinal ranks) or mode (the most frequent value) of "
        "the non-missing values; a lever may change the imputed value."
    )


Missing = Literal["forbid", "keep"] | ImputeModel
IMPUTE = ("median", "mode")


class DecimalsModel(_Model):
    """Numbers shown with a fixed number of decimals."""

    decimals: Annotated[StrictInt, Field(ge=0, le=6)] = Field(
        description="Decimals shown (0 to 6), e.g. {decimals: 2} shows 0.35 and 1,250.00."
    )


Format = Literal["percent", "currency", "integer"] | DecimalsModel


class FeatureModel(_Model):
    """One feature of the model: what it is, and what a lever may do with it."""

    kind: Kind = Field(description="Type of the values.")
    role: Role = Field(
        description="immutable: never changed. actionable: an advisor may propose a change. "
        "context: changes over time but is not an action (only changed when a run allows it)."
    )
    protected: bool = Field(
        False, description="A protected attribute (sex, nationality...). Must be immutable."
    )
    direction: Direction = Field(
        "any", description="Allowed direction of change (ordinal: up or down the order)."
    )
    min: StrictFloat | StrictInt | StrictStr | None = Field(
        None, description="Lowest value after a change: a number or a percentile such as p1."
    )
    max: StrictFloat | StrictInt | StrictStr | None = Field(
        None, description="Highest value after a change: a number or a percentile such as p99."
    )
    max_change: StrictFloat | StrictInt | StrictStr | None = Field(
        None,
        description="Largest change one lever may make: an amount (e.g. 500) or a percentage "
        "of the client's current value (e.g. '20%').",
    )
    step: Annotated[Number, Field(gt=0)] | None = Field(
        None, description="Granularity of a changed value (e.g. 50 for amounts in steps of 50)."
    )
    categories: list[CategoryValue] | None = Field(
        None, description="Categorical features: every category, as in the data."
    )
    order: list[CategoryValue] | None = Field(
        None, description="Ordinal features: the categories from lowest to highest."
    )
    values: list[CategoryValue] | None = Field(
        None,
        description="Binary features whose data holds labels: [false label, true label], "
        "e.g. [no, yes] (quoted). Data holding true/false or 0/1 needs nothing.",
    )
    transitions: dict[StrictStr | StrictInt, list[CategoryValue]] | None = Field(
        None,
        description="Categorical or ordinal: allowed changes, from a category to a list of "
        "categories. Categories not listed as a source cannot change.",
    )
    cost: CostModel | None = Field(None, description="Cost of a change (default: per_mad 1).")
    unit: StrictStr = Field("", description="Business unit shown to advisors, e.g. EUR.")
    description: StrictStr = Field("", description="What the feature means.")
    label: Wording | None = Field(None, description="Name shown to advisors.")
    lever: Wording | None = Field(
        None,
        description="Action in words; placeholders {before}, {after}, {change} (the amount of "
        "the change, always positive), {label}, {unit}.",
    )
    lever_increase: Wording | None = Field(
        None,
        description="Action in words when the value goes up (replaces lever for an increase); "
        "same placeholders as lever.",
    )
    lever_decrease: Wording | None = Field(
        None,
        description="Action in words when the value goes down (replaces lever for a decrease); "
        "same placeholders as lever.",
    )
    format: Format | None = Field(
        None,
        description="How numbers are shown: percent (a ratio 0.4 shows 40 %), currency (two "
        "decimals unless whole, with the unit), integer (rounded), or {decimals: N}.",
    )
    min_change: NonNegative | None = Field(
        None,
        description="Smallest change worth proposing (in the feature's unit): a lever changing "
        "the feature by less is not a lever. Numeric features only.",
    )
    missing: Missing = Field(
        "forbid",
        description="What a missing value means. forbid: an error in the data or a client. "
        "keep: it stays missing (the model sees it missing; a lever never changes it). "
        "{impute: median} or {impute: mode}: replaced by the data's median or most frequent "
        "value (a lever may change it).",
    )

    _bounds = field_validator("min", "max", mode="before")(_check_bound)

    @field_validator("missing", mode="before")
    @classmethod
    def _check_missing(cls, value: Any) -> Any:
        if value in ("forbid", "keep") or isinstance(value, ImputeModel):
            return value
        if isinstance(value, dict) and set(value) == {"impute"} and value["impute"] in IMPUTE:
            return value
        raise ValueError(
            "must be forbid, keep, {impute: median} or {impute: mode}. Hint: keep leaves a "
            "missing value unknown (levers never change it); impute replaces it by the data's "
            "median or most frequent value"
        )

    @field_validator("max_change", mode="before")
    @classmethod
    def _check_max_change(cls, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and PERCENT_PATTERN.match(value.strip()):
            return value
        raise ValueError(
            "must be an amount >= 0 (e.g. 500) or a percentage such as '20%'. Hint: write 500 "
            "for an amount, or '20%' for a share of the client's current value"
        )


class RuleModel(_Model):
    """A global rule: ``require`` must hold after a change, whenever ``if`` holds."""

    name: StrictStr | None = Field(None, description="Short name shown in violations.")
    description: StrictStr = Field("", description="Why the rule exists.")
    if_: StrictStr | None = Field(
        None,
        alias="if",
        description="Condition, e.g. 'has_home_loan becomes yes' or 'occupation is student'.",
    )
    require: Annotated[StrictStr, Field(min_length=1)] = Field(
        description="What must hold, e.g. 'monthly_savings_transfer <= 0.5 * monthly_income'."
    )


class ProductModel(_Model):
    """Rules that hold for one product of the recommender (or a single model's target)."""

    description: StrictStr = Field("", description="Why these rules hold for the product.")
    not_levers: Annotated[list[StrictStr], Field(min_length=1)] = Field(
        description="Features that are not levers for this product: kept as they are (like an "
        "immutable feature) when levers aim at it, e.g. other products whose holding has no "
        "effect on taking this one. Every other product is unchanged."
    )


class ConstraintFile(_Model):
    """A constraint file: the features of the model and the rules every lever obeys."""

    version: Literal[1] = Field(1, description="Format version.")
    name: StrictStr = Field(description="Name of the constraint set (e.g. the data set).")
    description: StrictStr = Field("", description="What the file is for.")
    goal: Literal["raise", "lower"] = Field(
        "raise",
        description="raise: levers lift the model's score (a propensity); lower: the score is a "
        "risk (the positive class is the bad outcome, e.g. default) and levers bring it down.",
    )
    max_changes: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None, description="Most features one lever may change (derived features not counted)."
    )
    id_column: Annotated[StrictStr, Field(min_length=1)] | None = Field(
        None,
        description="The data's column of client ids (e.g. ID): clients are looked up by it, "
        "never by row number, and errors name them. Not a feature.",
    )
    features: Annotated[dict[StrictStr, FeatureModel], Field(min_length=1)] = Field(
        description="The model's features, in the model's order."
    )
    rules: list[RuleModel] = Field(default_factory=list, description="If-then and linear rules.")
    derived: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="Features recomputed after a change, e.g. n_products: a + b + c.",
    )
    one_hot: dict[StrictStr, list[StrictStr]] = Field(
        default_factory=dict,
        description="Groups of binary features of which exactly one is 1 (count as one change).",
    )
    change_groups: dict[StrictStr, list[StrictStr]] = Field(
        default_factory=dict,
        description="Features that move together as one action (e.g. a policy count and its "
        "premium band): they count as one change in max_changes.",
    )
    products: dict[StrictStr, ProductModel] = Field(
        default_factory=dict,
        description="Rules per product, by the product's name in the recommender's catalogue "
        "(a single model's product is its target), e.g. securities_account: {not_levers: "
        "[has_premium_card]}.",
    )
    _source_map: SourceMap | None = PrivateAttr(None)

    def __eq__(self, other: object) -> bool:
        """Compare the content only (not where it was read from)."""
        if not isinstance(other, ConstraintFile):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def source_map(self) -> SourceMap:
        """Where each key was written (empty when the document was not read from YAML)."""
        return self._source_map or SourceMap(source=f"<{self.name}>")
