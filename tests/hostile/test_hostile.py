"""The hostile-input bar of issue 14: every case of the corpus ends cleanly.

The corpus (tests/hostile/cases.py) is written once into a temporary folder and run by the
runner in two worker subprocesses under a 2 GiB address-space ceiling and a 20 s limit per
case. Each category is one test, failing with the list of its failing cases and their first
output lines: 0 tracebacks, 0 hangs, 0 silent wrong answers, 0 corrupted files, 0 memory
blow-ups (and no vague or wrongful refusal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.hostile.cases import CASES, Case, write_corpus
from tests.hostile.runner import MEMORY_BYTES, Outcome, classify, run_corpus, summary, tree_digest

CATEGORIES = sorted({case.category for case in CASES})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def outcomes(corpus: Path) -> dict[str, Outcome]:
    results = run_corpus([c for c in CASES if not c.slow], corpus, n_workers=2)
    print(summary(results))
    return {o.case.name: o for o in results}


def _report(failed: list[Outcome]) -> str:
    lines = [f"{len(failed)} case(s) did not end cleanly:"]
    for o in failed:
        lines.append(f"- {o.case.name!r} [{o.status}] exit {o.exit_code}: {o.detail}")
        lines.append(f"    output: {o.first_lines()!r}")
    return "\n".join(lines)


def test_the_corpus_covers_every_category_of_the_issue() -> None:
    needed = {
        "yaml-bomb", "yaml-limits", "encoding", "recursion", "overflow", "code-exec", "markup",
        "control-chars", "csv-shape", "non-finite", "domain", "bundle-escape",
        "bundle-integrity", "unbounded", "overwrite", "io-errors", "path-traversal", "interrupt",
        # issue 19
        "client-files", "client-values", "client-ids", "size-limits", "cli-numbers",
        "other-dataset", "audit", "campaign-files",
    }  # fmt: skip
    assert needed <= set(CATEGORIES)
    assert len(CASES) >= 300
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_case_ends_cleanly(category: str, outcomes: dict[str, Outcome]) -> None:
    mine = [o for o in outcomes.values() if o.case.category == category]
    assert mine, f"no case of {category} ran"
    failed = [o for o in mine if o.failed]
    assert not failed, _report(failed)


def test_the_yaml_bomb_is_refused_under_a_memory_ceiling(outcomes: dict[str, Outcome]) -> None:
    bomb = outcomes["check:bomb.yaml"]
    assert bomb.rlimit_as is not None
    assert 0 < bomb.rlimit_as <= MEMORY_BYTES
    assert bomb.status == "clean-error", _report([bomb])
    assert bomb.exit_code in (1, 2)
    assert "bomb.yaml" in bomb.output


_ERROR = Case(name="e", category="t", expect="error", argv=("x",), mentions=(("bomb.yaml",),),
               excludes=("\x1b",), untouched=("kept.txt",), absent=("half.csv",))  # fmt: skip
_OK = Case(name="o", category="t", expect="ok", argv=("x",), contains=("[/bold]",))


@pytest.mark.parametrize(
    ("case", "result", "status"),
    [
        (
            _ERROR,
            {"exit_code": 2, "output": "error: bomb.yaml: aliases are refused"},
            "clean-error",
        ),
        (_ERROR, {"exit_code": 1, "output": "error: BOMB.yaml:\n 3 problems"}, "clean-error"),
        (_ERROR, {"exit_code": 2, "output": "error: something went wrong"}, "vague"),
        (_ERROR, {"exit_code": 2, "output": ""}, "vague"),
        (_ERROR, {"exit_code": 0, "output": "OK bomb.yaml"}, "silent-wrong"),
        (_ERROR, {"exit_code": 1, "output": "", "traceback": "Traceback ..."}, "traceback"),
        (_ERROR, {"exit_code": 1, "output": "Traceback (most recent call last):\n"}, "traceback"),
        (_ERROR, {"exit_code": 3, "output": "bomb.yaml"}, "traceback"),
        (_ERROR, {"exit_code": 1, "output": "MemoryError", "memory": True}, "memory"),
        (_ERROR, {"exit_code": 2, "output": "bomb.yaml \x1b[2J"}, "silent-wrong"),
        (_ERROR, None, "hang"),
        (_OK, {"exit_code": 0, "output": "column [/bold] numeric"}, "ok"),
        (_OK, {"exit_code": 0, "output": "column  numeric"}, "silent-wrong"),
        (_OK, {"exit_code": 2, "output": "error: [/bold]"}, "refused"),
    ],
)
def test_the_classifier(
    case: Case, result: dict[str, Any] | None, status: str, tmp_path: Path
) -> None:
    (tmp_path / "kept.txt").write_text("kept")
    before = {"kept.txt": tree_digest(tmp_path / "kept.txt")}
    assert classify(case, result, tmp_path, before).status == status


def test_the_classifier_sees_files_changed_or_left(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("kept")
    before = {"kept.txt": tree_digest(tmp_path / "kept.txt")}
    clean = {"exit_code": 2, "output": "error: bomb.yaml exists; use --force"}
    assert classify(_ERROR, clean, tmp_path, before).status == "clean-error"
    (tmp_path / "kept.txt").write_text("overwritten")
    assert classify(_ERROR, clean, tmp_path, before).status == "corrupted"
    (tmp_path / "kept.txt").write_text("kept")
    (tmp_path / "half.csv").write_text("a,b\n1,")
    assert classify(_ERROR, clean, tmp_path, before).status == "corrupted"


def test_issue_19_names_every_entry_point_and_input() -> None:
    names = " ".join(case.name for case in CASES)
    for entry in ("advise:", "app:", "train:", "check:", "check-data:", "draft:",
                  "campaign-run:", "campaign-show:", "show:", "study-run", "audit-verify:",
                  "audit-show:", "Advisor.advise:", "Advisor.client:", "read_clients:",
                  "load_bundle:", "load_constraints:"):  # fmt: skip
        assert entry in names, entry
    for item in ("bom.csv", "semicolon.csv", "tab.csv", "latin1", "nan_income", "inf_income",
                 "huge_income", "negative_income", "text_income", "duplicate", "extra_columns",
                 "million_columns", "header_only", "empty", "../../etc/passwd", "10 kB",
                 "truncated", "tampered", "other_categories", "other_columns", "symlink",
                 "deep", "bomb", "big_50mb", "--port", "--levers", "--n-clients"):  # fmt: skip
        assert item in names, item
    early = [c for c in CASES if c.max_peak_mib is not None]
    assert {"size-limits", "yaml-limits"} <= {c.category for c in early}


@pytest.mark.parametrize(
    ("growth", "status"), [(10 * 2**20, "clean-error"), (900 * 2**20, "memory")]
)
def test_the_classifier_sees_a_file_read_whole(growth: int, status: str, tmp_path: Path) -> None:
    case = Case(name="w", category="t", expect="error", argv=("x",), max_peak_mib=64.0)
    result = {"exit_code": 2, "output": "error: too wide", "peak_growth": growth}
    assert classify(case, result, tmp_path, {}).status == status


def test_a_ctrl_c_after_the_end_is_inconclusive_not_corrupted(tmp_path: Path) -> None:
    case = Case(name="s", category="t", expect="error", argv=("x",), sigint_after_s=1.0,
                absent=("half.csv",))  # fmt: skip
    (tmp_path / "half.csv").write_text("a,b\n1,2\n")
    finished = {"exit_code": 0, "output": "Wrote 2 rows", "note": "finished before Ctrl-C"}
    assert classify(case, finished, tmp_path, {}).status == "ok"
    interrupted = {"exit_code": 130, "output": "interrupted; nothing written"}
    assert classify(case, interrupted, tmp_path, {}).status == "corrupted"
    (tmp_path / "half.csv").unlink()
    assert classify(case, interrupted, tmp_path, {}).status == "clean-error"
