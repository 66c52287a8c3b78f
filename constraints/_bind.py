"""Bind a validated constraint file to data: percentiles become numbers, costs get scales."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from constraints._domain import check_domain, shown_rows, shown_values
from constraints._encode import encode_column
from constraints._limits import MAX_NUMBER, MAX_NUMBER_TEXT
from constraints._resolve import category_labels, resolve_condition, resolve_linear
from constraints._schema import (
    PERCENT_PATTERN,
    PERCENTILE_PATTERN,
    ConstraintFile,
    DecimalsModel,
    FeatureModel,
    ImputeModel,
)
from constraints._types import (
    CategoryValue,
    ChangeGroup,
    DerivedFeature,
    FeatureSpec,
    LinearClause,
    OneHotGroup,
    Rule,
    Text,
)
from constraints._yaml_source import SourceMap
from constraints.errors import ConstraintError, FileProblem

NumberFormat = Literal["auto", "percent", "currency", "integer", "decimals"]

__all__ = ["Bound", "FeatureSupport", "bind_document"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSupport:
    """What the data says about one feature: sampling range and quantiles (for costs)."""

    low: float
    high: float
    quantiles: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bound:
    """Everything a ConstraintSet is built from."""

    features: tuple[FeatureSpec, ...]
    rules: tuple[Rule, ...]
    derived: tuple[DerivedFeature, ...]
    one_hot: tuple[OneHotGroup, ...]
    change_groups: tuple[ChangeGroup, ...]
    support: tuple[FeatureSupport | None, ...]
    notes: tuple[FileProblem, ...]


def _humanise(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


class _Binder:
    def __init__(self, doc: ConstraintFile, data: pd.DataFrame | None, smap: SourceMap) -> None:
        self.doc, self.data, self.smap = doc, data, smap
        self.problems: list[FileProblem] = []

    def add(
        self, path: tuple[Any, ...], message: str, hint: str = "", severity: str = "error"
    ) -> None:
        self.problems.append(
            self.smap.problem(path, message, hint, severity)  # type: ignore[arg-type]
        )

    def column(self, name: str, model: FeatureModel) -> np.ndarray | None:
        if self.data is None or name not in self.data.columns:
            return None
        probe = FeatureSpec(
            name=name,
            kind=model.kind,
            role="context",
            categories=tuple(category_labels(model))
            if model.kind != "binary" or model.values
            else (),
            missing="forbid" if model.missing == "forbid" else "keep",
        )
        try:
            return encode_column(probe, self.data[name])
        except ConstraintError as exc:
            message = str(exc).split(": ", 1)[1]
            self.add(
                ("features", name),
                message.split(" Hint: ")[0],
                message.split(" Hint: ")[1] if " Hint: " in message else "",
            )
            return None

    def bound_value(
        self, name: str, key: str, raw: Any, model: FeatureModel, values: np.ndarray | None
    ) -> float | None:
        if raw is None:
            return None
        if model.kind == "ordinal":
            return float([str(x) for x in category_labels(model)].index(str(raw)))
        if isinstance(raw, str) and PERCENTILE_PATTERN.match(raw):
            if values is None:
                if self.data is None:
                    self.add(
                        ("features", name, key),
                        f"a percentile bound needs data. Got {raw!r} with no data set.",
                        "bind the file to data (--data), or write a number.",
                    )
                return None
            q = float(np.percentile(values, float(raw[1:])))
            if model.kind == "integer":
                q = float(math.ceil(q - 1e-9) if key == "min" else math.floor(q + 1e-9))
            return q
        return float(raw)

    def observed(self, name: str, model: FeatureModel) -> tuple[np.ndarray | None, pd.Index]:
        """Return the feature's non-missing values and their rows (``None``: no usable column)."""
        values = self.column(name, model)
        index = self.data.index if self.data is not None else pd.RangeIndex(0)
        if values is None:
            return None, index
        present = ~np.isnan(values)
        if not present.all():
            values, index = values[present], index[present]
        if not len(values) and len(present):
            self.add(
                ("features", name, "missing"),
                f"a feature needs at least one known value in the data. Got {len(present):,} "
                "missing values and no other.",
                "drop the feature, or correct the data.",
            )
            return None, index
        return values, index

    def imputed(self, name: str, model: FeatureModel, values: np.ndarray | None) -> float:
        """Return the code replacing a missing value (``missing: {impute: ...}``), NaN if none."""
        if not isinstance(model.missing, ImputeModel) or values is None or not len(values):
            return math.nan
        if model.missing.impute == "median" and model.kind not in ("binary", "categorical"):
            if model.kind in ("integer", "ordinal"):
                return float(np.percentile(values, 50, method="lower"))
            return float(np.median(values))
        found, counts = np.unique(values, return_counts=True)
        return float(found[int(np.argmax(counts))])

    def feature(self, name: str, model: FeatureModel) -> tuple[FeatureSpec, FeatureSupport | None]:
        values, rows = self.observed(name, model)
        labels = tuple(category_labels(model)) if model.kind != "binary" or model.values else ()
        coded = model.kind in ("binary", "categorical", "ordinal")
        if values is not None and not coded and not self.finite(name, values, rows):
            values = None
        lower = self.bound_value(name, "min", model.min, model, values)
        upper = self.bound_value(name, "max", model.max, model, values)
        if values is not None and not coded:
            self.check_observed(name, model, values, (lower, upper), rows)
        if values is not None and model.kind in ("continuous", "integer", "ordinal"):
            moved = model.role == "actionable" or name in self.doc.derived
            check_domain(self.add, name, model, values, (lower, upper), rows, moved)
        if lower is not None and upper is not None and lower > upper:
            self.add(
                ("features", name),
                f"min must not exceed max once bound to data. Got "
                f"{model.min} = {lower:g} > {model.max} = {upper:g}.",
                "",
            )
            upper = lower
        scale, support = self.scale_and_support(name, model, values, lower, upper)
        per_unit, per_change, shift = self.costs(name, model, scale, support)
        max_abs, max_pct = _max_change(model)
        step = float(model.step) if model.step is not None else 0.0
        if model.kind == "integer":
            step = max(step, 1.0)
        label = (
            Text(en=model.label.en, fr=model.label.fr)
            if model.label
            else Text(en=_humanise(name), fr=_humanise(name))
        )
        lever, up, down = (
            Text(en=w.en, fr=w.fr) if w else None
            for w in (model.lever, model.lever_increase, model.lever_decrease)
        )
        number_format, decimals = _number_format(model)
        spec = FeatureSpec(
            name=name,
            kind=model.kind,
            role=model.role,
            protected=model.protected,
            direction=model.direction,
            lower=-math.inf if lower is None else lower,
            upper=math.inf if upper is None else upper,
            max_change=max_abs,
            max_change_percent=max_pct,
            step=step,
            categories=labels,
            transitions=_transitions(model, labels),
            cost_per_unit=per_unit,
            cost_per_change=per_change,
            cost_percentile_shift=shift,
            scale=scale,
            unit=model.unit,
            description=model.description,
            label=label,
            lever=lever,
            lever_increase=up,
            lever_decrease=down,
            format=number_format,
            decimals=decimals,
            min_change=float(model.min_change or 0.0),
            missing=model.missing if isinstance(model.missing, str) else "impute",
            imputed=self.imputed(name, model, values),
        )
        return spec, support

    def costs(
        self, name: str, model: FeatureModel, scale: float, support: FeatureSupport | None
    ) -> tuple[float, float, float]:
        """Return the cost per unit, per change and per percentile shift of a feature."""
        cost = model.cost
        if cost is None:
            per_unit = 0.0 if model.kind in ("binary", "categorical") else 1.0 / scale
            per_change = 1.0 if model.kind in ("binary", "categorical") else 0.0
            return per_unit, per_change, 0.0
        per_unit = (cost.per_unit or 0.0) + (cost.per_mad or 0.0) / scale
        shift = float(cost.percentile_shift or 0.0)
        if shift and support is None:
            self.add(
                ("features", name, "cost", "percentile_shift"),
                "a percentile-shift cost needs data. Got no data set.",
                "bind the file to data (--data), or use per_unit or per_mad.",
            )
        return per_unit, float(cost.per_change or 0.0), shift

    def check_observed(
        self,
        name: str,
        model: FeatureModel,
        values: np.ndarray,
        bounds: tuple[float | None, float | None],
        index: pd.Index,
    ) -> None:
        lower, upper = bounds
        lo, hi = float(values.min()), float(values.max())
        width = max(hi - lo, 1e-12)
        for key, bound in (("min", lower), ("max", upper)):
            if bound is None:
                continue
            raw = getattr(model, key)
            shown = f"{bound:g}" if not isinstance(raw, str) else f"{raw} = {bound:g}"
            if (key == "min" and bound > hi) or (key == "max" and bound < lo):
                continue  # no value within the bound: an error or warning of check_domain
            elif (key == "min" and bound == 0 and lo >= 0) or (
                key == "max" and bound == 0 and hi <= 0
            ):
                continue  # a natural zero floor (or ceiling) is not a unit mistake
            elif bound < lo - width or bound > hi + width:
                self.add(
                    ("features", name, key),
                    f"lies far outside the values observed in the "
                    f"data ({lo:g} to {hi:g}). Got {shown}.",
                    "check the unit; levers could reach values no client has.",
                    "warning",
                )
        fractions = values != np.rint(values)
        if model.kind == "integer" and fractions.any():
            self.add(
                ("features", name, "kind"),
                f"an integer feature must hold whole numbers. Got "
                f"{shown_values(values[fractions])} in {shown_rows(fractions, index)}.",
                "correct the data, or declare kind: continuous.",
            )

    def finite(self, name: str, values: np.ndarray, index: pd.Index) -> bool:
        """Whether every value is finite and at most MAX_NUMBER in size (else an error)."""
        bad = ~(np.abs(values) <= MAX_NUMBER)
        if not bad.any():
            return True
        self.add(
            ("features", name),
            f"data values must be finite numbers, at most {MAX_NUMBER_TEXT} in size. Got "
            f"{shown_values(values[bad])} in {shown_rows(bad, index)}.",
            "correct or drop these rows (a text such as 'inf', or a number such as 1e309, "
            "is read as infinity).",
        )
        return False

    def scale_and_support(
        self,
        name: str,
        model: FeatureModel,
        values: np.ndarray | None,
        lower: float | None,
        upper: float | None,
    ) -> tuple[float, FeatureSupport | None]:
        if values is None or len(values) == 0:
            if model.kind in ("binary", "categorical"):
                return 1.0, None
            if model.kind == "ordinal":
                return max(1.0, (len(category_labels(model)) - 1) / 4), None
            if lower is not None and upper is not None and upper > lower:
                return (upper - lower) / 4, None
            return 1.0, None
        median = float(np.median(values))
        deviation = np.abs(values - median)
        scale = float(np.median(deviation))
        if scale <= 0:
            scale = float(deviation.mean())
        if not scale > 0:
            scale = 1.0
        grid = np.linspace(0.0, 100.0, 201)
        quantiles = np.percentile(values, grid)
        low, high = np.percentile(values, [0.5, 99.5])
        support = FeatureSupport(
            low=float(low), high=float(high), quantiles=tuple(float(q) for q in quantiles)
        )
        return (1.0 if model.kind in ("binary", "categorical") else scale), support

    def rules(self) -> tuple[Rule, ...]:
        out = []
        for i, item in enumerate(self.doc.rules):
            condition = resolve_condition(item.if_, self.doc.features) if item.if_ else ()
            requirement = resolve_condition(item.require, self.doc.features)
            names: list[str] = []
            for clause in (c for alternative in (*condition, *requirement) for c in alternative):
                found = (
                    [n for n, _ in clause.terms]
                    if isinstance(clause, LinearClause)
                    else [clause.feature]
                )
                names.extend(n for n in found if n not in names)
            text = f"if {item.if_} then {item.require}" if item.if_ else item.require
            out.append(
                Rule(
                    name=item.name or f"rule {i + 1}",
                    condition=condition,
                    requirement=requirement,
                    text=text,
                    description=item.description,
                    features=tuple(names),
                )
            )
        return tuple(out)


