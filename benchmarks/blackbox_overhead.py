"""Time the search engine on black-box scikit-learn pipelines: inside vs outside model calls.

Run: ``.venv/bin/python benchmarks/blackbox_overhead.py [--clients 30] [--models xgb mlp]
[--profile 5] [--save FILE.json | --compare FILE.json]``.

Setting: bank marketing (``bank-full.csv`` read with ``read_clients``, ``duration`` dropped),
``configs/bank-marketing.yaml`` bound to the data, a seeded 80/20 split. Each model is a
scikit-learn ``Pipeline`` on business frames: ``ColumnTransformer`` (one-hot categoricals,
numbers passed through for XGBoost, standardised for the MLP) then ``XGBClassifier(400 trees,
depth 5)`` or ``MLPClassifier((64, 32))``; ``levers`` is Levers' own XGBoost
``PropensityModel`` (codes fast path) for the bit-for-bit check. Clients: test clients the
model scores below the target P(yes) >= 0.5, drawn with seed 0.

Per client, ``generate(model, client, constraints, Target.probability(0.5), n=5,
engine="search")`` is timed; the model sits behind a proxy that times and counts its
``predict_proba`` calls, so *outside* = total - inside is the engine's own overhead (goal:
outside <= inside). ``--profile k`` runs cProfile over the first k clients and prints the
top functions by own time. ``--save`` writes every result's ``to_dict()`` without
``elapsed_s``; ``--compare`` checks the current results against such a file (same
counterfactuals bit for bit).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.datasets import read_clients
from advisor.models import FAMILIES, PropensityModel, fit_calibrator
from constraints import ConstraintSet, load_constraints
from counterfactuals import FeatureSpace, Target, generate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "bank-marketing" / "bank-full.csv"
TARGET = Target.probability(0.5)


class TimedModel:
    """A model proxy: ``predict_proba`` timed and counted, every other attribute forwarded."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.n_calls = 0
        self.n_rows = 0
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict_proba(self, clients: Any) -> Any:
        """Score clients through the wrapped model, timing the call."""
        start = time.perf_counter()
        out = self._model.predict_proba(clients)
        self.seconds += time.perf_counter() - start
        self.n_calls += 1
        self.n_rows += len(clients)
        return out


class TimedLevers(TimedModel):
    """A Levers model proxy: its adapter's codes path timed and counted."""

    def counterfactual_adapter(self) -> Any:
        """Return the model's adapter with ``proba_codes`` timed."""
        adapter = self._model.counterfactual_adapter()
        inner = adapter.proba_codes

        def proba_codes(codes: Any) -> Any:
            start = time.perf_counter()
            out = inner(codes)
            self.seconds += time.perf_counter() - start
            self.n_calls += 1
            self.n_rows += len(codes)
            return out

        return replace(adapter, proba_codes=proba_codes)


def _pipeline(family: str, cs: ConstraintSet) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from xgboost import XGBClassifier

    coded = [f.name for f in cs.features if f.kind in ("categorical", "binary", "ordinal")]
    numbers = [f.name for f in cs.features if f.name not in coded]
    scale = StandardScaler() if family == "mlp" else "passthrough"
    columns = ColumnTransformer(
        [("coded", OneHotEncoder(handle_unknown="ignore"), coded), ("numbers", scale, numbers)]
    )
    if family == "mlp":
        model: Any = MLPClassifier((64, 32), random_state=0, early_stopping=True)
    else:
        model = XGBClassifier(n_estimators=400, max_depth=5, n_jobs=1, random_state=0)
    return Pipeline([("columns", columns), ("model", model)])


def _levers(cs: ConstraintSet, train: pd.DataFrame, y: np.ndarray) -> PropensityModel:
    space = FeatureSpace.from_constraints(cs)
    design = space.design_from_frame(train)
    params = dict(FAMILIES["xgboost"].defaults)
    estimator = FAMILIES["xgboost"].fit(design, y, params, 0, None)
    return PropensityModel(
        space=space,
        estimator=estimator,
        calibrator=fit_calibrator(estimator.margin(design), y),
        params=params,
        target="y",
    )


def fit_models(names: list[str], cs: ConstraintSet, train: pd.DataFrame) -> dict[str, Any]:
    """Fit each named model on the training clients (no cache: nothing is unpickled)."""
    x = train[list(cs.feature_names)]
    y = (train["y"] == "yes").to_numpy(dtype=np.int64)
    models = {}
    for name in names:
        start = time.perf_counter()
        if name == "levers":
            models[name] = _levers(cs, x, y)
        else:
            models[name] = _pipeline(name, cs).fit(x, y)
        print(f"fitted {name} in {time.perf_counter() - start:.1f} s")
    return models


def clients_below(model: Any, test: pd.DataFrame, cs: ConstraintSet, n: int) -> pd.DataFrame:
    """``n`` test clients (seed 0) the model scores below the target."""
    x = test[list(cs.feature_names)]
    p = np.asarray(model.predict_proba(x))[:, 1]
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(np.flatnonzero(p < 0.5), n, replace=False))
    return x.iloc[rows]


