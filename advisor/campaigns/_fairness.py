"""Fairness of recourse: coverage and cost of the cheapest levers per protected group.

For each protected attribute of the constraint file (``protected: true``) and for age bands,
the segment's clients are split into groups; per group: how many were searched, how many got
a lever (coverage), the mean and median cost of their cheapest lever and its mean uplift.
The per-group figures are computed by fairlearn's :class:`~fairlearn.metrics.MetricFrame`.
A group is flagged when its burden exceeds another group's by more than ``tolerance``
(relative: cost ratio above ``1 + tolerance``, or coverage below ``1 / (1 + tolerance)`` of
another group's, the four-fifths rule at the default 0.25). Groups with fewer than
``min_group_size`` clients are reported but never flagged.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import CampaignError
from constraints import (
    AnyOf,
    ConstraintSet,
    FeatureSpec,
    InstanceOf,
    Number,
    ParamSpec,
    TupleOf,
    Whole,
    check_params,
)

__all__ = [
    "FAIRNESS_COLUMNS",
    "FAIRNESS_PARAMS",
    "AttributeGap",
    "FairnessReport",
    "GroupStats",
    "fairness_report",
]

FAIRNESS_PARAMS: ParamSpec = {
    "tolerance": Number(0.0, 10.0, low_open=True),
    "age_feature": (InstanceOf((str,), "a feature name"), None),
    "age_bands": (
        TupleOf(Number(), "finite numbers"),
        AnyOf(lambda v: isinstance(v, tuple) and not v, "() for none"),
    ),
    "attributes": (TupleOf(InstanceOf((str,), "a feature name"), "feature names"), None),
    "min_group_size": Whole(1, 1_000_000),
}
"""The rules of :func:`fairness_report`'s parameters."""

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

MISSING = "missing"
SEARCHED = ("lever", "none-proved", "none-not-found")


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
def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


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


def _gap(
    attribute: str, grouping: str, stats: Sequence[GroupStats], min_group_size: int
) -> AttributeGap:
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


# --------------------------------------------------------------------------- groups
def _number(value: float) -> str:
    return f"{value:g}"


def _band_labels(values: pd.Series, edges: Sequence[float]) -> tuple[pd.Series, list[str]]:
    """Label each value with its band: ``< e0``, ``[e0, e1)``, ..., ``>= ek``; and their order."""
    names = [f"< {_number(edges[0])}"]
    names += [f"[{_number(a)}, {_number(b)})" for a, b in itertools.pairwise(edges)]
    names.append(f">= {_number(edges[-1])}")
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    position = np.searchsorted(np.asarray(edges, dtype=np.float64), numbers, side="right")
    labels = np.array(names, dtype=object)[np.minimum(position, len(names) - 1)]
    labels[np.isnan(numbers)] = MISSING
    return pd.Series(labels, index=values.index, dtype=object), _ordered(
        pd.Series(labels, dtype=object), names
    )


def _quartile_labels(values: pd.Series) -> tuple[pd.Series, list[str]]:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    known = numbers[~np.isnan(numbers)]
    edges = np.unique(np.quantile(known, [0.25, 0.5, 0.75])) if len(known) else np.zeros(0)
    if not len(edges):
        labels = pd.Series(np.where(np.isnan(numbers), MISSING, "all"), index=values.index)
        return labels.astype(object), ["all"]
    return _band_labels(values, [float(e) for e in edges])


