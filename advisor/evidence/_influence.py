"""Influential training clients: which past clients pushed a client's score up or down.

:func:`fit_influence` precomputes, once per model, what each family needs to estimate the effect
of every training client's *presence* on any client's raw margin (log-odds before calibration):

- logistic regression: exact influence functions with the closed-form Hessian of the
  L2-penalised log-loss (Koh & Liang, 2017);
- XGBoost: BoostIn (Brophy, Hammoudeh & Lowd, JMLR 2023);
- torch MLP: influence functions with a damped EK-FAC approximation of the Gauss-Newton
  Hessian over all the network's parameters.

:class:`InfluenceIndex` then answers per client: :meth:`InfluenceIndex.influence` (vectorised)
and :meth:`InfluenceIndex.top` (the strongest supporters and opponents).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from advisor.errors import AdvisorError, ModelError
from advisor.evidence import _influence_logistic, _influence_mlp, _influence_trees
from advisor.models import LogisticEstimator, MLPEstimator, PropensityModel, XGBoostEstimator
from counterfactuals import CounterfactualError, FeatureSpace

__all__ = ["InfluenceIndex", "InfluenceTop", "fit_influence"]

FloatArray = NDArray[np.float64]
Clients = pd.DataFrame | pd.Series | Mapping[str, Any]


class _Backend(Protocol):
    def influence(self, design: FloatArray) -> FloatArray: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluenceTop:
    """The training clients that raised and lowered one client's score the most.

    Parameters
    ----------
    positive
        Positions in the training frame of up to ``k`` clients with a positive influence,
        strongest first.
    positive_values
        Their influence on the client's margin (log-odds), decreasing.
    negative
        Positions of up to ``k`` clients with a negative influence, strongest first.
    negative_values
        Their influence, increasing (most negative first).
    """

    positive: NDArray[np.int64]
    positive_values: FloatArray
    negative: NDArray[np.int64]
    negative_values: FloatArray

    def __post_init__(self) -> None:
        if len(self.positive) != len(self.positive_values) or len(self.negative) != len(
            self.negative_values
        ):
            raise AdvisorError(
                "InfluenceTop: positions and values must have the same length. Got "
                f"{len(self.positive)}/{len(self.positive_values)} positive and "
                f"{len(self.negative)}/{len(self.negative_values)} negative."
            )
        if (self.positive_values <= 0).any() or (self.negative_values >= 0).any():
            raise AdvisorError(
                "InfluenceTop: positive values must be > 0 and negative values < 0. Got others."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluenceIndex:
    """Precomputed influence of a model's training clients (see :func:`fit_influence`).

    Parameters
    ----------
    family
        The model family: logistic, xgboost or mlp.
    method
        How the influence is estimated, in words.
    n_train
        Number of training clients (the columns of :meth:`influence`).
    space
        The model's feature space (encodes clients given in business values).
    """

    family: str
    method: str
    n_train: int
    space: FeatureSpace = field(repr=False)
    _backend: _Backend = field(repr=False, compare=False)

    def influence(self, clients: Clients) -> FloatArray:
        """Return each training client's effect on each client's raw margin.

        Parameters
        ----------
        clients
            Clients in business values: a frame, or one client as a row or a mapping.

        Returns
        -------
        FloatArray
            Shape (n_clients, n_train): the estimated change of the client's margin
            (log-odds) due to the presence of each training client; positive means that
            training client pushed the score up (towards taking the product).
        """
        design = _design(self.space, clients, "clients")
        if not len(design):
            return np.zeros((0, self.n_train))
        return self._backend.influence(design)

    def top(self, client: Clients, k: int = 10) -> InfluenceTop:
        """Return the ``k`` training clients that raised and lowered ``client``'s score most.

        Parameters
        ----------
        client
            One client in business values (a row, a mapping or a one-row frame).
        k
            How many of each sign; fewer are returned when fewer have that sign.

        Returns
        -------
        InfluenceTop
            Positions in the training frame, strongest first, with their influence.
        """
        if isinstance(client, pd.DataFrame) and len(client) != 1:
            raise AdvisorError(
                f"client: must be one client (a row, a mapping or a one-row frame). Got a frame "
                f"of {len(client)} rows. Hint: use influence() for several clients."
            )
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= self.n_train:
            raise AdvisorError(f"k: must be a whole number from 1 to {self.n_train}. Got {k!r}.")
        values = self.influence(client)[0]
        return InfluenceTop(
            **_strongest(values, k, 1.0, "positive"), **_strongest(values, k, -1.0, "negative")
        )


def _strongest(values: FloatArray, k: int, sign: float, name: str) -> dict[str, Any]:
    signed = sign * values
    count = min(k, int((signed > 0).sum()))
    if count == 0:
        chosen = np.zeros(0, dtype=np.int64)
    else:
        part = np.argpartition(-signed, count - 1)[:count]
        chosen = part[np.lexsort((part, -signed[part]))].astype(np.int64)
    return {name: chosen, f"{name}_values": values[chosen].astype(np.float64)}


def _design(space: FeatureSpace, clients: object, where: str) -> FloatArray:
    if not isinstance(clients, pd.DataFrame | pd.Series | Mapping):
        raise AdvisorError(
            f"{where}: must be a DataFrame, a row or a mapping in business values. Got "
            f"{type(clients).__name__}."
        )
    try:
        return space.to_design(space.to_codes(clients))
    except CounterfactualError as exc:
        raise AdvisorError(f"{where}: {exc}") from exc


def _labels(y: ArrayLike, n_train: int) -> NDArray[np.int64]:
    array = np.asarray(y)
    if array.ndim != 1 or len(array) != n_train:
        raise AdvisorError(
            f"y: must hold one 0/1 label per training client ({n_train}). Got shape {array.shape}."
        )
    if array.dtype == bool:
        array = array.astype(np.int64)
    try:
        valid = bool(np.isin(array, (0, 1)).all())
    except TypeError:
        valid = False
    if not valid:
        shown = sorted({str(v) for v in pd.unique(array.astype(object))})[:5]
        raise AdvisorError(f"y: labels must be 0 or 1. Got values {', '.join(shown)}.")
    labels = array.astype(np.int64)
    if labels.min() == labels.max():
        raise AdvisorError(f"y: must hold both classes 0 and 1. Got only {labels[0]}.")
    return labels


def fit_influence(
    model: PropensityModel, train: pd.DataFrame, y: ArrayLike, *, seed: int = 0
) -> InfluenceIndex:
    """Precompute the influence of each training client on the model's margins.

    Parameters
    ----------
    model
        A fitted propensity model (logistic, xgboost or mlp).
    train
        Exactly the training clients the model's estimator was fitted on, in business values
        and in the same order (e.g. the rows ``advisor.models.training_split`` returns).
    y
        Their 0/1 labels (1 = took the product).
    seed
        Reserved for sampled approximations; validated but unused today (every method here
        is deterministic).

    Returns
    -------
    InfluenceIndex
        The precomputed index; rows of its results follow ``train``'s order.
    """
    if not isinstance(model, PropensityModel):
        raise AdvisorError(
            f"model: must be a fitted advisor.models.PropensityModel. Got {type(model).__name__}."
        )
    if not isinstance(train, pd.DataFrame) or train.empty:
        raise AdvisorError(
            "train: must be a non-empty DataFrame of the training clients. Got "
            f"{type(train).__name__}{' (empty)' if isinstance(train, pd.DataFrame) else ''}."
        )
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise AdvisorError(f"seed: must be a whole number >= 0. Got {seed!r}.")
    design = _design(model.space, train, "train")
    labels = _labels(y, len(train))
    backend, method = _fit_backend(model.estimator, design, labels, model.params)
    return InfluenceIndex(
        family=model.family, method=method, n_train=len(train), space=model.space, _backend=backend
    )


def _fit_backend(
    estimator: object, design: FloatArray, y: NDArray[np.int64], params: Mapping[str, Any]
) -> tuple[_Backend, str]:
    if isinstance(estimator, LogisticEstimator):
        backend = _influence_logistic.fit_logistic_influence(estimator.pipeline, design, y)
        return backend, _influence_logistic.METHOD
    if isinstance(estimator, XGBoostEstimator):
        trees = _influence_trees.fit_tree_influence(estimator.booster, design, y, params)
        return trees, _influence_trees.METHOD
    if isinstance(estimator, MLPEstimator):
        mlp = _influence_mlp.fit_mlp_influence(estimator.scaler, estimator.mlp, design, y)
        return mlp, _influence_mlp.METHOD
    raise ModelError(
        "model: influence is available for the logistic, xgboost and mlp families. Got an "
        f"estimator of type {type(estimator).__name__}."
    )
