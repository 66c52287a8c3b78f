"""Time how fast the engines stop at a deadline or a time limit (wall clock; no assertion).

Run: ``.venv/bin/python benchmarks/engine_deadlines.py [--repeats 5]``.

The tests check what a deadline does (the engine stops, says ``timed_out``, scores fewer
batches: tests/counterfactuals/test_exact.py and test_search.py); this script measures how long
stopping takes, on the machine alone. Setting: the demo portfolio (1,500 clients, seed 1),
non-holders of life insurance, an XGBoost model (30 trees of depth 3) on the design matrix; the
client is the one at the first third of the scores, its goal 1.5 times its score. Rows:

- exact, deadline passed: a request whose deadline is 1 s in the past (was: < 1.0 s);
- exact, time_limit_s=0.3: an unreachable goal (0.999), which the engine would otherwise prove
  (was: < 1.5 s);
- search, deadline passed: the same request as the first row (was: < 0.5 s).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xgboost
from _timing import timed

from advisor.datasets import make_demo_portfolio
from constraints import ConstraintSet, load_constraints
from counterfactuals import (
    EngineRequest,
    ExactEngine,
    FeatureSpace,
    ModelAdapter,
    SearchEngine,
    Target,
    adapt,
)

ROOT = Path(__file__).resolve().parents[1]


def _request(
    adapter: ModelAdapter, cs: ConstraintSet, client: np.ndarray, goal: float
) -> EngineRequest:
    base = adapter.proba_codes(client[None, :])[0]
    return EngineRequest(
        adapter=adapter,
        constraints=cs,
        client=client,
        target=Target.probability(goal).bind(adapter.outputs, base, ranked=False),
        bounds=cs.bounds_for(client[None, :]),
        baseline=base,
    )


def steps() -> dict[str, Callable[[], object]]:
    """The timed calls, by name (each builds its late request when called)."""
    frame = make_demo_portfolio(n_clients=1500, seed=1)
    frame = frame.loc[~frame["has_life_insurance"]].reset_index(drop=True)
    cs = load_constraints(ROOT / "configs" / "demo-portfolio.yaml", frame)
    space = FeatureSpace.from_constraints(cs)
    codes = cs.to_array(frame)
    model = xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0)
    model.fit(space.to_design(codes), frame["take_life_insurance"].to_numpy(dtype=int))
    adapter = adapt(model, space)
    p = adapter.proba_codes(codes)[:, 1]
    i = int(np.argsort(p)[len(p) // 3])
    client = codes[i]
    reachable = _request(adapter, cs, client, min(1.5 * float(p[i]), 0.9))
    unreachable = _request(adapter, cs, client, 0.999)

    def late() -> EngineRequest:
        return dataclasses.replace(reachable, deadline=time.perf_counter() - 1.0)

    return {
        "exact, deadline passed": lambda: ExactEngine().solve(late(), 3, 0),
        "exact, time_limit_s=0.3, unreachable goal": lambda: ExactEngine(time_limit_s=0.3).solve(
            unreachable, 3, 0
        ),
        "search, deadline passed": lambda: SearchEngine().solve(late(), 5, 0),
    }


def main(argv: list[str] | None = None) -> None:
    """Print the best and median wall time of each step."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per step (default 5)")
    args = parser.parse_args(argv)
    table = steps()
    print(f"{'step':<45} {'best s':>8} {'median s':>9}")
    for name, step in table.items():
        step()  # warm-up: imports, first model call
        best, median = timed(step, args.repeats)
        print(f"{name:<45} {best:>8.3f} {median:>9.3f}")


if __name__ == "__main__":
    main()
