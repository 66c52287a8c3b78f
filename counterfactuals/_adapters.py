"""``adapt``: any model as a :class:`ModelAdapter` (Levers models, XGBoost, scikit-learn, torch...).

Classifiers trained on the feature space's design matrix (``FeatureSpace.to_design``) get
their structure read (trees, linear coefficients, torch module) so exact and gradient
engines can use them; anything else with ``predict_proba`` on business frames is a black box
for the model-agnostic engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterfactuals._model import (
    MarginModel,
    ModelAdapter,
    TorchFunction,
    logistic_link,
)
from counterfactuals._space import FeatureSpace
from counterfactuals._trees import (
    linear_from_sklearn,
    tree_ensemble_from_sklearn,
    tree_ensemble_from_xgboost,
)
from counterfactuals.errors import CounterfactualError

__all__ = ["adapt", "adapt_estimator", "margin_model_of"]

FloatArray = NDArray[np.float64]

_TREES = (
    "DecisionTreeClassifier",
    "ExtraTreeClassifier",
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "GradientBoostingClassifier",
)


def _as_proba(raw: Any, n: int) -> FloatArray:
    p = np.asarray(raw, dtype=np.float64)
    if p.ndim == 1:
        p = np.column_stack([1.0 - p, p])
    if p.ndim != 2 or len(p) != n:
        raise CounterfactualError(
            f"model.predict_proba: must return one row of probabilities per client. "
            f"Got shape {p.shape} for {n} clients."
        )
    return p


def margin_model_of(estimator: Any) -> MarginModel | None:
    """Return the margin structure of a binary design-matrix classifier, or ``None``."""
    name = type(estimator).__name__
    if name in ("XGBClassifier", "Booster"):
        return MarginModel(function=tree_ensemble_from_xgboost(estimator), link=logistic_link())
    if name in _TREES:
        ensemble, link = tree_ensemble_from_sklearn(estimator)
        return MarginModel(function=ensemble, link=link)
    last = estimator.steps[-1][1] if name == "Pipeline" else estimator
    if type(last).__name__ == "LogisticRegression":
        return MarginModel(function=linear_from_sklearn(estimator), link=logistic_link())
    return None


def _torch_adapter(module: Any, space: FeatureSpace) -> ModelAdapter:
    import torch

    def proba(codes: FloatArray) -> FloatArray:
        x = torch.as_tensor(space.to_design(codes), dtype=torch.float32)
        with torch.no_grad():
            logits = module(x)
        if logits.ndim != 2 or logits.shape[1] != 1:
            raise CounterfactualError(
                "model: a torch module must return one logit per row, shape (n, 1). "
                f"Got {tuple(logits.shape)}."
            )
        p = torch.sigmoid(logits[:, 0]).double().numpy()
        return np.column_stack([1.0 - p, p])

    function = TorchFunction(
        module=module, mean=np.zeros(space.n_design), scale=np.ones(space.n_design), column=0
    )
    return ModelAdapter(
        space=space,
        outputs=(0, 1),
        proba_codes=proba,
        proba_frame=lambda frame: proba(space.to_codes(frame)),
        structure={1: MarginModel(function=function, link=logistic_link())},
        family="torch",
    )


def _reads_design(model: Any, space: FeatureSpace) -> bool:
    n_in = getattr(model, "n_features_in_", None)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return False
    if isinstance(model, _xgb_types()):
        return True
    return n_in == space.n_design and n_in != space.n_features


def _xgb_types() -> tuple[type, ...]:
    try:
        import xgboost
    except ImportError:  # pragma: no cover - xgboost is a core dependency
        return ()
    return (xgboost.XGBClassifier, xgboost.Booster)


def adapt_estimator(model: Any, space: FeatureSpace, *, remember: bool = True) -> ModelAdapter:
    """Return the adapter of a plain classifier (see the module docstring and :func:`adapt`)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        torch = None  # type: ignore[assignment]
    if torch is not None and isinstance(model, torch.nn.Module):
        return _torch_adapter(model.eval(), space)
    if isinstance(model, _xgb_types()) and type(model).__name__ == "Booster":
        booster: Any = model

        def booster_proba(codes: FloatArray) -> FloatArray:
            raw = booster.inplace_predict(space.to_design(codes))
            return _as_proba(raw, len(codes))

        return ModelAdapter(
            space=space,
            outputs=(0, 1),
            proba_codes=booster_proba,
            proba_frame=lambda frame: booster_proba(space.to_codes(frame)),
            structure=lambda: {1: margin_model_of(model)},  # type: ignore[dict-item]
            family="xgboost",
        )
    if not callable(getattr(model, "predict_proba", None)):
        raise CounterfactualError(
            f"model: must offer predict_proba (or counterfactual_adapter). "
            f"Got {type(model).__name__}."
        )
    classes = tuple(getattr(model, "classes_", (0, 1)))
    if _reads_design(model, space):
        return _design_adapter(model, space, classes)

    names = list(space.names)

    def frame_proba(frame: pd.DataFrame) -> FloatArray:
        if list(frame.columns) != names:  # our own frames (to_frame) have them in order
            frame = frame[names]
        return _as_proba(model.predict_proba(frame), len(frame))

    if not remember:
        return ModelAdapter(
            space=space,
            outputs=classes,
            proba_codes=lambda codes: frame_proba(space.to_frame(codes)),
            proba_frame=frame_proba,
            family=type(model).__name__,
        )
    seen = _Scored()

    def codes_proba(codes: FloatArray) -> FloatArray:
        # Keyed by the codes themselves; verification keys a frame by its codes
        # (``to_codes``), which are these codes: business frames round-trip
        # (tests/counterfactuals/test_space.py), so a frame is rebuilt only for new rows.
        rows = np.ascontiguousarray(codes, dtype=np.float64)
        proba = seen.recall(rows, lambda missing: frame_proba(space.to_frame(rows[missing])))
        seen.keep(rows, proba)
        return proba

    def verified_proba(frame: pd.DataFrame) -> FloatArray:
        keys = space.to_codes(frame[names])

        def rest(missing: list[int]) -> FloatArray:
            return frame_proba(frame.iloc[missing])

        return seen.recall(keys, rest)

    return ModelAdapter(
        space=space,
        outputs=classes,
        proba_codes=codes_proba,
        proba_frame=verified_proba,
        family=type(model).__name__,
        remembers=True,
    )


