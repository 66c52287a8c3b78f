"""What an advisor needs from a model bundle: its model, its constraint file, its training."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from advisor.datasets import row_references
from advisor.errors import AdvisorError
from advisor.models import ModelBundle, ProductRecommender, PropensityModel, recorded_imputation
from constraints import ConstraintError, ConstraintSet, parse_constraints

__all__ = ["BundleParts", "bundle_parts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleParts:
    """A bundle's model, its constraint file bound to the reference data, and its training.

    ``training_seed`` and ``training_hashes`` (per product, the model card's data
    fingerprint) let the evidence find each model's exact training rows. ``goal_direction``
    is the card's (``raise`` or ``lower``), or the constraint file's when the card is older.
    ``product_label``: a single model's label set at training (``None``: none was set).
    """

    model: PropensityModel | ProductRecommender
    constraints: ConstraintSet
    training_seed: int
    training_hashes: Mapping[str, str]
    goal_direction: Literal["raise", "lower"]
    product_label: Mapping[str, str] | None = None


def bundle_parts(bundle: ModelBundle, reference: pd.DataFrame | None) -> BundleParts:
    """Read what :meth:`Advisor.from_bundle <advisor.levers.Advisor.from_bundle>` needs.

    The bundle's constraint file is bound to ``reference`` (as at training time); without
    reference data it is bound alone (percentile bounds need data).
    """
    if not isinstance(bundle, ModelBundle):
        raise AdvisorError(
            f"bundle: must be a ModelBundle (load_bundle). Got {type(bundle).__name__}."
        )
    if bundle.constraint_text is None:
        raise AdvisorError(
            f"{bundle.path}: the bundle must hold its constraint file (constraints.yaml). Got "
            "none. Hint: train with a constraint file path, not a bound set."
        )
    if isinstance(reference, pd.DataFrame):  # binding messages name lines and client ids
        recorded_ids = bundle.id_column
        columns = {str(c) for c in reference.columns}
        named = recorded_ids if recorded_ids is not None and recorded_ids in columns else None
        reference = reference.set_axis(row_references(reference, named))
    try:
        constraints = parse_constraints(
            bundle.constraint_text, reference, source=str(bundle.path / "constraints.yaml")
        )
    except ConstraintError as exc:
        raise AdvisorError(str(exc)) from exc
    constraints = recorded_imputation(constraints, bundle.model.space)  # the training values
    hashes = dict(bundle.card.data.sha256)
    if bundle.recommender is None:  # the card names the one model "propensity"
        hashes = {bundle.model.target: hashes.get(next(iter(bundle.card.models)), "")}
    recorded = {entry.goal for entry in bundle.card.models.values()} - {None}
    if len(recorded) > 1:
        raise AdvisorError(
            f"{bundle.path}: the card's models must share one goal direction. Got "
            f"{', '.join(sorted(str(g) for g in recorded))}. Hint: train them again."
        )
    direction = recorded.pop() if recorded else constraints.goal
    label = None
    if bundle.recommender is None:  # a recommender's products are named by its catalogue
        label = next(iter(bundle.card.models.values())).label
    return BundleParts(
        model=bundle.recommender if bundle.recommender is not None else bundle.model,
        constraints=constraints,
        training_seed=bundle.card.seed,
        training_hashes=hashes,
        goal_direction=direction,  # type: ignore[arg-type]  # set minus None
        product_label=label,
    )
