"""Many advisors at once on one app: each sees only its own client, levers and language.

The browser test serves the app once (`streamlit run` on the small demo bundle, audit records
to a temporary file) and drives twenty sessions at once from one headless Chromium, one
browser context each (tests/app/sessions.py). The oracle is the same advisor asked here in
Python for each client, and the screen texts of app/texts.py in each session's language.
The audit trail then holds one record per session and client, in the session's language, with
the levers shown, its hash chain intact. Times are printed, never asserted
(benchmarks/concurrent_sessions.py reports them).

The other test releases threads together on the app's cached service (st.cache_resource):
the source and an advice are built once, every session gets that same object.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from advisor.audit import AuditStore
from advisor.levers import Advice, Advisor, load_demo_advisor
from app import service
from tests.advisor.test_concurrent_first_use import WIDEN_S, all_at_once
from tests.app.sessions import Visit, pick_visits, problems, run_sessions, served
from tests.app.test_browser import _chromium

N_SESSIONS = 20


def _counted(real: Callable[..., Any], calls: list[tuple[Any, ...]]) -> Callable[..., Any]:
    """``real``, each call recorded (and slowed a little, so threads arriving together overlap)."""
    lock = threading.Lock()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls.append(args)
        time.sleep(WIDEN_S)
        return real(*args, **kwargs)

    return wrapper


def test_sessions_arriving_together_share_one_source_and_one_advice(
    demo_env: dict[str, str], advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """st.cache_resource locks each key: the first session builds, the others wait for it."""
    loads: list[tuple[Any, ...]] = []
    monkeypatch.setattr("app.service.load_demo_advisor", _counted(load_demo_advisor, loads))
    service._source.clear()  # a freshly started app
    sources = all_at_once([service.source for _ in range(8)])
    assert len(loads) == 1
    assert all(found is sources[0] for found in sources), sources

    shared = sources[0].advisor
    asked: list[tuple[Any, ...]] = []
    monkeypatch.setattr(shared, "advise", _counted(shared.advise, asked))
    service._advice.clear()
    client = str(sources[0].clients.index[3])
    answers = all_at_once([lambda: service.advice(client) for _ in range(8)])
    assert asked == [(client,)]
    assert all(found is answers[0] for found in answers), answers
    expected = advisor.advise(client)  # the same advisor built on its own, asked once
    assert answers[0].product == expected.product
    assert [lever.to_dict() for lever in answers[0].levers] == [
        lever.to_dict() for lever in expected.levers
    ]


def _check_audit_trail(
    store: AuditStore, visits: list[Visit], advice: dict[str, Advice], advisor: Advisor
) -> None:
    """One record per session and client, in the session's language, with its levers.

    Each session first shows the page's default client (the reference's first), then its own.
    """
    assert store.verify().ok
    assert advisor.reference is not None
    first = store.records(client=str(advisor.reference.index[0]))
    assert Counter(r.payload["language"] for r in first) == Counter(v.lang for v in visits)
    for visit in visits:
        (record,) = store.records(client=visit.client_id)
        expected = advice[visit.client_id]
        levers = [(lever["score_after"], lever["cost"]) for lever in record.payload["levers"]]
        assert (record.payload["language"], record.payload["product"], levers) == (
            visit.lang,
            expected.product,
            [(lever.score_after, lever.cost) for lever in expected.levers],
        ), visit


@pytest.mark.browser
def test_twenty_sessions_at_once_each_see_only_their_own_client(
    demo_env: dict[str, str], advisor: Advisor, tmp_path: Path
) -> None:
    """Each session: its client, its levers (as computed here), its language; no exception."""
    chromium = _chromium()
    visits, advice = pick_visits(advisor, N_SESSIONS)
    folder = Path(os.environ.get("LEVERS_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shots = {0: folder / "session-en.png", 1: folder / "session-fr.png"}
    audit = tmp_path / "audit.sqlite"
    env = {**demo_env, "LEVERS_AUDIT": str(audit)}
    with served(env) as url:
        seen = run_sessions(url, visits, chromium, shots)

    assert [s.visit for s in seen] == visits
    found = [line for s in seen for line in problems(s, advice[s.visit.client_id])]
    assert not found, "\n".join(found)
    for shot in shots.values():
        assert shot.stat().st_size > 20_000
    _check_audit_trail(AuditStore(audit, create=False), visits, advice, advisor)
    seconds = [s.seconds for s in seen if s.seconds is not None]
    p50, p95 = np.percentile(seconds, [50, 95])
    print(f"{len(seen)} sessions: time to the lever cards p50 {p50:.1f} s, p95 {p95:.1f} s")