class _Scored:
    """A black box's scores of the rows it was given, for the frames of those same rows.

    A black box's fast path *is* the real model on business frames, so verification (and a
    diagnosis re-running the search under relaxed rules) would score again frames the search
    scored: each call of a foreign pipeline costs several milliseconds however few rows it
    scores. Only rows never scored reach the model. Rows are keyed by their codes; the
    adapter lives for one ``generate`` call. At most :attr:`LIMIT` rows are kept.
    """

    LIMIT = 200_000

    def __init__(self) -> None:
        self.scores: dict[bytes, FloatArray] = {}

    def keep(self, codes: FloatArray, proba: FloatArray) -> None:
        """Remember each row's probabilities."""
        if len(self.scores) + len(codes) > self.LIMIT:
            self.scores.clear()
        rows = np.ascontiguousarray(codes, dtype=np.float64)
        self.scores.update(zip((r.tobytes() for r in rows), proba, strict=True))

    def recall(self, codes: FloatArray, score: Callable[[list[int]], FloatArray]) -> FloatArray:
        """Return the rows' probabilities: remembered ones, the others by ``score(missing)``.

        ``score`` gets the positions of the rows never scored and returns their
        probabilities; it is not called when every row is remembered.
        """
        rows = np.ascontiguousarray(codes, dtype=np.float64)
        hits = [self.scores.get(r.tobytes()) for r in rows]
        known = [i for i, hit in enumerate(hits) if hit is not None]
        if not known:
            return np.asarray(score(list(range(len(rows)))), dtype=np.float64)
        out = np.empty((len(rows), len(hits[known[0]])))  # type: ignore[arg-type]
        out[known] = [hits[i] for i in known]
        missing = [i for i, hit in enumerate(hits) if hit is None]
        if missing:
            out[missing] = score(missing)
        return out


def _design_adapter(model: Any, space: FeatureSpace, classes: tuple[Any, ...]) -> ModelAdapter:
    def proba(codes: FloatArray) -> FloatArray:
        return _as_proba(model.predict_proba(space.to_design(codes)), len(codes))

    def structure() -> dict[int, MarginModel]:
        found = margin_model_of(model) if len(classes) == 2 else None
        return {1: found} if found is not None else {}

    return ModelAdapter(
        space=space,
        outputs=classes,
        proba_codes=proba,
        proba_frame=lambda frame: proba(space.to_codes(frame)),
        structure=structure,
        family=type(model).__name__,
    )


def adapt(model: Any, space: FeatureSpace, *, remember: bool = True) -> ModelAdapter:
    """Return the :class:`ModelAdapter` of ``model`` over ``space``.

    ``remember``: a black box on business frames keeps the scores of the rows it scored, so
    that a row scored again (verification, a diagnosis) does not call the model; the
    baselines (DiCE, alibi) turn it off and call the model as they would on their own.

    Raises
    ------
    CounterfactualError
        When the model neither offers ``counterfactual_adapter()`` nor ``predict_proba``.
    """
    if isinstance(model, ModelAdapter):
        return model
    hook = getattr(model, "counterfactual_adapter", None)
    if callable(hook):
        given = hook()
        if not isinstance(given, ModelAdapter):
            raise CounterfactualError(
                f"model.counterfactual_adapter(): must return a ModelAdapter. "
                f"Got {type(given).__name__}."
            )
        if given.space.names != space.names:
            raise CounterfactualError(
                "model: must read the constraint file's features in its order. Got features "
                f"{list(given.space.names)[:5]}... against {list(space.names)[:5]}...."
            )
        return given
    return adapt_estimator(model, space, remember=remember)
