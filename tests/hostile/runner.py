"""Run the hostile-input corpus and classify every outcome.

``.venv/bin/python -m tests.hostile.runner [--cases PATTERN] [--workers 2] [--keep]`` writes the
corpus into a temporary folder, runs every case and prints one row per case and a summary line.

Isolation: cases run in worker subprocesses (``--worker``), many per worker, in-process through
``typer.testing.CliRunner`` or a direct Python call; each worker has one thread per native
library (OMP, MKL, BLAS) and an address-space ceiling (``RLIMIT_AS``, 2 GiB by default) so a
YAML bomb cannot take the machine down. The parent gives each case a time limit (20 s by
default): past it, the worker is killed and restarted and the case is a hang. A worker that
dies, or a ``MemoryError``, is a ``memory`` failure.

Outcomes:

- ``clean-error``: a refusal as expected: exit code 1 or 2 (a package error for a Python call),
  no traceback, the message naming what the case says it must;
- ``ok``: success as expected, with the stated property;
- ``traceback``: an uncaught exception (or "Traceback" in the output, or an error type from
  deep inside a library for a Python call);
- ``hang``: past the time limit;
- ``memory``: ``MemoryError``, the worker killed at the memory ceiling, or a case whose peak
  resident memory grew past its ``max_peak_mib`` (an input that had to be refused before it
  was read whole);
- ``silent-wrong``: success where a refusal was due, a success without its property, raw
  terminal escapes or an outside file's content in the output, a sentinel written by injected
  code;
- ``corrupted``: a file that had to stay untouched changed, or a half-written output was left;
- ``vague``: a refusal that does not name the file / field / flag it must name;
- ``refused``: a refusal where the input was legitimate.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import hashlib
import json
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.hostile.cases import CASES, Case, call_api, write_corpus

__all__ = ["FAILURES", "Outcome", "classify", "main", "run_corpus", "summary", "tree_digest"]

REPO_ROOT = Path(__file__).resolve().parents[2]
FAILURES = ("traceback", "hang", "silent-wrong", "corrupted", "memory", "vague", "refused")
MEMORY_BYTES = 2 << 30
TIMEOUT_S = 20.0
_THREADS = ("OMP", "MKL", "OPENBLAS", "NUMEXPR", "VECLIB_MAXIMUM")
THREAD_ENV = {
    f"{name}_NUM_THREADS" if name != "VECLIB_MAXIMUM" else "VECLIB_MAXIMUM_THREADS": "1"
    for name in _THREADS
}
_HEAVY = ("yaml-bomb", "yaml-limits", "unbounded", "interrupt")
ADVISOR_CALLS = ("advise", "client", "advise_dict", "advise_n_levers", "advise_product")
ADVISOR_BUILD_S = 60.0  # building the corpus's advisor, once per worker (seconds, under load)


@dataclass(slots=True)
class Outcome:
    """What one case did, and its classification."""

    case: Case
    status: str
    exit_code: int | None = None
    output: str = ""
    elapsed_s: float = 0.0
    detail: str = ""
    rlimit_as: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Return whether the outcome is one of :data:`FAILURES`."""
        return self.status in FAILURES

    def first_lines(self, n: int = 4) -> str:
        """Return the first ``n`` non-empty output lines, shortened."""
        lines = [line.strip()[:160] for line in self.output.splitlines() if line.strip()]
        return " | ".join(lines[:n])


# --------------------------------------------------------------------------- worker side


def _limit_memory(n_bytes: int) -> int:
    resource.setrlimit(resource.RLIMIT_AS, (n_bytes, n_bytes))
    return resource.getrlimit(resource.RLIMIT_AS)[0]


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> bool:
    """Reset the peak resident size (``VmHWM``) to the current one; False where Linux cannot."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _peak_bytes() -> int | None:
    """Return the peak resident size since :func:`_reset_peak` (``VmHWM``), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _package_error(exc: BaseException) -> bool:
    from advisor.errors import AdvisorError
    from constraints.errors import ConstraintError
    from counterfactuals.errors import CounterfactualError

    return isinstance(exc, (AdvisorError, ConstraintError, CounterfactualError))


