"""The exact engine: valid, feasible, cost-optimal (against brute force), diverse, and honest."""

from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from advisor.datasets import make_demo_portfolio
from constraints import ConstraintSet, changed, load_constraints, parse_constraints
from counterfactuals import (
    ENGINES,
    CounterfactualError,
    EngineRequest,
    ExactEngine,
    FeatureSpace,
    MarginModel,
    ModelAdapter,
    Target,
    TorchFunction,
    logistic_link,
    margin_model,
)
from tests.conftest import REPO_ROOT

FAMILIES = ("xgboost", "logistic", "forest")

TINY = """
name: tiny
max_changes: 3
features:
  age: {kind: integer, role: immutable}
  segment: {kind: categorical, role: immutable, categories: [a, b, c]}
  visits: {kind: integer, role: actionable, min: 0, max: 8, cost: {per_unit: 0.3, per_change: 0.2}}
  deposit:
    kind: continuous
    role: actionable
    direction: increase
    min: 0
    max: 100
    step: 10
    cost: DEPOSIT_COST
  rate: {kind: continuous, role: actionable, min: 0, max: 1, step: 0.1, cost: {per_unit: 2}}
  app: {kind: binary, role: actionable, direction: increase, cost: {per_change: 0.7}}
  plan:
    kind: categorical
    role: actionable
    categories: [basic, plus, premium]
    cost: {per_change: 0.5}
rules:
  - name: premium needs a deposit
    if: plan is premium
    require: deposit >= 30
  - name: fast visits
    require: visits + 10 * rate <= 12
"""

GROUPS = """
name: groups
max_changes: 2
features:
  age: {kind: integer, role: immutable}
  web: {kind: binary, role: actionable, cost: {per_change: 0.4}}
  phone: {kind: binary, role: actionable, cost: {per_change: 0.4}}
  branch: {kind: binary, role: actionable, cost: {per_change: 0.4}}
  level:
    kind: ordinal
    order: [low, mid, high]
    role: actionable
    direction: increase
    cost: {per_unit: 0.6}
  savings: {kind: integer, role: actionable, min: 0, max: 6, cost: {per_unit: 0.25}}
  extra: {kind: integer, role: actionable, min: 0, max: 3, cost: {per_unit: 0.3}}
  total: {kind: integer, role: context, max: 7}
one_hot:
  channel: [web, phone, branch]
change_groups:
  plan: [savings, extra]
derived:
  total: savings + extra
rules:
  - name: high needs savings
    if: level becomes high
    require: savings >= 2
"""


# ----------------------------------------------------------------------------- helpers
def tiny_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.integers(20, 70, n),
            "segment": rng.choice(["a", "b", "c"], n),
            "visits": rng.integers(0, 9, n),
            "deposit": rng.integers(0, 11, n) * 10.0,
            "rate": rng.integers(0, 11, n) / 10,
            "app": rng.integers(0, 2, n).astype(bool),
            "plan": rng.choice(["basic", "plus", "premium"], n),
        }
    )
    score = (
        0.25 * df.visits
        + df.deposit / 40
        + 2.0 * (df.rate > 0.55)
        + 1.2 * df.app
        + 0.8 * (df.plan == "premium")
        - 0.7 * (df.segment == "c")
        - 0.02 * (df.age - 45)
    )
    y = (score + rng.logistic(size=n) > 4.5).to_numpy()
    return df, y


def fit_adapter(family: str, space: FeatureSpace, codes: np.ndarray, y: np.ndarray) -> Any:
    x = space.to_design(codes)
    if family == "xgboost":
        clf: Any = xgb.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0)
        clf.fit(x, y)
    elif family == "logistic":
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    else:  # "forest": shallow; "pure_forest": fully grown (probabilities k/10, often 0.5)
        depth = 4 if family == "forest" else None
        clf = RandomForestClassifier(
            n_estimators=10, max_depth=depth, random_state=0, n_jobs=1
        ).fit(x, y)
    margin = margin_model(clf)
    assert margin is not None, family

    def proba(c: np.ndarray) -> np.ndarray:
        return np.asarray(clf.predict_proba(space.to_design(c)), dtype=np.float64)

    return ModelAdapter(
        space=space,
        outputs=(False, True),
        proba_codes=proba,
        proba_frame=lambda f: proba(space.to_codes(f)),
        structure={1: margin},
        family=family,
    )


