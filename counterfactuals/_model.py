"""How engines see a model: batched probabilities on codes, plus its margin's structure.

A :class:`ModelAdapter` is what every engine works with. ``adapt`` (in ``_adapters``) builds
one from

- an object with a ``counterfactual_adapter()`` method (Levers' own ``PropensityModel`` and
  ``ProductRecommender``: their fast paths on codes and their estimators' structure);
- a fitted scikit-learn / XGBoost / torch classifier trained on the feature space's design
  matrix (see :meth:`FeatureSpace.to_design`);
- any other object with ``predict_proba`` on business frames (model-agnostic engines only).

The structure (:class:`TreeEnsemble`, :class:`LinearFunction`, :class:`TorchFunction`) gives
the margin of one output as a function of the design matrix; a monotone :class:`Link` maps
margins to probabilities so that a probability goal becomes a margin bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterfactuals._space import FeatureSpace
from counterfactuals.errors import CounterfactualError

__all__ = [
    "LinearFunction",
    "Link",
    "MarginModel",
    "ModelAdapter",
    "ScoreModel",
    "TorchFunction",
    "TreeEnsemble",
    "identity_link",
    "logistic_link",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@runtime_checkable
class ScoreModel(Protocol):
    """Anything that scores a batch of clients: ``predict_proba(frame) -> (n, k)``."""

    def predict_proba(self, clients: pd.DataFrame) -> Any:
        """Return class probabilities, one row per client."""


# ----------------------------------------------------------------------------- structures
@dataclass(frozen=True, slots=True, kw_only=True)
class TreeEnsemble:
    """Sum of regression trees over the design matrix: ``margin = base + sum(leaf values)``.

    Node arrays are concatenated over trees; ``roots[t]`` is tree t's first node. At an
    internal node (``feature >= 0``) a row goes ``left`` when ``x[feature] < threshold``
    (XGBoost) or ``x[feature] <= threshold`` when ``left_if_equal`` (scikit-learn). With
    ``float32`` the comparison happens in single precision (XGBoost's), so engines must pick
    values whose float32 rounding lands on the intended side. Leaves hold ``value``.
    ``missing_left`` says, per node, where a missing (NaN) value goes (XGBoost's learnt
    default direction); ``None`` when the model does not say (engines then cannot serve a
    client with a missing value).
    """

    roots: IntArray
    feature: IntArray
    threshold: FloatArray
    left: IntArray
    right: IntArray
    value: FloatArray
    base: float
    left_if_equal: bool = False
    float32: bool = False
    scale: float = 1.0
    missing_left: BoolArray | None = None

    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return len(self.roots)

    def margin(self, design: FloatArray) -> FloatArray:
        """Evaluate the ensemble on design rows (vectorised over rows, loop over depth)."""
        x = np.asarray(design, dtype=np.float32 if self.float32 else np.float64)
        n = len(x)
        total = np.full(n, self.base, dtype=np.float64)
        rows = np.arange(n)
        thr = self.threshold.astype(np.float32) if self.float32 else self.threshold
        for root in self.roots:
            node = np.full(n, root, dtype=np.intp)
            while True:
                f = self.feature[node]
                inner = f >= 0
                if not inner.any():
                    break
                v: Any = x[rows[inner], f[inner]]
                t: Any = thr[node[inner]]
                go_left = v <= t if self.left_if_equal else v < t
                if self.missing_left is not None:
                    go_left = np.where(np.isnan(v), self.missing_left[node[inner]], go_left)
                node[inner] = np.where(go_left, self.left[node[inner]], self.right[node[inner]])
            total += self.value[node]
        return total * self.scale


@dataclass(frozen=True, slots=True, kw_only=True)
class LinearFunction:
    """``margin = design @ coef + intercept``.

    ``missing_value``: per design column, the value a missing (NaN) entry takes inside the
    model (its imputation); ``None`` when the model takes no missing value.
    """

    coef: FloatArray
    intercept: float
    missing_value: FloatArray | None = None

    def margin(self, design: FloatArray) -> FloatArray:
        """Evaluate on design rows (missing entries take ``missing_value``)."""
        design = np.asarray(design, dtype=np.float64)
        if self.missing_value is not None and np.isnan(design).any():
            design = np.where(np.isnan(design), self.missing_value, design)
        return np.asarray(design @ self.coef + self.intercept, dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True)
class TorchFunction:
    """``margin = module((design - mean) / scale)[:, column]`` (a torch module, float32).

    ``missing_value``: per design column, the value a missing (NaN) entry takes inside the
    model (its imputation); ``None`` when the model takes no missing value.
    """

    module: Any
    mean: FloatArray
    scale: FloatArray
    column: int = 0
    missing_value: FloatArray | None = None

    def margin(self, design: FloatArray) -> FloatArray:
        """Evaluate on design rows (no gradient; missing entries take ``missing_value``)."""
        import torch

        design = np.asarray(design, dtype=np.float64)
        if self.missing_value is not None and np.isnan(design).any():
            design = np.where(np.isnan(design), self.missing_value, design)
        z = (design - self.mean) / self.scale
        with torch.no_grad():
            out = self.module(torch.as_tensor(z, dtype=torch.float32))
        return np.asarray(out[:, self.column].double().numpy(), dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A strictly increasing map from margins to probabilities, and its inverse."""

    name: str
    probability: Callable[[FloatArray], FloatArray]
    margin_for: Callable[[float], float]


def logistic_link(slope: float = 1.0, intercept: float = 0.0) -> Link:
    """``p = sigmoid(slope * margin + intercept)`` (Platt scaling; slope > 0)."""
    if not slope > 0:
        raise CounterfactualError(f"logistic_link.slope: must be > 0. Got {slope}.")

    def probability(m: FloatArray) -> FloatArray:
        z = slope * np.asarray(m, dtype=np.float64) + intercept
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)

    def margin_for(p: float) -> float:
        return (float(np.log(p / (1.0 - p))) - intercept) / slope

    return Link(name="logistic", probability=probability, margin_for=margin_for)