def _run_cli(case: Case, folder: Path) -> dict[str, Any]:
    from typer.testing import CliRunner

    from advisor.cli import app

    result = CliRunner().invoke(app, case.resolved_argv(folder), catch_exceptions=True)
    exc = result.exception
    out: dict[str, Any] = {"exit_code": result.exit_code, "output": result.output}
    if exc is not None and not isinstance(exc, SystemExit):
        out["exception"] = type(exc).__name__
        out["memory"] = isinstance(exc, MemoryError)
        assert result.exc_info is not None
        out["traceback"] = "".join(traceback.format_exception(*result.exc_info))[-3000:]
    return out


def _run_api(case: Case, folder: Path) -> dict[str, Any]:
    name, *args = case.api
    try:
        value = call_api(name, folder, tuple(args))
    except MemoryError:
        return {"exit_code": 1, "output": "MemoryError", "memory": True, "exception": "MemoryError"}
    except Exception as exc:
        text = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
        if _package_error(exc):
            return {"exit_code": 2, "output": text}
        return {
            "exit_code": 1,
            "output": text,
            "exception": type(exc).__name__,
            "traceback": traceback.format_exc()[-3000:],
        }
    return {"exit_code": 0, "output": f"returned {type(value).__name__}"}


# Ctrl-C as a terminal delivers it: the child starts with SIGINT handled and unblocked, whatever
# the test process's threads passed down (a blocked or ignored SIGINT survives exec).
_SIGINT_RESET = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
)
_SIGINT_SCRIPT = _SIGINT_RESET + (
    "import sys; import advisor.cli; sys.stderr.write('READY\\n'); sys.stderr.flush(); "
    "sys.argv[0] = 'levers'; advisor.cli.main()"
)


