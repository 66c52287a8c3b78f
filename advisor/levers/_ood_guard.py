"""The out-of-distribution guard: distance to the nearest reference clients, against their own.

Every reference client of a product's population is placed in the engines' scaled space
(:func:`counterfactuals.metrics.proximity`: a numeric feature divided by its median absolute
deviation, a category one-hot at half weight so that two different categories are 1 apart, a
missing value its own indicator 1 apart). A point's measure is its mean L1 distance to the
``n_neighbours`` nearest reference clients; the threshold is the ``quantile`` of the same
measure over a seeded sample of reference clients, each measured against the others. The
client and every lever's result are measured in one batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from advisor.errors import AdvisorError
from advisor.levers._ood import OutOfDistribution
from advisor.levers._wording import feature_label
from constraints import ConstraintError, ConstraintSet

__all__ = [
    "MIN_REFERENCE",
    "N_CALIBRATION",
    "OOD_NEIGHBOURS",
    "OOD_QUANTILE",
    "OodGuard",
    "fit_ood_guard",
]

FloatArray = NDArray[np.float64]

OOD_NEIGHBOURS = 10  # nearest reference clients the distance is averaged over
OOD_QUANTILE = 0.99  # a point farther than 99 % of the reference clients is far
N_CALIBRATION = 2_000  # reference clients (a seeded sample) the threshold is measured on
MIN_REFERENCE = 30  # fewer reference clients: no verdict
_FAR = 1e12  # a scaled value beyond this counts as this (distances stay finite)
_BLOCK_CELLS = 4_000_000  # distances held at once (32 MB): points per block = this / clients
_N_NAMED = 2  # features named in a warning at most
_NAMED_SHARE = 0.2  # a second feature is named when it makes at least this share of the distance


@dataclass(frozen=True, slots=True, kw_only=True)
class _Space:
    """How codes become the scaled columns (one block of columns per feature)."""

    constraints: ConstraintSet
    fill: FloatArray  # the value a missing code takes (the reference median)
    indicator: NDArray[np.bool_]  # features with a missing-value column
    low: FloatArray  # reference minimum and maximum of each code
    high: FloatArray
    rare_low: FloatArray  # the 1st and 99th percentiles
    rare_high: FloatArray

    def columns(self, codes: FloatArray) -> tuple[FloatArray, NDArray[np.int64]]:
        """Return the scaled columns of ``codes`` (n, d) and each column's feature position."""
        scales = self.constraints.scales
        blocks: list[FloatArray] = []
        owner: list[int] = []
        for j, spec in enumerate(self.constraints.features):
            values = codes[:, j]
            missing = np.isnan(values)
            if spec.kind == "categorical":
                hot = values[:, None] == np.arange(len(spec.categories))[None, :]
                blocks.append(0.5 * hot.astype(np.float64))
                owner += [j] * len(spec.categories)
            else:
                scaled = np.where(missing, self.fill[j], values) / scales[j]
                blocks.append(np.clip(scaled, -_FAR, _FAR)[:, None])  # 1e308 stays finite
                owner.append(j)
            if self.indicator[j]:
                blocks.append(missing.astype(np.float64)[:, None])
                owner.append(j)
        return np.hstack(blocks), np.asarray(owner, dtype=np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class OodGuard:
    """A product's reference clients in the scaled space, with the calibrated threshold."""

    space: _Space
    reference: FloatArray
    owner: NDArray[np.int64]
    threshold: float
    n_neighbours: int
    quantile: float

    def columns(self, codes: FloatArray) -> FloatArray:
        """Return the scaled columns of ``codes`` (n, d): where the distances are measured."""
        return self.space.columns(codes)[0]

    def measure(self, points: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return each point's mean distance and each feature's share of it, (n,) and (n, d)."""
        columns, _ = self.space.columns(points)
        _, near = _nearest(columns, self.reference, self.n_neighbours)
        gaps = np.abs(columns[:, None, :] - self.reference[near]).mean(axis=1)  # (n, columns)
        per_feature = np.zeros((len(points), self.space.constraints.n_features))
        np.add.at(per_feature.T, self.owner, gaps.T)
        return per_feature.sum(axis=1), per_feature

    def check(self, client: pd.DataFrame, levers: Sequence[Mapping[Any, Any]]) -> OutOfDistribution:
        """Return the verdict for the client (one-row frame) and the client after each lever."""
        cs = self.space.constraints
        rows: list[Mapping[Any, Any]] = [client[list(cs.feature_names)].iloc[0].to_dict()]
        rows += levers
        try:
            codes = cs.to_array(
                pd.DataFrame([{f: row[f] for f in cs.feature_names} for row in rows])
            )
        except (KeyError, ConstraintError) as exc:
            raise AdvisorError(f"client: {exc}") from exc
        distance, per_feature = self.measure(codes)
        far = distance > self.threshold
        named = [_furthest(per_feature[i]) if far[i] else () for i in range(len(rows))]
        words = [
            _reason(self.space, codes[i], named[i], lever=i > 0) if far[i] else None
            for i in range(len(rows))
        ]
        return OutOfDistribution(
            client=bool(far[0]),
            levers=tuple(bool(f) for f in far[1:]),
            distance=float(distance[0]),
            lever_distances=tuple(float(d) for d in distance[1:]),
            threshold=self.threshold,
            quantile=self.quantile,
            n_neighbours=self.n_neighbours,
            features=tuple(cs.feature_names[j] for j in named[0]),
            lever_features=tuple(tuple(cs.feature_names[j] for j in n) for n in named[1:]),
            reason=words[0],
            lever_reasons=tuple(words[1:]),
        )


def fit_ood_guard(
    constraints: ConstraintSet,
    reference: pd.DataFrame,
    *,
    seed: int = 0,
    n_neighbours: int = OOD_NEIGHBOURS,
    quantile: float = OOD_QUANTILE,
) -> OodGuard | None:
    """Place the reference clients in the scaled space and calibrate the threshold.

    Returns ``None`` with fewer than :data:`MIN_REFERENCE` reference clients (too few to
    say what is usual). The threshold is measured on at most :data:`N_CALIBRATION`
    reference clients drawn with ``seed``, each against all the others.
    """
    if not isinstance(reference, pd.DataFrame):
        raise AdvisorError(f"reference: must be a DataFrame. Got {type(reference).__name__}.")
    if len(reference) < MIN_REFERENCE:
        return None
    missing = [f for f in constraints.feature_names if f not in reference.columns]
    if missing:
        raise AdvisorError(
            f"reference: must hold every feature of the constraint file. Got none for "
            f"{', '.join(missing[:5])}."
        )
    try:
        codes = constraints.to_array(reference[list(constraints.feature_names)])
    except ConstraintError as exc:
        raise AdvisorError(f"reference: {exc}") from exc
    with warnings.catch_warnings():  # a feature missing for every client: all-NaN columns
        warnings.simplefilter("ignore", RuntimeWarning)
        fill = np.nan_to_num(np.nanmedian(codes, axis=0))
        low, high = np.nanmin(codes, axis=0), np.nanmax(codes, axis=0)
        rare_low, rare_high = np.nanquantile(codes, [0.01, 0.99], axis=0)
    indicator = np.array(
        [
            spec.missing == "keep" or bool(np.isnan(codes[:, j]).any())
            for j, spec in enumerate(constraints.features)
        ]
    )
    space = _Space(
        constraints=constraints,
        fill=fill,
        indicator=indicator,
        low=low,
        high=high,
        rare_low=rare_low,
        rare_high=rare_high,
    )
    columns, owner = space.columns(codes)
    k = min(n_neighbours, len(columns) - 1)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(columns), min(N_CALIBRATION, len(columns)), replace=False))
    distances, _ = _nearest(columns[sample], columns, k + 1)
    own = distances[:, 1:].mean(axis=1)  # each sampled client's nearest is itself, at 0
    return OodGuard(
        space=space,
        reference=columns,
        owner=owner,
        threshold=float(np.quantile(own, quantile)),
        n_neighbours=k,
        quantile=quantile,
    )


def _nearest(
    points: FloatArray, reference: FloatArray, k: int
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Return the L1 distances to the ``k`` nearest reference rows, nearest first, and their rows.

    Exact (every pair measured, in blocks of at most 4 million distances): in 40 to 50
    scaled columns a tree index is slower than measuring every pair.
    """
    from scipy.spatial.distance import cdist

    found_distances, found_rows = [], []
    block = max(1, _BLOCK_CELLS // len(reference))
    for start in range(0, len(points), block):
        distances = cdist(points[start : start + block], reference, "cityblock")
        rows = np.argpartition(distances, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(distances, rows, axis=1)
        order = np.lexsort((rows, near), axis=1)  # nearest first, ties by row
        found_distances.append(np.take_along_axis(near, order, axis=1))
        found_rows.append(np.take_along_axis(rows, order, axis=1))
    return np.vstack(found_distances), np.vstack(found_rows).astype(np.int64)


def _furthest(per_feature: FloatArray) -> tuple[int, ...]:
    """Return the features making most of the distance: the first, and the next worth naming."""
    order = np.argsort(-per_feature, kind="stable")
    total = float(per_feature.sum()) or 1.0
    named = [int(order[0])]
    for j in order[1:_N_NAMED]:
        if per_feature[j] >= _NAMED_SHARE * total:
            named.append(int(j))
    return tuple(named)


_WHERE = {  # how a value lies among the reference clients' values
    "above": {"en": "above any of them", "fr": "au-dessus de tous"},
    "below": {"en": "below any of them", "fr": "en dessous de tous"},
    "rare_above": {"en": "above almost all of them", "fr": "au-dessus de presque tous"},
    "rare_below": {"en": "below almost all of them", "fr": "en dessous de presque tous"},
}


def _detail(space: _Space, code: float, j: int) -> dict[str, str]:
    """Say how one feature differs: above or below (almost) every reference client, or unusual."""
    spec = space.constraints.features[j]
    label = feature_label(space.constraints, spec.name)
    where = None
    if spec.kind != "categorical" and not np.isnan(code):
        for name, outside in (
            ("above", code > space.high[j]),
            ("below", code < space.low[j]),
            ("rare_above", code > space.rare_high[j]),
            ("rare_below", code < space.rare_low[j]),
        ):
            if outside:
                where = _WHERE[name]
                break
    if where is None:
        return {
            "en": f"{label['en']}: an unusual value",
            "fr": f"{label['fr']} : valeur inhabituelle",
        }
    return {lang: f"{label[lang]} {where[lang]}" for lang in ("en", "fr")}


def _reason(
    space: _Space, codes: FloatArray, named: tuple[int, ...], *, lever: bool
) -> dict[str, str]:
    """Return the warning for one far point, naming its furthest features."""
    details = [_detail(space, float(codes[j]), j) for j in named]
    en = "; ".join(d["en"] for d in details)
    fr = "; ".join(d["fr"] for d in details)
    if lever:
        return {
            "en": f"After this lever the client would be unlike the clients the model learned "
            f"from ({en}): treat its score with care.",
            "fr": f"Après ce levier, le client ne ressemblerait plus aux clients sur lesquels "
            f"le modèle a appris ({fr}) : son score est à prendre avec prudence.",
        }
    return {
        "en": f"This client is unlike the clients the model learned from ({en}): treat the "
        "score and levers with care.",
        "fr": f"Ce client ne ressemble pas aux clients sur lesquels le modèle a appris ({fr}) : "
        "le score et les leviers sont à prendre avec prudence.",
    }
