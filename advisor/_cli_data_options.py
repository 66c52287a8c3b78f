"""The ``--encoding`` and ``--decimal`` options of every command that reads client data."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["DecimalOption", "EncodingOption"]

EncodingOption = Annotated[
    str | None,
    typer.Option(
        help="The CSV file's text encoding (utf-8, cp1252, latin-1, ...); detected (UTF-8 or "
        "Windows-1252) when left out."
    ),
]
DecimalOption = Annotated[
    str | None,
    typer.Option(
        help="The CSV file's decimal mark, '.' or ','; decimal-comma columns are detected when "
        "left out (separator other than ',')."
    ),
]
