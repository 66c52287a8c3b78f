"""Quality metrics of counterfactuals, as pure functions on codes arrays.

Every function takes codes (see :meth:`constraints.ConstraintSet.to_array`): counterfactuals
as an (n, d) array and the clients as one (d,) row or one row per counterfactual (n, d).
One distance is used throughout (proximity, plausibility, outlier rate, diversity): the L1
distance where numeric and ordinal features count in median absolute deviations
(:attr:`ConstraintSet.scales`) and a changed category or yes/no feature counts 1.

The catalogue follows CARLA's: validity, violations, sparsity, proximity, cost,
plausibility (distance to the target class, local outlier factor), diversity and time.
"""

from counterfactuals.metrics._plausibility import (
    diversity,
    feature_set_diversity,
    lof_inlier_rate,
    plausibility,
)
from counterfactuals.metrics._quality import (
    RULE_TYPES,
    change_count,
    cost,
    feasibility,
    proximity,
    sparsity,
    validity,
    violations,
)
from counterfactuals.metrics._summary import summarize, time_summary

__all__ = [
    "RULE_TYPES",
    "change_count",
    "cost",
    "diversity",
    "feasibility",
    "feature_set_diversity",
    "lof_inlier_rate",
    "plausibility",
    "proximity",
    "sparsity",
    "summarize",
    "time_summary",
    "validity",
    "violations",
]
