"""Hostile constraint files are refused cleanly, at every entry point, in little memory.

Each case is generated here: a "billion laughs" alias bomb, nesting 5,000 levels deep, files
above 1 MB, latin-1 and UTF-16 bytes, folders and missing files, rules with thousands of
parentheses, numbers beyond floating point. The oracle is the documented limit (docs:
Limits): every answer is a ConstraintError (a FileProblem naming file and line when the text
was read), never RecursionError, OverflowError, UnicodeDecodeError or IsADirectoryError.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constraints import (
    ConstraintError,
    ConstraintFileError,
    FileProblem,
    inspect_constraint_file,
    load_constraint_file,
    load_constraints,
    parse_constraint_file,
    parse_constraints,
    read_constraint_text,
)

HEAD = "name: t\nfeatures:\n  a: {kind: integer, role: actionable}\n"
MB = 1_048_576


def alias_bomb(levels: int) -> str:
    """Return the "billion laughs" pattern: each level repeats the previous one nine times."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return HEAD + "\n".join(lines) + "\n"


def problems_from_text(text: str) -> dict[str, tuple[FileProblem, ...]]:
    """The problems every text entry point gives (each must raise or return them, nothing else)."""
    out: dict[str, tuple[FileProblem, ...]] = {}
    doc, found = inspect_constraint_file(text, "h.yaml")
    assert doc is None
    out["inspect_constraint_file"] = found
    actions: dict[str, Callable[[], object]] = {
        "parse_constraint_file": lambda: parse_constraint_file(text, "h.yaml"),
        "parse_constraints": lambda: parse_constraints(text, None, source="h.yaml"),
    }
    for name, action in actions.items():
        with pytest.raises(ConstraintFileError) as info:
            action()
        out[name] = info.value.problems
    return out


def problems_from_file(path: Path) -> dict[str, tuple[FileProblem, ...]]:
    out: dict[str, tuple[FileProblem, ...]] = {}
    for name, action in (
        ("load_constraint_file", load_constraint_file),
        ("load", load_constraints),
    ):
        with pytest.raises(ConstraintFileError) as info:
            action(path)
        out[name] = info.value.problems
    return out


def only_problem(found: dict[str, tuple[FileProblem, ...]]) -> FileProblem:
    """The single problem every entry point reported (the same one everywhere)."""
    first = next(iter(found.values()))
    assert len(first) == 1, [str(p) for p in first]

    def what(p: FileProblem) -> tuple[int, str, str, str]:
        return p.line, p.path, p.message, p.hint

    for problems in found.values():
        assert [what(p) for p in problems] == [what(first[0])]
    return first[0]


# --- anchors and aliases -------------------------------------------------------------------


def test_the_alias_bomb_is_refused_at_its_first_anchor_in_little_memory(tmp_path: Path) -> None:
    # Five levels expand to 59,049 strings and as many stored key paths; nine (581 bytes)
    # expanded to gigabytes before the refusal. Five keep a regression from taking the
    # machine down while still failing the memory ceiling by far.
    text = alias_bomb(5)
    tracemalloc.start()
    try:
        found = problems_from_text(text)
        path = tmp_path / "bomb.yaml"
        path.write_text(text, encoding="utf-8")
        found |= problems_from_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    problem = only_problem(found)
    assert str(problem) == (
        "h.yaml:4: anchors and aliases must not be used in a constraint file. Got &l0. Hint: "
        "write the values out in full (an alias repeats a part of the file; nested aliases "
        "can make a small file expand to gigabytes)."
    )
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"


FULL_BOMB_CHILD = """
import resource, sys, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))
from constraints import inspect_constraint_file
text = sys.stdin.read()
tracemalloc.start()
_, problems = inspect_constraint_file(text, "bomb.yaml")
print(tracemalloc.get_traced_memory()[1], [p.line for p in problems])
"""


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_AS")
def test_the_full_581_byte_bomb_is_refused_in_little_memory() -> None:
    # Nine levels (about 600 bytes) expand to gigabytes: run in a child process whose address
    # space is capped, so that a regression fails this test instead of the machine.
    text = alias_bomb(9)
    assert len(text.encode()) < 700
    code = FULL_BOMB_CHILD.replace("CAP_BYTES", str(3 * 1024**3))
    done = subprocess.run(
        [sys.executable, "-c", code], input=text, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    peak, lines = done.stdout.split(" ", 1)
    assert lines.strip() == "[4]"
    assert int(peak) < 4 * MB


@pytest.mark.parametrize(
    ("yaml_text", "line", "shown"),
    [
        ("base: &base {kind: integer, role: actionable}\n", 4, "&base"),
        ("  b: *x\n", 4, "*x"),
        ("  b:\n    <<: *x\n    role: context\n", 5, "*x"),
        ("  b: &anchor_only {kind: integer, role: context}\n", 4, "&anchor_only"),
    ],
)
def test_any_anchor_or_alias_is_refused_with_its_line(
    yaml_text: str, line: int, shown: str
) -> None:
    problem = only_problem(problems_from_text(HEAD + yaml_text))
    assert problem.line == line
    assert problem.message.endswith(f"Got {shown}.")
    assert "write the values out" in problem.hint


# --- nesting -------------------------------------------------------------------------------


def test_5000_levels_of_nesting_are_refused_not_a_recursion_error() -> None:
    text = HEAD + "deep: " + "[" * 5000 + "]" * 5000 + "\n"
    problem = only_problem(problems_from_text(text))
    assert str(problem) == (
        "h.yaml:4: mappings and lists must nest at most 32 levels deep. Got level 33 here. "
        "Hint: a constraint file needs 5 levels (features, a feature, transitions, a "
        "category, its list): check the brackets and indentation."
    )


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(1, 3000), block=st.booleans())
def test_nesting_is_refused_exactly_beyond_32_levels(depth: int, block: bool) -> None:
    # The document is a mapping (level 1); "deep" holds depth - 1 more levels.
    if block:  # indented by one space per level, to stay well below 1 MB
        depth = min(depth, 800)
        inner = "".join(f"{' ' * i}k:\n" for i in range(1, depth)) + " " * depth + "k: 1\n"
        text = HEAD + "deep:\n" + inner if depth > 1 else HEAD + "deep: 1\n"
        levels = depth + (1 if depth > 1 else 0)
    else:
        text = HEAD + "deep: " + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "\n"
        levels = depth
    _, problems = inspect_constraint_file(text, "h.yaml")
    deep = [p for p in problems if "nest at most 32 levels" in p.message]
    assert bool(deep) == (levels > 32)
    if deep:
        assert problems == tuple(deep)


