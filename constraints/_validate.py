"""Validate a parsed constraint file: its structure (pydantic), then its meaning.

Structural errors are worded by :mod:`constraints._pydantic_problems`; when the structure is
invalid, the parts that validate (:mod:`constraints._partial`) are still checked for meaning
(:mod:`constraints._document_check`), so every problem is listed at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from constraints._document_check import semantic_problems
from constraints._partial import Broken, partial_document
from constraints._pydantic_problems import pydantic_problems
from constraints._schema import ConstraintFile
from constraints._yaml_source import SourceMap
from constraints.errors import FileProblem

__all__ = ["validate_document"]


def _not_a_mapping(data: Any, smap: SourceMap) -> FileProblem:
    kinds = {str: "a text", int: "a number", float: "a number", list: "a list"}
    got = "an empty file" if data is None else kinds.get(type(data), "a single value")
    return FileProblem(
        source=smap.source,
        line=smap.line_of(()) if data is not None else 0,
        path="",
        message=f"a constraint file must be a mapping with name and features. Got {got}.",
        hint="start from the example in docs/constraints.md.",
    )


def validate_document(
    data: Any, smap: SourceMap
) -> tuple[ConstraintFile | None, list[FileProblem]]:
    """Validate parsed YAML: structure (pydantic) and meaning; every problem is listed.

    Returns the document (``None`` when any problem is an error) and every problem and
    warning, sorted by line then key path.
    """
    if not isinstance(data, dict):
        return None, [_not_a_mapping(data, smap)]
    problems: list[FileProblem] = []
    doc: ConstraintFile | None = None
    broken: Broken = {}
    try:
        doc = ConstraintFile.model_validate(data)
        partial = doc
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, data, smap))
        partial, broken = partial_document(data)
    problems.extend(semantic_problems(partial, smap, broken))
    problems.sort(key=lambda p: (p.line, p.path))
    if any(p.severity == "error" for p in problems):
        doc = None
    return doc, problems
