"""The foreign-pipeline setting of ``compare_engines.py``: a scikit-learn model we did not build.

On bank marketing, a scikit-learn ``Pipeline`` (``ColumnTransformer``: one-hot categories,
numbers passed through, or standardised for the MLP; then ``XGBClassifier`` or
``MLPClassifier``) is trained on the same training rows as the Levers models
(``advisor.models.training_split``) and handed to every method as it is: a black box with
``predict_proba`` on business frames. Only the exact engine gets more, on the XGBoost
pipeline: the booster's trees re-indexed onto the constraint file's design matrix
(:func:`tree_adapter`), checked to give the pipeline's own probabilities.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from _engines_data import ROOT, Case, Setting, reached
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from advisor.models import training_split
from constraints import ConstraintSet, load_constraints
from counterfactuals import (
    FeatureSpace,
    MarginModel,
    ModelAdapter,
    Target,
    TreeEnsemble,
    margin_model,
)

__all__ = ["FOREIGN", "FOREIGN_METHODS", "build_pipeline", "prepare_foreign", "tree_adapter"]

FOREIGN = ("sklearn-xgb", "sklearn-mlp")
"""The foreign model families (``--models``), on bank marketing only."""

FOREIGN_METHODS = frozenset({"search", "auto", "exact", "dice-random", "dice-genetic"})
"""The methods run on them (exact: the XGBoost pipeline, when :func:`tree_adapter` holds)."""

_CHECK_ROWS = 2_000  # training rows on which the re-indexed trees must match the pipeline


def build_pipeline(family: str, frame: pd.DataFrame, names: list[str], seed: int) -> Pipeline:
    """The unfitted pipeline of ``family`` over the features ``names`` of ``frame``."""
    categories = [n for n in names if not pd.api.types.is_numeric_dtype(frame[n])]
    numbers = [n for n in names if n not in categories]
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if family == "sklearn-xgb":
        numeric: Any = "passthrough"
        classifier: Any = XGBClassifier(
            n_estimators=400, max_depth=5, n_jobs=1, random_state=seed, eval_metric="logloss"
        )
    elif family == "sklearn-mlp":
        numeric = StandardScaler()
        classifier = MLPClassifier(
            hidden_layer_sizes=(64, 32), random_state=seed, max_iter=200, early_stopping=True
        )
    else:
        raise ValueError(f"family: must be one of {', '.join(FOREIGN)}. Got {family!r}.")
    columns = ColumnTransformer(
        [("categories", onehot, categories), ("numbers", numeric, numbers)], remainder="drop"
    )
    return Pipeline([("columns", columns), ("classifier", classifier)])


def prepare_foreign(case: Case, family: str, n_clients: int, seed: int) -> Setting:
    """Train the ``family`` pipeline on ``case`` (bank), draw ``n_clients`` open test clients."""
    if case.name != "bank":
        raise ValueError(f"case: the foreign pipelines run on bank only. Got {case.name!r}.")
    cs = load_constraints(ROOT / "configs" / case.config, case.frame)
    names = list(cs.feature_names)
    y = (case.frame[case.column] == case.positive).to_numpy(dtype=np.int64)
    train_rows, test_rows = training_split(y, seed=0)  # the split advisor.models.train uses
    train_part, test = case.frame.iloc[train_rows], case.frame.iloc[test_rows]
    start = time.perf_counter()
    pipeline = build_pipeline(family, case.frame, names, seed=0)
    pipeline.fit(train_part[names], y[train_rows])
    auc = roc_auc_score(y[test_rows], pipeline.predict_proba(test[names])[:, 1])
    target = Target.probability(0.5)
    describe = f"P({case.positive!r}) >= 0.5 (to {case.desired!r})"
    open_ = ~reached(pipeline, cs, target, test)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.flatnonzero(open_), min(n_clients, int(open_.sum())), False))
    positives = train_part[train_part[case.column] == case.desired]
    structured = tree_adapter(pipeline, cs, train_part) if family == "sklearn-xgb" else None
    print(
        f"\n== {case.name} / {family}: test AUC {auc:.3f}, trained in "
        f"{time.perf_counter() - start:.0f} s; target {describe}; {len(rows)} of "
        f"{int(open_.sum()):,} open test clients"
    )
    if isinstance(structured, str):
        print(f"  exact: skipped ({structured})")
    return Setting(
        case=case,
        family=family,
        model=pipeline,
        constraints=cs,
        target=target,
        train=train_part,
        clients=test.iloc[rows],
        reference=cs.to_array(positives),
        describe=describe,
        structured=structured if isinstance(structured, ModelAdapter) else None,
    )


# ----------------------------------------------------------------------------- exact's view
def tree_adapter(pipeline: Pipeline, cs: ConstraintSet, data: pd.DataFrame) -> ModelAdapter | str:
    """The XGBoost pipeline as exact sees it, or why it cannot (a sentence).

    The booster's trees (:func:`counterfactuals.margin_model`) read the pipeline's columns:
    one indicator per category, then the numbers as they are. Each is a column of the
    constraint file's design matrix (:meth:`FeatureSpace.to_design`): a category's
    indicator, a number, or a binary feature's code (its ``false`` label's indicator is
    ``1 - code``: the split flips). The re-indexed trees must give the pipeline's
    probabilities on ``data`` (up to 1e-5); the adapter scores through the pipeline itself.
    """
    space = FeatureSpace.from_constraints(cs)
    columns = _design_columns(pipeline, space)
    if isinstance(columns, str):
        return columns
    found = margin_model(pipeline.named_steps["classifier"])
    if found is None or not isinstance(found.function, TreeEnsemble):
        return "the classifier's trees could not be read"
    trees = _reindexed(found.function, *columns)
    names = list(space.names)

    def proba(frame: pd.DataFrame) -> Any:
        return np.asarray(pipeline.predict_proba(frame[names]), dtype=np.float64)

    sample = data[names].iloc[: min(_CHECK_ROWS, len(data))]
    ours = found.link.probability(trees.margin(space.design_from_frame(sample)))
    gap = float(np.max(np.abs(ours - proba(sample)[:, 1])))
    if not gap <= 1e-5:
        return f"the re-indexed trees miss the pipeline's probabilities by up to {gap:.2g}"
    return ModelAdapter(
        space=space,
        outputs=tuple(pipeline.classes_),
        proba_codes=lambda codes: proba(space.to_frame(codes)),
        proba_frame=proba,
        structure={1: MarginModel(function=trees, link=found.link)},
        family="sklearn-xgb",
    )


def _design_columns(pipeline: Pipeline, space: FeatureSpace) -> tuple[np.ndarray, np.ndarray] | str:
    """Per pipeline column: its design column and whether it is ``1 -`` that column."""
    found: list[tuple[int, bool]] = []
    for _, fitted, features in pipeline.named_steps["columns"].transformers_:
        if (isinstance(fitted, str) and fitted == "drop") or not len(features):
            continue
        if not _passes_through(fitted) and not isinstance(fitted, OneHotEncoder):
            return f"the pipeline transforms {list(features)} (only one-hot and passthrough map)"
        for k, name in enumerate(features):
            onehot = fitted.categories_[k] if isinstance(fitted, OneHotEncoder) else None
            columns = _feature_columns(space, name, onehot)
            if isinstance(columns, str):
                return columns
            found += columns
    where, flipped = zip(*found, strict=True) if found else ((), ())
    return np.asarray(where, dtype=np.intp), np.asarray(flipped, dtype=bool)


def _feature_columns(space: FeatureSpace, name: str, onehot: Any) -> list[tuple[int, bool]] | str:
    """The design columns of feature ``name``'s pipeline columns (``onehot``: its categories)."""
    j = space.names.index(name)
    start = space.design_columns(name).start
    if onehot is None:  # passed through
        if space.kinds[j] == "categorical":
            return f"{name} is categorical in the constraint file, a number in the pipeline"
        return [(start, False)]
    labels = [str(c) for c in space.categories[j]]
    binary = space.kinds[j] == "binary"
    out = []
    for category in onehot:
        if str(category) not in labels:
            return f"{name}={category} is not a category of the constraint file"
        code = labels.index(str(category))
        out.append((start, code == 0) if binary else (start + code, False))
    return out


