"""Fairness of recourse: per-group coverage and cost, gaps, flags, and their round trip.

The oracle is plain pandas: the campaign's own frame (``result.to_frame()``) merged with the
clients and grouped with ``groupby``, never the report's helpers (which use fairlearn's
MetricFrame). The flag rule is also checked as properties on synthetic group statistics.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.campaigns import (
    FAIRNESS_COLUMNS,
    Campaign,
    CampaignContext,
    CampaignError,
    CampaignResult,
    FairnessReport,
    GroupStats,
    fairness_report,
)
from advisor.campaigns._fairness_types import flag_groups
from advisor.levers import Advisor

PRODUCT = "life_insurance"
N_CLIENTS = 200
SEARCHED = {"lever", "none-proved", "none-not-found"}
BANDS = (18, 30, 45, 60)
BAND_NAMES = ["< 18", "[18, 30)", "[30, 45)", "[45, 60)", ">= 60"]


@pytest.fixture(scope="module")
def advisor(demo_search_advisor: Advisor) -> Advisor:
    return demo_search_advisor


@pytest.fixture(scope="module")
def clients(advisor: Advisor) -> pd.DataFrame:
    """200 portfolio clients, every fifth opted out."""
    assert advisor.reference is not None
    frame = advisor.reference.iloc[:N_CLIENTS].copy()
    frame["opt_out"] = np.arange(len(frame)) % 5 == 0
    return frame


@pytest.fixture(scope="module")
def result(advisor: Advisor, clients: pd.DataFrame) -> CampaignResult:
    return Campaign.from_advisor(advisor, product=PRODUCT).run(clients, exclude="opt_out")


def _oracle(result: CampaignResult, clients: pd.DataFrame) -> pd.DataFrame:
    """Per (attribute, group) figures with pandas groupby on the campaign's frame."""
    frame = result.to_frame()
    assert frame["client"].is_unique  # n_levers=1: one row per client
    merged = frame.merge(
        clients[["sex", "age"]], left_on="client", right_index=True, validate="one_to_one"
    )
    merged["searched"] = merged["status"].isin(SEARCHED)
    merged["advised"] = merged["status"] == "lever"
    edges = [-math.inf, *BANDS, math.inf]
    merged["age_band"] = pd.cut(merged["age"], edges, right=False, labels=BAND_NAMES)
    tables = []
    for attribute, column in (("sex", "sex"), ("age", "age_band")):
        grouped = merged.groupby(column, observed=True)
        table = pd.DataFrame(
            {
                "n_segment": grouped.size(),
                "n_searched": grouped["searched"].sum(),
                "n_advised": grouped["advised"].sum(),
                "mean_cost": grouped["cost"].mean(),
                "median_cost": grouped["cost"].median(),
                "mean_uplift": grouped["uplift"].mean(),
            }
        )
        table["coverage"] = table["n_advised"] / table["n_searched"]
        table.index = table.index.astype(str)
        tables.append(table.assign(attribute=attribute).rename_axis("group").reset_index())
    return pd.concat(tables, ignore_index=True)


def test_groups_match_a_pandas_groupby_of_the_frame(
    result: CampaignResult, clients: pd.DataFrame
) -> None:
    report = fairness_report(result)
    got = report.to_frame()
    assert list(got.columns) == list(FAIRNESS_COLUMNS)
    want = _oracle(result, clients)
    assert got["attribute"].tolist() == want["attribute"].tolist()
    assert got["group"].tolist() == want["group"].tolist()
    for name in ("n_segment", "n_searched", "n_advised"):
        assert got[name].tolist() == want[name].astype(int).tolist(), name
    for name in ("coverage", "mean_cost", "median_cost", "mean_uplift"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, err_msg=name)
    # the file's category order, then the bands in order; every client counted once
    assert got.loc[got["attribute"] == "sex", "group"].tolist() == ["female", "male"]
    assert got.groupby("attribute")["n_segment"].sum().tolist() == [N_CLIENTS, N_CLIENTS]
    assert report.age_feature == "age"
    assert any("Protected attributes of the constraint file: sex." in n for n in report.notes)


