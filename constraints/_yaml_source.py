"""Read YAML while remembering where each key and value came from.

PyYAML (YAML 1.1) has traps for business experts: unquoted ``no``/``yes``/``on``/``off``
become booleans, ``1e3`` stays text, and a key written twice silently keeps the last value.
:func:`read_yaml` returns the data plus a :class:`SourceMap` (line of every key path, the
original text of every boolean word) and refuses duplicate keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from constraints.errors import FileProblem

__all__ = ["Path", "SourceMap", "YamlDocument", "format_path", "read_yaml"]

Path = tuple[Any, ...]
_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlDocument:
    """The data of a YAML document, where it came from, and the problems found reading it."""

    data: Any
    source_map: SourceMap
    problems: tuple[FileProblem, ...]


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

    def walk(self, node: yaml.Node, path: Path) -> None:
        self.map.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            if _is_bool_word(node):
                self.map.bool_words[path] = node.value
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


def read_yaml(text: str, source: str) -> YamlDocument:
    r"""Parse one YAML document, with a source map; syntax errors become problems.

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
    """
    source_map = SourceMap(source=source)
    loader = yaml.SafeLoader(text)
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
    return YamlDocument(data=data, source_map=source_map, problems=tuple(walker.problems))
