"""Why no counterfactual: the best reachable score and the constraints that bind."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from constraints import ConstraintSet
from counterfactuals._engine import ENGINES, EngineOutput, Problem

__all__ = ["diagnose", "find_binding", "relaxations"]

FloatArray = NDArray[np.float64]


def relaxations(cs: ConstraintSet, problem: Problem) -> list[tuple[str, ConstraintSet]]:
    """Candidate relaxations, each one constraint loosened: (label, relaxed set)."""
    out: list[tuple[str, ConstraintSet]] = []
    if cs.max_changes is not None:
        out.append(("max_changes", replace(cs, max_changes=None)))
    for rule in cs.rules:
        kept = tuple(r for r in cs.rules if r is not rule)
        out.append((f"rule:{rule.name}", replace(cs, rules=kept)))
    derived = {d.feature for d in cs.derived}
    for j, spec in enumerate(cs.features):
        if spec.name in derived:
            continue
        if spec.role == "context" and spec.name not in cs.allowed_context:
            out.append((f"context:{spec.name}", cs.allowing(spec.name)))
            continue
        if not problem.bounds.movable[j] and spec.role != "actionable":
            continue
        loosened: dict[str, dict[str, Any]] = {}
        if spec.direction != "any":
            loosened["direction"] = {"direction": "any"}
        if math.isfinite(spec.max_change) or math.isfinite(spec.max_change_percent):
            loosened["max_change"] = {"max_change": math.inf, "max_change_percent": math.inf}
        if spec.transitions is not None:
            loosened["transition"] = {"transitions": None}
        for what, fields in loosened.items():
            features = tuple(
                replace(f, **fields) if f.name == spec.name else f for f in cs.features
            )
            out.append((f"{what}:{spec.name}", replace(cs, features=features)))
    return out


def _relaxed_problem(problem: Problem, cs: ConstraintSet, deadline: float) -> Problem:
    return replace(
        problem,
        constraints=cs,
        bounds=cs.bounds_for(problem.client[None, :]),
        deadline=deadline,
    )


def find_binding(
    problems: list[Problem], budget_s: float, seed: int
) -> tuple[list[tuple[str, ...]], bool]:
    """Per problem, the single relaxations under which the search engine finds a lever.

    Each relaxation is tried on every problem at once (one batched search). Returns the
    labels per problem and whether every relaxation was tried within ``budget_s``.
    """
    binding: list[list[str]] = [[] for _ in problems]
    if not problems:
        return [], True
    search = ENGINES["search"]()
    start = time.perf_counter()
    options = relaxations(problems[0].constraints, problems[0])
    for i, (label, relaxed) in enumerate(options):
        left = budget_s - (time.perf_counter() - start)
        if left <= 0:
            return [tuple(b) for b in binding], i == len(options)
        deadline = time.perf_counter() + left
        subs = [_relaxed_problem(p, relaxed, deadline) for p in problems]
        for k, (sub, out) in enumerate(zip(subs, search.solve_many(subs, 1, seed), strict=True)):
            found = out.candidates
            if not len(found):
                continue
            ok = relaxed.check(sub.client[None, :], found).ok & (sub.slack(found) >= 0)
            if ok.any():
                binding[k].append(label)
    return [tuple(b) for b in binding], True


def best_reachable(problem: Problem, output: EngineOutput) -> float | None:
    """Return the real model's target score at the best point the engine reached, if any."""
    if output.best_codes is None or not len(np.atleast_2d(output.best_codes)):
        return None
    codes = np.atleast_2d(output.best_codes)
    frame = problem.adapter.space.to_frame(codes[:1])
    return float(problem.target.score(problem.adapter.proba_frame(frame))[0])


def diagnose(
    problems: list[Problem],
    outputs: list[EngineOutput],
    engines: list[str],
    budget_s: float,
    seed: int,
) -> list[tuple[str, float | None, tuple[str, ...], tuple[str, ...]]]:
    """Return (reason, best_score, binding, notes) for requests without counterfactual."""
    todo = [k for k, o in enumerate(outputs) if not o.binding]
    found, complete = find_binding([problems[k] for k in todo], budget_s, seed)
    by_problem = dict(zip(todo, found, strict=True))
    out: list[tuple[str, float | None, tuple[str, ...], tuple[str, ...]]] = []
    for k, (problem, output, engine) in enumerate(zip(problems, outputs, engines, strict=True)):
        binding = output.binding or by_problem.get(k, ())
        notes = (
            ()
            if complete or output.binding
            else (f"binding constraints: only part of the relaxations tried in {budget_s:g} s",)
        )
        reason, best = _reason(problem, output, engine, binding)
        out.append((reason, best, binding, notes))
    return out


def _reason(
    problem: Problem, output: EngineOutput, engine: str, binding: tuple[str, ...]
) -> tuple[str, float | None]:
    goal = problem.target.target.describe()
    best = best_reachable(problem, output)
    baseline = float(problem.target.score(problem.baseline[None, :])[0])
    if output.proved_none:
        head = f"No lever exists within these constraints ({engine} engine, proved): {goal}."
        best_text = "The best reachable score is"
    elif output.timed_out:
        head = f"No lever found before the time limit ({engine} engine, not a proof): {goal}."
        best_text = "The best score found is"
    else:
        head = f"No lever found within these constraints ({engine} engine): {goal}."
        best_text = "The best score found is"
    parts = [head]
    if best is not None:
        parts.append(f"{best_text} {best:.3f} (now {baseline:.3f}).")
    if binding:
        parts.append(
            "Relaxing one of these would make a lever possible: " + ", ".join(binding) + "."
        )
    else:
        parts.append("No single relaxation tried makes a lever possible.")
    return " ".join(parts), best
