"""The what-if editor: widgets limited to what the constraint file allows, and live re-scoring.

:func:`controls` says, per feature, which widget to show and which values it may take for
this client (the client's feasible box from :meth:`ConstraintSet.bounds_for`); :func:`what_if`
scores a set of edits, recomputes derived features and re-checks every rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from advisor.errors import AdvisorError
from advisor.levers._products import ProductInfo
from advisor.levers._types import Action
from advisor.levers._wording import actions_of, feature_label, movement_reason
from constraints import ConstraintError, ConstraintSet
from counterfactuals import Change

__all__ = ["Control", "WhatIf", "controls", "what_if"]

Widget = Literal["number", "choice", "toggle"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Control:
    """One what-if widget: the values a feature may take for this client.

    ``low``/``high``/``step`` bound a number (``integer`` for counts), ``options`` lists the
    allowed values of a choice or toggle (the current value first), ``reason`` says why the
    feature cannot move (``None`` when it can).
    """

    feature: str
    label: Mapping[str, str]
    widget: Widget
    value: Any
    low: float | None
    high: float | None
    step: float | None
    integer: bool
    unit: str
    options: tuple[Any, ...]
    reason: Mapping[str, str] | None

    @property
    def movable(self) -> bool:
        """Whether the advisor may change this feature for this client."""
        return self.reason is None


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIf:
    """The effect of edits: scores, feasibility under the file, cost, the edits in words."""

    score_before: float
    score_after: float
    feasible: bool
    problems: tuple[str, ...]
    cost: float
    actions: tuple[Action, ...]

    @property
    def uplift(self) -> float:
        """Score after minus score before."""
        return self.score_after - self.score_before


def _value(spec: Any, code: float) -> Any:
    if np.isnan(code):  # missing (missing: keep): unknown, and it stays so
        return None
    if spec.kind in ("categorical", "ordinal"):
        return spec.categories[int(code)]
    if spec.kind == "binary":
        return bool(code >= 0.5)
    if spec.kind == "integer":
        return round(code)
    return float(code)


def controls(info: ProductInfo, frame: pd.DataFrame) -> tuple[Control, ...]:
    """One control per feature of the constraint file, for the product's levers."""
    cs = info.constraints
    bounds = cs.bounds_for(frame)
    found = []
    for j, spec in enumerate(cs.features):
        current = bounds.client[j]
        allowed = bounds.allowed[j]
        movable = bool(bounds.movable[j])
        role = cs.feature(spec.name).role
        reason = None if movable else movement_reason(role, bounds.reasons[j] or "fixed")
        if spec.kind in ("binary", "categorical", "ordinal"):
            codes = [current, *sorted(float(c) for c in allowed or () if c != current)]
            found.append(
                Control(
                    feature=spec.name,
                    label=feature_label(cs, spec.name),
                    widget="toggle" if spec.kind == "binary" else "choice",
                    value=_value(spec, current),
                    low=None,
                    high=None,
                    step=None,
                    integer=False,
                    unit=spec.unit,
                    options=tuple(_value(spec, c) for c in codes),
                    reason=reason,
                )
            )
            continue
        step = float(bounds.step[j]) if bounds.step[j] > 0 else None
        found.append(
            Control(
                feature=spec.name,
                label=feature_label(cs, spec.name),
                widget="number",
                value=_value(spec, current),
                low=float(bounds.lower[j]) + 0.0,  # no "-0"
                high=float(bounds.upper[j]) + 0.0,
                step=1.0 if spec.kind == "integer" and step is None else step,
                integer=spec.kind == "integer",
                unit=spec.unit,
                options=(),
                reason=reason,
            )
        )
    return tuple(found)


def _apply(cs: ConstraintSet, frame: pd.DataFrame, changes: Mapping[str, Any]) -> pd.DataFrame:
    unknown = [f for f in changes if f not in cs.feature_names]
    if unknown:
        raise AdvisorError(
            "changes: must name features of the constraint file. Got "
            f"{', '.join(map(str, unknown))}."
        )
    row = frame.iloc[0].to_dict()
    row.update(changes)
    edited = pd.DataFrame([row], index=frame.index)
    try:
        after = cs.rederive(frame, edited)  # derived features follow their sources
    except ConstraintError as exc:
        raise AdvisorError(f"changes: {exc}") from exc
    return cs.to_frame(after).set_axis(frame.index)


def what_if(info: ProductInfo, frame: pd.DataFrame, changes: Mapping[str, Any]) -> WhatIf:
    """Score the client after ``changes`` (business values) and re-check the constraint file."""
    if not isinstance(changes, Mapping):
        raise AdvisorError(f"changes: must map features to values. Got {type(changes).__name__}.")
    cs = info.constraints
    features = frame[list(cs.feature_names)]
    edited = _apply(cs, features, changes)
    check = cs.check(features, edited)
    problems = tuple(v.message for v in check.violations(0))
    before = float(info.model.score(features)[0])
    after = float(info.model.score(edited)[0])
    moved = [
        Change(feature=f, before=features[f].iloc[0], after=edited[f].iloc[0])
        for f in cs.feature_names
        if _differs(features[f].iloc[0], edited[f].iloc[0])
    ]
    return WhatIf(
        score_before=before,
        score_after=after,
        feasible=bool(check.ok[0]),
        problems=problems,
        cost=float(cs.cost(features, edited)[0]),
        actions=actions_of(cs, moved),
    )


def _differs(a: Any, b: Any) -> bool:
    if pd.api.types.is_scalar(a) and pd.api.types.is_scalar(b) and pd.isna(a) and pd.isna(b):
        return False  # missing before and after: unchanged
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return not np.isclose(float(a), float(b), rtol=1e-9, atol=1e-12)
    return bool(a != b)
