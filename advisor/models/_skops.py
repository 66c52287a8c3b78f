"""scikit-learn parts saved with skops, loaded only when every stored type is on our list.

Loading works on bytes already read (and hashed) by the bundle reader, so the file is never
opened twice; a zip whose members would unpack to more than :data:`MAX_UNPACKED_BYTES` is
refused before anything is unpacked.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, TypeVar

import skops.io as sio

from advisor.errors import BundleError

__all__ = [
    "MAX_UNPACKED_BYTES",
    "TRUSTED_TYPES",
    "load_sklearn",
    "loads_sklearn",
    "save_sklearn",
    "stored_types",
]

T = TypeVar("T")
#: The largest total a ``.skops`` zip may unpack to (256 MB).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024

#: Every object type a bundle's ``.skops`` file may hold. Anything else is refused before
#: skops builds a single object (skops itself never unpickles).
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.NoneType",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.isotonic.IsotonicRegression",
)


def save_sklearn(obj: object, path: Path) -> None:
    """Write a scikit-learn object with skops."""
    sio.dump(obj, path)


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        if "__class__" in node and "__module__" in node:
            found.add(f"{node['__module__']}.{node['__class__']}")
        for value in node.values():
            _collect(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, found)


def stored_types(data: bytes, where: Path) -> set[str]:
    """Return the fully qualified type names the ``.skops`` bytes declare (``where``: its path)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise BundleError(
                    f"{where}: must unpack to at most {MAX_UNPACKED_BYTES:,} bytes. Got "
                    f"{unpacked:,}; refused before unpacking."
                )
            schema = json.loads(archive.read("schema.json"))
        found: set[str] = set()
        _collect(schema, found)
    except (zipfile.BadZipFile, KeyError, ValueError, RecursionError, OSError) as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(
            f"{where}: must be a skops file (a zip holding schema.json). Got a corrupted file."
        ) from exc
    return found


def loads_sklearn(data: bytes, expected: type[T], where: Path) -> T:
    """Build a scikit-learn object from ``.skops`` bytes holding only :data:`TRUSTED_TYPES`."""
    untrusted = sorted(stored_types(data, where) - set(TRUSTED_TYPES))
    if untrusted:
        raise BundleError(
            f"{where}: may only hold trusted scikit-learn types. Got {', '.join(untrusted)}. "
            "Hint: the file was not written by Levers or was tampered with; retrain the model."
        )
    try:
        obj = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops raises many types on a damaged file
        raise BundleError(
            f"{where}: must be a readable skops file. Got {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else 'no detail'}."
        ) from exc
    if not isinstance(obj, expected):
        raise BundleError(f"{where}: must hold a {expected.__name__}. Got {type(obj).__name__}.")
    return obj


def load_sklearn(path: Path, expected: type[T]) -> T:
    """Load a skops file holding only :data:`TRUSTED_TYPES`, and check the result's type."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise BundleError(f"{path}: must exist in the bundle. Got no such file.") from exc
    return loads_sklearn(data, expected, path)