# --- size ----------------------------------------------------------------------------------


def test_a_text_above_1_mb_is_refused_without_being_parsed() -> None:
    text = HEAD + "description: '" + "x" * MB + "'\n"
    problem = only_problem(problems_from_text(text))
    assert str(problem) == (
        f"h.yaml: a constraint file must be at most 1 MB (1,048,576 characters). Got "
        f"{len(text):,} characters. Hint: constraint files are a few kilobytes: check that "
        "this is the right file."
    )


def test_a_file_above_1_mb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # a sparse 4 GB file: reading it whole would show
        handle.write(HEAD.encode())
        handle.truncate(4 * 1024**3)
    tracemalloc.start()
    try:
        for action in (read_constraint_text, load_constraint_file, load_constraints):
            with pytest.raises(ConstraintError) as info:
                action(path)
            assert str(info.value) == (
                f"{path}: a constraint file must be at most 1 MB (1,048,576 bytes). Got "
                "4,294,967,296 bytes. Hint: constraint files are a few kilobytes: check that "
                "this is the right file."
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MB


def test_a_file_of_exactly_1_mb_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    filler = "#" * (MB - len(HEAD) - 1) + "\n"
    path.write_text(HEAD + filler, encoding="utf-8")
    assert path.stat().st_size == MB
    assert load_constraint_file(path).name == "t"


# --- encodings -----------------------------------------------------------------------------

ENTRY_POINTS: dict[str, Callable[[Path], object]] = {
    "read_constraint_text": read_constraint_text,
    "load_constraint_file": load_constraint_file,
    "load_constraints": load_constraints,
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_latin1_is_refused_with_the_byte_offset_and_the_fix(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes((HEAD + "description: Épargne\n").encode("latin-1"))
    offset = len(HEAD.encode()) + len("description: ")
    with pytest.raises(ConstraintError) as info:
        ENTRY_POINTS[entry](path)
    assert str(info.value) == (
        f"{path}: must be UTF-8 text. Got byte 0xC9 at byte offset {offset} (line 4), which "
        "is not UTF-8 (the file is probably latin-1 or Windows-1252). Hint: save it as UTF-8 "
        "(in most editors: Save with encoding, UTF-8)."
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_utf16_is_recognised_and_refused(tmp_path: Path, encoding: str, entry: str) -> None:
    path = tmp_path / "wide.yaml"
    path.write_bytes(HEAD.encode(encoding))
    with pytest.raises(ConstraintError) as info:
        ENTRY_POINTS[entry](path)
    message = str(info.value)
    assert message.startswith(f"{path}: must be UTF-8 text. Got UTF-16 (or binary) text: ")
    assert message.endswith("Hint: save it as UTF-8 (in most editors: Save with encoding, UTF-8).")
    with_bom = encoding in ("utf-16", "utf-32")
    assert ("byte-order mark" in message) == with_bom
    assert ("NUL byte at byte offset" in message) == (not with_bom)


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode())
    assert read_constraint_text(path) == HEAD
    assert load_constraint_file(path).name == "t"


# --- not a readable file -------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_folder_or_nothing_is_a_clean_error(tmp_path: Path, entry: str) -> None:
    action = ENTRY_POINTS[entry]
    with pytest.raises(ConstraintError, match=re.escape(f"{tmp_path}: ") + ".*Got a folder there"):
        action(tmp_path)
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConstraintError, match=re.escape(f"{missing}: ") + ".*Got nothing there"):
        action(missing)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    with pytest.raises(ConstraintError, match=r"Got a device, pipe or socket there\.$"):
        load_constraint_file(pipe)


def test_a_path_with_a_nul_byte_is_a_clean_error() -> None:
    with pytest.raises(ConstraintError, match=r"must be a readable constraint file"):
        load_constraint_file("bad\x00name.yaml")


@pytest.mark.parametrize(("character", "code"), [("\x00", "0000"), ("\x1b", "001B")])
def test_control_characters_in_the_text_are_a_problem_with_line_and_character(
    character: str, code: str
) -> None:
    problem = only_problem(problems_from_text(HEAD + f"description: ab{character}c\n"))
    assert str(problem) == (
        f"h.yaml:4: the file must be printable text. Got the control character U+{code} at "
        "character 16 of line 4. Hint: remove it; a file full of them was probably saved as "
        "UTF-16 or is not text: save it as UTF-8."
    )
