"""The one parameter validator: accepted types, conversions, messages."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constraints import (
    Flag,
    InstanceOf,
    Number,
    OneOf,
    ParamSpec,
    TupleOf,
    Whole,
    check_dataclass,
    check_params,
)

WHOLE = {"n": Whole(1)}
SECONDS = {"t": (Number(0.0, low_open=True, unit="seconds"), None)}


@given(st.one_of(st.integers(-5, 5), st.booleans(), st.floats(allow_nan=True), st.text()))
def test_whole_numbers_accept_ints_only(value: Any) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if ok:
        assert check_params({"n": value}, WHOLE) == {"n": value}
    else:
        with pytest.raises(ValueError, match=r"^n: must be a whole number >= 1\. Got .*\.$"):
            check_params({"n": value}, WHOLE)


@pytest.mark.parametrize("kind", [np.int8, np.int32, np.int64, np.uint16])
def test_numpy_integers_are_whole_numbers_converted_to_int(kind: type) -> None:
    checked = check_params({"n": kind(3)}, WHOLE)["n"]
    assert checked == 3
    assert type(checked) is int


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_numbers_refuse_nan_and_infinity_unless_asked(value: float) -> None:
    if math.isfinite(value) and value > 0:
        assert check_params({"t": np.float64(value)}, SECONDS)["t"] == value
    else:
        with pytest.raises(
            ValueError,
            match=r"^t: must be a finite number of seconds > 0 or None\. Got .*\.$",
        ):
            check_params({"t": value}, SECONDS)
    unbounded = {"x": Number(0.0, finite=False)}
    if value >= 0:  # NaN compares False: refused below
        assert check_params({"x": value}, unbounded)["x"] == value
    else:
        with pytest.raises(ValueError, match=r"^x: must be a number >= 0\. Got "):
            check_params({"x": value}, unbounded)


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        (
            {"p": Number(0.0, 1.0, True, True)},
            1.0,
            "p: must be a finite number in (0, 1). Got 1.0.",
        ),
        ({"p": Number(0.0, 1.0)}, True, "p: must be a finite number in [0, 1]. Got True."),
        ({"f": Flag()}, "yes", "f: must be True or False. Got 'yes'."),
        ({"m": OneOf(("a", "b"))}, "c", "m: must be one of a, b. Got 'c'."),
        ({"m": OneOf(("a", "b"))}, np.zeros(2), "m: must be one of a, b. Got array([0., 0.])."),
        (
            {"c": InstanceOf((dict,), "a dict", hint="pass {}.")},
            [1],
            "c: must be a dict. Got list. Hint: pass {}.",
        ),
        (
            {"w": TupleOf(Number(0.0), "numbers >= 0")},
            (1.0, -1.0),
            "w: must be a non-empty tuple of numbers >= 0. Got (1.0, -1.0).",
        ),
        ({"k": Whole(2, 20)}, 21, "k: must be a whole number from 2 to 20. Got 21."),
        ({"k": (Whole(0), Flag())}, -1, "k: must be a whole number >= 0 or True or False. Got -1."),
    ],
)
def test_one_message_shape(spec: ParamSpec, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=rf"^{re.escape(message)}$"):
        check_params({next(iter(spec)): value}, spec)


def test_long_values_are_cut_in_messages() -> None:
    with pytest.raises(ValueError, match=r"^n: must be a whole number >= 1\. Got 'x+\.\.\.\.$"):
        check_params({"n": "x" * 500}, WHOLE)


def test_unknown_names_pass_through_and_the_first_problem_is_raised() -> None:
    assert check_params({"other": object, "n": 2}, WHOLE)["n"] == 2
    with pytest.raises(KeyError, match="n: must be a whole number >= 1"):
        check_params({"n": 0, "t": -1.0}, {**WHOLE, **SECONDS}, error=KeyError)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Engine:
    PARAMETERS: ClassVar[ParamSpec] = {"steps": Whole(1), "rate": Number(0.0, low_open=True)}
    steps: int = 10
    rate: float = 0.1

    def __post_init__(self) -> None:
        check_dataclass(self, self.PARAMETERS)


def test_dataclasses_are_checked_and_converted() -> None:
    engine = _Engine(steps=np.int64(4), rate=np.float32(0.5))  # type: ignore[arg-type]
    assert (engine.steps, engine.rate) == (4, 0.5)
    assert type(engine.steps) is int
    assert type(engine.rate) is float
    with pytest.raises(
        ValueError, match=r"^_Engine\.steps: must be a whole number >= 1\. Got 0\.$"
    ):
        _Engine(steps=0)
