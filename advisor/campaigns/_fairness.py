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
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from advisor.campaigns._fairness_types import (
    FAIRNESS_COLUMNS,
    AttributeGap,
    FairnessReport,
    GroupStats,
    attribute_gap,
    fairness_notes,
    flag_groups,
)
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

MISSING = "missing"
SEARCHED = ("lever", "none-proved", "none-not-found")


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
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
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
        Per group figures, per attribute gaps, flags and notes in English (French:
        :meth:`FairnessReport.flag_texts`, :meth:`FairnessReport.note_texts`).
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
        gaps[name] = attribute_gap(name, grouping, stats, options["min_group_size"])
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
        notes=fairness_notes(
            names,
            asked,
            tolerance=options["tolerance"],
            min_group_size=options["min_group_size"],
            age_feature=age,
            age_bands=options["age_bands"],
        ),
        attributes=tuple(names),
        attributes_asked=asked,
    )
