"""Fuzz of ``Advisor.advise`` on clients inside and outside the domain (hypothesis).

Clients are real non-holders of life insurance with a few features changed (another client's
value, beyond the data's range, or hostile: NaN, infinities, 1e308, text in a number, unknown
categories, None, lists), some dropped and columns added (tests/hostile/fuzz.py), given to the
tiny AutoML-trained logistic and XGBoost advisors of tests/conftest.py. The only acceptable
outcomes: an ``Advice``, or a package error (``AdvisorError``, ``ConstraintError``,
``CounterfactualError``) whose one-line message names a changed feature; never a numpy /
pandas / sklearn / xgboost exception, never a hang. An untouched client always gets advice.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor.errors import AdvisorError
from advisor.levers import Advice, Advisor
from constraints import ConstraintError, ConstraintSet
from counterfactuals import CounterfactualError
from tests.hostile.fuzz import FUZZ, FuzzedClient, check_outcome, fuzzed_clients

ERRORS = (AdvisorError, ConstraintError, CounterfactualError)


@pytest.fixture(scope="module")
def population(model_clients: pd.DataFrame) -> pd.DataFrame:
    return model_clients.loc[~model_clients["has_life_insurance"]]


@pytest.fixture(scope="module")
def advisors(
    trained: dict[str, Any], population: pd.DataFrame, model_constraints: ConstraintSet
) -> dict[str, Advisor]:
    return {
        family: Advisor(
            trained[family].model, model_constraints, reference=population, seed=0, time_limit_s=2.0
        )
        for family in ("logistic", "xgboost")
    }


@pytest.mark.parametrize("family", ["logistic", "xgboost"])
@FUZZ
@given(data=st.data())
def test_advise_answers_or_names_the_feature(
    family: str,
    data: st.DataObject,
    advisors: dict[str, Advisor],
    population: pd.DataFrame,
    model_constraints: ConstraintSet,
) -> None:
    client = data.draw(fuzzed_clients(population, model_constraints))
    n_levers = data.draw(st.integers(1, 3))
    advice = check_outcome(
        lambda: advisors[family].advise(client.frame, n_levers=n_levers), client, ERRORS
    )
    if advice is None:
        assert client.touched, f"an untouched client was refused ({client.describe()})"
        return
    assert isinstance(advice, Advice)
    assert len(advice.levers) <= n_levers


def test_an_untouched_client_gets_advice(
    advisors: dict[str, Advisor], population: pd.DataFrame
) -> None:
    frame = population.iloc[[5]].assign(zz_extra=None)
    untouched = FuzzedClient(frame=frame, touched=(), hostile=False)
    advice = check_outcome(lambda: advisors["logistic"].advise(frame), untouched, ())
    assert isinstance(advice, Advice)
