"""A black box on business frames gets text where the caller's clients held text.

Oracle: the pipeline's own ``predict_proba`` on the caller's frames, and the dtypes a
recording pipeline saw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from constraints import ConstraintSet
from counterfactuals import FeatureSpace, Target, generate


class Recording:
    """A pipeline that notes the dtypes of every frame it scores."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.classes_ = model.classes_
        self.seen: list[pd.Series] = []

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        self.seen.append(frame.dtypes)
        return np.asarray(self.model.predict_proba(frame))


@pytest.fixture(scope="module")
def fitted(model_clients: pd.DataFrame, model_constraints: ConstraintSet) -> dict[str, Any]:
    space = FeatureSpace.from_constraints(model_constraints)
    names = list(space.names)
    texts = [n for n, c in zip(names, space.categories, strict=True) if c]
    frame = model_clients[names].copy()
    for name in texts:  # the bank's own file: text columns, not categoricals
        frame[name] = frame[name].astype(str).astype(object)
    y = model_clients["take_life_insurance"].to_numpy()
    pipeline = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), texts), remainder=StandardScaler()
        ),
        LogisticRegression(max_iter=300),
    ).fit(frame, y)
    return {"frame": frame, "pipeline": pipeline, "texts": texts, "space": space}


def test_text_columns_reach_the_model_as_text_with_the_same_scores(
    fitted: dict[str, Any], model_constraints: ConstraintSet
) -> None:
    frame, pipeline = fitted["frame"], fitted["pipeline"]
    recording = Recording(pipeline)
    client = frame.iloc[[7]]
    p = float(pipeline.predict_proba(client)[0, 1])
    result = generate(recording, client, model_constraints, Target.probability(min(0.9, p * 1.5)))
    assert result.found  # measured: this client has levers
    assert recording.seen
    for dtypes in recording.seen:
        for name in fitted["texts"]:
            assert not isinstance(dtypes[name], pd.CategoricalDtype), name
    rows = result.to_frame()[list(fitted["space"].names)]
    for name in fitted["texts"]:
        rows[name] = rows[name].astype(str).astype(object)
    np.testing.assert_array_equal(
        pipeline.predict_proba(rows)[:, 1], [cf.score for cf in result.counterfactuals]
    )


def test_categorical_columns_stay_categorical(
    fitted: dict[str, Any], model_constraints: ConstraintSet
) -> None:
    frame = fitted["frame"].copy()
    name = fitted["texts"][0]
    frame[name] = frame[name].astype("category")  # a caller's categorical stays one
    recording = Recording(fitted["pipeline"])
    generate(recording, frame.iloc[[7]], model_constraints, Target.probability(0.9), n=1)
    assert all(isinstance(d[name], pd.CategoricalDtype) for d in recording.seen)
