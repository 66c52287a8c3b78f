"""Time the vectorised ConstraintSet operations (a script, not a timed test).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/constraints_check.py [--n 100000]``.

Two constraint sets are timed on ``--n`` candidates of one client:

- ``synthetic-30``: 30 features using every rule type (bounds, percentiles, directions, max
  change absolute and %, steps, transitions, ordinal, binary, one-hot group, derived feature,
  if-then and linear rules, max_changes);
- ``demo-portfolio``: configs/demo-portfolio.yaml bound to the demo portfolio.

Candidates are perturbations of the client (1-4 features changed, a mix of feasible and
infeasible rows). The bar (issue 3): ``check`` of 100,000 candidates x 30 features under
100 ms on one core. The script prints best and median times and the ratio to the bar, and,
as a baseline measured in the same run, a plain Python row-by-row check (a loop over
candidates and features, covering only bounds, immutables and directions), on a subset.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _timing import timed

from advisor.datasets import make_demo_portfolio
from constraints import ConstraintSet, load_constraints, parse_constraints

ROOT = Path(__file__).resolve().parents[1]


def synthetic_yaml() -> str:
    """Return a 30-feature constraint file exercising every rule type."""
    lines = ["name: synthetic-30", "max_changes: 4", "features:"]
    for i in range(10):
        lines.append(
            f"  amount_{i}: {{kind: continuous, role: actionable, direction: "
            f"{'increase' if i % 2 else 'any'}, min: 0, max: {'p99' if i % 3 else 5000}, "
            f"step: 10, max_change: {'500' if i % 2 else repr('50%')}}}"
        )
    for i in range(6):
        lines.append(
            f"  count_{i}: {{kind: integer, role: {'actionable' if i < 4 else 'context'}, "
            f"min: 0, max: 30, direction: {'decrease' if i % 2 else 'any'}}}"
        )
    for i in range(4):
        lines.append(f"  flag_{i}: {{kind: binary, role: actionable, direction: increase}}")
    lines += [
        "  channel_a: {kind: binary, role: actionable}",
        "  channel_b: {kind: binary, role: actionable}",
        "  channel_c: {kind: binary, role: actionable}",
        "  segment: {kind: categorical, role: actionable, categories: [s0, s1, s2, s3],",
        "            transitions: {s0: [s1], s1: [s2, s3], s2: [s3], s3: []}}",
        "  level: {kind: ordinal, role: actionable, order: [low, mid, high, top],",
        "          direction: increase}",
        "  age: {kind: integer, role: immutable}",
        "  region: {kind: categorical, role: immutable, protected: true, categories: [r0, r1]}",
        "  income: {kind: continuous, role: context, min: 0}",
        "  total: {kind: continuous, role: context}",
        "  n_flags: {kind: integer, role: context, min: 0, max: 4}",
        "rules:",
        "  - {name: within income, require: amount_1 + amount_3 <= 0.6 * income}",
        "  - {name: top needs flag, if: level becomes top, require: flag_0 is yes}",
        "  - {name: upgrade, if: segment is s3 and count_0 increases, require: amount_0 >= 100}",
        "derived:",
        "  n_flags: flag_0 + flag_1 + flag_2 + flag_3",
        "  total: amount_0 + amount_1 + amount_2",
        "one_hot:",
        "  channel: [channel_a, channel_b, channel_c]",
    ]
    return "\n".join(lines) + "\n"


def synthetic_data(cs_names: tuple[str, ...], n: int, seed: int) -> dict[str, np.ndarray]:
    """Return plausible data for the synthetic features (for percentile bounds)."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for name in cs_names:
        if name.startswith("amount"):
            data[name] = np.round(rng.lognormal(6, 1, n) / 10) * 10
        elif name.startswith("count"):
            data[name] = rng.integers(0, 20, n)
        elif name.startswith(("flag", "channel")):
            data[name] = np.zeros(n, dtype=bool)
    data["channel_a"][:] = True
    data["segment"] = rng.choice(["s0", "s1", "s2", "s3"], n)
    data["level"] = rng.choice(["low", "mid", "high", "top"], n)
    data["age"] = rng.integers(18, 90, n)
    data["region"] = rng.choice(["r0", "r1"], n)
    data["income"] = rng.lognormal(8, 0.5, n)
    data["total"] = data["amount_0"] + data["amount_1"] + data["amount_2"]
    data["n_flags"] = np.zeros(n, dtype=np.int64)
    return data


