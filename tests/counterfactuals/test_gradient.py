"""The gradient engine on a small torch MLP: feasible and valid plans, determinism, refusals."""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from constraints import ConstraintSet
from counterfactuals import (
    BoundTarget,
    CounterfactualError,
    EngineRequest,
    FeatureSpace,
    GradientEngine,
    LinearFunction,
    MarginModel,
    ModelAdapter,
    Target,
    TorchFunction,
    logistic_link,
)


def _proba(function: Any, space: FeatureSpace, codes: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-function.margin(space.to_design(codes))))
    return np.column_stack([1.0 - p, p])


def _adapter(space: FeatureSpace, function: Any) -> ModelAdapter:
    return ModelAdapter(
        space=space,
        outputs=(False, True),
        proba_codes=lambda codes: _proba(function, space, codes),
        proba_frame=lambda frame: _proba(function, space, space.to_codes(frame)),
        structure={1: MarginModel(function=function, link=logistic_link())},
        family="mlp",
    )


@pytest.fixture(scope="module")
def adapter(small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet) -> ModelAdapter:
    """A 16-unit MLP for life-insurance take-up among non-holders, trained by hand."""
    space = FeatureSpace.from_constraints(demo_constraints)
    clients = small_portfolio.loc[~small_portfolio["has_life_insurance"]]
    design = space.to_design(demo_constraints.to_array(clients))
    target = torch.tensor(clients["take_life_insurance"].to_numpy(), dtype=torch.float32)
    mean, std = design.mean(axis=0), design.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    generator = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(space.n_design, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
    )
    with torch.no_grad():
        for weights in net.parameters():
            weights.copy_(0.3 * torch.randn(weights.shape, generator=generator))
    z = torch.as_tensor((design - mean) / scale, dtype=torch.float32)
    optimiser = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(200):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(z)[:, 0], target)
        torch.autograd.backward(loss)
        optimiser.step()
    net.eval()
    return _adapter(space, TorchFunction(module=net, mean=mean, scale=scale, column=0))


def _problem(
    adapter: ModelAdapter, cs: ConstraintSet, client: np.ndarray, target: Target, **kw: Any
) -> EngineRequest:
    baseline = adapter.proba_codes(client[None, :])[0]
    return EngineRequest(
        adapter=adapter,
        constraints=cs,
        client=client,
        target=target.bind(adapter.outputs, baseline, ranked=False),
        bounds=cs.bounds_for(client[None, :]),
        baseline=baseline,
        **kw,
    )


@pytest.fixture(scope="module")
def problems(
    adapter: ModelAdapter, small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet
) -> list[EngineRequest]:
    """Six clients scored 0.02-0.5, each asked for 1.6 times their score (at most 0.6)."""
    codes = demo_constraints.to_array(small_portfolio.loc[~small_portfolio["has_life_insurance"]])
    score = adapter.proba_codes(codes)[:, 1]
    chosen = np.flatnonzero((score > 0.02) & (score < 0.5))[:6]
    assert len(chosen) == 6
    return [
        _problem(adapter, demo_constraints, codes[i], Target.probability(min(0.6, 1.6 * score[i])))
        for i in chosen
    ]


FAST = GradientEngine(steps=80, polish_steps=30, restarts=3)


def test_candidates_are_feasible_valid_distinct_and_cheapest_first(
    problems: list[EngineRequest], demo_constraints: ConstraintSet
) -> None:
    outputs = FAST.solve_many(problems, 3, seed=0)
    assert len(outputs) == len(problems)
    n_found = 0
    for problem, out in zip(problems, outputs, strict=True):
        found = out.candidates
        assert found.shape[1] == demo_constraints.n_features
        assert len(found) <= 3
        if not len(found):
            assert out.best_codes is not None
            continue
        n_found += 1
        check = demo_constraints.check(problem.client, found)
        assert check.ok.all(), check.to_frame().to_string()
        assert (problem.slack(found) >= 0).all()
        assert len(np.unique(found, axis=0)) == len(found)
        cost = demo_constraints.cost(problem.client, found)
        assert (np.diff(cost) >= -1e-12).all()
        assert out.best_codes is None
        assert not out.timed_out
        assert not out.proved_none
    assert n_found == 4  # measured: 4 of the 6 clients get a plan (seed 0)


def test_same_seed_same_answer_one_client_or_many(problems: list[EngineRequest]) -> None:
    many = FAST.solve_many(problems[:3], 2, seed=3)
    for problem, out in zip(problems[:3], many, strict=True):
        again = FAST.solve(problem, 2, seed=3)
        np.testing.assert_array_equal(again.candidates, out.candidates)
    np.testing.assert_array_equal(FAST.solve(problems[0], 2, seed=3).candidates, many[0].candidates)


def test_input_is_never_mutated(problems: list[EngineRequest]) -> None:
    problem = problems[0]
    client, lower, upper = (problem.client.copy(), problem.bounds.lower.copy(),
                            problem.bounds.upper.copy())  # fmt: skip
    FAST.solve(problem, 2, seed=0)
    np.testing.assert_array_equal(problem.client, client)
    np.testing.assert_array_equal(problem.bounds.lower, lower)
    np.testing.assert_array_equal(problem.bounds.upper, upper)


def test_unreachable_goal_gives_no_candidate_and_the_best_point(
    adapter: ModelAdapter, problems: list[EngineRequest], demo_constraints: ConstraintSet
) -> None:
    problem = _problem(adapter, demo_constraints, problems[0].client, Target.probability(0.999999))
    out = FAST.solve(problem, 3, seed=0)
    assert out.candidates.shape == (0, demo_constraints.n_features)
    assert out.best_codes is not None
    assert out.best_codes.shape == (1, demo_constraints.n_features)
    assert demo_constraints.check(problem.client, out.best_codes).ok.all()
    assert problem.slack(out.best_codes)[0] < 0
    assert problem.slack(out.best_codes)[0] > problem.slack(problem.client[None, :])[0]


