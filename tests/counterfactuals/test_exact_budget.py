"""A cost bound for the exact engine, and ``auto`` on trees: search first, exact bounded by it.

Oracles: the brute-force optimum over the tiny problem's whole grid (tests/counterfactuals/
test_exact.py), and the search engine's own answer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counterfactuals import ENGINES, CounterfactualError, Target, generate
from tests.counterfactuals.test_exact import (
    EXACT,
    brute_force,
    make_problem,
    negatives,
    tiny,
)

__all__ = ["tiny"]  # the fixture, shared with test_exact.py

TREES = ("xgboost", "forest")


def _problems(tiny: dict[str, Any], family: str, k: int) -> list[tuple[Any, Target]]:
    """Clients of the middle third, each asked 25 points more (the exact tests' problems)."""
    adapter, cs = tiny["adapters"][family], tiny["cs"]
    out = []
    for client in negatives(adapter, tiny["codes"], k):
        p = float(adapter.proba_codes(client[None, :])[0, 1])
        goal = Target.probability(min(p + 0.25, 0.95))
        out.append((make_problem(adapter, cs, client, goal), goal))
    return out


@pytest.mark.parametrize("family", TREES)
@pytest.mark.parametrize("factor", [0.5, 1.0, 1.5])
def test_a_cost_bound_keeps_the_optimum_or_proves_none_cheaper(
    tiny: dict[str, Any], family: str, factor: float
) -> None:
    cs = tiny["cs"]
    checked = 0
    for problem, _ in _problems(tiny, family, 6):
        best, _ = brute_force(problem)
        if not np.isfinite(best):
            continue
        checked += 1
        out = EXACT.solve(dataclasses.replace(problem, cost_bound=best * factor), 1, 0)
        if factor < 1.0 and best > 0:
            assert len(out.candidates) == 0
            assert out.proved_bound
            assert not out.proved_none
            continue
        assert len(out.candidates) == 1
        assert out.optimal
        cost = float(cs.cost(problem.client[None, :], out.candidates)[0])
        assert cost == pytest.approx(best, abs=1e-6)
    assert checked >= 4  # measured: 6 of 6 clients have a lever


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(factor=st.floats(0.0, 3.0), which=st.integers(0, 5))
def test_any_cost_bound_gives_the_cheapest_point_within_it(
    tiny: dict[str, Any], factor: float, which: int
) -> None:
    """Pruning by the bound never cuts the optimum: brute force over the bounded grid agrees."""
    problem, _ = _problems(tiny, "xgboost", 6)[which]
    best, _ = brute_force(problem)
    if not np.isfinite(best):
        return
    bound = best * factor
    out = EXACT.solve(dataclasses.replace(problem, cost_bound=bound), 1, 0)
    if best > bound + 1e-9:
        assert len(out.candidates) == 0
        assert out.proved_bound
    else:
        cost = float(tiny["cs"].cost(problem.client[None, :], out.candidates)[0])
        assert cost == pytest.approx(best, abs=1e-6)
        assert out.optimal


@pytest.mark.parametrize("family", TREES)
def test_auto_on_trees_is_never_costlier_than_the_search_and_proves_the_optimum(
    tiny: dict[str, Any], family: str
) -> None:
    adapter, cs = tiny["adapters"][family], tiny["cs"]
    proved = 0
    for problem, goal in _problems(tiny, family, 6):
        best, _ = brute_force(problem)
        frame = adapter.space.to_frame(problem.client[None, :])
        auto = generate(adapter, frame, cs, goal, n=1, seed=0, time_limit_s=30)
        search = generate(adapter, frame, cs, goal, n=1, engine="search", seed=0)
        if not np.isfinite(best):
            assert not auto.found
            continue
        assert auto.found
        notes = [n for n in auto.notes if n.startswith("search first:")]
        assert len(notes) == 1
        top = auto.counterfactuals[0].cost
        if search.found:
            assert top <= search.counterfactuals[0].cost + 1e-9
        if auto.optimal:
            proved += 1
            assert top == pytest.approx(best, abs=1e-6)
    assert proved >= 4  # measured: the tiny programs are all solved to optimality


def test_a_bad_cost_bound_is_refused(tiny: dict[str, Any]) -> None:
    problem, _ = _problems(tiny, "xgboost", 1)[0]
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(CounterfactualError, match=r"^cost_bound: must be a finite cost"):
            ENGINES["exact"]().solve(dataclasses.replace(problem, cost_bound=bad), 1, 0)


@pytest.mark.parametrize("family", TREES)
def test_the_searchs_point_starts_the_solver(tiny: dict[str, Any], family: str) -> None:
    """A known counterfactual is HiGHS's first incumbent; a wrong one is dropped; same optimum.

    Oracle: brute force (the cheapest point and its cost). Presolve is off so that HiGHS keeps
    its incumbents, which say whether the start was used.
    """
    engine = dataclasses.replace(EXACT, presolve=False)
    cs = tiny["cs"]
    used = 0
    for problem, _ in _problems(tiny, family, 6):
        best, point = brute_force(problem)
        if not np.isfinite(best):
            continue
        started = dataclasses.replace(problem, cost_bound=best, known=point)
        out = engine.solve(started, 1, 0)
        used += out.stats["warm_start"] == "used"
        assert out.stats["warm_start"] in ("used", "rejected")
        assert float(cs.cost(problem.client[None, :], out.candidates)[0]) == pytest.approx(best)
        # the client itself changes nothing: no counterfactual, the solver drops it
        wrong = dataclasses.replace(problem, cost_bound=best, known=problem.client)
        again = engine.solve(wrong, 1, 0)
        assert again.stats["warm_start"] == "rejected"
        np.testing.assert_array_equal(again.candidates, out.candidates)
    assert used >= 4  # measured: 6 of 6 (for each family)
