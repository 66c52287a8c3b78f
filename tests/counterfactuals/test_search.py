"""The model-agnostic ``search`` engine on the demo portfolio (XGBoost and logistic models)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from constraints import ConstraintSet, changed, parse_constraints
from counterfactuals import (
    ENGINES,
    CounterfactualError,
    EngineRequest,
    FeatureSpace,
    ModelAdapter,
    SearchEngine,
    Target,
)

FAMILIES = ("xgboost", "logistic")
# Measured, seed 0: clients of the 12 below 0.25 who get a lever; clients of the 40 below 0.15
# with a single change that reaches 0.15; single numeric changes checked for minimality.
N_FOUND = {"xgboost": 7, "logistic": 11}
N_SINGLE = {"xgboost": 15, "logistic": 15}
N_MINIMAL = {"xgboost": 27, "logistic": 52}
N_BATCH_FOUND = {"xgboost": 6, "logistic": 10}  # of the 10 below 0.2, batched with seed 1


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def clients(model_clients: pd.DataFrame) -> pd.DataFrame:
    return model_clients.loc[~model_clients["has_life_insurance"]]


@pytest.fixture(scope="module")
def adapters(clients: pd.DataFrame, model_constraints: ConstraintSet) -> dict[str, ModelAdapter]:
    space = FeatureSpace.from_constraints(model_constraints)
    x = space.to_design(model_constraints.to_array(clients))
    y = clients["take_life_insurance"].to_numpy()
    models: dict[str, Any] = {
        "xgboost": xgboost.XGBClassifier(
            n_estimators=40, max_depth=3, n_jobs=1, random_state=0
        ).fit(x, y),
        "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y),
    }
    return {name: _adapter(space, model, name) for name, model in models.items()}


def _adapter(space: FeatureSpace, model: Any, family: str) -> ModelAdapter:
    return ModelAdapter(
        space=space,
        outputs=(False, True),
        proba_codes=lambda c: model.predict_proba(space.to_design(c)),
        proba_frame=lambda f: model.predict_proba(space.to_design(space.to_codes(f))),
        family=family,
    )


def _problem(
    adapter: ModelAdapter,
    cs: ConstraintSet,
    client: np.ndarray,
    threshold: float,
    deadline: float | None = None,
) -> EngineRequest:
    baseline = adapter.proba_codes(client[None, :])[0]
    return EngineRequest(
        adapter=adapter,
        constraints=cs,
        client=client.copy(),
        target=Target.probability(threshold).bind(adapter.outputs, baseline, ranked=False),
        bounds=cs.bounds_for(client[None, :]),
        baseline=baseline,
        deadline=deadline,
    )


def _below(adapter: ModelAdapter, codes: np.ndarray, threshold: float, k: int) -> np.ndarray:
    p = adapter.proba_codes(codes)[:, 1]
    return codes[np.flatnonzero(p < threshold)[:k]]


@pytest.fixture(scope="module")
def codes(clients: pd.DataFrame, model_constraints: ConstraintSet) -> np.ndarray:
    return model_constraints.to_array(clients.iloc[:400])


def _changed(client: np.ndarray, rows: np.ndarray, cs: ConstraintSet) -> np.ndarray:
    """Which features each row changes, derived features (which follow others) left out."""
    derived = np.array([f.name in {d.feature for d in cs.derived} for f in cs.features])
    moved: np.ndarray = changed(client, rows) & ~derived
    return moved


# ----------------------------------------------------------------------------- contract
def test_registered_and_supports_any_model(adapters: dict[str, ModelAdapter]) -> None:
    assert ENGINES["search"] is SearchEngine
    target = Target.flip().bind((False, True), np.array([0.9, 0.1]), ranked=False)
    assert SearchEngine().supports(adapters["xgboost"], target).ok


def test_hyper_parameters_are_checked() -> None:
    with pytest.raises(
        CounterfactualError,
        match=r"^SearchEngine.n_grid: must be a whole number from 2 to 1000. Got 1.$",
    ):
        SearchEngine(n_grid=1)
    engine = SearchEngine(n_grid=np.int64(4))  # type: ignore[arg-type]  # numpy ints accepted
    assert engine.n_grid == 4
    assert type(engine.n_grid) is int
    with pytest.raises(CounterfactualError, match=r"^SearchEngine.max_level: .* Got 0.$"):
        SearchEngine(max_level=0)


def test_n_must_be_positive(
    adapters: dict[str, ModelAdapter], model_constraints: ConstraintSet, codes: np.ndarray
) -> None:
    problem = _problem(adapters["xgboost"], model_constraints, codes[0], 0.3)
    with pytest.raises(CounterfactualError, match=r"^n: must be a whole number from 1 to 1000\."):
        SearchEngine().solve(problem, 0, seed=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_candidates_are_feasible_valid_and_diverse(
    family: str,
    adapters: dict[str, ModelAdapter],
    model_constraints: ConstraintSet,
    codes: np.ndarray,
) -> None:
    cs, adapter = model_constraints, adapters[family]
    engine = SearchEngine()
    n_found = 0
    for client in _below(adapter, codes, 0.25, 12):
        problem = _problem(adapter, cs, client, 0.25)
        out = engine.solve(problem, 5, seed=0)
        rows = out.candidates
        assert rows.shape[1] == cs.n_features
        assert len(rows) <= 5
        if not len(rows):
            assert out.best_codes is not None
            continue
        n_found += 1
        assert cs.check(client, rows).ok.all()
        assert (problem.slack(rows) >= 0).all()
        # the real model, through business values, agrees
        proba = adapter.proba_frame(cs.to_frame(rows))[:, 1]
        assert (proba >= 0.25).all()
        # immutable, context and derived-only features never move on their own
        frozen = ~problem.bounds.movable & ~np.isin(
            cs.feature_names, [d.feature for d in cs.derived]
        )
        assert np.array_equal(
            rows[:, frozen], np.broadcast_to(client[frozen], rows[:, frozen].shape)
        )
        changed = _changed(client, rows, cs)
        assert changed.any(axis=1).all()
        assert len(np.unique(changed, axis=0)) == len(rows), "feature sets must be distinct"
        cost = cs.cost(client, rows)
        assert (np.diff(cost) >= -1e-12).all(), "cheapest first"
        assert out.best_codes is None
    assert n_found == N_FOUND[family]


@pytest.mark.parametrize("family", FAMILIES)
def test_single_changes_first(
    family: str,
    adapters: dict[str, ModelAdapter],
    model_constraints: ConstraintSet,
    codes: np.ndarray,
) -> None:
    cs, adapter = model_constraints, adapters[family]
    checked = 0
    for client in _below(adapter, codes, 0.15, 40):
        problem = _problem(adapter, cs, client, 0.15)
        samples = cs.sample(client, 400, seed=0)
        singles = samples[_changed(client, samples, cs).sum(axis=1) == 1]
        if not len(singles) or not (problem.slack(singles) >= 0).any():
            continue
        out = SearchEngine().solve(problem, 1, seed=0)
        assert len(out.candidates) == 1
        assert _changed(client, out.candidates, cs).sum() == 1
        many = SearchEngine().solve(problem, 5, seed=0)
        n_changes = _changed(client, many.candidates, cs).sum(axis=1)
        assert n_changes.min() == 1
        checked += 1
    assert checked == N_SINGLE[family]


@pytest.mark.parametrize("family", FAMILIES)
def test_numeric_changes_are_minimal(
    family: str,
    adapters: dict[str, ModelAdapter],
    model_constraints: ConstraintSet,
    codes: np.ndarray,
) -> None:
    """One step of the feature's grid back toward the client no longer reaches the goal."""
    cs, adapter = model_constraints, adapters[family]
    numeric = np.array([f.kind in ("continuous", "integer") for f in cs.features])
    step = np.where(cs.compiled.step > 0, cs.compiled.step, 0.0)
    checked = 0
    for client in _below(adapter, codes, 0.2, 40):
        problem = _problem(adapter, cs, client, 0.2)
        rows = SearchEngine().solve(problem, 5, seed=0).candidates
        moved_rows = _changed(client, rows, cs)
        for row, mask in zip(rows, moved_rows, strict=True):
            moved = np.flatnonzero(mask & numeric)
            if len(moved) != 1:
                continue
            j = int(moved[0])
            back = row.copy()
            delta = row[j] - client[j]
            back[j] -= np.sign(delta) * step[j] if step[j] else delta / 2
            if not changed(client[j], back[j]) or np.sign(back[j] - client[j]) != np.sign(delta):
                continue
            back = cs.project(client, back[None, :]).values[0]  # derived features follow
            ok = cs.check(client, back[None, :]).ok[0]
            assert not (ok and problem.slack(back[None, :])[0] >= 0), (cs.feature_names[j], row[j])
            checked += 1
    assert checked == N_MINIMAL[family]