def perturb(cs: ConstraintSet, client: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Return ``n`` candidates changing 1-4 random features of ``client`` (often infeasible)."""
    rng = np.random.default_rng(seed)
    d = cs.n_features
    x = np.repeat(client[None, :], n, axis=0)
    k = rng.integers(1, 5, size=n)
    cols = np.argsort(rng.random((n, d)), axis=1)
    pick = np.arange(d)[None, :] < k[:, None]
    chosen = np.zeros((n, d), dtype=bool)
    np.put_along_axis(chosen, cols, pick, axis=1)
    scale = cs.scales
    noise = rng.normal(0.0, 2.0, size=(n, d)) * scale
    coded = np.array([f.kind in ("binary", "categorical", "ordinal") for f in cs.features])
    n_cat = np.array([max(f.n_categories, 1) for f in cs.features])
    codes = rng.integers(0, 1 << 30, size=(n, d)) % n_cat
    new = np.where(coded, codes, np.round(x + noise))
    return np.where(chosen, new, x)


def rowwise_check(cs: ConstraintSet, client: np.ndarray, candidates: np.ndarray) -> list[bool]:
    """Check bounds, immutables and directions with a Python loop over rows and features."""
    out = []
    for row in candidates:
        ok = True
        for j, spec in enumerate(cs.features):
            before, after = client[j], row[j]
            if after != before:
                if spec.role != "actionable":
                    ok = False
                if not spec.lower <= after <= spec.upper:
                    ok = False
                if spec.direction == "increase" and after < before:
                    ok = False
                if spec.direction == "decrease" and after > before:
                    ok = False
        out.append(ok)
    return out


def run(label: str, cs: ConstraintSet, client: np.ndarray, n: int, repeats: int) -> None:
    """Time the operations of one constraint set and print a table."""
    candidates = perturb(cs, client, n, seed=1)
    result = cs.check(client, candidates)
    print(
        f"\n{label}: {cs.n_features} features, {n:,} candidates, "
        f"{result.ok.mean():.1%} feasible; violations by rule: {result.counts()}"
    )
    steps: dict[str, Callable[[], object]] = {
        "check": lambda: cs.check(client, candidates),
        "cost": lambda: cs.cost(client, candidates),
        "project": lambda: cs.project(client, candidates),
        "sample 1,000": lambda: cs.sample(client, 1000, seed=0),
        "bounds_for": lambda: cs.bounds_for(client),
    }
    print(f"{'operation':<14}{'best ms':>10}{'median ms':>11}")
    for name, step in steps.items():
        best, median = timed(step, repeats)
        print(f"{name:<14}{best * 1e3:>10.1f}{median * 1e3:>11.1f}")
        if name == "check":
            check_best = best
    projected = cs.project(client, candidates)
    assert cs.check(client, projected.values).ok.all()  # a benchmark sanity check
    subset = candidates[:2000]
    loop_best, _ = timed(lambda: rowwise_check(cs, client, subset), 1)
    loop_full = loop_best * n / len(subset)
    print(
        f"bar: check {check_best * 1e3:.1f} ms for {n:,} x {cs.n_features} = "
        f"{check_best / 0.1 * 100_000 / n:.2f} x the 100 ms budget (scaled to 100,000 rows)"
    )
    print(
        f"row-by-row Python loop (bounds/immutables/directions only): "
        f"{loop_full:.2f} s extrapolated from 2,000 rows -> vectorised is "
        f"{loop_full / check_best:,.0f}x faster while checking every rule"
    )


def main() -> None:
    """Print the timing tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: set OMP_NUM_THREADS=1 to measure on one core")
    import pandas as pd

    text = synthetic_yaml()
    probe = parse_constraints(text.replace("p99", "9000"))
    frame = pd.DataFrame(synthetic_data(probe.feature_names, 5000, seed=0))
    synthetic = parse_constraints(text, frame)
    run("synthetic-30", synthetic, synthetic.to_array(frame.iloc[[0]])[0], args.n, args.repeats)
    portfolio = make_demo_portfolio(20_000)
    demo = load_constraints(ROOT / "configs" / "demo-portfolio.yaml", portfolio)
    run("demo-portfolio", demo, demo.to_array(portfolio.iloc[[1]])[0], args.n, args.repeats)


if __name__ == "__main__":
    main()
