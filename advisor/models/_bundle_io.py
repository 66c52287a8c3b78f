"""Reading and writing a bundle folder safely: paths stay inside, bytes are hashed once.

:class:`BundleReader` reads a file of the bundle only when the model card lists it, walks
to it component by component without following a symbolic link (``O_NOFOLLOW`` from an
open directory, so nothing can be swapped in between), refuses anything but a regular file
or one larger than its limit, and checks the SHA-256 of the very bytes it returns: the
caller parses those bytes, never the file again. :func:`read_card` reads the card the same
way (at most :data:`MAX_CARD_BYTES`), checks it against ``model_card.sha256`` and validates it
strictly.

:func:`check_target` and :func:`replace_folder` decide whether a bundle may be written to a
folder and move a finished one into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import ValidationError

from advisor.errors import BundleError
from advisor.models._card import ModelCard

__all__ = [
    "BUNDLE_FORMAT",
    "CARD_HASH_NAME",
    "CARD_NAME",
    "FILE_NAME_PATTERN",
    "FORMAT_VERSION",
    "MAX_CARD_BYTES",
    "MAX_FILE_BYTES",
    "BundleReader",
    "check_file_name",
    "check_target",
    "parse_json",
    "read_card",
    "read_inside",
    "replace_folder",
]

BUNDLE_FORMAT: Literal["levers-model-bundle"] = "levers-model-bundle"
FORMAT_VERSION = 1

CARD_NAME = "model_card.json"
CARD_HASH_NAME = "model_card.sha256"
#: Largest ``model_card.json`` read (10 MB); a larger card is refused before it is read.
MAX_CARD_BYTES = 10 * 1024 * 1024
#: Largest file of a bundle read (256 MB; also the largest unpacked ``.skops`` content).
MAX_FILE_BYTES = 256 * 1024 * 1024
_MAX_HASH_BYTES = 1024
#: Each component of a file listed in the card: a plain name, no ``..``, no separator.
FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_MAX_DEPTH = 4

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open
_BINARY = getattr(os, "O_BINARY", 0)


def check_file_name(name: str) -> str:
    """Return ``name`` when it is a relative path of plain components; raise otherwise."""
    parts = name.split("/")
    if len(parts) > _MAX_DEPTH or not all(FILE_NAME_PATTERN.fullmatch(p) for p in parts):
        raise BundleError(
            f"{CARD_NAME}: files: every name must be a relative path of at most {_MAX_DEPTH} "
            f"plain components ({FILE_NAME_PATTERN.pattern}). Got {name[:200]!r}."
        )
    if any(p.strip(".") == "" for p in parts):
        raise BundleError(f"{CARD_NAME}: files: names must stay inside the bundle. Got {name!r}.")
    return name


def _open_inside(root: Path, name: str) -> int:
    """Open ``root/name`` for reading, refusing a symbolic link at every component."""
    parts = PurePosixPath(name).parts
    if os.open not in os.supports_dir_fd:  # no dir_fd (Windows): check, then open
        path = root
        for part in parts:
            path = path / part
            if path.is_symlink():
                raise _symlink(root, name)
        return os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    folder = os.open(root, os.O_RDONLY | _DIRECTORY)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        return os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK, dir_fd=folder)
    finally:
        os.close(folder)


def _symlink(root: Path, name: str) -> BundleError:
    return BundleError(
        f"{root / name}: must be a regular file inside the bundle folder. Got a symbolic link "
        "(on the path or the file itself); a bundle never follows links. Hint: copy the "
        "real file into the bundle and re-save it."
    )


def _is_link_on_path(root: Path, name: str) -> bool:
    path = root
    for part in PurePosixPath(name).parts:
        path = path / part
        if path.is_symlink():
            return True
    return False


def read_inside(root: Path, name: str, limit: int) -> bytes:
    """Return the bytes of ``root/name`` (a regular file, no link, at most ``limit`` bytes)."""
    path = root / name
    try:
        fd = _open_inside(root, name)
    except FileNotFoundError as exc:
        if _is_link_on_path(root, name):
            raise _symlink(root, name) from exc
        raise BundleError(f"{path}: must exist in the bundle. Got no such file.") from exc
    except OSError as exc:
        if _is_link_on_path(root, name):
            raise _symlink(root, name) from exc
        raise BundleError(
            f"{path}: must be a readable file of the bundle. Got {type(exc).__name__} "
            f"({exc.strerror})."
        ) from exc
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise BundleError(f"{path}: must be a regular file. Got a folder or a device.")
        if info.st_size > limit:
            raise BundleError(
                f"{path}: must be at most {limit:,} bytes. Got {info.st_size:,}; refused "
                "before reading it."
            )
        data = file.read(limit + 1)
    if len(data) > limit:
        raise BundleError(f"{path}: must be at most {limit:,} bytes. Got a file still growing.")
    return data


class BundleReader:
    """Reads the files a model card lists, each once, checking its SHA-256 before use.

    Parameters
    ----------
    root
        The bundle folder (resolved; reached through links or not, as the caller chose).
    files
        The card's ``files``: relative path -> SHA-256.
    """

    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.root = root
        self.files = {check_file_name(name): digest for name, digest in files.items()}
        self.read_names: set[str] = set()

    def listed(self, name: str) -> bool:
        """Return whether the card lists ``name``."""
        return name in self.files

    def read(self, name: str) -> bytes:
        """Return the verified bytes of the listed file ``name`` (relative, ``/``-separated)."""
        if name not in self.files:
            raise BundleError(
                f"{self.root / name}: must be listed with its SHA-256 in the model card's "
                "files before it is read. Got a file the card does not list. Hint: re-save "
                "the bundle with this version of Levers."
            )
        try:
            data = read_inside(self.root, name, MAX_FILE_BYTES)
        except BundleError as exc:
            if "must exist in the bundle" not in str(exc):
                raise
            raise BundleError(
                f"{self.root / name}: must exist (listed in the model card). Got no such file."
            ) from exc
        if hashlib.sha256(data).hexdigest() != self.files[name]:
            raise BundleError(
                f"{self.root / name}: must match the SHA-256 recorded in the model card. Got a "
                "different file (corrupted or edited after training). Hint: retrain or restore "
                "the bundle."
            )
        self.read_names.add(name)
        return data

    def read_rest(self) -> None:
        """Check every listed file not read yet (missing, linked or corrupted is an error)."""
        for name in sorted(set(self.files) - self.read_names):
            self.read(name)


def parse_json(data: bytes, where: Path) -> Any:
    """Return the JSON value of ``data`` (UTF-8); a clean error naming ``where`` otherwise."""
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise BundleError(
            f"{where}: must be valid JSON (UTF-8). Got a corrupted file ({type(exc).__name__})."
        ) from exc


def _card_digest(folder: Path) -> str | None:
    """Return the SHA-256 ``model_card.sha256`` records, or None when there is no such file."""
    try:
        text = read_inside(folder, CARD_HASH_NAME, 1024).decode("ascii")
    except BundleError as exc:
        if "must exist in the bundle" in str(exc):
            return None
        raise
    except UnicodeDecodeError:
        text = ""
    found = re.match(r"([0-9a-f]{64})(\s+\*?model_card\.json)?\s*$", text)
    if found is None:
        raise BundleError(
            f"{folder / CARD_HASH_NAME}: must hold the card's SHA-256 (64 hex digits). Got "
            "something else. Hint: re-save the bundle."
        )
    return found.group(1)


def read_card(folder: Path) -> tuple[ModelCard, bool]:
    """Return the bundle's card (read strictly) and whether it matched ``model_card.sha256``."""
    if not folder.is_dir():
        raise BundleError(
            f"{folder}: must be a model bundle folder. Got no such folder. Hint: create one "
            "with `levers train ... --out DIR` (or `levers train --demo`)."
        )
    where = folder / CARD_NAME
    data = read_inside(folder, CARD_NAME, MAX_CARD_BYTES)
    digest = _card_digest(folder)
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise BundleError(
            f"{where}: must match the SHA-256 in {CARD_HASH_NAME}. Got a different card "
            "(corrupted or edited after training). Hint: retrain or restore the bundle."
        )
    raw = parse_json(data, where)
    if isinstance(raw, dict) and raw.get("format") == BUNDLE_FORMAT:
        found = raw.get("format_version")
        if found != FORMAT_VERSION:
            raise BundleError(
                f"{where}: format_version must be {FORMAT_VERSION}. Got {found!r:.20}. "
                "Hint: retrain the model with this version of Levers."
            )
    try:
        return ModelCard.model_validate_json(data, strict=True), digest is not None
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(map(str, first["loc"]))[:200] or "(top)"
        raise BundleError(
            f"{where}: {place}: {first['msg']}. Got {len(exc.errors())} problem(s); the card "
            "is not a Levers model card."
        ) from exc


