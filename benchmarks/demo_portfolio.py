"""Time the demo portfolio's generation and interventions (a script, not a timed test).

Run: ``.venv/bin/python benchmarks/demo_portfolio.py [--n-clients 1000000] [--repeats 3]``.
Prints the best and median wall time of each step; the bar is 1 M clients in <= 10 s.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from _timing import timed

from advisor.datasets import PRODUCTS, DemoPortfolioSCM


def main() -> None:
    """Print the timings table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-clients", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scm = DemoPortfolioSCM(seed=0)
    clients = scm.sample(args.n_clients)
    n = args.n_clients
    steps: dict[str, Callable[[], object]] = {
        f"sample {n:,} clients": lambda: scm.sample(n),
        f"true propensities, 8 products x {n:,}": lambda: scm.true_propensities(clients),
        f"intervene salary_domiciled on {n:,}": lambda: scm.intervene(
            clients, {"salary_domiciled": True}
        ),
    }
    print(f"{'step':<45} {'best s':>8} {'median s':>9}")
    for name, step in steps.items():
        best, median = timed(step, args.repeats)
        print(f"{name:<45} {best:>8.2f} {median:>9.2f}")
    rates = ", ".join(f"{p} {clients[f'take_{p}'].mean():.1%}" for p in PRODUCTS)
    print(f"12-month take-up rates: {rates}")


if __name__ == "__main__":
    main()