# ----------------------------------------------------------------------------- engine contract
def test_same_seed_same_candidates(
    adapters: dict[str, ModelAdapter], model_constraints: ConstraintSet, codes: np.ndarray
) -> None:
    for family in FAMILIES:
        for client in _below(adapters[family], codes, 0.25, 4):
            problem = _problem(adapters[family], model_constraints, client, 0.25)
            a = SearchEngine().solve(problem, 5, seed=3)
            b = SearchEngine().solve(problem, 5, seed=3)
            assert a.candidates.tobytes() == b.candidates.tobytes()
            assert a.stats == b.stats


@pytest.mark.parametrize("family", FAMILIES)
def test_solve_many_equals_solve(
    family: str,
    adapters: dict[str, ModelAdapter],
    model_constraints: ConstraintSet,
    codes: np.ndarray,
) -> None:
    adapter = adapters[family]
    problems = [
        _problem(adapter, model_constraints, c, 0.2) for c in _below(adapter, codes, 0.2, 10)
    ]
    engine = SearchEngine(batch_problems=4, max_rows=300)  # several blocks and chunks
    order = np.random.default_rng(2).permutation(len(problems))
    problems = [problems[i] for i in order]  # answers follow the requests, in any order
    many = engine.solve_many(problems, 5, seed=1)
    assert len(many) == len(problems)
    assert sum(len(out.candidates) > 0 for out in many) == N_BATCH_FOUND[family]
    for problem, out in zip(problems, many, strict=True):
        alone = engine.solve(problem, 5, seed=1)
        assert np.array_equal(out.candidates, alone.candidates)
        assert out.proved_none == alone.proved_none
        assert out.stats == alone.stats


