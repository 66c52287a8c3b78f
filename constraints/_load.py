"""Read, write and bind constraint files."""

from __future__ import annotations

import codecs
import json
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from constraints._bind import bind_document
from constraints._limits import MAX_FILE_BYTES
from constraints._product_rules import product_rules_of
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
    "read_constraint_text",
]


def _utf8_problem(raw: bytes, exc: UnicodeDecodeError) -> str:
    offset = exc.start
    line = raw.count(b"\n", 0, offset) + 1
    return (
        f"must be UTF-8 text. Got byte 0x{raw[offset]:02X} at byte offset {offset:,} "
        f"(line {line}), which is not UTF-8 (the file is probably latin-1 or Windows-1252). "
        "Hint: save it as UTF-8 (in most editors: Save with encoding, UTF-8)."
    )


def decode_constraint_bytes(raw: bytes, where: str) -> str:
    r"""Decode a constraint file's bytes as UTF-8 (a UTF-8 BOM is accepted), or raise clearly.

    Examples
    --------
    >>> decode_constraint_bytes(b"\xef\xbb\xbfname: x\n", "x.yaml")
    'name: x\n'
    >>> decode_constraint_bytes("name: café".encode("latin-1"), "x.yaml")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    constraints.errors.ConstraintError: x.yaml: must be UTF-8 text. Got byte 0xE9 at byte ...
    """
    boms = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    bom = next((b for b in boms if raw.startswith(b)), None)
    if bom is not None or b"\x00" in raw:
        offset = 0 if bom is not None else raw.index(b"\x00")
        why = (
            "starts with a UTF-16/32 byte-order mark"
            if bom
            else f"holds a NUL byte at byte offset {offset:,}"
        )
        raise ConstraintError(
            f"{where}: must be UTF-8 text. Got UTF-16 (or binary) text: the file {why}. "
            "Hint: save it as UTF-8 (in most editors: Save with encoding, UTF-8)."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConstraintError(f"{where}: {_utf8_problem(raw, exc)}") from exc


def read_constraint_text(path: str | os.PathLike[str]) -> str:
    """Read a constraint file's text: a regular file of at most 1 MB, in UTF-8.

    The size is checked before reading and the bytes are read once. A missing file, a
    folder, a device or pipe, an unreadable file, a file above 1 MB or text that is not UTF-8
    is a :class:`~constraints.errors.ConstraintError` naming the path and the fix.

    Examples
    --------
    >>> read_constraint_text("configs/demo-portfolio.yaml").startswith("# ")
    True
    >>> read_constraint_text("configs")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    constraints.errors.ConstraintError: configs: must be a constraint file (YAML). Got a ...
    """
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ConstraintError(f"path: must be a file path. Got {type(path).__name__}.")
    file = Path(path)
    try:
        info = file.stat()
    except FileNotFoundError as exc:
        raise ConstraintError(
            f"{file}: must be a constraint file (YAML). Got nothing there."
        ) from exc
    except (OSError, ValueError) as exc:
        raise ConstraintError(
            f"{file}: must be a readable constraint file (YAML). Got {_os_reason(exc)}."
        ) from exc
    if stat.S_ISDIR(info.st_mode):
        raise ConstraintError(f"{file}: must be a constraint file (YAML). Got a folder there.")
    if not stat.S_ISREG(info.st_mode):
        raise ConstraintError(
            f"{file}: must be a constraint file (YAML). Got a device, pipe or socket there."
        )
    if info.st_size > MAX_FILE_BYTES:
        raise ConstraintError(_too_big(file, info.st_size))
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConstraintError(
            f"{file}: must be a readable constraint file (YAML). Got {_os_reason(exc)}. "
            "Hint: check the file's permissions."
        ) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConstraintError(_too_big(file, len(raw)))
    return decode_constraint_bytes(raw, str(file))


def _os_reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc).lower()


def _too_big(file: Path, size: int) -> str:
    return (
        f"{file}: a constraint file must be at most 1 MB ({MAX_FILE_BYTES:,} bytes). Got "
        f"{size:,} bytes. Hint: constraint files are a few kilobytes: check that this is the "
        "right file."
    )


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
    problems = [p for p in problems if p.path not in read.replaced]
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
    text = read_constraint_text(path)
    return parse_constraint_file(text, Path(path).name)


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
        goal=doc.goal,
        id_column=doc.id_column,
        product_rules=product_rules_of(doc),
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
