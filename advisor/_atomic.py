"""Writing output files safely: checked before any work, written whole or not at all.

:func:`check_output` refuses an ``--out`` that cannot be written (a folder, a missing or
read-only parent folder, an unsupported suffix, an existing file without ``--force``) before
the command does anything costly. :func:`write_atomic` writes to a temporary file beside the
target and renames it over the target (``os.replace``), so a reader, a crash or Ctrl-C never
sees a half-written file: the old file stays whole until the new one is complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from advisor._console import inert
from advisor.errors import AdvisorError

__all__ = ["check_output", "write_atomic", "write_text_atomic"]


def check_output(
    path: Path, *, suffixes: Sequence[str], overwrite: bool, option: str = "--out"
) -> Path:
    """Return ``path`` if a command may write it, else raise :class:`AdvisorError`.

    Parameters
    ----------
    path
        The file the command will write.
    suffixes
        The suffixes it may end in (lower case, with the dot).
    overwrite
        Whether an existing file may be replaced (the command's ``--force``).
    option
        The option that gave ``path``, named in the messages.
    """
    where = f"{option} {inert(path)}"
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise AdvisorError(
            f"{where}: must end in {' or '.join(suffixes)}. Got {suffix or 'no suffix'!r}."
        )
    if path.is_dir():
        raise AdvisorError(f"{where}: must be a file name. Got a folder.")
    parent = path.parent
    if not parent.is_dir():
        raise AdvisorError(
            f"{where}: must be in an existing folder. Got no folder {inert(parent)}. "
            "Hint: create the folder first."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise AdvisorError(f"{where}: must be in a folder you can write to. Got a read-only one.")
    if path.exists() and not overwrite:
        raise AdvisorError(
            f"{where}: must not exist (it would be overwritten). Got an existing file. "
            "Hint: pass --force to replace it."
        )
    return path


_FORCE_HINT = "pass --force to replace it"


def write_atomic(
    path: Path,
    write: Callable[[Path], None],
    *,
    overwrite: bool,
    error: type[AdvisorError] = AdvisorError,
    hint: str = _FORCE_HINT,
) -> Path:
    """Call ``write(temporary)`` then rename the temporary file to ``path``.

    The temporary file has ``path``'s name, in a private folder created beside ``path`` (same
    file system, so the rename is atomic); the folder is removed whatever happens, so a
    failed or interrupted ``write`` leaves nothing behind and ``path`` as it was. Without
    ``overwrite``, an existing ``path`` is never replaced, even one created while ``write``
    ran. This is the one atomic writer: tables (``write_table``), the schema, bundles' files.

    Parameters
    ----------
    path
        The file to create or replace.
    write
        Writes the whole content to the (new) file it is given.
    overwrite
        Whether an existing ``path`` may be replaced.
    error, hint
        The error raised when ``path`` exists (and ``overwrite`` is false), and its hint.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    prefix = f".{path.name[:200]}."  # a long name still leaves room for the random part
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=prefix) as folder:
        temporary = Path(folder) / path.name
        write(temporary)
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_new(temporary, path, error, hint)
    return path


def _link_new(temporary: Path, path: Path, error: type[AdvisorError], hint: str) -> None:
    """Give ``temporary`` the name ``path`` unless ``path`` exists (checked atomically)."""
    message = (
        f"{inert(path)}: must not exist (it would be overwritten). Got an existing file. "
        f"Hint: {hint}."
    )
    try:
        os.link(temporary, path)
    except FileExistsError as exc:
        raise error(message) from exc
    except OSError:  # a file system without hard links: check, then rename
        if path.exists():
            raise error(message) from None
        os.replace(temporary, path)


def write_text_atomic(path: Path, text: str, *, overwrite: bool) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_atomic`)."""

    def write(file: Path) -> None:
        file.write_text(text, encoding="utf-8")

    return write_atomic(path, write, overwrite=overwrite)
