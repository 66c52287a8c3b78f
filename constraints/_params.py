"""Declarative parameter checks: rules as data, one validator, one accepted type set.

In the spirit of scikit-learn's ``_parameter_constraints``: a class or a function declares
each parameter's rule(s) once, and :func:`check_params` checks them all with the same
message shape, ``<where>.<name>: must be <rule>. Got <value>.``. Every package uses it
(engines, ``generate``, ``train``, ``Advisor``), so the same value is accepted everywhere:

- whole numbers: ``int`` or a numpy integer, never ``bool``; returned as ``int``;
- numbers: ``int``, ``float`` or a numpy number, never ``bool``, never NaN, finite unless
  the rule says otherwise; returned as ``float`` (``int`` for whole numbers);
- flags: ``bool`` or ``numpy.bool_``; returned as ``bool``;
- ``None`` only where the rules list it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = [
    "AnyOf",
    "Flag",
    "InstanceOf",
    "Number",
    "OneOf",
    "ParamRule",
    "ParamSpec",
    "TupleOf",
    "Whole",
    "check_dataclass",
    "check_params",
]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class Whole:
    """A whole number (``int`` or numpy integer, not ``bool``) in ``[low, high]``."""

    low: int | None = None
    high: int | None = None

    def describe(self) -> str:
        """Say what the rule accepts, as a message fragment."""
        if self.low is not None and self.high is not None:
            return f"a whole number from {self.low} to {self.high}"
        if self.low is not None:
            return f"a whole number >= {self.low}"
        if self.high is not None:
            return f"a whole number <= {self.high}"
        return "a whole number"

    def convert(self, value: Any) -> tuple[bool, Any]:
        """Return (accepted, the value as a Python int)."""
        if not _is_whole(value):
            return False, value
        whole = int(value)
        ok = (self.low is None or whole >= self.low) and (self.high is None or whole <= self.high)
        return ok, whole


@dataclass(frozen=True, slots=True)
class Number:
    """A real number (not ``bool``, not NaN) between ``low`` and ``high``.

    ``low_open``/``high_open`` exclude the bound itself; ``finite=False`` accepts infinity
    (within the bounds); ``unit`` names the unit in the message ("seconds"); ``noun``
    replaces "a finite number" in it ("a probability").
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    finite: bool = True
    unit: str = ""
    noun: str = ""

    def describe(self) -> str:
        """Say what the rule accepts, as a message fragment."""
        noun = f"a number of {self.unit}" if self.unit else "a number"
        if self.finite:
            noun = noun.replace("a number", "a finite number", 1)
        noun = self.noun or noun
        lo = None if self.low is None else f"{'>' if self.low_open else '>='} {_fmt(self.low)}"
        hi = None if self.high is None else f"{'<' if self.high_open else '<='} {_fmt(self.high)}"
        if lo and hi:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"{noun} in {left}{_fmt(self.low or 0)}, {_fmt(self.high or 0)}{right}"
        return f"{noun} {lo or hi}" if (lo or hi) else noun

    def convert(self, value: Any) -> tuple[bool, Any]:
        """Return (accepted, the value as a Python float, or int for whole numbers)."""
        if not _is_number(value):
            return False, value
        number = int(value) if _is_whole(value) else float(value)
        if math.isnan(number) or (self.finite and not math.isfinite(number)):
            return False, value
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False, value
        if self.high is not None and (
            number >= self.high if self.high_open else number > self.high
        ):
            return False, value
        return True, number


@dataclass(frozen=True, slots=True)
class Flag:
    """``True`` or ``False`` (``bool`` or ``numpy.bool_``)."""

    def describe(self) -> str:
        """Say what the rule accepts, as a message fragment."""
        return "True or False"

    def convert(self, value: Any) -> tuple[bool, Any]:
        """Return (accepted, the value as a Python bool)."""
        if isinstance(value, (bool, np.bool_)):
            return True, bool(value)
        return False, value


@dataclass(frozen=True, slots=True)
class OneOf:
    """One of a few values (usually names)."""

    values: tuple[Any, ...]

    def describe(self) -> str:
        """Say what the rule accepts, as a message fragment."""
        return "one of " + ", ".join(str(v) for v in self.values)

    def convert(self, value: Any) -> tuple[bool, Any]:
        """Return (accepted, the value)."""
        try:
            return value in self.values, value
        except (TypeError, ValueError):  # unhashable or uncomparable values (arrays)
            return False, value


@dataclass(frozen=True, slots=True)
class InstanceOf:
    """An instance of one of ``types``; ``name`` says it in the message, ``hint`` how to get one."""

    types: tuple[type, ...]
    name: str
    hint: str = ""

    def describe(self) -> str:
        """Say what the rule accepts, as a message fragment."""
        return self.name

    def convert(self, value: Any) -> tuple[bool, Any]:
        """Return (accepted, the value)."""
        return isinstance(value, self.types), value


