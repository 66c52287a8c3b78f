"""Model diagnostics: held-out clients found again, permutation importance, constraint status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from advisor.datasets import make_demo_portfolio
from advisor.errors import ModelError
from advisor.models import (
    DemoBundleSettings,
    ModelBundle,
    build_demo_bundle,
    held_out_clients,
    load_bundle,
    permutation_importance,
    validate_constraint_text,
)
from tests.conftest import REPO_ROOT

N_CLIENTS = 3_000


@pytest.fixture(scope="module", params=["logistic", "xgboost"])
def bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ModelBundle:
    settings = DemoBundleSettings(
        out=tmp_path_factory.mktemp("diag") / request.param,
        n_clients=N_CLIENTS,
        n_trials=1,
        budget_s=60.0,
        families=(request.param,),
    )
    return load_bundle(build_demo_bundle(settings))


@pytest.fixture(scope="module")
def portfolio() -> pd.DataFrame:
    return make_demo_portfolio(n_clients=N_CLIENTS, seed=0)


def test_held_out_clients_are_the_test_split_of_the_card(
    bundle: ModelBundle, portfolio: pd.DataFrame
) -> None:
    for name in ("life_insurance", "premium_card"):
        held = held_out_clients(bundle, portfolio, name)
        entry = bundle.card.models[name]
        assert len(held.clients) == len(held.y) == entry.n_test
        assert not held.clients["has_" + name].any()  # trained on non-holders only
        p = bundle.models[name].score(held.clients)
        assert roc_auc_score(held.y, p) == pytest.approx(entry.test.auc, abs=1e-12)


def test_held_out_clients_refuses_other_data(bundle: ModelBundle) -> None:
    with pytest.raises(ModelError, match="data_sha256"):
        held_out_clients(bundle, make_demo_portfolio(n_clients=N_CLIENTS, seed=5), "home_loan")
    with pytest.raises(ModelError, match="must be one of the bundle's models"):
        held_out_clients(bundle, make_demo_portfolio(n_clients=50, seed=0), "yacht")


def test_importance_matches_the_baseline_and_a_naive_loop(
    bundle: ModelBundle, portfolio: pd.DataFrame
) -> None:
    held = held_out_clients(bundle, portfolio, "life_insurance")
    model = bundle.models["life_insurance"]
    table = permutation_importance(model, held.clients, held.y, n_repeats=3, seed=0)
    assert list(table.columns) == ["feature", "drop_mean", "drop_std"]
    assert sorted(table["feature"]) == sorted(model.space.names)
    assert table["drop_mean"].is_monotonic_decreasing
    assert table.attrs["baseline"] == pytest.approx(bundle.card.models["life_insurance"].test.auc)
    by_feature = table.set_index("feature")
    # a feature the model cannot use (constant among non-holders) never matters
    assert by_feature.loc["has_life_insurance", "drop_mean"] == 0.0
    assert by_feature["drop_mean"].iloc[0] > 0.0
    # a categorical feature is shuffled as a whole (all its one-hot columns together): the
    # same permutation applied to the business column gives the same drop
    single = permutation_importance(model, held.clients, held.y, n_repeats=1, seed=0)
    rng = np.random.default_rng(0)
    perms = rng.permuted(np.tile(np.arange(len(held.y)), (len(table), 1)), axis=1)
    shuffled = held.clients.copy()
    j = model.space.names.index("occupation")
    shuffled["occupation"] = held.clients["occupation"].to_numpy()[perms[j]]
    naive = table.attrs["baseline"] - roc_auc_score(held.y, model.score(shuffled))
    assert single.set_index("feature").loc["occupation", "drop_mean"] == pytest.approx(naive)


def test_importance_is_seeded_and_independent_of_batching(
    bundle: ModelBundle, portfolio: pd.DataFrame
) -> None:
    held = held_out_clients(bundle, portfolio, "premium_card")
    model = bundle.models["premium_card"]
    one = permutation_importance(model, held.clients, held.y, n_repeats=2, seed=3)
    as_numpy: dict[str, Any] = {  # numpy scalars are plain numbers
        "n_repeats": np.int64(2),
        "seed": np.int64(3),
        "batch_rows": np.int64(len(held.y)),
    }
    again = permutation_importance(model, held.clients, held.y, **as_numpy)
    other = permutation_importance(model, held.clients, held.y, n_repeats=2, seed=4)
    pd.testing.assert_frame_equal(one, again)
    assert not one.set_index("feature")["drop_mean"].equals(other.set_index("feature")["drop_mean"])


@pytest.mark.parametrize("metric", ["average_precision", "brier", "log_loss"])
def test_importance_for_other_metrics_says_worse_is_positive(
    bundle: ModelBundle, portfolio: pd.DataFrame, metric: str
) -> None:
    held = held_out_clients(bundle, portfolio, "life_insurance")
    model = bundle.models["life_insurance"]
    table = permutation_importance(model, held.clients, held.y, n_repeats=2, metric=metric)  # type: ignore[arg-type]
    assert table.attrs["metric"] == metric
    assert table["drop_mean"].iloc[0] > 0.0
    assert table.set_index("feature").loc["has_life_insurance", "drop_mean"] == 0.0


def test_importance_rejects_bad_inputs(bundle: ModelBundle, portfolio: pd.DataFrame) -> None:
    held = held_out_clients(bundle, portfolio, "life_insurance")
    model = bundle.models["life_insurance"]
    with pytest.raises(ModelError, match=r"^n_repeats: must be a whole number >= 1\. Got 0\.$"):
        permutation_importance(model, held.clients, held.y, n_repeats=0)
    with pytest.raises(ModelError, match=r"^seed: must be a whole number >= 0\. Got -1\.$"):
        permutation_importance(model, held.clients, held.y, seed=-1)
    with pytest.raises(
        ModelError,
        match=r"^metric: must be one of roc_auc, average_precision, brier, log_loss\. "
        r"Got 'accuracy'\.$",
    ):
        permutation_importance(model, held.clients, held.y, metric="accuracy")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=r"^batch_rows: must be a whole number >= 1\. Got 0\.$"):
        permutation_importance(model, held.clients, held.y, batch_rows=0)
    with pytest.raises(ModelError, match="one label per client"):
        permutation_importance(model, held.clients, held.y[:-1])
    with pytest.raises(ModelError, match="both classes"):
        permutation_importance(model, held.clients, np.zeros(len(held.y), dtype=int))
    with pytest.raises(ModelError, match="model's classes"):
        permutation_importance(model, held.clients, np.full(len(held.y), "yes"))
    with pytest.raises(ModelError, match="non-empty"):
        permutation_importance(model, held.clients.iloc[:0], held.y[:0])


def test_the_demo_constraint_file_validates_against_its_portfolio(
    bundle: ModelBundle, portfolio: pd.DataFrame
) -> None:
    assert bundle.constraint_text is not None
    status = validate_constraint_text(
        bundle.constraint_text, portfolio, features=bundle.card.features
    )
    assert status.ok
    assert status.n_errors == 0
    assert status.constraints is not None
    assert status.constraints.feature_names == tuple(bundle.card.features)
    assert list(status.to_frame().columns) == ["severity", "line", "path", "message", "hint"]


def test_constraint_problems_are_listed_not_raised(portfolio: pd.DataFrame) -> None:
    text = (REPO_ROOT / "configs" / "demo-portfolio.yaml").read_text(encoding="utf-8")
    unbound = validate_constraint_text(text)  # percentile bounds need data
    assert not unbound.ok
    assert unbound.constraints is None
    assert any(p.path.endswith(".max") for p in unbound.problems)
    reordered = validate_constraint_text(text, portfolio, features=["sex", "age"])
    assert not reordered.ok
    assert reordered.constraints is not None
    assert [p.path for p in reordered.problems if p.severity == "error"] == ["features"]
    broken = validate_constraint_text("name: t\nfeatures: [\n")
    assert not broken.ok
    assert broken.n_errors >= 1
    with pytest.raises(ModelError, match="text"):
        validate_constraint_text(Path("x.yaml"))  # type: ignore[arg-type]
