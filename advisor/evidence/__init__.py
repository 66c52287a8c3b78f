"""Evidence for levers: similar real clients and influential training clients."""

from advisor.evidence._influence import InfluenceIndex, InfluenceTop, fit_influence
from advisor.evidence._similar import SimilarClients, SimilarIndex, fit_similar
from advisor.evidence._types import Evidence

__all__ = [
    "Evidence",
    "InfluenceIndex",
    "InfluenceTop",
    "SimilarClients",
    "SimilarIndex",
    "fit_influence",
    "fit_similar",
]
