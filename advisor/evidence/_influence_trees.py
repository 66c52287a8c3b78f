"""BoostIn influence for XGBoost (Brophy, Hammoudeh & Lowd, JMLR 2023), written with numpy.

XGBoost sets the value of leaf ``l`` of tree ``t`` to ``v = -eta * G / (H + lambda)``, where
``G`` and ``H`` sum the log-loss gradients ``g_i = p_i - y_i`` and hessians ``h_i = p_i (1 - p_i)``
of the training clients in the leaf, at the margins of the trees before ``t``. Up-weighting
client ``i`` (in the leaf) changes the leaf value by

    dv / dw_i = -(eta * g_i + h_i * v) / (H + lambda).

BoostIn keeps the tree structures and the other clients' gradients fixed and sums these
derivatives over the trees where the client ``x`` and client ``i`` share a leaf. The data-
estimated base score (``logit`` of the positive rate) adds ``(y_i - mean(y)) / (n mean (1 - mean))``
for every client. The stages are replayed from the leaf indices (``pred_leaf``) and the leaf
values of the model's JSON, so the precomputation is one pass over the trees; the result is a
sparse (n_nodes_total, n_train) matrix, and a client costs one ``pred_leaf`` call and the sum of
its leaves' rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from numpy.typing import NDArray
from scipy.special import expit, logit

from advisor.errors import ModelError

__all__ = ["TreeInfluence", "fit_tree_influence"]

FloatArray = NDArray[np.float64]
METHOD = "BoostIn (Brophy et al., JMLR 2023): leaf-value derivatives summed over shared leaves"


@dataclass(frozen=True, slots=True)
class _Forest:
    """What the replay needs from the booster: leaf values, covers, offsets, settings."""

    is_leaf: tuple[NDArray[np.bool_], ...]  # per tree, per node
    leaf_value: tuple[FloatArray, ...]  # per tree, per node (0 for split nodes)
    cover: tuple[FloatArray, ...]  # per tree, per node: XGBoost's sum of hessians
    offsets: NDArray[np.int64]  # first global row of each tree's nodes
    base_margin: float
    eta: float
    reg_lambda: float
    subsample: float


@dataclass(frozen=True, slots=True)
class TreeInfluence:
    """Precomputed BoostIn weights: one sparse row per tree node, one column per client."""

    booster: xgb.Booster
    offsets: NDArray[np.int64]
    weights: sp.csr_matrix  # (n_nodes_total, n_train)
    base: FloatArray  # (n_train,): effect through the data-estimated base score

    def influence(self, design: FloatArray) -> FloatArray:
        """Return the (n_clients, n_train) effect of each training client on each margin."""
        leaves = _leaves(self.booster, design)
        rows = (leaves + self.offsets[None, :]).ravel()
        n_clients, n_trees = leaves.shape
        indicator = sp.csr_matrix(
            (np.ones(rows.size), rows, np.arange(0, rows.size + 1, n_trees)),
            shape=(n_clients, self.weights.shape[0]),
        )
        summed = (indicator @ self.weights).toarray()
        return np.asarray(summed + self.base[None, :], dtype=np.float64)


def _leaves(booster: xgb.Booster, design: FloatArray) -> NDArray[np.int64]:
    raw = booster.predict(xgb.DMatrix(design), pred_leaf=True)
    return np.asarray(raw, dtype=np.int64).reshape(len(design), -1)


def _number(text: Any) -> float:
    """Read one of XGBoost's config numbers (``"0.3"`` or ``"[7.6E-2]"``)."""
    return float(str(text).strip("[]").split(",")[0])


_PARAM_NAMES = {"eta": "learning_rate", "lambda": "reg_lambda", "subsample": "subsample"}