def make_problem(
    adapter: ModelAdapter, cs: ConstraintSet, client: np.ndarray, target: Target
) -> EngineRequest:
    base = adapter.proba_codes(client[None, :])[0]
    return EngineRequest(
        adapter=adapter,
        constraints=cs,
        client=client,
        target=target.bind(adapter.outputs, base, ranked=False),
        bounds=cs.bounds_for(client[None, :]),
        baseline=base,
    )


def tiny_grid(cs: ConstraintSet, client: np.ndarray) -> np.ndarray:
    """Every point of the tiny problem's search space (its immutables fixed)."""
    axes: list[Any] = [
        [client[0]],
        [client[1]],
        np.arange(9.0),
        np.arange(11) * 10.0,
        np.arange(11) * 0.1,
        [0.0, 1.0],
        [0.0, 1.0, 2.0],
    ]
    grid = np.array(list(itertools.product(*axes)), dtype=np.float64)
    return np.vstack([client[None, :], grid])


def brute_force(problem: EngineRequest, grid_of: Any = None) -> tuple[float, np.ndarray]:
    """Cheapest feasible point that reaches the goal (inf when there is none)."""
    cs, client = problem.constraints, problem.client
    grid = (grid_of or tiny_grid)(cs, client)
    moved = np.abs(grid - client).max(axis=1) > 0
    ok = cs.check(client[None, :], grid).ok & moved
    ok &= problem.slack(grid) >= 0
    if not ok.any():
        return np.inf, grid[:0]
    cost = cs.cost(client[None, :], grid[ok])
    return float(cost.min()), grid[ok][np.argmin(cost)]


@pytest.fixture(scope="module")
def tiny() -> dict[str, Any]:
    df, y = tiny_frame(1500, seed=0)
    cs = parse_constraints(TINY.replace("DEPOSIT_COST", "{per_unit: 0.02}"), df)
    space = FeatureSpace.from_constraints(cs)
    codes = cs.to_array(df)
    adapters = {f: fit_adapter(f, space, codes, y) for f in (*FAMILIES, "pure_forest")}
    return {"cs": cs, "space": space, "codes": codes, "y": y, "adapters": adapters, "df": df}


def groups_grid(cs: ConstraintSet, client: np.ndarray) -> np.ndarray:
    """Every point of the groups problem (derived total recomputed)."""
    axes: list[Any] = [[client[0]], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0, 2.0]]
    axes += [np.arange(7.0), np.arange(4.0), [0.0]]
    grid = np.array(list(itertools.product(*axes)), dtype=np.float64)
    grid[:, 7] = client[7] + (grid[:, 5] - client[5]) + (grid[:, 6] - client[6])
    return grid


@pytest.fixture(scope="module")
def groups() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    n = 1200
    channel = rng.integers(0, 3, n)
    df = pd.DataFrame(
        {
            "age": rng.integers(20, 70, n),
            "web": channel == 0,
            "phone": channel == 1,
            "branch": channel == 2,
            "level": rng.choice(["low", "mid", "high"], n),
            "savings": rng.integers(0, 7, n),
            "extra": rng.integers(0, 4, n),
        }
    )
    df["total"] = df.savings + df.extra
    score = (
        0.9 * df.web
        - 0.5 * df.branch
        + 0.7 * df.level.map({"low": 0, "mid": 1, "high": 2})
        + 0.35 * df.total
        + 0.2 * df.savings
        - 0.02 * (df.age - 45)
    )
    y = (score + rng.logistic(size=n) > 3.0).to_numpy()
    cs = parse_constraints(GROUPS, df)
    space = FeatureSpace.from_constraints(cs)
    codes = cs.to_array(df)
    adapters = {f: fit_adapter(f, space, codes, y) for f in ("xgboost", "logistic")}
    return {"cs": cs, "codes": codes, "adapters": adapters}


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    df = make_demo_portfolio(n_clients=1500, seed=1)
    df = df.loc[~df["has_life_insurance"]].reset_index(drop=True)
    cs = load_constraints(REPO_ROOT / "configs" / "demo-portfolio.yaml", df)
    space = FeatureSpace.from_constraints(cs)
    codes = cs.to_array(df)
    y = df["take_life_insurance"].to_numpy()
    return {"cs": cs, "codes": codes, "adapter": fit_adapter("xgboost", space, codes, y)}


