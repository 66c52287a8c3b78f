"""The search's wide stage: when the sparse stages find nothing, random combinations do.

Oracle: a hand-made black box whose only levers move two features jointly past 60 (each
alone does nothing), so a narrow beam that follows a decoy feature cannot find them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from constraints import ConstraintSet, parse_constraints
from counterfactuals import FeatureSpace, ModelAdapter, SearchEngine, Target, generate
from tests.counterfactuals.conftest import black_box

SPEC = """
name: joint
max_changes: 3
features:
  age: {kind: integer, role: immutable}
  x1: {kind: continuous, role: actionable, min: 0, max: 100, cost: {per_unit: 0.01}}
  x2: {kind: continuous, role: actionable, min: 0, max: 100, cost: {per_unit: 0.01}}
  x3: {kind: continuous, role: actionable, min: 0, max: 100, cost: {per_unit: 0.01}}
  x4: {kind: continuous, role: actionable, min: 0, max: 100, cost: {per_unit: 0.01}}
"""


@pytest.fixture(scope="module")
def joint() -> tuple[ModelAdapter, pd.DataFrame, ConstraintSet]:
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"age": rng.integers(20, 70, 200)})
    for name in ("x1", "x2", "x3", "x4"):
        data[name] = rng.uniform(0, 100, 200)
    cs = parse_constraints(SPEC, data)
    space = FeatureSpace.from_constraints(cs)

    def proba(codes: np.ndarray) -> np.ndarray:
        both = (codes[:, 1] > 60) & (codes[:, 2] > 60)  # x1 and x2 together
        p = np.where(both, 0.9, 0.2 + 0.002 * codes[:, 3])  # x3: a decoy, never enough
        return np.column_stack([1 - p, p])

    adapter = black_box(space, proba, "joint")
    client = pd.DataFrame({"age": [40], "x1": [0.0], "x2": [0.0], "x3": [0.0], "x4": [0.0]})
    return adapter, client, cs


def test_random_combinations_find_the_joint_lever_a_narrow_beam_misses(
    joint: tuple[ModelAdapter, pd.DataFrame, ConstraintSet],
) -> None:
    adapter, client, cs = joint
    narrow = {"beam_width": 1, "n_random_units": 0}
    goal = Target.probability(0.5)
    off = generate(adapter, client, cs, goal, engine=SearchEngine(**narrow, n_wide=0), n=1)
    assert not off.found  # the beam follows the decoy x3 alone
    on = generate(adapter, client, cs, goal, engine=SearchEngine(**narrow), n=1, seed=0)
    assert on.found
    best = on.counterfactuals[0]
    assert {c.feature for c in best.changes} == {"x1", "x2"}  # only the joint move reaches
    assert 60 < best.values["x1"] <= 70  # shrunk toward the threshold by the refinement
    assert 60 < best.values["x2"] <= 70
    assert any("random combinations found" in note for note in on.notes)
    again = generate(adapter, client, cs, goal, engine=SearchEngine(**narrow), n=1, seed=0)
    assert again.to_dict() | {"elapsed_s": 0} == on.to_dict() | {"elapsed_s": 0}
