"""Checks of meaning across a document: features, rules, derived features and groups."""

from __future__ import annotations

import re
from collections.abc import Callable

from constraints._features_check import feature_problems
from constraints._partial import Broken, from_left_out_keys
from constraints._product_rules import product_problems
from constraints._resolve import did_you_mean, resolve_condition, resolve_linear
from constraints._schema import ConstraintFile
from constraints._yaml_source import Path, SourceMap
from constraints.errors import ConstraintError, FileProblem

__all__ = ["semantic_problems", "split_hint"]


def shown_text(text: str, limit: int = 120) -> str:
    """Return ``repr(text)``, cut to ``limit`` characters with the full length when longer."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 20]!r}... ({len(text):,} characters)"


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
        return smap.problem(path, message, hint)

    return make


def _features_problems(doc: ConstraintFile, smap: SourceMap, broken: Broken) -> list[FileProblem]:
    """Problems of each feature, leaving out those caused by keys pydantic refused."""
    out: list[FileProblem] = []
    for name, feature in doc.features.items():
        removed = broken[name][1] if name in broken else frozenset()
        for suffix, message, hint in feature_problems(name, feature, smap):
            if not from_left_out_keys(suffix, message, removed):
                out.append(_at(smap, ("features", name, *suffix))(message, hint))
    return out


def _rules_problems(doc: ConstraintFile, smap: SourceMap, broken: Broken) -> list[FileProblem]:
    """Problems of each rule's ``if`` and ``require``, unless they name an invalid feature."""
    out: list[FileProblem] = []

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
                resolve_condition(text, doc.features)
            except ConstraintError as exc:
                if not mentions_broken(exc):
                    message, hint = split_hint(str(exc))
                    out.append(
                        _at(smap, ("rules", i, key))(
                            f"{message}. Got {shown_text(text)}.",
                            hint or "see docs/constraints.md, section Rules, for the grammar.",
                        )
                    )
    return out


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
                message=f"{message}. Got {shown_text(text)}.",
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


def _member_problem(doc: ConstraintFile, section: str, member: str) -> tuple[str, str] | None:
    """(message, hint) when ``member`` cannot belong to a group of ``section``, else None."""
    feature = doc.features.get(member)
    if feature is None:
        hint = did_you_mean(member, list(doc.features)).strip()
        return f"must list features declared under features. Got {member!r}.", hint
    if member in doc.derived:
        return (
            f"members must not be derived features. Got {member!r}.",
            "derived features follow their sources; group the sources.",
        )
    if section == "one_hot" and feature.kind != "binary":
        return (
            f"members must be binary features. Got {member!r} of kind {feature.kind!r}.",
            "one-hot groups hold binary features; use change_groups for "
            "features that move together.",
        )
    return None


def _groups_problems(doc: ConstraintFile, smap: SourceMap) -> list[FileProblem]:
    """Problems of one-hot and change groups: size, members, overlaps, shared role."""
    problems: list[FileProblem] = []
    owner: dict[str, str] = {}
    sections = [("one_hot", g, m) for g, m in doc.one_hot.items()]
    sections += [("change_groups", g, m) for g, m in doc.change_groups.items()]
    for section, group, members in sections:
        where = _at(smap, (section, group))
        what = "a one-hot group" if section == "one_hot" else "a change group"
        if len(members) < 2:
            problems.append(
                where(
                    message=f"{what} needs at least 2 features. Got {len(members)}.",
                    hint="add the other members, or remove the group.",
                )
            )
        for member in members:
            found = _member_problem(doc, section, member)
            if found is not None:
                problems.append(where(message=found[0], hint=found[1]))
            if member in owner and owner[member] != group:
                problems.append(
                    where(
                        message=f"a feature belongs to one group at most. "
                        f"Got {member!r} also in {owner[member]!r}.",
                        hint="keep the feature in one group.",
                    )
                )
            owner.setdefault(member, group)
        roles = {doc.features[m].role for m in members if m in doc.features}
        if section == "one_hot" and len(roles) > 1:
            problems.append(
                where(message=f"members must share one role. Got {', '.join(sorted(roles))}.")
            )
    return problems


def _no_lever_warning(doc: ConstraintFile, smap: SourceMap) -> FileProblem:
    return smap.problem(
        ("features",),
        "no feature is actionable: no lever can ever be proposed.",
        "set role: actionable on what an advisor may propose to change.",
        "warning",
    )


def semantic_problems(doc: ConstraintFile, smap: SourceMap, broken: Broken) -> list[FileProblem]:
    """Check what the schema alone cannot; ``broken`` features are checked on what validates."""
    out = _features_problems(doc, smap, broken)
    out.extend(_rules_problems(doc, smap, broken))
    derived_names = set(doc.derived)
    for name, text in doc.derived.items():
        out.extend(_derived_problems(name, text, doc, derived_names, smap))
    out.extend(_groups_problems(doc, smap))
    out.extend(product_problems(doc, smap))
    if doc.id_column is not None and doc.id_column in doc.features:
        out.append(
            _at(smap, ("id_column",))(
                f"must not be a feature. Got {doc.id_column!r}, listed under features.",
                "client ids identify clients; remove the id column from the features.",
            )
        )
    actionable = any(f.role == "actionable" for f in doc.features.values())
    if doc.features and not broken and not actionable:
        out.append(_no_lever_warning(doc, smap))
    return out
