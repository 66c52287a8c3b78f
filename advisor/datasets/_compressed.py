"""Compressed CSV files (.zip with one CSV, .gz, .bz2, .xz), read as streams with a size cap.

Nothing is extracted to disk: every reading pass opens the archive again and decompresses as
it reads, through a reader that counts the decompressed bytes and stops at ``max_bytes`` (a
zip bomb is refused after at most ``max_bytes`` bytes, never written anywhere). Member names
inside a zip are only read, never used as paths.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from advisor.errors import DatasetError

__all__ = ["COMPRESSIONS", "CompressedFile", "compressed_file", "open_bytes"]

COMPRESSIONS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zip": "zip"}
"""Compressed suffixes read (the file inside must be a CSV)."""

_CORRUPT = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, RuntimeError)


@dataclass(frozen=True, slots=True)
class CompressedFile:
    """A CSV inside a compressed file: the archive, its format, the zip member, the byte cap."""

    path: Path
    compression: str
    member: str | None
    max_bytes: int

    def __str__(self) -> str:
        """Name it in messages: ``clients.zip:clients.csv`` or ``clients.csv.gz``."""
        return f"{self.path}:{self.member}" if self.member is not None else str(self.path)


class _Capped(io.RawIOBase):
    """A decompressing stream that refuses more than ``max_bytes`` and names corrupt data."""

    def __init__(self, inner: io.BufferedIOBase | IO[bytes], source: CompressedFile) -> None:
        super().__init__()
        self._inner, self._source, self._n_bytes = inner, source, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except DatasetError:
            raise
        except _CORRUPT as exc:
            kind = self._source.compression
            msg = f"{self._source}: must be a readable {kind} file. Got {type(exc).__name__}"
            raise DatasetError(f"{msg}: {exc}. Hint: compress it again.") from exc
        self._n_bytes += len(data)
        if self._n_bytes > self._source.max_bytes:
            raise _too_big(self._source, f"over {self._source.max_bytes:,} bytes once unpacked")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def _too_big(source: CompressedFile, got: str) -> DatasetError:
    msg = f"{source}: must unpack to at most {source.max_bytes:,} bytes (max_bytes). Got {got}"
    return DatasetError(f"{msg} (a zip bomb?). Hint: split the file or keep only the columns.")


def _zip_member(path: Path, max_bytes: int) -> CompressedFile:
    """Return the one CSV member of a zip archive, checked by its declared size."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DatasetError(f"{path}: must be a readable zip file. Got {exc}.") from exc
    shown = [info for info in infos if not info.filename.startswith("__MACOSX/")]
    csvs = [info for info in shown if info.filename.lower().endswith(".csv")]
    names = ", ".join(repr(info.filename) for info in shown[:10]) or "no file"
    more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    if len(csvs) != 1:
        what = "several CSV files" if csvs else "no CSV file"
        msg = f"{path}: must hold exactly one .csv file. Got {what} ({names}{more})."
        raise DatasetError(f"{msg} Hint: extract the one you need and pass that file.")
    info = csvs[0]
    source = CompressedFile(path=path, compression="zip", member=info.filename, max_bytes=max_bytes)
    if info.file_size > max_bytes:
        raise _too_big(source, f"{info.file_size:,} bytes declared")
    if info.flag_bits & 0x1:
        msg = f"{source}: must not be encrypted. Got a password-protected member."
        raise DatasetError(f"{msg} Hint: extract it and pass the .csv file.")
    return source


def compressed_file(path: Path, max_bytes: int) -> CompressedFile | None:
    """Return the CSV inside ``path`` when its suffix is a compression, else None.

    A ``.gz``/``.bz2``/``.xz`` file must be named ``*.csv.<suffix>``; a ``.zip`` must hold
    exactly one ``.csv`` member (folders and ``__MACOSX/`` entries are ignored).
    """
    compression = COMPRESSIONS.get(path.suffix.lower())
    if compression is None:
        return None
    if compression == "zip":
        return _zip_member(path, max_bytes)
    inner = Path(path.stem).suffix.lower()
    if inner != ".csv":
        msg = f"{path}: a {compression} file must hold a CSV named *.csv{path.suffix}."
        hint = "Hint: rename it, e.g. clients.csv.gz (Parquet is compressed already)."
        raise DatasetError(f"{msg} Got {inner or 'no inner suffix'!r}. {hint}")
    return CompressedFile(path=path, compression=compression, member=None, max_bytes=max_bytes)


def _open_inner(source: CompressedFile) -> io.BufferedIOBase | IO[bytes]:
    if source.compression == "gzip":
        return gzip.open(source.path, "rb")
    if source.compression == "bzip2":
        return bz2.open(source.path, "rb")
    if source.compression == "xz":
        return lzma.open(source.path, "rb")
    # the member stays readable after the archive is closed (zipfile counts the references)
    with zipfile.ZipFile(source.path) as archive:
        try:
            return archive.open(str(source.member))
        except NotImplementedError as exc:  # e.g. a compression method zipfile lacks
            msg = f"{source}: must be a readable zip member. Got {exc}"
            raise DatasetError(f"{msg}. Hint: extract it and pass the .csv file.") from exc


def open_bytes(source: Path | CompressedFile) -> io.BufferedReader:
    """Open a plain file, or a compressed file's CSV decompressed and capped, for reading bytes."""
    if isinstance(source, Path):
        return source.open("rb")
    try:
        inner = _open_inner(source)
    except DatasetError:
        raise
    except _CORRUPT as exc:
        msg = f"{source}: must be a readable {source.compression} file. Got {exc}"
        raise DatasetError(f"{msg}. Hint: compress it again.") from exc
    return io.BufferedReader(_Capped(inner, source), buffer_size=1 << 20)