def _value_labels(values: pd.Series, spec: FeatureSpec) -> tuple[pd.Series, list[str]]:
    def label(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return MISSING
        if isinstance(value, (bool, np.bool_)) and len(spec.categories) == 2:
            return str(spec.categories[int(bool(value))])
        return str(value.item() if isinstance(value, np.generic) else value)

    labels = values.astype(object).map(label)
    known = [str(c) for c in spec.categories]
    return labels, _ordered(labels, known)


def _ordered(labels: pd.Series, known: list[str]) -> list[str]:
    present = set(labels)
    order = [c for c in known if c in present]
    rest = [c for c in pd.unique(labels) if c not in order and c != MISSING]
    return order + rest + ([MISSING] if MISSING in present else [])


def _metric_frame(per_client: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Per-group figures through fairlearn's MetricFrame (one row per group present)."""
    from fairlearn.metrics import MetricFrame

    def n_segment(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(len(y_true))

    def n_searched(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.sum(y_true))

    def n_advised(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.sum(y_pred))

    def coverage(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        searched = np.sum(y_true)
        return float(np.sum(y_pred) / searched) if searched else math.nan

    def over_levers(how: Any) -> Any:
        def metric(y_true: np.ndarray, y_pred: np.ndarray, value: np.ndarray) -> float:
            chosen = value[np.asarray(y_pred, dtype=bool)]
            return float(how(chosen)) if len(chosen) else math.nan

        return metric

    cost, uplift = per_client["cost"].to_numpy(), per_client["uplift"].to_numpy()
    frame = MetricFrame(
        metrics={
            "n_segment": n_segment,
            "n_searched": n_searched,
            "n_advised": n_advised,
            "coverage": coverage,
            "mean_cost": over_levers(np.mean),
            "median_cost": over_levers(np.median),
            "mean_uplift": over_levers(np.mean),
        },
        y_true=per_client["searched"].to_numpy(np.int64),
        y_pred=per_client["advised"].to_numpy(np.int64),
        sensitive_features=pd.Series(labels.to_numpy(), name="group"),
        sample_params={
            "mean_cost": {"value": cost},
            "median_cost": {"value": cost},
            "mean_uplift": {"value": uplift},
        },
    )
    by_group: pd.DataFrame = frame.by_group
    return by_group


def _stats(
    attribute: str, per_client: pd.DataFrame, labels: pd.Series, order: list[str]
) -> list[GroupStats]:
    table = _metric_frame(per_client, labels).to_dict("index")
    return [
        GroupStats(
            attribute=attribute,
            group=str(group),
            n_segment=int(table[group]["n_segment"]),
            n_searched=int(table[group]["n_searched"]),
            n_advised=int(table[group]["n_advised"]),
            coverage=_maybe(table[group]["coverage"]),
            mean_cost=_maybe(table[group]["mean_cost"]),
            median_cost=_maybe(table[group]["median_cost"]),
            mean_uplift=_maybe(table[group]["mean_uplift"]),
        )
        for group in order
        if group in table
    ]


def _maybe(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


# --------------------------------------------------------------------------- the report
def _checked(
    cs: ConstraintSet,
    tolerance: Any,
    age_feature: Any,
    age_bands: Any,
    attributes: Any,
    min_group_size: Any,
) -> dict[str, Any]:
    values = {
        "tolerance": tolerance,
        "age_feature": age_feature,
        "age_bands": tuple(age_bands) if isinstance(age_bands, list) else age_bands,
        "attributes": tuple(attributes) if isinstance(attributes, list) else attributes,
        "min_group_size": min_group_size,
    }
    options = check_params(values, FAIRNESS_PARAMS, where="fairness", error=CampaignError)
    bands = options["age_bands"]
    if any(not a < b for a, b in itertools.pairwise(bands)):
        raise CampaignError(
            f"fairness.age_bands: must be strictly increasing band edges such as (18, 30, 45, "
            f"60). Got {bands!r}."
        )
    names = cs.feature_names
    for name in options["attributes"] or ():
        if name not in names:
            raise CampaignError(
                f"fairness.attributes: must name features of the constraint file. Got "
                f"{name!r}. Hint: one of {', '.join(names)}."
            )
    age = options["age_feature"]
    if age is not None:
        if age not in names:
            raise CampaignError(
                f"fairness.age_feature: must name a feature of the constraint file. Got {age!r}."
            )
        if cs.feature(age).kind not in ("continuous", "integer"):
            raise CampaignError(
                f"fairness.age_feature: must be a numeric feature (continuous or integer). Got "
                f"{age!r} of kind {cs.feature(age).kind}."
            )
        if not bands:
            raise CampaignError(
                f"fairness.age_bands: must hold band edges when age_feature is given. Got () "
                f"with age_feature {age!r}."
            )
    elif bands and "age" in names and cs.feature("age").kind in ("continuous", "integer"):
        options["age_feature"] = "age"
    return options


def _per_client(result: Any) -> pd.DataFrame:
    rows = [
        {
            "searched": outcome.status.value in SEARCHED,
            "advised": bool(outcome.levers),
            "cost": outcome.levers[0].cost if outcome.levers else math.nan,
            "uplift": outcome.levers[0].uplift if outcome.levers else math.nan,
        }
        for outcome in result.outcomes
    ]
    return pd.DataFrame(rows, columns=["searched", "advised", "cost", "uplift"])


def _notes(attributes: Sequence[str], asked: bool, options: Mapping[str, Any]) -> tuple[str, ...]:
    tolerance, size = options["tolerance"], options["min_group_size"]
    which = ", ".join(attributes) if attributes else "none"
    notes = [
        f"Attributes asked for: {which}."
        if asked
        else f"Protected attributes of the constraint file: {which}."
    ]
    age = options["age_feature"]
    if age is None:
        notes.append("No age bands (no numeric feature named 'age'; pass age_feature).")
    else:
        edges = ", ".join(_number(b) for b in options["age_bands"])
        notes.append(f"Age bands from the feature '{age}', edges {edges} (lower edge included).")
    notes.append(
        f"Groups with fewer than {size} searched clients are not compared on coverage, with "
        f"fewer than {size} advised clients not compared on cost: they are reported, never "
        "flagged. Other numeric protected attributes are split at their quartiles."
    )
    notes.append(
        f"A group is flagged when its mean cost is above {1 + tolerance:.2f}x another group's, "
        f"or its coverage below {1 / (1 + tolerance):.0%} of another group's (tolerance "
        f"{tolerance:g})."
    )
    return tuple(notes)


def fairness_report(
    result: Any,
    *,
    tolerance: float = 0.25,
    age_feature: str | None = None,
    age_bands: Sequence[float] = (18, 30, 45, 60),
    attributes: Sequence[str] | None = None,
    min_group_size: int = 30,
) -> FairnessReport:
    """Report coverage and cost of the cheapest levers per protected group, with flags.

    Parameters
    ----------
    result
        A :class:`~advisor.campaigns.CampaignResult` with its context (the campaign and its
        clients, as :meth:`Campaign.run <advisor.campaigns.Campaign.run>` returns it).
    tolerance
        How much more burden one group may bear than another before it is flagged, in
        (0, 10]: a mean cost above ``1 + tolerance`` times another group's, or a coverage
        below ``1 / (1 + tolerance)`` of another group's (0.25: the four-fifths rule).
    age_feature
        The numeric feature to cut into age bands; ``None``: the feature named ``age`` when
        the constraint file has one (numeric), else no age bands.
    age_bands
        Increasing band edges (lower edge included): ``(18, 30, 45, 60)`` gives ``< 18``,
        ``[18, 30)``, ``[30, 45)``, ``[45, 60)`` and ``>= 60``; ``()`` for no age bands.
    attributes
        The features to split by; ``None``: the constraint file's protected attributes.
        Categorical, binary and ordinal features are split by value, other numeric ones at
        their quartiles (the age feature by ``age_bands``).
    min_group_size
        Groups with fewer searched (for coverage) or advised (for cost) clients are
        reported but never compared nor flagged.

    Returns
    -------
    FairnessReport
        Per group figures, per attribute gaps, flags in English, notes.
    """
    context = result.require_context("fairness")
    cs: ConstraintSet = context.campaign.info.constraints
    options = _checked(cs, tolerance, age_feature, age_bands, attributes, min_group_size)
    clients: pd.DataFrame = context.clients
    if len(clients) != len(result.outcomes):
        raise CampaignError(
            f"fairness: the result's clients must match its outcomes. Got {len(clients)} "
            f"clients for {len(result.outcomes)} outcomes."
        )
    asked = options["attributes"] is not None
    names = list(
        dict.fromkeys(options["attributes"] or [f.name for f in cs.features if f.protected])
    )
    age = options["age_feature"]
    per_client = _per_client(result)
    groups: list[GroupStats] = []
    gaps: dict[str, AttributeGap] = {}
    flags: list[str] = []
    plan = [n for n in names if n != age] + ([age] if age is not None else [])
    for name in plan:
        spec = cs.feature(name)
        column = clients[name].reset_index(drop=True)
        if name == age:
            (labels, order), grouping = _band_labels(column, options["age_bands"]), "age bands"
        elif spec.kind in ("continuous", "integer"):
            (labels, order), grouping = _quartile_labels(column), "quartiles"
        else:
            (labels, order), grouping = _value_labels(column, spec), "values"
        stats = _stats(name, per_client, labels, order)
        marked, sentences = flag_groups(stats, options["tolerance"], options["min_group_size"])
        groups += [replace(s, flagged=True) if s.group in marked else s for s in stats]
        gaps[name] = _gap(name, grouping, stats, options["min_group_size"])
        flags += sentences
    return FairnessReport(
        product=str(result.product),
        tolerance=options["tolerance"],
        min_group_size=options["min_group_size"],
        age_feature=age,
        age_bands=tuple(float(b) for b in options["age_bands"]) if age is not None else (),
        groups=tuple(groups),
        gaps=gaps,
        flags=tuple(flags),
        notes=_notes(names, asked, options),
    )
