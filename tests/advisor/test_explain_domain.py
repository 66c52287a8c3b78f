"""Every explainer refuses a client outside the constraint file's domain, in one line.

A context or immutable feature's bounds say which values it can take (binding refuses data
beyond them); an actionable feature may already lie beyond its own (a real client).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from advisor.errors import AdvisorError
from advisor.explain import METHODS, make_explainer

FAMILY_OF = {
    "tree_shap": "xgboost",
    "integrated_gradients": "mlp",
    "exact_shap": None,  # 27 features: exact SHAP refuses the demo before any client
}


@pytest.mark.parametrize("method", [m for m in METHODS if m != "exact_shap"])
def test_a_client_outside_the_domain_is_refused(
    method: str, trained: dict[str, Any], model_clients: Any
) -> None:
    family = FAMILY_OF.get(method) or "logistic"
    result = trained[family]
    clients = model_clients.loc[~model_clients["has_life_insurance"]]
    explainer = make_explainer(method, result.model, result.constraints, clients.head(300), seed=0)
    client = clients.iloc[[0]].copy()
    with pytest.raises(
        AdvisorError,
        match=r"^client\.children: must lie within the constraint file's bounds \[0, inf\] "
        r"\(context\)\. Got -2\. Hint: correct the client's value, or widen the bounds",
    ):
        explainer.explain(client.assign(children=-2))
    with pytest.raises(
        AdvisorError, match=r"^client\.debt_ratio: values must be finite numbers, at most 1e15"
    ):
        explainer.explain(client.assign(debt_ratio=np.inf))
    capped = next(
        s
        for s in result.constraints.features
        if s.role == "actionable" and s.kind == "continuous" and np.isfinite(s.upper)
    )
    beyond = client.assign(**{capped.name: capped.upper * 1.5 + 1})  # a real client may be
    assert explainer.explain(beyond).method == method
