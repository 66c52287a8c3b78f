"""Where a risk score's default ceiling goes: levers found at three ceilings (German credit).

Trains a logistic risk model on the 1,000 German credit applications (positive class ``bad``,
``goal: lower``) and runs a campaign over every application with the search engine at the
10 %, 25 % and 50 % quantiles of the scores: how many applications above the ceiling get a
lever. Not a timing. Run: ``.venv/bin/python benchmarks/risk_ceiling.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from advisor.campaigns import Campaign
from advisor.datasets import read_clients
from advisor.levers import Advisor
from advisor.models import load_bundle, save_bundle, train

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "german-credit" / "german.data"


def main() -> None:
    data = read_clients(DATA)
    result = train(
        data,
        "credit_risk",
        ROOT / "configs" / "german-credit.yaml",
        families=("logistic",),
        positive="bad",
        n_trials=1,
        budget_s=None,
        n_folds=2,
    )
    with tempfile.TemporaryDirectory() as folder:
        bundle = load_bundle(save_bundle(result, Path(folder) / "german"))
        clients = data.set_axis([str(i + 1) for i in range(len(data))])
        for quantile in (0.1, 0.25, 0.5):
            advisor = Advisor.from_bundle(bundle, clients, engine="search", goal_quantile=quantile)
            run = Campaign.from_advisor(advisor).run(clients)
            totals = run.totals
            print(
                f"ceiling at quantile {quantile}: {run.provenance.goal:.3f}; "
                f"{totals.n_searched} applications above it, {totals.n_advised} with a lever "
                f"({totals.coverage:.1%})"
            )


if __name__ == "__main__":
    main()