def test_flags_follow_the_stated_rule(result: CampaignResult, clients: pd.DataFrame) -> None:
    tolerance, size = 0.01, 5
    report = fairness_report(result, tolerance=tolerance, min_group_size=size)
    want = _oracle(result, clients)
    expected: set[tuple[str, str]] = set()
    n_sentences = 0
    for attribute, table in want.groupby("attribute"):
        costed = table[table["n_advised"] >= size]
        covered = table[table["n_searched"] >= size]
        if len(costed) >= 2:
            hit = costed[costed["mean_cost"] > (1 + tolerance) * costed["mean_cost"].min()]
            expected |= {(str(attribute), g) for g in hit["group"]}
            n_sentences += len(hit)
        if len(covered) >= 2:
            hit = covered[covered["coverage"] * (1 + tolerance) < covered["coverage"].max()]
            expected |= {(str(attribute), g) for g in hit["group"]}
            n_sentences += len(hit)
    frame = report.to_frame()
    marked = frame[frame["flagged"]]
    flagged = set(zip(marked["attribute"], marked["group"], strict=True))
    assert flagged == expected
    assert expected  # a 1 % tolerance flags something on this segment
    assert len(report.flags) == n_sentences
    for attribute, group in expected:
        assert any(f.startswith(f"{attribute}: group '{group}'") for f in report.flags)
    gaps = report.gaps["sex"]
    sex = want[want["attribute"] == "sex"]
    assert gaps.coverage_gap == pytest.approx(sex["coverage"].max() - sex["coverage"].min())
    assert gaps.cost_ratio == pytest.approx(sex["mean_cost"].max() / sex["mean_cost"].min())


def test_small_groups_are_reported_never_flagged(result: CampaignResult) -> None:
    report = fairness_report(result, tolerance=0.01, min_group_size=N_CLIENTS + 1)
    assert report.flags == ()
    assert not report.to_frame()["flagged"].any()
    assert len(report.groups) >= 2
    assert all(g.coverage_gap is None and g.cost_ratio is None for g in report.gaps.values())


def test_protected_attributes_are_never_levers(result: CampaignResult) -> None:
    cs = result.require_context("test").campaign.info.constraints
    protected = {f.name for f in cs.features if f.protected}
    assert protected == {"sex"}
    changes = result.to_frame()["changes"]
    changed = [set(json.loads(c)) for c in changes if c]
    assert changed  # some clients have levers
    assert all(not (keys & protected) for keys in changed)


def test_attributes_and_bands_can_be_chosen(result: CampaignResult, clients: pd.DataFrame) -> None:
    report = fairness_report(result, attributes=["region", "monthly_income"], age_bands=())
    frame = report.to_frame()
    assert report.age_feature is None
    assert report.age_bands == ()
    assert frame["attribute"].unique().tolist() == ["region", "monthly_income"]
    regions = ["capital", "north", "east", "south", "west"]
    assert frame.loc[frame["attribute"] == "region", "group"].tolist() == [
        r for r in regions if r in set(clients["region"])
    ]
    assert report.gaps["monthly_income"].grouping == "quartiles"
    assert frame.loc[frame["attribute"] == "monthly_income", "n_segment"].sum() == N_CLIENTS
    banded = fairness_report(result, age_feature="tenure_years", age_bands=[5, 10])
    assert banded.to_frame()["attribute"].tolist()[-1] == "tenure_years"
    assert banded.gaps["tenure_years"].grouping == "age bands"


def test_the_report_round_trips_through_json(result: CampaignResult) -> None:
    report = fairness_report(result, tolerance=0.05, min_group_size=3)
    again = FairnessReport.from_dict(json.loads(json.dumps(report.to_dict(), allow_nan=False)))
    assert again == report
    pd.testing.assert_frame_equal(again.to_frame(), report.to_frame())


def test_an_infinite_cost_ratio_round_trips() -> None:
    stats = [
        GroupStats(
            attribute="a",
            group=g,
            n_segment=10,
            n_searched=10,
            n_advised=10,
            coverage=1.0,
            mean_cost=c,
            median_cost=c,
            mean_uplift=0.1,
        )
        for g, c in (("x", 0.0), ("y", 2.0))
    ]
    marked, sentences = flag_groups(stats, 0.25, 5)
    assert marked == {"y"}
    assert "infinitely" in sentences[0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"tolerance": 0},
            r"^fairness\.tolerance: must be a finite number in \(0, 10\]\. Got 0\.$",
        ),
        ({"tolerance": 11.0}, r"^fairness\.tolerance: must be .* Got 11\.0\.$"),
        ({"tolerance": math.nan}, r"^fairness\.tolerance: must be .* Got nan\.$"),
        ({"age_bands": (30, 18)}, r"^fairness\.age_bands: must be strictly increasing .*"),
        ({"age_bands": ("a",)}, r"^fairness\.age_bands: must be a non-empty tuple of finite .*"),
        ({"attributes": ["nope"]}, r"^fairness\.attributes: must name features of the .*'nope'"),
        ({"age_feature": "sex"}, r"^fairness\.age_feature: must be a numeric feature .*'sex'"),
        ({"age_feature": "nope"}, r"^fairness\.age_feature: must name a feature .*'nope'\.$"),
        ({"age_feature": "age", "age_bands": ()}, r"^fairness\.age_bands: must hold band edges"),
        ({"min_group_size": 0}, r"^fairness\.min_group_size: must be a whole number from 1 .*"),
    ],
)
def test_bad_options_get_one_line_errors(
    result: CampaignResult, options: dict[str, object], message: str
) -> None:
    with pytest.raises(CampaignError, match=message) as caught:
        fairness_report(result, **options)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


