"""The out-of-distribution guard: far clients and far lever results are flagged, in plain words.

Oracles: the engines' own distance (:func:`counterfactuals.metrics.proximity`) computed here
client by client gives the threshold (the 99th percentile of each reference client's mean
distance to its 10 nearest others); a value 100 times the data's maximum is far by
construction; the share of reference clients flagged is counted directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli import app
from advisor.errors import AdvisorError
from advisor.levers import (
    OOD_NEIGHBOURS,
    OOD_QUANTILE,
    Advisor,
    OodGuard,
    OutOfDistribution,
    fit_ood_guard,
)
from constraints import ConstraintSet, parse_constraints
from counterfactuals.metrics import proximity
from tests.conftest import DEMO_TEST_CLIENTS, REPO_ROOT

RULES = """\
name: ood-test
features:
  age: {kind: integer, role: immutable, label: {en: Age, fr: Âge}}
  region: {kind: categorical, categories: [north, south, east], role: immutable}
  income: {kind: continuous, role: context, label: {en: Monthly income, fr: Revenu mensuel}}
  savings: {kind: continuous, role: actionable, label: {en: Savings, fr: Épargne}}
  has_card: {kind: binary, role: actionable}
"""


def _clients(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "region": rng.choice(["north", "south", "east"], n),
            "income": rng.normal(2_500.0, 600.0, n).round(0),
            "savings": rng.gamma(2.0, 2_000.0, n).round(0),
            "has_card": rng.random(n) < 0.4,
        }
    )


@pytest.fixture(scope="module")
def clients() -> pd.DataFrame:
    return _clients(600)


@pytest.fixture(scope="module")
def rules(clients: pd.DataFrame) -> ConstraintSet:
    return parse_constraints(RULES, clients)


@pytest.fixture(scope="module")
def guard(clients: pd.DataFrame, rules: ConstraintSet) -> OodGuard:
    fitted = fit_ood_guard(rules, clients, seed=0)
    assert fitted is not None
    return fitted


def _own_distances(cs: ConstraintSet, frame: pd.DataFrame) -> np.ndarray:
    """Each client's mean distance to its 10 nearest others, with the engines' distance."""
    codes = cs.to_array(frame)
    own = []
    for i in range(len(codes)):
        distances = np.sort(proximity(cs, codes[i], codes))[1:]  # itself first, at 0
        own.append(distances[:OOD_NEIGHBOURS].mean())
    return np.asarray(own)


def test_the_threshold_is_the_99th_percentile_of_the_reference_clients_own_distance(
    clients: pd.DataFrame, rules: ConstraintSet
) -> None:
    guard = fit_ood_guard(rules, clients, seed=0)
    assert guard is not None
    own = _own_distances(rules, clients)
    assert guard.threshold == pytest.approx(np.quantile(own, OOD_QUANTILE), rel=1e-9)
    assert guard.measure(rules.to_array(clients.iloc[:50]))[0] == pytest.approx(
        # a reference client measured as a new point counts itself (distance 0) among 10
        [
            np.sort(proximity(rules, c, rules.to_array(clients)))[:OOD_NEIGHBOURS].mean()
            for c in rules.to_array(clients.iloc[:50])
        ],
        rel=1e-9,
    )
    flagged = float((own > guard.threshold).mean())
    assert flagged <= 0.02  # the 99th percentile: about 1 in 100


def test_ordinary_clients_of_the_demo_and_german_credit_are_flagged_at_about_1_percent(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet, german_data: pd.DataFrame
) -> None:
    from constraints import load_constraints

    german = load_constraints(REPO_ROOT / "configs" / "german-credit.yaml", german_data)
    for cs, frame in ((model_constraints, model_clients), (german, german_data)):
        features = frame[list(cs.feature_names)]
        order = np.random.default_rng(0).permutation(len(features))
        cut = int(0.8 * len(features))
        guard = fit_ood_guard(cs, features.iloc[order[:cut]], seed=0)
        assert guard is not None
        reference = guard.measure(cs.to_array(features.iloc[order[:cut]]))[0]
        held_out = guard.measure(cs.to_array(features.iloc[order[cut:]]))[0]
        # counted directly: reference clients (measured with themselves among their
        # neighbours) and new clients held out of the reference
        assert float((reference > guard.threshold).mean()) <= 0.02
        assert float((held_out > guard.threshold).mean()) <= 0.03


def test_a_client_far_outside_is_flagged_and_the_feature_named_in_both_languages(
    clients: pd.DataFrame, rules: ConstraintSet
) -> None:
    guard = fit_ood_guard(rules, clients, seed=0)
    assert guard is not None
    client = clients.iloc[[3]].copy()
    typical = guard.check(client, [])
    client["income"] = clients["income"].max() * 100
    far = guard.check(client, [])
    assert not typical.client
    assert typical.reason is None
    assert typical.features == ()
    assert far.client
    assert far.distance > far.threshold
    assert far.features[0] == "income"
    assert far.reason is not None
    assert "unlike the clients the model learned from" in far.reason["en"]
    assert "Monthly income above any of them" in far.reason["en"]
    assert "Revenu mensuel au-dessus de tous" in far.reason["fr"]
    low = clients.iloc[[3]].assign(savings=-clients["savings"].max() * 100)
    assert "Savings below any of them" in (guard.check(low, []).reason_text("en") or "")


@pytest.mark.parametrize("value", [1e308, np.inf, -np.inf])
def test_huge_and_infinite_values_are_far_with_a_finite_measure(
    clients: pd.DataFrame, rules: ConstraintSet, value: float
) -> None:
    guard = fit_ood_guard(rules, clients, seed=0)
    assert guard is not None
    client = clients.iloc[[3]].assign(income=value)
    verdict = guard.check(client, [])
    assert verdict.client
    assert np.isfinite(verdict.distance)
    assert verdict.features == ("income",)
    json.dumps(verdict.to_dict(), allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    row=st.integers(0, 599),
    feature=st.sampled_from(["age", "income", "savings"]),
    steps=st.tuples(st.floats(0, 1e6), st.floats(0, 1e6)).map(sorted),
)
def test_moving_a_number_further_beyond_the_data_never_brings_it_closer(
    clients: pd.DataFrame, guard: OodGuard, row: int, feature: str, steps: list[float]
) -> None:
    top = float(clients[feature].max())
    near, far = (clients.iloc[[row]].assign(**{feature: top + step}) for step in steps)
    verdict_near, verdict_far = guard.check(near, []), guard.check(far, [])
    assert verdict_near.distance <= verdict_far.distance + 1e-9
    assert verdict_far.client or not verdict_near.client  # far stays far further out


def test_a_lever_whose_result_lands_far_out_is_flagged_and_not_the_others(
    clients: pd.DataFrame, rules: ConstraintSet
) -> None:
    guard = fit_ood_guard(rules, clients, seed=0)
    assert guard is not None
    client = clients.iloc[[5]]
    row = client.iloc[0].to_dict()
    near = {**row, "has_card": not row["has_card"]}
    far = {**row, "savings": clients["savings"].max() * 100}
    verdict = guard.check(client, [near, far])
    assert verdict.levers == (False, True)
    assert verdict.lever_features == ((), ("savings",))
    assert verdict.lever_text(1) is None
    assert "After this lever" in (verdict.lever_text(2) or "")
    assert "Après ce levier" in (verdict.lever_text(2, "fr") or "")
    assert verdict.any_far
    assert not verdict.client


def test_same_seed_same_verdict_and_too_few_clients_give_none(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    # 3,000 clients: the threshold is measured on a seeded sample of 2,000
    first = fit_ood_guard(model_constraints, model_clients, seed=7)
    again = fit_ood_guard(model_constraints, model_clients, seed=7)
    assert first is not None
    assert again is not None
    assert first.threshold == again.threshold
    points = model_constraints.to_array(
        model_clients.iloc[:200][list(model_constraints.feature_names)]
    )
    assert np.array_equal(first.measure(points)[0], again.measure(points)[0])
    assert fit_ood_guard(model_constraints, model_clients.iloc[:29], seed=0) is None


def test_a_missing_value_is_measured_not_refused() -> None:
    text = RULES.replace("income: {kind: continuous,", "income: {kind: continuous, missing: keep,")
    frame = _clients(300)
    frame.loc[frame.index[::5], "income"] = np.nan
    cs = parse_constraints(text, frame)
    guard = fit_ood_guard(cs, frame, seed=0)
    assert guard is not None
    verdict = guard.check(frame.iloc[[0]], [frame.iloc[1].to_dict()])
    assert np.isfinite(verdict.distance)
    assert np.isfinite(verdict.lever_distances[0])


def test_the_verdict_refuses_inconsistent_data() -> None:
    with pytest.raises(AdvisorError, match=r"^lever_distances: must have one entry per lever"):
        OutOfDistribution(
            client=False,
            levers=(False,),
            distance=1.0,
            lever_distances=(),
            threshold=2.0,
            quantile=0.99,
            n_neighbours=10,
            lever_features=((),),
            lever_reasons=(None,),
        )
    with pytest.raises(AdvisorError, match=r"^reason: must be given exactly"):
        OutOfDistribution(
            client=True,
            levers=(),
            distance=3.0,
            lever_distances=(),
            threshold=2.0,
            quantile=0.99,
            n_neighbours=10,
        )
    with pytest.raises(AdvisorError, match=r"^reference: must hold every feature"):
        fit_ood_guard(parse_constraints(RULES, _clients(50)), _clients(50).drop(columns="age"))


# ---------------------------------------------------------------- the advisor and the CLI
def _far_client(advisor: Advisor) -> tuple[pd.DataFrame, str]:
    """A reference client with its first numeric feature 100 times the data's maximum."""
    reference = advisor.reference
    assert reference is not None
    feature = next(f.name for f in advisor.constraints.features if f.kind == "continuous")
    client = reference.iloc[[1]].copy()
    client[feature] = reference[feature].max() * 100
    return client, feature