def _train_param(config: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the training parameters: the model's own (``params``) over the booster's config.

    A booster read back from its JSON file forgets its training parameters (its config shows
    XGBoost's defaults), so the hyper-parameters the model was fitted with take precedence.
    """
    found = dict(config["gradient_booster"].get("tree_train_param", {}))
    for name, alias in _PARAM_NAMES.items():
        for key in (alias, name):
            if params.get(key) is not None:
                found[name] = params[key]
                break
    if params.get("max_delta_step") is not None:
        found["max_delta_step"] = params["max_delta_step"]
    return found


def _forest(booster: xgb.Booster, params: Mapping[str, Any]) -> _Forest:
    config = json.loads(booster.save_config())["learner"]
    objective = config["objective"]["name"]
    if objective != "binary:logistic":
        raise ModelError(f"model: BoostIn needs a binary:logistic booster. Got {objective!r}.")
    train_param = _train_param(config, params)
    if _number(train_param.get("max_delta_step", 0)) != 0:
        raise ModelError("model: BoostIn needs max_delta_step=0. Got another value.")
    trees = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
    if len(trees) != booster.num_boosted_rounds():
        raise ModelError(
            f"model: BoostIn needs one tree per boosting round. Got {len(trees)} trees for "
            f"{booster.num_boosted_rounds()} rounds."
        )
    leaves, values, covers, sizes = [], [], [], []
    for tree in trees:
        leaf = np.asarray(tree["left_children"]) == -1
        leaves.append(leaf)
        values.append(np.where(leaf, np.asarray(tree["split_conditions"], dtype=np.float64), 0.0))
        covers.append(np.asarray(tree["sum_hessian"], dtype=np.float64))
        sizes.append(len(leaf))
    base_score = _number(config["learner_model_param"]["base_score"])
    return _Forest(
        is_leaf=tuple(leaves),
        leaf_value=tuple(values),
        cover=tuple(covers),
        offsets=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        base_margin=float(logit(base_score)),
        eta=_number(train_param.get("eta", 0.3)),
        reg_lambda=_number(train_param.get("lambda", 1.0)),
        subsample=_number(train_param.get("subsample", 1.0)),
    )


def _check_covers(forest: _Forest, covers: list[FloatArray], n_rows: int) -> None:
    """Raise when the replayed leaf hessians differ from the covers XGBoost recorded."""
    if forest.subsample < 1.0:
        return  # XGBoost's covers count a random subsample: nothing exact to compare
    for t, expected in enumerate(covers):
        got = forest.cover[t][forest.is_leaf[t]]
        if not np.allclose(expected[forest.is_leaf[t]], got, rtol=1e-3, atol=1e-4):
            raise ModelError(
                f"train: must be exactly the training clients the XGBoost model was fitted on. "
                f"Got {n_rows} clients whose hessians in tree {t} differ from the model's leaf "
                "covers. Hint: rebuild them with advisor.models.training_split on the training "
                "data."
            )


def fit_tree_influence(
    booster: xgb.Booster,
    design: FloatArray,
    y: NDArray[np.int64],
    params: Mapping[str, Any] | None = None,
) -> TreeInfluence:
    """Replay the boosting stages and precompute every training client's BoostIn weights.

    ``params`` are the hyper-parameters the booster was fitted with (``learning_rate``,
    ``reg_lambda``, ``subsample``); without them the booster's own config is read.
    """
    forest = _forest(booster, params or {})
    leaves = _leaves(booster, design)
    n, n_trees = leaves.shape
    margin = np.full(n, forest.base_margin)
    data = np.empty((n_trees, n))
    covers = []
    for t in range(n_trees):
        value = forest.leaf_value[t][leaves[:, t]]
        p = expit(margin)
        g, h = p - y, np.maximum(p * (1.0 - p), 1e-16)
        covers.append(
            np.bincount(leaves[:, t], weights=h, minlength=len(forest.cover[t])).astype(np.float64)
        )
        denominator = forest.cover[t][leaves[:, t]] + forest.reg_lambda
        data[t] = -forest.subsample * (forest.eta * g + h * value) / denominator
        margin += value
    _check_covers(forest, covers, n)
    replayed = booster.predict(xgb.DMatrix(design), output_margin=True)
    if not np.allclose(margin, replayed, atol=1e-3):
        raise ModelError(
            "model: BoostIn must replay the booster's margins from its leaves. Got a maximal "
            f"difference of {np.abs(margin - replayed).max():.3g}."
        )
    rows = (leaves + forest.offsets[None, :]).T.ravel()
    cols = np.tile(np.arange(n), n_trees)
    n_nodes = int(forest.offsets[-1] + len(forest.cover[-1]))
    weights = sp.csr_matrix((data.ravel(), (rows, cols)), shape=(n_nodes, n))
    rate = float(np.mean(y))
    estimated = np.isclose(expit(forest.base_margin), rate, rtol=1e-5)  # not set by the user
    base = (y - rate) / (n * rate * (1.0 - rate)) if estimated else np.zeros(n)
    return TreeInfluence(booster, forest.offsets, weights, np.asarray(base, dtype=np.float64))