@dataclass(frozen=True, slots=True)
class TupleOf:
    """A non-empty tuple whose every item follows ``item``; ``name`` says the items."""

    item: Whole | Number | Flag | OneOf | InstanceOf
    name: str

    def describe(self) -> str:
        """Say what the rule accepts, as a message fragment."""
        return f"a non-empty tuple of {self.name}"

    def convert(self, value: Any) -> tuple[bool, Any]:
        """Return (accepted, the tuple with converted items)."""
        if not isinstance(value, tuple) or not value:
            return False, value
        items = [self.item.convert(v) for v in value]
        if not all(ok for ok, _ in items):
            return False, value
        return True, tuple(v for _, v in items)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Any value a predicate accepts (for shapes the other rules cannot say)."""

    predicate: Callable[[Any], bool]
    name: str

    def describe(self) -> str:
        """Say what the rule accepts, as a message fragment."""
        return self.name

    def convert(self, value: Any) -> tuple[bool, Any]:
        """Return (accepted, the value)."""
        return bool(self.predicate(value)), value


ParamRule = Whole | Number | Flag | OneOf | InstanceOf | TupleOf | AnyOf
ParamSpec = Mapping[str, ParamRule | tuple[ParamRule | None, ...]]
"""Each parameter's rule, or a tuple of alternatives (``None`` in it accepts ``None``)."""


def _describe(rules: tuple[ParamRule | None, ...]) -> str:
    words = [r.describe() for r in rules if r is not None]
    if None in rules:
        words.append("None")
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _shown(value: Any, rules: tuple[ParamRule | None, ...]) -> str:
    """Say what was given: the type for type rules, else a short repr."""
    if all(isinstance(r, InstanceOf) for r in rules if r is not None):
        return type(value).__name__
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_one(name: str, value: Any, rules: tuple[ParamRule | None, ...]) -> tuple[bool, Any]:
    for rule in rules:
        if rule is None:
            if value is None:
                return True, None
            continue
        ok, converted = rule.convert(value)
        if ok:
            return True, converted
    return False, value


def check_params(
    values: Mapping[str, Any],
    spec: ParamSpec,
    *,
    where: str = "",
    error: type[Exception] = ValueError,
) -> dict[str, Any]:
    """Check parameters against their declared rules; return them converted.

    Parameters
    ----------
    values
        Parameter name -> value, as the caller gave them.
    spec
        Parameter name -> rule (or tuple of alternative rules; ``None`` accepts ``None``).
        Names of ``values`` without a rule are returned unchecked.
    where
        The owner of the parameters, prefixed to the name (``SearchEngine`` ->
        ``SearchEngine.n_grid``); empty for a function's own parameters.
    error
        The exception to raise (each package raises its own root error).

    Returns
    -------
    dict
        The values, numpy scalars turned into Python ones.

    Raises
    ------
    error
        For the first parameter (in ``spec`` order) that breaks its rules:
        ``<where>.<name>: must be <rules>. Got <value>.``

    Examples
    --------
    >>> import numpy as np
    >>> from constraints import Number, Whole, check_params
    >>> spec = {"n": Whole(1), "time_limit_s": (Number(0, low_open=True, unit="seconds"), None)}
    >>> check_params({"n": np.int64(3), "time_limit_s": None}, spec)
    {'n': 3, 'time_limit_s': None}
    >>> check_params({"n": 3, "time_limit_s": float("nan")}, spec)
    Traceback (most recent call last):
    ...
    ValueError: time_limit_s: must be a finite number of seconds > 0 or None. Got nan.
    """
    out = dict(values)
    for name, declared in spec.items():
        if name not in values:
            continue
        rules = declared if isinstance(declared, tuple) else (declared,)
        ok, converted = _check_one(name, values[name], rules)
        if not ok:
            label = f"{where}.{name}" if where else name
            got = _shown(values[name], rules)
            hints = [r.hint for r in rules if isinstance(r, InstanceOf) and r.hint]
            hint = f" Hint: {hints[0]}" if hints else ""
            raise error(f"{label}: must be {_describe(rules)}. Got {got}.{hint}")
        out[name] = converted
    return out


def check_dataclass(
    obj: Any, spec: ParamSpec, *, error: type[Exception] = ValueError, where: str = ""
) -> None:
    """Check a frozen dataclass's fields against ``spec`` and store the converted values.

    Call it from ``__post_init__``; ``where`` (default: the class name) prefixes every
    message.
    """
    names = [f.name for f in fields(obj)]
    values = {name: getattr(obj, name) for name in names if name in spec}
    checked = check_params(values, spec, where=where or type(obj).__name__, error=error)
    for name, value in checked.items():
        object.__setattr__(obj, name, value)
