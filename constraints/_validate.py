"""Turn pydantic errors into Problems, and check what the schema alone cannot."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from constraints._features_check import feature_problems
from constraints._resolve import did_you_mean, resolve_condition, resolve_linear
from constraints._schema import ConstraintFile, FeatureModel, RuleModel
from constraints._yaml_source import Path, SourceMap, format_path
from constraints.errors import ConstraintError, FileProblem

__all__ = ["describe_value", "validate_document"]

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


_LITERAL_HINTS = {
    "kind": "continuous (amounts), integer (counts), binary (yes/no), categorical (unordered "
    "categories) or ordinal (ordered categories).",
    "role": "immutable (never changed), actionable (an advisor may propose it) or context "
    "(changes over time but is not an action).",
    "version": "this version of Levers reads version 1 files.",
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
    "en": "write the English text.",
    "fr": "write the French text.",
}
_TYPE_HINTS = {
    "rules": "rules is a list of entries such as:  - require: transfer <= 0.5 * income",
    "features": "features is a mapping: one indented block per feature, with kind and role.",
}


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
    if path[0] == "features" and len(path) == 3 and path[2] in ("label", "lever", "cost"):
        from constraints._schema import CostModel, Wording

        return CostModel if path[2] == "cost" else Wording
    return None


def _problem_from_error(error: Mapping[str, Any], data: Any, smap: SourceMap) -> FileProblem:
    path, value, is_key = _walk_raw(data, tuple(error["loc"]))
    kind = error["type"]
    line = smap.line_of(path)
    hint = ""
    bool_word = smap.bool_words.get((*path, "[key]") if is_key else path)
    if kind == "extra_forbidden":
        parent = _model_at(path[:-1])
        allowed = _allowed_keys(parent) if parent else []
        key = str(path[-1])
        message = f"is not a known key. Got {key!r}."
        hint = (
            did_you_mean(key, allowed).strip() + f" Allowed keys: {', '.join(allowed)}."
        ).strip()
    elif kind == "missing":
        message = "is required. Got nothing."
        line = smap.line_of(path[:-1])
        hint = {
            "kind": "add kind: " + _LITERAL_HINTS["kind"],
            "role": "add role: " + _LITERAL_HINTS["role"],
            "require": "add what must hold, e.g. require: transfer <= 0.5 * income.",
            "name": "add name: <the data set or campaign> at the top of the file.",
            "features": "add features: with one block per model feature.",
            "en": "give the text in both languages: {en: '...', fr: '...'}.",
            "fr": "give the text in both languages: {en: '...', fr: '...'}.",
        }.get(str(path[-1]) if path else "", "")
    elif kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = expected.replace("'", "").replace(" or ", ", ")
        shown = describe_value(value, path, smap)
        one = len(options.split(", ")) == 1
        message = f"must be {options if one else 'one of ' + options}. Got {shown}."
        hint = did_you_mean(str(value), options.split(", ")).strip()
        if isinstance(value, str) and _is_number(value):
            hint = f"write the number without quotes: {path[-1]}: {value.strip()}."
        elif not hint and path and path[-1] == "direction":
            hint = _DIRECTION_WORDS.get(str(value).strip().lower(), "")
        elif not hint and path:
            hint = _LITERAL_HINTS.get(str(path[-1]), "")
    elif kind == "value_error":
        text, _, hint = str(error["ctx"]["error"]).partition(". Hint: ")
        message = f"{text}. Got {describe_value(value, path, smap)}."
        hint = f"{hint}." if hint else ""
    elif kind in ("greater_than_equal", "greater_than"):
        limit = error.get("ctx", {}).get("ge", error.get("ctx", {}).get("gt"))
        sign = ">=" if kind == "greater_than_equal" else ">"
        message = f"must be {sign} {limit}. Got {describe_value(value, path, smap)}."
        hint = _LIMIT_HINTS.get(str(path[-2] if len(path) > 1 else path[-1]), "")
        hint = _LIMIT_HINTS.get(str(path[-1]), hint)
    elif kind in ("too_short", "string_too_short"):
        message = f"must not be empty. Got {describe_value(value, path, smap)}."
        hint = _EMPTY_HINTS.get(str(path[-1]) if path else "", "")
    else:
        words = _TYPE_WORDS.get(kind, error["msg"].lower().removeprefix("input should be "))
        shown = describe_value(value, path, smap)
        if is_key:
            shown = repr(bool_word) if bool_word else repr(value)
            what = (
                "categories (a text or a whole number)" if "transitions" in path else "names (text)"
            )
            message = f"keys here must be {what}. Got {shown}."
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                hint = f"quote the name: '{value}'."
        else:
            message = f"must be {words}. Got {shown}."
            if isinstance(value, str) and _is_number(value) and "number" in words:
                hint = f"write the number without quotes: {value.strip()}."
            elif isinstance(value, str) and "number" in words:
                hint = "write digits, e.g. 10 or 2.5."
            elif isinstance(value, (int, float)) and words == "a text":
                hint = f"quote it: '{value}'."
            elif path and path[-1] in ("label", "lever"):
                hint = "write the text in both languages: {en: '...', fr: '...'}."
            elif path and path[-1] == "require":
                hint = _EMPTY_HINTS["require"]
            elif len(path) == 1 or (len(path) == 2 and path[0] == "rules"):
                hint = _TYPE_HINTS.get(str(path[0]), "")
    if bool_word is not None:
        hint = f"YAML reads an unquoted {bool_word} as a boolean: quote the value ('{bool_word}')."
    where = format_path(path)
    if is_key and path:
        where = format_path(path[:-1])
        where = f"{where}.{bool_word or path[-1]}" if where else str(bool_word or path[-1])
    return FileProblem(source=smap.source, line=line, path=where, message=message, hint=hint)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _pydantic_problems(exc: ValidationError, data: Any, smap: SourceMap) -> list[FileProblem]:
    problems: dict[tuple[str, str], FileProblem] = {}
    merged: dict[str, list[str]] = {}
    for error in exc.errors():
        problem = _problem_from_error(error, data, smap)
        key = problem.path
        if key in merged and problem.message.startswith("must be a"):
            # union members: "must be a number" + "must be a text" -> one message
            first = problems[(key, "type")]
            words = merged[key]
            word = problem.message.removeprefix("must be ").split(". Got")[0]
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
            merged[key] = [problem.message.removeprefix("must be ").split(". Got")[0]]
        problems.setdefault((key, tag), problem)
    return list(problems.values())


def _stand_in(raw: Any) -> FeatureModel:
    """Return a feature that keeps what rules need (kind, categories) from an invalid entry."""
    raw = raw if isinstance(raw, dict) else {}
    kinds = ("continuous", "integer", "binary", "categorical", "ordinal")
    kind = raw.get("kind") if raw.get("kind") in kinds else "continuous"
    lists = {
        key: [x for x in raw[key] if isinstance(x, (str, int)) and not isinstance(x, bool)]
        for key in ("categories", "order", "values")
        if isinstance(raw.get(key), list)
    }
    return FeatureModel.model_construct(
        kind=kind,
        role="context",
        categories=lists.get("categories"),
        order=lists.get("order"),
        values=lists.get("values"),
    )


Broken = dict[str, tuple[FeatureModel, frozenset[str]]]


_KIND_OF_KEY = {"categories": "categorical", "order": "ordinal", "values": "binary"}


def _partial_feature(raw: Any) -> tuple[FeatureModel, frozenset[str]]:
    """Return the feature made of the keys that validate, and the keys left out.

    ``kind`` left out means nothing about the feature can be checked (a stand-in is used).
    """
    if not isinstance(raw, dict):
        return _stand_in(raw), frozenset({"kind"})
    kept = dict(raw)
    removed: set[str] = set()
    for _ in range(len(raw) + 1):
        try:
            return FeatureModel.model_validate(kept), frozenset(removed)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if "role" in bad or "role" not in kept:
                kept["role"] = "immutable" if raw.get("protected") is True else "actionable"
                removed.add("role")
                bad.discard("role")
            if "kind" in bad or "kind" not in kept:
                guess = next(
                    (k for key, k in _KIND_OF_KEY.items() if isinstance(raw.get(key), list)),
                    "continuous",
                )
                if kept.get("kind") == guess:
                    return _stand_in(raw), frozenset({"kind"})
                kept["kind"] = guess
                removed.add("kind")
                bad.discard("kind")
            if not bad:
                continue
                break
            removed |= bad
            for key in bad:
                kept.pop(key, None)
    return _stand_in(raw), frozenset({"kind"})


def _partial_document(data: dict[str, Any]) -> tuple[ConstraintFile, Broken]:
    """Return the parts of a document that validate on their own (for semantic checks)."""
    features: dict[str, FeatureModel] = {}
    broken: Broken = {}
    raw_features = data.get("features")
    if isinstance(raw_features, dict):
        for name, raw in raw_features.items():
            try:
                features[str(name)] = FeatureModel.model_validate(raw)
            except ValidationError:
                broken[str(name)] = _partial_feature(raw)
                features[str(name)] = broken[str(name)][0]
    rules: list[RuleModel] = []
    raw_rules = data.get("rules")
    if isinstance(raw_rules, list):
        for raw in raw_rules:
            try:
                rules.append(RuleModel.model_validate(raw))
            except ValidationError:
                rules.append(RuleModel.model_construct(require=""))

    def _text_map(key: str) -> dict[str, Any]:
        raw = data.get(key)
        return {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}

    derived = {k: v for k, v in _text_map("derived").items() if isinstance(v, str)}
    one_hot, change_groups = (
        {
            k: v
            for k, v in _text_map(key).items()
            if isinstance(v, list) and all(isinstance(x, str) for x in v)
        }
        for key in ("one_hot", "change_groups")
    )
    doc = ConstraintFile.model_construct(
        name=str(data.get("name", "")),
        features=features,
        rules=rules,
        derived=derived,
        one_hot=one_hot,
        change_groups=change_groups,
        max_changes=None,
    )
    return doc, broken


def _skipped(suffix: tuple[Any, ...], message: str, removed: frozenset[str]) -> bool:
    """Whether a feature problem comes from keys left out of a partly invalid feature."""
    if "kind" in removed and (
        not suffix or str(suffix[0]) in ("direction", "role", "cost") or "apply to" in message
    ):
        return True
    if suffix and str(suffix[0]) in removed:
        return True
    return not suffix and bool(removed & {"categories", "order", "values", "min", "max"})


def _semantic_problems(doc: ConstraintFile, smap: SourceMap, broken: Broken) -> list[FileProblem]:
    out: list[FileProblem] = []

    def add(
        path: Path, message: str, hint: str = "", severity: Literal["error", "warning"] = "error"
    ) -> None:
        out.append(
            FileProblem(
                source=smap.source,
                line=smap.line_of(path),
                path=format_path(path),
                message=message,
                hint=hint,
                severity=severity,
            )
        )

    for name, feature in doc.features.items():
        removed = broken[name][1] if name in broken else frozenset()
        for suffix, message, hint in feature_problems(name, feature, smap):
            if _skipped(suffix, message, removed):
                continue
            add(("features", name, *suffix), message, hint)
    known = {**doc.features}

    def mentions_broken(exc: ConstraintError) -> bool:
        quoted = re.findall(r"'([^']*)'", str(exc).split(" Did you mean ")[0])
        return bool(quoted) and quoted[0] in broken

    for i, rule in enumerate(doc.rules):
        for key, text in (("if", rule.if_), ("require", rule.require)):
            if not text and key == "require":
                continue
            if text is None:
                continue
            try:
                resolve_condition(text, known)
            except ConstraintError as exc:
                if not mentions_broken(exc):
                    message, hint = split_hint(str(exc))
                    add(
                        ("rules", i, key),
                        f"{message}. Got {text!r}.",
                        hint or "see docs/constraints.md, section Rules, for the grammar.",
                    )
    derived_names = set(doc.derived)
    for name, text in doc.derived.items():
        out.extend(_derived_problems(name, text, doc, derived_names, smap))
    out.extend(_one_hot_problems(doc, smap))
    if (
        doc.features
        and not broken
        and not any(f.role == "actionable" for f in doc.features.values())
    ):
        add(
            ("features",),
            "no feature is actionable: no lever can ever be proposed.",
            "set role: actionable on what an advisor may propose to change.",
            "warning",
        )
    return out


def split_hint(text: str) -> tuple[str, str]:
    """Split ``"unknown feature 'x'. Did you mean 'y'?"`` into message and hint."""
    if " Hint: " in text:
        message, hint = text.split(" Hint: ", 1)
        return message.rstrip("."), hint
    text = text.rstrip(".")
    if " Did you mean " in text:
        message, suggestion = text.split(" Did you mean ", 1)
        return message.rstrip("."), "Did you mean " + suggestion
    return text, ""


def _at(smap: SourceMap, path: Path) -> Callable[..., FileProblem]:
    """Return a maker of problems located at ``path``."""

    def make(message: str, hint: str = "") -> FileProblem:
        return FileProblem(
            source=smap.source,
            line=smap.line_of(path),
            path=format_path(path),
            message=message,
            hint=hint,
        )

    return make


def _derived_problems(
    name: str, text: str, doc: ConstraintFile, derived: set[str], smap: SourceMap
) -> list[FileProblem]:
    path: Path = ("derived", name)
    where = _at(smap, path)
    feature = doc.features.get(name)
    if feature is None:
        hint = did_you_mean(name, list(doc.features)).strip()
        return [
            where(
                message=f"must name a feature listed under features. Got {name!r}.",
                hint=hint or "declare the feature under features first.",
            )
        ]
    problems = []
    if feature.kind not in ("continuous", "integer"):
        problems.append(
            where(
                message=f"a derived feature must be continuous or integer. "
                f"Got kind {feature.kind!r}.",
            )
        )
    if feature.role == "actionable":
        problems.append(
            where(
                message="a derived feature is recomputed, never proposed: "
                "it must not be actionable. Got role 'actionable'.",
                hint=f"set features.{name}.role to context.",
            )
        )
    try:
        terms, _ = resolve_linear(text, doc.features)
    except ConstraintError as exc:
        message, hint = split_hint(str(exc))
        problems.append(
            where(
                message=f"{message}. Got {text!r}.",
                hint=hint or "write a sum such as a + b + 2 * c.",
            )
        )
        return problems
    for source, _ in terms:
        if source == name or source in derived:
            problems.append(
                where(
                    message=f"must be computed from features that are not "
                    f"derived. Got {source!r}, which is derived.",
                    hint="write the expression with the original features.",
                )
            )
    return problems


def _one_hot_problems(doc: ConstraintFile, smap: SourceMap) -> list[FileProblem]:
    problems: list[FileProblem] = []
    owner: dict[str, str] = {}
    sections = [("one_hot", g, m) for g, m in doc.one_hot.items()]
    sections += [("change_groups", g, m) for g, m in doc.change_groups.items()]
    for section, group, members in sections:
        path: Path = (section, group)
        where = _at(smap, path)
        what = "a one-hot group" if section == "one_hot" else "a change group"
        if len(members) < 2:
            problems.append(
                where(
                    message=f"{what} needs at least 2 features. Got {len(members)}.",
                    hint="add the other members, or remove the group.",
                )
            )
        for member in members:
            feature = doc.features.get(member)
            if feature is None:
                hint = did_you_mean(member, list(doc.features)).strip()
                problems.append(
                    where(
                        message=f"must list features declared under features. Got {member!r}.",
                        hint=hint,
                    )
                )
            elif member in doc.derived:
                problems.append(
                    where(
                        message=f"members must not be derived features. Got {member!r}.",
                        hint="derived features follow their sources; group the sources.",
                    )
                )
            elif section == "one_hot" and feature.kind != "binary":
                problems.append(
                    where(
                        hint="one-hot groups hold binary features; use change_groups for "
                        "features that move together.",
                        message=f"members must be binary features. "
                        f"Got {member!r} of kind {feature.kind!r}.",
                    )
                )
            if member in owner and owner[member] != group:
                problems.append(
                    where(
                        hint="keep the feature in one group.",
                        message=f"a feature belongs to one group at most. "
                        f"Got {member!r} also in {owner[member]!r}.",
                    )
                )
            owner.setdefault(member, group)
        roles = {doc.features[m].role for m in members if m in doc.features}
        if section == "one_hot" and len(roles) > 1:
            problems.append(
                where(message=f"members must share one role. Got {', '.join(sorted(roles))}.")
            )
    return problems


def validate_document(
    data: Any, smap: SourceMap
) -> tuple[ConstraintFile | None, list[FileProblem]]:
    """Validate parsed YAML: structure (pydantic) and meaning; every problem is listed."""
    if not isinstance(data, dict):
        kinds = {str: "a text", int: "a number", float: "a number", list: "a list"}
        got = "an empty file" if data is None else kinds.get(type(data), "a single value")
        return None, [
            FileProblem(
                source=smap.source,
                line=smap.line_of(()) if data is not None else 0,
                path="",
                message=f"a constraint file must be a mapping with name and features. Got {got}.",
                hint="start from the example in docs/constraints.md.",
            )
        ]
    problems: list[FileProblem] = []
    doc: ConstraintFile | None = None
    broken: Broken = {}
    try:
        doc = ConstraintFile.model_validate(data)
        partial = doc
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, data, smap))
        partial, broken = _partial_document(data)
    problems.extend(_semantic_problems(partial, smap, broken))
    problems.sort(key=lambda p: (p.line, p.path))
    if any(p.severity == "error" for p in problems):
        doc = None
    return doc, problems
