"""The audit record of an advice: what it holds, checked against the advice and the files."""

from __future__ import annotations

import getpass
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor.audit import AuditStore, ShownEvidence, advice_record, current_user, record_advice
from advisor.audit._record import advice_data, plain, reference_sha256
from advisor.errors import AdvisorError
from advisor.levers import Advice, Advisor, load_demo_advisor
from advisor.models import DemoBundleSettings
from tests.conftest import DEMO_TEST_CLIENTS


@pytest.fixture(scope="module")
def advisor(demo_bundle: Path) -> Advisor:
    """The demo recommender's advisor (search engine: fast), without a store."""
    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    return load_demo_advisor(settings, engine="search")[0]


@pytest.fixture(scope="module")
def served(advisor: Advisor) -> tuple[str, Advice]:
    """A client with levers and the advice (product chosen by the advisor)."""
    assert advisor.reference is not None
    for client_id in advisor.reference.index[:10]:
        advice = advisor.advise(str(client_id), n_levers=2)
        if advice.levers:
            return str(client_id), advice
    pytest.fail("no client with levers among the first 10")


def test_the_python_api_records_only_with_a_store(
    demo_bundle: Path, tmp_path: Path, served: tuple[str, Advice]
) -> None:
    client_id, advice = served
    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    store = AuditStore(tmp_path / "audit.sqlite")
    plain_advisor = load_demo_advisor(settings, engine="search")[0]
    plain_advisor.advise(client_id, product=advice.product, n_levers=2)
    assert store.records() == []
    audited = load_demo_advisor(settings, engine="search", audit=store)[0]
    again = audited.advise(client_id, product=advice.product, n_levers=2, who="alice")
    audited.advise(client_id, product=advice.product, n_levers=1)
    first, second = store.records()
    assert first.payload["who"] == "alice"
    assert second.payload["who"] == getpass.getuser() == current_user()
    assert first.payload["client_id"] == client_id
    assert first.payload["levers"][0]["score_after"] == again.levers[0].score_after
    assert len(second.payload["levers"]) == 1


def test_the_record_holds_the_advice_the_options_and_the_provenance(
    advisor: Advisor, served: tuple[str, Advice], tmp_path: Path, demo_bundle: Path
) -> None:
    client_id, advice = served
    store = AuditStore(tmp_path / "audit.sqlite")
    payload = advice_record(
        advice, advisor, store=store, who="bob", language="fr", client_id=client_id
    )
    record = store.append(payload)
    read = store.get(record.id).payload
    assert read["kind"] == "advice"
    assert (read["who"], read["language"], read["client_id"]) == ("bob", "fr", client_id)
    assert (read["product"], read["status"], read["direction"]) == (
        advice.product,
        "found",
        advice.direction,
    )
    assert read["goal"] == advice.goal
    assert read["score"] == advice.score
    assert read["engine"] == advice.engine == "search"
    assert read["search"]["seed"] == advisor.seed
    assert read["search"]["params"] == json.loads(json.dumps(dict(_params(advice))))
    for shown, lever in zip(read["levers"], advice.levers, strict=True):
        assert shown["rank"] == lever.rank
        assert shown["score_before"] == lever.score_before
        assert shown["score_after"] == lever.score_after
        assert shown["cost"] == lever.cost
        assert shown["n_changes"] == lever.n_changes
        assert [a["feature"] for a in shown["actions"]] == [a.feature for a in lever.actions]
        assert [a["text"]["fr"] for a in shown["actions"]] == lever.describe("fr")
    # the client's values, as the reference holds them (NaN as None)
    assert advisor.reference is not None
    row = advisor.reference.loc[client_id]
    for name, value in row.items():
        recorded = read["client"][str(name)]
        if isinstance(value, float) and math.isnan(value):
            assert recorded is None
        else:
            assert recorded == (value.item() if isinstance(value, np.generic) else value)
    # options: every checked option, robust ones included when the advisor has them
    assert read["options"] == dict(advisor.options.items())
    assert {"engine", "seed", "time_limit_s", "goal", "goal_quantile", "min_uplift"} <= set(
        read["options"]
    )
    provenance = read["provenance"]
    card = (demo_bundle / "model_card.json").read_bytes()
    rules = (demo_bundle / "constraints.yaml").read_bytes()
    assert provenance["bundle"] == str(demo_bundle.resolve())
    assert provenance["bundle_sha256"] == hashlib.sha256(card).hexdigest()
    assert provenance["constraints_sha256"] == hashlib.sha256(rules).hexdigest()
    assert provenance["reference_sha256"] == reference_sha256(advisor.reference)
    assert read["versions"]["numpy"] == np.__version__
    assert read["versions"]["pandas"] == pd.__version__
    assert set(read["versions"]) == {
        "levers",
        "numpy",
        "pandas",
        "scikit-learn",
        "xgboost",
        "torch",
    }


