"""Do levers survive a model refresh? Levers found on one model, checked on a retrained one.

Per data set (bank marketing without ``duration``, German credit, the demo portfolio) and model
family: ``advisor.train`` fits the *old* model (one trial: the family's defaults, 2 folds,
seed ``--seed``); ``Advisor.advise`` finds levers (up to 3 per client) for the first
``--n-clients`` clients below the goal, in a seeded random order (the demo: the product the
app picks; the other advisors aim at it too). The *new* model is the same training on a
bootstrap resample of the rows (drawn with seed ``--refit-seed``, trained with seed
``--seed + 1``). A lever is *still valid* when the new model's score of the lever's values
reaches the **old goal**: the value the client was shown and promised (for a propensity the
old model's top-decile score, at or above; for German credit's risk score the old median, at
or below), not the goal recomputed on the new model (the ``new goal`` column gives that too).

Each margin of ``--margins`` runs ``Advisor(robust_margin=m)``, and each k of ``--refits``
``Advisor(robust_refits=k)`` (a committee of the old model and k refits on bootstrap resamples
drawn with the advisor's seed 0, not the refresh's), on the same clients and product: its
coverage (clients below the goal with a lever), its levers' validity after the refresh, and
its cost: the mean top-lever cost of the clients who have a lever both plainly and robustly,
as a ratio to the plain one (``cost x``). XGBoost predicts on one thread (the library's
choice) and trains on two; the MLP's torch threads are the library's.

``--oracle`` adds two rows computed with ``counterfactuals.generate`` (the search engine) on
black boxes: ``plain search``, the old model alone, and ``oracle``, the least favourable of the
old model and the *refreshed* one, i.e. the cheapest lever that knows which model comes next.
The oracle is not a method (no one knows the next model): it shows what levers valid on
*that* refresh cost, against what the robust options pay to hold under most refreshes. It is
not a lower bound: the engines minimise the number of changes first, then the cost, so
either row can find a lever the other missed. Its ``cost x`` is over ``plain search``.

Run (slow: 3 data sets x 3 families x 2 trainings, then 100 clients x (1 + margins) searches
each; searches stop at the advisor's 5 s time limit, so a heavily loaded machine may find
fewer or costlier levers)::

    .venv/bin/python benchmarks/model_refresh.py                       # every cell
    .venv/bin/python benchmarks/model_refresh.py --datasets german     # one data set per
                                                                       # process (docs' table)
    .venv/bin/python benchmarks/model_refresh.py --n-clients 10 --datasets german \\
        --families logistic                                            # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.datasets import index_clients, make_demo_portfolio, read_clients
from advisor.levers import Advice, Advisor, Status, goal_reached
from advisor.models import (
    ModelBundle,
    demo_catalog,
    load_bundle,
    save_bundle,
    train,
    train_recommender,
)
from counterfactuals import ModelAdapter, Target, generate

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LEVERS_SHARED_DATA", ROOT.parent / "shared" / "data"))
CONFIGS = ROOT / "configs"


@dataclass(frozen=True)
class DataSet:
    """One data set: its clients (indexed by id) and how a model is trained on them."""

    name: str
    clients: pd.DataFrame
    fit: Callable[[pd.DataFrame, str, int], Any]  # (rows, family, seed) -> TrainingResult


def _single(target: str, config: Path, positive: Any = None) -> Callable[..., Any]:
    def fit(rows: pd.DataFrame, family: str, seed: int) -> Any:
        return train(
            rows,
            target,
            config,
            families=(family,),
            positive=positive,
            n_trials=1,
            budget_s=None,
            n_folds=2,
            seed=seed,
        )

    return fit


def _demo_fit(rows: pd.DataFrame, family: str, seed: int) -> Any:
    return train_recommender(
        rows,
        demo_catalog(),
        CONFIGS / "demo-portfolio.yaml",
        budget_s=None,
        seed=seed,
        families=(family,),
        n_trials=1,
        n_folds=2,
    )


def load_dataset(name: str, demo_clients: int) -> DataSet | None:
    """Read one data set (``None`` when its file is absent)."""
    if name == "demo":
        frame = index_clients(make_demo_portfolio(n_clients=demo_clients, seed=0))
        return DataSet("demo", frame, _demo_fit)
    paths = {
        "bank": DATA / "bank-marketing" / "bank-full.csv",
        "german": DATA / "german-credit" / "german.data",
    }
    if not paths[name].is_file():
        print(f"{name}: skipped, {paths[name]} is absent")
        return None
    frame = index_clients(read_clients(paths[name]))
    if name == "bank":
        return DataSet("bank", frame, _single("y", CONFIGS / "bank-marketing.yaml"))
    return DataSet("german", frame, _single("credit_risk", CONFIGS / "german-credit.yaml", "bad"))


def bootstrap(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Rows drawn with replacement (as many as there are), with fresh unique ids."""
    rows = frame.sample(n=len(frame), replace=True, random_state=seed)
    id_column = frame.attrs.get("id_column")
    fresh = [f"B{i:07d}" for i in range(len(rows))]
    if id_column:
        rows = rows.assign(**{id_column: fresh})
    return rows.set_axis(fresh)


