r"""Printing untrusted text (column names, paths, card fields) safely through rich.

Names come from clients' files and model cards: ``[/bold]`` would be read as rich markup
(and crash the print), and an escape sequence (``\x1b[2J``) would drive the terminal.
:func:`shown` makes any value inert for an f-string printed with markup; :func:`text`
gives a :class:`rich.text.Text` for table cells.
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape
from rich.text import Text

__all__ = ["inert", "shown", "text"]


_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, formats, unassigned


def _unsafe(char: str) -> bool:
    """Whether ``char`` is a control, format or line separator a terminal would act on.

    Spaces of any width (``Zs``, e.g. the narrow no-break space before "%" in French
    percentages) are shown as they are.
    """
    return unicodedata.category(char) in _UNSAFE


def _escape_char(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def inert(value: object) -> str:
    r"""Return ``str(value)`` with every non-printable character written as an escape.

    Letters of any script stay as they are; control and format characters (ESC, NUL,
    bidirectional overrides, line breaks) become ``\x1b``, ``\u202e``...

    Examples
    --------
    >>> inert("caf\u00e9\x1b[2J") == "caf\u00e9" + "\\x1b[2J"
    True
    >>> inert("11.5\u202f%\u202e") == "11.5\u202f%" + "\\u202e"
    True
    """
    return "".join(_escape_char(c) if _unsafe(c) else c for c in str(value))


def shown(value: object) -> str:
    r"""Return ``value`` ready for an f-string printed with rich markup: inert, markup escaped.

    Examples
    --------
    >>> shown("evil[/]x.csv")
    'evil\\[/]x.csv'
    """
    return escape(inert(value))


def text(value: object, style: str = "") -> Text:
    """Return ``value`` as a rich :class:`~rich.text.Text` (never parsed as markup), inert."""
    return Text(inert(value), style=style)