def negatives(adapter: ModelAdapter, codes: np.ndarray, k: int) -> np.ndarray:
    p = adapter.proba_codes(codes)[:, 1]
    order = np.argsort(p)
    return codes[order[len(order) // 3 : len(order) // 3 + k]]


EXACT = ExactEngine(change_weight=0.0, distance_weight=0.0, mip_rel_gap=0.0)


# ----------------------------------------------------------------------------- contract
def test_registered_and_validated() -> None:
    assert ENGINES["exact"] is ExactEngine
    with pytest.raises(
        CounterfactualError,
        match=r"^ExactEngine\.time_limit_s: must be a finite number of seconds in \(0, 86400\]\. "
        r"Got 0\.$",
    ):
        ExactEngine(time_limit_s=0)
    with pytest.raises(
        CounterfactualError,
        match=r"^ExactEngine\.mip_rel_gap: must be a finite number in \[0, 1\]\. Got 2\.0\.$",
    ):
        ExactEngine(mip_rel_gap=2.0)
    assert ExactEngine(time_limit_s=np.int64(3)).time_limit_s == 3  # type: ignore[arg-type]


def test_supports_needs_structure_and_a_one_column_goal(tiny: dict[str, Any]) -> None:
    adapter = tiny["adapters"]["xgboost"]
    base = np.array([0.8, 0.2])
    goal = Target.probability(0.6).bind(adapter.outputs, base, ranked=False)
    assert ExactEngine().supports(adapter, goal).ok
    bare = dataclasses.replace(adapter, structure={})
    assert "structure" in ExactEngine().supports(bare, goal).reason
    torch_like = dataclasses.replace(
        adapter,
        structure={
            1: MarginModel(
                function=TorchFunction(module=None, mean=np.zeros(1), scale=np.ones(1)),
                link=logistic_link(),
            )
        },
    )
    assert "torch" in ExactEngine().supports(torch_like, goal).reason
    client = tiny["codes"][0]
    with pytest.raises(CounterfactualError, match=r"^exact engine: the exact engine needs"):
        ExactEngine().solve(make_problem(bare, tiny["cs"], client, Target.probability(0.6)), 1, 0)


# ----------------------------------------------------------------------------- optimality
@pytest.mark.parametrize("family", FAMILIES)
def test_optimum_equals_brute_force(tiny: dict[str, Any], family: str) -> None:
    adapter, cs = tiny["adapters"][family], tiny["cs"]
    checked = 0
    for client in negatives(adapter, tiny["codes"], 8):
        p = float(adapter.proba_codes(client[None, :])[0, 1])
        problem = make_problem(adapter, cs, client, Target.probability(min(p + 0.25, 0.95)))
        best, _ = brute_force(problem)
        out = EXACT.solve(problem, 1, 0)
        if not np.isfinite(best):
            assert out.proved_none
            assert len(out.candidates) == 0
            continue
        checked += 1
        assert len(out.candidates) == 1
        assert out.optimal
        cost = float(cs.cost(client[None, :], out.candidates)[0])
        assert cost == pytest.approx(best, abs=1e-6)
    assert checked == 8  # measured: every client of each family has a lever


@pytest.mark.parametrize("family", ["xgboost", "logistic"])
@pytest.mark.parametrize("at_most", [False, True])
def test_groups_derived_and_ordinals_equal_brute_force(
    groups: dict[str, Any], family: str, at_most: bool
) -> None:
    adapter, cs = groups["adapters"][family], groups["cs"]
    p = adapter.proba_codes(groups["codes"])[:, 1]
    order = np.argsort(p if not at_most else -p)
    checked = 0
    for i in order[len(order) // 4 : len(order) // 4 + 6]:
        client = groups["codes"][i]
        goal = p[i] - 0.2 if at_most else p[i] + 0.2
        target = Target.probability(min(max(goal, 0.02), 0.98), at_most=at_most)
        problem = make_problem(adapter, cs, client, target)
        best, _ = brute_force(problem, groups_grid)
        out = EXACT.solve(problem, 1, 0)
        if not np.isfinite(best):
            assert out.proved_none
            continue
        checked += 1
        cost = float(cs.cost(client[None, :], out.candidates)[0])
        assert cost == pytest.approx(best, abs=1e-6)
    assert checked == 6  # measured: every client has a lever


def test_goal_exactly_at_the_threshold_is_reached(tiny: dict[str, Any]) -> None:
    """A fully grown forest often flips at p = 0.5 exactly: that counts, as for slack."""
    adapter, cs = tiny["adapters"]["pure_forest"], tiny["cs"]
    p = adapter.proba_codes(tiny["codes"])[:, 1]
    at_half = 0
    for client in tiny["codes"][p < 0.5][:12]:
        problem = make_problem(adapter, cs, client, Target.flip())
        best, point = brute_force(problem)
        if not np.isfinite(best):
            continue
        at_half += adapter.proba_codes(point[None, :])[0, 1] == 0.5
        out = EXACT.solve(problem, 1, 0)
        assert float(cs.cost(client[None, :], out.candidates)[0]) == pytest.approx(best, abs=1e-6)
    assert at_half == 7  # measured


def test_percentile_shift_cost_is_exact(tiny: dict[str, Any]) -> None:
    df = tiny["df"]
    cs = parse_constraints(TINY.replace("DEPOSIT_COST", "{percentile_shift: 3}"), df)
    adapter = tiny["adapters"]["xgboost"]
    checked = 0
    for client in negatives(adapter, tiny["codes"], 4):
        p = float(adapter.proba_codes(client[None, :])[0, 1])
        problem = make_problem(adapter, cs, client, Target.probability(min(p + 0.25, 0.95)))
        best, _ = brute_force(problem)
        out = EXACT.solve(problem, 1, 0)
        if not np.isfinite(best):
            assert out.proved_none
            continue
        checked += 1
        cost = float(cs.cost(client[None, :], out.candidates)[0])
        assert cost == pytest.approx(best, abs=1e-6)
    assert checked == 4  # measured: every client


# ----------------------------------------------------------------------------- validity
@pytest.mark.parametrize("family", FAMILIES)
def test_candidates_are_valid_and_feasible(tiny: dict[str, Any], family: str) -> None:
    adapter, cs = tiny["adapters"][family], tiny["cs"]
    found = 0
    for client in negatives(adapter, tiny["codes"], 5):
        problem = make_problem(adapter, cs, client, Target.flip())
        out = ExactEngine().solve(problem, 3, 0)
        if not len(out.candidates):
            assert not np.isfinite(brute_force(problem)[0])  # none exists
            continue
        found += 1
        assert cs.check(client[None, :], out.candidates).ok.all()
        assert (problem.slack(out.candidates) >= 0).all()
        assert np.array_equal(
            out.candidates[:, :2], np.repeat(client[None, :2], len(out.candidates), 0)
        )
    assert found == 5  # measured: every client of each family


def test_demo_portfolio_candidates_respect_every_rule(demo: dict[str, Any]) -> None:
    adapter, cs = demo["adapter"], demo["cs"]
    found = 0
    for client in negatives(adapter, demo["codes"], 8):
        p = float(adapter.proba_codes(client[None, :])[0, 1])
        problem = make_problem(adapter, cs, client, Target.probability(min(2 * p, 0.9)))
        before = client.copy()
        out = ExactEngine().solve(problem, 3, 0)
        assert np.array_equal(client, before)  # input never mutated
        if len(out.candidates):
            found += 1
            result = cs.check(client[None, :], out.candidates)
            assert result.ok.all(), result.to_frame()
            assert (problem.slack(out.candidates) >= 0).all()
    assert found == 7  # measured: 7 of the 8 clients


def test_continuous_features_land_on_the_right_side_of_float32_splits(
    demo: dict[str, Any],
) -> None:
    """Allowed continuous context features (no step): XGBoost compares them in float32."""
    adapter = demo["adapter"]
    cs = demo["cs"].allowing("current_balance", "card_spend_monthly", "monthly_income", "age")
    found = 0
    for client in negatives(adapter, demo["codes"], 10):
        p = float(adapter.proba_codes(client[None, :])[0, 1])
        problem = make_problem(adapter, cs, client, Target.probability(min(3 * p, 0.9)))
        out = ExactEngine().solve(problem, 2, 0)
        assert not any("failed verification" in note for note in out.notes)
        if len(out.candidates):
            found += 1
            assert cs.check(client[None, :], out.candidates).ok.all()
            assert (problem.slack(out.candidates) >= 0).all()
    assert found == 10  # measured: every client


def test_flip_down_is_strict(tiny: dict[str, Any]) -> None:
    down = Target.flip().bind((False, True), np.array([0.2, 0.8]), ranked=False)
    assert down.slack(np.array([[0.8, 0.2]]))[0] > 0
    assert down.slack(np.array([[0.5, 0.5]]))[0] < 0
    adapter, cs = tiny["adapters"]["forest"], tiny["cs"]
    p = adapter.proba_codes(tiny["codes"])[:, 1]
    found = 0
    for client in tiny["codes"][(p > 0.5) & (p < 0.8)][:5]:
        problem = make_problem(adapter, cs, client, Target.flip())
        out = EXACT.solve(problem, 1, 0)
        best, _ = brute_force(problem)
        if np.isfinite(best):
            found += 1
            assert adapter.proba_codes(out.candidates)[0, 1] < 0.5
            cost = float(cs.cost(client[None, :], out.candidates)[0])
            assert cost == pytest.approx(best, abs=1e-6)
    assert found == 5  # measured: every client


# ----------------------------------------------------------------------------- diversity
def test_n_candidates_change_different_feature_sets(demo: dict[str, Any]) -> None:
    adapter, cs = demo["adapter"], demo["cs"]
    seen_three = False
    for client in negatives(adapter, demo["codes"], 6):
        p = float(adapter.proba_codes(client[None, :])[0, 1])
        problem = make_problem(adapter, cs, client, Target.probability(min(1.5 * p, 0.9)))
        out = EXACT.solve(problem, 3, 0)
        sets = [frozenset(np.flatnonzero(changed(client, c))) for c in out.candidates]
        for i, later in enumerate(sets):
            for earlier in sets[:i]:
                assert not earlier <= later  # neither the same set nor a superset of one
        costs = cs.cost(client[None, :], out.candidates)
        assert np.all(np.diff(costs) >= -1e-6)  # best first
        seen_three |= len(sets) == 3
    assert seen_three


# ----------------------------------------------------------------------------- none found
def test_impossible_threshold_is_proved_with_a_best_point(tiny: dict[str, Any]) -> None:
    adapter, cs = tiny["adapters"]["xgboost"], tiny["cs"]
    client = negatives(adapter, tiny["codes"], 1)[0]
    problem = make_problem(adapter, cs, client, Target.probability(0.999))
    out = ExactEngine().solve(problem, 2, 0)
    assert out.proved_none
    assert len(out.candidates) == 0
    assert out.best_codes is not None
    assert cs.check(client[None, :], out.best_codes[None, :]).ok.all()
    grid = tiny_grid(cs, client)
    grid = grid[cs.check(client[None, :], grid).ok]
    best_p = float(adapter.proba_codes(out.best_codes[None, :])[0, 1])
    assert best_p == pytest.approx(adapter.proba_codes(grid)[:, 1].max(), abs=1e-6)
    assert all(b.split(":")[0] in ("max_changes", "rule", "direction", "immutable", "context")
               for b in out.binding)  # fmt: skip


def test_max_changes_is_reported_binding(tiny: dict[str, Any]) -> None:
    adapter, cs = tiny["adapters"]["logistic"], tiny["cs"]
    one = dataclasses.replace(cs, max_changes=1)
    for client in negatives(adapter, tiny["codes"], 40):
        p = float(adapter.proba_codes(client[None, :])[0, 1])
        target = Target.probability(min(p + 0.3, 0.95))
        _, point = brute_force(make_problem(adapter, cs, client, target))
        needs_two = len(point) and brute_force(make_problem(adapter, one, client, target))[0]
        if not (len(point) and needs_two == np.inf):
            continue
        out = ExactEngine().solve(make_problem(adapter, one, client, target), 1, 0)
        assert out.proved_none
        assert "max_changes" in out.binding
        return
    pytest.fail("no client needs two changes")


# ----------------------------------------------------------------------------- determinism, time
def test_same_seed_same_candidates(demo: dict[str, Any]) -> None:
    adapter, cs = demo["adapter"], demo["cs"]
    client = negatives(adapter, demo["codes"], 1)[0]
    problem = make_problem(adapter, cs, client, Target.probability(0.2))
    first = ExactEngine().solve(problem, 3, seed=7).candidates
    second = ExactEngine().solve(problem, 3, seed=7).candidates
    assert np.array_equal(first, second)


def test_a_passed_deadline_stops_the_engine(demo: dict[str, Any]) -> None:
    """Past its deadline the engine stops before any solve: timed out, no candidate, no proof.

    The same request with time finds levers. (Wall times: benchmarks/engine_deadlines.py.)
    """
    adapter, cs = demo["adapter"], demo["cs"]
    client = negatives(adapter, demo["codes"], 1)[0]
    p = float(adapter.proba_codes(client[None, :])[0, 1])
    problem = make_problem(adapter, cs, client, Target.probability(min(1.5 * p, 0.9)))
    late = ExactEngine().solve(dataclasses.replace(problem, deadline=time.perf_counter() - 1.0),
                               3, 0)  # fmt: skip
    assert late.timed_out
    assert not late.proved_none
    assert late.candidates.shape == (0, cs.n_features)
    on_time = ExactEngine().solve(problem, 3, 0)
    assert not on_time.timed_out
    assert len(on_time.candidates) == 1  # measured: one set of changes reaches the goal


def test_the_time_limit_stops_a_proof(demo: dict[str, Any]) -> None:
    """An unreachable goal is proved so with time; a limit spent while building stops it."""
    adapter, cs = demo["adapter"], demo["cs"]
    client = negatives(adapter, demo["codes"], 1)[0]
    problem = make_problem(adapter, cs, client, Target.probability(0.999))
    cut = ExactEngine(time_limit_s=1e-6).solve(problem, 3, 0)
    assert cut.timed_out
    assert not cut.proved_none
    assert len(cut.candidates) == 0
    full = ExactEngine(explain=False).solve(problem, 3, 0)
    assert full.proved_none
    assert not full.timed_out


def test_solve_many_answers_each_client_optimally(tiny: dict[str, Any]) -> None:
    """One batch mixing families, goals up and down and unreachable ones, in shuffled order:
    each answer is the brute-force optimum of its own request (or a proof there is none)."""
    cs = tiny["cs"]
    problems = []
    for family in FAMILIES:
        adapter = tiny["adapters"][family]
        for k, client in enumerate(negatives(adapter, tiny["codes"], 4)):
            p = float(adapter.proba_codes(client[None, :])[0, 1])
            goals = (Target.probability(min(p + 0.25, 0.95)),
                     Target.probability(max(p - 0.1, 0.02), at_most=True),
                     Target.probability(0.999))  # fmt: skip
            problems.append(make_problem(adapter, cs, client, goals[k % 3]))
    order = np.random.default_rng(0).permutation(len(problems))
    batch = [problems[i] for i in order]
    outputs = EXACT.solve_many(batch, 1, 0)
    assert len(outputs) == len(batch)
    n_optimal = n_none = 0
    for problem, out in zip(batch, outputs, strict=True):
        best, _ = brute_force(problem)
        if not np.isfinite(best):
            assert out.proved_none
            assert len(out.candidates) == 0
            n_none += 1
            continue
        assert out.optimal
        assert (problem.slack(out.candidates) >= 0).all()
        cost = float(cs.cost(problem.client[None, :], out.candidates)[0])
        assert cost == pytest.approx(best, abs=1e-6)
        n_optimal += 1
    assert (n_optimal, n_none) == (8, 4)  # measured: the 0.999 goals are out of reach