def test_the_advice_carries_the_verdict_for_the_client_and_each_lever(demo_advisor: Any) -> None:
    assert demo_advisor.reference is not None
    for client_id in demo_advisor.reference.index[:6]:
        advice = demo_advisor.advise(client_id)
        assert advice.ood is not None
        assert len(advice.ood.levers) == len(advice.levers)
        guard = demo_advisor.ood_guard(advice.product)
        points = [advice.client.to_dict(), *(lever.values for lever in advice.levers)]
        cs = demo_advisor.product(advice.product).constraints
        distance = guard.measure(cs.to_array(pd.DataFrame(points)[list(cs.feature_names)]))[0]
        assert advice.ood.distance == pytest.approx(distance[0])
        assert advice.ood.lever_distances == pytest.approx(tuple(distance[1:]))
    client, feature = _far_client(demo_advisor)
    far = demo_advisor.advise(client)
    assert far.ood is not None
    assert far.ood.client
    assert far.ood.features[0] == feature
    no_reference = Advisor(demo_advisor.model, demo_advisor.constraints)
    assert no_reference.advise(client, product=far.product).ood is None


def test_the_audit_record_keeps_the_verdict_and_replay_finds_it_again(
    demo_bundle: Path, tmp_path: Path
) -> None:
    from advisor.audit import AuditStore, replay
    from advisor.levers import load_demo_advisor
    from advisor.models import DemoBundleSettings

    store = AuditStore(tmp_path / "audit.sqlite")
    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    audited = load_demo_advisor(settings, audit=store)[0]
    client, feature = _far_client(audited)
    advice = audited.advise(client)
    assert advice.ood is not None
    (record,) = store.records()
    ood = record.payload["ood"]
    assert ood["client"] is True
    assert ood["features"] == [feature]
    assert ood["reason"] == dict(advice.ood.reason or {})
    assert ood["threshold"] == advice.ood.threshold
    assert ood["distance"] == advice.ood.distance
    report = replay(record, reference=audited.reference)
    assert report.identical, report.differences


