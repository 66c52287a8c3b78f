"""Errors raised by the constraints package, and the problems a constraint file can have."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ConstraintError", "ConstraintFileError", "FileProblem"]


class ConstraintError(ValueError):
    """Root of every error raised by :mod:`constraints` (a constraint file or rule is invalid)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileProblem:
    """One problem found in a constraint file or while binding it to data.

    Attributes
    ----------
    source
        File name (or ``<string>``) the problem was found in.
    line
        1-based line in ``source``; 0 when the problem has no line (e.g. found in the data).
    path
        Key path inside the file, e.g. ``features.monthly_income.direction``.
    message
        ``<what must hold>. Got <value>.`` in business terms.
    hint
        How to fix it; empty when the message says it all.
    severity
        ``error`` blocks loading; ``warning`` is reported but the file is usable.

    Examples
    --------
    >>> p = FileProblem(source="bank.yaml", line=14, path="features.income.direction",
    ...             message="must be one of increase, decrease, any. Got 'up'.")
    >>> str(p)
    "bank.yaml:14 features.income.direction: must be one of increase, decrease, any. Got 'up'."
    """

    source: str
    line: int
    path: str
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    def __post_init__(self) -> None:
        if self.line < 0:
            raise ConstraintError(f"FileProblem.line: must be >= 0. Got {self.line}.")
        if self.severity not in ("error", "warning"):
            raise ConstraintError(
                f"FileProblem.severity: must be error or warning. Got {self.severity!r}."
            )

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        text = f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text} Hint: {self.hint}" if self.hint else text


class ConstraintFileError(ConstraintError):
    """A constraint file (or its binding to data) has one or more problems, all listed."""

    def __init__(self, problems: tuple[FileProblem, ...] | list[FileProblem]) -> None:
        self.problems: tuple[FileProblem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("ConstraintFileError needs at least one problem.")
        source = self.problems[0].source
        n = len(self.problems)
        head = f"{source}: {n} problem{'s' if n > 1 else ''} in the constraint file"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))