def bundle_of(result: Any, folder: Path, name: str) -> ModelBundle:
    """Save and load the trained models: the advisors run on a real bundle."""
    return load_bundle(save_bundle(result, folder / name))


def _values(advisor: Advisor, values: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([values])[list(advisor.constraints.feature_names)].infer_objects()


def score_levers(
    advice: Advice, old: Advisor, new: Advisor, label: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One client's row for an advisor, and one row per lever with its validity after refresh."""
    product = advice.product
    direction = old.direction(product)
    old_goal, new_goal = old.goal_for(product), new.goal_for(product)
    model = new.product(product).model
    client = {
        "advisor": label,
        "found": advice.status is Status.FOUND,
        "top_cost": advice.levers[0].cost if advice.levers else np.nan,
    }
    levers = []
    for lever in advice.levers:
        score = float(model.score(_values(old, lever.values))[0])
        levers.append(
            {
                "advisor": label,
                "valid_old_goal": goal_reached(score, old_goal, direction),
                "valid_new_goal": goal_reached(score, new_goal, direction),
                "score_old": lever.score_after,
                "score_new": score,
            }
        )
    return client, levers


def _worst_of(old: Advisor, new: Advisor, product: str, with_new: bool) -> ModelAdapter:
    """The old product model, or the least favourable of it and the refreshed one, as a box."""
    model, space = old.product(product).model, old.product(product).model.space
    refreshed = new.product(product).model
    lower = old.direction(product) == "lower"
    names = list(refreshed.feature_names)

    def proba(codes: np.ndarray) -> np.ndarray:
        p = model.score_codes(codes)
        if with_new:
            q = refreshed.score(space.to_frame(codes)[names])
            p = np.maximum(p, q) if lower else np.minimum(p, q)
        return np.column_stack([1.0 - p, p])

    return ModelAdapter(
        space=space,
        outputs=tuple(model.classes),
        proba_codes=proba,
        proba_frame=lambda frame: proba(space.to_codes(frame)),
        family="oracle" if with_new else model.family,
    )


def oracle_rows(
    advice: Advice, old: Advisor, new: Advisor, client: Any, frame: pd.DataFrame
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``plain search`` and ``oracle`` rows for one client (``--oracle``)."""
    product = advice.product
    direction = old.direction(product)
    old_goal, new_goal = old.goal_for(product), new.goal_for(product)
    rows, levers = [], []
    for label, with_new in (("plain search", False), ("oracle", True)):
        result = generate(
            _worst_of(old, new, product, with_new),
            frame,
            old.product(product).constraints,
            Target.probability(advice.goal, at_most=direction == "lower"),
            n=3,
            engine="search",
            seed=old.seed,
            time_limit_s=old.time_limit_s,
        )
        found = result.counterfactuals
        rows.append(
            {
                "advisor": label,
                "found": bool(found),
                "top_cost": min(cf.cost for cf in found) if found else np.nan,
                "client": client,
            }
        )
        for cf in found:
            score = float(new.product(product).model.score(_values(old, cf.values))[0])
            levers.append(
                {
                    "advisor": label,
                    "client": client,
                    "cost": float(cf.cost),
                    "valid_old_goal": goal_reached(score, old_goal, direction),
                    "valid_new_goal": goal_reached(score, new_goal, direction),
                    "score_old": float(cf.score),
                    "score_new": score,
                }
            )
    return rows, levers


def run_pair(
    advisors: dict[str, Advisor],
    new: Advisor,
    n_clients: int,
    seed: int,
    oracle: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Advise the first ``n_clients`` clients below the goal with each advisor (plain first)."""
    old = advisors["plain"]
    reference = old.reference
    if reference is None:
        raise SystemExit("the advisors need their reference clients")
    order = np.random.default_rng(seed).permutation(len(reference))
    clients: list[dict[str, Any]] = []
    levers: list[dict[str, Any]] = []
    n_searched = 0
    for position in order:
        if n_searched >= n_clients:
            break
        frame = reference.iloc[[position]]
        advice = old.advise(frame)
        if advice.status is Status.REACHED:
            continue
        n_searched += 1
        if n_searched % 25 == 0:
            print(f"  {n_searched} clients advised", file=sys.stderr, flush=True)
        for label, advisor in advisors.items():
            found = advice if advisor is old else advisor.advise(frame, product=advice.product)
            row, scored = score_levers(found, old, new, label)
            clients.append({**row, "client": frame.index[0]})
            levers.extend({**lever, "client": frame.index[0]} for lever in scored)
        if oracle:
            rows, scored = oracle_rows(advice, old, new, frame.index[0], frame)
            clients.extend(rows)
            levers.extend(scored)
    return pd.DataFrame(clients), pd.DataFrame(levers)


def summarise(clients: pd.DataFrame, levers: pd.DataFrame) -> pd.DataFrame:
    """Coverage, validity after refresh and cost ratio per advisor (plain first)."""
    rows = []
    for label, group in clients.groupby("advisor", sort=False):
        base = "plain search" if label == "oracle" else "plain"
        plain = clients[clients["advisor"] == base].set_index("client")
        mine = group.set_index("client")
        both = mine["found"] & plain["found"].reindex(mine.index, fill_value=False)
        ratio = mine.loc[both, "top_cost"].mean() / plain.loc[both[both].index, "top_cost"].mean()
        shown = levers[levers["advisor"] == label]
        rows.append(
            {
                "advisor": label,
                "clients": len(group),
                "coverage": group["found"].mean(),
                "levers": len(shown),
                "valid (old goal)": shown["valid_old_goal"].mean() if len(shown) else np.nan,
                "valid (new goal)": shown["valid_new_goal"].mean() if len(shown) else np.nan,
                "mean top cost": group["top_cost"].mean(),
                "cost x": ratio,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    """Parse arguments, train, advise, retrain, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clients", type=int, default=100)
    parser.add_argument("--datasets", default="bank,german,demo")
    parser.add_argument("--families", default="logistic,xgboost,mlp")
    parser.add_argument("--margins", default="0.02,0.05,0.1")
    parser.add_argument("--refits", default="5", help="robust_refits k (committee), e.g. 5")
    parser.add_argument(
        "--oracle", action="store_true", help="add the plain-search and oracle rows (not a method)"
    )
    parser.add_argument("--seed", type=int, default=0, help="old model's seed, client order")
    parser.add_argument("--refit-seed", type=int, default=1, help="the bootstrap's seed")
    parser.add_argument("--demo-clients", type=int, default=5_000)
    args = parser.parse_args()
    margins = [float(m) for m in args.margins.split(",") if m]
    refits = [int(k) for k in args.refits.split(",") if k]
    tables = []
    started = time.perf_counter()
    for name in args.datasets.split(","):
        data = load_dataset(name, args.demo_clients)
        if data is None:
            continue
        resample = bootstrap(data.clients, args.refit_seed)
        for family in args.families.split(","):
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as folder:
                old = bundle_of(data.fit(data.clients, family, args.seed), Path(folder), "old")
                new = bundle_of(data.fit(resample, family, args.seed + 1), Path(folder), "new")
                advisors = {"plain": Advisor.from_bundle(old, data.clients)}
                for m in margins:
                    advisors[f"margin {m:g}"] = Advisor.from_bundle(
                        old, data.clients, robust_margin=m
                    )
                for k in refits:
                    advisors[f"refits {k}"] = Advisor.from_bundle(
                        old, data.clients, robust_refits=k
                    )
                refreshed = Advisor.from_bundle(new, data.clients)
                clients, levers = run_pair(
                    advisors, refreshed, args.n_clients, args.seed, args.oracle
                )
            table = summarise(clients, levers).assign(data=name, family=family)
            tables.append(table)
            print(f"\n{name} / {family} ({time.perf_counter() - t0:.0f} s)", flush=True)
            print(
                table.drop(columns=["data", "family"]).to_string(index=False, float_format=_fmt),
                flush=True,
            )
    if tables:
        every = pd.concat(tables)
        print("\nover every data set and family (min and mean of the cells):")
        print(
            every.groupby("advisor", sort=False)[["valid (old goal)", "cost x", "coverage"]]
            .agg(["min", "mean"])
            .to_string(float_format=_fmt)
        )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


def _fmt(value: float) -> str:
    return f"{value:.3f}"


if __name__ == "__main__":
    main()
