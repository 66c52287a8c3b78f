"""Save a fitted :class:`~advisor.models.TorchMLPClassifier` without pickle, and read it back.

:func:`mlp_state` splits a fitted estimator into a JSON-serialisable config and a
``state_dict`` (for ``torch.save``); :func:`mlp_from_state` rebuilds it, checking the config
and the tensors' shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from sklearn.utils.validation import check_is_fitted

from advisor.errors import AdvisorError
from advisor.models._mlp import (
    _PARAMS,
    TorchMLPClassifier,
    _build_module,
    _copy_state,
    _whole,
)

__all__ = ["mlp_from_state", "mlp_state"]

_FITTED = ("n_features_in_", "n_epochs_", "best_epoch_", "loss_curve_", "validation_scores_")
_CONFIG_KEYS = ("params", "classes_", "classes_dtype", *_FITTED)


def mlp_state(estimator: TorchMLPClassifier) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Split a fitted estimator into a JSON-serialisable config and its tensors.

    Parameters
    ----------
    estimator
        A fitted :class:`TorchMLPClassifier` whose ``random_state`` is None or an int.

    Returns
    -------
    tuple[dict[str, Any], dict[str, torch.Tensor]]
        The config (hyper-parameters, classes, fitted scalars; for ``json.dump``) and a copy of
        the network's ``state_dict`` (for ``torch.save``).
    """
    check_is_fitted(estimator)
    estimator._check_params()
    params = estimator.get_params()
    params = {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}
    if params["random_state"] is not None and not _whole(params["random_state"]):
        raise AdvisorError(
            "mlp_state: random_state must be None or an int to be saved. "
            f"Got {params['random_state']!r}."
        )
    params["hidden_layer_sizes"] = [int(size) for size in params["hidden_layer_sizes"]]
    config: dict[str, Any] = {key: getattr(estimator, key) for key in _FITTED}
    config |= {"params": params, "classes_": estimator.classes_.tolist()}
    config["classes_dtype"] = estimator.classes_.dtype.str
    if hasattr(estimator, "feature_names_in_"):
        config["feature_names_in_"] = [str(name) for name in estimator.feature_names_in_]
    return config, _copy_state(estimator.module_)


def mlp_from_state(
    config: Mapping[str, Any], state_dict: Mapping[str, torch.Tensor]
) -> TorchMLPClassifier:
    """Rebuild a fitted :class:`TorchMLPClassifier` from the output of :func:`mlp_state`.

    Parameters
    ----------
    config
        The JSON-serialisable config (e.g. read back with ``json.load``).
    state_dict
        The network's tensors (e.g. read back with ``torch.load(path, weights_only=True)``).

    Returns
    -------
    TorchMLPClassifier
        A fitted estimator predicting exactly as the saved one.
    """
    estimator, classes = _estimator_from_config(config)
    n_features, sizes = estimator.n_features_in_, estimator.hidden_layer_sizes
    n_out = 1 if classes.size == 2 else classes.size
    module = _build_module(n_features, sizes, estimator.activation, n_out)
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    got = {key: tuple(value.shape) for key, value in state_dict.items()}
    if got != expected:
        raise AdvisorError(
            f"mlp_from_state: state_dict shapes must match the config ({n_features} features, "
            f"hidden_layer_sizes={sizes}, {classes.size} classes): {expected}. Got {got}."
        )
    module.load_state_dict(state_dict)
    estimator.module_, estimator.classes_ = module.eval(), classes
    return estimator


def _estimator_from_config(
    config: Mapping[str, Any],
) -> tuple[TorchMLPClassifier, npt.NDArray[Any]]:
    """Check ``config``; return an estimator with its fitted scalars set, and the classes."""
    params, names = config.get("params"), config.get("feature_names_in_", [])
    if (
        not set(_CONFIG_KEYS) <= set(config)
        or not isinstance(params, dict)
        or params.keys() != _PARAMS
    ):
        raise AdvisorError(
            f"mlp_from_state: config must hold the keys {sorted(_CONFIG_KEYS)}, with params "
            f"{sorted(_PARAMS)}. Got keys {sorted(config)}, params {params!r}."
        )
    estimator = TorchMLPClassifier(
        **params | {"hidden_layer_sizes": tuple(params["hidden_layer_sizes"])}
    )
    estimator._check_params()
    for key in _FITTED:
        setattr(estimator, key, config[key])
    classes = np.asarray(config["classes_"], dtype=np.dtype(config["classes_dtype"]))
    n_features = estimator.n_features_in_
    if not (_whole(n_features) and n_features > 0 and len(names) in (0, n_features)) or not (
        classes.ndim == 1 and classes.size >= 2
    ):
        raise AdvisorError(
            "mlp_from_state: config must list 2 or more classes_, a positive n_features_in_ "
            f"and, if any, as many feature_names_in_. Got {classes.size} classes_, "
            f"n_features_in_={n_features!r} and {len(names)} names."
        )
    if names:
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    return estimator, classes