def test_solve_many_mixes_models(
    adapters: dict[str, ModelAdapter], model_constraints: ConstraintSet, codes: np.ndarray
) -> None:
    problems = [
        _problem(adapters[family], model_constraints, c, 0.2)
        for c in codes[:6]
        for family in FAMILIES
    ]
    many = SearchEngine().solve_many(problems, 3, seed=0)
    for problem, out in zip(problems, many, strict=True):
        assert np.array_equal(out.candidates, SearchEngine().solve(problem, 3, seed=0).candidates)


def test_inputs_are_not_mutated(
    adapters: dict[str, ModelAdapter], model_constraints: ConstraintSet, codes: np.ndarray
) -> None:
    client = _below(adapters["xgboost"], codes, 0.25, 1)[0]
    problem = _problem(adapters["xgboost"], model_constraints, client, 0.25)
    before = (
        problem.client.copy(),
        problem.baseline.copy(),
        problem.bounds.lower.copy(),
        problem.bounds.upper.copy(),
        problem.bounds.movable.copy(),
    )
    SearchEngine().solve(problem, 5, seed=0)
    after = (
        problem.client,
        problem.baseline,
        problem.bounds.lower,
        problem.bounds.upper,
        problem.bounds.movable,
    )
    for x, y in zip(before, after, strict=True):
        assert np.array_equal(x, y)


def test_a_passed_deadline_stops_the_search(
    adapters: dict[str, ModelAdapter], model_constraints: ConstraintSet, codes: np.ndarray
) -> None:
    """Past its deadline the search scores the single changes once and stops (timed out).

    The same request without a deadline goes on to larger plans. (Wall times:
    benchmarks/engine_deadlines.py.)
    """
    adapter = adapters["xgboost"]
    client = _below(adapter, codes, 0.5, 1)[0]
    problem = _problem(adapter, model_constraints, client, 0.5)
    late = dataclasses.replace(problem, deadline=time.perf_counter() - 1.0)
    out = SearchEngine().solve(late, 5, seed=0)
    free = SearchEngine().solve(problem, 5, seed=0)
    assert out.timed_out
    assert (out.stats["level"], out.stats["model_calls"]) == (1, 1)  # the single changes only
    assert not free.timed_out
    # up to max_changes; nothing found, so random combinations of 2 then 3 moves (2 calls)
    assert (free.stats["level"], free.stats["model_calls"]) == (3, 5)


