"""Evidence for an advice: similar clients around a lever's point, influential training clients.

Influence needs the exact rows the product's model was trained on: the product's population
in the reference data, split as :func:`advisor.models.train` split it (same seed), checked
against the fingerprint the model card recorded. When they do not match, the evidence says so
instead of showing influence computed on the wrong clients. This module never sees the
:class:`~advisor.levers.Advisor`: the advisor hands it what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from advisor.errors import AdvisorError, ModelError
from advisor.evidence import Evidence, InfluenceIndex, SimilarIndex, fit_influence
from advisor.levers._products import Population
from advisor.levers._types import Advice, Lever
from advisor.models import PropensityModel, RowSplit, split_rows

__all__ = [
    "EvidenceSources",
    "FittedInfluence",
    "NoInfluence",
    "TrainingRecord",
    "build_evidence",
    "check_evidence_request",
    "fit_product_influence",
]

Texts = Mapping[str, str]
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
_NO_SEED = {
    "en": "Influential clients need the seed of the model's training split (from its model "
    "card); none was given.",
    "fr": "Les clients influents demandent la graine du partage d'apprentissage du modèle (sa "
    "fiche modèle) ; aucune n'a été donnée.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingRecord:
    """How a bundle's models were trained: the split's seed and each product's data hash."""

    seed: int | None
    hashes: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class FittedInfluence:
    """A product's influence index and the split that found its training rows."""

    index: InfluenceIndex
    split: RowSplit


@dataclass(frozen=True, slots=True, kw_only=True)
class NoInfluence:
    """Why a product's influential clients cannot be computed, per language."""

    note: Texts


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceSources:
    """What the evidence of one product is built from (the advisor's cached pieces).

    ``influence`` is called only when influential clients are needed (fitting is costly).
    """

    similar: SimilarIndex | None
    population: Population | None
    n_neighbours: int
    features: tuple[str, ...]
    influence: Callable[[], FittedInfluence | NoInfluence]


def fit_product_influence(
    product: str,
    model: PropensityModel,
    population: Population | None,
    training: TrainingRecord,
    seed: int,
) -> FittedInfluence | NoInfluence:
    """Fit the product's influence index on its exact training rows, or say why not."""
    if population is None:
        return NoInfluence(note=_NO_REFERENCE)
    if training.seed is None:
        return NoInfluence(note=_NO_SEED)
    try:
        split = split_rows(
            model,
            population.frame,
            seed=training.seed,
            data_sha256=training.hashes.get(product),
            name=product,
        )
        train = population.frame.iloc[split.train]
        index = fit_influence(model, train, split.y[split.train], seed=seed)
    except ModelError as exc:  # other data than the model's training data: say so, plainly
        return NoInfluence(
            note={"en": f"{_NO_TRAINING['en']} ({exc})", "fr": f"{_NO_TRAINING['fr']} ({exc})"}
        )
    except AdvisorError as exc:  # e.g. a model whose training cannot be replayed
        return NoInfluence(
            note={
                "en": f"Influential clients are not available for this model: {exc}",
                "fr": f"Les clients influents ne sont pas disponibles pour ce modèle : {exc}",
            }
        )
    return FittedInfluence(index=index, split=split)


def _influential(
    fitted: FittedInfluence, population: Population, features: tuple[str, ...], frame: Any, k: int
) -> pd.DataFrame:
    """Return the top-k training clients raising and lowering the score, anonymised."""
    train = fitted.split.train
    top = fitted.index.top(frame, k=k)
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
    profiles = population.frame[list(features)].reset_index(drop=True)
    profiles = profiles.iloc[table["position"].to_numpy()].reset_index(drop=True)
    table.insert(1, "influential", [f"#{i + 1}" for i in range(len(table))])
    positive = fitted.split.y[table["position"].to_numpy()].astype(bool)
    table["outcome"] = positive if population.desired_positive else ~positive
    return pd.concat([table.drop(columns="position"), profiles], axis=1)


def check_evidence_request(advice: Any, lever: Any, k: Any) -> None:
    """Raise a clear error unless ``advice``, ``lever`` and ``k`` make an evidence request."""
    if not isinstance(advice, Advice):
        raise AdvisorError(
            f"advice: must be an Advice from Advisor.advise. Got {type(advice).__name__}."
        )
    if lever is not None and lever not in advice.levers:
        raise AdvisorError("lever: must be one of the advice's levers. Got another lever.")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
        raise AdvisorError(f"k: must be a whole number from 1 to 100. Got {k!r}.")


def build_evidence(
    advice: Advice, lever: Lever | None, k: int, sources: EvidenceSources
) -> Evidence:
    """Similar clients around ``lever``'s point (the client's own point without a lever)."""
    check_evidence_request(advice, lever, k)
    frame = advice.client.to_frame().T.infer_objects()
    point: Mapping[str, Any] | pd.DataFrame = frame if lever is None else dict(lever.values)
    if sources.similar is None:
        return Evidence(
            similar=None,
            support=None,
            n_neighbourhood=0,
            influential=None,
            method=None,
            note=dict(_NO_REFERENCE),
        )
    found = sources.similar.similar(point, frame, k=k, n_neighbourhood=sources.n_neighbours)
    fitted = sources.influence()
    if isinstance(fitted, NoInfluence) or sources.population is None:
        note = fitted.note if isinstance(fitted, NoInfluence) else _NO_REFERENCE
        influential, method = None, None
    else:
        influential = _influential(fitted, sources.population, sources.features, frame, k)
        note, method = None, fitted.index.method
    return Evidence(
        similar=found.profiles,
        support=found.support,
        n_neighbourhood=found.n_neighbourhood,
        influential=influential,
        method=method,
        note=None if note is None else dict(note),
    )
