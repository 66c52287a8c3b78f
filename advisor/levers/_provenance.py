"""Where an advisor's model comes from: the bundle folder and the hashes of what it read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from advisor.errors import AdvisorError
from advisor.models import ModelBundle

__all__ = ["BundleProvenance", "bundle_provenance"]

CARD_FILE = "model_card.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleProvenance:
    """The bundle an advisor was built from, as the audit trail records it.

    Parameters
    ----------
    path
        The bundle's folder (absolute).
    card_sha256
        SHA-256 of its ``model_card.json`` (the card lists every model file's own hash).
    constraints_sha256
        SHA-256 of its constraint file's text (UTF-8).
    """

    path: str
    card_sha256: str
    constraints_sha256: str


def bundle_provenance(bundle: ModelBundle) -> BundleProvenance:
    """Return the bundle's folder and the hashes of its model card and constraint file."""
    card = bundle.path / CARD_FILE
    try:
        card_bytes = card.read_bytes()
    except OSError as exc:
        raise AdvisorError(
            f"{card}: must be readable to record where the advice comes from. Got "
            f"{type(exc).__name__}: {exc.strerror or exc}."
        ) from exc
    text = bundle.constraint_text or ""
    return BundleProvenance(
        path=str(bundle.path.resolve()),
        card_sha256=hashlib.sha256(card_bytes).hexdigest(),
        constraints_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
