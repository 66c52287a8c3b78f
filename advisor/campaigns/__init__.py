"""Campaigns: the cheapest lever of every client of a segment, for one product.

:class:`Campaign` runs the advisor's levers over many clients at once (batched through
:func:`counterfactuals.generate_many`) and answers a :class:`CampaignResult`: a status per
client (:class:`CampaignStatus`), the cheapest levers in business words, totals
(:class:`CampaignTotals`) and what ran it (:class:`Provenance`).
"""

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
