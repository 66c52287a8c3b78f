"""Turn pydantic's structural errors into FileProblems written in the expert's words.

Each pydantic error type (``missing``, ``literal_error``, ``float_parsing``...) has one small
formatter in :data:`_FORMATTERS`; types without one are wrong-type errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from constraints._limits import MAX_NUMBER
from constraints._resolve import did_you_mean
from constraints._schema import (
    ConstraintFile,
    CostModel,
    FeatureModel,
    ProductModel,
    RuleModel,
    Wording,
)
from constraints._yaml_source import Path, SourceMap, format_path
from constraints.errors import FileProblem

__all__ = ["describe_value", "path_is_tag", "pydantic_problems"]

_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "a text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (indented key: value lines)",
    "model_type": "a mapping (indented key: value lines)",
    "model_attributes_type": "a mapping (indented key: value lines)",
}
_LITERAL_HINTS = {
    "kind": "continuous (amounts), integer (counts), binary (yes/no), categorical (unordered "
    "categories) or ordinal (ordered categories).",
    "role": "immutable (never changed), actionable (an advisor may propose it) or context "
    "(changes over time but is not an action).",
    "version": "this version of Levers reads version 1 files.",
}
_MISSING_HINTS = {
    "kind": "add kind: " + _LITERAL_HINTS["kind"],
    "role": "add role: " + _LITERAL_HINTS["role"],
    "require": "add what must hold, e.g. require: transfer <= 0.5 * income.",
    "name": "add name: <the data set or campaign> at the top of the file.",
    "features": "add features: with one block per model feature.",
    "not_levers": "add not_levers: [feature, ...], the features that are not levers for "
    "this product.",
    "en": "give the text in both languages: {en: '...', fr: '...'}.",
    "fr": "give the text in both languages: {en: '...', fr: '...'}.",
}
_DIRECTION_WORDS = {
    word: f"for {word!r}, write {direction}."
    for direction, words in {
        "increase": ("up", "higher", "more", "raise", "increasing", "increases", "grow", "+"),
        "decrease": ("down", "lower", "less", "reduce", "decreasing", "decreases", "-"),
        "any": ("both", "either", "free", "all", "none"),
    }.items()
    for word in words
}
_LIMIT_HINTS = {
    "max_changes": "use 1 or more, or remove max_changes for no cap.",
    "cost": "costs are >= 0; use direction to forbid a move.",
    "step": "a step is positive, e.g. 10 for amounts in steps of 10.",
}
_EMPTY_HINTS = {
    "require": "write what must hold, e.g. require: transfer <= 0.5 * income.",
    "features": "list the model's features, each with kind and role.",
    "not_levers": "list at least one feature, or remove the product.",
    "en": "write the English text.",
    "fr": "write the French text.",
}
_TYPE_HINTS = {
    "rules": "rules is a list of entries such as:  - require: transfer <= 0.5 * income",
    "features": "features is a mapping: one indented block per feature, with kind and role.",
    "products": "write one block per product, e.g. securities_account: {not_levers: "
    "[has_premium_card]}.",
    "not_levers": "write a list of feature names, e.g. not_levers: [has_premium_card].",
}


def describe_value(value: Any, path: Path, source_map: SourceMap) -> str:
    """Render a found value as written in the file (booleans keep their original word)."""
    if path in source_map.bool_words:
        return repr(source_map.bool_words[path])
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (empty value)"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, (str, int, float)):
        return repr(value)
    return repr(str(value))


def _walk_raw(data: Any, loc: tuple[Any, ...]) -> tuple[Path, Any, bool]:
    """Follow ``loc`` into ``data``, skipping union tags; return (path, value, is_key)."""
    path: list[Any] = []
    current = data
    found = True
    for part in loc:
        if part == "[key]":
            return tuple(path), path[-1] if path else None, True
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and part not in current and not path_is_tag(part):
            path.append(part)
            found = False
            current = None
        # else: a union member tag such as 'float' or 'str': skip it
    return tuple(path), current if found else None, False


def path_is_tag(part: Any) -> bool:
    """Whether a pydantic loc element names a union member rather than a key."""
    return isinstance(part, str) and (
        part in ("str", "int", "float", "bool", "list", "dict", "none")
        or "[" in part
        or part.startswith(("function-", "constrained-", "lax-", "strict-"))
    )


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(path: Path) -> type[BaseModel] | None:
    if not path:
        return ConstraintFile
    if path[0] == "features" and len(path) == 2:
        return FeatureModel
    if path[0] == "rules" and len(path) == 2:
        return RuleModel
    if path[0] == "products" and len(path) == 2:
        return ProductModel
    if path[0] == "features" and len(path) == 3 and path[2] in ("label", "lever", "cost"):
        return CostModel if path[2] == "cost" else Wording
    return None


def _is_number(text: str) -> bool:
    """Whether ``text`` is a number YAML would read as one unquoted (finite, within the limit)."""
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number) and abs(number) <= MAX_NUMBER


@dataclass(frozen=True, slots=True, kw_only=True)
class _Found:
    """One pydantic error, located in the raw document.

    ``path`` is the key path in the file, ``value`` what the file holds there (``None`` when
    the key is absent), ``is_key`` whether the error is about the key itself rather than its
    value, and ``bool_word`` the word YAML turned into a boolean there (if it did).
    """

    error: Mapping[str, Any]
    path: Path
    value: Any
    is_key: bool
    bool_word: str | None
    smap: SourceMap

    @property
    def shown(self) -> str:
        """Return the value as the file writes it."""
        return describe_value(self.value, self.path, self.smap)


_Phrased = tuple[str, str]
"""What a formatter returns: (message, hint)."""


def _unknown_key(found: _Found) -> _Phrased:
    path = found.path
    parent = _model_at(path[:-1])
    allowed = _allowed_keys(parent) if parent else []
    key = str(path[-1])
    hint = did_you_mean(key, allowed).strip() + f" Allowed keys: {', '.join(allowed)}."
    return f"is not a known key. Got {key!r}.", hint.strip()


def _missing(found: _Found) -> _Phrased:
    key = str(found.path[-1]) if found.path else ""
    return "is required. Got nothing.", _MISSING_HINTS.get(key, "")


def _not_one_of(found: _Found) -> _Phrased:
    path, value = found.path, found.value
    expected = found.error.get("ctx", {}).get("expected", "")
    options = expected.replace("'", "").replace(" or ", ", ")
    one = len(options.split(", ")) == 1
    message = f"must be {options if one else 'one of ' + options}. Got {found.shown}."
    hint = did_you_mean(str(value), options.split(", ")).strip()
    if isinstance(value, str) and _is_number(value):
        hint = f"write the number without quotes: {path[-1]}: {value.strip()}."
    elif not hint and path and path[-1] == "direction":
        hint = _DIRECTION_WORDS.get(str(value).strip().lower(), "")
    elif not hint and path:
        hint = _LITERAL_HINTS.get(str(path[-1]), "")
    return message, hint


def _invalid_value(found: _Found) -> _Phrased:
    text, _, hint = str(found.error["ctx"]["error"]).partition(". Hint: ")
    return f"{text}. Got {found.shown}.", f"{hint}." if hint else ""


def _too_small(found: _Found) -> _Phrased:
    path, ctx = found.path, found.error.get("ctx", {})
    limit = ctx.get("ge", ctx.get("gt"))
    sign = ">=" if found.error["type"] == "greater_than_equal" else ">"
    hint = _LIMIT_HINTS.get(str(path[-2] if len(path) > 1 else path[-1]), "")
    return f"must be {sign} {limit}. Got {found.shown}.", _LIMIT_HINTS.get(str(path[-1]), hint)


def _empty(found: _Found) -> _Phrased:
    key = str(found.path[-1]) if found.path else ""
    return f"must not be empty. Got {found.shown}.", _EMPTY_HINTS.get(key, "")


def _wrong_key_type(found: _Found) -> _Phrased:
    value = found.value
    shown = repr(found.bool_word) if found.bool_word else repr(value)
    what = (
        "categories (a text or a whole number)" if "transitions" in found.path else "names (text)"
    )
    hint = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = f"quote the name: '{value}'."
    return f"keys here must be {what}. Got {shown}.", hint


def _wrong_type_hint(found: _Found, words: str) -> str:
    path, value = found.path, found.value
    if isinstance(value, str) and _is_number(value) and "number" in words:
        return f"write the number without quotes: {value.strip()}."
    if isinstance(value, str) and "number" in words:
        return "write digits, e.g. 10 or 2.5."
    if isinstance(value, (int, float)) and words == "a text":
        return f"quote it: '{value}'."
    if path and path[-1] in ("label", "lever"):
        return "write the text in both languages: {en: '...', fr: '...'}."
    if path and path[-1] == "require":
        return _EMPTY_HINTS["require"]
    if len(path) == 1 or (len(path) == 2 and path[0] in ("rules", "products")):
        return _TYPE_HINTS.get(str(path[0]), "")
    if path[-1] == "not_levers":
        return _TYPE_HINTS["not_levers"]
    return ""


def _wrong_type(found: _Found) -> _Phrased:
    if found.is_key:
        return _wrong_key_type(found)
    error = found.error
    words = _TYPE_WORDS.get(error["type"], error["msg"].lower().removeprefix("input should be "))
    return f"must be {words}. Got {found.shown}.", _wrong_type_hint(found, words)


_FORMATTERS: dict[str, Callable[[_Found], _Phrased]] = {
    "extra_forbidden": _unknown_key,
    "missing": _missing,
    "literal_error": _not_one_of,
    "value_error": _invalid_value,
    "greater_than_equal": _too_small,
    "greater_than": _too_small,
    "too_short": _empty,
    "string_too_short": _empty,
}
"""Pydantic error type -> formatter; any other type is a wrong type (:func:`_wrong_type`)."""


def _where(found: _Found) -> str:
    """Return the key path shown to the expert (a boolean key keeps the word written)."""
    path = found.path
    if not (found.is_key and path):
        return format_path(path)
    key = found.bool_word or path[-1]
    parent = format_path(path[:-1])
    return f"{parent}.{key}" if parent else str(key)


def _problem_from_error(error: Mapping[str, Any], data: Any, smap: SourceMap) -> FileProblem:
    path, value, is_key = _walk_raw(data, tuple(error["loc"]))
    found = _Found(
        error=error,
        path=path,
        value=value,
        is_key=is_key,
        bool_word=smap.bool_words.get((*path, "[key]") if is_key else path),
        smap=smap,
    )
    message, hint = _FORMATTERS.get(error["type"], _wrong_type)(found)
    # a missing key has no line of its own: point at the mapping that lacks it
    line = smap.line_of(path[:-1] if error["type"] == "missing" else path)
    if found.bool_word is not None:
        word = found.bool_word
        hint = f"YAML reads an unquoted {word} as a boolean: quote the value ('{word}')."
    return FileProblem(
        source=smap.source, line=line, path=_where(found), message=message, hint=hint
    )


def _type_words(problem: FileProblem) -> str:
    """Return ``a number`` from ``must be a number. Got 'x'.``."""
    return problem.message.removeprefix("must be ").split(". Got")[0]


def pydantic_problems(exc: ValidationError, data: Any, smap: SourceMap) -> list[FileProblem]:
    """Return one problem per key path and kind of mistake found by pydantic.

    A value refused by every member of a union (``must be a number`` and ``must be a text``)
    gives one problem naming every type accepted.
    """
    problems: dict[tuple[str, str], FileProblem] = {}
    merged: dict[str, list[str]] = {}
    for error in exc.errors():
        problem = _problem_from_error(error, data, smap)
        key = problem.path
        if key in merged and problem.message.startswith("must be a"):
            # union members: "must be a number" + "must be a text" -> one message
            first = problems[(key, "type")]
            words = merged[key]
            word = _type_words(problem)
            if word not in words:
                words.append(word)
            got = first.message.split(". Got ", 1)[1]
            text = " or ".join(words).replace("a number or a whole number", "a number")
            problems[(key, "type")] = FileProblem(
                source=first.source,
                line=first.line,
                path=key,
                message=f"must be {text}. Got {got}",
                hint=first.hint,
            )
            continue
        if problem.message.startswith("keys here"):
            problems.setdefault((key, "key"), problem)
            continue
        tag = "type" if problem.message.startswith("must be a") else problem.message
        if tag == "type":
            merged[key] = [_type_words(problem)]
        problems.setdefault((key, tag), problem)
    return list(problems.values())
