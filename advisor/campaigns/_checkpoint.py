"""A campaign's checkpoint folder: a manifest and one Parquet file per finished partition.

The manifest fingerprints the run (model, constraint file, reference data, options and each
partition's clients); a partition file holds its outcomes as :func:`outcomes_frame`'s plain
table, written atomically. Resuming reads back only what matches the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from advisor._atomic import write_atomic
from advisor.campaigns._store import (
    outcomes_from_frame,
    read_table_with_meta,
    write_table_with_meta,
)
from advisor.campaigns._types import ClientOutcome
from advisor.errors import CampaignError

__all__ = ["CHECKPOINT_FORMAT", "MANIFEST_NAME", "Checkpoint"]

CHECKPOINT_FORMAT = "levers-campaign-checkpoint"
MANIFEST_NAME = "manifest.json"
CHECKPOINT_VERSION = 1


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class Checkpoint:
    """A checkpoint folder: a manifest and one Parquet file per finished partition.

    The manifest holds the run's fingerprint: ``about`` (model and constraint hashes, goal,
    options, seed, n_levers, engine, partition size, reference data hash) and the hash of
    each partition's client ids, values and exclusions. Build it with :meth:`open`.
    """

    def __init__(self, folder: Path, about: Mapping[str, Any], hashes: Sequence[str]) -> None:
        self.folder = folder
        self.about = dict(about)
        self.hashes = tuple(hashes)
        self.fingerprint = _digest({"about": self.about, "partitions": list(self.hashes)})

    @classmethod
    def open(
        cls,
        folder: str | os.PathLike[str],
        *,
        about: Mapping[str, Any],
        hashes: Sequence[str],
        resume: bool,
    ) -> Checkpoint:
        """Start a checkpoint in ``folder`` or, with ``resume``, continue the one it holds.

        Raises
        ------
        CampaignError
            ``folder`` is a file; it is not empty and ``resume`` is false; or it holds the
            checkpoint of another campaign, other options or other clients.
        """
        if not isinstance(folder, (str, os.PathLike)):
            raise CampaignError(
                f"checkpoint: must be a folder path or None. Got {type(folder).__name__}."
            )
        checkpoint = cls(Path(folder), about, hashes)
        path = checkpoint.folder
        if path.exists() and not path.is_dir():
            raise CampaignError(f"checkpoint {path}: must be a folder. Got a file.")
        entries = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
        if entries and not resume:
            raise CampaignError(
                f"checkpoint {path}: must be a new or empty folder unless resuming. Got "
                f"{len(entries)} entries. Hint: pass resume=True to continue a stopped run, or "
                "use another folder."
            )
        if entries:
            checkpoint._check_manifest()
        else:
            path.mkdir(parents=True, exist_ok=True)
            checkpoint._write_manifest()
        return checkpoint

    def _manifest(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "fingerprint": self.fingerprint,
            "about": self.about,
            "partitions": list(self.hashes),
        }

    def _write_manifest(self) -> None:
        text = json.dumps(self._manifest(), indent=1, sort_keys=True)

        def write(file: Path) -> None:
            file.write_text(text, encoding="utf-8")

        write_atomic(self.folder / MANIFEST_NAME, write, overwrite=False, error=CampaignError)

    def _check_manifest(self) -> None:
        where = f"checkpoint {self.folder}"
        try:
            found = json.loads((self.folder / MANIFEST_NAME).read_text(encoding="utf-8"))
            if found.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(f"format {found.get('format')!r}")
        except (OSError, ValueError, AttributeError) as exc:
            raise CampaignError(
                f"{where}: must hold a campaign checkpoint ({MANIFEST_NAME}). Got "
                f"{str(exc)[:160]}. Hint: use another folder."
            ) from exc
        if found.get("fingerprint") == self.fingerprint:
            return
        about = found.get("about") if isinstance(found.get("about"), dict) else {}
        differ = [k for k in sorted(self.about) if about.get(k) != self.about[k]]
        if found.get("partitions") != list(self.hashes):
            differ.append("clients (ids, values or exclusions of the partitions)")
        raise CampaignError(
            f"{where}: must be a checkpoint of this campaign and these clients. Got another "
            f"run's (differs in {', '.join(differ) or 'its fingerprint'}). Hint: use another "
            "folder, or the same campaign, options and clients."
        )

    def path_of(self, index: int) -> Path:
        """Return the file of partition ``index``."""
        return self.folder / f"part-{index:06d}.parquet"

    def finished(self) -> dict[int, tuple[list[ClientOutcome], tuple[str, ...]]]:
        """Return the finished partitions: index -> (outcomes, engines used)."""
        done = {}
        for index, expected in enumerate(self.hashes):
            path = self.path_of(index)
            if not path.is_file():
                continue
            frame, meta = read_table_with_meta(path)
            if (meta.get("fingerprint"), meta.get("partition"), meta.get("hash")) != (
                self.fingerprint,
                index,
                expected,
            ):
                raise CampaignError(
                    f"{path}: must be partition {index} of this checkpoint. Got a file of "
                    "another run. Hint: use another folder."
                )
            done[index] = (outcomes_from_frame(frame, str(path)), tuple(meta["engines"]))
        return done

    def write(self, index: int, frame: pd.DataFrame, engines: Sequence[str]) -> None:
        """Write partition ``index`` (a table of :func:`outcomes_frame`), atomically."""
        meta = {
            "fingerprint": self.fingerprint,
            "partition": index,
            "hash": self.hashes[index],
            "engines": list(engines),
            "n_clients": len(frame),
        }
        write_table_with_meta(frame, self.path_of(index), meta)
