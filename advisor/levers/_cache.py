"""A thread-safe compute-once cache: advisors serve many app sessions at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["OnceCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class OnceCache(Generic[K, V]):
    """Values computed once per key, even when many threads ask at the same time.

    The first caller of a key computes its value while holding that key's lock; callers
    arriving meanwhile wait for it and then read the value (they never see a placeholder).
    A computation that raises caches nothing: the next caller tries again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[K, V] = {}
        self._key_locks: dict[K, threading.Lock] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """Return the value of ``key``, computing it with ``compute()`` the first time."""
        with self._lock:
            if key in self._values:
                return self._values[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
            return value

    def peek(self, key: K) -> V | None:
        """Return the value of ``key`` when computed already, else ``None`` (never computes)."""
        with self._lock:
            return self._values.get(key)
