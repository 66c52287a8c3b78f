"""Fuzz of ``counterfactuals.generate`` on clients inside and outside the domain (hypothesis).

Clients are real non-holders of life insurance with a few features changed (another client's
value, beyond the data's range, or hostile: NaN, infinities, 1e308, text, unknown categories,
None, lists), some dropped and columns added (tests/hostile/fuzz.py); the models are the small
logistic regression and XGBoost classifier of tests/counterfactuals/conftest.py. The only
acceptable outcomes: a ``CounterfactualResult`` whose counterfactuals hold finite values, or a
package error (``CounterfactualError``, ``ConstraintError``) whose one-line message names a
changed feature; never a numpy / pandas / sklearn / xgboost exception, never a hang (a time
limit of a few seconds per search).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constraints import ConstraintError, ConstraintSet
from counterfactuals import CounterfactualError, CounterfactualResult, Target, generate
from tests.counterfactuals.conftest import Fitted
from tests.hostile.fuzz import FUZZ, check_outcome, fuzzed_clients

ERRORS = (CounterfactualError, ConstraintError)


@pytest.mark.parametrize("family", ["logistic", "xgboost"])
@FUZZ
@given(data=st.data())
def test_generate_answers_or_names_the_feature(
    family: str,
    data: st.DataObject,
    fitted: dict[str, Fitted],
    life_clients: pd.DataFrame,
    model_constraints: ConstraintSet,
) -> None:
    client = data.draw(fuzzed_clients(life_clients, model_constraints))
    engine = data.draw(st.sampled_from(("auto", "search")))
    result = check_outcome(
        lambda: generate(
            fitted[family].model,
            client.frame,
            model_constraints,
            Target.probability(0.3),
            n=2,
            engine=engine,
            seed=0,
            time_limit_s=2.0,
        ),
        client,
        ERRORS,
    )
    if result is None:
        return
    assert isinstance(result, CounterfactualResult)
    for counterfactual in result.counterfactuals:
        for value in counterfactual.values.values():
            assert not isinstance(value, float) or math.isfinite(value), client.describe()


@pytest.mark.parametrize("value", [1e308, float("inf"), -1e16])
def test_a_value_beyond_1e15_is_refused_naming_the_feature(
    value: float,
    fitted: dict[str, Fitted],
    life_clients: pd.DataFrame,
    model_constraints: ConstraintSet,
) -> None:
    # found by the fuzz: 1e308 sent the exact engine's grid into an endless loop, and inf
    # was refused as "codes: values must be finite" without naming the feature
    client = life_clients.iloc[[0]].assign(monthly_income=value)
    with pytest.raises(CounterfactualError, match=r"^clients\.monthly_income: values must be fin"):
        generate(fitted["logistic"].model, client, model_constraints, Target.probability(0.3))
