"""Why no counterfactual exists: relax one constraint family at a time and re-solve.

A family is *binding* when relaxing it alone makes the goal reachable: ``max_changes``
removed, one rule dropped (``rule:<name>``), one direction dropped (``direction:<feature>``),
or one frozen feature the model reads freed within its data range (``immutable:<feature>``,
``context:<feature>``). Protected attributes are never proposed, not even as an explanation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from constraints import ConstraintSet
from counterfactuals._exact_model import ExactModel
from counterfactuals._milp import Lin
from counterfactuals._model import LinearFunction, MarginModel, TreeEnsemble
from counterfactuals._space import FeatureSpace

__all__ = ["binding_constraints", "relaxation_groups", "used_features"]

Builder = Callable[[ConstraintSet], ExactModel]


def used_features(space: FeatureSpace, margin: MarginModel) -> frozenset[int]:
    """Features whose design columns the margin reads (a split, or a non-zero weight)."""
    function = margin.function
    if isinstance(function, TreeEnsemble):
        columns = set(np.unique(function.feature[function.feature >= 0]).tolist())
    elif isinstance(function, LinearFunction):
        columns = set(np.flatnonzero(np.asarray(function.coef)).tolist())
    else:
        return frozenset()
    used = set()
    for j, name in enumerate(space.names):
        cols = space.design_columns(name)
        if columns & set(range(cols.start, cols.stop)):
            used.add(j)
    return frozenset(used)


def _relax(cs: ConstraintSet, labels: Sequence[str]) -> ConstraintSet:
    """Return ``cs`` with every labelled family relaxed at once."""
    features = list(cs.features)
    rules = list(cs.rules)
    max_changes = cs.max_changes
    index = {f.name: j for j, f in enumerate(features)}
    for label in labels:
        kind, _, name = label.partition(":")
        if kind == "max_changes":
            max_changes = None
        elif kind == "rule":
            rules = [r for r in rules if r.name != name]
        elif kind == "direction":
            features[index[name]] = dataclasses.replace(features[index[name]], direction="any")
        else:  # immutable / context: freed within the data's range
            spec = features[index[name]]
            features[index[name]] = dataclasses.replace(spec, role="actionable", protected=False)
    return dataclasses.replace(
        cs, features=tuple(features), rules=tuple(rules), max_changes=max_changes
    )


def relaxation_groups(cs: ConstraintSet, used: frozenset[int]) -> list[list[str]]:
    """Return the families worth relaxing, grouped: constraints, context, immutables."""
    cp = cs.compiled
    constraints = ["max_changes"] if cs.max_changes is not None else []
    constraints += [
        f"rule:{rule.name}"
        for rule, compiled in zip(cs.rules, cp.rules, strict=True)
        if cp.mutable[compiled.idx].any()
    ]
    constraints += [
        f"direction:{cs.features[j].name}"
        for j in sorted(used)
        if cp.mutable[j] and cs.features[j].direction != "any"
    ]
    frozen = [
        j
        for j in sorted(used)
        if not (cp.mutable[j] or cp.derived_mask[j] or cs.features[j].protected)
    ]
    groups = [constraints]
    for role in ("context", "immutable"):
        groups.append(
            [f"{role}:{cs.features[j].name}" for j in frozen if cs.features[j].role == role]
        )
    return [g for g in groups if g]


class _Tester:
    """Feasibility of the goal under relaxations, within a deadline."""

    def __init__(
        self, cs: ConstraintSet, build: Builder, deadline: float, n_tests: int, presolve: bool
    ) -> None:
        self.cs, self.build, self.deadline, self.n_left = cs, build, deadline, n_tests
        self.presolve = presolve

    def __call__(self, labels: Sequence[str]) -> str:
        """Return feasible, infeasible or undecided."""
        left = self.deadline - time.perf_counter()
        if left < 0.02:
            return "undecided"
        model = self.build(_relax(self.cs, labels))
        res = model.solve(
            time_limit=max(left / max(self.n_left, 1), min(left, 0.2)),
            mip_rel_gap=1.0,
            objective=Lin.constant(0.0),
            presolve=self.presolve,
        )
        self.n_left -= 1
        if res.x is not None:
            return "feasible"
        return "infeasible" if res.status == "infeasible" else "undecided"


def binding_constraints(
    cs: ConstraintSet,
    used: frozenset[int],
    build: Builder,
    deadline: float,
    *,
    presolve: bool = True,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the binding families, and notes on relaxations left undecided in time.

    Relaxing more never hurts, so a group whose joint relaxation stays infeasible holds no
    binding family: one solve clears it; otherwise its families are tried one by one.
    """
    groups = relaxation_groups(cs, used)
    n_tests = sum(len(g) for g in groups) + len(groups)
    test = _Tester(cs, build, deadline, n_tests, presolve)
    binding: list[str] = []
    undecided: list[str] = []
    for group in groups:
        if len(group) > 1 and test(group) == "infeasible":
            test.n_left -= len(group)
            continue
        for label in group:
            outcome = test([label])
            if outcome == "feasible":
                binding.append(label)
            elif outcome == "undecided":
                undecided.append(label)
    if not undecided:
        return tuple(binding), ()
    return tuple(binding), (
        "binding constraints: the time limit left these relaxations undecided: "
        f"{', '.join(undecided)}.",
    )
