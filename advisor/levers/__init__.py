"""Levers for client advisors: counterfactuals turned into actions in business words.

:class:`Advisor` answers, for one client and one product, where the client stands and the
few concrete levers that lift the score (:class:`Advice` of :class:`Lever` made of
:class:`Action`), with the reason in plain words when there is none.
"""

from advisor.levers._advisor import Advisor
from advisor.levers._demo import load_demo_advisor
from advisor.levers._goal import GOAL_CEILING, GOAL_FLOOR, goal_reached, search_goal
from advisor.levers._inputs import ADVISOR_PARAMS, client_frame
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
    "Action",
    "Advice",
    "Advisor",
    "Control",
    "Language",
    "Lever",
    "Status",
    "WhatIf",
    "actions_of",
    "advice_headline",
    "check_language",
    "client_frame",
    "goal_reached",
    "levers_table_header",
    "load_demo_advisor",
    "percent_text",
    "rank_levers",
    "search_goal",
]
