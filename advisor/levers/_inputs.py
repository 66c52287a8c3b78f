"""Checks of the advisor's inputs: one client as a frame, and the advisor's options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from advisor.errors import AdvisorError
from constraints import (
    GOALS,
    ConstraintSet,
    InstanceOf,
    Number,
    OneOf,
    ParamSpec,
    Whole,
    check_params,
)
from counterfactuals import ENGINES, MAX_SEED, MAX_TIME_S

__all__ = ["ADVISOR_PARAMS", "check_options", "client_frame"]

ADVISOR_PARAMS: ParamSpec = {
    "constraints": InstanceOf(
        (ConstraintSet,), "a ConstraintSet", hint="constraints.load_constraints(path, data)."
    ),
    "goal": (Number(0.0, 1.0, low_open=True, high_open=True, noun="a probability"), None),
    "goal_quantile": (Number(0.0, 1.0, low_open=True, high_open=True), None),
    "goal_direction": (OneOf(GOALS), None),
    "min_uplift": Number(0.0, 1.0, high_open=True),
    "robust_margin": Number(0.0, 0.5, noun="a probability margin"),
    "robust_refits": (OneOf((0,)), Whole(2, 20)),  # 0: off; k refits in the committee
    "seed": Whole(0, MAX_SEED),
    "time_limit_s": (Number(0.0, MAX_TIME_S, low_open=True, unit="seconds"), None),
    "n_neighbours": Whole(1, 10_000),
    "training_seed": (Whole(0, MAX_SEED), None),
}
"""The rules of :class:`~advisor.levers.Advisor`'s options (``engine``: a registered name)."""


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the advisor's options checked against :data:`ADVISOR_PARAMS` (and ``engine``)."""
    spec = {**ADVISOR_PARAMS, "engine": OneOf(("auto", *sorted(ENGINES)))}
    return check_params(options, spec, error=AdvisorError)


def client_frame(client: Any, constraints: ConstraintSet) -> pd.DataFrame:
    """Return one client as a one-row frame holding every feature of the file."""
    if isinstance(client, pd.Series):
        frame = client.to_frame().T
    elif isinstance(client, Mapping):
        frame = pd.DataFrame([dict(client)])
    elif isinstance(client, pd.DataFrame):
        frame = client
    else:
        raise AdvisorError(
            f"client: must be a Series, a dict or a one-row DataFrame. Got {type(client).__name__}."
        )
    if len(frame) != 1:
        raise AdvisorError(f"client: must be exactly one client. Got {len(frame)} rows.")
    missing = [f for f in constraints.feature_names if f not in frame.columns]
    if missing:
        raise AdvisorError(
            f"client: must give every feature of the constraint file. Got none for "
            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}."
        )
    return frame.infer_objects()
