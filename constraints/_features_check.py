"""Checks of one feature that the schema cannot express (kind-specific keys, categories...)."""

from __future__ import annotations

import math
import string
from typing import Any

from constraints._limits import MAX_NUMBER, MAX_NUMBER_TEXT
from constraints._resolve import category_labels, did_you_mean
from constraints._schema import PERCENT_PATTERN, PERCENTILE_PATTERN, FeatureModel
from constraints._yaml_source import Path, SourceMap

__all__ = ["PLACEHOLDERS", "feature_problems"]

PLACEHOLDERS = ("before", "after", "change", "label", "unit")
Found = tuple[Path, str, str]

_ONLY_FOR = {
    "categories": ("categorical",),
    "order": ("ordinal",),
    "values": ("binary",),
    "transitions": ("categorical", "ordinal"),
    "step": ("continuous", "integer"),
    "min": ("continuous", "integer", "ordinal"),
    "max": ("continuous", "integer", "ordinal"),
    "max_change": ("continuous", "integer", "ordinal"),
    "min_change": ("continuous", "integer"),
    "format": ("continuous", "integer"),
}
_INSTEAD = {
    ("categories", "ordinal"): "an ordinal feature lists its categories under order.",
    ("order", "categorical"): "write kind: ordinal to give the categories an order.",
    ("min", "binary"): "use direction: increase or decrease for binary features.",
    ("max", "binary"): "use direction: increase or decrease for binary features.",
    ("transitions", "binary"): "use direction: increase (0 -> 1 only) or decrease.",
    (
        "categories",
        "binary",
    ): "a binary feature's labels go under values, e.g. values: ['no', 'yes'].",
}


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _category_hint(value: Any, labels: list[Any]) -> str:
    """Suggest the closest category, the unquoted number, or list the categories."""
    texts = [str(x) for x in labels]
    if isinstance(value, str) and value in texts and value not in labels:
        return f"the categories are numbers: write {value} without quotes."
    close = did_you_mean(str(value), texts).strip()
    if close:
        return close
    shown = ", ".join(texts[:12]) + (", ..." if len(texts) > 12 else "")
    return f"the categories are: {shown}."


def _show(value: Any, path: Path, smap: SourceMap) -> str:
    if path in smap.bool_words:
        return repr(smap.bool_words[path])
    return repr(value)


def _misplaced(name: str, feature: FeatureModel) -> list[Found]:
    out: list[Found] = []
    for key, kinds in _ONLY_FOR.items():
        if getattr(feature, key) is not None and feature.kind not in kinds:
            hint = _INSTEAD.get(
                (key, feature.kind), f"remove {key} (it applies to {' or '.join(kinds)} features)."
            )
            out.append(
                (
                    (key,),
                    f"{key} does not apply to {_article(feature.kind)} feature. Got {key} "
                    f"on kind {feature.kind!r}.",
                    hint,
                )
            )
    return out


def _labels_problems(feature: FeatureModel) -> list[Found]:
    out: list[Found] = []
    key = {"categorical": "categories", "ordinal": "order", "binary": "values"}.get(feature.kind)
    if key is None:
        return out
    labels = getattr(feature, key)
    if labels is None:
        if feature.kind != "binary":
            example = "[low, medium, high]" if key == "order" else "[a, b, c]"
            out.append(
                (
                    (),
                    f"{_article(feature.kind)} feature must list its {key}. Got none.",
                    f"add {key}: {example}.",
                )
            )
        return out
    if feature.kind == "binary" and len(labels) != 2:
        out.append(
            (
                (key,),
                f"must list exactly 2 labels, false then true. Got {len(labels)}.",
                "e.g. values: ['no', 'yes'].",
            )
        )
    elif len(labels) < 2:
        out.append(((key,), f"must list at least 2 categories. Got {len(labels)}.", ""))
    seen: set[Any] = set()
    for i, label in enumerate(labels):
        if label in seen:
            out.append(
                ((key, i), f"categories must be distinct. Got {label!r} twice.", "list it once.")
            )
        seen.add(label)
    return out


def _ordinal_bound_problems(feature: FeatureModel, key: str, value: Any) -> list[Found]:
    """Check that an ordinal feature's bound is one of its categories."""
    labels = [str(x) for x in category_labels(feature)]
    if str(value) in labels:
        return []
    hint = _category_hint(value, category_labels(feature))
    return [
        (
            (key,),
            f"must be one of the order's categories. Got {value!r}.",
            hint.replace("the categories are:", "the order is:"),
        )
    ]


