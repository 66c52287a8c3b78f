"""Baselines: DiCE options come from the constraint set; missing optional extras fail clearly.

The DiCE engine's contract (every registered engine x every model family) is in
test_contract.py; here: its registration, hyper-parameters and refusal without dice-ml.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from constraints import ConstraintSet, parse_constraints
from counterfactuals import (
    ENGINES,
    CounterfactualError,
    FeatureSpace,
    ModelAdapter,
    Status,
    Target,
    generate,
)
from counterfactuals.baselines import (
    AlibiCFRL,
    DiceBaseline,
    DiceEngine,
    alibi_available,
    dice_options,
)
from tests.counterfactuals.conftest import black_box

NEEDS_DICE = "dice-ml is not installed (pip install 'levers[dice]')"

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

    return black_box(space, proba, "tiny", outputs=(False, True))


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
    pytest.importorskip("dice_ml", reason=NEEDS_DICE)
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


def test_the_dice_engine_is_registered_and_validated() -> None:
    assert ENGINES["dice"] is DiceEngine
    assert DiceEngine().method == "random"
    for params, message in [
        ({"method": "grid"}, "DiceEngine.method: must be one of random, genetic, kdtree. "
                             "Got 'grid'."),
        ({"time_limit_s": 0}, "DiceEngine.time_limit_s: must be a finite number of seconds "
                              "in (0, 86400]. Got 0."),
        ({"n_samples": 0}, "DiceEngine.n_samples: must be a whole number from 1 to 1000000. "
                           "Got 0."),
        ({"repair": "yes"}, "DiceEngine.repair: must be True or False. Got 'yes'."),
    ]:  # fmt: skip
        with pytest.raises(CounterfactualError, match=rf"^{re.escape(message)}$"):
            DiceEngine(**params)  # type: ignore[arg-type]


def test_the_dice_engine_answers_are_verified(
    constraints: ConstraintSet, adapter: ModelAdapter
) -> None:
    pytest.importorskip("dice_ml", reason=NEEDS_DICE)
    client = pd.DataFrame([CLIENT])
    result = generate(adapter, client, constraints, Target.flip(), n=3, engine="dice", seed=0)
    assert result.status is Status.FOUND
    assert result.engine == "dice"
    assert result.params == {"method": "random", "time_limit_s": 30.0, "n_samples": 200,
                             "repair": True}  # fmt: skip
    codes = constraints.to_array(result.to_frame()[list(constraints.feature_names)])
    assert constraints.check(constraints.to_array(client), codes).ok.all()
    assert (adapter.proba_codes(codes)[:, 1] >= 0.5).all()


def test_without_dice_the_engine_refuses_and_says_why(
    constraints: ConstraintSet, adapter: ModelAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dice_ml", None)  # makes `import dice_ml` fail
    reason = "the dice engine needs the dice-ml package (pip install 'levers[dice]')"
    goal = Target.flip().bind(adapter.outputs, np.array([0.9, 0.1]), ranked=False)
    assert DiceEngine().supports(adapter, goal).reason == reason
    message = f"engine: dice cannot serve this request: {reason}"
    with pytest.raises(CounterfactualError, match=rf"^{re.escape(message)}$"):
        generate(adapter, pd.DataFrame([CLIENT]), constraints, "flip", engine="dice")


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