def _params(advice: Advice) -> Any:
    return advice.search["params"]


def test_hashed_ids_leave_no_trace_of_the_id(
    advisor: Advisor, served: tuple[str, Advice], tmp_path: Path
) -> None:
    client_id, advice = served
    store = AuditStore(tmp_path / "hashed.sqlite", hash_client_ids=True)
    record = record_advice(store, advice, advisor, client_id=client_id, language="en")
    text = json.dumps(store.get(record.id).payload)
    assert record.payload["client_id"] == store.client_key(client_id)
    assert record.payload["client_id"].startswith("sha256:")
    assert client_id not in text
    assert record.payload["client"]["client_id"] == store.client_key(client_id)


def test_the_evidence_shown_is_recorded(
    advisor: Advisor, served: tuple[str, Advice], tmp_path: Path
) -> None:
    _, advice = served
    store = AuditStore(tmp_path / "audit.sqlite")
    found = advisor.evidence(advice, advice.levers[0], k=3)
    shown = ShownEvidence(evidence=found, lever=1, k=3)
    record = record_advice(store, advice, advisor, evidence=shown, language="en")
    evidence = store.get(record.id).payload["evidence"]
    assert (evidence["lever"], evidence["k"]) == (1, 3)
    assert found.similar is not None
    assert [row["similar"] for row in evidence["similar"]] == list(found.similar["similar"])
    assert [row["distance"] for row in evidence["similar"]] == [
        float(d) for d in found.similar["distance"]
    ]
    assert evidence["support"] == found.support
    assert evidence["method"] == found.method


def test_an_advice_field_added_later_lands_in_the_record(served: tuple[str, Advice]) -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Flagged(Advice):
        warning: float = float("nan")
        shares: tuple[np.float64, ...] = (np.float64(0.25),)

    _, advice = served
    fields = {name: getattr(advice, name) for name in Advice.__dataclass_fields__}
    data = advice_data(Flagged(**fields))
    assert data["warning"] is None
    assert data["shares"] == [0.25]
    assert type(data["shares"][0]) is float


def test_an_advice_field_may_not_take_a_record_key(served: tuple[str, Advice]) -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Clashing(Advice):
        who: str = "someone"

    _, advice = served
    fields = {name: getattr(advice, name) for name in Advice.__dataclass_fields__}
    with pytest.raises(AdvisorError, match=r"^Advice: field 'who' clashes with the audit"):
        advice_data(Clashing(**fields))


def test_audit_env_reads_the_environment(
    demo_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    monkeypatch.setenv("LEVERS_AUDIT", str(tmp_path / "env.sqlite"))
    found = load_demo_advisor(settings, engine="search", audit="env")[0]
    assert found.audit is not None
    assert found.audit.path == tmp_path / "env.sqlite"
    monkeypatch.setenv("LEVERS_AUDIT", "off")
    assert load_demo_advisor(settings, engine="search", audit="env")[0].audit is None
    with pytest.raises(AdvisorError, match=r"^audit: must be an advisor.audit.AuditStore"):
        load_demo_advisor(settings, audit="yes")


def test_the_reference_hash_follows_values_order_and_columns() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": ["x", "y", "z"]}, index=["p", "q", "r"])
    base = reference_sha256(frame)
    assert reference_sha256(frame.copy()) == base
    assert reference_sha256(frame.iloc[[1, 0, 2]]) != base  # order-sensitive
    assert reference_sha256(frame.assign(a=[1.0, 2.0, 3.0])) != base
    assert reference_sha256(frame.rename(columns={"b": "c"})) != base
    assert reference_sha256(frame.set_axis(["p", "q", "s"])) != base
    assert reference_sha256(frame.astype({"a": "float32"})) != base


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True).map(np.float64),
    st.integers(-(2**31), 2**31).map(np.int64),
    st.booleans().map(np.bool_),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 9)), inner, max_size=3),
    ),
    max_leaves=10,
)


@given(_VALUES)
def test_plain_data_is_always_strict_json(value: Any) -> None:
    found = plain(value)
    text = json.dumps(found, allow_nan=False)  # no NaN, no infinity, no numpy type
    assert json.loads(text) == found


def test_plain_keeps_finite_numbers_and_drops_missing() -> None:
    assert plain(np.float64(0.1)) == 0.1
    assert type(plain(np.float64(0.1))) is float
    assert plain(np.int64(3)) == 3
    assert type(plain(np.int64(3))) is int
    assert plain(np.bool_(True)) is True
    assert plain([np.nan, float("inf"), pd.NA, pd.NaT]) == [None, None, None, None]
    assert plain(pd.Timestamp("2026-01-02")) == "2026-01-02T00:00:00"
    assert plain(pd.DataFrame({"a": [1, 2]})) == [{"a": 1}, {"a": 2}]
