"""Campaigns: per-client answers, exclusions, segments, totals, errors and determinism.

The oracle is independent of the campaign's batching: each sampled client is searched alone
with :func:`counterfactuals.generate` (same target, seed and engine) and advised alone with
:meth:`Advisor.advise`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from advisor.campaigns import (
    COLUMNS,
    Campaign,
    CampaignError,
    CampaignResult,
    CampaignStatus,
)
from advisor.datasets import read_table
from advisor.levers import COST_TOLERANCE, Advisor
from advisor.models import load_bundle
from counterfactuals import Status, Target, generate

PRODUCT = "life_insurance"
N_CLIENTS = 150


@pytest.fixture(scope="module")
def advisor(demo_advisor: Advisor) -> Advisor:
    return demo_advisor


@pytest.fixture(scope="module")
def clients(advisor: Advisor) -> pd.DataFrame:
    """150 portfolio clients, a third of them opted out of direct marketing."""
    assert advisor.reference is not None
    frame = advisor.reference.iloc[:N_CLIENTS].copy()
    frame["opt_out"] = np.arange(len(frame)) % 3 == 0
    return frame


@pytest.fixture(scope="module")
def campaign(advisor: Advisor) -> Campaign:
    return Campaign.from_advisor(advisor, product=PRODUCT)


@pytest.fixture(scope="module")
def result(campaign: Campaign, clients: pd.DataFrame) -> CampaignResult:
    return campaign.run(clients, exclude="opt_out", n_levers=2)


def _status_of(found: Status, reason: str) -> set[CampaignStatus]:
    if found is Status.FOUND:
        return {CampaignStatus.LEVER}
    if found is Status.REACHED:
        return {CampaignStatus.REACHED}
    return {CampaignStatus.NONE_PROVED if "proved" in reason else CampaignStatus.NONE_NOT_FOUND}


def test_every_status_occurs_and_each_client_once(
    result: CampaignResult, clients: pd.DataFrame
) -> None:
    counts = result.status_counts()
    for status in (
        CampaignStatus.LEVER,
        CampaignStatus.NONE_PROVED,
        CampaignStatus.REACHED,
        CampaignStatus.EXCLUDED,
    ):
        assert counts[status] > 0, status
    assert [o.client for o in result.outcomes] == list(clients.index)


def test_results_equal_per_client_generate(
    result: CampaignResult, campaign: Campaign, clients: pd.DataFrame, advisor: Advisor
) -> None:
    info = advisor.product(PRODUCT)
    searched = [o for o in result.outcomes if o.status is not CampaignStatus.EXCLUDED]
    for outcome in searched[::4]:
        alone = generate(
            info.model,
            clients.loc[[outcome.client]],
            info.constraints,
            Target.probability(outcome.goal),
            n=5,
            engine=advisor.engine,
            seed=advisor.seed,
            time_limit_s=advisor.time_limit_s,
        )
        assert outcome.score == pytest.approx(alone.baseline_score, abs=1e-9)
        if advisor.holds(clients.loc[[outcome.client]], PRODUCT):
            assert outcome.status is CampaignStatus.REACHED
            assert not outcome.levers
            continue
        assert outcome.status in _status_of(alone.status, alone.reason), outcome.client
        if outcome.levers:
            cheapest = min(cf.cost for cf in alone.counterfactuals)
            top = outcome.levers[0]
            assert top.cost <= cheapest + COST_TOLERANCE + 1e-9
            match = [
                cf
                for cf in alone.counterfactuals
                if {c.feature: c.after for c in cf.changes}
                == {a.feature: a.after for a in top.actions}
            ]
            assert match
            assert top.score_after == pytest.approx(match[0].score, abs=1e-12)
            assert top.score_after >= outcome.goal


def test_results_agree_with_the_advisor(
    result: CampaignResult, clients: pd.DataFrame, advisor: Advisor
) -> None:
    """Clients far below the goal get the Advisor's target: same status, as cheap a lever."""
    uplift = advisor.min_uplift
    far = [
        o
        for o in result.outcomes
        if o.status is not CampaignStatus.EXCLUDED and o.score <= o.goal - uplift
    ]
    assert len(far) >= 10
    for outcome in far[::5]:
        advice = advisor.advise(clients.loc[[outcome.client]], product=PRODUCT, n_levers=1)
        assert advice.goal == pytest.approx(outcome.goal)
        expected = {Status.FOUND: "lever", Status.REACHED: "reached", Status.NONE: "none"}
        assert outcome.status.value.startswith(expected[advice.status])
        if advice.levers:
            assert abs(advice.levers[0].cost - outcome.levers[0].cost) <= COST_TOLERANCE + 1e-9