def _proxy(model: Any) -> TimedModel:
    return TimedLevers(model) if isinstance(model, PropensityModel) else TimedModel(model)


def run_clients(model: Any, clients: pd.DataFrame, cs: ConstraintSet) -> dict[str, Any]:
    """Time each client's search; return the per-client figures and the results."""
    proxy = _proxy(model)
    generate(proxy, clients.iloc[0], cs, TARGET, n=5, engine="search")  # warm-up
    total, inside, calls, results = [], [], [], []
    for i in range(len(clients)):
        proxy.seconds, proxy.n_calls = 0.0, 0
        start = time.perf_counter()
        result = generate(proxy, clients.iloc[i], cs, TARGET, n=5, engine="search")
        total.append(time.perf_counter() - start)
        inside.append(proxy.seconds)
        calls.append(proxy.n_calls)
        payload = result.to_dict()
        payload.pop("elapsed_s")
        results.append(payload)
    return {"total": total, "inside": inside, "calls": calls, "results": results}


def _line(name: str, values: list[float], scale: float = 1000.0) -> str:
    p95 = float(np.percentile(values, 95))
    return f"{name} median {statistics.median(values) * scale:7.1f}  p95 {p95 * scale:7.1f}"


def report(name: str, figures: dict[str, Any]) -> None:
    """Print median and p95 of total, inside and outside time (ms) and model calls."""
    total, inside = np.array(figures["total"]), np.array(figures["inside"])
    outside = total - inside
    print(f"\n== {name}: {len(total)} clients (ms per client)")
    print("  " + _line("total  ", list(total)))
    print("  " + _line("inside ", list(inside)))
    print("  " + _line("outside", list(outside)))
    print("  " + _line("calls  ", [float(c) for c in figures["calls"]], scale=1.0))
    found = sum(r["status"] == "found" for r in figures["results"])
    print(f"  found {found} of {len(total)}; outside/inside {outside.sum() / inside.sum():.2f}")


def profile(model: Any, clients: pd.DataFrame, cs: ConstraintSet, top: int) -> None:
    """Print cProfile's top functions (own time) over a few clients' searches."""
    proxy = _proxy(model)
    generate(proxy, clients.iloc[0], cs, TARGET, n=5, engine="search")
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(len(clients)):
        generate(proxy, clients.iloc[i], cs, TARGET, n=5, engine="search")
    profiler.disable()
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
        print("\n".join(out.getvalue().splitlines()[: top + 12]))


_BUDGET_KEYS = {"notes", "timed_out", "binding", "reason"}  # what the diagnosis budget cuts


def compare(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    """Say whether two runs' results are the same, client by client (repr: bit for bit).

    A client whose results differ only in what the 2 s budget of the diagnosis (a wall-clock
    limit) decides, and where one run hit that budget, is counted apart.
    """
    if len(before) != len(after):
        return f"RESULTS DIFFER: {len(before)} clients before, {len(after)} after"
    same, budget, differ = 0, 0, []
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        keys = {k for k in a.keys() | b.keys() if repr(a.get(k)) != repr(b.get(k))}
        if not keys:
            same += 1
        elif keys <= _BUDGET_KEYS and (a["timed_out"] or b["timed_out"]):
            budget += 1
        else:
            differ.append(f"client {i}: {sorted(keys)}")
    text = f"{same} of {len(after)} clients the same bit for bit"
    if budget:
        text += f", {budget} differ only where the diagnosis budget cut one run"
    return text + ("; DIFFER: " + "; ".join(differ) if differ else "")


def main() -> None:
    """Parse the arguments, fit the models, time (or profile) the searches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--models", nargs="+", default=["xgb", "mlp"])
    parser.add_argument("--profile", type=int, default=0, help="profile this many clients")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--compare", type=Path, default=None)
    args = parser.parse_args()
    frame = read_clients(DATA).drop(columns=["duration"], errors="ignore")
    cs = load_constraints(ROOT / "configs" / "bank-marketing.yaml", frame)
    order = np.random.default_rng(0).permutation(len(frame))
    cut = int(0.8 * len(frame))
    train, test = frame.iloc[np.sort(order[:cut])], frame.iloc[np.sort(order[cut:])]
    models = fit_models(args.models, cs, train)
    saved: dict[str, Any] = {}
    for name, model in models.items():
        clients = clients_below(model, test, cs, args.clients)
        if args.profile:
            print(f"\n== {name}: profile of {args.profile} clients")
            profile(model, clients.iloc[: args.profile], cs, args.top)
            continue
        figures = run_clients(model, clients, cs)
        report(name, figures)
        saved[name] = figures["results"]
    if args.save is not None:
        args.save.write_text(json.dumps(saved), encoding="utf-8")
    if args.compare is not None:
        before = json.loads(args.compare.read_text(encoding="utf-8"))
        for name, results in saved.items():
            now = json.loads(json.dumps(results))  # the same JSON types as the file's
            print(f"{name}: {compare(before.get(name, []), now)} ({args.compare})")


if __name__ == "__main__":
    main()
