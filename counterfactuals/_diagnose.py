"""Why no counterfactual: the best reachable score and the constraints that bind."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from constraints import ConstraintSet
from counterfactuals._engine import ENGINES, EngineOutput, EngineRequest
from counterfactuals._search import slack_batch

__all__ = ["Diagnosis", "diagnose", "find_binding", "relaxations"]

FloatArray = NDArray[np.float64]
_MAX_ROWS = 200_000  # rows per model call when re-checking candidates


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnosis:
    """Why a request got no counterfactual.

    ``reason`` in plain words; ``best_score`` the real model's score at the best point
    reached (``None`` when unknown); ``binding`` the single relaxations that make a lever
    possible; ``notes`` what the caller should know about the diagnosis itself;
    ``timed_out`` whether its time budget cut the search for binding constraints (the
    binding list may then differ from one run to the next).
    """

    reason: str
    best_score: float | None
    binding: tuple[str, ...]
    notes: tuple[str, ...]
    timed_out: bool = False


def relaxations(cs: ConstraintSet, request: EngineRequest) -> list[tuple[str, ConstraintSet]]:
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
        if not request.bounds.movable[j] and spec.role != "actionable":
            continue
        loosened: dict[str, dict[str, Any]] = {}
        if spec.direction != "any":
            loosened["direction"] = {"direction": "any"}
        if math.isfinite(spec.max_change) or math.isfinite(spec.max_change_percent):
            loosened["max_change"] = {"max_change": math.inf, "max_change_percent": math.inf}
        if spec.transitions is not None:
            loosened["transition"] = {"transitions": None}
        if spec.min_change > 0:
            loosened["min_change"] = {"min_change": 0.0}
        for what, fields in loosened.items():
            features = tuple(
                replace(f, **fields) if f.name == spec.name else f for f in cs.features
            )
            out.append((f"{what}:{spec.name}", replace(cs, features=features)))
    return out


_RELAXED: dict[tuple[int, bytes], tuple[ConstraintSet, list[tuple[str, ConstraintSet]]]] = {}
_RELAXED_LOCK = threading.Lock()  # app sessions search from many threads at once


def _relaxations_of(cs: ConstraintSet, request: EngineRequest) -> list[tuple[str, ConstraintSet]]:
    """:func:`relaxations`, built once per constraint set and set of movable features.

    Each relaxed set compiles its rules (about 1 ms); a client without counterfactual needs
    a dozen of them, the same for every client whose movable features are the same.
    """
    key = (id(cs), np.asarray(request.bounds.movable, dtype=bool).tobytes())
    with _RELAXED_LOCK:
        hit = _RELAXED.get(key)
    if hit is not None and hit[0] is cs:
        return list(hit[1])
    found = relaxations(cs, request)
    with _RELAXED_LOCK:
        while len(_RELAXED) >= 16:
            _RELAXED.pop(next(iter(_RELAXED)))
        _RELAXED[key] = (cs, found)
    return list(found)


def _relaxed_problem(request: EngineRequest, cs: ConstraintSet, deadline: float) -> EngineRequest:
    return replace(
        request,
        constraints=cs,
        bounds=cs.bounds_for(request.client[None, :]),
        deadline=deadline,
    )


def find_binding(
    requests: list[EngineRequest], budget_s: float, seed: int
) -> tuple[list[tuple[str, ...]], bool]:
    """Per request, the single relaxations under which the search engine finds a lever.

    Every relaxation of every request is searched in lock step (:meth:`solve_many`): each
    stage is one model call for all of them, so a black box whose calls cost milliseconds
    pays for a few calls, not a few per relaxation. Relaxations go in order, as many at a
    time as fill one batch of the engine. Returns the labels per request and whether every
    relaxation was searched to the end within ``budget_s``.
    """
    binding: list[list[str]] = [[] for _ in requests]
    if not requests:
        return [], True
    search = ENGINES["search"](n_wide=0)  # the sparse stages: a quick answer per relaxation
    start = time.perf_counter()
    deadline = start + budget_s
    options = _relaxations_of(requests[0].constraints, requests[0])
    per_batch = max(1, search.batch_problems // len(requests))
    complete = True
    for first in range(0, len(options), per_batch):
        if time.perf_counter() >= deadline:
            return [tuple(b) for b in binding], False
        chunk = options[first : first + per_batch]
        subs = [_relaxed_problem(p, relaxed, deadline) for _, relaxed in chunk for p in requests]
        outs = search.solve_many(subs, 1, seed)
        complete &= not any(out.timed_out for out in outs)
        valid = _still_valid(chunk, subs, outs, len(requests))
        for k, ok in enumerate(valid):
            if ok:
                binding[k % len(requests)].append(chunk[k // len(requests)][0])
    return [tuple(b) for b in binding], complete


def _still_valid(
    chunk: list[tuple[str, ConstraintSet]],
    subs: list[EngineRequest],
    outs: list[EngineOutput],
    n_requests: int,
) -> list[bool]:
    """Whether each sub-problem's candidates pass its relaxed rules and reach the goal.

    The candidates' slack is re-computed with one model call per model (as the search
    scores its stages).
    """
    ok_rules: list[NDArray[np.bool_]] = []
    for k, (sub, out) in enumerate(zip(subs, outs, strict=True)):
        relaxed = chunk[k // n_requests][1]
        found = out.candidates
        ok_rules.append(
            relaxed.check(sub.client[None, :], found).ok if len(found) else np.zeros(0, bool)
        )
    checked = [k for k in range(len(subs)) if ok_rules[k].any()]
    slacks = slack_batch(subs, [(k, outs[k].candidates) for k in checked], _MAX_ROWS)
    result = [False] * len(subs)
    for k, slack in zip(checked, slacks, strict=True):
        result[k] = bool((ok_rules[k] & (slack >= 0)).any())
    return result


def best_reachable(request: EngineRequest, output: EngineOutput) -> float | None:
    """Return the real model's target score at the best point the engine reached, if any."""
    return best_reachable_many([request], [output])[0]


