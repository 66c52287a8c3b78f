"""The app records what each session is shown: once per client, product and language."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from advisor.audit import AuditStore, current_user, replay
from tests.app.conftest import ENTRY


def _store() -> AuditStore:
    return AuditStore(os.environ["LEVERS_AUDIT"], create=False)


def _lever_texts(app: AppTest) -> str:
    return "\n".join(str(m.value) for m in app.container(key="lever-1").markdown)


def test_each_advice_shown_is_recorded_once_with_the_sessions_language(
    demo_env: dict[str, str], with_levers: tuple[str, Any]
) -> None:
    client_id, advice = with_levers
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    app.selectbox(key="client").set_value(client_id).run()
    assert not app.exception
    records = [r for r in _store().records() if r.payload["client_id"] == client_id]
    assert len(records) == 1
    payload = records[0].payload
    assert (payload["language"], payload["product"]) == ("en", advice.product)
    assert payload["who"] == current_user()
    assert [lever["score_after"] for lever in payload["levers"]] == [
        lever.score_after for lever in advice.levers
    ]
    assert payload["evidence"]["lever"] == 1  # the evidence section opens on lever 1
    assert payload["evidence"]["similar"]
    app.run()  # the same screen again: nothing new
    assert len(_store().records(client=client_id)) == 1
    app.segmented_control(key="language").set_value("fr").run()
    assert not app.exception
    records = _store().records(client=client_id)
    assert [r.payload["language"] for r in records] == ["en", "fr"]
    assert advice.levers[0].describe("fr")[0] in _lever_texts(app)
    # what the session was shown replays identically (the demo portfolio drawn again)
    assert replay(records[-1]).identical


def test_the_advisor_name_is_who_without_a_login(
    demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEVERS_ADVISOR_NAME", "Claire Martin")
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    assert not app.exception
    (record,) = _store().records()
    assert record.payload["who"] == "Claire Martin"
    assert record.payload["client_id"] == app.selectbox(key="client").value


def test_a_store_that_cannot_be_written_warns_and_the_levers_stay(
    demo_env: dict[str, str],
    with_levers: tuple[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    client_id, advice = with_levers
    monkeypatch.setenv("LEVERS_AUDIT", str(tmp_path / "missing-folder" / "audit.sqlite"))
    app = AppTest.from_file(ENTRY, default_timeout=120).run()
    app.selectbox(key="client").set_value(client_id).run()
    assert not app.exception
    warnings = [str(w.value) for w in app.warning]
    assert any(
        w.startswith("This advice could not be recorded in the audit trail:") for w in warnings
    )
    assert advice.levers[0].describe("en")[0] in _lever_texts(app)
    assert not (tmp_path / "missing-folder").exists()
