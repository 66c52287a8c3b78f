"""Untrusted text printed through rich: nothing a terminal acts on, nothing markup parses."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from advisor._console import inert, shown, text

UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@given(st.text())
def test_inert_leaves_no_control_and_changes_nothing_else(value: str) -> None:
    out = inert(value)
    assert not any(unicodedata.category(c) in UNSAFE for c in out)
    if not any(unicodedata.category(c) in UNSAFE for c in value):
        assert out == value


@given(st.text())
def test_shown_prints_exactly_the_inert_text(value: str) -> None:
    console = Console(record=True, width=10_000, color_system=None)
    console.print(f"[bold]{shown(value)}[/]", highlight=False, soft_wrap=True, end="")
    console.print(text(value), highlight=False, soft_wrap=True, end="")
    assert console.export_text() == inert(value) * 2


def test_french_spaces_are_shown_and_escapes_are_not() -> None:
    assert inert("11.5\u202f%") == "11.5\u202f%"
    assert inert("\x1b[2J\u202e\u2028") == "\\x1b[2J\\u202e\\u2028"
