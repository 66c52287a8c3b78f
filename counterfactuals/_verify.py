"""Independent verification: the real model and ``ConstraintSet.check`` judge every candidate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from constraints import changed
from counterfactuals._engine import EngineRequest
from counterfactuals._result import Change, Counterfactual
from counterfactuals.metrics import proximity

__all__ = ["Verified", "records", "to_counterfactuals", "verify"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as dicts (much faster than ``to_dict("records")`` on small frames)."""
    names = [str(c) for c in frame.columns]
    values = frame.to_numpy(dtype=object)
    return [
        {k: v.item() if isinstance(v, np.generic) else v for k, v in zip(names, row, strict=True)}
        for row in values
    ]


@dataclass(frozen=True, slots=True)
class Verified:
    """Candidates that passed verification, with the real model's scores (one request)."""

    codes: FloatArray
    proba: FloatArray
    rows: list[dict[str, Any]]
    n_rejected_model: int
    n_rejected_constraints: int


def _unique_changed(client: FloatArray, codes: FloatArray) -> BoolArray:
    """Rows that change something and are not repeats of an earlier row."""
    moved = changed(client, codes).any(axis=1)
    key = np.where(np.isnan(codes), np.inf, codes)  # missing values: equal to one another
    _, first = np.unique(key, axis=0, return_index=True)
    unique = np.zeros(len(codes), dtype=bool)
    unique[first] = True
    return moved & unique


def verify(requests: Sequence[EngineRequest], candidates: Sequence[FloatArray]) -> list[Verified]:
    """Re-score every candidate with the real model (business frames) and re-check the rules.

    One model call and one constraint check serve all requests (they share model and
    constraints).
    """
    if not requests:
        return []
    first = requests[0]
    sizes = [len(c) for c in candidates]
    d = first.client.shape[0]
    codes = np.vstack([np.asarray(c, dtype=np.float64).reshape(-1, d) for c in candidates])
    clients = np.repeat(np.vstack([p.client for p in requests]), sizes, axis=0)
    keep = np.zeros(len(codes), dtype=bool)
    proba = np.zeros((len(codes), len(first.adapter.outputs)))
    business: list[dict[str, Any] | None] = [None] * len(codes)
    if len(codes):
        keep = _unique_changed_many(clients, codes, sizes)
        rows = np.flatnonzero(keep)
        if len(rows):
            frame = first.adapter.space.to_frame(codes[rows])
            if first.adapter.remembers:  # its fast path scores this very frame (and remembers)
                proba[rows] = first.adapter.proba_codes(codes[rows])
            else:
                proba[rows] = first.adapter.proba_frame(frame)
            for i, row in zip(rows, records(frame), strict=True):
                business[i] = row
    feasible = np.zeros(len(codes), dtype=bool)
    if keep.any():
        rows = np.flatnonzero(keep)
        feasible[rows] = first.constraints.check(clients[rows], codes[rows]).ok
    out: list[Verified] = []
    start = 0
    for request, size in zip(requests, sizes, strict=True):
        part = slice(start, start + size)
        start += size
        c, p, k, f = codes[part], proba[part], keep[part], feasible[part]
        held = request.adapter.held(c) if request.adapter.held is not None and size else None
        valid = (request.target.slack(p, held, request.adapter.values) >= 0) if size else k
        ok = k & valid & f
        out.append(
            Verified(
                codes=c[ok],
                proba=p[ok],
                rows=[business[part.start + i] for i in np.flatnonzero(ok)],  # type: ignore[misc]
                n_rejected_model=int((k & ~valid).sum()),
                n_rejected_constraints=int((k & valid & ~f).sum()),
            )
        )
    return out


def _unique_changed_many(clients: FloatArray, codes: FloatArray, sizes: list[int]) -> BoolArray:
    keep = np.zeros(len(codes), dtype=bool)
    start = 0
    for size in sizes:
        if size:
            part = slice(start, start + size)
            keep[part] = _unique_changed(clients[start], codes[part])
        start += size
    return keep


def to_counterfactuals(
    request: EngineRequest, verified: Verified, n: int, before: dict[str, Any]
) -> tuple[Counterfactual, ...]:
    """Turn verified codes into business-value counterfactuals, cheapest first, at most n.

    ``before`` is the client in business values (as the caller gave them).
    """
    if not len(verified.codes):
        return ()
    cs = request.constraints
    cost = cs.cost(request.client[None, :], verified.codes)
    distance = proximity(cs, request.client, verified.codes)
    order = np.lexsort((distance, cost))[:n]
    names = request.adapter.space.names
    scores = request.target.score(verified.proba[order])
    out = []
    for i, k in enumerate(order):
        row = verified.rows[k]
        moved = changed(request.client, verified.codes[k])
        changes = tuple(
            Change(feature=name, before=before[name], after=row[name])
            for name, m in zip(names, moved, strict=True)
            if m
        )
        out.append(
            Counterfactual(
                values=row,
                changes=changes,
                score=float(scores[i]),
                cost=float(cost[k]),
                distance=float(distance[k]),
            )
        )
    return tuple(out)