def identity_link() -> Link:
    """``p = margin`` (forests that average leaf probabilities)."""
    return Link(
        name="identity",
        probability=lambda m: np.asarray(m, dtype=np.float64),
        margin_for=float,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginModel:
    """The margin of one output as a function of the design matrix, and its link."""

    function: TreeEnsemble | LinearFunction | TorchFunction
    link: Link

    @property
    def kind(self) -> str:
        """``trees``, ``linear`` or ``torch``."""
        if isinstance(self.function, TreeEnsemble):
            return "trees"
        return "linear" if isinstance(self.function, LinearFunction) else "torch"


# ----------------------------------------------------------------------------- the adapter
@dataclass(frozen=True, slots=True, kw_only=True)
class ModelAdapter:
    """A model as engines see it.

    Parameters
    ----------
    space
        The feature space the model reads (the constraint file's features, in order).
    outputs
        What the columns of the probabilities are: class labels, or product names.
    proba_codes
        Fast path: (n, d) codes -> (n, k) probabilities, one batched model call.
    proba_frame
        The real model through its full preprocessing: business frame -> (n, k). Every
        returned counterfactual is re-scored with it.
    structure
        Output column -> :class:`MarginModel` where the structure is known (exact and
        gradient engines), or a function returning that mapping (read lazily, once, when an
        engine asks: parsing 300 trees is not free); empty for black boxes. Engines read
        :attr:`margins`.
    ranked
        True for recommenders (outputs are products; targets are ``top``/``probability``).
    values
        Per output, the value of one sale (recommenders' expected-value key).
    held
        (n, d) codes -> (n, k) mask of products a candidate already holds (recommenders).
    family
        A short name of the model family, for reports.
    remembers
        Whether ``proba_codes`` is the real model on the frames of the codes
        (``proba_frame(space.to_frame(codes))``) and remembers the rows it scored (a black
        box on business frames): rows scored ahead of time, along with another call, then
        cost no call, and verification scores through it.
    """

    space: FeatureSpace
    outputs: tuple[Any, ...]
    proba_codes: Callable[[FloatArray], FloatArray]
    proba_frame: Callable[[pd.DataFrame], FloatArray]
    structure: Mapping[int, MarginModel] | Callable[[], Mapping[int, MarginModel]] = field(
        default_factory=dict
    )
    ranked: bool = False
    values: FloatArray | None = None
    held: Callable[[FloatArray], BoolArray] | None = None
    family: str = "model"
    remembers: bool = False
    _margins: list[Mapping[int, MarginModel]] = field(
        init=False, repr=False, compare=False, default_factory=list
    )

    def __post_init__(self) -> None:
        if len(self.outputs) < 2 and not self.ranked:
            raise CounterfactualError(
                f"outputs: a classifier must have at least 2 classes. Got {list(self.outputs)}."
            )

    @property
    def margins(self) -> Mapping[int, MarginModel]:
        """Output column -> margin structure (read once, on first use)."""
        if not self._margins:
            found = self.structure() if callable(self.structure) else self.structure
            for j in found:
                if not 0 <= j < len(self.outputs):
                    raise CounterfactualError(f"structure: column {j} is not an output.")
            self._margins.append(dict(found))
        return self._margins[0]

    @property
    def kinds(self) -> frozenset[str]:
        """The structure kinds known for this model (``trees``, ``linear``, ``torch``)."""
        return frozenset(m.kind for m in self.margins.values())
