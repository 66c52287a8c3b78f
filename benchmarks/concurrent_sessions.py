"""Time to the lever cards when many advisors use one app at once (issue 19, deliverable 4).

Run: ``.venv/bin/python benchmarks/concurrent_sessions.py [--sessions 20] [--rounds 2]
[--bundle DIR --clients N]``.

One ``streamlit run`` on the demo bundle (without ``--bundle``: a small one, 3,000 clients and
one trial per product, trained into a temporary folder in a few seconds), audit records to a
temporary file. Each round starts ``--sessions`` sessions at the same moment from one headless
Chromium (one browser context each, half in English, half in French), each on another client
with levers: it opens the app, waits for the page, searches its client and waits for its lever
cards. Round 1 meets a freshly started app (the advisor is built while the sessions wait);
later rounds meet a warm app with new clients (their advice not cached yet). Per round: p50,
p95 and max of the seconds from navigation to the cards, and the sessions that failed or
showed anything but their own client, levers and language (tests/app/sessions.py checks them
against the advisor asked in Python), the CPU seconds the app's process used in the round, and
the median time to the end of each step (page shown, its first run over, cards, run over).
Needs Chromium (``LEVERS_CHROMIUM`` or ``chromium`` on the PATH).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.levers import load_demo_advisor  # (needs the root on sys.path)
from advisor.models import DemoBundleSettings, build_demo_bundle
from tests.app.sessions import pick_visits, problems, run_sessions, served


def _bundle(folder: Path, n_clients: int) -> Path:
    """The small demo bundle the app tests use (3,000 clients, one trial per product)."""
    settings = DemoBundleSettings(
        out=folder / "demo-bundle",
        n_clients=n_clients,
        n_trials=1,
        budget_s=120.0,
        families=("logistic", "xgboost"),
    )
    return build_demo_bundle(settings)


def _server_cpu_s() -> float:
    """CPU seconds used so far by the ``streamlit run`` this script started (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == os.getpid() and b"streamlit" in cmdline:
            return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return float("nan")


def main() -> None:
    """Serve the app, run the rounds of simultaneous sessions, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bundle", type=Path, help="a demo bundle folder (default: train one)")
    parser.add_argument("--clients", type=int, default=3_000, help="the demo portfolio's size")
    args = parser.parse_args()
    chromium = os.environ.get("LEVERS_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("chromium: not found. Hint: apt-get install chromium, or LEVERS_CHROMIUM.")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle or _bundle(Path(tmp), args.clients)
        advisor, _ = load_demo_advisor(DemoBundleSettings(out=bundle, n_clients=args.clients))
        visits, advice = pick_visits(advisor, args.sessions * args.rounds)
        env = {
            "LEVERS_DEMO_BUNDLE": str(bundle),
            "LEVERS_DEMO_CLIENTS": str(args.clients),
            "LEVERS_AUDIT": str(Path(tmp) / "audit.sqlite"),
        }
        for name in ("LEVERS_BUNDLE", "LEVERS_DATA", "LEVERS_DEMO_SEED"):
            os.environ.pop(name, None)
        print(f"{args.sessions} sessions at once, {args.rounds} rounds, {os.cpu_count()} cores")
        print(
            "round  app    sessions  p50 s  p95 s  max s  failed  wrong  server CPU s  load before"
        )
        with served(env) as url:
            for k in range(args.rounds):
                load, cpu = os.getloadavg()[0], _server_cpu_s()
                started = time.perf_counter()
                batch = visits[k * args.sessions : (k + 1) * args.sessions]
                seen = run_sessions(url, batch, chromium)
                wall, cpu = time.perf_counter() - started, _server_cpu_s() - cpu
                seconds = [s.seconds for s in seen if s.seconds is not None]
                p50, p95, worst = np.percentile(seconds, [50, 95, 100]) if seconds else [np.nan] * 3
                failed = sum(s.error is not None for s in seen)
                wrong = [line for s in seen for line in problems(s, advice[s.visit.client_id])]
                print(
                    f"{k + 1:>5}  {'cold' if k == 0 else 'warm':5}  {len(seen):>8}  {p50:5.1f}  "
                    f"{p95:5.1f}  {worst:5.1f}  {failed:>6}  {len(wrong) - failed:>5}  "
                    f"{cpu:12.1f}  {load:11.1f}  (round {wall:.0f} s)"
                )
                steps = {
                    step: float(np.median([s.steps[step] for s in seen if step in s.steps]))
                    for step in ("page", "first run", "cards", "run")
                    if any(step in s.steps for s in seen)
                }
                print(
                    "       median s to the end of: "
                    + ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
                )
                for line in wrong:
                    print(f"       {line}")


if __name__ == "__main__":
    main()
