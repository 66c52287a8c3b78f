"""What a counterfactual must achieve: a class flip, a probability threshold, a top product."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from constraints import Flag, Number, OneOf, ParamSpec, check_dataclass
from counterfactuals.errors import CounterfactualError

__all__ = ["BoundTarget", "Target"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
TargetKind = Literal["flip", "probability", "top"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The goal of a search; build one with :meth:`flip`, :meth:`probability` or :meth:`top`.

    Parameters
    ----------
    kind
        ``flip`` (the predicted class changes), ``probability`` (the probability of ``output``
        reaches ``threshold``, or stays at most it when ``at_most``) or ``top`` (product
        ``output`` becomes the top recommendation, ahead of every other product not held by
        ``margin``: its key is at least ``(1 + margin)`` times the best other key).
    output
        A class label or a product name; ``None`` means the positive class (``probability``)
        or "any other class" (``flip``).
    threshold
        The probability to reach (``probability``), strictly between 0 and 1.
    at_most
        For risk scores: the probability must fall to ``threshold`` or below.
    margin
        The lead of the top product over the next one, as a fraction (0.1 is 10 % ahead).
    by
        The recommendation key for ``top``: ``expected_value`` (propensity x value, as
        the recommender ranks) or ``propensity``.
    """

    kind: TargetKind
    output: Any = None
    threshold: float = 0.5
    at_most: bool = False
    margin: float = 0.0
    by: Literal["expected_value", "propensity"] = "expected_value"

    PARAMETERS: ClassVar[ParamSpec] = {
        "kind": OneOf(("flip", "probability", "top")),
        "threshold": Number(0.0, 1.0, low_open=True, high_open=True, noun="a probability"),
        "at_most": Flag(),
        "margin": Number(0.0),
        "by": OneOf(("expected_value", "propensity")),
    }

    def __post_init__(self) -> None:
        check_dataclass(self, self.PARAMETERS, error=CounterfactualError, where="target")
        if self.kind == "top" and self.output is None:
            raise CounterfactualError(
                "target.output: a top target must name the product. Got None."
            )

    @classmethod
    def flip(cls, to: Any = None) -> Target:
        """Return the goal: the predicted class changes (to class ``to`` when given)."""
        return cls(kind="flip", output=to)

    @classmethod
    def probability(cls, threshold: float, *, at_most: bool = False, output: Any = None) -> Target:
        """Return the goal: the probability of ``output`` reaches ``threshold``."""
        return cls(kind="probability", threshold=threshold, at_most=at_most, output=output)

    @classmethod
    def top(
        cls,
        product: str,
        *,
        margin: float = 0.0,
        by: Literal["expected_value", "propensity"] = "expected_value",
    ) -> Target:
        """Return the goal: ``product`` becomes the top recommendation, ``margin`` ahead."""
        return cls(kind="top", output=product, margin=margin, by=by)

    def describe(self) -> str:
        """Say the goal in words."""
        if self.kind == "flip":
            to = f" to {self.output!r}" if self.output is not None else ""
            return "flip the prediction" + to
        if self.kind == "probability":
            what = "the positive class" if self.output is None else repr(self.output)
            op = "<=" if self.at_most else ">="
            return f"probability of {what} {op} {self.threshold:g}"
        lead = f", {self.margin:.0%} ahead" if self.margin else ""
        return f"{self.output!r} becomes the top recommendation by {self.by}{lead}"

    def bind(
        self, outputs: tuple[Any, ...], client_proba: FloatArray, *, ranked: bool
    ) -> BoundTarget:
        """Resolve the target against a model's outputs and the client's current scores.

        ``ranked`` is True for recommenders (outputs are products), False for classifiers.
        """
        k = len(outputs)
        if self.kind == "top":
            if not ranked:
                raise CounterfactualError(
                    "target: 'top' needs a product recommender. Got a classifier. "
                    "Hint: use Target.probability or Target.flip."
                )
            return BoundTarget(target=self, column=_index(outputs, self.output, "product"), k=k)
        if ranked and self.kind == "flip":
            raise CounterfactualError(
                "target: 'flip' needs a classifier. Got a recommender. Hint: use Target.top."
            )
        if ranked and self.output is None:
            raise CounterfactualError(
                "target.output: must name a product for a recommender. Got none."
            )
        if self.kind == "probability":
            column = k - 1 if self.output is None else _index(outputs, self.output, "class")
            return BoundTarget(target=self, column=column, k=k)
        current = int(np.argmax(client_proba))
        if self.output is None:
            if k != 2:
                raise CounterfactualError(
                    f"target.output: must name the class to reach when the model has {k} "
                    f"classes. Got none."
                )
            column = 1 - current
        else:
            column = _index(outputs, self.output, "class")
            if column == current:
                raise CounterfactualError(
                    f"target.output: must differ from the client's predicted class. "
                    f"Got {self.output!r}, which the model already predicts."
                )
        return BoundTarget(target=self, column=column, k=k)


def _index(outputs: tuple[Any, ...], value: Any, what: str) -> int:
    for j, name in enumerate(outputs):
        if name == value or str(name) == str(value):
            return j
    raise CounterfactualError(
        f"target.output: must be one of the model's {what}es {list(outputs)}. Got {value!r}."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundTarget:
    """A target resolved to a column of the model's outputs (see :meth:`Target.bind`)."""

    target: Target
    column: int
    k: int

    def slack(
        self, proba: FloatArray, held: BoolArray | None = None, values: FloatArray | None = None
    ) -> FloatArray:
        """How far each row is past the goal (>= 0 means reached), (n,)."""
        t = self.target
        p = proba[:, self.column]
        if t.kind == "probability":
            out: FloatArray = (t.threshold - p) if t.at_most else (p - t.threshold)
            return out
        if t.kind == "flip":
            if self.k == 2:
                # binary: the positive class is predicted from 0.5 on (as PropensityModel.predict)
                # to the positive class from 0.5 on; to the negative one strictly below it
                return p - 0.5 if self.column == 1 else p - 0.5 - 1e-12
            others = np.delete(proba, self.column, axis=1).max(axis=1)
            return np.asarray(p - others - 1e-12, dtype=np.float64)
        key = proba * (values if values is not None and t.by == "expected_value" else 1.0)
        if held is not None:
            key = np.where(held, -np.inf, key)
        others = np.delete(key, self.column, axis=1)
        best_other = others.max(axis=1) if others.shape[1] else np.zeros(len(key))
        best_other = np.maximum(best_other, 0.0)
        slack = key[:, self.column] - (1.0 + t.margin) * best_other - 1e-12
        if held is not None:
            slack = np.where(held[:, self.column], -np.inf, slack)
        return np.asarray(slack, dtype=np.float64)

    def score(self, proba: FloatArray) -> FloatArray:
        """Return the reported score of each row: the probability of the target column."""
        return np.asarray(proba[:, self.column], dtype=np.float64)

    def linear_goal(self) -> tuple[int, str, float] | None:
        """``(column, op, probability)`` when the goal is one column above/below a threshold.

        Exact engines turn it into a margin bound; ``None`` for goals that compare columns.
        """
        t = self.target
        if t.kind == "probability" and self.k == 2 and self.column == 0:
            # on the negative class: the same goal on the positive one (p0 = 1 - p1)
            return (1, ">=" if t.at_most else "<=", 1.0 - t.threshold)
        if t.kind == "probability":
            return (self.column, "<=" if t.at_most else ">=", t.threshold)
        if t.kind == "flip" and self.k == 2:
            return (1, ">=" if self.column == 1 else "<", 0.5)
        return None
