"""Violation messages and values in business terms (labels, units), never codes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from constraints._compiled import FloatArray
from constraints._tolerance import changed
from constraints._types import ChangeGroup, DerivedFeature, FeatureSpec, OneHotGroup, Rule

__all__ = ["MessageContext", "format_number", "format_value", "violation_message"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageContext:
    """What messages need besides the features: names and texts of the global rules."""

    features: tuple[FeatureSpec, ...]
    rules: tuple[Rule, ...]
    derived: tuple[DerivedFeature, ...]
    groups: tuple[OneHotGroup, ...]
    max_changes: int | None
    change_groups: tuple[ChangeGroup, ...] = ()


def format_number(value: float, language: str = "en") -> str:
    """Format an amount for people: ``2,450``, ``0.35``, ``12.5`` (French: ``2 450``, ``0,35``).

    Examples
    --------
    >>> format_number(1234.5), format_number(1234.5, "fr")
    ('1,234.5', '1\u202f234,5')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return (
            ("infinity" if value > 0 else "-infinity")
            if language == "en"
            else ("l'infini" if value > 0 else "moins l'infini")
        )
    if value == int(value) and abs(value) < 1e15:
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.4g}"
    if language == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _format_amount(spec: FeatureSpec, value: float, language: str) -> str:
    """Format a number as the feature's ``format`` says (``auto``: :func:`format_number`)."""
    if spec.format == "auto" or not math.isfinite(value):
        return format_number(value, language)
    if spec.format == "percent":
        text = f"{100 * value:,.1f}".rstrip("0").rstrip(".")
        suffix = "\u202f%"
    elif spec.format == "integer":
        text, suffix = f"{round(value):,}", ""
    elif spec.format == "currency":
        text = f"{value:,.0f}" if abs(value - round(value)) < 0.005 else f"{value:,.2f}"
        suffix = ""
    else:
        text, suffix = f"{value:,.{spec.decimals}f}", ""
    if text.startswith("-") and not text.strip("-0.,"):  # -0.00 reads 0.00
        text = text[1:]
    if language == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text + suffix


def format_value(
    spec: FeatureSpec, value: float, *, unit: bool = True, language: str = "en"
) -> str:
    """Format a value of ``spec`` as advisors read it (category label, or amount and unit).

    Numbers follow the feature's ``format`` (a ``percent`` ratio 0.4 reads ``40 %``). A
    missing value (NaN) reads ``unknown`` (``inconnu``), a yes/no feature ``yes``/``no``
    (``oui``/``non``).
    """
    if math.isnan(value):
        return "inconnu" if language == "fr" else "unknown"
    if spec.kind in ("categorical", "ordinal", "binary") and math.isfinite(value):
        code = round(value)
        if code == value and 0 <= code < spec.n_categories:
            if spec.kind == "binary" and not spec.categories:
                words = ("non", "oui") if language == "fr" else ("no", "yes")
                return words[code]
            return str(spec.categories[code])
        return f"an invalid code {format_number(value)}"
    text = _format_amount(spec, value, language)
    return f"{text} {spec.unit}" if unit and spec.unit else text


def _global_message(rule: str, ctx: MessageContext, x: FloatArray, c: FloatArray) -> str:
    names = [f.name for f in ctx.features]
    kind, _, key = rule.partition(":")
    if kind == "max_changes":
        derived = {d.feature for d in ctx.derived}
        moved = changed(c, x)
        units = {n for j, n in enumerate(names) if moved[j] and n not in derived}
        groups: list[OneHotGroup | ChangeGroup] = [*ctx.groups, *ctx.change_groups]
        for group in groups:
            if units & set(group.features):
                units = (units - set(group.features)) | {group.name}
        shown = ", ".join(sorted(units))
        return (
            f"at most {ctx.max_changes} feature{'s' if ctx.max_changes != 1 else ''} may "
            f"change in one lever. Got "
            f"{len(units)}: {shown}."
        )
    if kind == "one_hot":
        group = next(g for g in ctx.groups if g.name == key)
        ones = [n for n in group.features if x[names.index(n)] == 1]
        return (
            f"exactly one of {', '.join(group.features)} must be yes (group {group.name}). "
            f"Got {len(ones)}{': ' + ', '.join(ones) if ones else ''}."
        )
    r = next(r for r in ctx.rules if r.name == key)
    shown = ", ".join(
        f"{n} = {format_value(ctx.features[names.index(n)], float(x[names.index(n)]))}"
        for n in r.features
    )
    return f"rule {r.name!r} must hold: {r.text}. Got {shown}."


def violation_message(
    rule: str,
    spec: FeatureSpec | None,
    before: float,
    after: float,
    ctx: MessageContext,
    x: FloatArray,
    c: FloatArray,
) -> str:
    """Message for one violation: ``<feature>: <what must hold>. Got <value>.``."""
    if spec is None:
        return _global_message(rule, ctx, x, c)
    b, a = format_value(spec, before), format_value(spec, after)
    name = spec.name
    if rule == "immutable":
        if spec.role == "context":
            return (
                f"{name} is context, not an action: it changes only when the run allows "
                f"it. Got {b} -> {a}."
            )
        if spec.role == "actionable":
            return f"{name} is derived and cannot be set. Got {b} -> {a}."
        return f"{name} is immutable: it must not change. Got {b} -> {a}."
    if rule == "missing":
        return (
            f"{name} is unknown for this client (missing: keep): a lever must leave it "
            f"unknown. Got {b} -> {a}."
        )
    if rule == "domain":
        if spec.kind in ("categorical", "ordinal", "binary"):
            return f"{name} must be one of its categories. Got {a}."
        return f"{name} must be a finite number. Got {a}."
    if rule == "direction":
        way = "increase" if spec.direction == "increase" else "decrease"
        if spec.kind == "ordinal":
            way = "move up the order" if way == "increase" else "move down the order"
        return f"{name} may only {way}. Got {b} -> {a}."
    if rule == "min":
        return f"{name} must be at least {format_value(spec, spec.lower)}. Got {a}."
    if rule == "max":
        return f"{name} must be at most {format_value(spec, spec.upper)}. Got {a}."
    if rule == "max_change":
        if math.isfinite(spec.max_change):
            limit = format_value(spec, spec.max_change)
        else:
            limit = f"{format_number(spec.max_change_percent)}% of {b}"
        return f"{name} may change by at most {limit} in one lever. Got {b} -> {a}."
    if rule == "min_change":
        least = format_value(spec, spec.min_change)
        return f"{name} must change by at least {least} or not at all. Got {b} -> {a}."
    if rule == "step":
        if spec.kind == "integer" and spec.step == 1:
            return f"{name} must be a whole number. Got {a}."
        return f"{name} must be a multiple of {format_value(spec, spec.step)}. Got {a}."
    if rule == "transition":
        code = round(before)
        allowed = dict(spec.transitions or ()).get(code, ())
        targets = ", ".join(str(spec.categories[t]) for t in allowed)
        if not targets:
            return f"{name} cannot change from {b}. Got {b} -> {a}."
        return f"{name} may go from {b} to {targets} only. Got {b} -> {a}."
    item = next(d for d in ctx.derived if d.feature == name)
    names = [f.name for f in ctx.features]
    delta = sum(coef * (x[names.index(n)] - c[names.index(n)]) for n, coef in item.terms)
    expected = format_value(spec, float(np.float64(before + delta)))
    return f"{name} must follow {item.text} (so {expected}). Got {a}."