def test_an_at_most_goal_lowers_the_score(
    adapter: ModelAdapter, small_portfolio: pd.DataFrame, demo_constraints: ConstraintSet
) -> None:
    codes = demo_constraints.to_array(small_portfolio.loc[~small_portfolio["has_life_insurance"]])
    score = adapter.proba_codes(codes)[:, 1]
    i = int(np.flatnonzero(score > 0.2)[0])
    problem = _problem(
        adapter, demo_constraints, codes[i], Target.probability(0.8 * score[i], at_most=True)
    )
    out = FAST.solve(problem, 2, seed=0)
    assert len(out.candidates)
    assert (adapter.proba_codes(out.candidates)[:, 1] <= 0.8 * score[i]).all()
    assert demo_constraints.check(problem.client, out.candidates).ok.all()


def test_a_passed_deadline_stops_early(
    adapter: ModelAdapter, problems: list[EngineRequest], demo_constraints: ConstraintSet
) -> None:
    problem = _problem(
        adapter,
        demo_constraints,
        problems[0].client,
        Target.probability(0.5),
        deadline=time.perf_counter() - 1.0,
    )
    out = FAST.solve(problem, 2, seed=0)
    assert out.timed_out
    assert demo_constraints.check(problem.client, out.candidates).ok.all()


def test_supports_only_torch_margins_and_one_column_goals(
    adapter: ModelAdapter, problems: list[EngineRequest]
) -> None:
    engine = GradientEngine()
    assert engine.supports(adapter, problems[0].target).ok
    linear = MarginModel(
        function=LinearFunction(coef=np.zeros(adapter.space.n_design), intercept=0.0),
        link=logistic_link(),
    )
    other = ModelAdapter(
        space=adapter.space,
        outputs=(False, True),
        proba_codes=adapter.proba_codes,
        proba_frame=adapter.proba_frame,
        structure={1: linear},
    )
    assert engine.supports(other, problems[0].target).reason == (
        "the gradient engine needs a torch model's margin for output True. Got a linear model."
    )
    black_box = ModelAdapter(
        space=adapter.space,
        outputs=(False, True),
        proba_codes=adapter.proba_codes,
        proba_frame=adapter.proba_frame,
    )
    assert (
        "Got a model of unknown structure." in engine.supports(black_box, problems[0].target).reason
    )
    three = BoundTarget(target=Target.flip(), column=2, k=3)
    assert engine.supports(adapter, three).reason.startswith(
        "the gradient engine needs a goal on one output's probability"
    )
    refused = EngineRequest(
        **{**{f: getattr(problems[0], f) for f in EngineRequest.__slots__}, "adapter": other}
    )
    with pytest.raises(CounterfactualError, match=r"^engine: gradient cannot serve this request: "):
        engine.solve(refused, 1, seed=0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"steps": 0}, "GradientEngine.steps: must be a whole number from 1 to 100000. Got 0."),
        ({"learning_rate": -1.0},
         "GradientEngine.learning_rate: must be a finite number > 0. Got -1.0."),
        ({"l1_weights": ()},
         "GradientEngine.l1_weights: must be a non-empty tuple of numbers >= 0. Got ()."),
        ({"rounding": (1.5,)},
         "GradientEngine.rounding: must be a non-empty tuple of numbers in (0, 1). Got (1.5,)."),
        ({"sparsify": "yes"}, "GradientEngine.sparsify: must be True or False. Got 'yes'."),
    ],
)  # fmt: skip
def test_hyper_parameters_are_checked(params: dict[str, Any], message: str) -> None:
    with pytest.raises(CounterfactualError, match=rf"^{re.escape(message)}$"):
        GradientEngine(**params)


def test_n_and_seed_are_checked(problems: list[EngineRequest]) -> None:
    with pytest.raises(CounterfactualError, match=r"^n: must be a whole number from 1 to 1000\."):
        FAST.solve(problems[0], 0, seed=0)
    with pytest.raises(CounterfactualError, match=r"^seed: must be a whole number from 0 to \d+\."):
        FAST.solve(problems[0], 1, seed=-1)


def test_finds_the_cheapest_plan_of_a_linear_torch_model() -> None:
    """margin = x + 0.5 y + 2 b - 3: raising y to 6 (cost 0.6) beats x to 3 (3) or b (5+)."""
    from constraints import parse_constraints

    cs = parse_constraints(
        """
name: linear
features:
  x: {kind: integer, role: actionable, min: 0, max: 10, cost: {per_unit: 1}}
  y: {kind: integer, role: actionable, min: 0, max: 10, cost: {per_unit: 0.1}}
  b: {kind: binary, role: actionable, cost: {per_change: 5}}
"""
    )
    space = FeatureSpace.from_constraints(cs)
    net = torch.nn.Linear(3, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 0.5, 2.0]]))
        net.bias.fill_(-3.0)
    adapter = _adapter(space, TorchFunction(module=net, mean=np.zeros(3), scale=np.ones(3)))
    problem = _problem(adapter, cs, np.zeros(3), Target.probability(0.5))
    out = GradientEngine().solve(problem, 3, seed=0)
    np.testing.assert_array_equal(out.candidates[0], [0.0, 6.0, 0.0])
    assert cs.check(np.zeros(3), out.candidates).ok.all()
    assert (problem.slack(out.candidates) >= 0).all()
