"""The documented limits on constraint files and the data they are bound to (docs: Limits).

A constraint file is a few kilobytes written by hand; these limits keep a hostile or broken
file (or data set) from exhausting memory, the stack or floating point.
"""

from __future__ import annotations

__all__ = [
    "IMPLAUSIBLE_SPREAD",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NUMBER",
    "MAX_NUMBER_TEXT",
    "MAX_RULE_LENGTH",
    "MAX_RULE_NESTING",
]

MAX_FILE_BYTES = 1_048_576
"""Largest constraint file (bytes on disk; characters for text given directly): 1 MB."""

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in a constraint file (the format needs 5)."""

MAX_NUMBER = 1e15
"""Largest absolute value of a number in a constraint file, a rule or a data column."""
MAX_NUMBER_TEXT = "1e15"

MAX_RULE_LENGTH = 2_000
"""Longest rule, condition or derived expression, in characters."""

MAX_RULE_NESTING = 32
"""Deepest nesting of parentheses and unary minus signs in a rule or expression."""

IMPLAUSIBLE_SPREAD = 10.0
"""Data values beyond p1 - 10 w or p99 + 10 w (w = p99 - p1) are flagged as implausible."""
