"""The shared feature space: order, encoding, one-hot design matrix, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constraints import ConstraintSet
from counterfactuals import CounterfactualError, FeatureSpace


@pytest.fixture(scope="module")
def space(demo_constraints: ConstraintSet) -> FeatureSpace:
    return FeatureSpace.from_constraints(demo_constraints)


def test_order_and_design_follow_the_constraint_file(
    space: FeatureSpace, demo_constraints: ConstraintSet
) -> None:
    assert space.names == demo_constraints.feature_names
    n_categorical = sum(
        len(f.categories) for f in demo_constraints.features if f.kind == "categorical"
    )
    n_other = sum(f.kind != "categorical" for f in demo_constraints.features)
    assert space.n_design == n_categorical + n_other
    assert space.design_names[space.design_columns("region")] == (
        "region=capital",
        "region=north",
        "region=east",
        "region=south",
        "region=west",
    )


def test_design_matrix_is_one_hot_for_categories(
    space: FeatureSpace, small_portfolio: pd.DataFrame
) -> None:
    design = space.design_from_frame(small_portfolio)
    block = design[:, space.design_columns("occupation")]
    np.testing.assert_array_equal(block.sum(axis=1), 1.0)
    codes = space.to_codes(small_portfolio)
    np.testing.assert_array_equal(block.argmax(axis=1), codes[:, space.names.index("occupation")])
    income = space.design_columns("monthly_income")
    np.testing.assert_array_equal(design[:, income][:, 0], small_portfolio["monthly_income"])


def test_round_trips(space: FeatureSpace, small_portfolio: pd.DataFrame) -> None:
    restored = FeatureSpace.from_dict(json.loads(json.dumps(space.to_dict())))
    assert restored == space
    codes = space.to_codes(small_portfolio)
    frame = space.to_frame(codes)
    assert list(frame.columns) == list(space.names)
    np.testing.assert_array_equal(space.to_codes(frame), codes)


def test_errors_name_the_column(space: FeatureSpace, small_portfolio: pd.DataFrame) -> None:
    with pytest.raises(CounterfactualError, match=r"no column 'region'"):
        space.to_codes(small_portfolio.drop(columns="region"))
    bad = small_portfolio.head(3).astype({"region": object})
    bad.loc[bad.index[0], "region"] = "mars"
    with pytest.raises(CounterfactualError, match=r"^data\.region: values must be among"):
        space.to_codes(bad)
    with pytest.raises(CounterfactualError, match=r"^codes: must have 27 columns"):
        space.to_design(np.zeros((2, 3)))
    codes = space.to_codes(small_portfolio.head(1))
    codes[0, space.names.index("region")] = 7
    with pytest.raises(CounterfactualError, match=r"^codes\.region: must be a category code"):
        space.to_design(codes)


def test_invalid_spaces_are_refused() -> None:
    with pytest.raises(CounterfactualError, match=r"must be unique"):
        FeatureSpace(names=("a", "a"), kinds=("integer", "integer"), categories=((), ()))
    with pytest.raises(CounterfactualError, match=r"kinds\.a: must be one of"):
        FeatureSpace(names=("a",), kinds=("text",), categories=((),))
    with pytest.raises(CounterfactualError, match=r"must hold a non-empty 'features' list"):
        FeatureSpace.from_dict({"features": []})


def test_equal_spaces_keep_their_own_category_types() -> None:
    # the categorical dtype of a frame column is built once per feature, keyed by identity:
    # equal specs (1 == 1.0) must still give their own labels
    whole = FeatureSpace(names=("tier",), kinds=("categorical",), categories=((1, 2),))
    real = FeatureSpace(  # float labels: read from a file, outside the declared type
        names=("tier",),
        kinds=("categorical",),
        categories=((1.0, 2.0),),  # type: ignore[arg-type]
    )
    assert whole == real
    for space, kind in ((real, "f"), (whole, "i"), (real, "f")):
        frame = space.to_frame(np.array([[1.0], [0.0]]))
        assert frame["tier"].cat.categories.dtype.kind == kind
        assert frame["tier"].tolist() == list(space.categories[0][::-1])
        np.testing.assert_array_equal(space.to_codes(frame), [[1.0], [0.0]])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_frame_of_any_codes_round_trips(
    space: FeatureSpace, small_portfolio: pd.DataFrame, seed: int
) -> None:
    """The frame of codes, read back to codes, gives the same frame again.

    A black box remembers each row's score under its codes and verification reads a
    frame's codes back (counterfactuals/_adapters.py): a remembered score must be the
    score of the very frame verification scores. Codes anywhere in the features' ranges,
    off any grid, categories at random.
    """
    rng = np.random.default_rng(seed)
    codes = space.to_codes(small_portfolio.iloc[:50]).copy()
    for j, kind in enumerate(space.kinds):
        column = codes[:, j]
        if np.isnan(column).all():
            continue
        if kind in ("continuous", "integer"):
            lo, hi = np.nanmin(column), np.nanmax(column)
            codes[:, j] = rng.uniform(lo, hi + 1.0, len(codes))
        else:
            codes[:, j] = rng.integers(0, len(space.categories[j]) or 2, len(codes))
    frame = space.to_frame(codes)
    pd.testing.assert_frame_equal(space.to_frame(space.to_codes(frame)), frame)


def test_text_categories_are_plain_objects(
    space: FeatureSpace, small_portfolio: pd.DataFrame
) -> None:
    """Frames carry text categories as objects: a black box (a scikit-learn pipeline) reads
    them without converting arrow-backed text, about 1 ms per call; values are unchanged."""
    frame = space.to_frame(space.to_codes(small_portfolio.iloc[:20]))
    texts = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    texts = [c for c in texts if all(isinstance(v, str) for v in frame[c].cat.categories)]
    assert texts
    for name in texts:
        assert frame[name].cat.categories.dtype == object
        assert list(frame[name].astype(str)) == list(small_portfolio[name].iloc[:20].astype(str))
