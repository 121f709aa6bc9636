"""Erlang B / C against the direct factorial formulas (exact rationals) and table values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from ccboard.queue import erlang


def direct_c(n: int, a: Fraction) -> Fraction:
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def direct_b(n: int, a: Fraction) -> Fraction:
    return (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))


@given(st.integers(1, 60), st.fractions(min_value=0, max_value=80, max_denominator=100))
def test_erlang_b_and_c_equal_the_direct_formulas(n: int, a: Fraction) -> None:
    assert math.isclose(erlang.erlang_b(n, float(a)), float(direct_b(n, a)), rel_tol=1e-9, abs_tol=1e-300)
    if a < n:
        assert math.isclose(erlang.erlang_c(n, float(a)), float(direct_c(n, a)), rel_tol=1e-9, abs_tol=1e-300)
    else:
        assert erlang.erlang_c(n, float(a)) == 1.0


def test_table_values() -> None:
    assert math.isclose(erlang.erlang_c(3, 2.0), 4 / 9, rel_tol=1e-12)  # textbook M/M/3 at 2 erlangs
    # Erlang B tables at 1 % blocking: 5 lines carry 1.36 E, 10 lines 4.46 E, 20 lines 12.03 E
    for n, a in ((5, 1.36), (10, 4.46), (20, 12.03)):
        assert 0.0095 < erlang.erlang_b(n, a) < 0.0105
    # 30 calls/h of 5 min mean (2.5 E): P(wait) <= 10 % needs 6 agents
    assert erlang.erlang_c(5, 2.5) > 0.1 >= erlang.erlang_c(6, 2.5)


@given(st.integers(1, 80), st.floats(0.1, 0.99), st.floats(10, 600), st.floats(0, 120))
def test_service_level_asa_and_quantile_are_consistent(n: int, rho: float, aht: float, t: float) -> None:
    a = n * rho
    sl = erlang.service_level(n, a, aht, t)
    assert 0.0 <= sl <= 1.0
    assert erlang.service_level(n + 1, a, aht, t) >= sl - 1e-12
    # ASA is the integral of P(W > t)
    c = erlang.erlang_c(n, a)
    assert math.isclose(erlang.asa(n, a, aht), c * aht / (n - a), rel_tol=1e-12)
    q = 0.8
    w = erlang.wait_quantile(n, a, aht, q)
    assert erlang.service_level(n, a, aht, w) >= q - 1e-9


@given(st.floats(0.5, 200), st.floats(30, 600), st.floats(0.5, 0.95), st.floats(5, 60))
def test_agents_needed_is_the_least(a: float, aht: float, target: float, t: float) -> None:
    n = erlang.agents_needed(a, aht, target, t)
    assert erlang.service_level(n, a, aht, t) >= target
    if n - 1 > a:
        assert erlang.service_level(n - 1, a, aht, t) < target


@pytest.mark.parametrize("k", [1, 2, 7, 40, 400, 401, 5000])
def test_place_quantile_is_the_erlang_distribution_quantile(k: int) -> None:
    n, aht, q = 12, 180.0, 0.8
    want = stats.gamma.ppf(q, k, scale=aht / n)
    assert math.isclose(erlang.place_quantile(k, n, aht, q), want, rel_tol=1e-6 if k <= 400 else 2e-3)