def best_reachable_many(
    requests: list[EngineRequest], outputs: list[EngineOutput]
) -> list[float | None]:
    """:func:`best_reachable` of many requests: one real-model call per model (adapter)."""
    best: list[float | None] = [None] * len(requests)
    groups: dict[int, list[int]] = {}
    for k, (request, output) in enumerate(zip(requests, outputs, strict=True)):
        if output.best_codes is not None and len(np.atleast_2d(output.best_codes)):
            groups.setdefault(id(request.adapter), []).append(k)
    for members in groups.values():
        adapter = requests[members[0]].adapter
        codes = np.vstack([np.atleast_2d(np.asarray(outputs[k].best_codes))[:1] for k in members])
        proba = adapter.proba_frame(adapter.space.to_frame(codes))
        for row, k in enumerate(members):
            best[k] = float(requests[k].target.score(proba[row : row + 1])[0])
    return best


def diagnose(
    requests: list[EngineRequest],
    outputs: list[EngineOutput],
    engines: list[str],
    budget_s: float,
    seed: int,
    *,
    relax: bool = True,
) -> list[Diagnosis]:
    """Diagnose requests without counterfactual (binding constraints batched across them).

    ``relax=False`` skips the search for binding constraints (campaigns over many clients
    only need the verdict and the best score); the reason then says so.
    """
    todo = [k for k, o in enumerate(outputs) if not o.binding] if relax else []
    found, complete = find_binding([requests[k] for k in todo], budget_s, seed)
    by_problem = dict(zip(todo, found, strict=True))
    bests = best_reachable_many(requests, outputs)
    out: list[Diagnosis] = []
    for k, (request, output, engine) in enumerate(zip(requests, outputs, engines, strict=True)):
        binding = output.binding or by_problem.get(k, ())
        cut = False
        if not relax and not output.binding:
            notes: tuple[str, ...] = ("binding constraints: not searched (diagnose=False)",)
        elif complete or output.binding:
            notes = ()
        else:
            cut = True
            notes = (f"binding constraints: only part of the relaxations tried in {budget_s:g} s",)
        reason = _reason(request, output, engine, binding, bests[k], relax or bool(binding))
        out.append(
            Diagnosis(
                reason=reason, best_score=bests[k], binding=binding, notes=notes, timed_out=cut
            )
        )
    return out


def _reason(
    request: EngineRequest,
    output: EngineOutput,
    engine: str,
    binding: tuple[str, ...],
    best: float | None,
    relaxed: bool,
) -> str:
    goal = request.target.target.describe()
    baseline = float(request.target.score(request.baseline[None, :])[0])
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
    elif relaxed:
        parts.append("No single relaxation tried makes a lever possible.")
    return " ".join(parts)
