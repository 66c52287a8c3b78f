"""Evidence shown next to a lever: similar real clients and influential training clients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

__all__ = ["Evidence"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Why an advisor can trust a lever, for one client and product.

    Parameters
    ----------
    similar
        Anonymised profiles of the nearest reference clients in the target state (they took
        the product) around the lever's target point, sharing the client's immutable
        attributes: ``similar``, ``distance``, ``outcome``, then the features. ``None``
        without reference outcomes.
    support
        Share of the target state among the nearest matching clients (``None`` likewise).
    n_neighbourhood
        How many clients the support is computed on.
    influential
        The training clients that most raised (``direction`` "raised") and most lowered
        ("lowered") the model's score for this client: ``rank``, ``influential``,
        ``influence`` (effect on the log-odds of the client's score), ``direction``,
        ``outcome``, then the features. ``None`` when the training data are not known.
    method
        How the influence was computed (e.g. "influence function (exact Hessian)").
    note
        Why part of the evidence is missing, per language (``None`` when complete).
    """

    similar: pd.DataFrame | None
    support: float | None
    n_neighbourhood: int
    influential: pd.DataFrame | None
    method: str | None
    note: Mapping[str, str] | None = None
