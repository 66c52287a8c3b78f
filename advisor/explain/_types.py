"""What every explainer returns: one frozen :class:`Explanation` of one client's score.

Explainers (LIME, Levers LIME, SHAP, integrated gradients) are configured objects with one
method, ``explain(client) -> Explanation``; the result is separate from them, immutable and
free of rendering (``to_frame()`` for tables, :mod:`advisor.explain` words for text).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd

from advisor.errors import AdvisorError

__all__ = [
    "METHODS",
    "ROLES",
    "SCALES",
    "Explainer",
    "Explanation",
    "FeatureWeight",
    "Fidelity",
    "Method",
    "Scale",
    "Stability",
]

Method = Literal[
    "lime", "levers_lime", "tree_shap", "exact_shap", "kernel_shap", "integrated_gradients"
]
METHODS: tuple[str, ...] = (
    "lime",
    "levers_lime",
    "tree_shap",
    "exact_shap",
    "kernel_shap",
    "integrated_gradients",
)
"""Every local method, in the order reports list them."""

Scale = Literal["probability", "margin"]
SCALES: tuple[str, ...] = ("probability", "margin")
"""What a weight is measured in: the calibrated score, or the estimator's raw margin
(log-odds for the logistic and XGBoost models, the MLP's logit)."""

ROLES: tuple[str, ...] = ("immutable", "context", "actionable")


def _finite(where: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise AdvisorError(f"{where}: must be a finite number. Got {value!r}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureWeight:
    """One feature's part in a client's score.

    Attributes
    ----------
    feature
        The feature's name, as in the constraint file.
    weight
        Its contribution to the explained output, in the explanation's ``scale``: > 0 pushes
        the score up, < 0 down. For SHAP, integrated gradients (up to the quadrature) and
        Levers LIME, weights plus the base add up to the output.
    value
        The client's value, in business terms (a category's name, an amount).
    role
        ``immutable``, ``context`` or ``actionable`` (the constraint file's role).
    label
        The feature's name for people: ``{"en": ..., "fr": ...}``.
    shown
        The client's value as advisors read it: ``{"en": "40 %", "fr": "40 %"}``.
    """

    feature: str
    weight: float
    value: Any
    role: str
    label: Mapping[str, str]
    shown: Mapping[str, str]

    def __post_init__(self) -> None:
        _finite(f"weight of {self.feature!r}", self.weight)
        if self.role not in ROLES:
            raise AdvisorError(
                f"role of {self.feature!r}: must be one of {', '.join(ROLES)}. Got {self.role!r}."
            )
        for name, words in (("label", self.label), ("shown", self.shown)):
            if set(words) != {"en", "fr"}:
                raise AdvisorError(
                    f"{name} of {self.feature!r}: must hold 'en' and 'fr' texts. Got "
                    f"{sorted(words)}."
                )

    @property
    def direction(self) -> Literal["raises", "lowers", "none"]:
        """Whether the feature ``raises`` or ``lowers`` the score (``none`` at 0)."""
        if self.weight > 0:
            return "raises"
        return "lowers" if self.weight < 0 else "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fidelity:
    """How well a surrogate (LIME) reproduces the model around the client.

    Attributes
    ----------
    r2
        Weighted R^2 of the surrogate on the perturbations it was fitted on.
    heldout_error
        Mean absolute error of the surrogate on held-out perturbations (score units).
    poor
        True when the surrogate should not be trusted (documented thresholds).
    """

    r2: float
    heldout_error: float
    poor: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Stability:
    """How stable the top of the ranking is over reruns (S-LIME's convergence test).

    Attributes
    ----------
    top_k
        Size of the ranking compared.
    jaccard
        Mean top-k Jaccard similarity between reruns with different seeds (1: identical).
    n_samples
        Perturbations used (chosen by the convergence test when it ran).
    converged
        Whether the convergence test reached its target before its sample limit.
    """

    top_k: int
    jaccard: float
    n_samples: int
    converged: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """One client's score explained by one method.

    Attributes
    ----------
    method
        One of :data:`METHODS`.
    product
        The model's target (the product or outcome scored).
    score
        The calibrated score of the client.
    output
        The explained output in ``scale`` units (the score, or the margin).
    base
        The reference output (SHAP's expected value, LIME's intercept at the reference).
    scale
        ``probability`` or ``margin``.
    weights
        One entry per explained feature, largest absolute weight first.
    parameters
        The method's parameters, as given or chosen (sample size, kernel width, baseline...).
    seed
        The seed of every random step (None for deterministic methods).
    runtime_s
        Wall-clock seconds spent explaining.
    fidelity, stability
        Reported by the surrogate methods (LIME, Levers LIME); None otherwise.
    """

    method: str
    product: str
    score: float
    output: float
    base: float
    scale: str
    weights: tuple[FeatureWeight, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    runtime_s: float = 0.0
    fidelity: Fidelity | None = None
    stability: Stability | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise AdvisorError(f"method: must be one of {', '.join(METHODS)}. Got {self.method!r}.")
        if self.scale not in SCALES:
            raise AdvisorError(f"scale: must be probability or margin. Got {self.scale!r}.")
        for name in ("score", "output", "base", "runtime_s"):
            _finite(name, getattr(self, name))
        names = [w.feature for w in self.weights]
        if len(set(names)) != len(names):
            raise AdvisorError(f"weights: must name each feature once. Got {names}.")
        ordered = sorted(self.weights, key=lambda w: -abs(w.weight))
        object.__setattr__(self, "weights", tuple(ordered))

    def top(self, k: int = 5) -> tuple[str, ...]:
        """Return the ``k`` features with the largest absolute weights, largest first."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise AdvisorError(f"k: must be a whole number >= 1. Got {k!r}.")
        return tuple(w.feature for w in self.weights[:k])

    def weight(self, feature: str) -> float:
        """Return ``feature``'s weight (0.0 for a feature the method did not weigh)."""
        for entry in self.weights:
            if entry.feature == feature:
                return entry.weight
        return 0.0

    def to_frame(self) -> pd.DataFrame:
        """Return one row per feature: feature, weight, direction, value, role, labels."""
        return pd.DataFrame(
            {
                "feature": [w.feature for w in self.weights],
                "weight": [w.weight for w in self.weights],
                "direction": [w.direction for w in self.weights],
                "value": [w.value for w in self.weights],
                "role": [w.role for w in self.weights],
                "label_en": [w.label["en"] for w in self.weights],
                "label_fr": [w.label["fr"] for w in self.weights],
                "shown_en": [w.shown["en"] for w in self.weights],
                "shown_fr": [w.shown["fr"] for w in self.weights],
            }
        )


@runtime_checkable
class Explainer(Protocol):
    """A configured explanation method: ``explain(client)`` gives an :class:`Explanation`.

    ``client`` is one client in business values: a one-row DataFrame, a Series or a dict
    holding every feature of the constraint file.
    """

    @property
    def method(self) -> str:
        """The method's name (one of :data:`METHODS`)."""
        ...

    def explain(self, client: Any) -> Explanation:
        """Explain the model's score of ``client``."""
        ...
