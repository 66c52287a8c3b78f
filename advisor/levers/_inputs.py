"""Checks of the advisor's inputs: one client as a frame, and the advisor's options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from advisor.errors import AdvisorError
from constraints import ConstraintSet
from counterfactuals import ENGINES

__all__ = ["check_options", "client_frame"]


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


def check_options(
    goal: float | None,
    goal_quantile: float,
    engine: str,
    seed: int,
    time_limit_s: float | None,
    n_neighbours: int,
) -> None:
    """Raise a clear error for the first option out of range."""
    if goal is not None and not (isinstance(goal, (int, float)) and 0.0 < goal < 1.0):
        raise AdvisorError(
            f"goal: must be a probability strictly between 0 and 1, or None. Got {goal!r}."
        )
    if not (isinstance(goal_quantile, (int, float)) and 0.0 < goal_quantile < 1.0):
        raise AdvisorError(
            f"goal_quantile: must be strictly between 0 and 1. Got {goal_quantile!r}."
        )
    if engine != "auto" and engine not in ENGINES:
        raise AdvisorError(f"engine: must be auto or one of {', '.join(ENGINES)}. Got {engine!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise AdvisorError(f"seed: must be a whole number >= 0. Got {seed!r}.")
    if time_limit_s is not None and not (
        isinstance(time_limit_s, (int, float)) and time_limit_s > 0
    ):
        raise AdvisorError(
            f"time_limit_s: must be a number of seconds > 0, or None. Got {time_limit_s!r}."
        )
    if isinstance(n_neighbours, bool) or not isinstance(n_neighbours, int) or n_neighbours < 1:
        raise AdvisorError(f"n_neighbours: must be a whole number >= 1. Got {n_neighbours!r}.")
