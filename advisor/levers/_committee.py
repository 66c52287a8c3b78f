"""Robust levers under a committee of refits: a lever must hold on k retrained models too.

``Advisor(robust_refits=k)`` refits k copies of each product's model (the bundle winner's
family and hyper-parameters, and XGBoost's monotone signs) on k seeded bootstrap resamples of
the product's reference clients, each calibrated (the bundle's method) on the rows its
resample left out. The search then sees one black-box model whose score is the least
favourable over the committee (the bundle's model and the k refits): the minimum for a
propensity, the maximum for a risk score. A lever found that way reaches the goal on every
member; each is re-scored on the bundle's model alone, which is the score the client is shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.errors import AdvisorError, ModelError
from advisor.levers._goal import goal_reached
from advisor.levers._products import Population, ProductInfo
from advisor.models import PropensityModel
from counterfactuals import CounterfactualResult, ModelAdapter, Status

__all__ = ["Committee", "check_committee_engine", "fit_committee"]

FloatArray = NDArray[np.float64]
MIN_OUT_OF_BAG = 2  # rows of each class a refit's calibration needs at least


def check_committee_engine(engine: str, refits: int) -> None:
    """Refuse an engine that needs the model's structure when the committee is on."""
    if refits and engine not in ("auto", "search"):
        raise AdvisorError(
            f"engine: must be 'auto' or 'search' with robust_refits (the committee is a "
            f"black box to the search). Got {engine!r} with robust_refits={refits}. Hint: "
            f"engine='auto', or robust_refits=0."
        )


@dataclass(frozen=True, slots=True)
class Committee:
    """The bundle's model and its refits; the search's score is the least favourable one."""

    model: PropensityModel
    refits: tuple[PropensityModel, ...]
    direction: Literal["raise", "lower"]

    @property
    def members(self) -> tuple[PropensityModel, ...]:
        """The bundle's model first, then the refits."""
        return (self.model, *self.refits)

    def score_codes(self, codes: FloatArray) -> FloatArray:
        """Return the least favourable member's score per row (min, or max for a risk)."""
        scores = np.vstack([m.score_codes(codes) for m in self.members])
        worst = scores.max(axis=0) if self.direction == "lower" else scores.min(axis=0)
        return np.asarray(worst, dtype=np.float64)

    def adapter(self) -> ModelAdapter:
        """Return the committee as engines see a black box (no structure: search only)."""
        space = self.model.space

        def proba(codes: FloatArray) -> FloatArray:
            p = self.score_codes(codes)
            return np.column_stack([1.0 - p, p])

        return ModelAdapter(
            space=space,
            outputs=tuple(self.model.classes),
            proba_codes=proba,
            proba_frame=lambda frame: proba(space.to_codes(frame)),
            family=f"committee of {len(self.members)} {self.model.family}",
        )

    def verified(self, result: CounterfactualResult, goal: float) -> CounterfactualResult:
        """Re-score the committee's levers on the bundle's model; keep those reaching ``goal``.

        The committee's score is never more favourable than the bundle model's, so none is
        dropped unless the two disagree on the encoding; the check is kept all the same.
        """
        if not result.counterfactuals:
            return result
        rows = [dict(cf.values) for cf in result.counterfactuals]
        names = list(self.model.feature_names)
        scores = self.model.score(pd.DataFrame(rows)[names].infer_objects())
        kept = tuple(
            replace(cf, score=float(s))
            for cf, s in zip(result.counterfactuals, scores, strict=True)
            if goal_reached(float(s), goal, self.direction)
        )
        baseline = float(self.model.score(pd.DataFrame([dict(result.query)])[names])[0])
        status = result.status if kept else Status.NONE
        reason = result.reason if kept else "no lever reached the goal on the bundle's model"
        return replace(
            result, counterfactuals=kept, baseline_score=baseline, status=status, reason=reason
        )


def _monotone(model: PropensityModel) -> tuple[int, ...] | None:
    """Return the bundle's XGBoost monotone signs (from the booster's config), else ``None``."""
    booster = getattr(model.estimator, "booster", None)
    if booster is None:
        return None
    try:
        config = json.loads(booster.save_config())
        text = config["learner"]["gradient_booster"]["tree_train_param"]["monotone_constraints"]
    except (KeyError, TypeError, ValueError):
        return None
    signs = tuple(int(s) for s in str(text).strip("()[] ").split(",") if s.strip())
    return signs if any(signs) else None


def _labels(population: Population) -> NDArray[np.int64]:
    """Return the model's positive class (1) per reference client."""
    outcome = np.asarray(population.outcome, dtype=bool)
    positive = outcome if population.desired_positive else ~outcome
    return positive.astype(np.int64)


def fit_committee(
    info: ProductInfo, population: Population | None, refits: int, seed: int
) -> Committee:
    """Refit ``refits`` copies of the product's model on seeded bootstrap resamples.

    Each copy: the same family and parameters (XGBoost trains on its library setting of 2
    threads, predicts on 1), fitted with seed ``seed + i`` on resample ``i`` (drawn with
    ``numpy.random.default_rng(seed)``), calibrated by the bundle's method on the rows the
    resample left out.
    """
    if population is None or population.outcome is None or population.frame.empty:
        raise AdvisorError(
            f"robust_refits: needs the reference clients with their outcome "
            f"({info.target!r}) to refit {info.name!r}'s model. Got none. Hint: build the "
            f"advisor with reference=<the training portfolio>, or robust_refits=0."
        )
    model = info.model
    design = model.space.to_design(model.space.to_codes(population.frame))
    y = _labels(population)
    if min(int(y.sum()), int(len(y) - y.sum())) < 2 * MIN_OUT_OF_BAG:
        raise AdvisorError(
            f"robust_refits: {info.name!r} needs at least {2 * MIN_OUT_OF_BAG} reference "
            f"clients of each outcome to refit its model. Got {int(y.sum())} and "
            f"{int(len(y) - y.sum())}. Hint: robust_refits=0."
        )
    from advisor.models import FAMILIES  # the model libraries load with the committee

    family = FAMILIES[model.family]
    monotone = _monotone(model)
    rng = np.random.default_rng(seed)
    members: list[PropensityModel] = []
    for i in range(refits):
        drawn = rng.integers(0, len(y), size=len(y))
        members.append(_refit(model, family, (design, y), drawn, seed + i, monotone))
    return Committee(model=model, refits=tuple(members), direction=info.direction)


def _refit(
    model: PropensityModel,
    family: Any,
    data: tuple[FloatArray, NDArray[np.int64]],
    drawn: NDArray[np.int64],
    seed: int,
    monotone: Sequence[int] | None,
) -> PropensityModel:
    from advisor.models import fit_calibrator

    design, y = data
    left = np.ones(len(y), dtype=bool)
    left[drawn] = False
    if min(int(y[left].sum()), int((1 - y[left]).sum())) < MIN_OUT_OF_BAG:
        left = np.ones(len(y), dtype=bool)  # too few rows left out: calibrate on every row
    signs = tuple(monotone) if monotone is not None else None
    estimator = family.fit(design[drawn], y[drawn], model.params, seed, signs, model.space)
    try:
        calibrator = fit_calibrator(
            estimator.margin(design[left]), y[left], model.calibrator.method
        )
    except ModelError as exc:
        raise AdvisorError(f"robust_refits: a refit of {model.target!r} failed: {exc}") from exc
    return PropensityModel(
        space=model.space,
        estimator=estimator,
        calibrator=calibrator,
        params=dict(model.params),
        target=model.target,
        classes=model.classes,
    )
