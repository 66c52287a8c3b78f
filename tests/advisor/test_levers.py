"""Advisor.advise: levers in business words, ranked, deduplicated, verified; reasons otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.errors import AdvisorError
from advisor.levers import COST_TOLERANCE, Advice, Advisor, Status, load_demo_advisor
from advisor.models import DemoBundleSettings
from constraints import ConstraintSet
from tests.conftest import DEMO_TEST_CLIENTS


@pytest.fixture(scope="session")
def recommender_advisor(demo_bundle: Path) -> Advisor:
    """The demo recommender on 3,000 clients (one trial per product) with its portfolio."""
    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    advisor, _ = load_demo_advisor(settings)
    return advisor


@pytest.fixture(scope="session")
def advices(recommender_advisor: Advisor) -> list[Advice]:
    """Advice for the first 15 reference clients (product chosen by the advisor)."""
    assert recommender_advisor.reference is not None
    return [recommender_advisor.advise(i) for i in recommender_advisor.reference.index[:15]]


@pytest.fixture(scope="session")
def single_advisors(
    trained: dict[str, Any], model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> dict[str, Advisor]:
    """One single-model advisor per family (life insurance among non-holders)."""
    reference = model_clients.loc[~model_clients["has_life_insurance"]]
    return {
        family: Advisor(result.model, model_constraints, reference=reference, seed=0)
        for family, result in trained.items()
    }


def _check_levers(advisor: Advisor, advice: Advice) -> None:
    info = advisor.product(advice.product)
    frame = advice.client.to_frame().T.infer_objects()
    for lever in advice.levers:
        after = pd.DataFrame([dict(lever.values)])
        # the real model agrees, and the goal is met
        assert info.model.score(after)[0] == pytest.approx(
            lever.score_after, abs=1e-6
        )  # torch: float32 batches
        assert lever.score_after >= advice.goal - 1e-9
        assert lever.score_before == pytest.approx(advice.score, abs=1e-9)
        # every rule of the file holds, immutables untouched, the product itself not "opened"
        assert info.constraints.check(frame, after).ok[0]
        assert after["sex"].iloc[0] == frame["sex"].iloc[0]
        if info.held is not None:
            assert all(a.feature != info.held for a in lever.actions)
        # words: the file's templates, in both languages, one per change
        for action in lever.actions:
            for lang in ("en", "fr"):
                expected = info.constraints.lever_text(
                    action.feature, action.before, action.after, lang
                )
                assert action.describe(lang) == expected
        assert lever.n_changes >= len(lever.steps) >= 1
        assert lever.support is None or 0.0 <= lever.support <= 1.0
    ranks = [lever.rank for lever in advice.levers]
    assert ranks == list(range(1, len(ranks) + 1))
    for first, later in zip(advice.levers, advice.levers[1:], strict=False):
        assert first.cost <= later.cost + COST_TOLERANCE  # never before a much cheaper lever
    plans = [tuple(sorted(a.describe("en") for a in lv.steps)) for lv in advice.levers]
    assert len(set(plans)) == len(plans)


def test_recommender_levers_are_verified_ranked_and_worded(
    recommender_advisor: Advisor, advices: list[Advice]
) -> None:
    with_levers = [a for a in advices if a.status is Status.FOUND]
    assert len(with_levers) >= 5
    for advice in with_levers:
        _check_levers(recommender_advisor, advice)
        assert not recommender_advisor.holds(advice.client.to_frame().T, advice.product)
        assert 1 <= len(advice.levers) <= 3
        fr = advice.levers[0].describe("fr")
        assert fr != advice.levers[0].describe("en")


def test_no_lever_comes_with_a_reason_in_both_languages(advices: list[Advice]) -> None:
    for advice in advices:
        if advice.status is Status.FOUND:
            assert advice.reason is None
            continue
        assert not advice.levers
        en, fr = advice.reason_text("en"), advice.reason_text("fr")
        assert en
        assert fr
        assert en != fr
        assert advice.product_label["en"] in en
        assert "lever" in en.lower() or "no lever" in en.lower()


@pytest.mark.parametrize("family", ["logistic", "xgboost", "mlp"])
def test_single_model_levers_for_every_family(
    single_advisors: dict[str, Advisor], model_clients: pd.DataFrame, family: str
) -> None:
    advisor = single_advisors[family]
    clients = model_clients.loc[~model_clients["has_life_insurance"]].head(8)
    found = 0
    for _, row in clients.iterrows():
        advice = advisor.advise(row)
        assert advice.product == "take_life_insurance"
        _check_levers(advisor, advice)
        found += advice.status is Status.FOUND
    assert found >= 2


def test_advice_is_deterministic(recommender_advisor: Advisor) -> None:
    assert recommender_advisor.reference is not None
    client = recommender_advisor.reference.index[1]
    first = recommender_advisor.advise(client, n_levers=3)
    again = recommender_advisor.advise(client, n_levers=3)
    pd.testing.assert_frame_equal(first.to_frame("fr"), again.to_frame("fr"))


def test_a_held_product_needs_no_lever(recommender_advisor: Advisor) -> None:
    reference = recommender_advisor.reference
    assert reference is not None
    holder = reference.index[reference["has_savings_account"].astype(bool)][0]
    advice = recommender_advisor.advise(holder, product="savings_account")
    assert advice.status is Status.REACHED
    assert advice.reason_text("en") == "The client already holds Savings account."
    assert advice.reason_text("fr") == "Le client détient déjà Compte d'épargne."


def test_goal_asks_for_a_real_uplift(recommender_advisor: Advisor, advices: list[Advice]) -> None:
    for advice in advices:
        if advice.status is Status.FOUND:
            base = recommender_advisor.goal_for(advice.product)
            assert advice.goal == pytest.approx(max(base, advice.score + 0.03))


def test_what_if_rescores_and_rechecks(recommender_advisor: Advisor, advices: list[Advice]) -> None:
    advice = next(a for a in advices if a.status is Status.FOUND)
    client = advice.client.to_frame().T.infer_objects()
    lever = advice.levers[0]
    changes = {a.feature: a.after for a in lever.steps}
    result = recommender_advisor.what_if(client, changes, product=advice.product)
    assert result.feasible
    assert not result.problems
    assert result.score_after == pytest.approx(lever.score_after, abs=1e-9)
    assert result.cost == pytest.approx(lever.cost)
    assert {a.feature for a in result.actions} == {a.feature for a in lever.actions}
    silly = recommender_advisor.what_if(
        client, {"monthly_savings_transfer": 1e6}, product=advice.product
    )
    assert not silly.feasible
    assert any("monthly_savings_transfer" in p for p in silly.problems)


def test_what_if_recomputes_derived_features(recommender_advisor: Advisor) -> None:
    reference = recommender_advisor.reference
    assert reference is not None
    client = reference.loc[~reference["has_premium_card"].astype(bool)].iloc[[0]]
    result = recommender_advisor.what_if(
        client, {"has_premium_card": True}, product="life_insurance"
    )
    derived = {a.feature: a for a in result.actions}
    assert derived["n_products"].after == client["n_products"].iloc[0] + 1
    assert derived["n_products"].consequence


def test_controls_only_offer_allowed_values(recommender_advisor: Advisor) -> None:
    reference = recommender_advisor.reference
    assert reference is not None
    client = reference.iloc[[3]]
    controls = recommender_advisor.controls(client, product="life_insurance")
    by_name = {c.feature: c for c in controls}
    assert not by_name["sex"].movable
    assert by_name["sex"].reason is not None
    assert by_name["has_life_insurance"].movable is False  # the product aimed at is the goal
    assert not by_name["n_products"].movable
    for control in controls:
        if control.widget == "number":
            assert control.low is not None
            assert control.high is not None
            assert control.low <= control.value <= control.high
        else:
            assert control.options[0] == control.value
        if control.movable:
            # every allowed value passes the file's checks on its own
            values = [control.low, control.high] if control.widget == "number" else control.options
            for value in values:
                outcome = recommender_advisor.what_if(
                    client, {control.feature: value}, product="life_insurance"
                )
                assert outcome.feasible, (control.feature, value, outcome.problems)


def test_evidence_similar_clients_share_immutables_and_took_the_product(
    recommender_advisor: Advisor, advices: list[Advice]
) -> None:
    advice = next(a for a in advices if a.status is Status.FOUND)
    evidence = recommender_advisor.evidence(advice, advice.levers[0], k=5)
    assert evidence.similar is not None
    assert len(evidence.similar) == 5
    assert evidence.similar["outcome"].all()
    assert (evidence.similar["sex"] == advice.client["sex"]).all()
    assert np.all(np.diff(evidence.similar["distance"].to_numpy()) >= 0)
    assert "client_id" not in evidence.similar.columns
    assert evidence.support == advice.levers[0].support
    today = recommender_advisor.evidence(advice, k=5)
    assert today.support == advice.support
    assert advice.support is not None
    assert 0.0 <= advice.support <= 1.0


def test_bad_inputs_get_clear_errors(recommender_advisor: Advisor) -> None:
    reference = recommender_advisor.reference
    assert reference is not None
    client = reference.iloc[[0]]
    with pytest.raises(
        AdvisorError, match=r"^n_levers: must be a whole number from 1 to 10\. Got 0\.$"
    ):
        recommender_advisor.advise(client, n_levers=0)
    with pytest.raises(
        AdvisorError, match=r"^product: must be one of .*savings_account.*\. Got 'yacht'\.$"
    ):
        recommender_advisor.advise(client, product="yacht")
    with pytest.raises(
        AdvisorError,
        match=r"^client: must give every feature of the constraint file\. Got none for age",
    ):
        recommender_advisor.advise({"sex": "male"})
    with pytest.raises(AdvisorError, match=r"^client: must be exactly one client\. Got 2 rows\.$"):
        recommender_advisor.advise(reference.iloc[:2])
    with pytest.raises(AdvisorError, match=r"^language: must be one of en, fr\. Got 'de'\.$"):
        recommender_advisor.product_label("life_insurance", "de")
    with pytest.raises(
        AdvisorError, match=r"^changes: must name features of the constraint file\. Got wings\.$"
    ):
        recommender_advisor.what_if(client, {"wings": 2}, product="life_insurance")
    with pytest.raises(
        AdvisorError, match=r"^goal: must be a probability in \(0, 1\) or None\. Got 1\.5\.$"
    ):
        Advisor(recommender_advisor.model, recommender_advisor.constraints, goal=1.5)


def test_bundle_without_its_training_data_says_influence_is_unavailable(
    recommender_advisor: Advisor, tmp_path: Path
) -> None:
    reference = recommender_advisor.reference
    assert reference is not None
    other = Advisor(
        recommender_advisor.model,
        recommender_advisor.constraints,
        reference=reference.iloc[::2],
        training_seed=0,
        training_hashes=dict.fromkeys(recommender_advisor.products, "0" * 64),
    )
    advice = other.advise(reference.index[0])
    evidence = other.evidence(advice)
    assert evidence.influential is None
    assert evidence.note is not None
    assert "training data" in evidence.note["en"]
    assert "sha256" in evidence.note["en"]  # the reason found is kept, not a bare None


def test_numpy_scalars_are_accepted_like_python_ones(recommender_advisor: Advisor) -> None:
    advisor = Advisor(
        recommender_advisor.model,
        recommender_advisor.constraints,
        seed=np.int64(0),  # type: ignore[arg-type]  # numpy scalars are accepted
        time_limit_s=np.float64(5.0),
        n_neighbours=np.int32(50),  # type: ignore[arg-type]
    )
    assert (advisor.seed, advisor.n_neighbours) == (0, 50)
    assert type(advisor.seed) is int
    with pytest.raises(
        AdvisorError,
        match=r"^time_limit_s: must be a finite number of seconds in \(0, 86400\] or None\. ",
    ):
        Advisor(recommender_advisor.model, recommender_advisor.constraints, time_limit_s=np.nan)


def test_concurrent_evidence_requests_share_one_fit_and_see_influence(demo_bundle: Path) -> None:
    """Many app sessions asking at once: one fit per product, nobody sees a placeholder."""
    import threading

    settings = DemoBundleSettings(out=demo_bundle, n_clients=DEMO_TEST_CLIENTS)
    advisor, _ = load_demo_advisor(settings)  # a fresh advisor: nothing fitted yet
    assert advisor.reference is not None
    advice = next(
        a
        for a in (advisor.advise(i) for i in advisor.reference.index[:30])
        if a.status is Status.FOUND
    )
    barrier = threading.Barrier(6)
    results: list[Any] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            barrier.wait()
            results.append(advisor.evidence(advice))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 6
    assert all(r.influential is not None for r in results), [r.note for r in results]
    first = results[0].influential
    for other in results[1:]:
        pd.testing.assert_frame_equal(other.influential, first)
    fitted = advisor.influence(advice.product)
    assert all(advisor.influence(advice.product) is fitted for _ in range(3))


def test_no_lever_reason_says_what_blocks_in_plain_words(
    recommender_advisor: Advisor,
) -> None:
    from advisor.levers._wording import no_lever_reason
    from counterfactuals import CounterfactualResult, Target

    result = CounterfactualResult(
        query={},
        target=Target.probability(0.118),
        counterfactuals=(),
        status=Status.NONE,
        engine="exact",
        reason="No lever exists within these constraints (exact engine, proved): ...",
        best_score=0.093,
        binding=("direction:overdraft_days_per_month", "context:monthly_income", "max_changes"),
    )
    cs = recommender_advisor.constraints
    label = {"en": "Consumer loan", "fr": "Crédit à la consommation"}
    reason = no_lever_reason(cs, label, result)
    assert reason["en"] == (
        "No lever within the constraint file reaches the goal for Consumer loan (11.8\u202f%). "
        "The best the client can reach is 9.3\u202f%. What blocks it: Overdrawn days per month "
        "may only move down; a lever may change at most 3 things at once. It also depends on "
        "the client's situation (context, not an action): Net monthly income."
    )
    assert reason["fr"] == (
        "Aucun levier permis par le fichier de contraintes n'atteint l'objectif pour Crédit à "
        "la consommation (11,8\u202f%). Le mieux que le client puisse atteindre est 9,3\u202f%. "
        "Ce qui bloque : Jours à découvert par mois ne peut évoluer qu'à la baisse ; un levier "
        "ne peut changer que 3 éléments à la fois. Cela dépend aussi de la situation du client "
        "(contexte, pas une action) : Revenu mensuel net."
    )


def test_evidence_influential_clients_come_from_the_training_rows(
    recommender_advisor: Advisor, advices: list[Advice]
) -> None:
    advice = next(a for a in advices if a.status is Status.FOUND)
    evidence = recommender_advisor.evidence(advice, k=5)
    table = evidence.influential
    assert table is not None
    assert evidence.note is None
    assert evidence.method
    raised = table[table["direction"] == "raised"]
    lowered = table[table["direction"] == "lowered"]
    assert len(raised) == 5
    assert len(lowered) == 5
    assert (raised["influence"] > 0).all()
    assert (lowered["influence"] < 0).all()
    assert list(raised["influence"]) == sorted(raised["influence"], reverse=True)
    assert "client_id" not in table.columns
    population = recommender_advisor.population(advice.product)
    assert population is not None
    features = list(recommender_advisor.constraints.feature_names)
    merged = table[features].merge(
        population.frame[features].drop_duplicates(), how="left", indicator=True
    )
    assert (merged["_merge"] == "both").all()


def test_a_single_model_bundle_gets_its_influential_clients(
    model_clients: pd.DataFrame, tmp_path: Path
) -> None:
    from advisor.models import load_bundle, save_bundle, train
    from tests.conftest import REPO_ROOT

    clients = model_clients.loc[~model_clients["has_life_insurance"]].set_index("client_id")
    result = train(
        clients,
        "take_life_insurance",
        REPO_ROOT / "configs" / "demo-portfolio.yaml",
        families=("logistic",),
        n_trials=1,
        budget_s=None,
        n_folds=3,
        seed=0,
    )
    bundle = load_bundle(save_bundle(result, tmp_path / "single"))
    advisor = Advisor.from_bundle(bundle, clients)
    assert advisor.products == ("take_life_insurance",)
    assert advisor.product_label("take_life_insurance") == "take life insurance: yes"
    assert advisor.product_label("take_life_insurance", "fr") == "take life insurance: oui"
    advice = next(
        a for a in (advisor.advise(i) for i in clients.index[:30]) if a.status is Status.FOUND
    )
    evidence = advisor.evidence(advice, advice.levers[0], k=3)
    assert evidence.influential is not None
    assert evidence.method is not None
    assert evidence.method.startswith("influence function (exact Hessian")
    assert len(evidence.influential) == 6


def test_the_demo_advisor_trains_its_bundle_when_missing(tmp_path: Path) -> None:
    settings = DemoBundleSettings(
        out=tmp_path / "missing",
        n_clients=1_000,
        n_trials=1,
        budget_s=60.0,
        families=("logistic",),
    )
    advisor, bundle = load_demo_advisor(settings)
    assert (tmp_path / "missing" / "model_card.json").is_file()
    assert bundle.card.kind == "recommender"
    assert advisor.reference is not None
    assert len(advisor.reference) == 1_000
    assert advisor.reference.index[0] == "C0000000"
