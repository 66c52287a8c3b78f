"""Per-product lever rules (``products:`` in a constraint file): their checks and bound form.

``products.<name>.not_levers`` lists features that are not levers for one product: when levers
aim at that product those features are kept as they are (frozen, like an immutable feature);
every other product is unchanged. The product names are checked against the recommender's
catalogue by the advisor (this package does not know the products), the feature names here.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from constraints._resolve import did_you_mean
from constraints._schema import ConstraintFile, ProductModel
from constraints._types import ProductRule
from constraints._yaml_source import Path, SourceMap
from constraints.errors import FileProblem

__all__ = ["partial_products", "product_problems", "product_rules_of"]


def _problem(
    smap: SourceMap, path: Path, message: str, hint: str = "", severity: str = "error"
) -> FileProblem:
    return smap.problem(path, message, hint, "warning" if severity == "warning" else "error")


def _feature_problem(doc: ConstraintFile, name: str) -> tuple[str, str, str] | None:
    """(message, hint, severity) when ``name`` cannot be listed as not a lever, else None."""
    feature = doc.features.get(name)
    if feature is None:
        hint = did_you_mean(name, list(doc.features)).strip()
        return (
            f"must name features listed under features. Got {name!r}.",
            hint or "list the feature under features first, or remove it here.",
            "error",
        )
    if name in doc.derived:
        return (
            f"must not name a derived feature (it follows its sources). Got {name!r}.",
            "list the features it is computed from instead.",
            "error",
        )
    if feature.role == "immutable":
        return (
            f"names an immutable feature, never a lever for any product already. Got {name!r}.",
            "remove it here.",
            "warning",
        )
    return None


def product_problems(doc: ConstraintFile, smap: SourceMap) -> list[FileProblem]:
    """Problems of the ``products`` section: unknown, derived or repeated features.

    Examples
    --------
    >>> from constraints._load import inspect_constraint_file
    >>> text = '''
    ... name: t
    ... features:
    ...   card: {kind: binary, role: actionable}
    ... products:
    ...   savings: {not_levers: [cards]}
    ... '''
    >>> print(inspect_constraint_file(text, "t.yaml")[1][0])
    t.yaml:6 products.savings.not_levers[0]: must name features listed under features. Got 'cards'. Hint: Did you mean 'card'?
    """  # noqa: E501
    out: list[FileProblem] = []
    for product, rule in doc.products.items():
        seen: set[str] = set()
        for i, name in enumerate(rule.not_levers):
            path: Path = ("products", product, "not_levers", i)
            if name in seen:
                out.append(
                    _problem(
                        smap,
                        path,
                        f"must list each feature once. Got {name!r} twice.",
                        "remove the second one.",
                    )
                )
                continue
            seen.add(name)
            found = _feature_problem(doc, name)
            if found is not None:
                out.append(_problem(smap, path, *found))
    return out


def partial_products(data: dict[str, Any]) -> dict[str, ProductModel]:
    """Return the products of an invalid document whose rules validate on their own."""
    raw = data.get("products")
    if not isinstance(raw, dict):
        return {}
    products: dict[str, ProductModel] = {}
    for name, entry in raw.items():
        try:
            products[str(name)] = ProductModel.model_validate(entry)
        except ValidationError:
            continue
    return products


def product_rules_of(doc: ConstraintFile) -> tuple[ProductRule, ...]:
    """Return the file's per-product rules, in the file's order."""
    return tuple(
        ProductRule(
            product=product,
            not_levers=tuple(rule.not_levers),
            description=rule.description,
        )
        for product, rule in doc.products.items()
    )
