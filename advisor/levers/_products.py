"""What the advisor knows about each product: its model, label, holding feature, population.

A single-model bundle is one "product" (the model's target); a recommender bundle has one per
catalogue entry. Each product's *population* is the reference clients the model was trained
on (those not holding the product), with their observed outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.errors import AdvisorError
from advisor.levers._types import LANGUAGES
from advisor.models import ProductRecommender, PropensityModel
from constraints import ConstraintSet

__all__ = ["Population", "ProductInfo", "population_of", "products_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductInfo:
    """One product the advisor can build levers for.

    ``direction`` is ``raise`` (levers lift the score) or ``lower`` (a risk score: the
    positive class is the bad outcome and levers bring the score down).
    """

    name: str
    label: Mapping[str, str]
    model: PropensityModel
    held: str | None
    target: str
    positive: Any
    constraints: ConstraintSet
    direction: Literal["raise", "lower"] = "raise"

    @property
    def desired_positive(self) -> bool:
        """Whether the state the levers aim for is the model's positive class."""
        return self.direction == "raise"


@dataclass(frozen=True, slots=True, kw_only=True)
class Population:
    """The reference clients of one product's model, with their observed outcome.

    ``outcome`` is True for a client in the state the levers aim for: the positive class
    for a propensity, the negative one for a risk score (``desired_positive`` False).
    """

    frame: pd.DataFrame
    outcome: NDArray[np.bool_] | None
    desired_positive: bool = True


def products_of(
    model: PropensityModel | ProductRecommender,
    constraints: ConstraintSet,
    direction: Literal["raise", "lower"] = "raise",
    label: Mapping[str, str] | None = None,
) -> dict[str, ProductInfo]:
    """Describe every product of a model or recommender (the product's holding is frozen).

    A single model's product is called by ``label`` (the one set at training, in English and
    French), else by its target and positive class (``credit risk: bad``). Each product's
    constraint set is ``constraints.for_product(name)``: the features the file's
    ``products:`` section says are not levers for it are frozen too. For a recommender, a
    product named there that the catalogue does not have is an :class:`AdvisorError` naming
    it and the catalogue's products. A single model's product is its target: a rule naming
    the target applies, rules naming other products are left aside (one file can describe a
    catalogue and also serve single models trained on one of its targets).
    """
    found = _products(model, constraints, direction, label)
    if isinstance(model, ProductRecommender):
        _check_rule_products(constraints, tuple(found))
    return found


def _products(
    model: PropensityModel | ProductRecommender,
    constraints: ConstraintSet,
    direction: Literal["raise", "lower"],
    label: Mapping[str, str] | None,
) -> dict[str, ProductInfo]:
    if isinstance(model, ProductRecommender):
        found = {}
        for name, product in model.catalog.products.items():
            found[name] = ProductInfo(
                name=name,
                label={lang: getattr(product.label, lang) for lang in LANGUAGES},
                model=model.models[name],
                held=product.held,
                target=product.target,
                positive=model.models[name].classes[1],
                constraints=constraints.for_product(name).freezing(product.held),
                direction=direction,
            )
        return found
    if isinstance(model, PropensityModel):
        return {
            model.target: ProductInfo(
                name=model.target,
                label=_single_label(model, label),
                model=model,
                held=None,
                target=model.target,
                positive=model.classes[1],
                constraints=constraints.for_product(model.target),
                direction=direction,
            )
        }
    raise AdvisorError(
        f"model: must be a PropensityModel or a ProductRecommender. Got {type(model).__name__}."
    )


def _check_rule_products(constraints: ConstraintSet, known: tuple[str, ...]) -> None:
    """Refuse per-product rules for products the model does not have, naming them all."""
    unknown = [r.product for r in constraints.product_rules if r.product not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise AdvisorError(
            f"products: must name the model's products ({', '.join(known)}). Got {names} in "
            f"constraint file {constraints.name!r}. Hint: use the product names of the "
            "catalogue (a single model's product is its target), or remove the rule."
        )


def _single_label(model: PropensityModel, label: Mapping[str, str] | None) -> dict[str, str]:
    """Return the product's label per language: the one given, else ``target: positive``."""
    if label is not None:
        if not isinstance(label, Mapping) or not all(
            isinstance(label.get(lang), str) and label[lang].strip() for lang in LANGUAGES
        ):
            raise AdvisorError(
                f"product_label: must map en and fr to non-empty texts. Got {label!r}."
            )
        return {lang: label[lang] for lang in LANGUAGES}
    positive = model.classes[1]
    target = model.target.replace("_", " ").strip()
    if isinstance(positive, (bool, np.bool_)):
        words = {"en": "yes", "fr": "oui"} if positive else {"en": "no", "fr": "non"}
        return {lang: f"{target}: {words[lang]}" for lang in LANGUAGES}
    return dict.fromkeys(LANGUAGES, f"{target}: {positive}")


def population_of(product: ProductInfo, reference: pd.DataFrame) -> Population:
    """Return the reference clients not holding the product, with their outcome when it is known."""
    rows = reference
    if product.held is not None:
        rows = reference.loc[~reference[product.held].astype(bool).to_numpy()]
    outcome = None
    if product.target in rows.columns:
        positive = np.asarray(rows[product.target].to_numpy() == product.positive, dtype=bool)
        outcome = positive if product.desired_positive else ~positive
    return Population(frame=rows, outcome=outcome, desired_positive=product.desired_positive)