# ----------------------------------------------------------------------------- no answer
@pytest.mark.parametrize("family", FAMILIES)
def test_unreachable_goal_gives_best_point(
    family: str,
    adapters: dict[str, ModelAdapter],
    model_constraints: ConstraintSet,
    codes: np.ndarray,
) -> None:
    cs, adapter = model_constraints, adapters[family]
    problem = _problem(adapter, cs, codes[0], 0.9999)
    out = SearchEngine().solve(problem, 5, seed=0)
    assert len(out.candidates) == 0
    assert out.best_codes is not None
    assert cs.check(codes[0], out.best_codes[None, :]).ok[0]
    assert problem.slack(out.best_codes[None, :])[0] > problem.slack(codes[0][None, :])[0]
    assert not out.proved_none  # savings transfers are searched on a grid: not a proof


def test_proved_none_when_the_finite_space_is_enumerated(
    adapters: dict[str, ModelAdapter], model_constraints: ConstraintSet, codes: np.ndarray
) -> None:
    engine = SearchEngine(n_enumerate=64, max_exhaustive=200_000)
    problem = _problem(adapters["logistic"], model_constraints, codes[0], 0.9999)
    out = engine.solve(problem, 5, seed=0)
    assert out.proved_none
    assert len(out.candidates) == 0
    assert any("enumerated the whole feasible space" in note for note in out.notes)


# ----------------------------------------------------------------------------- groups
_GROUPS = """
name: groups
max_changes: 2
features:
  age: {kind: integer, role: immutable}
  spend: {kind: continuous, role: actionable, min: 0, max: 100, step: 5}
  plan_a: {kind: binary, role: actionable}
  plan_b: {kind: binary, role: actionable}
  plan_c: {kind: binary, role: actionable}
  n_policies: {kind: integer, role: actionable, direction: increase, max_change: 1}
  band: {kind: ordinal, order: [0, 1, 2, 3], role: actionable, direction: increase}
rules:
  - {name: policy has a band, if: n_policies >= 1, require: band >= 1}
  - {name: band needs a policy, if: band >= 1, require: n_policies >= 1}
one_hot:
  plan: [plan_a, plan_b, plan_c]
change_groups:
  policy: [n_policies, band]
"""


def test_one_hot_and_change_groups_move_as_units() -> None:
    cs = parse_constraints(_GROUPS)
    space = FeatureSpace.from_constraints(cs)
    coef = np.array([0.0, 0.03, -1.0, 0.5, 1.5, 1.0, 0.6])

    def proba(c: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-(space.to_design(c) @ coef - 4.0)))
        return np.column_stack([1 - p, p])

    adapter = ModelAdapter(
        space=space,
        outputs=(False, True),
        proba_codes=proba,
        proba_frame=lambda f: proba(space.to_codes(f)),
    )
    client = np.array([40.0, 10.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    problem = _problem(adapter, cs, client, 0.5)
    out = SearchEngine().solve(problem, 5, seed=0)
    assert len(out.candidates)
    assert cs.check(client, out.candidates).ok.all()
    assert (problem.slack(out.candidates) >= 0).all()
    policy = out.candidates[:, 5] > 0
    assert policy.any()
    assert (out.candidates[policy, 6] >= 1).all()  # the change group moved together
    switched = out.candidates[:, 2] == 0
    assert switched.any()
    assert (out.candidates[:, 2:5].sum(axis=1) == 1).all()  # one plan, always


def test_nothing_movable_is_proved_none_without_model_calls() -> None:
    cs = parse_constraints(
        "name: frozen\nfeatures:\n  age: {kind: integer, role: immutable}\n"
        "  spend: {kind: continuous, role: context}\n"
    )
    space = FeatureSpace.from_constraints(cs)
    calls: list[int] = []

    def proba(c: np.ndarray) -> np.ndarray:
        calls.append(len(c))
        return np.column_stack([np.full(len(c), 0.9), np.full(len(c), 0.1)])

    adapter = ModelAdapter(
        space=space,
        outputs=(False, True),
        proba_codes=proba,
        proba_frame=lambda f: proba(space.to_codes(f)),
    )
    problem = _problem(adapter, cs, np.array([40.0, 100.0]), 0.5)
    calls.clear()
    out = SearchEngine().solve(problem, 5, seed=0)
    assert out.candidates.shape == (0, 2)
    assert out.proved_none
    assert calls == []
