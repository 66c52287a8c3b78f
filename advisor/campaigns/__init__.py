"""Campaigns: the cheapest lever of every client of a segment, for one product.

:class:`Campaign` runs the advisor's levers over many clients at once (batched through
:func:`counterfactuals.generate_many`) and answers a :class:`CampaignResult`: a status per
client (:class:`CampaignStatus`), the cheapest levers in business words, totals
(:class:`CampaignTotals`) and what ran it (:class:`Provenance`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
    from advisor.campaigns._campaign import CAMPAIGN_PARAMS, RUN_PARAMS, Campaign
    from advisor.campaigns._distributed import ENV_SCHEDULER, local_cluster
    from advisor.campaigns._fairness import (
        FAIRNESS_COLUMNS,
        FAIRNESS_PARAMS,
        AttributeGap,
        FairnessReport,
        GroupStats,
        fairness_report,
    )
    from advisor.campaigns._global import SUMMARIZE_PARAMS, GlobalAction, GlobalActions
    from advisor.campaigns._segment import exclusion_mask, segment_mask
    from advisor.campaigns._store import load_result, save_result
    from advisor.campaigns._truth import TRUE_EFFECT_COLUMNS, TrueEffect, demo_true_effect
    from advisor.campaigns._types import (
        COLUMNS,
        CampaignContext,
        CampaignResult,
        CampaignStatus,
        CampaignTotals,
        ClientOutcome,
        Provenance,
    )
    from advisor.errors import CampaignError

__all__ = [
    "CAMPAIGN_PARAMS",
    "COLUMNS",
    "ENV_SCHEDULER",
    "FAIRNESS_COLUMNS",
    "FAIRNESS_PARAMS",
    "RUN_PARAMS",
    "SUMMARIZE_PARAMS",
    "TRUE_EFFECT_COLUMNS",
    "AttributeGap",
    "Campaign",
    "CampaignContext",
    "CampaignError",
    "CampaignResult",
    "CampaignStatus",
    "CampaignTotals",
    "ClientOutcome",
    "FairnessReport",
    "GlobalAction",
    "GlobalActions",
    "GroupStats",
    "Provenance",
    "TrueEffect",
    "demo_true_effect",
    "exclusion_mask",
    "fairness_report",
    "load_result",
    "local_cluster",
    "save_result",
    "segment_mask",
]

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "CAMPAIGN_PARAMS": "advisor.campaigns._campaign",
    "RUN_PARAMS": "advisor.campaigns._campaign",
    "Campaign": "advisor.campaigns._campaign",
    "ENV_SCHEDULER": "advisor.campaigns._distributed",
    "local_cluster": "advisor.campaigns._distributed",
    "FAIRNESS_COLUMNS": "advisor.campaigns._fairness",
    "FAIRNESS_PARAMS": "advisor.campaigns._fairness",
    "AttributeGap": "advisor.campaigns._fairness",
    "FairnessReport": "advisor.campaigns._fairness",
    "GroupStats": "advisor.campaigns._fairness",
    "fairness_report": "advisor.campaigns._fairness",
    "SUMMARIZE_PARAMS": "advisor.campaigns._global",
    "GlobalAction": "advisor.campaigns._global",
    "GlobalActions": "advisor.campaigns._global",
    "exclusion_mask": "advisor.campaigns._segment",
    "segment_mask": "advisor.campaigns._segment",
    "load_result": "advisor.campaigns._store",
    "save_result": "advisor.campaigns._store",
    "TRUE_EFFECT_COLUMNS": "advisor.campaigns._truth",
    "TrueEffect": "advisor.campaigns._truth",
    "demo_true_effect": "advisor.campaigns._truth",
    "COLUMNS": "advisor.campaigns._types",
    "CampaignContext": "advisor.campaigns._types",
    "CampaignResult": "advisor.campaigns._types",
    "CampaignStatus": "advisor.campaigns._types",
    "CampaignTotals": "advisor.campaigns._types",
    "ClientOutcome": "advisor.campaigns._types",
    "Provenance": "advisor.campaigns._types",
    "CampaignError": "advisor.errors",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
