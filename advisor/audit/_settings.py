"""Where the audit store lives and whether it hashes client ids: two environment variables.

``LEVERS_AUDIT``: unset or empty, the default file ``audit.sqlite`` in the user's data folder
(its folders are created); ``off`` (or ``0``, ``false``, ``no``, any case) turns the audit
trail off; anything else is the store's path (``~`` expanded; its folder must exist).
``LEVERS_AUDIT_HASH_IDS``: ``1``, ``true``, ``yes`` or ``on`` stores a salted hash of each
client id instead of the id; ``0``, ``false``, ``no``, ``off`` or unset stores ids as given.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from advisor._console import inert
from advisor.audit._store import AuditStore
from advisor.errors import AdvisorError

__all__ = ["AuditSettings", "audit_store", "default_audit_path"]

_OFF = frozenset({"off", "0", "false", "no"})
_ON = frozenset({"1", "true", "yes", "on"})
_FILE_NAME = "audit.sqlite"


def default_audit_path(environ: Mapping[str, str] = os.environ) -> Path:
    r"""Return the default store: ``audit.sqlite`` in the user's data folder for ``levers``.

    Linux and other Unix: ``$XDG_DATA_HOME/levers`` (an absolute ``XDG_DATA_HOME``), else
    ``~/.local/share/levers``; macOS: ``~/Library/Application Support/levers``; Windows:
    ``%LOCALAPPDATA%\\levers`` (the folders platformdirs' ``user_data_dir`` gives).
    """
    home = Path(environ.get("HOME") or Path.home())
    if sys.platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / "levers" / _FILE_NAME


def _flag(environ: Mapping[str, str]) -> bool:
    value = environ.get("LEVERS_AUDIT_HASH_IDS", "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF or not value:
        return False
    raise AdvisorError(
        "LEVERS_AUDIT_HASH_IDS: must be 1, true, yes or on (hash client ids), or 0, false, no "
        f"or off. Got {inert(repr(environ['LEVERS_AUDIT_HASH_IDS'])[:80])}."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditSettings:
    """The audit trail's settings, read once from the environment (:meth:`from_env`).

    Attributes
    ----------
    path
        The store's file, or ``None`` when the audit trail is off (``LEVERS_AUDIT=off``).
    hash_client_ids
        Whether records hold a salted hash of client ids (``LEVERS_AUDIT_HASH_IDS``).
    create_folder
        Whether :meth:`open` creates the store's missing folders: only for the default
        location (a path given explicitly must be in an existing folder).
    """

    path: Path | None
    hash_client_ids: bool = False
    create_folder: bool = False

    def __post_init__(self) -> None:
        if self.path is not None and not isinstance(self.path, Path):
            raise AdvisorError(
                f"AuditSettings.path: must be a Path or None. Got {inert(repr(self.path))}."
            )
        for name in ("hash_client_ids", "create_folder"):
            if not isinstance(getattr(self, name), bool):
                raise AdvisorError(f"AuditSettings.{name}: must be True or False.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AuditSettings:
        """Read ``LEVERS_AUDIT`` and ``LEVERS_AUDIT_HASH_IDS`` (see the module's docstring)."""
        hashed = _flag(environ)
        value = environ.get("LEVERS_AUDIT", "").strip()
        if value.lower() in _OFF:
            return cls(path=None, hash_client_ids=hashed)
        if not value:
            return cls(path=default_audit_path(environ), hash_client_ids=hashed, create_folder=True)
        return cls(path=Path(value).expanduser(), hash_client_ids=hashed)

    def open(self) -> AuditStore | None:
        """Return the store (created if missing), or ``None`` when the audit trail is off."""
        if self.path is None:
            return None
        if self.create_folder:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AdvisorError(
                    f"audit store {inert(self.path)}: must be in a folder Levers can create. "
                    f"Got {inert(exc.strerror)}. Hint: set LEVERS_AUDIT to another file, or off."
                ) from exc
        return AuditStore(self.path, hash_client_ids=self.hash_client_ids)


def audit_store(environ: Mapping[str, str] = os.environ) -> AuditStore | None:
    """Return the audit store the environment names, or ``None`` when ``LEVERS_AUDIT=off``.

    Examples
    --------
    >>> audit_store({"LEVERS_AUDIT": "off"}) is None
    True
    """
    return AuditSettings.from_env(environ).open()