def check_target(directory: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Check that a bundle may be written to ``directory``; return it as a Path.

    It may be a new folder (missing parent folders are created at save time; the nearest
    existing one must be a writable folder), an empty folder, or, with ``overwrite``, an
    existing bundle. A file, a symbolic link, or a non-empty folder without
    ``model_card.json`` is refused even with ``overwrite``.
    """
    target = Path(directory)
    if target.is_symlink():
        raise BundleError(
            f"{target}: must be a folder, not a symbolic link. Got a link; refusing to write "
            "through it. Hint: give the real folder."
        )
    if target.exists() and not target.is_dir():
        raise BundleError(
            f"{target}: must be a bundle folder. Got an existing file; refusing to replace "
            "it (even with --force). Hint: choose another path."
        )
    if target.is_dir() and any(target.iterdir()):
        if not (target / CARD_NAME).is_file():
            raise BundleError(
                f"{target}: can only be overwritten when it is a model bundle. Got a non-empty "
                f"folder without {CARD_NAME}; refusing to delete it (even with --force). "
                "Hint: choose a new or empty folder."
            )
        if not overwrite:
            raise BundleError(
                f"{target}: must not exist yet. Got an existing bundle. Hint: pass "
                "overwrite=True (--force on the CLI) or choose another folder."
            )
    parent = target.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise BundleError(f"{target}: its folder {parent} must be a writable folder. Got a file.")
    try:  # a real probe: permissions, read-only mounts and /proc all answer here
        Path(tempfile.mkdtemp(prefix=".bundle-probe-", dir=parent)).rmdir()
    except OSError as exc:
        raise BundleError(
            f"{target}: its folder {parent} must be a writable folder. Got "
            f"{exc.strerror or type(exc).__name__}."
        ) from exc
    return target


def replace_folder(staging: Path, target: Path) -> None:
    """Move the finished ``staging`` folder to ``target``, replacing an old bundle there.

    The old bundle is first renamed aside and deleted only once the new one is in place; if
    the second rename fails, the old bundle is renamed back.
    """
    if not target.exists():
        staging.rename(target)
        return
    aside = Path(tempfile.mkdtemp(prefix=".bundle-old-", dir=target.parent))
    aside.rmdir()
    target.rename(aside)
    try:
        staging.rename(target)
    except BaseException:
        aside.rename(target)
        raise
    shutil.rmtree(aside, ignore_errors=True)
