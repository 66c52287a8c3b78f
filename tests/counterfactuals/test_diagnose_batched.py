"""The diagnosis searches every relaxation in lock step: a few model calls, the same answer.

Oracle: a hand-made black box whose only levers are known. Moving x1 down (its rule says
up only) reaches the goal alone; x2 and x3 reach it together (max_changes is 1). The other
loosenable rules (x4's and x5's directions, x6's step) do nothing for the model. So the
binding constraints are exactly ``max_changes`` and ``direction:x1``, and each relaxation
searched alone (``generate`` on the relaxed file) says the same.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from constraints import ConstraintSet, parse_constraints
from counterfactuals import FeatureSpace, ModelAdapter, SearchEngine, Target, generate_many
from tests.counterfactuals.conftest import black_box

SPEC = """
name: relaxable
max_changes: 1
features:
  age: {kind: integer, role: immutable}
  x1: {kind: continuous, role: actionable, min: 0, max: 100, direction: increase}
  x2: {kind: continuous, role: actionable, min: 0, max: 100}
  x3: {kind: continuous, role: actionable, min: 0, max: 100}
  x4: {kind: continuous, role: actionable, min: 0, max: 100, direction: increase}
  x5: {kind: continuous, role: actionable, min: 0, max: 100, direction: decrease}
  x6: {kind: continuous, role: actionable, min: 0, max: 100, max_change: 10}
"""
NAMES = ("age", "x1", "x2", "x3", "x4", "x5", "x6")


def _proba(codes: np.ndarray) -> np.ndarray:
    p = 0.2 + 0.002 * (codes[:, 2] + codes[:, 3])  # x2 + x3 >= 150: both must move
    p = np.where(codes[:, 1] < 20, 0.9, p)  # x1 below 20: enough alone
    return np.column_stack([1 - p, p])


@pytest.fixture(scope="module")
def relaxable() -> tuple[ConstraintSet, pd.DataFrame]:
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"age": rng.integers(20, 70, 200)})
    for name in NAMES[1:]:
        data[name] = rng.uniform(0, 100, 200)
    client = pd.DataFrame([dict(zip(NAMES, (40, 50.0, 0.0, 0.0, 50.0, 50.0, 50.0), strict=True))])
    return parse_constraints(SPEC, data), client


def _loosen(cs: ConstraintSet, name: str, **fields: Any) -> ConstraintSet:
    features = tuple(replace(f, **fields) if f.name == name else f for f in cs.features)
    return replace(cs, features=features)


def _counted(cs: ConstraintSet) -> tuple[ModelAdapter, list[int]]:
    space = FeatureSpace.from_constraints(cs)
    calls: list[int] = []

    def proba(codes: np.ndarray) -> np.ndarray:
        calls.append(len(codes))
        return _proba(codes)

    return black_box(space, proba, "relaxable"), calls


def test_binding_constraints_found_in_a_few_calls(
    relaxable: tuple[ConstraintSet, pd.DataFrame],
) -> None:
    cs, client = relaxable
    goal = Target.probability(0.5)
    adapter, calls = _counted(cs)
    quiet = generate_many(adapter, client, cs, goal, n=1, engine="search", diagnose=False)[0]
    without = len(calls)
    calls.clear()
    result = generate_many(adapter, client, cs, goal, n=1, engine="search")[0]
    assert not quiet.found
    assert not result.found
    assert set(result.binding) == {"max_changes", "direction:x1"}
    assert not result.timed_out
    diagnosis_calls = len(calls) - without
    # six relaxations, each searched in two or more stages when searched one after another;
    # in lock step the stages of all of them share their calls
    assert diagnosis_calls <= 6, calls


def test_each_relaxation_alone_agrees(relaxable: tuple[ConstraintSet, pd.DataFrame]) -> None:
    """The oracle: ``generate`` on each relaxed file, one at a time."""
    cs, client = relaxable
    goal = Target.probability(0.5)
    engine = SearchEngine(n_wide=0)
    loose = {
        "max_changes": replace(cs, max_changes=None),
        "direction:x1": _loosen(cs, "x1", direction="any"),
        "direction:x4": _loosen(cs, "x4", direction="any"),
        "direction:x5": _loosen(cs, "x5", direction="any"),
        "max_change:x6": _loosen(cs, "x6", max_change=float("inf")),
    }
    found = set()
    for label, relaxed in loose.items():
        adapter, _ = _counted(relaxed)
        alone = generate_many(adapter, client, relaxed, goal, n=1, engine=engine, diagnose=False)
        if alone[0].found:
            found.add(label)
    assert found == {"max_changes", "direction:x1"}