def _text_bound_problems(key: str, value: str, path: Path, smap: SourceMap) -> list[Found]:
    """Check that a bound written as text is a percentile (``p1``, ``p99.5``)."""
    if PERCENTILE_PATTERN.match(value):
        return []
    hint = "percentiles are written p0 to p100, e.g. p1 or p99.5."
    plain = value.replace(",", "").replace("_", "").replace(" ", "")
    try:
        number = float(value)
        hint = f"YAML reads {value} as text: write it with a dot, e.g. {number!r}."
        if not (math.isfinite(number) and abs(number) <= MAX_NUMBER):
            hint = f"numbers must be finite and at most {MAX_NUMBER_TEXT} in size."
    except ValueError:
        if plain != value and plain.replace(".", "", 1).isdigit():
            hint = f"write the number without separators, e.g. {plain}."
    return [
        (
            (key,),
            f"must be a number or a percentile of the data such as p1 or "
            f"p99. Got {_show(value, path, smap)}.",
            hint,
        )
    ]


def _bound_problems(feature: FeatureModel, smap: SourceMap, path: Path) -> list[Found]:
    out: list[Found] = []
    numbers: dict[str, float] = {}
    for key in ("min", "max"):
        value = getattr(feature, key)
        if value is None:
            continue
        if feature.kind == "ordinal":
            out.extend(_ordinal_bound_problems(feature, key, value))
            continue
        if isinstance(value, str):
            out.extend(_text_bound_problems(key, value, (*path, key), smap))
            continue
        if feature.kind == "integer" and float(value) != int(value):
            out.append(
                (
                    (key,),
                    f"an integer feature needs whole bounds. Got {value!r}.",
                    f"write a whole number, e.g. {int(value)}, or declare kind: continuous.",
                )
            )
        numbers[key] = float(value)
    if "min" in numbers and "max" in numbers and numbers["min"] > numbers["max"]:
        out.append(
            (
                (),
                f"min must not exceed max. Got min {feature.min} > max {feature.max}.",
                "swap them, or check the units.",
            )
        )
    return out


def _step_change_problems(feature: FeatureModel) -> list[Found]:
    out: list[Found] = []
    if (
        feature.kind == "integer"
        and feature.step is not None
        and float(feature.step) != int(feature.step)
    ):
        out.append(
            (
                ("step",),
                f"an integer feature needs a whole step. Got {feature.step!r}.",
                "use a whole step such as 1 or 2, or declare kind: continuous.",
            )
        )
    change = feature.max_change
    if (feature.kind == "ordinal" and change is not None) and (
        isinstance(change, str) or float(change) != int(change)
    ):
        out.append(
            (
                ("max_change",),
                f"an ordinal feature's max_change counts steps in the "
                f"order: a whole number. Got {change!r}.",
                "",
            )
        )
    if isinstance(change, str):
        percent = PERCENT_PATTERN.match(change.strip())
        if percent and not float(percent.group(1)) <= MAX_NUMBER:
            out.append(
                (
                    ("max_change",),
                    f"a percentage must be at most {MAX_NUMBER_TEXT}. Got {change!r}.",
                    "write the largest share of the client's value a lever may change, e.g. '20%'.",
                )
            )
        elif percent and float(percent.group(1)) == 0:
            out.append(
                (
                    ("max_change",),
                    f"must allow some change. Got {change!r}.",
                    "make the feature immutable instead.",
                )
            )
    return out


def _transition_problems(feature: FeatureModel) -> list[Found]:
    out: list[Found] = []
    if feature.transitions is None or feature.kind not in ("categorical", "ordinal"):
        return out
    labels = category_labels(feature)
    for source, targets in feature.transitions.items():
        if source not in labels:
            out.append(
                (
                    ("transitions", source),
                    f"must start from a known category. Got {source!r}.",
                    _category_hint(source, labels),
                )
            )
        for i, target in enumerate(targets):
            if target not in labels:
                out.append(
                    (
                        ("transitions", source, i),
                        f"must lead to a known category. Got {target!r}.",
                        _category_hint(target, labels),
                    )
                )
    return out


