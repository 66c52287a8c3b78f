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
    from advisor.audit._settings import AuditSettings, audit_store, default_audit_path
    from advisor.audit._store import AuditRecord, AuditStore

__all__ = [
    "GENESIS_HASH",
    "AuditRecord",
    "AuditSettings",
    "AuditStore",
    "ChainReport",
    "audit_store",
    "canonical_json",
    "default_audit_path",
    "record_hash",
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
    "AuditStore": "advisor.audit._store",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
