"""How a method uses the model in ``compare_engines.py``: calls, rows scored, time inside.

:class:`CountingModel` wraps a model so that every probability call is counted, with the
rows it scores and the wall time it spends inside the model. It forwards every other
attribute, so ``counterfactuals.adapt`` reads the wrapped model as it would the model
itself:

- a black box with ``predict_proba`` on business frames (a scikit-learn ``Pipeline``):
  each ``predict_proba`` call counts;
- a Levers model (``counterfactual_adapter()``, e.g. ``PropensityModel``) or a
  :class:`counterfactuals.ModelAdapter`: each call of the adapter's batched scorers
  (``proba_codes``, ``proba_frame``) counts. Engines that read the model's structure (the
  exact engine's trees, the gradient engine's torch module) evaluate that structure without
  a call, so those evaluations are not counted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from counterfactuals import ModelAdapter

__all__ = ["CountingModel", "ModelUse"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelUse:
    """Probability calls made, rows scored and seconds spent inside the model."""

    calls: int = 0
    rows: int = 0
    seconds: float = 0.0

    def since(self, before: ModelUse) -> ModelUse:
        """The use between the tally ``before`` and this one."""
        return ModelUse(
            calls=self.calls - before.calls,
            rows=self.rows - before.rows,
            seconds=self.seconds - before.seconds,
        )


class CountingModel:
    """``model`` with its probability calls counted (see the module docstring).

    Parameters
    ----------
    model
        A model ``counterfactuals.adapt`` accepts: an object with ``predict_proba`` on
        business frames, a Levers model or a :class:`counterfactuals.ModelAdapter`.

    Examples
    --------
    >>> import numpy as np
    >>> class Half:
    ...     def predict_proba(self, x):
    ...         return np.full((len(x), 2), 0.5)
    >>> counted = CountingModel(Half())
    >>> _ = counted.predict_proba(np.zeros((3, 1)))
    >>> counted.use().calls, counted.use().rows
    (1, 3)
    """

    def __init__(self, model: Any) -> None:
        if not callable(getattr(model, "predict_proba", None)) and not (
            isinstance(model, ModelAdapter)
            or callable(getattr(model, "counterfactual_adapter", None))
        ):
            raise TypeError(
                "model: must offer predict_proba, counterfactual_adapter() or be a ModelAdapter. "
                f"Got {type(model).__name__}."
            )
        self.wrapped = model
        self._lock = threading.Lock()
        self._use = ModelUse()

    def use(self) -> ModelUse:
        """The calls, rows and seconds counted so far."""
        with self._lock:
            return self._use

    def predict_proba(self, clients: Any) -> Any:
        """The wrapped model's ``predict_proba``, counted."""
        return self._timed(self.wrapped.predict_proba)(clients)

    def __getattr__(self, name: str) -> Any:
        """Forward attributes; hand ``adapt`` a counting adapter of a Levers model."""
        if name in ("wrapped", "_lock", "_use"):  # not set yet (copying): no recursion
            raise AttributeError(name)
        if name == "counterfactual_adapter":
            if isinstance(self.wrapped, ModelAdapter):
                return lambda: self._counted(self.wrapped)
            hook = getattr(self.wrapped, name)
            return lambda: self._counted(hook())
        return getattr(self.wrapped, name)

    def _counted(self, adapter: Any) -> Any:
        """``adapter`` with its batched scorers counted (a hook's wrong return passes through)."""
        if not isinstance(adapter, ModelAdapter):
            return adapter  # adapt() says what is wrong with it
        return replace(
            adapter,
            proba_codes=self._timed(adapter.proba_codes),
            proba_frame=self._timed(adapter.proba_frame),
        )

    def _timed(self, score: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``score`` counting its calls, its rows and the seconds spent inside."""

        def counted(batch: Any) -> Any:
            start = time.perf_counter()
            try:
                return score(batch)
            finally:
                seconds = time.perf_counter() - start
                with self._lock:
                    u = self._use
                    self._use = ModelUse(
                        calls=u.calls + 1, rows=u.rows + len(batch), seconds=u.seconds + seconds
                    )

        return counted