def _cost_problems(feature: FeatureModel) -> list[Found]:
    cost = feature.cost
    if cost is None:
        return []
    out: list[Found] = []
    if feature.kind in ("categorical", "binary"):
        for key in ("per_unit", "per_mad", "percentile_shift"):
            if getattr(cost, key) is not None:
                out.append(
                    (
                        ("cost", key),
                        f"a {feature.kind} feature has no amount of change: "
                        f"use per_change. Got {key}.",
                        "write cost: {per_change: 1}.",
                    )
                )
    if all(
        getattr(cost, k) is None for k in ("per_unit", "per_mad", "per_change", "percentile_shift")
    ):
        out.append(
            (
                ("cost",),
                "must give at least one of per_unit, per_mad, per_change, "
                "percentile_shift. Got none.",
                "remove cost to use the default (per_mad: 1).",
            )
        )
    return out


def _placeholder_problem(key: str, language: str, name: str) -> Found:
    """Report a ``{name}`` placeholder the text does not allow (labels allow none)."""
    allowed = PLACEHOLDERS if key.startswith("lever") else ()
    where = (
        "a label has no placeholders"
        if key == "label"
        else ("placeholders must be one of " + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
    )
    close = did_you_mean(name, list(allowed), cutoff=0.75).strip()
    if key.startswith("lever") and not close:
        close = "use {change} for the amount of the change, or {after} for the new value."
    if key == "label":
        close = "labels are plain names; put placeholders in the lever text."
    return ((key, language), f"{where}. Got {{{name}}}.", close)


def _template_problems(key: str, language: str, text: str) -> list[Found]:
    """Problems of one label or lever text: syntax, unknown placeholders, format specs."""
    try:
        fields = [f for _, f, spec, _ in string.Formatter().parse(text) if f is not None]
        specs = [spec for _, f, spec, _ in string.Formatter().parse(text) if spec]
    except ValueError as exc:
        return [
            (
                (key, language),
                f"must be a valid template ({exc}). Got {text!r}.",
                "write a literal brace as {{ or }}.",
            )
        ]
    allowed = PLACEHOLDERS if key.startswith("lever") else ()
    out = [_placeholder_problem(key, language, name) for name in fields if name not in allowed]
    if specs:
        out.append(
            (
                (key, language),
                f"placeholders take no format (numbers are formatted "
                f"in the feature's unit). Got {{...:{specs[0]}}}.",
                "write {after} alone: Levers formats numbers for the advisor's language.",
            )
        )
    return out


def _wording_problems(feature: FeatureModel) -> list[Found]:
    out: list[Found] = []
    for key in ("label", "lever", "lever_increase", "lever_decrease"):
        wording = getattr(feature, key)
        if wording is None:
            continue
        for language in ("en", "fr"):
            out.extend(_template_problems(key, language, getattr(wording, language)))
    return out


def feature_problems(name: str, feature: FeatureModel, smap: SourceMap) -> list[Found]:
    """Return (path suffix, message, hint) for every problem of one feature."""
    path: Path = ("features", name)
    out: list[Found] = []
    if feature.protected and feature.role != "immutable":
        out.append(
            (
                ("role",),
                f"a protected attribute must be immutable. Got {feature.role!r}.",
                "set role: immutable; a lever never changes a protected attribute.",
            )
        )
    if feature.kind == "categorical" and feature.direction != "any":
        out.append(
            (
                ("direction",),
                f"categories have no order: direction must be any. Got {feature.direction!r}.",
                "declare kind: ordinal with an order to use a direction.",
            )
        )
    out.extend(_misplaced(name, feature))
    out.extend(_labels_problems(feature))
    out.extend(_bound_problems(feature, smap, path))
    out.extend(_step_change_problems(feature))
    out.extend(_transition_problems(feature))
    out.extend(_cost_problems(feature))
    out.extend(_wording_problems(feature))
    out.extend(_missing_problems(feature))
    return out


def _missing_problems(feature: FeatureModel) -> list[Found]:
    """Refuse a median of unordered categories or yes/no (they impute their mode)."""
    missing = feature.missing
    if isinstance(missing, str) or missing.impute != "median":
        return []
    if feature.kind not in ("binary", "categorical"):
        return []
    return [
        (
            ("missing", "impute"),
            f"a median needs ordered values; {_article(feature.kind)} feature has none. Got "
            "impute: median.",
            "write impute: mode (the most frequent category).",
        )
    ]
