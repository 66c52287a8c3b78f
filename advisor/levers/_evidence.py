"""Evidence for an advice: similar clients around a lever's point, influential training clients.

Influence needs the exact rows the product's model was trained on: the product's population
in the reference data, split as :func:`advisor.models.train` split it (same seed), checked
against the fingerprint the model card recorded. When they do not match, the evidence says so
instead of showing influence computed on the wrong clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from advisor.errors import AdvisorError, ModelError
from advisor.evidence import Evidence, fit_influence
from advisor.levers._types import Advice, Lever
from advisor.models import RowSplit, split_rows

if TYPE_CHECKING:
    from advisor.evidence import InfluenceIndex
    from advisor.levers._advisor import Advisor

__all__ = ["FittedInfluence", "build_evidence", "influence_index"]

Texts = dict[str, str]
_NO_REFERENCE = {
    "en": "No reference clients: similar and influential clients need the training portfolio.",
    "fr": "Pas de clients de référence : les clients similaires et influents demandent le "
    "portefeuille d'apprentissage.",
}
_NO_TRAINING = {
    "en": "Influential clients need the exact training data of the model; the reference clients "
    "given are not it.",
    "fr": "Les clients influents demandent les données d'apprentissage exactes du modèle ; les "
    "clients de référence fournis ne le sont pas.",
}


@dataclass(frozen=True, slots=True)
class FittedInfluence:
    """A product's influence index and the split that found its training rows."""

    index: InfluenceIndex
    split: RowSplit


def influence_index(advisor: Advisor, product: str) -> FittedInfluence | None:
    """Return the product's influence index, fitted once on its training rows, or None."""
    cache: dict[str, FittedInfluence | None] = advisor.influence_indexes
    if product in cache:
        return cache[product]
    cache[product] = None
    population = advisor.population(product)
    if population is None or advisor.training_seed is None:
        return None
    model = advisor.product(product).model
    try:
        split = split_rows(
            model,
            population.frame,
            seed=advisor.training_seed,
            data_sha256=advisor.training_hashes.get(product),
            name=product,
        )
        train = population.frame.iloc[split.train]
        index = fit_influence(model, train, split.y[split.train], seed=advisor.seed)
    except ModelError:  # other data than the model's training data: say so, plainly
        return None
    except AdvisorError as exc:  # e.g. a model whose training cannot be replayed
        advisor.influence_problems[product] = str(exc)
        return None
    cache[product] = FittedInfluence(index, split)
    return cache[product]


def _influential(
    advisor: Advisor, product: str, frame: pd.DataFrame, k: int
) -> tuple[pd.DataFrame | None, str | None]:
    fitted = influence_index(advisor, product)
    population = advisor.population(product)
    if fitted is None or population is None:
        return None, None
    index, split = fitted.index, fitted.split
    train = split.train
    top = index.top(frame, k=k)
    rows = []
    for direction, positions, values in (
        ("raised", top.positive, top.positive_values),
        ("lowered", top.negative, top.negative_values),
    ):
        for i, (pos, value) in enumerate(zip(positions, values, strict=True)):
            rows.append(
                {
                    "direction": direction,
                    "rank": i + 1,
                    "influence": float(value),
                    "position": int(train[pos]),
                }
            )
    table = pd.DataFrame(rows, columns=["direction", "rank", "influence", "position"])
    features = population.frame[list(advisor.constraints.feature_names)].reset_index(drop=True)
    profiles = features.iloc[table["position"].to_numpy()].reset_index(drop=True)
    table.insert(1, "influential", [f"#{i + 1}" for i in range(len(table))])
    table["outcome"] = split.y[table["position"].to_numpy()].astype(bool)
    table = pd.concat([table.drop(columns="position"), profiles], axis=1)
    return table, index.method


def _no_influence(advisor: Advisor, product: str) -> Texts:
    problem = advisor.influence_problems.get(product)
    if problem is None:
        return _NO_TRAINING
    return {
        "en": f"Influential clients are not available for this model: {problem}",
        "fr": f"Les clients influents ne sont pas disponibles pour ce modèle : {problem}",
    }


def build_evidence(advisor: Advisor, advice: Advice, lever: Lever | None, k: int) -> Evidence:
    """Similar clients around ``lever``'s point (the client's own point without a lever)."""
    if not isinstance(advice, Advice):
        raise AdvisorError(
            f"advice: must be an Advice from Advisor.advise. Got {type(advice).__name__}."
        )
    if lever is not None and lever not in advice.levers:
        raise AdvisorError("lever: must be one of the advice's levers. Got another lever.")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
        raise AdvisorError(f"k: must be a whole number from 1 to 100. Got {k!r}.")
    frame = advice.client.to_frame().T.infer_objects()
    point: Mapping[str, Any] | pd.DataFrame = frame if lever is None else dict(lever.values)
    index = advisor.similar_index(advice.product)
    if index is None:
        return Evidence(
            similar=None,
            support=None,
            n_neighbourhood=0,
            influential=None,
            method=None,
            note=_NO_REFERENCE,
        )
    found = index.similar(point, frame, k=k, n_neighbourhood=advisor.n_neighbours)
    influential, method = _influential(advisor, advice.product, frame, k)
    return Evidence(
        similar=found.profiles,
        support=found.support,
        n_neighbourhood=found.n_neighbourhood,
        influential=influential,
        method=method,
        note=None if influential is not None else _no_influence(advisor, advice.product),
    )
