"""Global importance: mean |SHAP| against the local explainers, permutation drops against
advisor.models.permutation_importance, and the shares of the constraint roles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from advisor.errors import AdvisorError
from advisor.explain import (
    ExactShapExplainer,
    KernelShapExplainer,
    TreeShapExplainer,
    global_importance,
    importance_by_role,
)
from advisor.models import permutation_importance
from tests.advisor.test_explain_shap import tiny_frame, tiny_models


def test_mean_abs_shap_is_the_mean_of_the_local_tree_shap_values() -> None:
    found = tiny_models()["xgboost"]
    frame = tiny_frame().iloc[:30]
    table = global_importance(found.model, found.constraints, frame, n_clients=30)
    explainer = TreeShapExplainer(found.model, found.constraints, frame)
    local = [explainer.explain(frame.iloc[[i]]) for i in range(len(frame))]
    for row in table.itertuples():
        expected = np.mean([abs(e.weight(str(row.feature))) for e in local])
        assert row.mean_abs_shap == pytest.approx(expected, abs=1e-6)
    assert table.attrs["shap_method"] == "tree_shap"
    assert "permutation" not in table.columns  # no labels given
    assert list(table["feature"]) == list(found.constraints.feature_names)
    assert list(table["role"]) == ["context", "actionable", "actionable", "immutable"]


def test_small_models_use_exact_shap_and_labels_give_the_permutation_drop() -> None:
    found = tiny_models()["logistic"]
    frame = tiny_frame().iloc[:40]
    table = global_importance(
        found.model, found.constraints, frame, y=frame["target"], seed=2, n_clients=40
    )
    assert table.attrs["shap_method"] == "exact_shap"
    # 40 clients: the background (50 rows at most) is all of them, whatever the seed
    exact = ExactShapExplainer(found.model, found.constraints, frame, seed=3, n_background=40)
    local = [exact.explain(frame.iloc[[i]]) for i in range(40)]
    for row in table.itertuples():
        expected = np.mean([abs(e.weight(str(row.feature))) for e in local])
        assert row.mean_abs_shap == pytest.approx(expected, abs=1e-9)
    drops = permutation_importance(found.model, frame, frame["target"], seed=2, n_repeats=5)
    expected_drop = drops.set_index("feature")["drop_mean"].reindex(table["feature"])
    np.testing.assert_allclose(table["permutation"], expected_drop.to_numpy())


@pytest.mark.parametrize("family", ["logistic", "xgboost", "mlp"])
def test_role_shares_sum_to_one_and_the_same_seed_gives_the_same_table(
    family: str, trained: Any, model_clients: pd.DataFrame
) -> None:
    found = trained[family]
    # 20 takers and 20 others among non-holders: the permutation drop of ROC AUC is defined
    pool = model_clients.loc[~model_clients["has_life_insurance"]]
    taken = pool["take_life_insurance"].astype(bool)
    clients = pd.concat([pool.loc[taken].iloc[:20], pool.loc[~taken].iloc[:20]])
    y = clients["take_life_insurance"]
    table = global_importance(found.model, found.constraints, clients, y=y, seed=7, n_clients=12)
    again = global_importance(found.model, found.constraints, clients, y=y, seed=7, n_clients=12)
    pd.testing.assert_frame_equal(table, again)
    methods = {"xgboost": "tree_shap", "logistic": "exact_shap", "mlp": "kernel_shap"}
    assert table.attrs["shap_method"] == methods[family]
    shares = importance_by_role(table)
    assert list(shares.index) == ["immutable", "context", "actionable"]
    assert list(shares.columns) == ["permutation", "mean_abs_shap"]
    np.testing.assert_allclose(shares.sum(axis=0), 1.0)
    assert ((shares >= 0) & (shares <= 1)).all().all()
    by_hand = table.groupby("role")["mean_abs_shap"].sum() / table["mean_abs_shap"].sum()
    np.testing.assert_allclose(shares["mean_abs_shap"], by_hand.reindex(shares.index))


def test_importance_by_role_counts_negative_drops_as_zero() -> None:
    table = pd.DataFrame(
        {
            "feature": ["a", "b", "c", "d"],
            "role": ["immutable", "context", "actionable", "actionable"],
            "permutation": [0.02, -0.01, 0.06, 0.0],
            "mean_abs_shap": [0.0, 0.0, 0.0, 0.0],
        }
    )
    shares = importance_by_role(table)
    np.testing.assert_allclose(shares["permutation"], [0.25, 0.0, 0.75])
    assert shares["mean_abs_shap"].isna().all()  # nothing to share


def test_global_importance_refuses_bad_inputs() -> None:
    found = tiny_models()["xgboost"]
    model, constraints, frame = found.model, found.constraints, tiny_frame().iloc[:20]
    with pytest.raises(
        AdvisorError,
        match=r"^global_importance\.methods: must be a non-empty tuple of permutation, "
        r"mean_abs_shap\. Got \('lime',\)\.$",
    ):
        global_importance(model, constraints, frame, methods=("lime",))
    with pytest.raises(AdvisorError, match=r"^global_importance\.n_clients: must be a whole"):
        global_importance(model, constraints, frame, n_clients=1)
    with pytest.raises(AdvisorError, match=r"^y: must hold one label per client of data \(20\)"):
        global_importance(model, constraints, frame, y=[True, False])
    with pytest.raises(AdvisorError, match=r"^data: must be a non-empty DataFrame"):
        global_importance(model, constraints, frame.iloc[:0])
    with pytest.raises(AdvisorError, match=r"^importance: must be global_importance's table"):
        importance_by_role(pd.DataFrame({"x": [1.0]}))


def test_a_linear_model_on_27_features_gets_exact_shap_in_closed_form(
    trained: Any, model_clients: pd.DataFrame
) -> None:
    """KernelSHAP is exact on a linear margin: the closed form must give the same means."""
    found = trained["logistic"]
    clients = model_clients.iloc[:12]  # 12 clients: all of them are the background too
    table = global_importance(found.model, found.constraints, clients, n_clients=12)
    assert table.attrs["shap_method"] == "exact_shap"
    kernel = KernelShapExplainer(
        found.model, found.constraints, clients, n_background=12, n_samples=100
    )
    local = [kernel.explain(clients.iloc[[i]]) for i in range(12)]
    for row in table.itertuples():
        expected = np.mean([abs(e.weight(str(row.feature))) for e in local])
        assert row.mean_abs_shap == pytest.approx(expected, abs=1e-6)
