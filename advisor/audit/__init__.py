"""The audit trail: every advice served, recorded in an append-only, hash-chained SQLite file.

:class:`AuditStore` appends records (:class:`AuditRecord`), lists them, and verifies their
hash chain (:class:`ChainReport`); :func:`audit_store` / :class:`AuditSettings` read where the
store lives (``LEVERS_AUDIT``) and whether client ids are hashed (``LEVERS_AUDIT_HASH_IDS``).
See docs/audit.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor._lazy import lazy_exports

if TYPE_CHECKING:
    from advisor.audit._chain import GENESIS_HASH, ChainReport, canonical_json, record_hash
    from advisor.audit._record import (
        ReferenceSource,
        ShownEvidence,
        advice_record,
        current_user,
        record_advice,
    )
    from advisor.audit._replay import ReplayReport, replay
    from advisor.audit._settings import AuditSettings, audit_store, default_audit_path
    from advisor.audit._store import AuditRecord, AuditStore

__all__ = [
    "GENESIS_HASH",
    "AuditRecord",
    "AuditSettings",
    "AuditStore",
    "ChainReport",
    "ReferenceSource",
    "ReplayReport",
    "ShownEvidence",
    "advice_record",
    "audit_store",
    "canonical_json",
    "current_user",
    "default_audit_path",
    "record_advice",
    "record_hash",
    "replay",
]

# Each public name and the module defining it, imported on first use (see advisor._lazy).
_EXPORTS = {
    "GENESIS_HASH": "advisor.audit._chain",
    "ChainReport": "advisor.audit._chain",
    "canonical_json": "advisor.audit._chain",
    "record_hash": "advisor.audit._chain",
    "AuditSettings": "advisor.audit._settings",
    "audit_store": "advisor.audit._settings",
    "default_audit_path": "advisor.audit._settings",
    "AuditRecord": "advisor.audit._store",
    "ReferenceSource": "advisor.audit._record",
    "ShownEvidence": "advisor.audit._record",
    "advice_record": "advisor.audit._record",
    "current_user": "advisor.audit._record",
    "record_advice": "advisor.audit._record",
    "ReplayReport": "advisor.audit._replay",
    "replay": "advisor.audit._replay",
    "AuditStore": "advisor.audit._store",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
