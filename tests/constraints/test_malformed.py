"""A corpus of malformed constraint files, each answered with the expected messages.

Every file under ``malformed/`` holds one family of mistakes an expert makes (a few hold
several, to prove every problem is listed at once). Every file under ``malformed_binding/`` is a
valid file that fails when bound to the CSV of the same stem (no CSV: bound with no data).

Each file starts with ``# expect:`` comment lines, one per expected problem, written as
``str(problem)`` prints it: ``<file>:<line> <key.path>: <what must hold>. Got <value>.``.
Matching convention (one rule, three forms):

- an expectation with no `` Hint: `` must equal the problem printed without its hint (the hint
  is not checked);
- an expectation ending in `` Hint: ...`` must equal the problem printed without its hint, and
  the problem must have a hint (one is needed; its wording is left free);
- any other expectation with `` Hint: `` must equal ``str(problem)`` exactly.

The expectations say what a demanding business user should read, so a case fails when the
message is wrong or unclear, not only when it is missing. Warnings count only when expected;
every error must be expected (nothing extra, nothing missing). A YAML syntax error stops the
reader, so such a file can only report that one problem: each syntax-error file of the corpus
holds exactly one mistake, and the count check applies to it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from constraints import (
    ConstraintFileError,
    FileProblem,
    bind_constraints,
    inspect_constraint_file,
    load_constraint_file,
    parse_constraint_file,
)

HERE = Path(__file__).parent
MALFORMED = sorted((HERE / "malformed").glob("*.yaml"))
BINDING = sorted((HERE / "malformed_binding").glob("*.yaml"))
EXPECT = "# expect: "
ANY_HINT = " Hint: ..."


def _expectations(text: str) -> list[str]:
    return [line[len(EXPECT) :].rstrip() for line in text.splitlines() if line.startswith(EXPECT)]


def _without_hint(problem: FileProblem) -> str:
    text = str(problem)
    return text[: -len(f" Hint: {problem.hint}")] if problem.hint else text


def _matches(expected: str, problem: FileProblem) -> bool:
    if expected.endswith(ANY_HINT):
        return bool(problem.hint) and _without_hint(problem) == expected[: -len(ANY_HINT)]
    if " Hint: " in expected:
        return str(problem) == expected
    return _without_hint(problem) == expected


def _has_content(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _check(name: str, text: str, problems: tuple[FileProblem, ...]) -> None:
    """Compare the problems with the file's expectations; report every difference at once."""
    expected = _expectations(text)
    assert expected, f"{name}: the file has no '# expect:' line"
    failures: list[str] = []
    n_lines = len(text.splitlines())
    for problem in problems:
        if problem.source != name:
            failures.append(f"source must be the file name {name!r}. Got {problem.source!r}.")
        in_file = _has_content(text) or problem.line
        if in_file and not 0 < problem.line <= n_lines:
            failures.append(f"line must be within 1..{n_lines}. Got {problem.line}: {problem}")
    unused = list(problems)
    for line in expected:
        found = next((p for p in unused if _matches(line, p)), None)
        if found is None:
            failures.append(f"expected, not reported:\n      {line}")
        else:
            unused.remove(found)
    failures += [f"reported, not expected:\n      {p}" for p in unused if p.severity == "error"]
    if failures:
        shown = "\n".join(f"    [{p.severity}] {p}" for p in problems) or "    (none)"
        pytest.fail(
            f"{name}:\n  " + "\n  ".join(failures) + f"\n  every problem reported:\n{shown}",
            pytrace=False,
        )


def test_corpus_is_large_enough() -> None:
    assert len(MALFORMED) == 85  # every file of the corpus, counted: none lost on the way
    assert len(BINDING) == 9
    for path in (*MALFORMED, *BINDING):
        assert _expectations(path.read_text(encoding="utf-8")), path.name


def _raised_problems(
    path: Path, text: str, action: Callable[[], object]
) -> tuple[FileProblem, ...]:
    """Run ``action``; it must raise ConstraintFileError (never another exception)."""
    try:
        action()
    except ConstraintFileError as exc:
        return exc.problems
    except Exception as exc:
        pytest.fail(
            f"{path.name}: raised {type(exc).__name__} ({exc}), not ConstraintFileError",
            pytrace=False,
        )
    pytest.fail(f"{path.name}: accepted; expected {_expectations(text)}", pytrace=False)


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_file_is_answered_with_the_expected_messages(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    errors = _raised_problems(path, text, lambda: load_constraint_file(path))
    assert all(p.severity == "error" for p in errors), [str(p) for p in errors]
    # inspect_constraint_file gives the same errors, plus the warnings (matched when expected).
    doc, problems = inspect_constraint_file(text, path.name)
    assert doc is None
    assert [str(p) for p in errors] == [str(p) for p in problems if p.severity == "error"]
    _check(path.name, text, problems)
    assert all(p.hint for p in errors), [str(p) for p in errors if not p.hint]


@pytest.mark.parametrize("path", BINDING, ids=[p.name for p in BINDING])
def test_binding_problem_is_answered_with_the_expected_messages(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    doc = parse_constraint_file(text, path.name)  # the file itself is valid
    csv = path.with_suffix(".csv")
    frame = pd.read_csv(csv) if csv.is_file() else None
    problems = _raised_problems(path, text, lambda: bind_constraints(doc, frame))
    _check(path.name, text, problems)
    assert all(p.hint for p in problems), [str(p) for p in problems if not p.hint]
