"""A process appending to an audit store (spawned by the concurrency test): imports only
advisor.audit, so the spawned interpreters start fast."""

from __future__ import annotations

from advisor.audit import AuditStore


def append_many(path: str, worker: int, n: int) -> None:
    """Append ``n`` records ``{"client_id": "w<worker>", "i": i}`` to the store at ``path``."""
    store = AuditStore(path)
    for i in range(n):
        store.append({"client_id": f"w{worker}", "i": i})
