"""generate / generate_many: input validation, statuses, targets, adapters of plain models."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from constraints import ConstraintSet
from counterfactuals import (
    ENGINES,
    CounterfactualError,
    FeatureSpace,
    SearchEngine,
    Status,
    Target,
    adapt,
    generate,
    generate_many,
)
from tests.counterfactuals.conftest import Fitted


@pytest.fixture(scope="module")
def fitted_logistic(fitted: dict[str, Fitted]) -> Fitted:
    return fitted["logistic"]


@pytest.fixture(scope="module")
def logistic(fitted_logistic: Fitted) -> Any:
    """A scikit-learn pipeline (scaler, logistic regression) on the design matrix."""
    return fitted_logistic.model


@pytest.fixture(scope="module")
def client(fitted_logistic: Fitted, life_clients: pd.DataFrame) -> pd.DataFrame:
    pool = life_clients.iloc[:300]
    score = fitted_logistic.score(pool)
    chosen: pd.DataFrame = pool.loc[(score > 0.1) & (score < 0.3)].iloc[[0]]
    return chosen


# ------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, r"^n: must be a whole number from 1 to 1000\. Got 0\.$"),
        ({"n": True}, r"^n: must be a whole number from 1 to 1000\. Got True\.$"),
        ({"seed": -1}, r"^seed: must be a whole number from 0 to 9223372036854775807\. Got -1\.$"),
        (
            {"seed": np.float64(1.0)},
            r"^seed: must be a whole number from 0 to 9223372036854775807\. "
            r"Got np\.float64\(1\.0\)\.$",
        ),
        (
            {"time_limit_s": 0},
            r"^time_limit_s: must be a finite number of seconds in \(0, 86400\] or None\. Got 0\.$",
        ),
        (
            {"time_limit_s": float("nan")},
            r"^time_limit_s: must be a finite number of seconds in \(0, 86400\] or None\. "
            r"Got nan\.$",
        ),
    ],
)
def test_bad_options_are_named(
    kwargs: dict[str, Any],
    message: str,
    logistic: Any,
    client: pd.DataFrame,
    model_constraints: ConstraintSet,
) -> None:
    with pytest.raises(CounterfactualError, match=message):
        generate(logistic, client, model_constraints, Target.probability(0.5), **kwargs)


def test_an_unknown_engine_lists_the_registered_ones(
    logistic: Any, client: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    """The list follows the registry (other tests may register more engines, e.g. dice)."""
    names = ", ".join(["auto", *sorted(ENGINES)])
    message = f"engine: must be one of {names}. Got 'simplex'."
    with pytest.raises(CounterfactualError, match=rf"^{re.escape(message)}$"):
        generate(logistic, client, model_constraints, "flip", engine="simplex")


def test_bad_target_constraints_and_client(
    logistic: Any, client: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    with pytest.raises(CounterfactualError, match=r"^target: must be a Target"):
        generate(logistic, client, model_constraints, "up")
    with pytest.raises(CounterfactualError, match=r"^constraints: must be a ConstraintSet"):
        generate(logistic, client, "configs/demo-portfolio.yaml", "flip")  # type: ignore[arg-type]
    with pytest.raises(CounterfactualError, match=r"^client: must be one row\. Got 2 rows\."):
        generate(logistic, pd.concat([client, client]), model_constraints, "flip")
    with pytest.raises(CounterfactualError, match=r"monthly_income"):
        generate(logistic, client.drop(columns="monthly_income"), model_constraints, "flip")
    with pytest.raises(CounterfactualError, match=r"^client: must be a DataFrame"):
        generate(logistic, np.zeros(3), model_constraints, "flip")  # type: ignore[arg-type]
    with pytest.raises(CounterfactualError, match=r"^target.threshold: must be a probability"):
        Target.probability(1.5)
    with pytest.raises(CounterfactualError, match=r"^target: 'top' needs a product recommender"):
        generate(logistic, client, model_constraints, Target.top("life"))


def test_a_model_without_predict_proba_is_refused(
    client: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    with pytest.raises(CounterfactualError, match=r"^model: must offer predict_proba"):
        generate(object(), client, model_constraints, "flip")


# ------------------------------------------------------------------------ statuses
def test_a_client_at_the_target_is_reached(
    logistic: Any, client: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    result = generate(logistic, client, model_constraints, Target.probability(0.05))
    assert result.status is Status.REACHED
    assert not result.counterfactuals
    assert "already meets" in result.reason


def test_found_result_in_business_values(
    fitted_logistic: Fitted, client: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    logistic = fitted_logistic.model
    target = Target.probability(float(fitted_logistic.score(client)[0]) * 1.5)
    result = generate(logistic, client, model_constraints, target, n=3, engine="search")
    assert result.status is Status.FOUND
    frame = result.to_frame()
    assert list(frame.columns[:4]) == ["rank", "score", "cost", "n_changes"]
    cf = result.counterfactuals[0]
    for change in cf.changes:
        assert client.iloc[0][change.feature] == change.before
        assert cf.values[change.feature] == change.after
    costs = [c.cost for c in result.counterfactuals]
    assert costs == sorted(costs)
    payload = result.to_dict()
    assert payload["status"] == "found"
    assert payload["target"].startswith("probability")
    assert result.query["age"] == client.iloc[0]["age"]


def test_none_names_binding_constraints(
    fitted_logistic: Fitted, life_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    """With max_changes 1, a client whose best lever moves two features: exact either finds a
    single change (never cheaper than the best lever) or proves none and names max_changes."""
    from dataclasses import replace

    logistic = fitted_logistic.model
    tight = replace(model_constraints, max_changes=1)
    derived = {d.feature for d in model_constraints.derived}
    for i in range(40):
        client = life_clients.iloc[[i]]
        target = Target.probability(min(0.9, float(fitted_logistic.score(client)[0]) * 2.5))
        loose = generate(logistic, client, model_constraints, target, n=1, engine="exact")
        if not loose.found:
            continue
        moved = [c for c in loose.counterfactuals[0].changes if c.feature not in derived]
        if len(moved) < 2:
            continue
        strict = generate(logistic, client, tight, target, n=1, engine="exact")
        if strict.found:
            lever = strict.counterfactuals[0]
            assert len([c for c in lever.changes if c.feature not in derived]) == 1
            assert lever.cost >= loose.counterfactuals[0].cost - 1e-9
            continue
        assert strict.status is Status.NONE
        assert strict.reason.startswith("No lever exists within these constraints")
        assert "max_changes" in strict.binding
        assert strict.best_score is not None
        assert strict.best_score < target.threshold
        return
    pytest.fail("no client among the first 40 needs two changes")


def test_flip_and_risk_targets(
    fitted_logistic: Fitted, client: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    logistic = fitted_logistic.model
    flip = generate(logistic, client, model_constraints, "flip", n=1, engine="search")
    assert flip.status is Status.FOUND
    assert flip.counterfactuals[0].score >= 0.5
    assert fitted_logistic.score(flip.to_frame())[0] >= 0.5
    # lowering take-up by 30 %: the levers only add products and habits, and exact proves it
    base = float(fitted_logistic.score(client)[0])
    down = generate(
        logistic, client, model_constraints, Target.probability(base * 0.7, at_most=True), n=2
    )
    assert down.status is Status.NONE
    assert down.engine == "exact"
    assert down.reason.startswith("No lever exists within these constraints (exact engine, proved)")


# ------------------------------------------------------------------------ plain models
@pytest.fixture(scope="module")
def design(model_clients: pd.DataFrame, model_constraints: ConstraintSet) -> Any:
    space = FeatureSpace.from_constraints(model_constraints)
    data = model_clients.loc[~model_clients["has_life_insurance"]]
    x = space.to_design(space.to_codes(data))
    y = data["take_life_insurance"].to_numpy(dtype=int)
    return space, data, x, y


@pytest.mark.parametrize("kind", ["xgboost", "forest", "logistic", "frame"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # unscaled inputs
def test_plain_classifiers_are_adapted(
    kind: str, design: Any, model_constraints: ConstraintSet
) -> None:
    import xgboost
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    space, data, x, y = design
    if kind == "xgboost":
        model: Any = xgboost.XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1, random_state=0)
        model.fit(x, y)
    elif kind == "forest":
        model = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(x, y)
    elif kind == "logistic":
        model = LogisticRegression(max_iter=500).fit(x, y)
    else:
        frame = data[list(space.names)]
        categorical = [
            n for n, k in zip(space.names, space.kinds, strict=True) if k == "categorical"
        ]
        from sklearn.compose import make_column_transformer

        model = make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), categorical), remainder="passthrough"
            ),
            LogisticRegression(max_iter=300),
        ).fit(frame, y)
    adapter = adapt(model, space)
    assert bool(adapter.margins) == (kind != "frame")
    client = data.iloc[[3]]
    p = adapter.proba_frame(client)
    np.testing.assert_allclose(adapter.proba_codes(space.to_codes(client)), p)
    result = generate(
        model, client, model_constraints, Target.probability(min(0.9, p[0, 1] * 1.5)), n=2
    )
    assert result.status is Status.FOUND  # measured: found for every kind
    auto_notes = [n for n in result.notes if n.startswith("search first:")]
    if kind == "frame":
        assert result.engine == "search"
        assert not auto_notes
    elif kind in ("xgboost", "forest"):  # trees: search first, then exact bounded by it
        assert result.engine in ("search", "exact")
        assert len(auto_notes) == 1
    else:
        assert result.engine == "exact"
        assert not auto_notes
    found = result.to_frame()[list(space.names)]
    own = model.predict_proba(found if kind == "frame" else space.to_design(space.to_codes(found)))
    np.testing.assert_allclose(own[:, 1], [cf.score for cf in result.counterfactuals])
    assert (own[:, 1] >= min(0.9, p[0, 1] * 1.5)).all()


def test_generate_many_answers_every_client(
    fitted_logistic: Fitted, life_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    clients = life_clients.iloc[:30]
    results = generate_many(
        fitted_logistic.model, clients, model_constraints, Target.probability(0.3), n=2
    )
    assert len(results) == len(clients)
    statuses = [r.status for r in results]
    # measured: one client already at 0.3, 23 with a lever, 6 proved without one (exact)
    assert (statuses.count(Status.REACHED), statuses.count(Status.FOUND)) == (1, 23)
    assert statuses.count(Status.NONE) == 6
    score = fitted_logistic.score(clients)
    for r, before in zip(results, score, strict=True):
        assert (r.status is Status.REACHED) == (before >= 0.3)
        assert r.status is not Status.NONE or r.reason.startswith("No lever exists")
        if r.found:
            assert (fitted_logistic.score(r.to_frame()) >= 0.3).all()


def test_a_black_box_never_scores_the_same_frame_twice(
    model_clients: pd.DataFrame, model_constraints: ConstraintSet
) -> None:
    """Verification re-uses the black box's scores of the rows the search gave it.

    Oracle: a pipeline that records every row it scores; no call is made only of rows it
    scored before, and every counterfactual's score is the pipeline's own.
    """
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    space = FeatureSpace.from_constraints(model_constraints)
    names = list(space.names)
    categorical = [n for n, c in zip(names, space.categories, strict=True) if c]
    frame = model_clients[names]
    pipeline = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), remainder=StandardScaler()
        ),
        LogisticRegression(max_iter=500),
    ).fit(frame, model_clients["take_life_insurance"])
    calls: list[set[bytes]] = []

    class Recording:
        classes_ = pipeline.classes_

        def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
            calls.append({r.tobytes() for r in space.to_codes(rows)})
            return np.asarray(pipeline.predict_proba(rows))

    found = 0
    for i in range(6):
        client = frame.iloc[[i]]
        p = float(pipeline.predict_proba(client)[0, 1])
        calls.clear()
        goal = Target.probability(p + 0.1)
        result = generate(Recording(), client, model_constraints, goal)
        codes = space.to_codes(client)
        first = SearchEngine().first_moves(
            model_constraints, model_constraints.bounds_for(codes), codes[0]
        )
        # the client's own score and the search's first stage: one call
        assert calls[0] == {r.tobytes() for r in np.vstack([codes, first])}
        n_calls = len(calls)
        forgetful = adapt(Recording(), space, remember=False)  # scores every row it is given
        again = generate(forgetful, client, model_constraints, goal)
        # the same levers; a score may differ in its last bit (a row scored in another batch)
        pd.testing.assert_frame_equal(again.to_frame(), result.to_frame())
        np.testing.assert_allclose(
            [cf.score for cf in again.counterfactuals],
            [cf.score for cf in result.counterfactuals],
            rtol=1e-12,
        )
        assert n_calls < len(calls) - n_calls
        del calls[n_calls:]
        seen: set[bytes] = set()
        for rows in calls:
            assert not rows <= seen  # a call of rows all scored before: none
            seen |= rows
        if result.found:
            found += 1
            own = pipeline.predict_proba(result.to_frame()[names])[:, 1]
            np.testing.assert_allclose(own, [cf.score for cf in result.counterfactuals])
    assert found >= 4  # measured: 6 of 6
