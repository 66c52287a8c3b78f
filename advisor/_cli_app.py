"""``levers app``: serve the Streamlit app on the demo, or on a bundle and its client data.

The command checks its inputs, sets ``LEVERS_BUNDLE`` / ``LEVERS_DATA`` (read by
``app/streamlit_app.py``) and replaces itself with the Streamlit server (``os.execv``): the
server keeps the command's process id, so stopping the command stops the server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from advisor._cli_data_options import DecimalOption, EncodingOption
from advisor._console import shown
from advisor.datasets import INTERACTIVE_MAX_ROWS, index_clients, read_clients
from advisor.errors import AdvisorError
from constraints import ConstraintError

__all__ = ["APP_ENTRY", "app_command", "streamlit_command"]

console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

#: The app's entry point, next to the ``advisor`` package in the repository.
APP_ENTRY = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"
_MAX_PORT = 65_535


def _error(message: str) -> typer.Exit:
    """Print the message's first line (inert) and exit with code 2.

    A message listing problems ("2 problems in the constraint file") keeps its first problem
    on the line, so that the line names the feature and the fix.
    """
    lines = [line.strip() for line in message.splitlines() if line.strip()] or [""]
    first = lines[0] if len(lines) == 1 else f"{lines[0]}; the first: {lines[1]}"
    console.print(f"[bold red]error:[/] {shown(first)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _check_source(
    bundle: Path, data: str, id_column: str | None, encoding: str | None, decimal: str | None
) -> None:
    """Open the bundle and the data as the app will: a problem is an error before serving."""
    from advisor.levers import Advisor  # the advisor's stack: imported by this check only
    from advisor.models import load_bundle

    models = load_bundle(bundle)
    clients = index_clients(
        read_clients(data, max_rows=INTERACTIVE_MAX_ROWS, encoding=encoding, decimal=decimal),
        id_column,
        recorded=models.id_column,
    )
    Advisor.from_bundle(models, clients)  # the constraint file binds to the data


def streamlit_command(port: int, address: str | None = None) -> list[str]:
    """Return the command line that serves the app (``python -m streamlit run ...``)."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_ENTRY),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    if address is not None:
        command += ["--server.address", address]
    return command


def app_command(
    bundle: Annotated[
        Path | None,
        typer.Option(help="Model bundle folder (levers train --out). Default: the demo bundle."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="The bundle's client data (with --bundle): a CSV/Parquet file, a data set "
            "file, or a SQLAlchemy URL such as sqlite:///clients.db?table=clients; at most "
            f"{INTERACTIVE_MAX_ROWS:,} rows."
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Column of client ids (default: the bundle's, else detected, else row numbers "
            "from 1)."
        ),
    ] = None,
    encoding: EncodingOption = None,
    decimal: DecimalOption = None,
    port: Annotated[int, typer.Option(help="Port to serve on, 1 to 65535.")] = 8501,
    address: Annotated[
        str | None, typer.Option(help="Address to listen on (default: Streamlit's, all).")
    ] = None,
) -> None:
    """Serve the app (http://localhost:PORT) on the demo, or on a bundle and its clients.

    Stopping the command (Ctrl-C) stops the server: the command becomes the server.
    """
    if isinstance(port, bool) or not 1 <= port <= _MAX_PORT:
        raise _error(f"--port: must be a whole number from 1 to {_MAX_PORT}. Got {port}.")
    if (bundle is None) != (data is None):
        raise _error(
            "--bundle and --data: give both (a bundle and its client data), or neither for "
            "the demo. Got only one."
        )
    if not APP_ENTRY.is_file():
        raise _error(
            f"{APP_ENTRY}: the app must sit next to the advisor package. Got no such file. "
            "Hint: run levers app from a checkout of the repository (pip install -e .)."
        )
    environment = dict(os.environ)
    given = {"LEVERS_ID_COLUMN": id_column, "LEVERS_ENCODING": encoding, "LEVERS_DECIMAL": decimal}
    for name in ("LEVERS_BUNDLE", "LEVERS_DATA", *given):
        environment.pop(name, None)
    if bundle is None and (encoding is not None or decimal is not None):
        raise _error("--encoding and --decimal: apply to --data. Got no --data (the demo).")
    if bundle is not None and data is not None:
        try:
            _check_source(bundle, data, id_column, encoding, decimal)
        except (AdvisorError, ConstraintError, OSError) as exc:
            raise _error(str(exc)) from exc
        local = Path(data)
        environment["LEVERS_BUNDLE"] = str(bundle.resolve())
        environment["LEVERS_DATA"] = str(local.resolve()) if local.exists() else data
        environment.update({name: value for name, value in given.items() if value is not None})
    command = streamlit_command(port, address)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, environment)