@pytest.fixture
def demo_env(demo_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERS_DEMO_BUNDLE", str(demo_bundle))
    monkeypatch.setenv("LEVERS_DEMO_CLIENTS", str(DEMO_TEST_CLIENTS))
    monkeypatch.delenv("LEVERS_DEMO_SEED", raising=False)
    monkeypatch.setenv("LEVERS_AUDIT", "off")


def test_levers_advise_says_the_client_is_far_in_text_and_json(
    demo_env: None, demo_advisor: Any
) -> None:
    client, feature = _far_client(demo_advisor)
    row = json.dumps(client.iloc[0].to_dict(), default=lambda v: v.item())
    runner = CliRunner()
    result = runner.invoke(app, ["advise", row])
    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())
    assert "caution: This client is unlike the clients the model learned from" in words
    label = demo_advisor.constraints.feature(feature).label.en
    assert f"{label} above any of them" in words
    french = runner.invoke(app, ["advise", row, "--lang", "fr", "--json"])
    assert french.exit_code == 0, french.output
    payload = json.loads(french.output)
    assert payload["ood"]["client"] is True
    assert payload["ood"]["features"][0] == feature
    assert "Ce client ne ressemble pas" in payload["ood"]["reason"]
    assert payload["ood"]["distance"] > payload["ood"]["threshold"]
    assert len(payload["ood"]["levers"]) == len(payload["levers"])