def test_a_result_without_context_and_bad_data_are_refused(result: CampaignResult) -> None:
    bare = CampaignResult(
        product=result.product,
        outcomes=result.outcomes,
        product_value=result.product_value,
        provenance=result.provenance,
    )
    with pytest.raises(CampaignError, match=r"^fairness: needs the campaign and its clients\."):
        fairness_report(bare)
    with pytest.raises(CampaignError, match=r"^fairness report: must be the data of Fair"):
        FairnessReport.from_dict({"product": "x"})


# --------------------------------------------------------------------------- the flag rule
@st.composite
def _groups(draw: st.DrawFn) -> list[GroupStats]:
    n = draw(st.integers(2, 6))
    stats = []
    for k in range(n):
        searched = draw(st.integers(0, 80))
        advised = draw(st.integers(0, searched))
        cost = float(draw(st.integers(1, 64))) if advised else None
        stats.append(
            GroupStats(
                attribute="attr",
                group=f"g{k}",
                n_segment=searched + draw(st.integers(0, 10)),
                n_searched=searched,
                n_advised=advised,
                coverage=advised / searched if searched else None,
                mean_cost=cost,
                median_cost=cost,
                mean_uplift=0.1 if advised else None,
            )
        )
    return stats


@settings(max_examples=150, deadline=None)
@given(stats=_groups(), tolerance=st.sampled_from([0.05, 0.25, 0.5, 1.0]), size=st.integers(1, 40))
def test_flag_rule_properties(stats: list[GroupStats], tolerance: float, size: int) -> None:
    flagged, sentences = flag_groups(stats, tolerance, size)
    by_name = {s.group: s for s in stats}
    costed = [s for s in stats if s.n_advised >= size and s.mean_cost is not None]
    covered = [s for s in stats if s.n_searched >= size and s.coverage is not None]
    # small groups never flagged; the cheapest never for cost, the best covered never for coverage
    for name in flagged:
        group = by_name[name]
        assert group.n_searched >= size
    cost_flags = {
        s.group
        for s in costed
        if len(costed) >= 2
        and any((s.mean_cost or 0) > (1 + tolerance) * (o.mean_cost or 0) for o in costed)
    }
    cover_flags = {
        s.group
        for s in covered
        if len(covered) >= 2
        and any((o.coverage or 0) > (1 + tolerance) * (s.coverage or 0) for o in covered)
    }
    assert flagged == cost_flags | cover_flags
    assert len(sentences) == len(cost_flags) + len(cover_flags)
    # a larger tolerance never adds a flag; doubling every cost changes nothing
    looser, _ = flag_groups(stats, tolerance * 2, size)
    assert looser <= flagged
    doubled = [
        replace(
            s,
            mean_cost=None if s.mean_cost is None else 2 * s.mean_cost,
            median_cost=None if s.median_cost is None else 2 * s.median_cost,
        )
        for s in stats
    ]
    assert flag_groups(doubled, tolerance, size)[0] == flagged


def test_missing_values_form_their_own_group_last(result: CampaignResult) -> None:
    context = result.require_context("test")
    clients = context.clients.copy()
    clients["sex"] = clients["sex"].astype(object)
    clients.loc[clients.index[:7], "sex"] = None
    clients.loc[clients.index[7:9], "age"] = np.nan
    holed = CampaignResult(
        product=result.product,
        outcomes=result.outcomes,
        product_value=result.product_value,
        provenance=result.provenance,
        context=CampaignContext(campaign=context.campaign, clients=clients),
    )
    frame = fairness_report(holed).to_frame().set_index(["attribute", "group"])
    assert frame.loc[("sex", "missing"), "n_segment"] == 7
    assert frame.loc[("age", "missing"), "n_segment"] == 2
    assert frame.xs("sex").index.tolist() == ["female", "male", "missing"]