def _passes_through(step: Any) -> bool:
    """Whether a fitted column step leaves its columns as they are (``passthrough``)."""
    if isinstance(step, str):
        return step == "passthrough"
    return isinstance(step, FunctionTransformer) and step.func is None


def _reindexed(trees: TreeEnsemble, where: np.ndarray, flipped: np.ndarray) -> TreeEnsemble:
    """``trees`` over the design matrix: features re-indexed, flipped indicators' splits turned.

    A split ``x < t`` on an indicator with ``0 < t <= 1`` sends 0 left and 1 right; on
    ``x = 1 - z`` it sends ``z = 1`` left: the split ``z < 0.5`` with its children swapped.
    """
    inner = trees.feature >= 0
    feature = np.where(inner, where[np.where(inner, trees.feature, 0)], trees.feature)
    turn = inner & flipped[np.where(inner, trees.feature, 0)]
    turn &= (trees.threshold > 0) & (trees.threshold <= 1)
    missing = trees.missing_left
    return replace(
        trees,
        feature=feature.astype(np.intp),
        threshold=np.where(turn, 0.5, trees.threshold),
        left=np.where(turn, trees.right, trees.left),
        right=np.where(turn, trees.left, trees.right),
        missing_left=None if missing is None else np.where(turn, ~missing, missing),
    )
