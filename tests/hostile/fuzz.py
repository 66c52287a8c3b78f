"""Hypothesis strategies for the fuzz of issue 19: clients inside and outside the domain.

A fuzzed client starts from a real reference client and changes a few features to values
drawn from the feature's own kind: another client's value (inside the domain), a finite value
beyond the data's range, or a hostile one (NaN, infinities, 1e308, 10**30, text in a number,
a number for a category, an unknown category, None, a list, bytes, markup). It may lose
features and gain columns nobody asked for. :func:`check_outcome` is the oracle the three fuzz
tests share: the call returns a result, or raises the package's own error with a one-line
message naming a feature that was touched; anything else (a numpy / pandas / sklearn
exception, a multi-line or anonymous message) fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from constraints import ConstraintSet

# Reproducible by default (the same examples every run, as tests/constraints/test_properties.py);
# explore new ones with LEVERS_HYPOTHESIS_RANDOM=1 and more with LEVERS_FUZZ_EXAMPLES=500.
FUZZ = settings(
    max_examples=int(os.environ.get("LEVERS_FUZZ_EXAMPLES", "25")),
    derandomize=os.environ.get("LEVERS_HYPOTHESIS_RANDOM") != "1",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE_NUMBERS: tuple[Any, ...] = (
    float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 1e16, 10**30, -(10**30),
    "abc", "", "1e400", None, True, [1, 2], {"a": 1}, b"\x00", "[/bold]",
)  # fmt: skip
HOSTILE_CATEGORIES: tuple[Any, ...] = (
    "zzz", "", None, 3, 2.5, float("nan"), float("inf"), "[/bold]", "../../etc/passwd",
    "x" * 10_000, [1], True,
)  # fmt: skip
NUMERIC = ("continuous", "integer", "ordinal", "binary")


@dataclass(frozen=True, slots=True)
class FuzzedClient:
    """A client frame and what was done to it."""

    frame: pd.DataFrame
    touched: tuple[str, ...]  # features given another value or dropped
    hostile: bool  # a value outside the features' domain, or a feature dropped

    def describe(self) -> str:
        """Return the changes, for a failure message."""
        row = self.frame.iloc[0].to_dict() if len(self.frame) else {}
        shown = {name: row.get(name, "<dropped>") for name in self.touched}
        return f"touched {shown!r}, columns {list(self.frame.columns)[-3:]}"


def _kind(constraints: ConstraintSet, name: str) -> str:
    return str(next(f.kind for f in constraints.features if f.name == name))


@st.composite
def fuzzed_clients(
    draw: st.DrawFn, reference: pd.DataFrame, constraints: ConstraintSet, *, max_rows: int = 1
) -> FuzzedClient:
    """Draw a client (or ``max_rows`` clients) of ``reference`` with a few features changed."""
    names = list(constraints.feature_names)
    n_rows = draw(st.integers(1, max_rows))
    rows = draw(st.lists(st.integers(0, len(reference) - 1), min_size=n_rows, max_size=n_rows))
    frame = reference.iloc[rows].reset_index(drop=True).astype(object)
    touched = draw(st.lists(st.sampled_from(names), min_size=0, max_size=3, unique=True))
    hostile = False
    for name in touched:
        how = draw(st.sampled_from(("other client", "beyond range", "hostile", "drop")))
        column = reference[name]
        if how == "drop":
            frame = frame.drop(columns=[name])
            hostile = True
            continue
        if how == "other client":
            value: Any = column.iloc[draw(st.integers(0, len(column) - 1))]
        elif how == "beyond range" and _kind(constraints, name) in ("continuous", "integer"):
            low, high = float(column.min()), float(column.max())
            value = draw(
                st.sampled_from((high + 10 * (high - low) + 1, low - 10 * (high - low) - 1))
            )
        else:
            pool = HOSTILE_NUMBERS if _kind(constraints, name) in NUMERIC else HOSTILE_CATEGORIES
            value = draw(st.sampled_from(pool))
            hostile = True
        frame[name] = pd.Series([value] * len(frame), dtype=object)
    if draw(st.booleans()):
        frame["zz_extra"] = draw(st.sampled_from((1, "text", None, float("nan"))))
    return FuzzedClient(frame=frame, touched=tuple(touched), hostile=hostile)


def check_outcome(
    call: Callable[[], Any], client: FuzzedClient, errors: tuple[type[Exception], ...]
) -> Any:
    """Run ``call``: return its result, or check its error is clean (one line, a feature named).

    Returns
    -------
    Any
        The result, or None when the call raised one of ``errors`` cleanly.
    """
    try:
        return call()
    except errors as exc:
        message = str(exc)
    assert message.strip(), f"an empty message for {client.describe()}"
    assert "\n" not in message, f"a multi-line message {message!r} for {client.describe()}"
    named = [name for name in client.touched if name in message]
    assert named or not client.touched, (
        f"the error names none of {client.touched}: {message!r} ({client.describe()})"
    )
    return None
