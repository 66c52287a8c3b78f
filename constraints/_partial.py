"""The parts of an invalid document that validate on their own, for the checks of meaning.

When pydantic refuses a document, rules, derived features and groups are still checked
against the features that do validate (or a stand-in keeping what rules need), so the expert
sees every problem at once; problems caused only by the keys left out are not repeated.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from constraints._product_rules import partial_products
from constraints._schema import ConstraintFile, FeatureModel, RuleModel

__all__ = ["Broken", "from_left_out_keys", "partial_document"]

Broken = dict[str, tuple[FeatureModel, frozenset[str]]]
"""Feature name -> (what validates of it, the keys left out) for every invalid feature."""

_KIND_OF_KEY = {"categories": "categorical", "order": "ordinal", "values": "binary"}


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
            removed |= bad
            for key in bad:
                kept.pop(key, None)
    return _stand_in(raw), frozenset({"kind"})


def _partial_features(data: dict[str, Any]) -> tuple[dict[str, FeatureModel], Broken]:
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
    return features, broken


def _partial_rules(data: dict[str, Any]) -> list[RuleModel]:
    """Every rule that validates; an invalid one becomes an empty rule (never checked)."""
    rules: list[RuleModel] = []
    raw_rules = data.get("rules")
    if isinstance(raw_rules, list):
        for raw in raw_rules:
            try:
                rules.append(RuleModel.model_validate(raw))
            except ValidationError:
                rules.append(RuleModel.model_construct(require=""))
    return rules


def _text_map(data: dict[str, Any], key: str) -> dict[str, Any]:
    raw = data.get(key)
    return {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}


def _name_lists(data: dict[str, Any], key: str) -> dict[str, list[str]]:
    return {
        k: v
        for k, v in _text_map(data, key).items()
        if isinstance(v, list) and all(isinstance(x, str) for x in v)
    }


def partial_document(data: dict[str, Any]) -> tuple[ConstraintFile, Broken]:
    """Return the parts of a document that validate on their own (for semantic checks)."""
    features, broken = _partial_features(data)
    doc = ConstraintFile.model_construct(
        name=str(data.get("name", "")),
        features=features,
        rules=_partial_rules(data),
        derived={k: v for k, v in _text_map(data, "derived").items() if isinstance(v, str)},
        one_hot=_name_lists(data, "one_hot"),
        change_groups=_name_lists(data, "change_groups"),
        products=partial_products(data),
        max_changes=None,
    )
    return doc, broken


def from_left_out_keys(suffix: tuple[Any, ...], message: str, removed: frozenset[str]) -> bool:
    """Whether a feature problem comes from keys left out of a partly invalid feature."""
    if "kind" in removed and (
        not suffix or str(suffix[0]) in ("direction", "role", "cost") or "apply to" in message
    ):
        return True
    if suffix and str(suffix[0]) in removed:
        return True
    return not suffix and bool(removed & {"categories", "order", "values", "min", "max"})