def _number_format(model: FeatureModel) -> tuple[NumberFormat, int]:
    """Return the feature's number format and decimals (``auto`` when the file gives none)."""
    if model.format is None:
        return "auto", 0
    if isinstance(model.format, DecimalsModel):
        return "decimals", model.format.decimals
    return model.format, 0


def _max_change(model: FeatureModel) -> tuple[float, float]:
    """Return the largest change per lever: in units, and in % of the client's value."""
    if isinstance(model.max_change, str):
        match = PERCENT_PATTERN.match(model.max_change.strip())
        return math.inf, float(match.group(1)) if match else math.inf
    if model.max_change is not None:
        return float(model.max_change), math.inf
    return math.inf, math.inf


def _transitions(
    model: FeatureModel, labels: tuple[CategoryValue, ...]
) -> tuple[tuple[int, tuple[int, ...]], ...] | None:
    """Return the allowed category moves as codes (``None``: any move)."""
    if model.transitions is None:
        return None
    index = {str(c): k for k, c in enumerate(labels)}
    return tuple(
        (index[str(src)], tuple(sorted({index[str(t)] for t in targets})))
        for src, targets in model.transitions.items()
    )


def bind_document(doc: ConstraintFile, data: pd.DataFrame | None, smap: SourceMap) -> Bound:
    """Resolve a validated document against optional data; raise ConstraintFileError on errors."""
    from constraints.errors import ConstraintFileError

    binder = _Binder(doc, data, smap)
    if data is not None:
        missing = [n for n in doc.features if n not in data.columns]
        for name in missing:
            binder.add(
                ("features", name),
                "must be a column of the data. Got no such column.",
                f"the data has {len(data.columns)} columns; check the spelling or remove "
                f"the feature.",
            )
    features, support = [], []
    for name, model in doc.features.items():
        spec, sup = binder.feature(name, model)
        features.append(spec)
        support.append(sup)
    errors = [p for p in binder.problems if p.severity == "error"]
    if errors:
        raise ConstraintFileError(sorted(binder.problems, key=lambda p: (p.line, p.path)))
    derived = []
    for name, text in doc.derived.items():
        terms, constant = resolve_linear(text, doc.features)
        derived.append(DerivedFeature(feature=name, terms=terms, constant=constant, text=text))
    groups = tuple(OneHotGroup(name=g, features=tuple(m)) for g, m in doc.one_hot.items())
    notes = tuple(p for p in binder.problems if p.severity == "warning")
    return Bound(
        features=tuple(features),
        rules=binder.rules(),
        derived=tuple(derived),
        one_hot=groups,
        change_groups=tuple(
            ChangeGroup(name=g, features=tuple(m)) for g, m in doc.change_groups.items()
        ),
        support=tuple(support),
        notes=notes,
    )
