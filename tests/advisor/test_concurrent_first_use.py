"""Many app sessions reach a fresh advisor at the same moment: each piece is built once, whole.

The advisor's lazily built pieces (each product's reference clients, goal, similar-client
index, influence index and out-of-distribution guard) live in
:class:`advisor.levers._cache.OnceCache`. Here 16 threads (20 on an advisor) released
together by a barrier ask for them on a fresh advisor; the real builders are wrapped
to count their calls (and slowed a little, so the threads really overlap), and every answer is
compared with a second fresh advisor asked one call at a time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import advisor.levers._advisor as advisor_module
from advisor.levers import Advice, Advisor, load_demo_advisor
from advisor.levers._cache import OnceCache
from advisor.models import DemoBundleSettings
from tests.conftest import DEMO_TEST_CLIENTS

N_THREADS = 16
WIDEN_S = 0.05  # each counted build sleeps this long first: the other threads arrive meanwhile


def all_at_once(tasks: list[Callable[[], Any]]) -> list[Any]:
    """Run the tasks on one thread each, released at once; return results (or exceptions)."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = tasks[i]()
        except Exception as exc:  # returned to the test, which checks it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _fresh_advisor(demo_bundle: Path) -> Advisor:
    found, _ = load_demo_advisor(DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS))
    return found


def test_once_cache_computes_once_when_every_thread_asks_at_once() -> None:
    cache: OnceCache[str, object] = OnceCache()
    calls: list[object] = []

    def build() -> object:
        time.sleep(WIDEN_S)
        made = object()
        calls.append(made)
        return made

    results = all_at_once([lambda: cache.get("key", build) for _ in range(N_THREADS)])
    assert len(calls) == 1
    assert all(result is calls[0] for result in results)
    assert cache.peek("key") is calls[0]
    assert cache.peek("other") is None


def test_once_cache_keeps_nothing_from_a_failed_build_and_the_next_caller_builds() -> None:
    cache: OnceCache[str, object] = OnceCache()
    calls: list[object] = []

    def build() -> object:
        time.sleep(WIDEN_S)
        calls.append(None)
        if len(calls) == 1:
            raise OSError("the first build fails")
        made = object()
        calls[-1] = made
        return made

    results = all_at_once([lambda: cache.get("key", build) for _ in range(N_THREADS)])
    failed = [r for r in results if isinstance(r, OSError)]
    built = [r for r in results if not isinstance(r, OSError)]
    assert len(failed) == 1  # one failure, then one build for all the others
    assert len(calls) == 2
    assert len(built) == N_THREADS - 1
    assert all(r is calls[1] for r in built)


def test_a_fresh_advisor_asked_by_20_threads_at_once_builds_each_piece_once(
    demo_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oracle = _fresh_advisor(demo_bundle)  # asked one call at a time
    assert oracle.reference is not None
    product = next(p for p in oracle.products if oracle.similar_index(p) is not None)
    clients = [str(i) for i in oracle.reference.index[:4]]  # 4 x 5 tasks: 20 threads

    counts: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def counted(name: str, real: Callable[..., Any], key: Callable[..., str]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with lock:
                counts[name, key(*args, **kwargs)] += 1
            time.sleep(WIDEN_S)
            return real(*args, **kwargs)

        return wrapper

    for name, key in (
        ("population_of", lambda info, *_: info.name),
        ("fit_similar", lambda *_: "any"),
        ("fit_product_influence", lambda name, *_: name),
        ("fit_ood_guard", lambda *_, **__: "any"),
    ):
        monkeypatch.setattr(advisor_module, name, counted(name, getattr(advisor_module, name), key))
    fresh = _fresh_advisor(demo_bundle)
    tasks: list[Callable[[], Any]] = []
    for client in clients:
        tasks += [
            partial(fresh.advise, client, product=product),
            lambda: fresh.goal_for(product),
            lambda: fresh.similar_index(product),
            lambda: fresh.influence(product),
            lambda: fresh.ood_guard(product),
        ]
    results = all_at_once(tasks)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert counts == Counter(
        {
            ("population_of", product): 1,
            ("fit_similar", "any"): 1,
            ("fit_product_influence", product): 1,
            ("fit_ood_guard", "any"): 1,
        }
    )
    advices, goals, indexes, influences, guards = (results[k::5] for k in range(5))
    assert all(index is indexes[0] and index is not None for index in indexes)
    assert all(found is influences[0] for found in influences)
    assert fresh.similar_index(product) is indexes[0]
    assert fresh.influence(product) is influences[0]
    assert all(guard is guards[0] and guard is not None for guard in guards)
    assert goals == [oracle.goal_for(product)] * len(goals)
    for client, advice in zip(clients, advices, strict=True):
        _assert_same_advice(advice, oracle.advise(client, product=product))


def _assert_same_advice(got: Advice, expected: Advice) -> None:
    assert (got.product, got.status, got.goal, got.score, got.support) == (
        expected.product,
        expected.status,
        expected.goal,
        expected.score,
        expected.support,
    )
    assert [lever.to_dict() for lever in got.levers] == [
        lever.to_dict() for lever in expected.levers
    ]
