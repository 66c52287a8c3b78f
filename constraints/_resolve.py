"""Give parsed rules their meaning against the declared features (names, kinds, categories)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

from constraints._expressions import (
    Compare,
    Expression,
    ParsedChange,
    ParsedClause,
    ParsedMembership,
    Token,
    parse_condition,
    parse_expression,
)
from constraints._schema import FeatureModel
from constraints._types import Alternatives, ChangeClause, Clause, LinearClause, MembershipClause
from constraints.errors import ConstraintError

__all__ = [
    "category_labels",
    "did_you_mean",
    "resolve_condition",
    "resolve_linear",
]

_TRUE_WORDS = {"yes", "true", "1", "True", "Yes", "TRUE", "YES"}
_FALSE_WORDS = {"no", "false", "0", "False", "No", "FALSE", "NO"}


def did_you_mean(word: str, options: list[str] | tuple[str, ...], cutoff: float = 0.6) -> str:
    """Return `` Did you mean 'x'?`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=cutoff)
    return f" Did you mean {close[0]!r}?" if close else ""


def category_labels(feature: FeatureModel) -> list[Any]:
    """Return the categories of a categorical/ordinal feature, or the labels of a binary one."""
    if feature.kind == "categorical":
        return list(feature.categories or [])
    if feature.kind == "ordinal":
        return list(feature.order or [])
    if feature.kind == "binary":
        return list(feature.values) if feature.values else [False, True]
    return []


def _feature(name: str, features: Mapping[str, FeatureModel]) -> FeatureModel:
    if name not in features:
        hint = did_you_mean(name, list(features))
        raise ConstraintError(f"unknown feature {name!r}.{hint}")
    return features[name]


def _code_of(name: str, feature: FeatureModel, token: Token) -> int:
    labels = category_labels(feature)
    raw = token.value
    for code, label in enumerate(labels):
        if isinstance(label, bool):
            continue
        if str(label) == raw:
            return code
    if feature.kind == "binary":
        if raw in _TRUE_WORDS:
            return 1
        if raw in _FALSE_WORDS:
            return 0
    if feature.kind == "binary" and not feature.values:
        shown = "yes, no"
    else:
        shown = ", ".join(repr(str(x)) for x in labels)
    hint = did_you_mean(raw, [str(x) for x in labels if not isinstance(x, bool)])
    raise ConstraintError(f"{name!r} has no category {raw!r} (it has {shown}).{hint}")


def _membership(
    name: str, feature: FeatureModel, tokens: tuple[Token, ...], negate: bool
) -> MembershipClause:
    codes = {_code_of(name, feature, token) for token in tokens}
    if negate:
        codes = set(range(len(category_labels(feature)))) - codes
    return MembershipClause(feature=name, codes=frozenset(codes))


def _linear(
    expr: Expression, features: Mapping[str, FeatureModel]
) -> tuple[dict[str, float], float]:
    if math.isnan(expr.constant):
        raise ConstraintError(
            "quoted texts are categories: compare a categorical feature with 'is' or '=='"
        )
    for name, _ in expr.terms:
        kind = _feature(name, features).kind
        if kind in ("categorical", "ordinal"):
            raise ConstraintError(
                f"{name!r} is {kind}: it cannot be used in arithmetic; compare it with a "
                f"category instead (e.g. {name} is <category>)"
            )
    return dict(expr.terms), expr.constant


def _compare(clause: Compare, features: Mapping[str, FeatureModel]) -> Clause:
    left = clause.left.single
    if left is not None and left.kind == "name" and left.value in features:
        feature = features[left.value]
        if feature.kind in ("categorical", "ordinal", "binary"):
            value = clause.right.single
            if value is None or (value.kind == "name" and value.value in features):
                raise ConstraintError(f"compare {left.value!r} with one of its categories")
            if clause.op in ("==", "!="):
                return _membership(left.value, feature, (value,), clause.op == "!=")
            if feature.kind != "ordinal":
                raise ConstraintError(
                    f"{left.value!r} is {feature.kind}: its categories have no order; use "
                    f"'is' or 'in' (or declare kind: ordinal with an order)"
                )
            rank = _code_of(left.value, feature, value)
            n = len(category_labels(feature))
            keep = {
                "<=": range(rank + 1),
                "<": range(rank),
                ">=": range(rank, n),
                ">": range(rank + 1, n),
            }[clause.op]
            return MembershipClause(feature=left.value, codes=frozenset(keep))
    if clause.op in ("<", ">"):
        raise ConstraintError(
            f"use {clause.op}= instead of {clause.op}: strict inequalities cannot be enforced "
            f"exactly on amounts"
        )
    if clause.op == "!=":
        raise ConstraintError("'!=' compares a categorical feature with a category only")
    left_terms, left_const = _linear(clause.left, features)
    right_terms, right_const = _linear(clause.right, features)
    terms = dict(left_terms)
    for name, coef in right_terms.items():
        terms[name] = terms.get(name, 0.0) - coef
    terms = {k: v for k, v in terms.items() if v != 0.0}
    if not terms:
        raise ConstraintError("the comparison names no feature")
    op = clause.op if clause.op in ("<=", ">=") else "=="
    return LinearClause(terms=tuple(terms.items()), op=op, bound=right_const - left_const)  # type: ignore[arg-type]


def resolve_condition(text: str, features: Mapping[str, FeatureModel]) -> Alternatives:
    """Parse ``text`` and resolve it against ``features``; ConstraintError explains any problem.

    Returns alternatives (``or``), each a tuple of clauses that must all hold (``and``).

    Examples
    --------
    >>> from constraints._schema import FeatureModel
    >>> fs = {"loan": FeatureModel(kind="binary", role="actionable"),
    ...       "debt": FeatureModel(kind="continuous", role="context")}
    >>> resolve_condition("loan becomes yes and debt <= 0.35", fs)  # doctest: +NORMALIZE_WHITESPACE
    ((ChangeClause(feature='loan', kind='changes'), MembershipClause(feature='loan',
     codes=frozenset({1})), LinearClause(terms=(('debt', 1.0),), op='<=', bound=0.35)),)
    """
    return tuple(_resolve_all(alternative, features) for alternative in parse_condition(text))


def _resolve_all(
    parsed_clauses: list[ParsedClause], features: Mapping[str, FeatureModel]
) -> tuple[Clause, ...]:
    clauses: list[Clause] = []
    for parsed in parsed_clauses:
        if isinstance(parsed, ParsedChange):
            feature = _feature(parsed.feature, features)
            if parsed.kind in ("increases", "decreases") and feature.kind == "categorical":
                raise ConstraintError(
                    f"{parsed.feature!r} is categorical: it can change but not "
                    f"{parsed.kind.removesuffix('s')}"
                )
            clauses.append(ChangeClause(feature=parsed.feature, kind=parsed.kind))  # type: ignore[arg-type]
        elif isinstance(parsed, ParsedMembership):
            feature = _feature(parsed.feature, features)
            if feature.kind not in ("categorical", "ordinal", "binary"):
                raise ConstraintError(
                    f"{parsed.feature!r} is {feature.kind}: compare it with <=, >= or =="
                )
            if parsed.becomes:
                clauses.append(ChangeClause(feature=parsed.feature, kind="changes"))
            clauses.append(_membership(parsed.feature, feature, parsed.values, parsed.negate))
        else:
            clauses.append(_compare(parsed, features))
    return tuple(clauses)


def resolve_linear(
    text: str, features: Mapping[str, FeatureModel]
) -> tuple[tuple[tuple[str, float], ...], float]:
    """Parse a linear expression over numeric or binary features: (terms, constant)."""
    terms, constant = _linear(parse_expression(text), features)
    return tuple((k, v) for k, v in terms.items() if v != 0.0), constant
