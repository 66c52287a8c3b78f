"""Read, write and bind constraint files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from constraints._bind import bind_document
from constraints._schema import ConstraintFile
from constraints._set import ConstraintSet
from constraints._validate import validate_document
from constraints._yaml_source import read_yaml
from constraints.errors import ConstraintError, ConstraintFileError, FileProblem

__all__ = [
    "bind_constraints",
    "constraint_file_schema",
    "dump_constraint_file",
    "inspect_constraint_file",
    "load_constraint_file",
    "load_constraints",
    "parse_constraint_file",
    "parse_constraints",
]


def _read_text(path: str | os.PathLike[str]) -> tuple[str, str]:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ConstraintError(f"path: must be a file path. Got {type(path).__name__}.")
    file = Path(path)
    if not file.is_file():
        what = "a folder" if file.is_dir() else "nothing"
        raise ConstraintError(f"{file}: must be a constraint file (YAML). Got {what} there.")
    try:
        return file.read_text(encoding="utf-8"), file.name
    except UnicodeDecodeError as exc:
        raise ConstraintError(f"{file}: must be UTF-8 text. Got bytes that are not.") from exc


def inspect_constraint_file(
    text: str, source: str = "<string>"
) -> tuple[ConstraintFile | None, tuple[FileProblem, ...]]:
    r"""Validate YAML text and return (document or None, every problem and warning), never raising.

    Examples
    --------
    >>> doc, problems = inspect_constraint_file("name: x\nfeatures: {}\n", "x.yaml")
    >>> doc is None, problems[0].path, problems[0].message
    (True, 'features', 'must not be empty. Got an empty mapping.')
    >>> problems[0].hint
    "list the model's features, each with kind and role."
    """
    if not isinstance(text, str):
        raise ConstraintError(f"text: must be YAML text (str). Got {type(text).__name__}.")
    read = read_yaml(text, source)
    if read.problems and read.data is None:
        return None, read.problems
    doc, problems = validate_document(read.data, read.source_map)
    if read.problems:
        doc = None
        problems = sorted([*read.problems, *problems], key=lambda p: (p.line, p.path))
    if doc is not None:
        doc._source_map = read.source_map
    return doc, tuple(problems)


def parse_constraint_file(text: str, source: str = "<string>") -> ConstraintFile:
    r"""Validate YAML text into a ConstraintFile; ConstraintFileError lists every problem.

    Examples
    --------
    >>> doc = parse_constraint_file("name: t\nfeatures:\n  a: {kind: integer, role: actionable}")
    >>> doc.features["a"].kind
    'integer'
    >>> parse_constraint_file("name: t\nfeatures:\n  a: {kind: integer}", "t.yaml")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    constraints.errors.ConstraintFileError: t.yaml: 1 problem in the constraint file
    t.yaml:3 features.a.role: is required. Got nothing. Hint: add role: immutable (never ...
    """
    doc, problems = inspect_constraint_file(text, source)
    if doc is None:
        raise ConstraintFileError([p for p in problems if p.severity == "error"] or list(problems))
    return doc


def load_constraint_file(path: str | os.PathLike[str]) -> ConstraintFile:
    """Read and validate a constraint file (YAML).

    Examples
    --------
    >>> load_constraint_file("configs/demo-portfolio.yaml").max_changes
    3
    """
    text, name = _read_text(path)
    return parse_constraint_file(text, name)


def bind_constraints(doc: ConstraintFile, data: pd.DataFrame | None = None) -> ConstraintSet:
    r"""Compile a validated file into a ConstraintSet, resolving percentiles against ``data``.

    Binding checks that every feature is a column of ``data``, that categories and types
    match, and warns (``ConstraintSet.notes``) about bounds outside the observed range.

    Examples
    --------
    >>> import pandas as pd
    >>> text = "name: t\nfeatures:\n  a: {kind: integer, role: actionable, max: p90}"
    >>> doc = parse_constraint_file(text)
    >>> bind_constraints(doc, pd.DataFrame({"a": range(11)})).feature("a").upper
    9.0
    """
    if not isinstance(doc, ConstraintFile):
        raise ConstraintError(f"doc: must be a ConstraintFile. Got {type(doc).__name__}.")
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ConstraintError(
            f"data: must be a pandas DataFrame or None. Got {type(data).__name__}."
        )
    bound = bind_document(doc, data, doc.source_map)
    return ConstraintSet(
        name=doc.name,
        features=bound.features,
        rules=bound.rules,
        derived=bound.derived,
        one_hot=bound.one_hot,
        change_groups=bound.change_groups,
        max_changes=doc.max_changes,
        support=bound.support,
        notes=bound.notes,
    )


def load_constraints(
    path: str | os.PathLike[str], data: pd.DataFrame | None = None
) -> ConstraintSet:
    """Read a constraint file and bind it (to ``data`` when given).

    Examples
    --------
    Percentile bounds (``max: p99``) need the data:

    >>> load_constraints("configs/demo-portfolio.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    constraints.errors.ConstraintFileError: demo-portfolio.yaml: 1 problem in the constraint file
    demo-portfolio.yaml:... features.monthly_savings_transfer.max: a percentile bound needs data...
    """
    return bind_constraints(load_constraint_file(path), data)


def parse_constraints(
    text: str, data: pd.DataFrame | None = None, source: str = "<string>"
) -> ConstraintSet:
    r"""Validate YAML text and bind it (to ``data`` when given).

    Examples
    --------
    >>> text = "name: t\nfeatures:\n  a: {kind: binary, role: actionable}"
    >>> parse_constraints(text).feature_names
    ('a',)
    """
    return bind_constraints(parse_constraint_file(text, source), data)


def dump_constraint_file(doc: ConstraintFile) -> str:
    r"""Write a ConstraintFile back to YAML (defaults left out); reading it gives ``doc`` again.

    Examples
    --------
    >>> print(dump_constraint_file(parse_constraint_file(
    ...     "name: t\nfeatures:\n  a: {kind: binary, role: actionable}")), end="")
    name: t
    features:
      a:
        kind: binary
        role: actionable
    """
    data: Any = doc.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)
    data = {"name": data.pop("name"), **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def constraint_file_schema() -> dict[str, Any]:
    """Return the JSON Schema of constraint files (for editors' YAML completion).

    Examples
    --------
    >>> sorted(constraint_file_schema()["properties"])[:4]
    ['change_groups', 'derived', 'description', 'features']
    """
    schema = ConstraintFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Levers constraint file"
    json.dumps(schema)
    return schema