def _run_sigint(case: Case, folder: Path) -> dict[str, Any]:
    """Run the command line in a subprocess and press Ctrl-C (SIGINT) after a while."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SIGINT_SCRIPT, *case.resolved_argv(folder)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert proc.stderr is not None
    ready = proc.stderr.readline()
    early = ready.strip() != "READY"
    if not early:
        time.sleep(case.sigint_after_s or 1.0)
        early = proc.poll() is not None
        if not early:
            proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=60)  # a loaded machine exits slowly
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        return {"exit_code": None, "output": stdout + stderr, "hang": True}
    output = (ready if early else "") + stdout + stderr
    out: dict[str, Any] = {"exit_code": proc.returncode, "output": output}
    if early:
        out["note"] = "finished before Ctrl-C"
    if "Traceback" in output:
        out["traceback"] = output[-3000:]
    return out


def _run_case(case: Case, folder: Path) -> dict[str, Any]:
    measured = _reset_peak()
    rss_before = _rss_bytes()
    start = time.perf_counter()
    if case.sigint_after_s is not None:
        out = _run_sigint(case, folder)
    elif case.api:
        out = _run_api(case, folder)
    else:
        out = _run_cli(case, folder)
    out["elapsed_s"] = time.perf_counter() - start
    out["rss"] = _rss_bytes()
    peak = _peak_bytes() if measured and case.sigint_after_s is None else None
    if peak is not None:
        out["peak_growth"] = max(0, peak - rss_before)
    out["output"] = str(out.get("output", ""))[:1_000_000]
    return out


def _worker(folder: Path, memory_bytes: int) -> None:
    results: IO[str] = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the result channel
    limit = _limit_memory(memory_bytes)
    import pandas  # noqa: F401  # and the readers' libraries: peak memory counts reading only
    import pyarrow.parquet  # noqa: F401

    import advisor.cli  # noqa: F401  # warm up before the first timed case
    from advisor.levers import Advisor  # noqa: F401  # the model stack the Python calls load
    from advisor.models import load_bundle  # noqa: F401

    by_name = {case.name: case for case in CASES}
    results.write(json.dumps({"ready": True, "rlimit_as": limit}) + "\n")
    results.flush()
    for line in sys.stdin:
        name = json.loads(line)
        try:
            out = _run_case(by_name[name], folder)
        except MemoryError:
            out = {"exit_code": 1, "output": "MemoryError", "memory": True}
        except Exception as exc:
            out = {"exit_code": 1, "output": repr(exc), "traceback": traceback.format_exc()}
        out["rlimit_as"] = limit
        results.write(json.dumps(out) + "\n")
        results.flush()


# --------------------------------------------------------------------------- parent side


def tree_digest(path: Path) -> str | None:
    if not os.path.lexists(path):
        return None
    digest = hashlib.sha256()
    paths = [path] if not path.is_dir() or path.is_symlink() else sorted(path.rglob("*"))
    for item in paths:
        digest.update(str(item.relative_to(path.parent)).encode())
        if item.is_symlink():
            digest.update(os.readlink(item).encode())
        elif item.is_file():
            digest.update(item.read_bytes())
    return digest.hexdigest()


def _squash(text: str) -> tuple[str, str]:
    words = text.lower().split()
    return " ".join(words), "".join(words)


def _named(output: str, needle: str) -> bool:
    spaced, tight = _squash(output)
    return needle.lower() in spaced or "".join(needle.lower().split()) in tight


def classify(
    case: Case, result: dict[str, Any] | None, folder: Path, before: dict[str, Any]
) -> Outcome:
    """Classify one result (``None``: the worker died or was killed) into an :class:`Outcome`."""
    outcome = Outcome(case=case, status="ok")
    if result is None:
        outcome.status = "hang"
        return _check_files(outcome, folder, before)
    output = str(result.get("output", ""))
    code = result.get("exit_code")
    outcome.output, outcome.exit_code = output, code
    outcome.elapsed_s = float(result.get("elapsed_s", 0.0))
    outcome.rlimit_as = result.get("rlimit_as")
    if result.get("note"):
        outcome.notes.append(str(result["note"]))
    if result.get("hang"):
        outcome.status = "hang"
    elif result.get("memory") or "MemoryError" in output:
        outcome.status = "memory"
    elif result.get("traceback") or "Traceback (most recent call last)" in output:
        outcome.status = "traceback"
        outcome.detail = str(result.get("traceback", ""))[-600:]
    elif code == 0:
        outcome.status = "ok" if case.expect != "error" or result.get("note") else "silent-wrong"
        missing = [s for s in case.contains if s not in output]
        if outcome.status == "ok" and missing:
            outcome.status, outcome.detail = "silent-wrong", f"output lacks {missing}"
        elif outcome.status == "silent-wrong":
            outcome.detail = "accepted an input that must be refused"
    elif code in (1, 2) or (case.sigint_after_s is not None and code is not None):
        outcome.status = "clean-error"
        if case.expect == "ok":
            outcome.status, outcome.detail = "refused", "refused a legitimate input"
        elif not output.strip():
            outcome.status, outcome.detail = "vague", "no message"
        else:
            unnamed = [g for g in case.mentions if not any(_named(output, s) for s in g)]
            if unnamed:
                outcome.status, outcome.detail = "vague", f"message names none of {unnamed}"
    else:
        outcome.status, outcome.detail = "traceback", f"exit code {code}"
    growth = result.get("peak_growth")
    limit = case.max_peak_mib
    if limit is not None and outcome.status in ("ok", "clean-error"):
        if growth is None:
            outcome.notes.append("peak memory not measured")
        elif growth > limit * 2**20:
            outcome.status = "memory"
            outcome.detail = f"peak memory grew {growth / 2**20:.0f} MiB (at most {limit} MiB)"
    leaked = [s for s in case.excludes if s in output]
    if leaked and outcome.status in ("ok", "clean-error", "vague", "refused"):
        outcome.status, outcome.detail = "silent-wrong", f"output holds {leaked!r}"
    return _check_files(outcome, folder, before)


def _check_files(outcome: Outcome, folder: Path, before: dict[str, Any]) -> Outcome:
    changed = [p for p in outcome.case.untouched if tree_digest(folder / p) != before.get(p)]
    early = "finished before Ctrl-C" in outcome.notes  # inconclusive, not a half-write
    left = [p for p in outcome.case.absent if os.path.lexists(folder / p) and not early]
    ran = [p for p in left if Path(p).name.startswith("PWNED")]
    if ran:
        outcome.status, outcome.detail = "silent-wrong", f"injected code ran: {ran} exists"
    elif changed or left:
        why = f"changed {changed}" if changed else f"left behind {left}"
        if outcome.status not in ("hang", "memory", "traceback"):
            outcome.status = "corrupted"
        outcome.detail = (outcome.detail + "; " if outcome.detail else "") + why
    return outcome


class _Worker:
    """One worker subprocess, restarted when it hangs or dies."""

    def __init__(self, folder: Path, memory_bytes: int) -> None:
        self.folder, self.memory_bytes = folder, memory_bytes
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.rlimit_as: int | None = None
        self.stderr_path = Path(tempfile.mkstemp(prefix="hostile-worker-", suffix=".err")[1])

    def start(self) -> None:
        env = {**os.environ, **THREAD_ENV, "COLUMNS": "120", "PYTHONUNBUFFERED": "1"}
        env["LEVERS_AUDIT"] = str(self.folder / "audit" / "advise-cases.sqlite")  # not the user's
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        args = [sys.executable, "-m", "tests.hostile.runner", "--worker", str(self.folder)]
        args += ["--memory-bytes", str(self.memory_bytes)]
        with self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                args, cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=err, text=True, encoding="utf-8", errors="replace",
            )  # fmt: skip
        self.lines = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc, self.lines), daemon=True).start()
        first = self.lines.get(timeout=300)
        if first is None:
            raise RuntimeError(f"worker failed to start: {self.stderr_tail()}")
        self.rlimit_as = json.loads(first)["rlimit_as"]

    @staticmethod
    def _read(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def stderr_tail(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]

    def run(self, case: Case, timeout_s: float) -> dict[str, Any] | None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(case.name) + "\n")
        self.proc.stdin.flush()
        try:
            line = self.lines.get(timeout=timeout_s)
        except queue.Empty:
            self.stop()
            return None
        if line is None:  # died: the memory ceiling, or a crash in native code
            tail = self.stderr_tail()
            self.stop()
            return {"exit_code": None, "output": tail, "memory": True, "rlimit_as": self.rlimit_as}
        result: dict[str, Any] = json.loads(line)
        if int(result.get("rss", 0)) > self.memory_bytes // 2:
            self.stop()  # a fresh worker for the next case
        return result

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        self.stop()
        self.stderr_path.unlink(missing_ok=True)


def run_corpus(
    cases: list[Case] | tuple[Case, ...],
    folder: Path,
    *,
    n_workers: int = 2,
    timeout_s: float = TIMEOUT_S,
    memory_bytes: int = MEMORY_BYTES,
    on_outcome: Any = None,
) -> list[Outcome]:
    """Run ``cases`` against the corpus in ``folder`` (from :func:`write_corpus`)."""
    ordered = sorted(cases, key=lambda c: c.category not in _HEAVY)
    todo: queue.Queue[Case] = queue.Queue()
    for case in ordered:
        todo.put(case)
    outcomes: dict[str, Outcome] = {}
    lock = threading.Lock()

    def drive() -> None:
        worker = _Worker(folder, memory_bytes)
        try:
            while True:
                try:
                    case = todo.get_nowait()
                except queue.Empty:
                    return
                before = {p: tree_digest(folder / p) for p in case.untouched}
                start = time.perf_counter()
                limit = timeout_s + (75.0 if case.sigint_after_s is not None else 0.0)
                if case.api and case.api[0] in ADVISOR_CALLS:
                    limit += ADVISOR_BUILD_S  # the first such call in a worker builds it
                result = worker.run(case, limit)
                outcome = classify(case, result, folder, before)
                outcome.rlimit_as = outcome.rlimit_as or worker.rlimit_as
                if result is None:
                    outcome.elapsed_s = time.perf_counter() - start
                with lock:
                    outcomes[case.name] = outcome
                    if on_outcome is not None:
                        on_outcome(outcome)
        finally:
            worker.close()

    threads = [threading.Thread(target=drive) for _ in range(max(1, n_workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcomes[case.name] for case in cases if case.name in outcomes]


def summary(outcomes: list[Outcome]) -> str:
    """Return the one-line summary of a run."""
    counts = Counter(o.status for o in outcomes)
    return (
        f"inputs tried {len(outcomes)} / clean errors {counts['clean-error']} / ok {counts['ok']}"
        f" / tracebacks {counts['traceback']} / hangs {counts['hang']}"
        f" / silent wrong {counts['silent-wrong']} / corrupted {counts['corrupted']}"
        f" / memory {counts['memory']} / vague {counts['vague']} / refused {counts['refused']}"
    )


def _row(outcome: Outcome, *, verbose: bool = False) -> str:
    mark = "FAIL" if outcome.failed else "pass"
    code = "-" if outcome.exit_code is None else str(outcome.exit_code)
    head = f"{mark} {outcome.status:<12} {outcome.case.category:<16} {code:>3} "
    head += f"{outcome.elapsed_s:6.1f}s  {outcome.case.name!r}"
    tail = outcome.detail.splitlines()[-1][:200] if outcome.detail else outcome.first_lines(2)
    return f"{head}\n      {tail!r}" if outcome.failed or verbose else head


def select(pattern: str | None) -> list[Case]:
    """Return the cases whose name or category matches ``pattern`` (fnmatch or substring)."""
    if not pattern:
        return list(CASES)
    return [
        c
        for c in CASES
        if pattern in c.name or pattern == c.category or fnmatch.fnmatch(c.name, pattern)
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the corpus from the command line; exit code 1 when any case fails."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.hostile.runner", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--cases", help="only cases whose name or category matches (fnmatch or substring)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per case")
    parser.add_argument("--memory-bytes", type=int, default=MEMORY_BYTES)
    parser.add_argument("--keep", action="store_true", help="keep the corpus folder")
    parser.add_argument("--verbose", action="store_true", help="print every case's output")
    parser.add_argument("--json", type=Path, help="also write the outcomes to this JSON file")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        _worker(args.worker, args.memory_bytes)
        return 0
    cases = select(args.cases)
    if not cases:
        print(f"no case matches {args.cases!r}")
        return 2
    folder, verbose = Path(tempfile.mkdtemp(prefix="levers-hostile-")), args.verbose
    start = time.perf_counter()
    try:
        write_corpus(folder)
        print(f"corpus written to {folder} in {time.perf_counter() - start:.1f} s", flush=True)
        outcomes = run_corpus(
            cases,
            folder,
            n_workers=args.workers,
            timeout_s=args.timeout,
            memory_bytes=args.memory_bytes,
            on_outcome=lambda o: print(_row(o, verbose=verbose), flush=True),
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json is not None:
        rows = [
            {"name": o.case.name, "category": o.case.category, "status": o.status,
             "exit_code": o.exit_code, "elapsed_s": round(o.elapsed_s, 2), "detail": o.detail,
             "first_lines": o.first_lines()}
            for o in outcomes
        ]  # fmt: skip
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    by_category: dict[str, Counter[str]] = {}
    for o in outcomes:
        by_category.setdefault(o.case.category, Counter())[o.status] += 1
    for category, counts in sorted(by_category.items()):
        print(f"  {category:<16} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(summary(outcomes))
    print(f"elapsed {time.perf_counter() - start:.0f} s")
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