def test_clients_near_the_goal_aim_at_goal_plus_min_uplift(
    result: CampaignResult, advisor: Advisor
) -> None:
    goal = advisor.goal_for(PRODUCT)
    for outcome in result.outcomes:
        if outcome.status in {CampaignStatus.EXCLUDED, CampaignStatus.REACHED}:
            continue
        near = goal - advisor.min_uplift < outcome.score < goal
        expected = min(goal + advisor.min_uplift, 0.999) if near else goal
        assert outcome.goal == pytest.approx(expected)
        for lever in outcome.levers:
            assert lever.uplift >= advisor.min_uplift - 1e-12


def test_excluded_clients_are_counted_never_advised(
    result: CampaignResult, clients: pd.DataFrame
) -> None:
    opted = set(clients.index[clients["opt_out"]])
    for outcome in result.outcomes:
        if outcome.client in opted:
            assert outcome.status is CampaignStatus.EXCLUDED
            assert not outcome.levers
            assert math.isnan(outcome.score)
        else:
            assert outcome.status is not CampaignStatus.EXCLUDED
    assert result.totals.n_excluded == len(opted)
    frame = result.to_frame()
    excluded_rows = frame.loc[frame["client"].isin(opted)]
    assert (excluded_rows["actions_en"] == "").all()
    assert (excluded_rows["lever_rank"] == 0).all()


def test_exclude_mask_equals_exclude_column(
    campaign: Campaign, clients: pd.DataFrame, result: CampaignResult
) -> None:
    other = campaign.run(clients, exclude=clients["opt_out"].to_numpy(), n_levers=2)
    pd.testing.assert_frame_equal(other.to_frame(), result.to_frame())


def test_segment_query_and_mask_give_the_same_result(
    campaign: Campaign, clients: pd.DataFrame
) -> None:
    query = "age >= 40 and region in ['north', 'west'] or not salary_domiciled"
    mask = ((clients["age"] >= 40) & clients["region"].isin(["north", "west"])) | ~clients[
        "salary_domiciled"
    ]
    by_query = campaign.run(clients.iloc[:60], segment=query)
    by_mask = campaign.run(clients.iloc[:60], segment=mask.iloc[:60])
    pd.testing.assert_frame_equal(by_query.to_frame(), by_mask.to_frame())
    assert [o.client for o in by_query.outcomes] == list(clients.iloc[:60].index[mask.iloc[:60]])
    assert 0 < len(by_query.outcomes) < 60


def test_totals_recomputed_from_the_frame(result: CampaignResult, advisor: Advisor) -> None:
    frame = result.to_frame()
    totals = result.totals
    per_client = frame.drop_duplicates("client")
    assert totals.n_segment == len(per_client) == N_CLIENTS
    status = per_client["status"].value_counts()
    assert totals.n_excluded == status.get("excluded", 0)
    assert totals.n_reached == status.get("reached", 0)
    assert totals.n_advised == status.get("lever", 0)
    searched = N_CLIENTS - totals.n_excluded - totals.n_reached
    assert totals.n_searched == searched
    assert totals.coverage == pytest.approx(totals.n_advised / searched)
    first = frame.loc[frame["lever_rank"] == 1]
    assert totals.expected_extra_sales == pytest.approx(
        (first["score_after"] - first["score"]).sum()
    )
    assert totals.expected_value == pytest.approx(
        totals.expected_extra_sales * result.product_value  # type: ignore[operator]
    )
    assert totals.cost_quantiles[0.5] == pytest.approx(float(first["cost"].median()))
    assert list(frame.columns) == list(COLUMNS)
    assert (frame.groupby("client")["lever_rank"].max() <= 2).all()


def test_frame_texts_and_changes(result: CampaignResult) -> None:
    frame = result.to_frame()
    levers = frame.loc[frame["lever_rank"] >= 1]
    assert (levers["actions_en"] != "").all()
    assert (levers["actions_fr"] != "").all()
    for text, cost in zip(levers["changes"], levers["cost"], strict=True):
        changes = json.loads(text)
        assert changes
        assert cost >= 0
        assert all(len(pair) == 2 and pair[0] != pair[1] for pair in changes.values())


def test_same_inputs_same_frame_bit_for_bit(
    campaign: Campaign, clients: pd.DataFrame, result: CampaignResult
) -> None:
    again = campaign.run(clients, exclude="opt_out", n_levers=2)
    pd.testing.assert_frame_equal(again.to_frame(), result.to_frame(), check_exact=True)


