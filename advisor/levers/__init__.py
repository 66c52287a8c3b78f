"""Levers for client advisors: counterfactuals turned into actions in business words.

:class:`Advisor` answers, for one client and one product, where the client stands and the
few concrete levers that lift the score (:class:`Advice` of :class:`Lever` made of
:class:`Action`), with the reason in plain words when there is none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
    from advisor.levers._advisor import Advisor
    from advisor.levers._demo import load_demo_advisor
    from advisor.levers._goal import (
        GOAL_CEILING,
        GOAL_FLOOR,
        ROBUST_MARGIN,
        goal_reached,
        search_goal,
    )
    from advisor.levers._inputs import ADVISOR_PARAMS, client_frame
    from advisor.levers._ood import OutOfDistribution
    from advisor.levers._ood_guard import OOD_NEIGHBOURS, OOD_QUANTILE, OodGuard, fit_ood_guard
    from advisor.levers._provenance import BundleProvenance, bundle_provenance
    from advisor.levers._ranking import COST_TOLERANCE, rank_levers
    from advisor.levers._types import (
        LANGUAGES,
        Action,
        Advice,
        Language,
        Lever,
        check_language,
    )
    from advisor.levers._whatif import Control, WhatIf
    from advisor.levers._wording import (
        actions_of,
        advice_headline,
        levers_table_header,
        percent_text,
    )
    from counterfactuals import Status

__all__ = [
    "ADVISOR_PARAMS",
    "COST_TOLERANCE",
    "GOAL_CEILING",
    "GOAL_FLOOR",
    "LANGUAGES",
    "OOD_NEIGHBOURS",
    "OOD_QUANTILE",
    "ROBUST_MARGIN",
    "Action",
    "Advice",
    "Advisor",
    "BundleProvenance",
    "Control",
    "Language",
    "Lever",
    "OodGuard",
    "OutOfDistribution",
    "Status",
    "WhatIf",
    "actions_of",
    "advice_headline",
    "bundle_provenance",
    "check_language",
    "client_frame",
    "fit_ood_guard",
    "goal_reached",
    "levers_table_header",
    "load_demo_advisor",
    "percent_text",
    "rank_levers",
    "search_goal",
]

# Each public name and the module defining it, imported on first use: importing the package
# stays light (``levers --help`` loads no model library); see tests/test_startup.py.
_EXPORTS = {
    "Advisor": "advisor.levers._advisor",
    "load_demo_advisor": "advisor.levers._demo",
    "GOAL_CEILING": "advisor.levers._goal",
    "GOAL_FLOOR": "advisor.levers._goal",
    "ROBUST_MARGIN": "advisor.levers._goal",
    "goal_reached": "advisor.levers._goal",
    "search_goal": "advisor.levers._goal",
    "ADVISOR_PARAMS": "advisor.levers._inputs",
    "client_frame": "advisor.levers._inputs",
    "BundleProvenance": "advisor.levers._provenance",
    "bundle_provenance": "advisor.levers._provenance",
    "OutOfDistribution": "advisor.levers._ood",
    "OOD_NEIGHBOURS": "advisor.levers._ood_guard",
    "OOD_QUANTILE": "advisor.levers._ood_guard",
    "OodGuard": "advisor.levers._ood_guard",
    "fit_ood_guard": "advisor.levers._ood_guard",
    "COST_TOLERANCE": "advisor.levers._ranking",
    "rank_levers": "advisor.levers._ranking",
    "LANGUAGES": "advisor.levers._types",
    "Action": "advisor.levers._types",
    "Advice": "advisor.levers._types",
    "Language": "advisor.levers._types",
    "Lever": "advisor.levers._types",
    "check_language": "advisor.levers._types",
    "Control": "advisor.levers._whatif",
    "WhatIf": "advisor.levers._whatif",
    "actions_of": "advisor.levers._wording",
    "advice_headline": "advisor.levers._wording",
    "levers_table_header": "advisor.levers._wording",
    "percent_text": "advisor.levers._wording",
    "Status": "counterfactuals",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
