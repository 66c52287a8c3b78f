"""Margin structures equal the real models' margins, at split thresholds included.

Read through the public :func:`counterfactuals.margin_model` (what ``adapt`` uses).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from counterfactuals import (
    CounterfactualError,
    LinearFunction,
    Link,
    MarginModel,
    TreeEnsemble,
    margin_model,
)


def structure(model: Any, kind: str) -> MarginModel:
    """The model's margin structure, which must be of ``kind`` (trees or linear)."""
    found = margin_model(model)
    assert found is not None, type(model).__name__
    assert found.kind == kind
    return found


def trees(model: Any) -> tuple[TreeEnsemble, Link]:
    found = structure(model, "trees")
    assert isinstance(found.function, TreeEnsemble)
    return found.function, found.link


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 1500
    x = np.column_stack(
        [
            np.round(rng.normal(size=n), 2),  # decimals: float32 rounding matters
            rng.integers(0, 10, n),  # integer
            rng.integers(0, 2, n),  # binary
            np.round(rng.gamma(2.0, 300.0, n), -1),  # amounts on a step grid
            rng.normal(size=n) * 1e-3,  # tiny values
        ]
    ).astype(np.float64)
    y = (x[:, 0] + 0.3 * x[:, 1] - x[:, 2] + x[:, 3] / 600 + rng.normal(size=n) > 1.5).astype(int)
    return x, y


def edge_rows(ensemble: TreeEnsemble, x: np.ndarray, n: int = 400) -> np.ndarray:
    """Rows with one value put exactly on, just below and just above a split threshold."""
    inner = np.flatnonzero(ensemble.feature >= 0)
    rng = np.random.default_rng(1)
    rows = x[rng.integers(0, len(x), n)].copy()
    nodes = inner[rng.integers(0, len(inner), n)]
    t = ensemble.threshold[nodes]
    t32 = t.astype(np.float32)
    variants = [
        t,
        np.nextafter(t, np.inf),
        np.nextafter(t, -np.inf),
        np.nextafter(t32, np.float32(np.inf)).astype(np.float64),
        np.nextafter(t32, np.float32(-np.inf)).astype(np.float64),
        (t32.astype(np.float64) + np.nextafter(t32, np.float32(-np.inf))) / 2,  # float32 tie
    ]
    which = np.arange(n) % len(variants)
    rows[np.arange(n), ensemble.feature[nodes]] = np.choose(which, variants)
    return np.vstack([x[:300], rows])


@pytest.mark.parametrize("wrapper", ["classifier", "booster"])
def test_xgboost_margin_matches_at_thresholds(data: Any, wrapper: str) -> None:
    x, y = data
    clf = xgb.XGBClassifier(n_estimators=40, max_depth=4, n_jobs=1).fit(x, y)
    model: Any = clf if wrapper == "classifier" else clf.get_booster()
    ensemble, link = trees(model)
    assert link.name == "logistic"
    assert ensemble.n_trees == 40
    assert ensemble.float32
    assert not ensemble.left_if_equal
    rows = edge_rows(ensemble, x)
    expected = clf.get_booster().predict(xgb.DMatrix(rows), output_margin=True)
    np.testing.assert_allclose(ensemble.margin(rows), expected, atol=1e-5)
    proba = clf.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(1 / (1 + np.exp(-ensemble.margin(rows))), proba, atol=1e-6)


def test_xgboost_early_stopping_keeps_the_best_iteration(data: Any) -> None:
    x, y = data
    clf = xgb.XGBClassifier(n_estimators=200, max_depth=3, n_jobs=1, early_stopping_rounds=3)
    clf.fit(x[:1000], y[:1000], eval_set=[(x[1000:], y[1000:])], verbose=False)
    ensemble, _ = trees(clf)
    assert ensemble.n_trees == clf.best_iteration + 1
    np.testing.assert_allclose(
        1 / (1 + np.exp(-ensemble.margin(x))), clf.predict_proba(x)[:, 1], atol=1e-6
    )


def test_xgboost_other_objectives_are_refused(data: Any) -> None:
    x, y = data
    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": 2}, xgb.DMatrix(x, y), num_boost_round=2
    )
    with pytest.raises(CounterfactualError, match=r"^xgboost model: the objective must be"):
        margin_model(booster)
    assert margin_model(object()) is None  # no known structure: model-agnostic engines only


@pytest.mark.parametrize(
    "estimator",
    [
        DecisionTreeClassifier(max_depth=6, random_state=0),
        RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0),
        ExtraTreesClassifier(n_estimators=15, max_depth=6, random_state=0),
        GradientBoostingClassifier(n_estimators=25, max_depth=3, random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_sklearn_margin_matches_at_thresholds(data: Any, estimator: Any) -> None:
    x, y = data
    model = estimator.fit(x, y)
    ensemble, link = trees(model)
    assert ensemble.float32
    assert ensemble.left_if_equal
    rows = edge_rows(ensemble, x)
    # sklearn's own float64 thresholds too (we store their float32 floor)
    tree = np.ravel(getattr(model, "estimators_", [model]))[0].tree_
    inner = tree.feature >= 0
    extra = np.repeat(x[:1], int(inner.sum()), axis=0)
    extra[np.arange(len(extra)), tree.feature[inner]] = tree.threshold[inner]
    rows = np.vstack([rows, extra])
    if isinstance(model, GradientBoostingClassifier):
        expected = model.decision_function(rows)
    else:
        expected = model.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(ensemble.margin(rows), expected, atol=1e-9)
    np.testing.assert_allclose(
        link.probability(ensemble.margin(rows)), model.predict_proba(rows)[:, 1], atol=1e-9
    )


def test_sklearn_unsupported_models_say_so(data: Any) -> None:
    x, y = data
    # binned thresholds: no exact structure, the model is a black box for the engines
    assert margin_model(HistGradientBoostingClassifier(max_iter=5).fit(x, y)) is None
    three = DecisionTreeClassifier(max_depth=2).fit(x, y + (x[:, 2] > 0))
    with pytest.raises(
        CounterfactualError,
        match=r"^scikit-learn model: must be a binary classifier\. Got 3 classes\.$",
    ):
        margin_model(three)


@pytest.mark.parametrize("scaled", [False, True])
def test_linear_margin_matches(data: Any, scaled: bool) -> None:
    x, y = data
    lr = LogisticRegression(max_iter=2000)
    model = make_pipeline(StandardScaler(), lr) if scaled else lr
    model.fit(x, y)
    found = structure(model, "linear")
    assert isinstance(found.function, LinearFunction)
    assert found.link.name == "logistic"
    np.testing.assert_allclose(found.function.margin(x), model.decision_function(x), atol=1e-8)
    np.testing.assert_allclose(
        found.link.probability(found.function.margin(x)), model.predict_proba(x)[:, 1], atol=1e-9
    )


def test_a_pipeline_with_other_steps_is_refused(data: Any) -> None:
    x, y = data
    model = make_pipeline(StandardScaler(), PCA(n_components=3), LogisticRegression()).fit(x, y)
    with pytest.raises(
        CounterfactualError,
        match=r"^scikit-learn model: must be a LogisticRegression or a Pipeline\(StandardScaler, "
        r"LogisticRegression\)\. Got Pipeline of \['StandardScaler', 'PCA', "
        r"'LogisticRegression'\]\.$",
    ):
        margin_model(model)
