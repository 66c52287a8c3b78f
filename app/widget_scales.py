"""How a number widget shows a continuous feature in its constraint-file ``format``, and back.

No Streamlit here: pure helpers the what-if editor and the range filters share, unit-tested
without running the app. A ``percent`` ratio is edited in points (0.4064 shows ``40.6 %``);
``currency``, ``integer`` and ``{decimals: N}`` keep the feature's scale and show its
decimals. A widget's values are rounded to the decimals it shows, and what it returns is
turned back into the number the user saw (``40.7`` -> ``0.407``), never a hidden
``0.40740000000000004``. Integer features and ``format: auto`` keep the widgets as they were.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["WidgetScale", "widget_scale"]

MAX_DIGITS = 6  # decimals a widget shows at most (a constraint file's decimals go to 6)
_SNAP = 9  # decimals of a shown digit below which a bound is float noise (0.4064 * 1000)


def _decimals(value: float) -> int:
    """Decimals needed to write ``value`` (``0.05`` -> 2, ``5.0`` -> 0), at most 6."""
    exponent = Decimal(repr(round(value, MAX_DIGITS))).normalize().as_tuple().exponent
    return min(MAX_DIGITS, max(0, -int(exponent)))


def _nice_step(span: float) -> float:
    """A round step near a hundredth of ``span`` (``1`` for no span)."""
    if not span > 0 or not math.isfinite(span):
        return 1.0
    return 10.0 ** math.floor(math.log10(span / 100))


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetScale:
    """A number widget of one feature: shown values are ``value * factor`` to ``digits``.

    ``step`` is the widget's step in shown units; ``slider_format`` a Streamlit slider
    format, ``number_format`` a ``number_input`` one (numbers only); ``unit`` what the label
    names (``%`` for a percent without a unit of its own).
    """

    factor: float
    digits: int
    step: float
    slider_format: str
    number_format: str
    unit: str

    def shown(self, value: float) -> float:
        """The number the widget shows for a feature value (``0.4064`` -> ``40.6``)."""
        return round(value * self.factor, self.digits)

    def value(self, shown: float) -> float:
        """The feature value of a number the widget shows, to its decimals (``40.7`` -> 0.407)."""
        return round(round(shown, self.digits) / self.factor, self.digits + self._shift)

    @property
    def _shift(self) -> int:
        return round(math.log10(self.factor))

    def ceil(self, value: float) -> float:
        """The smallest shown number not below ``value`` (a lower bound stays feasible)."""
        scaled = round(value * self.factor * 10.0**self.digits, _SNAP)
        return math.ceil(scaled) / 10.0**self.digits

    def floor(self, value: float) -> float:
        """The largest shown number not above ``value`` (an upper bound stays feasible)."""
        scaled = round(value * self.factor * 10.0**self.digits, _SNAP)
        return math.floor(scaled) / 10.0**self.digits


def widget_scale(spec: Any, step: float | None, span: float | None) -> WidgetScale | None:
    """The scale of a continuous feature with a ``format`` (``None``: keep the plain widget).

    ``step`` is the feature's step in its own units (``None``: none), ``span`` the width of
    the range the widget covers (for a round step when there is none).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ratio = SimpleNamespace(kind="continuous", format="percent", decimals=0, unit="")
    >>> scale = widget_scale(ratio, None, 1.0)
    >>> scale.shown(0.4064), scale.value(40.7), scale.step, scale.slider_format
    (40.6, 0.407, 0.1, '%.1f %%')
    """
    form = getattr(spec, "format", "auto")
    if spec.kind != "continuous" or form == "auto":
        return None
    given = step if step is not None and step > 0 else None
    if form == "percent":
        points = None if given is None else round(given * 100, MAX_DIGITS)
        digits = max(1, 0 if points is None else _decimals(points))
        shown_step = points if points is not None else 10.0**-digits
        return WidgetScale(
            factor=100.0,
            digits=digits,
            step=shown_step,
            slider_format=f"%.{digits}f %%",
            number_format=f"%.{digits}f",
            unit=spec.unit or "%",
        )
    if form == "integer":
        digits, shown_step = 0, float(max(1, round(given))) if given is not None else 1.0
    elif form == "decimals":
        digits = max(int(spec.decimals), 0 if given is None else _decimals(given))
        shown_step = given if given is not None else 10.0**-digits
    else:  # currency: whole amounts unless the step or a small range needs cents
        shown_step = given if given is not None else max(_nice_step(span or 0.0), 0.01)
        digits = 0 if float(shown_step).is_integer() else max(2, _decimals(shown_step))
    return WidgetScale(
        factor=1.0,
        digits=digits,
        step=shown_step,
        slider_format=f"%.{digits}f",
        number_format=f"%.{digits}f",
        unit=spec.unit,
    )
