"""Counter-based noise of the demo SCM: distributions and stream independence."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from advisor.datasets._noise import ClientNoise, choose, poisson

INDEX = np.arange(200_000, dtype=np.int64)


def test_uniforms_are_uniform_and_never_0_or_1() -> None:
    u = ClientNoise(0, INDEX).uniform("age")
    assert ((u > 0) & (u < 1)).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-4


def test_normals_are_standard_normal() -> None:
    z = ClientNoise(3, INDEX).normal("income")
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_streams_seeds_and_clients_are_independent() -> None:
    noise = ClientNoise(0, INDEX)
    a, b = noise.uniform("age"), noise.uniform("sex")
    other_seed = ClientNoise(1, INDEX).uniform("age")
    neighbours = a[1:]
    for other in (b, other_seed, neighbours):
        assert abs(np.corrcoef(a[: len(other)], other)[0, 1]) < 0.01


def test_a_client_noise_depends_only_on_seed_index_and_stream() -> None:
    full = ClientNoise(9, INDEX[:1000]).uniform("x")
    picked = ClientNoise(9, np.array([999, 3, 3], dtype=np.int64)).uniform("x")
    np.testing.assert_array_equal(picked, full[[999, 3, 3]])


@settings(max_examples=50, deadline=None)
@given(
    u=st.lists(st.floats(1e-9, 1 - 1e-9), min_size=1, max_size=50),
    lam=st.floats(0.01, 20.0),
)
def test_poisson_inverts_the_cdf_like_scipy(u: list[float], lam: float) -> None:
    draws = np.asarray(u)
    expected = np.minimum(stats.poisson.ppf(draws, lam), 60)
    got = poisson(draws, np.full(len(draws), lam), cap=60)
    # Two CDF implementations may round differently when u sits on a CDF step.
    on_step = np.isclose(draws, stats.poisson.cdf(expected, lam), rtol=0, atol=1e-9) | np.isclose(
        draws, stats.poisson.cdf(expected - 1, lam), rtol=0, atol=1e-9
    )
    np.testing.assert_array_equal(got[~on_step], expected[~on_step])


def test_choose_follows_the_weights() -> None:
    weights = np.tile([1.0, 0.0, 3.0], (len(INDEX), 1))
    codes = choose(ClientNoise(0, INDEX).uniform("c"), weights)
    assert set(np.unique(codes)) == {0, 2}
    assert abs((codes == 2).mean() - 0.75) < 0.01
