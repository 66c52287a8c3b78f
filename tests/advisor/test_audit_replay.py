"""Replay of audit records: bit-identical for every engine and model family, refusals, CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from advisor.audit import AuditRecord, AuditStore, ReplayReport, replay
from advisor.audit._record import reference_sha256
from advisor.cli import app as cli
from advisor.datasets import make_demo_portfolio
from advisor.errors import AdvisorError
from advisor.levers import Advisor, Status
from advisor.models import load_bundle, save_bundle, train
from counterfactuals import ENGINES
from tests.conftest import DEMO_TEST_CLIENTS, REPO_ROOT

runner = CliRunner()
FAMILIES = ("logistic", "xgboost", "mlp")
# what each engine serves (ExactEngine.supports: trees or linear; GradientEngine: torch)
SERVES = {"exact": {"logistic", "xgboost"}, "gradient": {"mlp"}}
N_TRIED = 6  # clients tried for one with levers


@pytest.fixture(scope="module")
def clients() -> pd.DataFrame:
    """600 demo clients without life insurance, indexed by client id."""
    found = make_demo_portfolio(n_clients=900, seed=3)
    found = found.loc[~found["has_life_insurance"]].set_index("client_id", drop=False)
    found.index.name = None
    return found


@pytest.fixture(scope="module")
def bundle_of(
    clients: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, int], Path]:
    """Train (once) a one-trial bundle of a family with a seed: life-insurance take-up."""
    made: dict[tuple[str, int], Path] = {}

    def build(family: str, seed: int = 0) -> Path:
        if (family, seed) not in made:
            result = train(
                clients,
                "take_life_insurance",
                REPO_ROOT / "configs" / "demo-portfolio.yaml",
                families=(family,),
                n_trials=1,
                budget_s=None,
                n_folds=2,
                seed=seed,
            )
            folder = tmp_path_factory.mktemp(f"{family}-{seed}") / "bundle"
            made[family, seed] = save_bundle(result, folder)
        return made[family, seed]

    return build


def _advisor(bundle: Path, clients: pd.DataFrame, store: AuditStore, **options: Any) -> Advisor:
    # no time limit: a search cut by the clock is not reproducible (docs/audit.md)
    options = {"engine": "search", "time_limit_s": None, "goal_quantile": 0.75, **options}
    return Advisor.from_bundle(load_bundle(bundle), clients, audit=store, **options)


def _recorded_with_levers(advisor: Advisor, store: AuditStore) -> AuditRecord:
    """The record of the first of the clients with levers."""
    assert advisor.reference is not None
    for client_id in advisor.reference.index[:N_TRIED]:
        advice = advisor.advise(str(client_id), n_levers=2)
        if advice.status is Status.FOUND:
            return store.records()[-1]
    pytest.fail(f"{advisor.engine}: no lever for the first {N_TRIED} clients")


# every pair an engine serves (the pairs left out are refused: see the test after)
SERVED_PAIRS = [
    (engine, family)
    for engine in ("auto", *sorted(ENGINES))
    for family in FAMILIES
    if engine not in SERVES or family in SERVES[engine]
]


@pytest.mark.parametrize(("engine", "family"), SERVED_PAIRS)
def test_replay_is_bit_identical_for_every_engine_and_family(
    engine: str,
    family: str,
    bundle_of: Callable[[str, int], Path],
    clients: pd.DataFrame,
    tmp_path: Path,
) -> None:
    store = AuditStore(tmp_path / "audit.sqlite")
    advisor = _advisor(bundle_of(family, 0), clients, store, engine=engine)
    record = _recorded_with_levers(advisor, store)
    report = replay(store.get(record.id), reference=clients)
    assert report == ReplayReport(record_id=record.id, identical=True, differences=())
    assert report.text() == "identical"
    assert record.payload["levers"]
    assert record.payload["options"]["engine"] == engine


def test_an_engine_refuses_the_family_it_does_not_serve(
    bundle_of: Callable[[str, int], Path], clients: pd.DataFrame, tmp_path: Path
) -> None:
    """The skips above are real: exact refuses an MLP (no trees, no linear margin)."""
    advisor = _advisor(
        bundle_of("mlp", 0), clients, AuditStore(tmp_path / "a.sqlite"), engine="exact"
    )
    with pytest.raises(ValueError, match="exact engine"):
        advisor.advise(str(_first_below_goal(advisor)))


def _first_below_goal(advisor: Advisor) -> str:
    """A client whose advice needs a search (below the goal, product not held)."""
    assert advisor.reference is not None
    product = advisor.products[0]
    for client_id in advisor.reference.index:
        if advisor.scores(str(client_id)).iloc[0] < advisor.goal_for(product):
            return str(client_id)
    pytest.fail("every client reaches the goal")


@pytest.fixture(scope="module")
def logistic_record(
    bundle_of: Callable[[str, int], Path],
    clients: pd.DataFrame,
    tmp_path_factory: pytest.TempPathFactory,
) -> AuditRecord:
    store = AuditStore(tmp_path_factory.mktemp("audit") / "audit.sqlite")
    return _recorded_with_levers(_advisor(bundle_of("logistic", 0), clients, store), store)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_bundle_is_refused_naming_the_model_card(
    logistic_record: AuditRecord,
    bundle_of: Callable[[str, int], Path],
    clients: pd.DataFrame,
) -> None:
    recorded, other = bundle_of("logistic", 0), bundle_of("logistic", 1)
    old, new = _sha(recorded / "model_card.json"), _sha(other / "model_card.json")
    assert old != new
    message = (
        f"replay: the bundle has changed since record {logistic_record.id}: model_card.json "
        f"sha256 {old[:12]}.. now {new[:12]}.. ({other})."
    )
    with pytest.raises(AdvisorError, match=rf"^{_escaped(message)}$"):
        replay(logistic_record, reference=clients, bundle=other)


def test_an_edited_constraint_file_is_refused_naming_it(
    logistic_record: AuditRecord,
    bundle_of: Callable[[str, int], Path],
    clients: pd.DataFrame,
    tmp_path: Path,
) -> None:
    copy = shutil.copytree(bundle_of("logistic", 0), tmp_path / "bundle")
    rules = copy / "constraints.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    with pytest.raises(AdvisorError, match=r"^replay: .*constraints\.yaml") as caught:
        replay(logistic_record, reference=clients, bundle=copy)
    assert "\n" not in str(caught.value)


def test_a_recorded_constraint_hash_that_differs_is_refused_naming_the_file(
    logistic_record: AuditRecord, clients: pd.DataFrame
) -> None:
    payload = json.loads(json.dumps(logistic_record.payload))
    recorded = payload["provenance"]["constraints_sha256"]
    payload["provenance"]["constraints_sha256"] = "ab" * 32
    tampered = dataclasses.replace(logistic_record, payload=payload)
    message = (
        f"replay: the constraint file has changed since record {logistic_record.id}: "
        f"constraints.yaml sha256 abababababab.. now {recorded[:12]}.."
    )
    with pytest.raises(AdvisorError, match=rf"^{_escaped(message)} \(.*\)\.$"):
        replay(tampered, reference=clients)


def test_changed_reference_data_are_refused(
    logistic_record: AuditRecord, clients: pd.DataFrame
) -> None:
    ages = clients["age"].to_numpy().copy()
    ages[5] += 1
    changed = clients.assign(age=ages)
    reordered = clients.iloc[::-1]
    recorded = logistic_record.payload["provenance"]["reference_sha256"]
    for frame in (changed, reordered):
        message = (
            f"replay: the reference data have changed since record {logistic_record.id}: "
            f"sha256 {recorded[:12]}.. now {reference_sha256(frame)[:12]}.."
        )
        with pytest.raises(AdvisorError, match=rf"^{_escaped(message)}$"):
            replay(logistic_record, reference=frame)


def test_a_tampered_payload_gives_its_differences(
    logistic_record: AuditRecord, clients: pd.DataFrame
) -> None:
    payload = json.loads(json.dumps(logistic_record.payload))
    true_score = payload["levers"][0]["score_after"]
    payload["levers"][0]["score_after"] = true_score - 0.01
    payload["levers"][0]["actions"][0]["text"]["en"] = "Do nothing"
    payload["goal"] = 0.5
    tampered = dataclasses.replace(logistic_record, payload=payload)
    report = replay(tampered, reference=clients)
    assert not report.identical
    goal, text, score = report.differences  # in the record's key order, each once
    assert goal == f"goal 0.5 -> {logistic_record.payload['goal']!r}"
    assert score == f"lever 1: score_after {true_score - 0.01!r} -> {true_score!r}"
    shown = logistic_record.payload["levers"][0]["actions"][0]["text"]["en"]
    assert text.startswith(f'lever 1: action 1: text: en "Do nothing" -> "{shown[:30]}')
    assert report.text() == "\n".join(report.differences)


def test_a_record_without_a_bundle_needs_one(
    bundle_of: Callable[[str, int], Path], clients: pd.DataFrame, tmp_path: Path
) -> None:
    built = Advisor.from_bundle(load_bundle(bundle_of("logistic", 0)), clients)
    store = AuditStore(tmp_path / "audit.sqlite")
    direct = Advisor(built.model, built.constraints, reference=clients, audit=store)
    direct.advise(str(clients.index[0]))
    record = store.get(1)
    with pytest.raises(
        AdvisorError, match=r"^replay: record 1 names no bundle .*\(--bundle DIR\)\.$"
    ):
        replay(record, reference=clients)


def _escaped(text: str) -> str:
    return re.escape(text)


# ---------------------------------------------------------------- the command line
@pytest.fixture
def demo_cli_env(demo_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERS_DEMO_BUNDLE", str(demo_bundle))
    monkeypatch.setenv("LEVERS_DEMO_CLIENTS", str(DEMO_TEST_CLIENTS))
    monkeypatch.delenv("LEVERS_DEMO_SEED", raising=False)


def test_the_cli_round_trip_advise_show_replay_is_identical(
    demo_cli_env: None, tmp_path: Path
) -> None:
    advised = runner.invoke(cli, ["advise", "C0000001", "--json", "--lang", "fr"])
    assert advised.exit_code == 0, advised.output
    record_id = json.loads(advised.stdout)["audit_record"]
    assert isinstance(record_id, int)
    shown = runner.invoke(cli, ["audit", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    listed = {r["id"]: r for r in json.loads(shown.stdout)}
    payload = listed[record_id]["payload"]
    assert (payload["client_id"], payload["language"]) == ("C0000001", "fr")
    assert payload["provenance"]["reference"]["source"] == (
        f"demo:n_clients={DEMO_TEST_CLIENTS},seed=0"
    )
    replayed = runner.invoke(cli, ["audit", "replay", str(record_id)])
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout.splitlines()[0] == f"record {record_id}: identical"
    # other data: refused in one line (exit 2)
    other = tmp_path / "other.csv"
    make_demo_portfolio(n_clients=50, seed=9).to_csv(other, index=False)
    refused = runner.invoke(cli, ["audit", "replay", str(record_id), "--data", str(other)])
    assert refused.exit_code == 2, refused.output
    assert refused.output.startswith("error: replay: the reference data have changed")
    assert len(refused.output.strip().splitlines()) == 1
    # a record that says otherwise: its differences (exit 1)
    tampered = json.loads(json.dumps(payload))
    tampered["score"] = 0.123
    other_store = AuditStore(tmp_path / "tampered.sqlite")
    other_store.append(tampered)
    differs = runner.invoke(
        cli, ["audit", "replay", "1", "--audit", str(tmp_path / "tampered.sqlite")]
    )
    assert differs.exit_code == 1, differs.output
    assert differs.stdout.splitlines()[:2] == [
        "record 1: 1 difference",
        f"  score 0.123 -> {payload['score']!r}",
    ]


def test_levers_advise_records_nothing_when_the_audit_is_off(
    demo_cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEVERS_AUDIT", "off")
    advised = runner.invoke(cli, ["advise", "C0000001", "--json"])
    assert advised.exit_code == 0, advised.output
    assert json.loads(advised.stdout)["audit_record"] is None
    table = runner.invoke(cli, ["advise", "C0000001"])
    assert "recorded as audit record" not in table.output


def test_a_record_with_a_hashed_id_replays(
    bundle_of: Callable[[str, int], Path], clients: pd.DataFrame, tmp_path: Path
) -> None:
    store = AuditStore(tmp_path / "hashed.sqlite", hash_client_ids=True)
    record = _recorded_with_levers(_advisor(bundle_of("logistic", 0), clients, store), store)
    assert record.payload["client_id"].startswith("sha256:")
    assert replay(record, reference=clients).identical


def test_a_cli_record_read_from_a_file_replays_from_that_file(
    bundle_of: Callable[[str, int], Path], clients: pd.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "clients.csv"
    clients.to_csv(data, index=False)
    bundle = bundle_of("logistic", 0)
    advised = runner.invoke(
        cli,
        ["advise", str(clients.index[1]), "--bundle", str(bundle), "--data", str(data), "--json"],
    )
    assert advised.exit_code == 0, advised.output
    record_id = json.loads(advised.stdout)["audit_record"]
    source = AuditStore(os.environ["LEVERS_AUDIT"]).get(record_id).payload["provenance"]
    assert source["reference"]["source"] == str(data)
    replayed = runner.invoke(cli, ["audit", "replay", str(record_id)])
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout.startswith(f"record {record_id}: identical")
    data.write_text(data.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # same rows
    assert runner.invoke(cli, ["audit", "replay", str(record_id)]).exit_code == 0
    clients.iloc[::-1].to_csv(data, index=False)  # the rows in another order
    refused = runner.invoke(cli, ["audit", "replay", str(record_id)])
    assert refused.exit_code == 2, refused.output
    assert "the reference data have changed" in refused.output


def test_a_search_cut_by_the_clock_is_recorded_and_its_replay_says_why_it_may_differ(
    bundle_of: Callable[[str, int], Path], clients: pd.DataFrame, tmp_path: Path
) -> None:
    """A deadline long past before the search starts always stops it: the record says so."""
    store = AuditStore(tmp_path / "audit.sqlite")
    advisor = _advisor(bundle_of("logistic", 0), clients, store, time_limit_s=1e-9)
    advisor.advise(_first_below_goal(advisor))
    record = store.records()[-1]
    assert record.payload["search"]["timed_out"] is True
    report = replay(record, reference=clients)
    assert any("stopped by its time limit (at record time and now)" in n for n in report.notes)
    untimed = _advisor(bundle_of("logistic", 0), clients, store)
    untimed.advise(_first_below_goal(untimed))
    assert store.records()[-1].payload["search"]["timed_out"] is False
