"""Baselines: DiCE options come from the constraint set; missing optional extras fail clearly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from constraints import ConstraintSet, parse_constraints
from counterfactuals import CounterfactualError, FeatureSpace, ModelAdapter, Target
from counterfactuals.baselines import AlibiCFRL, DiceBaseline, alibi_available, dice_options

YAML = """
name: tiny bank
max_changes: 2
features:
  age: {kind: integer, role: immutable}
  income: {kind: continuous, role: context, min: 0}
  savings: {kind: continuous, role: actionable, direction: increase, min: 0, max: 1000,
            max_change: 300}
  plan:
    kind: categorical
    role: actionable
    categories: [basic, plus, gold]
    transitions: {basic: [plus], plus: [gold], gold: []}
  app: {kind: binary, role: actionable, direction: increase}
"""


@pytest.fixture(scope="module")
def clients() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame(
        {
            "age": rng.integers(20, 70, n),
            "income": rng.uniform(1000, 5000, n).round(0),
            "savings": rng.uniform(0, 1000, n).round(0),
            "plan": rng.choice(["basic", "plus", "gold"], n),
            "app": rng.random(n) < 0.5,
        }
    )


@pytest.fixture(scope="module")
def constraints(clients: pd.DataFrame) -> ConstraintSet:
    return parse_constraints(YAML)


@pytest.fixture(scope="module")
def adapter(constraints: ConstraintSet) -> ModelAdapter:
    """A tiny model: more savings, a better plan and the app raise the probability."""
    space = FeatureSpace.from_constraints(constraints)

    def proba(codes: np.ndarray) -> np.ndarray:
        z = (codes[:, 2] - 300) / 100 + 1.5 * codes[:, 3] + 1.0 * codes[:, 4] - 1.0
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    return ModelAdapter(
        space=space,
        outputs=(False, True),
        proba_codes=proba,
        proba_frame=lambda frame: proba(space.to_codes(frame)),
        family="tiny",
    )


CLIENT = {"age": 40, "income": 2000.0, "savings": 100.0, "plan": "basic", "app": False}


def test_dice_options_vary_only_levers_within_the_clients_bounds(
    constraints: ConstraintSet, clients: pd.DataFrame
) -> None:
    options = dice_options(constraints, CLIENT, data=clients)
    assert options.features_to_vary == ("savings", "plan", "app")  # no immutable, no context
    assert options.continuous_features == ("age", "income", "savings")
    bounds = constraints.bounds_for(CLIENT)
    assert options.permitted_range["savings"] == [bounds.lower[2], bounds.upper[2]] == [100, 400]
    assert options.permitted_range["plan"] == ["basic", "plus"]  # transitions, as labels
    assert options.permitted_range["app"] == ["False", "True"]
    assert set(options.unsupported) == {"max_changes"}


def test_dice_options_drop_levers_that_cannot_move(
    constraints: ConstraintSet, clients: pd.DataFrame
) -> None:
    stuck = {**CLIENT, "plan": "gold", "app": True, "savings": 1000.0}
    assert dice_options(constraints, stuck, data=clients).features_to_vary == ()


def test_dice_random_returns_codes_that_keep_immutables(
    constraints: ConstraintSet, clients: pd.DataFrame, adapter: ModelAdapter
) -> None:
    pytest.importorskip("dice_ml")
    baseline = DiceBaseline(
        constraints=constraints, model=adapter, data=clients, method="random", time_limit_s=20
    )
    out = baseline.generate(pd.DataFrame([CLIENT]), Target.flip(), n=3, seed=0)
    assert out.found, out.message
    assert out.codes.ndim == 2
    assert out.codes.shape[1] == constraints.n_features
    client = constraints.to_array(CLIENT)
    assert (out.codes[:, :2] == client[:, :2]).all()  # age and income never move
    assert (out.codes[:, 2] >= 100).all()
    assert (out.codes[:, 2] <= 400).all()
    assert set(out.codes[:, 3]) <= {0.0, 1.0}  # basic, or plus (the one transition)
    assert (adapter.proba_codes(out.codes)[:, 1] >= 0.5).any()
    again = baseline.generate(pd.DataFrame([CLIENT]), Target.flip(), n=3, seed=0)
    np.testing.assert_array_equal(out.codes, again.codes)


def test_missing_dice_says_which_extra_to_install(
    constraints: ConstraintSet,
    clients: pd.DataFrame,
    adapter: ModelAdapter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "dice_ml", None)  # makes `import dice_ml` fail
    with pytest.raises(CounterfactualError, match=r"pip install 'levers\[dice\]'"):
        DiceBaseline(constraints=constraints, model=adapter, data=clients)


def test_missing_alibi_env_is_reported(
    constraints: ConstraintSet,
    clients: pd.DataFrame,
    adapter: ModelAdapter,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("LEVERS_ALIBI_ENV", str(tmp_path))
    assert not alibi_available()
    explainer = AlibiCFRL(constraints=constraints, model=adapter)
    with pytest.raises(CounterfactualError, match=r"setup_alibi_env\.sh"):
        explainer.run(clients, clients.head(2), Target.flip(), n=1)
