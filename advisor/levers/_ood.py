"""Far from the data: whether a client, or a client after a lever, is unlike the training clients.

The plain-data verdict kept in :class:`~advisor.levers.Advice` (and so in the audit record):
floats, flags, feature names and texts per language. :mod:`advisor.levers._ood_guard`
measures it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from advisor.errors import AdvisorError

__all__ = ["OutOfDistribution"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutOfDistribution:
    """How far the client, and the client after each lever, lies from the reference clients.

    The measure is the mean distance to the ``n_neighbours`` nearest reference clients of
    the product's population, in the engines' scaled space (numeric features in median
    absolute deviations, one per differing category). A point is *far* when that distance
    is above ``threshold``: the ``quantile`` of the same distance among the reference
    clients themselves (each measured against the others).

    Parameters
    ----------
    client
        Whether the client as they are today is far.
    levers
        Per lever (in the advice's order): whether the client after it is far.
    distance, lever_distances
        The measure for the client and for each lever's result.
    threshold
        The distance above which a point is far.
    quantile
        The share of reference clients at or under ``threshold`` (0.99: about 1 in 100
        reference clients is itself far).
    n_neighbours
        How many nearest reference clients the distance is averaged over.
    features, lever_features
        The features furthest from the neighbours (largest scaled deviations), furthest
        first; empty when the point is not far.
    reason, lever_reasons
        The warning in plain words per language (``{"en": ..., "fr": ...}``); ``None``
        when the point is not far.
    """

    client: bool
    levers: tuple[bool, ...]
    distance: float
    lever_distances: tuple[float, ...]
    threshold: float
    quantile: float
    n_neighbours: int
    features: tuple[str, ...] = ()
    lever_features: tuple[tuple[str, ...], ...] = ()
    reason: Mapping[str, str] | None = None
    lever_reasons: tuple[Mapping[str, str] | None, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.levers)
        for name in ("lever_distances", "lever_features", "lever_reasons"):
            if len(getattr(self, name)) != n:
                raise AdvisorError(
                    f"{name}: must have one entry per lever ({n}). Got {len(getattr(self, name))}."
                )
        for value in (self.distance, self.threshold, *self.lever_distances):
            if not math.isfinite(value) or value < 0:
                raise AdvisorError(f"distance: must be a finite number >= 0. Got {value}.")
        if not 0.0 < self.quantile < 1.0:
            raise AdvisorError(f"quantile: must be in (0, 1). Got {self.quantile}.")
        flags = (self.client, *self.levers)
        reasons = (self.reason, *self.lever_reasons)
        for far, reason in zip(flags, reasons, strict=True):
            if far != (reason is not None):
                raise AdvisorError("reason: must be given exactly for the points that are far.")

    @property
    def any_far(self) -> bool:
        """Whether the client or any lever's result is far."""
        return self.client or any(self.levers)

    def reason_text(self, language: str = "en") -> str | None:
        """Return the client's warning in ``language`` (``None`` when the client is not far)."""
        return _text(self.reason, language)

    def lever_text(self, rank: int, language: str = "en") -> str | None:
        """Return the warning of the lever ranked ``rank`` (1 first), or ``None``."""
        if not 1 <= rank <= len(self.levers):
            raise AdvisorError(f"rank: must be 1 to {len(self.levers)}. Got {rank}.")
        return _text(self.lever_reasons[rank - 1], language)

    def to_dict(self, language: str = "en") -> dict[str, object]:
        """Return the verdict as plain data, texts in ``language`` (for JSON)."""
        return {
            "client": self.client,
            "distance": self.distance,
            "threshold": self.threshold,
            "quantile": self.quantile,
            "n_neighbours": self.n_neighbours,
            "features": list(self.features),
            "reason": self.reason_text(language),
            "levers": [
                {
                    "rank": i + 1,
                    "far": far,
                    "distance": distance,
                    "features": list(features),
                    "reason": _text(reason, language),
                }
                for i, (far, distance, features, reason) in enumerate(
                    zip(
                        self.levers,
                        self.lever_distances,
                        self.lever_features,
                        self.lever_reasons,
                        strict=True,
                    )
                )
            ],
        }


def _text(reason: Mapping[str, str] | None, language: str) -> str | None:
    if reason is None:
        return None
    if language not in reason:
        raise AdvisorError(f"language: must be one of {', '.join(reason)}. Got {language!r}.")
    return reason[language]
