"""No parameter can make a search unbounded: every count and every time limit has a ceiling."""

from __future__ import annotations

from typing import Any

import pytest

import counterfactuals.baselines.dice  # noqa: F401  (registers the DiCE engine)
from advisor.campaigns import CAMPAIGN_PARAMS, RUN_PARAMS
from advisor.levers import ADVISOR_PARAMS
from advisor.models import TRAIN_PARAMS
from constraints import Number, Whole
from counterfactuals import (
    ENGINES,
    GENERATE_PARAMS,
    MAX_COUNTERFACTUALS,
    MAX_TIME_S,
    SOLVE_PARAMS,
    CounterfactualError,
    SearchEngine,
    check_solve,
)

SPECS: dict[str, Any] = {
    **{f"{name} engine": cls.PARAMETERS for name, cls in sorted(ENGINES.items())},
    "generate": GENERATE_PARAMS,
    "solve": SOLVE_PARAMS,
    "Advisor": ADVISOR_PARAMS,
    "Campaign": CAMPAIGN_PARAMS,
    "Campaign.run": RUN_PARAMS,
    "train": TRAIN_PARAMS,
}


def _rules(rule: Any) -> list[Any]:
    return [r for r in (rule if isinstance(rule, tuple) else (rule,)) if r is not None]


@pytest.mark.parametrize("owner", sorted(SPECS))
def test_every_count_and_time_limit_has_a_ceiling(owner: str) -> None:
    unbounded = [
        name
        for name, rule in SPECS[owner].items()
        for r in _rules(rule)
        if (isinstance(r, Whole) or (isinstance(r, Number) and r.unit == "seconds"))
        and r.high is None
    ]
    assert not unbounded, f"{owner}: {unbounded} accept any size; give each a documented ceiling"


def test_ceilings_refuse_just_above_and_accept_at_the_limit() -> None:
    assert check_solve(MAX_COUNTERFACTUALS, 0) == (MAX_COUNTERFACTUALS, 0)
    with pytest.raises(CounterfactualError, match=r"^n: must be a whole number from 1 to 1000\."):
        check_solve(MAX_COUNTERFACTUALS + 1, 0)
    with pytest.raises(CounterfactualError, match=r"max_rows: .* to 10000000\. Got 1000000000\."):
        SearchEngine(max_rows=10**9)
    exact = ENGINES["exact"]
    assert exact(time_limit_s=MAX_TIME_S).time_limit_s == MAX_TIME_S
    with pytest.raises(CounterfactualError, match=r"time_limit_s: .* \(0, 86400\]\. Got 1e?0*"):
        exact(time_limit_s=1e9)
