"""The margin structure of fitted tree ensembles and linear models (for exact engines).

Each function reads a fitted model and returns the :class:`TreeEnsemble` or
:class:`LinearFunction` whose ``margin`` equals the model's raw score on the design matrix,
comparisons included: XGBoost sends a row left when ``float32(x) < float32(t)``;
scikit-learn casts rows to float32 and sends them left when ``float32(x) <= t`` with a float64
threshold ``t``, which we store as the largest float32 value ``<= t`` so that both compare in
float32 (``float32=True``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from counterfactuals._model import LinearFunction, Link, TreeEnsemble, identity_link, logistic_link
from counterfactuals.errors import CounterfactualError

__all__ = ["linear_from_sklearn", "tree_ensemble_from_sklearn", "tree_ensemble_from_xgboost"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


# ----------------------------------------------------------------------------- assembly
def _concatenate(
    trees: Sequence[tuple[IntArray, FloatArray, IntArray, IntArray, FloatArray]],
    base: float,
    *,
    left_if_equal: bool,
    missing_left: Sequence[NDArray[np.bool_]] | None = None,
) -> TreeEnsemble:
    """Concatenate (feature, threshold, left, right, value) node arrays into an ensemble.

    ``missing_left``: per tree, where each node sends a missing value (None: unknown).
    """
    roots: list[int] = []
    parts: list[list[NDArray[Any]]] = [[] for _ in range(5)]
    offset = 0
    for feature, threshold, left, right, value in trees:
        inner = feature >= 0
        roots.append(offset)
        arrays = (
            np.where(inner, feature, -1),
            np.where(inner, threshold, 0.0),
            np.where(inner, left + offset, -1),
            np.where(inner, right + offset, -1),
            np.where(inner, 0.0, value),
        )
        for k, array in enumerate(arrays):
            parts[k].append(array)
        offset += len(feature)
    cols = [np.concatenate(p) if p else np.zeros(0) for p in parts]
    return TreeEnsemble(
        roots=np.asarray(roots, dtype=np.intp),
        feature=cols[0].astype(np.intp),
        threshold=cols[1].astype(np.float64),
        left=cols[2].astype(np.intp),
        right=cols[3].astype(np.intp),
        value=cols[4].astype(np.float64),
        base=float(base),
        left_if_equal=left_if_equal,
        float32=True,
        missing_left=None
        if missing_left is None
        else np.concatenate([np.asarray(m, dtype=bool) for m in missing_left])
        if missing_left
        else np.zeros(0, dtype=bool),
    )


# ----------------------------------------------------------------------------- XGBoost
def _parse_base_score(raw: Any) -> float:
    """``'5E-1'``, ``'[5E-1]'`` (XGBoost 3) or a number -> float."""
    text = str(raw).strip().strip("[]").split(",")[0]
    try:
        return float(text)
    except ValueError as exc:
        raise CounterfactualError(
            f"xgboost model: base_score must be a number. Got {raw!r}."
        ) from exc


def _booster_and_limit(model: Any) -> tuple[Any, int | None]:
    """Return the booster and, for a classifier stopped early, how many rounds it predicts."""
    try:
        import xgboost
    except ImportError as exc:  # pragma: no cover - xgboost is a dependency of the package
        raise CounterfactualError(
            "xgboost model: xgboost is not installed. Hint: pip install xgboost."
        ) from exc
    if isinstance(model, xgboost.Booster):
        return model, None
    if isinstance(model, xgboost.XGBModel):
        try:
            best = int(model.best_iteration)
        except (AttributeError, TypeError, ValueError):
            best = None
        return model.get_booster(), None if best is None else best + 1
    raise CounterfactualError(
        f"xgboost model: must be an xgboost.Booster or XGBClassifier. Got {type(model).__name__}."
    )


def _xgb_tree(tree: dict[str, Any]) -> tuple[IntArray, FloatArray, IntArray, IntArray, FloatArray]:
    left = np.asarray(tree["left_children"], dtype=np.intp)
    right = np.asarray(tree["right_children"], dtype=np.intp)
    if any(int(s) != 0 for s in tree.get("split_type", ())):
        raise CounterfactualError(
            "xgboost model: categorical splits are not supported by exact engines. "
            "Got a tree with split_type 1. Hint: one-hot encode (FeatureSpace.to_design) "
            "or use the search engine."
        )
    conditions = np.asarray(tree["split_conditions"], dtype=np.float64)
    inner = left >= 0
    feature = np.where(inner, np.asarray(tree["split_indices"], dtype=np.intp), -1)
    threshold = np.where(inner, conditions.astype(np.float32).astype(np.float64), 0.0)
    return feature, threshold, left, right, np.where(inner, 0.0, conditions)


def tree_ensemble_from_xgboost(model: Any) -> TreeEnsemble:
    """Return the margin structure of a binary XGBoost model (``binary:logistic``).

    Parameters
    ----------
    model
        An ``xgboost.Booster`` or a fitted ``XGBClassifier`` (gbtree), trained on the
        design matrix. A classifier stopped early keeps its best iteration's trees, as
        its ``predict_proba`` does.

    Returns
    -------
    TreeEnsemble
        ``margin`` equals ``predict(..., output_margin=True)``; its link is
        :func:`logistic_link`.

    Raises
    ------
    CounterfactualError
        For other objectives, boosters (dart, gblinear) or categorical splits.
    """
    booster, rounds = _booster_and_limit(model)
    doc = json.loads(bytes(booster.save_raw("json")))
    learner = doc["learner"]
    objective = learner["objective"]["name"]
    if objective != "binary:logistic":
        raise CounterfactualError(
            f"xgboost model: the objective must be binary:logistic. Got {objective!r}."
        )
    gb = learner["gradient_booster"]
    if gb.get("name") != "gbtree":
        raise CounterfactualError(
            f"xgboost model: the booster must be gbtree. Got {gb.get('name')!r}. "
            "Hint: use the search engine."
        )
    trees = gb["model"]["trees"]
    if rounds is not None:
        indptr = gb["model"].get("iteration_indptr")
        stop = int(indptr[rounds]) if indptr and rounds < len(indptr) else len(trees)
        trees = trees[:stop]
    p = _parse_base_score(learner["learner_model_param"]["base_score"])
    if not 0.0 < p < 1.0:
        raise CounterfactualError(
            f"xgboost model: base_score must be a probability for binary:logistic. Got {p}."
        )
    base = math.log(p / (1.0 - p))
    default_left = [np.asarray(t["default_left"], dtype=bool) for t in trees]
    return _concatenate(
        [_xgb_tree(t) for t in trees], base, left_if_equal=False, missing_left=default_left
    )


# ----------------------------------------------------------------------------- scikit-learn
def _float32_floor(threshold: FloatArray) -> FloatArray:
    """Return the largest float32 value <= each threshold (same float32 comparisons)."""
    t32 = threshold.astype(np.float32)
    above = t32.astype(np.float64) > threshold
    t32 = np.where(above, np.nextafter(t32, np.float32(-np.inf)), t32)
    return np.asarray(t32.astype(np.float64), dtype=np.float64)


def _sk_tree(
    estimator: Any, leaf: FloatArray
) -> tuple[IntArray, FloatArray, IntArray, IntArray, FloatArray]:
    tree = estimator.tree_
    feature = np.asarray(tree.feature, dtype=np.intp)
    inner = tree.children_left >= 0
    return (
        np.where(inner, feature, -1),
        np.where(inner, _float32_floor(np.asarray(tree.threshold, dtype=np.float64)), 0.0),
        np.asarray(tree.children_left, dtype=np.intp),
        np.asarray(tree.children_right, dtype=np.intp),
        leaf,
    )


def _positive_fraction(estimator: Any) -> FloatArray:
    value = np.asarray(estimator.tree_.value, dtype=np.float64)
    if value.shape[1] != 1 or value.shape[2] != 2:
        raise CounterfactualError(
            f"scikit-learn model: must be a binary classifier with one output. Got value shape "
            f"{value.shape[1:]} (outputs, classes)."
        )
    total = value[:, 0, :].sum(axis=1)
    return np.asarray(value[:, 0, 1] / np.where(total > 0, total, 1.0), dtype=np.float64)


def _check_binary(model: Any) -> None:
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise CounterfactualError(
            f"scikit-learn model: must be fitted. Got an unfitted {type(model).__name__}."
        )
    if len(classes) != 2:
        raise CounterfactualError(
            f"scikit-learn model: must be a binary classifier. Got {len(classes)} classes."
        )


def _gradient_boosting(model: Any) -> TreeEnsemble:
    from sklearn.dummy import DummyClassifier

    init = model.init_
    if not (init == "zero" or isinstance(init, DummyClassifier)):
        raise CounterfactualError(
            f"GradientBoostingClassifier.init: must be None or 'zero'. Got {type(init).__name__}."
        )
    lr = float(model.learning_rate)
    trees = [
        _sk_tree(stage[0], lr * np.asarray(stage[0].tree_.value[:, 0, 0], dtype=np.float64))
        for stage in model.estimators_
    ]
    shell = _concatenate(trees, 0.0, left_if_equal=True)
    probe = np.zeros((1, int(model.n_features_in_)))
    base = float(np.ravel(model.decision_function(probe))[0] - shell.margin(probe)[0])
    return _concatenate(trees, base, left_if_equal=True)


def tree_ensemble_from_sklearn(model: Any) -> tuple[TreeEnsemble, Link]:
    """Return the margin structure of a binary scikit-learn tree model, and its link.

    Parameters
    ----------
    model
        A fitted binary ``DecisionTreeClassifier``, ``RandomForestClassifier``,
        ``ExtraTreesClassifier`` (margin: the mean positive-class probability of the
        leaves, identity link) or ``GradientBoostingClassifier`` (margin: the decision
        function, logistic link), trained on the design matrix.

    Returns
    -------
    tuple[TreeEnsemble, Link]
        The ensemble (``left_if_equal=True``, ``float32=True``) and the link that maps its
        margin to the positive class's probability.

    Raises
    ------
    CounterfactualError
        For other models (histogram gradient boosting included) or non-binary ones.
    """
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.tree import DecisionTreeClassifier

    if isinstance(model, HistGradientBoostingClassifier):
        raise CounterfactualError(
            "scikit-learn model: HistGradientBoostingClassifier is not supported by exact "
            "engines (binned thresholds). Got one. Hint: use the search engine."
        )
    _check_binary(model)
    if isinstance(model, GradientBoostingClassifier):
        return _gradient_boosting(model), logistic_link()
    if isinstance(model, DecisionTreeClassifier):
        estimators = [model]
    elif isinstance(model, RandomForestClassifier | ExtraTreesClassifier):
        estimators = list(model.estimators_)
    else:
        raise CounterfactualError(
            "scikit-learn model: must be a DecisionTree, RandomForest, ExtraTrees or "
            f"GradientBoosting classifier. Got {type(model).__name__}."
        )
    n = len(estimators)
    trees = [_sk_tree(e, _positive_fraction(e) / n) for e in estimators]
    return _concatenate(trees, 0.0, left_if_equal=True), identity_link()


def linear_from_sklearn(model: Any) -> LinearFunction:
    """Return ``margin = design @ coef + intercept`` of a binary logistic regression.

    Parameters
    ----------
    model
        A fitted binary ``LogisticRegression``, or a ``Pipeline`` of a ``StandardScaler``
        then a ``LogisticRegression`` (the scaler is folded into the coefficients).

    Returns
    -------
    LinearFunction
        Its margin equals ``model.decision_function``; the link is :func:`logistic_link`.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = (
        [s for _, s in model.steps if s not in (None, "passthrough")]
        if isinstance(model, Pipeline)
        else [model]
    )
    scaler = steps[0] if len(steps) == 2 and isinstance(steps[0], StandardScaler) else None
    clf = steps[-1]
    if not isinstance(clf, LogisticRegression) or len(steps) > (2 if scaler else 1):
        raise CounterfactualError(
            "scikit-learn model: must be a LogisticRegression or a Pipeline(StandardScaler, "
            f"LogisticRegression). Got {type(model).__name__} of "
            f"{[type(s).__name__ for s in steps]}."
        )
    _check_binary(clf)
    coef = np.asarray(clf.coef_, dtype=np.float64)[0]
    intercept = float(np.asarray(clf.intercept_, dtype=np.float64)[0])
    if scaler is not None:
        mean = scaler.mean_ if scaler.mean_ is not None else np.zeros_like(coef)
        scale = scaler.scale_ if scaler.scale_ is not None else np.ones_like(coef)
        if not scaler.with_mean:
            mean = np.zeros_like(coef)
        coef = coef / np.asarray(scale, dtype=np.float64)
        intercept -= float(np.asarray(mean, dtype=np.float64) @ coef)
    return LinearFunction(coef=coef, intercept=intercept)
