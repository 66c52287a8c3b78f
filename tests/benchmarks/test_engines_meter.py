"""The benchmark's model meter counts every probability call a method makes, and its rows.

The oracle is the model itself: a scikit-learn pipeline (and, for Levers' path, a model
adapter) whose scorers record each batch they receive. A real engine run through the public
API makes the calls; the meter must count exactly what the model saw.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _engines_meter import CountingModel, ModelUse
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from constraints import ConstraintSet
from counterfactuals import FeatureSpace, Target, adapt, generate


class RecordingPipeline(Pipeline):  # type: ignore[misc]
    """A pipeline that records the rows of each ``predict_proba`` call it serves."""

    seen: list[int]

    def predict_proba(self, X: Any, **params: Any) -> Any:
        self.seen.append(len(X))
        return super().predict_proba(X, **params)


@pytest.fixture(scope="module")
def pipeline(small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet) -> RecordingPipeline:
    """One-hot categories, scaled numbers, logistic regression: life-insurance take-up."""
    names = list(demo_constraints.feature_names)
    frame = small_portfolio[names]
    categories = [n for n in names if not pd.api.types.is_numeric_dtype(frame[n])]
    numbers = [n for n in names if n not in categories]
    columns = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), categories),
            ("numbers", StandardScaler(), numbers),
        ]
    )
    model = RecordingPipeline(
        [("columns", columns), ("classifier", LogisticRegression(max_iter=2_000))]
    )
    model.fit(frame, small_portfolio["take_life_insurance"].to_numpy(dtype=np.int64))
    model.seen = []
    return model


def _client(portfolio: pd.DataFrame, cs: ConstraintSet) -> pd.DataFrame:
    return portfolio.iloc[[3]][list(cs.feature_names)]


def test_counts_each_predict_proba_call_and_its_rows(
    pipeline: RecordingPipeline, small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet
) -> None:
    counted = CountingModel(pipeline)
    pipeline.seen.clear()
    generate(
        counted,
        _client(small_portfolio, demo_constraints),
        demo_constraints,
        Target.probability(0.9),
        n=3,
        engine="search",
        seed=0,
        time_limit_s=5.0,
    )
    use = counted.use()
    assert use.calls == len(pipeline.seen) > 1
    assert use.rows == sum(pipeline.seen)
    assert use.seconds >= 0.0


def test_counts_a_levers_adapters_scorers(
    pipeline: RecordingPipeline, small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet
) -> None:
    space = FeatureSpace.from_constraints(demo_constraints)
    seen: list[int] = []

    def recorded(score: Any) -> Any:
        def call(batch: Any) -> Any:
            seen.append(len(batch))
            return score(batch)

        return call

    base = adapt(pipeline, space)
    adapter = replace(
        base, proba_codes=recorded(base.proba_codes), proba_frame=recorded(base.proba_frame)
    )
    counted = CountingModel(adapter)
    before = counted.use()
    generate(
        counted,
        _client(small_portfolio, demo_constraints),
        demo_constraints,
        Target.probability(0.9),
        n=3,
        engine="search",
        seed=0,
        time_limit_s=5.0,
    )
    used = counted.use().since(before)
    assert (used.calls, used.rows) == (len(seen), sum(seen))
    assert used.calls > 1


def test_forwards_attributes_and_refuses_a_model_without_scores(
    pipeline: RecordingPipeline,
) -> None:
    counted = CountingModel(pipeline)
    assert list(counted.classes_) == list(pipeline.classes_)
    assert counted.use() == ModelUse()
    with pytest.raises(TypeError, match=r"^model: must offer predict_proba"):
        CountingModel(object())
