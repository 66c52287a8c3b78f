"""Which out-of-distribution measure separates better: nearest neighbours or an isolation forest.

On the demo portfolio, bank marketing and German credit: fit both on 80 % of the clients (in
the guard's scaled space), set each one's threshold at the 99th percentile of its own score on
those clients, then report the share flagged among

- the 20 % held out (new ordinary clients: should be about 1 %),
- the held-out clients with one numeric feature moved 10 median absolute deviations beyond
  the data's maximum ("beyond the range"),
- the held-out clients with that feature times 100 ("x100", when beyond the maximum),
- clients whose every feature is drawn on its own from the data ("mixed": each value
  plausible, the combination not).

Not a timing. Run: ``.venv/bin/python benchmarks/ood_guard.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from advisor.datasets import make_demo_portfolio, read_clients
from advisor.levers import OOD_QUANTILE, fit_ood_guard
from constraints import ConstraintSet, load_constraints

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SEED = 0


def _cases() -> list[tuple[str, pd.DataFrame, Path]]:
    bank = read_clients(DATA / "bank-marketing" / "bank-full.csv")
    return [
        (
            "demo",
            make_demo_portfolio(n_clients=5_000, seed=SEED),
            ROOT / "configs" / "demo-portfolio.yaml",
        ),
        (
            "bank marketing",
            bank.sample(n=10_000, random_state=SEED).reset_index(drop=True),
            ROOT / "configs" / "bank-marketing.yaml",
        ),
        (
            "German credit",
            read_clients(DATA / "german-credit" / "german.data"),
            ROOT / "configs" / "german-credit.yaml",
        ),
    ]


def _shifted(
    cs: ConstraintSet, codes: np.ndarray, rng: np.random.Generator, times: bool
) -> np.ndarray:
    """Move one random numeric feature of each client beyond the data's maximum."""
    numeric = [j for j, f in enumerate(cs.features) if f.kind in ("continuous", "integer")]
    moved = codes.copy()
    high = np.nanmax(codes, axis=0)
    for i, j in enumerate(rng.choice(numeric, len(codes))):
        moved[i, j] = codes[i, j] * 100 if times else high[j] + 10 * cs.scales[j]
    return moved


def _mixed(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each feature drawn on its own: every value seen in the data, the combination not."""
    return np.column_stack([rng.choice(codes[:, j], len(codes)) for j in range(codes.shape[1])])


def _rates(name: str, frame: pd.DataFrame, config: Path) -> list[dict[str, object]]:
    from sklearn.ensemble import IsolationForest

    cs = load_constraints(config, frame)
    features = frame[list(cs.feature_names)]
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(features))
    cut = int(0.8 * len(features))
    train, held = features.iloc[order[:cut]], features.iloc[order[cut:]]
    guard = fit_ood_guard(cs, train, seed=SEED)
    assert guard is not None
    forest = IsolationForest(n_estimators=200, random_state=SEED, n_jobs=1)
    forest.fit(guard.reference)
    forest_threshold = float(np.quantile(-forest.score_samples(guard.reference), OOD_QUANTILE))
    held_codes = cs.to_array(held)
    beyond = _shifted(cs, held_codes, np.random.default_rng(SEED + 1), times=False)
    times = _shifted(cs, held_codes, np.random.default_rng(SEED + 1), times=True)
    high = np.nanmax(cs.to_array(train), axis=0)
    times = times[(times > high[None, :]).any(axis=1)]
    sets = {
        "held out": held_codes,
        "beyond the range": beyond,
        "x100": times,
        "mixed": _mixed(held_codes, np.random.default_rng(SEED + 2)),
    }
    rows = []
    for label, codes in sets.items():
        knn = guard.measure(codes)[0] > guard.threshold
        iso = -forest.score_samples(guard.columns(codes)) > forest_threshold
        rows.append(
            {
                "data": name,
                "clients": label,
                "n": len(codes),
                "nearest neighbours": f"{knn.mean():.1%}",
                "isolation forest": f"{iso.mean():.1%}",
            }
        )
    return rows


def main() -> None:
    rows = [row for case in _cases() for row in _rates(*case)]
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
