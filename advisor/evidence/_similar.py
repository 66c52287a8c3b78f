"""Similar clients: real reference clients near a lever's target point who are in the target state.

Distances are the engines' normalised distance (:func:`counterfactuals.metrics.proximity`:
numeric features in median absolute deviations, one per differing category). Only clients
who share the client's immutable attributes count: the same category for coded ones, within
one median absolute deviation for numeric ones. The lever's *support* is the share of clients
in the target state among the nearest such clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from advisor.errors import AdvisorError
from constraints import ConstraintError, ConstraintSet
from counterfactuals.metrics import proximity

__all__ = ["SimilarClients", "SimilarIndex", "fit_similar"]

FloatArray = NDArray[np.float64]
Client = pd.DataFrame | pd.Series | Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimilarClients:
    """The nearest reference clients in the target state, and the neighbourhood's support.

    Parameters
    ----------
    profiles
        Anonymised profiles (no identifiers), nearest first: ``similar`` (a display name),
        ``distance``, ``outcome`` (True: in the target state), then the features.
    positions
        Their positions in the reference data.
    support
        Share of the target state among the ``n_neighbourhood`` nearest matching clients.
    n_neighbourhood
        How many matching clients the support was computed on (fewer when few match).
    n_matching
        How many reference clients share the client's immutable attributes.
    """

    profiles: pd.DataFrame
    positions: NDArray[np.int64]
    support: float
    n_neighbourhood: int
    n_matching: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SimilarIndex:
    """Reference clients, encoded once, with their observed outcome."""

    constraints: ConstraintSet
    codes: FloatArray
    outcome: NDArray[np.bool_]
    profiles: pd.DataFrame

    @property
    def n_reference(self) -> int:
        """Number of reference clients."""
        return len(self.codes)

    def _codes(self, where: str, client: Client) -> FloatArray:
        frame = client.to_frame().T if isinstance(client, pd.Series) else client
        if isinstance(frame, Mapping):
            frame = pd.DataFrame([dict(frame)])
        if not isinstance(frame, pd.DataFrame) or len(frame) != 1:
            raise AdvisorError(f"{where}: must be one client (a Series, dict or one-row frame).")
        try:
            codes = self.constraints.to_array(frame[list(self.constraints.feature_names)])
            return np.asarray(codes[0], dtype=np.float64)
        except (KeyError, ConstraintError) as exc:
            raise AdvisorError(f"{where}: {exc}") from exc

    def matching(self, client: Client) -> NDArray[np.int64]:
        """Positions of the reference clients sharing the client's immutable attributes."""
        c = self._codes("client", client)
        keep = np.ones(self.n_reference, dtype=bool)
        scales = self.constraints.scales
        for j, spec in enumerate(self.constraints.features):
            if spec.role != "immutable":
                continue
            if spec.kind in ("categorical", "binary", "ordinal"):
                keep &= self.codes[:, j] == c[j]
            else:
                keep &= np.abs(self.codes[:, j] - c[j]) <= scales[j]
        return np.flatnonzero(keep).astype(np.int64)

    def similar(
        self, point: Client, client: Client, *, k: int = 10, n_neighbourhood: int = 50
    ) -> SimilarClients:
        """Return the ``k`` nearest clients in the target state to ``point`` (a lever's result).

        Parameters
        ----------
        point
            Where to look (the client after a lever, or the client).
        client
            The client whose immutable attributes the neighbours must share.
        k
            How many similar clients to return.
        n_neighbourhood
            How many nearest matching clients the support is computed on.
        """
        for name, value in (("k", k), ("n_neighbourhood", n_neighbourhood)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AdvisorError(f"{name}: must be a whole number >= 1. Got {value!r}.")
        p = self._codes("point", point)
        candidates = self.matching(client)
        distance = proximity(self.constraints, p[None, :], self.codes[candidates])
        order = np.lexsort((candidates, distance))  # nearest first, ties by position
        near = candidates[order[:n_neighbourhood]]
        support = float(self.outcome[near].mean()) if len(near) else 0.0
        positive = order[self.outcome[candidates[order]]][:k]
        chosen = candidates[positive]
        profiles = self.profiles.iloc[chosen].reset_index(drop=True)
        profiles.insert(0, "outcome", self.outcome[chosen])
        profiles.insert(0, "distance", distance[positive])
        profiles.insert(0, "similar", [f"#{i + 1}" for i in range(len(chosen))])
        return SimilarClients(
            profiles=profiles,
            positions=chosen,
            support=support,
            n_neighbourhood=len(near),
            n_matching=len(candidates),
        )


def fit_similar(
    constraints: ConstraintSet, reference: pd.DataFrame, outcome: ArrayLike
) -> SimilarIndex:
    """Encode the reference clients once (a one-off precomputation).

    Parameters
    ----------
    constraints
        The constraint file (features, immutables and scales).
    reference
        Real clients in business values with every feature of the file.
    outcome
        Whether each reference client is in the target state (took the product).
    """
    if not isinstance(reference, pd.DataFrame) or reference.empty:
        raise AdvisorError("reference: must be a non-empty DataFrame of clients.")
    missing = [f for f in constraints.feature_names if f not in reference.columns]
    if missing:
        raise AdvisorError(
            f"reference: must hold every feature of the constraint file. Got none for "
            f"{', '.join(missing[:5])}."
        )
    flags = np.asarray(outcome)
    if flags.shape != (len(reference),) or not np.isin(flags, (0, 1)).all():
        raise AdvisorError(
            f"outcome: must be {len(reference)} yes/no values (one per reference client). "
            f"Got shape {flags.shape}."
        )
    features = reference[list(constraints.feature_names)]
    try:
        codes = constraints.to_array(features)
    except ConstraintError as exc:
        raise AdvisorError(f"reference: {exc}") from exc
    return SimilarIndex(
        constraints=constraints,
        codes=np.ascontiguousarray(codes),
        outcome=flags.astype(bool),
        profiles=features.reset_index(drop=True),
    )
