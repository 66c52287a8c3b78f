"""The fairness report's types and its flag rule (pure functions of per-group figures)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import CampaignError

__all__ = [
    "FAIRNESS_COLUMNS",
    "AttributeGap",
    "FairnessReport",
    "GroupStats",
    "attribute_gap",
    "flag_groups",
]

FAIRNESS_COLUMNS = (
    "attribute",
    "group",
    "n_segment",
    "n_searched",
    "n_advised",
    "coverage",
    "mean_cost",
    "median_cost",
    "mean_uplift",
    "flagged",
)
"""The columns of :meth:`FairnessReport.to_frame`, in order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupStats:
    """One group of one attribute: counts, coverage, cost and uplift of the cheapest levers.

    ``coverage`` is advised / searched (``None`` when no client was searched); the cost and
    uplift figures are over the advised clients' cheapest levers (``None`` without any).
    """

    attribute: str
    group: str
    n_segment: int
    n_searched: int
    n_advised: int
    coverage: float | None
    mean_cost: float | None
    median_cost: float | None
    mean_uplift: float | None
    flagged: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeGap:
    """The gaps between the compared groups of one attribute.

    ``grouping`` says how groups were formed (``values``, ``age bands`` or ``quartiles``).
    Coverage is compared across groups with at least ``min_group_size`` searched clients
    (``n_compared_coverage``), cost across groups with at least ``min_group_size`` advised
    clients (``n_compared_cost``). ``coverage_gap`` is max - min coverage (points of share),
    ``coverage_ratio`` min / max coverage, ``cost_ratio`` max / min mean cost; each is
    ``None`` with fewer than two compared groups (``cost_ratio`` is ``inf`` when the cheapest
    group's mean cost is 0 and another's is not).
    """

    attribute: str
    grouping: str
    n_groups: int
    n_compared_coverage: int
    n_compared_cost: int
    coverage_gap: float | None
    coverage_ratio: float | None
    cost_ratio: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessReport:
    """The fairness of recourse of a campaign (see :func:`fairness_report`).

    ``groups`` holds every group of every attribute (in the attributes' order, groups in the
    constraint file's category order or band order); ``gaps`` one entry per attribute;
    ``flags`` one English sentence per flagged comparison; ``notes`` what was compared and
    how (which attributes, which age feature, the minimum group size).
    """

    product: str
    tolerance: float
    min_group_size: int
    age_feature: str | None
    age_bands: tuple[float, ...]
    groups: tuple[GroupStats, ...]
    gaps: Mapping[str, AttributeGap]
    flags: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per group, columns :data:`FAIRNESS_COLUMNS` (missing figures are NaN)."""
        rows = [asdict(g) for g in self.groups]
        frame = pd.DataFrame(rows, columns=list(FAIRNESS_COLUMNS))
        for name in ("coverage", "mean_cost", "median_cost", "mean_uplift"):
            frame[name] = pd.to_numeric(frame[name]).astype(np.float64)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (JSON-serialisable; ``inf`` written as a string)."""
        return {
            "product": self.product,
            "tolerance": self.tolerance,
            "min_group_size": self.min_group_size,
            "age_feature": self.age_feature,
            "age_bands": list(self.age_bands),
            "groups": [asdict(g) for g in self.groups],
            "gaps": {name: _gap_dict(gap) for name, gap in self.gaps.items()},
            "flags": list(self.flags),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FairnessReport:
        """Rebuild a report from :meth:`to_dict`; malformed data gets a CampaignError."""
        try:
            return cls(
                product=str(data["product"]),
                tolerance=float(data["tolerance"]),
                min_group_size=int(data["min_group_size"]),
                age_feature=data["age_feature"],
                age_bands=tuple(float(b) for b in data["age_bands"]),
                groups=tuple(GroupStats(**g) for g in data["groups"]),
                gaps={
                    name: AttributeGap(**(gap | {"cost_ratio": _unjson(gap["cost_ratio"])}))
                    for name, gap in data["gaps"].items()
                },
                flags=tuple(str(f) for f in data["flags"]),
                notes=tuple(str(n) for n in data.get("notes", ())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CampaignError(
                f"fairness report: must be the data of FairnessReport.to_dict(). Got an error: "
                f"{exc!r}."
            ) from exc


def _gap_dict(gap: AttributeGap) -> dict[str, Any]:
    data = asdict(gap)
    if data["cost_ratio"] is not None and math.isinf(data["cost_ratio"]):
        data["cost_ratio"] = "inf"
    return data


def _unjson(value: Any) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- the flag rule
def flag_groups(
    stats: Sequence[GroupStats], tolerance: float, min_group_size: int
) -> tuple[frozenset[str], tuple[str, ...]]:
    """Return the flagged groups of one attribute and one sentence per flagged comparison.

    A group is flagged when, among groups large enough to compare, its mean cost is above
    ``1 + tolerance`` times the cheapest group's (both with ``min_group_size`` advised
    clients or more), or its coverage is below ``1 / (1 + tolerance)`` of the best covered
    group's (both with ``min_group_size`` searched clients or more).
    """
    limit = 1.0 + tolerance
    flagged: set[str] = set()
    sentences: list[str] = []
    costed = [s for s in stats if s.n_advised >= min_group_size and s.mean_cost is not None]
    if len(costed) >= 2:
        low = min(costed, key=lambda s: s.mean_cost or 0.0)
        low_cost = low.mean_cost or 0.0
        for s in costed:
            cost = s.mean_cost or 0.0
            if cost > limit * low_cost:
                flagged.add(s.group)
                ratio = "infinitely many times" if low_cost == 0 else f"{cost / low_cost:.2f}x"
                sentences.append(
                    f"{s.attribute}: group '{s.group}' bears a mean lever cost of {cost:.2f}, "
                    f"{ratio} that of group '{low.group}' ({low_cost:.2f}); above the "
                    f"tolerance of {limit:.2f}x (cost ratio > 1 + tolerance {tolerance:g})."
                )
    covered = [s for s in stats if s.n_searched >= min_group_size and s.coverage is not None]
    if len(covered) >= 2:
        high = max(covered, key=lambda s: s.coverage or 0.0)
        best = high.coverage or 0.0
        for s in covered:
            share = s.coverage or 0.0
            if best > limit * share:
                flagged.add(s.group)
                sentences.append(
                    f"{s.attribute}: group '{s.group}' has a coverage of {share:.1%}, below "
                    f"{1 / limit:.0%} of group '{high.group}' ({best:.1%}; coverage ratio "
                    f"{share / best:.2f} < 1 / (1 + tolerance {tolerance:g}))."
                )
    return frozenset(flagged), tuple(sentences)


def attribute_gap(
    attribute: str, grouping: str, stats: Sequence[GroupStats], min_group_size: int
) -> AttributeGap:
    """Return the gaps between the groups of one attribute large enough to compare."""
    covered = [s.coverage for s in stats if s.n_searched >= min_group_size]
    shares = [c for c in covered if c is not None]
    costs = [
        s.mean_cost for s in stats if s.n_advised >= min_group_size and s.mean_cost is not None
    ]
    cost_ratio = None
    if len(costs) >= 2:
        cost_ratio = (
            max(costs) / min(costs) if min(costs) > 0 else (1.0 if max(costs) == 0 else math.inf)
        )
    return AttributeGap(
        attribute=attribute,
        grouping=grouping,
        n_groups=len(stats),
        n_compared_coverage=len(shares),
        n_compared_cost=len(costs),
        coverage_gap=max(shares) - min(shares) if len(shares) >= 2 else None,
        coverage_ratio=(
            (min(shares) / max(shares) if max(shares) > 0 else 1.0) if len(shares) >= 2 else None
        ),
        cost_ratio=cost_ratio,
    )
