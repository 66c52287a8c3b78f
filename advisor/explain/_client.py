"""The client every explainer explains, checked once, and weights turned into business words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.errors import AdvisorError, ModelError
from advisor.explain._types import FeatureWeight
from advisor.levers import client_frame
from advisor.models import PropensityModel
from constraints import ConstraintSet, ParamSpec, Whole, check_params
from counterfactuals import CounterfactualError

FloatArray = NDArray[np.float64]

__all__ = [
    "MISSING_WORDS",
    "SEED_RULE",
    "check_domain",
    "check_model",
    "checked_params",
    "client_codes",
    "feature_weights",
    "reference_codes",
]

MISSING_WORDS = {"en": "missing", "fr": "manquant"}


def check_model(model: object, constraints: object) -> tuple[PropensityModel, ConstraintSet]:
    """Refuse anything but a trained propensity model over the constraint set's features."""
    if not isinstance(model, PropensityModel):
        raise AdvisorError(
            f"model: must be a trained PropensityModel (advisor.models.train, or a bundle's "
            f"model). Got {type(model).__name__}."
        )
    if not isinstance(constraints, ConstraintSet):
        raise AdvisorError(
            f"constraints: must be a ConstraintSet (constraints.load_constraints). Got "
            f"{type(constraints).__name__}."
        )
    if tuple(constraints.feature_names) != tuple(model.feature_names):
        raise AdvisorError(
            f"constraints: must list the model's features in its order. Got "
            f"{list(constraints.feature_names)[:5]} for a model of "
            f"{list(model.feature_names)[:5]}. Hint: use the bundle's own constraint file."
        )
    return model, constraints


SEED_RULE = Whole(0, 2**32 - 1)
"""Every explainer's ``seed``: a whole number a numpy generator accepts."""


def checked_params(
    where: str,
    model: Any,
    constraints: Any,
    seed: Any,
    given: Mapping[str, Any],
    spec: ParamSpec,
    defaults: Mapping[str, Any],
) -> tuple[PropensityModel, ConstraintSet, int, dict[str, Any]]:
    """Return the checked model, constraint set, seed and parameters (defaults filled in).

    ``where`` (the explainer's class name) prefixes messages; a parameter outside ``spec``
    is refused naming the accepted ones (or saying the method takes none).
    """
    checked_model, checked_constraints = check_model(model, constraints)
    unknown = sorted(set(given) - set(spec))
    if unknown:
        accepted = f"be among {', '.join(spec)}" if spec else "be none (it takes no parameters)"
        raise AdvisorError(f"{where}: parameters must {accepted}. Got {unknown[0]!r}.")
    params = check_params({**defaults, **given}, spec, where=where, error=AdvisorError)
    checked_seed = check_params({"seed": seed}, {"seed": SEED_RULE}, error=AdvisorError)["seed"]
    return checked_model, checked_constraints, int(checked_seed), params


def client_codes(
    model: PropensityModel, client: Any, constraints: ConstraintSet
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return ``client`` as a one-row frame in business values and its (d,) codes.

    Accepts a one-row DataFrame, a Series or a dict holding every feature
    (:func:`advisor.levers.client_frame`); anything else, several rows, an unknown category,
    a value the feature cannot take or a client outside the file's domain
    (:func:`check_domain`) is an error naming the feature.
    """
    frame = client_frame(client, constraints)
    try:
        codes = model.space.to_codes(frame)
    except (CounterfactualError, ModelError) as exc:
        message = str(exc)  # "clients.<feature>: ..." names one client's feature here
        shown = "client." + message[8:] if message.startswith("clients.") else f"client: {message}"
        raise AdvisorError(shown) from exc
    check_domain(constraints, codes[0])
    return frame, codes[0]


def check_domain(constraints: ConstraintSet, codes: np.ndarray) -> None:
    """Refuse a client outside the domain: infinite values, or beyond a fixed feature's bounds.

    An immutable or context feature's bounds say which values it can take (data beyond them
    is an error when the file is bound); an actionable feature may already lie beyond its
    bounds (levers never propose such values, but the client is real).
    """
    for j, spec in enumerate(constraints.features):
        value = float(codes[j])
        if np.isnan(value):
            continue
        if not np.isfinite(value):
            raise AdvisorError(f"client.{spec.name}: must be a finite number. Got {value}.")
        if spec.role == "actionable":
            continue
        if value < spec.lower or value > spec.upper:
            shown = constraints.format_value(spec.name, value)
            low = "-inf" if not np.isfinite(spec.lower) else f"{spec.lower:g}"
            high = "inf" if not np.isfinite(spec.upper) else f"{spec.upper:g}"
            raise AdvisorError(
                f"client.{spec.name}: must lie within the constraint file's bounds "
                f"[{low}, {high}] ({spec.role}). Got {shown}. Hint: correct the client's "
                "value, or widen the bounds in the constraint file."
            )


def reference_codes(model: PropensityModel, data: Any) -> FloatArray:
    """Return the (n, d) codes of the reference clients, or an error naming the bad column."""
    if not isinstance(data, pd.DataFrame) or data.empty:
        got = type(data).__name__ if not isinstance(data, pd.DataFrame) else "an empty frame"
        raise AdvisorError(
            f"data: must be a non-empty DataFrame of reference clients in business values. "
            f"Got {got}."
        )
    missing = [name for name in model.feature_names if name not in data.columns]
    if missing:
        raise AdvisorError(
            f"data: must hold every feature of the model. Got no column {', '.join(missing[:5])}."
        )
    try:
        codes: FloatArray = model.space.to_codes(data.infer_objects())
    except (CounterfactualError, ModelError) as exc:
        raise AdvisorError(f"data: {exc}") from exc
    return codes


def feature_weights(
    constraints: ConstraintSet, codes: np.ndarray, weights: Mapping[str, float]
) -> tuple[FeatureWeight, ...]:
    """Return one :class:`FeatureWeight` per entry of ``weights``, in business words.

    ``codes`` is the client's (d,) codes in the constraint set's feature order.
    """
    position = {name: j for j, name in enumerate(constraints.feature_names)}
    unknown = [name for name in weights if name not in position]
    if unknown:
        raise AdvisorError(f"weights: must name features of the model. Got {unknown[:5]}.")
    values = constraints.to_frame(np.nan_to_num(codes)[None, :]).iloc[0]
    entries = []
    for name, weight in weights.items():
        spec = constraints.feature(name)
        code = float(codes[position[name]])
        if np.isnan(code):
            shown = dict(MISSING_WORDS)
            value: Any = None
        else:
            shown = {lang: constraints.format_value(name, code, lang) for lang in ("en", "fr")}
            value = values[name]
        label = {lang: spec.label.get(lang) or name for lang in ("en", "fr")}
        entries.append(
            FeatureWeight(
                feature=name,
                weight=float(weight),
                value=value.item() if isinstance(value, np.generic) else value,
                role=spec.role,
                label=label,
                shown=shown,
            )
        )
    return tuple(entries)
