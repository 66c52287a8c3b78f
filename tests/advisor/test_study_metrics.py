"""The study's measures against hand-computed oracles (advisor/study/_metrics.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from advisor.errors import AdvisorError
from advisor.study._metrics import (
    curve_area,
    deletion_curve,
    insertion_curve,
    jaccard,
    mean_pairwise,
    perturb_codes,
    perturbation_steps,
    precision_at_k,
    reference_codes,
    share_in_top,
    spearman,
    top_features,
)

COEF = np.array([3.0, -1.0, 2.0])


def linear(rows: np.ndarray) -> np.ndarray:
    """f(x) = 3 x0 - x1 + 2 x2."""
    return np.asarray(rows @ COEF, dtype=np.float64)


def test_deletion_curve_and_area_of_a_linear_function_by_hand() -> None:
    client, reference = np.array([1.0, 2.0, 3.0]), np.zeros(3)
    weights = COEF * client  # exact attributions: [3, -2, 6]; signed order: x2, x0, x1
    curve = deletion_curve(linear, client, reference, weights)
    # f = 7; without x2: 7 - 6 = 1; without x0 too: 1 - 3 = -2; without x1: -2 + 2 = 0
    np.testing.assert_allclose(curve, [7.0, 1.0, -2.0, 0.0])
    # trapezoids (7+1)/2 + (1-2)/2 + (-2+0)/2 = 2.5, over d = 3
    assert curve_area(curve) == pytest.approx(2.5 / 3)


def test_insertion_curve_and_area_of_a_linear_function_by_hand() -> None:
    client, reference = np.array([1.0, 2.0, 3.0]), np.zeros(3)
    curve = insertion_curve(linear, client, reference, COEF * client)
    np.testing.assert_allclose(curve, [0.0, 6.0, 9.0, 7.0])
    assert curve_area(curve) == pytest.approx((3.0 + 7.5 + 8.0) / 3)


def test_a_better_ranking_deletes_faster() -> None:
    client, reference = np.array([1.0, 2.0, 3.0]), np.zeros(3)
    good = curve_area(deletion_curve(linear, client, reference, COEF * client))
    reversed_order = curve_area(deletion_curve(linear, client, reference, -COEF * client))
    assert good < reversed_order


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, 5, elements=st.floats(-5, 5)),
    arrays(np.float64, 5, elements=st.floats(-5, 5)),
    arrays(np.float64, 5, elements=st.floats(-5, 5)),
)
def test_linear_curves_mirror_each_other(
    coef: np.ndarray, client: np.ndarray, reference: np.ndarray
) -> None:
    """With exact attributions of a linear model, deletion_k + insertion_k = f(x) + f(r)."""

    def f(rows: np.ndarray) -> np.ndarray:
        return np.asarray(rows @ coef, dtype=np.float64)

    weights = coef * (client - reference)
    deletion = deletion_curve(f, client, reference, weights)
    insertion = insertion_curve(f, client, reference, weights)
    total = f(client[None, :])[0] + f(reference[None, :])[0]
    np.testing.assert_allclose(deletion + insertion, total, atol=1e-9)
    assert deletion[0] == pytest.approx(insertion[-1])
    assert deletion[-1] == pytest.approx(insertion[0])


def test_curve_area_of_a_constant_is_the_constant() -> None:
    assert curve_area([0.4] * 7) == pytest.approx(0.4)


def test_jaccard_by_hand() -> None:
    assert jaccard([1, 2, 3], [2, 3, 4]) == pytest.approx(2 / 4)
    assert jaccard([1, 2], [3, 4]) == 0.0
    assert jaccard(np.array([5, 1]), [1, 5]) == 1.0
    assert jaccard([], []) == 1.0


def test_precision_at_3_by_hand() -> None:
    weights = [0.5, -3.0, 0.1, 2.0, 0.0]  # top-3 by |w|: 1, 3, 0
    truth = [1.0, 0.0, 0.2, -5.0, 4.0]  # top-3 by |t|: 3, 4, 0
    assert precision_at_k(weights, truth, 3) == pytest.approx(2 / 3)
    assert precision_at_k(truth, truth, 3) == 1.0


def test_top_features_by_absolute_weight_ties_by_order() -> None:
    np.testing.assert_array_equal(top_features([1.0, -4.0, 2.0, 4.0], 3), [1, 3, 2])


def test_spearman_by_hand() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks [1, 2.5, 2.5, 4] vs [1, 2, 3, 4]: 4.5 / sqrt(4.5 * 5)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(22.5))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_mean_pairwise_by_hand() -> None:
    sets = [[1, 2], [1, 3], [1, 2]]  # pairs: 1/3, 1, 1/3
    assert mean_pairwise(sets, jaccard) == pytest.approx((1 / 3 + 1 + 1 / 3) / 3)
    assert math.isnan(mean_pairwise([[1, 1], [1, 2]], spearman))


def test_reference_codes_median_and_mode_by_hand() -> None:
    codes = np.array(
        [[1, 0, 2.0], [3, 1, 4.0], [2, 1, 5.0], [10, 2, 7.0], [np.nan, np.nan, np.nan]]
    )
    reference = reference_codes(codes, ["integer", "categorical", "continuous"])
    np.testing.assert_allclose(reference, [2.0, 1.0, 4.5])  # floor(2.5), mode, median


def test_share_in_top_by_hand() -> None:
    weights = [5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]  # top-5: 0, 6, then 1, 2, 3 by order
    assert share_in_top([0, 5], weights, 5) == pytest.approx(0.5)
    assert share_in_top([6], weights, 5) == 1.0
    with pytest.raises(AdvisorError, match=r"^features: must name at least one feature"):
        share_in_top([], weights, 5)


def test_perturbation_moves_continuous_features_by_epsilon_within_bounds() -> None:
    codes = np.array([10.0, 3.0, np.nan, 0.995])
    scale = np.array([2.0, 0.0, 1.0, 1.0])
    bounds = (np.array([0.0, 0.0, 0.0, 0.0]), np.array([100.0, 9.0, 9.0, 1.0]))
    moved = perturb_codes(codes, scale, bounds, np.random.default_rng(0), epsilon=0.01)
    assert abs(moved[0] - 10.0) == pytest.approx(0.02)
    assert moved[1] == 3.0  # scale 0: kept
    assert math.isnan(moved[2])  # missing stays missing
    assert moved[3] in (pytest.approx(0.985), 1.0)  # +0.01 clipped to the upper bound 1.0


def test_whole_number_features_move_by_a_rounded_step() -> None:
    # eps * scale: 0.3 -> 0 (left alone), 28.4 -> 28, 0.6 -> 1; the continuous one keeps 0.3
    scale = np.array([30.0, 2840.0, 60.0, 30.0])
    whole = np.array([True, True, True, False])
    steps = perturbation_steps(scale, 0.01, whole)
    np.testing.assert_allclose(steps, [0.0, 28.0, 1.0, 0.3])
    codes = np.array([5.0, 1000.0, 7.0, 2.0])
    bounds = (np.full(4, -np.inf), np.full(4, np.inf))
    moved = perturb_codes(codes, scale, bounds, np.random.default_rng(1), whole=whole)
    np.testing.assert_allclose(np.abs(moved - codes), steps)


def test_bad_shapes_are_refused_with_the_field() -> None:
    with pytest.raises(AdvisorError, match=r"^client, weights: must have the same length"):
        deletion_curve(linear, [1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0])
    with pytest.raises(AdvisorError, match=r"^outputs: must hold d \+ 1 >= 2 values"):
        curve_area([1.0])
    with pytest.raises(AdvisorError, match=r"^codes: must be \(n, 2\)"):
        reference_codes(np.zeros((3, 3)), ["integer", "continuous"])
