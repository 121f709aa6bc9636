"""Erlang B / Erlang C staffing maths (M/M/n), for promises and forecasts. Pure functions.

Traffic ``a`` is in erlangs (arrival rate x mean handle time), ``n`` agents, times in s.

- Erlang B, by the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).
- Erlang C, the probability that a caller waits: C = n B / (n - a (1 - B)) for a < n, else 1.
  Equal to the direct formula (a^n/n! . n/(n-a)) / (sum_{k<n} a^k/k! + a^n/n! . n/(n-a)).
- Service level, the fraction answered within t: SL(t) = 1 - C exp(-(n - a) t / aht).
- Average speed of answer: ASA = C aht / (n - a).
- Agents needed: the least n > a with SL(t) >= target.
- Wait quantile: the wait W has P(W > t) = C exp(-(n - a) t / aht), so the q-quantile is
  t = aht ln(C / (1 - q)) / (n - a), 0 when C <= 1 - q.
- Place quantile: a caller with k callers to be served before it (itself included) while all n
  agents are busy waits for k departures of a Poisson stream of rate n / aht: Erlang(k, n/aht).
"""

from __future__ import annotations

import math
from statistics import NormalDist


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of n servers offered a erlangs."""
    if n < 0 or a < 0:
        raise ValueError(f"erlang_b: n={n} and a={a} must be >= 0")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability that a caller has to wait (n agents, a erlangs); 1 when a >= n."""
    if n <= 0 or a >= n:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1.0 - b))


def service_level(n: int, a: float, aht: float, t: float) -> float:
    """Fraction of callers answered within t s."""
    if a >= n:
        return 0.0
    return 1.0 - erlang_c(n, a) * math.exp(-(n - a) * t / aht)


def asa(n: int, a: float, aht: float) -> float:
    """Average speed of answer in s (inf when a >= n)."""
    if a >= n:
        return math.inf
    return erlang_c(n, a) * aht / (n - a)


def agents_needed(a: float, aht: float, target: float, t: float, limit: int = 100_000) -> int:
    """Fewest agents giving service level >= target (0..1) within t s."""
    n = max(1, math.floor(a) + 1)
    while service_level(n, a, aht, t) < target:
        n += 1
        if n > limit:
            raise ValueError(f"agents_needed: more than {limit} agents for a={a}")
    return n


def occupancy(n: int, a: float) -> float:
    return min(1.0, a / n) if n > 0 else 1.0


def wait_quantile(n: int, a: float, aht: float, q: float) -> float:
    """The wait (s) that a fraction q of callers do not exceed (inf when a >= n)."""
    if a >= n:
        return math.inf
    c = erlang_c(n, a)
    if c <= 1.0 - q:
        return 0.0
    return aht * math.log(c / (1.0 - q)) / (n - a)


def place_quantile(k: int, n: int, aht: float, q: float) -> float:
    """The time (s) by which k departures from n busy agents (mean handle aht) happen with
    probability q: the q-quantile of Erlang(k, n/aht). Exact by bisection on the CDF for k <= 400,
    Wilson-Hilferty's cube-root normal approximation beyond."""
    if k <= 0:
        return 0.0
    if n <= 0:
        return math.inf
    rate = n / aht
    if k > 400:
        z = NormalDist().inv_cdf(q)
        x = k * (1 - 1 / (9 * k) + z / (3 * math.sqrt(k))) ** 3
        return x / rate

    def cdf(t: float) -> float:
        x = rate * t
        term = math.exp(-x)
        s = term
        for i in range(1, k):
            term *= x / i
            s += term
        return 1.0 - s

    lo, hi = 0.0, (k + 10 * math.sqrt(k) + 10) / rate
    while cdf(hi) < q:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if cdf(mid) < q:
            lo = mid
        else:
            hi = mid
    return hi
