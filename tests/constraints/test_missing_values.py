"""Missing values in candidates are reported as broken rules, never a crash."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from constraints import parse_constraints

CS = parse_constraints(
    """
name: missing
features:
  card: {kind: categorical, role: actionable, categories: [none, visa, gold],
         transitions: {none: [visa], visa: [gold]}}
  plan: {kind: ordinal, role: actionable, order: [basic, plus, premium]}
  amount: {kind: continuous, role: actionable, min: 0, max: 1000, step: 10}
  app: {kind: binary, role: actionable}
rules:
  - require: card not in [gold]
  - if: plan becomes premium
    require: amount >= 100
"""
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0, 2.0, np.nan]),
            st.sampled_from([0.0, 2.0, np.nan]),
            st.sampled_from([0.0, 150.0, np.nan]),
            st.sampled_from([0.0, 1.0, np.nan]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_missing_values_break_the_domain_rule_and_nothing_crashes(
    rows: list[tuple[float, float, float, float]],
) -> None:
    candidates = np.array(rows, dtype=float)
    result = CS.check([0.0, 0.0, 50.0, 0.0], candidates)
    missing = np.isnan(candidates).any(axis=1)
    assert not result.ok[missing].any()
    for i in np.flatnonzero(missing):
        assert "domain" in {v.rule for v in result.violations(int(i))}
