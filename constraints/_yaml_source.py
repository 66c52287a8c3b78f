"""Read YAML while remembering where each key and value came from.

PyYAML (YAML 1.1) has traps for business experts: unquoted ``no``/``yes``/``on``/``off``
become booleans, ``1e3`` stays text, and a key written twice silently keeps the last value.
:func:`read_yaml` returns the data plus a :class:`SourceMap` (line of every key path, the
original text of every boolean word) and refuses duplicate keys.

It is also the guard against hostile files: before anything is composed, the event stream
is scanned and anchors or aliases (the "billion laughs" expansion) and nesting deeper than
:data:`~constraints._limits.MAX_DEPTH` are refused; texts above
:data:`~constraints._limits.MAX_FILE_BYTES` characters are not parsed at all, and every
number must be finite and within :data:`~constraints._limits.MAX_NUMBER`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from constraints._limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NUMBER, MAX_NUMBER_TEXT
from constraints.errors import FileProblem

__all__ = [
    "Path",
    "SourceMap",
    "YamlDocument",
    "format_path",
    "read_yaml",
    "scan_structure",
    "size_problem",
]

Path = tuple[Any, ...]
_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@dataclass(slots=True)
class SourceMap:
    """Lines of key paths in one YAML document, and where YAML turned words into booleans."""

    source: str
    lines: dict[Path, int] = field(default_factory=dict)
    bool_words: dict[Path, str] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """Return the line of ``path``, or of its nearest ancestor that has one (0 if none)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line:
                return line
        return 0

    def problem(
        self,
        path: Path,
        message: str,
        hint: str = "",
        severity: Literal["error", "warning"] = "error",
    ) -> FileProblem:
        """Return a problem of this document located at ``path`` (its line and key path)."""
        return FileProblem(
            source=self.source,
            line=self.line_of(path),
            path=format_path(path),
            message=message,
            hint=hint,
            severity=severity,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlDocument:
    """The data of a YAML document, where it came from, and the problems found reading it."""

    data: Any
    source_map: SourceMap
    problems: tuple[FileProblem, ...]
    replaced: frozenset[str] = frozenset()
    """Key paths whose value was refused here (a number out of range, then read as empty), and
    their parents: validation problems there only echo the refusal."""


def format_path(path: Path) -> str:
    """Return ``features.age.categories[2]`` for ``("features", "age", "categories", 2)``."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _key_value(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node)
        finally:
            loader.dispose()
    return f"<{type(node).__name__}>"


def _is_bool_word(node: yaml.ScalarNode) -> bool:
    """Whether YAML 1.1 turned a plain word such as ``no`` or ``on`` into a boolean."""
    return (
        node.tag == _BOOL_TAG and node.style is None and node.value.lower() not in ("true", "false")
    )


class _Walker:
    def __init__(self, source_map: SourceMap) -> None:
        self.map = source_map
        self.problems: list[FileProblem] = []
        self.number_paths: set[str] = set()

    def check_number(self, node: yaml.ScalarNode, path: Path) -> None:
        """Refuse numbers that are infinite, NaN or too large for floating point."""
        value = _key_value(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if isinstance(value, float) and math.isfinite(value) and abs(value) <= MAX_NUMBER:
            return
        if isinstance(value, int) and abs(value) <= MAX_NUMBER:
            return
        shown = (
            node.value
            if len(node.value) <= 24
            else f"{node.value[:20]}... ({len(node.value)} characters)"
        )
        self.problems.append(
            FileProblem(
                source=self.map.source,
                line=node.start_mark.line + 1,
                path=format_path(path),
                message=f"numbers must be finite and at most {MAX_NUMBER_TEXT} in size. "
                f"Got {shown}.",
                hint="write the real value"
                + (
                    "; to leave a bound open, leave the key out."
                    if path[-1:] in (("min",), ("max",))
                    else "."
                ),
            )
        )
        # Let validation see no value here rather than a number floating point cannot hold.
        node.tag, node.value = "tag:yaml.org,2002:null", ""
        self.number_paths.update((format_path(path), format_path(path[:-1])))

    def walk(self, node: yaml.Node, path: Path) -> None:
        self.map.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            if _is_bool_word(node):
                self.map.bool_words[path] = node.value
            elif node.tag in _NUMBER_TAGS:
                self.check_number(node, path)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.walk(item, (*path, i))
        elif isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = _key_value(key_node)
                line = key_node.start_mark.line + 1
                if isinstance(key_node, yaml.ScalarNode) and _is_bool_word(key_node):
                    self.map.bool_words[(*path, key, "[key]")] = key_node.value
                hashable = key if not isinstance(key, (list, dict)) else repr(key)
                if hashable in seen:
                    self.problems.append(
                        FileProblem(
                            source=self.map.source,
                            line=line,
                            path=format_path((*path, key)),
                            message=(
                                f"each key may appear once. Got it again (first on line "
                                f"{seen[hashable]})."
                            ),
                            hint="merge the two entries; YAML would silently keep only the last.",
                        )
                    )
                    continue
                seen[hashable] = line
                self.map.lines[(*path, key)] = line
                self.walk(value_node, (*path, key))


def _syntax_problem(source: str, text: str, exc: yaml.YAMLError) -> FileProblem:
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    opened = context.startswith(("while scanning a quoted", "while parsing a flow"))
    mark = context_mark if opened and context_mark is not None else problem_mark or context_mark
    lines = text.splitlines()
    line = min(mark.line + 1, max(len(lines), 1)) if mark is not None else 0
    hint = "check the indentation and the quotes on this line and the one above."
    if "\t" in what or "tab" in what or "'\\t'" in what:
        hint = "YAML forbids tabs for indentation: indent with spaces."
    elif (
        context.startswith("while parsing a flow mapping")
        and 0 < line <= len(lines)
        and re.search(r"\{\w+\}", lines[line - 1])
    ):
        hint = (
            "quote a text that holds { or } inside {...}, e.g. {en: 'Save {after} €', fr: '...'}."
        )
    elif context.startswith("while scanning a quoted"):
        hint = "close the quote opened on this line."
    elif context.startswith("while parsing a flow"):
        hint = "close the bracket or brace opened on this line, and quote texts containing : or ,."
    detail = f"{context}, {what}" if context else what
    return FileProblem(
        source=source,
        line=line,
        path="",
        message=f"the file must be valid YAML. Got a syntax error: {detail}.",
        hint=hint,
    )


def _hostile_problem(source: str, line: int, message: str, hint: str) -> FileProblem:
    return FileProblem(source=source, line=line, path="", message=message, hint=hint)


def scan_structure(text: str, source: str) -> FileProblem | None:
    r"""Refuse anchors, aliases and deep nesting from the event stream, before composing.

    Nothing is built: events are read one at a time, so a "billion laughs" file is refused
    at its first anchor, in constant memory. A syntax error stops the scan (``None``); the
    composer then reports it as usual.

    Examples
    --------
    >>> print(scan_structure("a: &x [1]\nb: *x\n", "x.yaml"))  # doctest: +ELLIPSIS
    x.yaml:1: anchors and aliases must not be used in a constraint file. Got &x. Hint: ...
    >>> scan_structure("a: [1, {b: 2}]", "x.yaml") is None
    True
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError:
        return None  # unprintable characters: reported by read_yaml
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()  # type: ignore[no-untyped-call]
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = "*" if isinstance(event, yaml.AliasEvent) else "&"
                return _hostile_problem(
                    source,
                    line,
                    f"anchors and aliases must not be used in a constraint file. Got "
                    f"{mark}{str(event.anchor)[:40]}.",
                    "write the values out in full (an alias repeats a part of the file; "
                    "nested aliases can make a small file expand to gigabytes).",
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return _hostile_problem(
                        source,
                        line,
                        f"mappings and lists must nest at most {MAX_DEPTH} levels deep. Got "
                        f"level {depth} here.",
                        "a constraint file needs 5 levels (features, a feature, transitions, "
                        "a category, its list): check the brackets and indentation.",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return None


def _unprintable_problem(source: str, text: str, position: int) -> FileProblem:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return _hostile_problem(
        source,
        line,
        f"the file must be printable text. Got the control character "
        f"U+{ord(text[position]):04X} at character {column} of line {line}.",
        "remove it; a file full of them was probably saved as UTF-16 or is not text: save it "
        "as UTF-8.",
    )


def size_problem(n_chars: int, source: str) -> FileProblem | None:
    """Refuse a text longer than :data:`~constraints._limits.MAX_FILE_BYTES` characters."""
    if n_chars <= MAX_FILE_BYTES:
        return None
    return _hostile_problem(
        source,
        0,
        f"a constraint file must be at most 1 MB ({MAX_FILE_BYTES:,} characters). Got "
        f"{n_chars:,} characters.",
        "constraint files are a few kilobytes: check that this is the right file.",
    )


def read_yaml(text: str, source: str) -> YamlDocument:
    r"""Parse one YAML document, with a source map; syntax errors become problems.

    Texts above 1 MB, anchors and aliases, nesting deeper than 32 levels and numbers beyond
    1e15 (or infinite) are refused as problems too, before anything large is built.

    Parameters
    ----------
    text
        The YAML text.
    source
        Name used in problems (usually the file name).

    Returns
    -------
    YamlDocument
        ``data`` is ``None`` when the text is empty or unreadable (see ``problems``).

    Examples
    --------
    >>> doc = read_yaml("a:\n  b: no\n", "x.yaml")
    >>> doc.data, doc.source_map.lines[("a", "b")], doc.source_map.bool_words
    ({'a': {'b': False}}, 2, {('a', 'b'): 'no'})
    >>> read_yaml("a: " + "[" * 40 + "]" * 40, "x.yaml").problems[0].message
    'mappings and lists must nest at most 32 levels deep. Got level 33 here.'
    """
    source_map = SourceMap(source=source)
    refused = size_problem(len(text), source) or scan_structure(text, source)
    if refused is not None:
        return YamlDocument(data=None, source_map=source_map, problems=(refused,))
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        problem = _unprintable_problem(source, text, exc.position)
        return YamlDocument(data=None, source_map=source_map, problems=(problem,))
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(data=None, source_map=source_map, problems=())
        walker = _Walker(source_map)
        walker.walk(node, ())
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        return YamlDocument(
            data=None, source_map=source_map, problems=(_syntax_problem(source, text, exc),)
        )
    finally:
        loader.dispose()
    return YamlDocument(
        data=data,
        source_map=source_map,
        problems=tuple(walker.problems),
        replaced=frozenset(walker.number_paths),
    )
