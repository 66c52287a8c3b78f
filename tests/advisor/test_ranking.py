"""Lever ranking against a brute-force oracle: the best order among all permutations."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.levers import COST_TOLERANCE, rank_levers

Draft = tuple[float, float, float | None]  # cost, score, support


def _oracle(drafts: list[Draft], tolerance: float) -> list[int]:
    """Of every order that never shows a lever before one cheaper by more than the
    tolerance, the one that shows the strongest levers first (lexicographically)."""

    def key(i: int) -> tuple[float, float, float, int]:
        cost, score, support = drafts[i]
        return (round(score, 4), support or 0.0, -cost, -i)

    valid = [
        order
        for order in itertools.permutations(range(len(drafts)))
        if all(
            drafts[a][0] <= drafts[b][0] + tolerance
            for k, a in enumerate(order)
            for b in order[k + 1 :]
        )
    ]
    return list(max(valid, key=lambda order: [key(i) for i in order]))


drafts_strategy = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.02, 0.049, 0.05, 0.051, 0.099, 0.1, 0.3, 1.0, 2.5]),
        st.sampled_from([0.31, 0.4, 0.40001, 0.55, 0.9]),
        st.sampled_from([None, 0.0, 0.1, 0.5]),
    ),
    min_size=0,
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(drafts_strategy)
def test_ranking_is_the_oracle_order(drafts: list[Draft]) -> None:
    costs, scores, supports = zip(*drafts, strict=True) if drafts else ((), (), ())
    assert rank_levers(costs, scores, supports) == _oracle(drafts, COST_TOLERANCE)


def test_costs_within_the_tolerance_tie_across_bucket_edges() -> None:
    # 0.049 and 0.051 are 0.002 apart: equally cheap, so the stronger lever comes first
    # (flooring cost / 0.05 used to put them in different buckets).
    assert rank_levers([0.049, 0.051], [0.4, 0.6], [None, None]) == [1, 0]
    # 0.0 and 0.099 are not: the cheaper one comes first whatever the scores.
    assert rank_levers([0.099, 0.0], [0.9, 0.4], [None, None]) == [1, 0]
    # equal scores (to 4 decimals): larger support first
    assert rank_levers([0.1, 0.1], [0.40001, 0.4], [0.1, 0.5]) == [1, 0]
