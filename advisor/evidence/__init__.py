"""Evidence for levers: similar real clients and influential training clients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
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

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "InfluenceIndex": "advisor.evidence._influence",
    "InfluenceTop": "advisor.evidence._influence",
    "fit_influence": "advisor.evidence._influence",
    "SimilarClients": "advisor.evidence._similar",
    "SimilarIndex": "advisor.evidence._similar",
    "fit_similar": "advisor.evidence._similar",
    "Evidence": "advisor.evidence._types",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
