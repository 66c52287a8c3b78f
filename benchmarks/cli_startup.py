"""Start-up of the light commands: ``--help``, ``--version``, ``constraints check`` (best of 5).

Each command runs in a fresh process, as a user types it (the ``levers`` script next to this
Python, and ``python -m advisor.cli --help``); the seconds are wall-clock, best of 5. A second
run of each command in the same way counts the modules it loaded and names the heavy ones
(tests/test_startup.py asserts those stay out; this script measures). ``--root DIR`` runs the
commands on another checkout (e.g. ``git archive`` of an older commit) to compare.

Run alone: ``.venv/bin/python benchmarks/cli_startup.py [--repeats 5] [--root DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from advisor.datasets import make_demo_portfolio

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "xgboost", "streamlit", "optuna", "dask", "sklearn", "scipy", "sqlalchemy")
# Runs the command as the ``levers`` script does, then reports what it loaded.
_COUNT = """
import json, sys
from advisor.cli import app
try:
    app(sys.argv[1:], prog_name="levers")
except SystemExit:
    pass
heavy = [name for name in HEAVY if name in sys.modules]
print(json.dumps([len(sys.modules), heavy]), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _best(command: list[str], root: Path, env: dict[str, str], repeats: int) -> tuple[float, float]:
    """Return the best wall-clock and CPU seconds (CPU: less sensitive to a busy machine)."""
    times, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), _cpu()
        subprocess.run(command, cwd=root, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    return min(times), min(cpus)


def _loaded(args: list[str], root: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _COUNT, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    n, heavy = json.loads(done.stderr.strip().splitlines()[-1])
    return n, heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="The checkout to run.")
    options = parser.parse_args()
    root = options.root.resolve()
    env = {**os.environ, "PYTHONPATH": str(root)}
    levers = str(Path(sys.executable).with_name("levers"))
    with tempfile.TemporaryDirectory() as folder:
        clients = Path(folder) / "clients.csv"
        make_demo_portfolio(1_000).to_csv(clients, index=False)
        commands = {
            "python -m advisor.cli --help": ([sys.executable, "-m", "advisor.cli"], ["--help"]),
            "levers --version": ([levers], ["--version"]),
            "levers constraints check configs/german-credit.yaml": (
                [levers],
                ["constraints", "check", "configs/german-credit.yaml"],
            ),
            "levers constraints check configs/demo-portfolio.yaml --data clients.csv (1,000)": (
                [levers],
                ["constraints", "check", "configs/demo-portfolio.yaml", "--data", str(clients)],
            ),
        }
        print(f"{root}: best of {options.repeats}; wall and CPU seconds, modules, heavy ones")
        for name, (program, args) in commands.items():
            wall, cpu = _best([*program, *args], root, env, options.repeats)
            n_modules, heavy = _loaded(args, root, env)
            loaded = ", ".join(heavy) or "-"
            print(f"{wall:5.2f} s {cpu:5.2f} s {n_modules:6,d}  {loaded:52} {name}")


if __name__ == "__main__":
    main()
