"""Fuzz of ``ConstraintSet.check`` on clients inside and outside the domain (hypothesis).

Candidates (and the client they are checked against) are real portfolio clients with a few
features changed to another client's value, a value beyond the data's range, or a hostile one
(NaN, infinities, 1e308, text in a number, an unknown category, None, a list...), some features
dropped and columns added (tests/hostile/fuzz.py). The only acceptable outcomes: a
``CheckResult`` with one verdict per candidate, or a ``ConstraintError`` whose one-line message
names a changed feature; never a numpy / pandas exception.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from constraints import CheckResult, ConstraintError, ConstraintSet
from tests.hostile.fuzz import FUZZ, FuzzedClient, check_outcome, fuzzed_clients


@FUZZ
@given(data=st.data())
def test_check_answers_or_names_the_feature(
    data: st.DataObject, small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet
) -> None:
    candidates = data.draw(fuzzed_clients(small_portfolio, demo_constraints, max_rows=4))
    client = small_portfolio.iloc[[0]]
    result = check_outcome(
        lambda: demo_constraints.check(client, candidates.frame), candidates, (ConstraintError,)
    )
    if result is None:
        return
    assert isinstance(result, CheckResult)
    assert np.asarray(result.ok).shape == (len(candidates.frame),)


@FUZZ
@given(data=st.data())
def test_a_hostile_client_is_refused_or_checked(
    data: st.DataObject, small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet
) -> None:
    client = data.draw(fuzzed_clients(small_portfolio, demo_constraints))
    result = check_outcome(
        lambda: demo_constraints.check(client.frame, client.frame), client, (ConstraintError,)
    )
    if result is not None:
        assert np.asarray(result.ok).shape == (1,)


def test_an_untouched_client_passes_its_own_check(
    small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet
) -> None:
    # the oracle of the fuzz: a real client, unchanged (an extra column aside), is feasible
    frame = small_portfolio.iloc[[3]].assign(zz_extra="text")
    untouched = FuzzedClient(frame=frame, touched=(), hostile=False)
    result = check_outcome(lambda: demo_constraints.check(frame, frame), untouched, ())
    assert bool(np.asarray(result.ok).all())
