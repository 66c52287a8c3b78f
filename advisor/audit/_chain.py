r"""The audit records' hash chain: canonical JSON, record hashes, and the chain's check.

Each record's hash is the SHA-256 of four lines joined by ``\\n``: the previous record's
hash (64 hex digits, ``"0" * 64`` for record 1), the record's id in decimal, its timestamp,
and its payload as canonical JSON (:func:`canonical_json`), all encoded as UTF-8. Anyone can
recompute it with ``hashlib`` alone (docs/audit.md shows how).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from advisor._console import inert
from advisor.errors import AdvisorError

__all__ = [
    "GENESIS_HASH",
    "MAX_PAYLOAD_BYTES",
    "MAX_PAYLOAD_DEPTH",
    "ChainReport",
    "canonical_json",
    "check_payload",
    "record_hash",
]

#: The ``prev_hash`` of record 1.
GENESIS_HASH = "0" * 64
#: A payload's canonical JSON may take at most this many bytes (UTF-8): 10 MB.
MAX_PAYLOAD_BYTES = 10_000_000
#: Lists and objects in a payload may nest at most this deep.
MAX_PAYLOAD_DEPTH = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """What :meth:`AuditStore.verify` found.

    Attributes
    ----------
    ok
        Whether the chain is intact: no problem found.
    n_records
        The number of records read.
    problems
        Every problem, each naming the record id (empty when ``ok``).
    last_id, last_hash
        The last record's id and hash (0 and ``GENESIS_HASH`` for an empty store): keep them
        somewhere else to anchor the chain (docs/audit.md).
    """

    ok: bool
    n_records: int
    problems: tuple[str, ...]
    last_id: int = 0
    last_hash: str = GENESIS_HASH

    def __post_init__(self) -> None:
        if self.ok != (not self.problems):
            raise AdvisorError(
                f"ChainReport.ok: must be True exactly when there is no problem. Got ok="
                f"{self.ok} with {len(self.problems)} problems."
            )


def _where(path: str) -> str:
    return f"payload{path}" if path.startswith("[") or not path else f"payload.{path}"


def _child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _check_scalar(value: object, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise AdvisorError(
            f"{inert(_where(path))}: must be a finite number (JSON has no NaN or infinity). "
            f"Got {value}. Hint: write None for a missing value."
        )
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise AdvisorError(
                f"{inert(_where(path))}: must be text UTF-8 can encode. Got a lone surrogate "
                f"at position {exc.start}."
            ) from exc
        return
    if value is None or isinstance(value, (bool, int, float)):
        return
    raise AdvisorError(
        f"{inert(_where(path))}: must be plain JSON data (None, bool, int, float, str, list, "
        f"dict with str keys). Got a {type(value).__module__}.{type(value).__qualname__}."
    )


def check_payload(payload: object) -> None:
    """Raise :class:`AdvisorError` unless ``payload`` is a mapping of plain JSON data.

    The message names the first offending key path (``payload.levers[0].score``): a NaN or
    infinite float, a non-str key, a value of another type (a numpy number, a date), text
    with a lone surrogate, nesting deeper than ``MAX_PAYLOAD_DEPTH``.
    """
    if not isinstance(payload, Mapping):
        raise AdvisorError(
            f"payload: must be a mapping (a dict of plain JSON data). Got a "
            f"{type(payload).__qualname__}."
        )
    stack: list[tuple[object, str, int]] = [(payload, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, Mapping):
            items: Iterable[tuple[object, object]] = value.items()
            for key in value:
                if not isinstance(key, str):
                    raise AdvisorError(
                        f"{inert(_where(path))}: keys must be str. Got {inert(repr(key))}."
                    )
        elif isinstance(value, (list, tuple)):
            items = enumerate(value)
        else:
            _check_scalar(value, path)
            continue
        if depth >= MAX_PAYLOAD_DEPTH:
            raise AdvisorError(
                f"{inert(_where(path))}: must nest at most {MAX_PAYLOAD_DEPTH} levels deep. "
                "Got deeper."
            )
        stack.extend((item, _child(path, key), depth + 1) for key, item in items)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Return ``payload`` as canonical JSON: sorted keys, no spaces, UTF-8 text, no NaN.

    Raises :class:`AdvisorError` (through :func:`check_payload`) for anything JSON cannot
    hold exactly, and when the text passes ``MAX_PAYLOAD_BYTES``.
    """
    check_payload(payload)
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    size = len(text.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise AdvisorError(
            f"payload: must take at most {MAX_PAYLOAD_BYTES:,} bytes as JSON. Got {size:,}."
        )
    return text


def record_hash(prev_hash: str, record_id: int, timestamp: str, payload_json: str) -> str:
    """Return the hex SHA-256 of a record: its previous hash, id, timestamp and payload JSON."""
    content = "\n".join((prev_hash, str(record_id), timestamp, payload_json))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


class ChainWalk:
    """Check records one at a time, in id order; collect every problem.

    A problem names the record: a hash that does not match the record's content (the record
    was edited), a ``prev_hash`` that is not the previous record's hash (a record before it
    was removed, replaced or forged), a gap in the ids (records removed).
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.n_records = 0
        self.last_id = 0
        self.last_hash = GENESIS_HASH

    def add(self, row: tuple[object, ...]) -> None:
        """Check one stored row ``(id, timestamp, payload, prev_hash, hash)``."""
        record_id, timestamp, payload, prev_hash, stored = row
        self.n_records += 1
        if not isinstance(record_id, int):
            self.problems.append(f"a record has an id that is not a number: {inert(record_id)!r}")
            return
        if record_id < 1:
            self.problems.append(f"record {record_id}: an id below 1 (forged)")
            return
        if record_id != self.last_id + 1:
            self._gap(record_id)
        if prev_hash != self.last_hash:
            before = f"record {self.last_id}" if self.last_id else "the start of the chain"
            self.problems.append(
                f"record {record_id}: its prev_hash does not match the hash of {before} "
                "(a record before it was removed, replaced or forged)"
            )
        texts = (timestamp, payload, prev_hash, stored)
        if not all(isinstance(t, str) for t in texts):
            self.problems.append(f"record {record_id}: a field is empty or not text (forged)")
        elif record_hash(str(prev_hash), record_id, str(timestamp), str(payload)) != stored:
            self.problems.append(
                f"record {record_id}: its hash does not match its content (edited after it "
                "was written)"
            )
        else:
            self._check_json(record_id, str(payload))
        self.last_id = record_id
        self.last_hash = str(stored)

    def _gap(self, record_id: int) -> None:
        if record_id == self.last_id + 2:
            self.problems.append(
                f"record {self.last_id + 1}: missing (a gap between record {self.last_id} and "
                f"record {record_id})"
            )
        else:
            self.problems.append(
                f"records {self.last_id + 1} to {record_id - 1}: missing (a gap before record "
                f"{record_id})"
            )

    def _check_json(self, record_id: int, payload: str) -> None:
        try:
            value = json.loads(payload)
        except ValueError:
            self.problems.append(f"record {record_id}: its payload is not JSON (forged)")
            return
        if not isinstance(value, dict):
            self.problems.append(f"record {record_id}: its payload is not a JSON object (forged)")

    def report(self, missing_guards: Iterable[str] = (), other: Iterable[str] = ()) -> ChainReport:
        """Return the :class:`ChainReport` of the rows added so far (and ``other`` problems)."""
        problems = [
            f"the append-only guard {name} is missing (someone removed it; records may have "
            "been rewritten)"
            for name in missing_guards
        ]
        problems.extend(self.problems)
        problems.extend(other)
        return ChainReport(
            ok=not problems,
            n_records=self.n_records,
            problems=tuple(problems),
            last_id=self.last_id,
            last_hash=self.last_hash,
        )