def test_batches_change_nothing_but_the_last_bits(
    advisor: Advisor, clients: pd.DataFrame, result: CampaignResult
) -> None:
    """Scores of a batch of another size may differ in the last bit (vectorised sums)."""
    small = Campaign.from_advisor(advisor, product=PRODUCT, batch_size=7)
    batched = small.run(clients, exclude="opt_out", n_levers=2).to_frame()
    expected = result.to_frame()
    figures = ["score", "goal", "score_after", "uplift", "cost"]
    pd.testing.assert_frame_equal(
        batched.drop(columns=figures), expected.drop(columns=figures), check_exact=True
    )
    np.testing.assert_allclose(batched[figures], expected[figures], rtol=0, atol=1e-12)


def test_progress_reports_every_client_of_the_segment(
    campaign: Campaign, clients: pd.DataFrame
) -> None:
    seen: list[tuple[int, int]] = []
    small = Campaign.from_advisor(campaign.advisor, product=PRODUCT, batch_size=10)
    small.run(clients.iloc[:40], progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (40, 40)
    assert len(seen) >= 4  # after each batch of 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert {t for _, t in seen} == {40}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_round_trips(result: CampaignResult, tmp_path: Path, suffix: str) -> None:
    path = result.write(tmp_path / f"levers{suffix}")
    back = read_table(path)
    assert len(back) == len(result.to_frame())
    assert list(back["client"].astype(str)) == list(result.to_frame()["client"].astype(str))
    with pytest.raises(ValueError, match=r"^.*: must not exist .*Got an existing file\..*"):
        result.write(path)
    result.write(path, overwrite=True)


def test_provenance_from_a_bundle(
    demo_bundle: Path, advisor: Advisor, clients: pd.DataFrame
) -> None:
    bundle = load_bundle(demo_bundle)
    campaign = Campaign.from_bundle(demo_bundle, advisor.reference, product="savings_account")
    out = campaign.run(clients.iloc[:20])
    info = out.provenance
    assert info.constraints_sha256 == bundle.card.constraint_file.sha256 is not None
    assert info.model_sha256 is not None
    assert len(info.model_sha256) == 64
    assert info.seed == 0
    assert info.engine == "auto"
    assert info.product == "savings_account"
    assert info.library_version
    assert info.elapsed_s > 0
    assert json.dumps(info.to_dict())
    memory = Campaign.from_advisor(advisor, product="savings_account").run(clients.iloc[:20])
    assert memory.provenance.model_sha256 is None
    pd.testing.assert_frame_equal(memory.to_frame(), out.to_frame())


def test_a_single_model_campaign_aims_at_its_target(
    demo_bundle: Path, advisor: Advisor, clients: pd.DataFrame
) -> None:
    model = load_bundle(demo_bundle).models[PRODUCT]
    campaign = Campaign(model, advisor.constraints, target=0.3)
    non_holders = clients.loc[~clients["has_life_insurance"]].iloc[:15]
    out = campaign.run(non_holders)
    assert out.product == model.target
    assert out.product_value is None
    assert out.totals.expected_value is None
    assert all(o.goal in (pytest.approx(0.3), pytest.approx(0.33)) for o in out.outcomes)


# ---------------------------------------------------------------- errors, one line each
BAD_SEGMENTS = [
    ("age >=", r"^segment: must be a valid expression .*"),
    ("", r"^segment: must be a non-empty expression .*"),
    ("agee > 30", r"^segment: must name columns of the clients\. Got unknown column 'agee' .*"),
    ("age > 200", r"^segment: must hold at least one client\. Got none of \d+ clients\.$"),
    ("region > 3", r"^segment: must compare values of the same kind\. .*"),
    ("age", r"^segment: must be comparisons .* Got non-boolean column 'age' used alone .*"),
]
HOSTILE = [
    "__import__('os').system('true')",
    "@x > 1",
    "age.__class__ == 1",
    "len(region) > 1",
    "age > (lambda: 1)()",
    "[c for c in region] == 1",
    "age + 1 > 30",
    "region[0] == 'n'",
    "age > 30 if True else False",
    "~" * 1_990 + "has_home_loan",
    "(" * 600 + "age > 3" + ")" * 600,
    "age > 1" + " and age > 1" * 400,
]


@pytest.mark.parametrize(("segment", "message"), BAD_SEGMENTS)
def test_bad_segments(
    campaign: Campaign, clients: pd.DataFrame, segment: str, message: str
) -> None:
    with pytest.raises(CampaignError, match=message) as info:
        campaign.run(clients.iloc[:5], segment=segment)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("segment", HOSTILE)
def test_hostile_segments_are_refused(
    campaign: Campaign, clients: pd.DataFrame, segment: str
) -> None:
    with pytest.raises(CampaignError, match=r"^segment: must be .*") as info:
        campaign.run(clients.iloc[:5], segment=segment)
    assert "\n" not in str(info.value)


def test_bad_inputs_get_one_line_errors(campaign: Campaign, clients: pd.DataFrame) -> None:
    few = clients.iloc[:5]
    cases = [
        ({"exclude": "nope"}, r"^exclude: must name a column of the clients\. Got 'nope'\.$"),
        ({"exclude": "age"}, r"^exclude: column 'age' must be boolean .* Got dtype int64\.$"),
        ({"exclude": np.ones(3, dtype=bool)}, r"^exclude: must be a boolean mask .*"),
        ({"segment": np.zeros(5, dtype=bool)}, r"^segment: must hold at least one client.*"),
        ({"segment": [1, 0, 1, 0, 1]}, r"^segment: must be a boolean mask .*dtype int64.*"),
        ({"segment": few["age"] > 0}, None),
        ({"n_levers": 0}, r"^n_levers: must be a whole number from 1 to 10\. Got 0\.$"),
        ({"n_levers": True}, r"^n_levers: must be a whole number from 1 to 10\. Got True\.$"),
        ({"progress": 3}, r"^progress: must be a callable progress\(done, total\) or None\. .*"),
    ]
    for kwargs, message in cases:
        if message is None:
            campaign.run(few, **kwargs)  # type: ignore[arg-type]
            continue
        with pytest.raises(CampaignError, match=message) as info:
            campaign.run(few, **kwargs)  # type: ignore[arg-type]
        assert "\n" not in str(info.value)


def test_mismatched_or_malformed_clients(campaign: Campaign, clients: pd.DataFrame) -> None:
    cases = [
        (
            clients.iloc[:5].drop(columns=["monthly_income", "age"]),
            r"^clients: must hold every feature .* Got none for age, monthly_income\. "
            r"Hint: the data does not match the bundle\.$",
        ),
        (clients.iloc[:0], r"^clients: must hold at least one client\. Got an empty frame\.$"),
        (
            pd.concat([clients.iloc[:2], clients.iloc[:2]]),
            r"^clients: the index must be a unique client id\. .*",
        ),
        ("C0000001", r"^clients: must be a DataFrame of clients \(one row each\)\. Got str\.$"),
        (
            clients.iloc[:5].assign(region="mars"),
            r"^clients: cannot be scored by the model: data\.region: values must be among the "
            r"categories .* Got 'mars' in rows C0000000, C0000001, C0000002 and 2 more "
            r"\(5 rows\)\. Hint: .*$",
        ),
        (
            clients.iloc[:5].assign(age="old"),
            r"^clients: cannot be scored by the model: data\.age: .* Got 'old' in rows "
            r"C0000000, .* \(5 rows\)\. .*$",
        ),
    ]
    for frame, message in cases:
        with pytest.raises(CampaignError, match=message) as info:
            campaign.run(frame)  # type: ignore[arg-type]
        assert "\n" not in str(info.value)


def test_bad_campaign_options(advisor: Advisor) -> None:
    with pytest.raises(CampaignError, match=r"^product: must name the product .*Hint: .*"):
        Campaign.from_advisor(advisor)
    with pytest.raises(CampaignError, match=r"^product: must be one of .*Got 'car'\.$"):
        Campaign.from_advisor(advisor, product="car")
    with pytest.raises(CampaignError, match=r"^batch_size: must be a whole number .* Got 0\.$"):
        Campaign.from_advisor(advisor, product=PRODUCT, batch_size=0)
    with pytest.raises(CampaignError, match=r"^advisor: must be an advisor\.levers\.Advisor.*"):
        Campaign.from_advisor("advisor", product=PRODUCT)  # type: ignore[arg-type]


def test_a_segment_all_opted_out_is_counted_not_searched(
    campaign: Campaign, clients: pd.DataFrame
) -> None:
    calls: list[int] = []
    out = campaign.run(
        clients.iloc[:8], exclude=np.ones(8, dtype=bool), progress=lambda d, t: calls.append(d)
    )
    totals = out.totals
    assert totals.n_excluded == totals.n_segment == 8
    assert totals.n_searched == totals.n_advised == 0
    assert totals.coverage == 0.0
    assert totals.cost_quantiles == {}
    assert calls == [8]  # counted, never searched


def test_an_in_process_run_uses_one_thread_and_restores_the_process(
    campaign: Campaign, clients: pd.DataFrame
) -> None:
    import torch
    from threadpoolctl import threadpool_info

    seen: list[tuple[int, set[int]]] = []

    def look(done: int, total: int) -> None:
        seen.append((torch.get_num_threads(), {i["num_threads"] for i in threadpool_info()}))

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        campaign.run(clients.iloc[:12], progress=look)
        assert seen
        assert all(n == 1 and pools <= {1} for n, pools in seen)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
