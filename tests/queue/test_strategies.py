"""Each ring strategy on its own: who is rung for a caller when several agents are free."""

from __future__ import annotations

from collections import Counter

import pytest

from ccboard.queue import events as ev
from ccboard.queue.acd import QueueConfig
from ccboard.queue.strategies import STRATEGIES
from tests.queue.helpers import Host


def serve(h: Host, callid: str, t: float, talk: float = 10.0) -> str:
    """One call arrives at t, the agent rung answers, talks `talk` s; returns the agent."""
    n = len(h.actions)
    h.feed(ev.CallArrives(callid, "q"), at=t)
    rung = h.rung(n)
    assert len(rung) == 1, rung
    agent = rung[0][1]
    h.feed(ev.AgentAnswered(callid, agent), at=t + 1)
    h.feed(ev.CallEnded(callid, "agent"), at=t + 1 + talk)
    return agent


def host(strategy: str, names: str = "abcd", **kw: object) -> Host:
    h = Host(QueueConfig("q", strategy=strategy, **kw))  # type: ignore[arg-type]
    for i, n in enumerate(names):
        h.feed(ev.AddMember(n, "q", position=len(names) - i))  # positions reverse join order
        h.feed(ev.AgentLogin(n))
    return h


def test_every_named_strategy_exists() -> None:
    for name in (
        "ringall",
        "leastrecent",
        "fewestcalls",
        "random",
        "rrmemory",
        "rrordered",
        "linear",
        "wrandom",
    ):
        assert name in STRATEGIES
    assert "longest-idle-agent" in STRATEGIES


def test_ringall_rings_every_free_member_and_first_answer_wins() -> None:
    h = host("ringall")
    h.feed(ev.CallArrives("c1", "q"), at=1)
    assert sorted(a for _, a in h.rung()) == list("abcd")
    out = h.feed(ev.AgentAnswered("c1", "c"), at=2)
    stopped = sorted(a.agent for a in out if isinstance(a, ev.StopRinging))
    assert stopped == ["a", "b", "d"]
    assert h.acd.agent_state("c") is ev.AgentState.ON_CALL
    assert h.acd.agent_state("a") is ev.AgentState.AVAILABLE


def test_ringall_rings_only_the_lowest_penalty() -> None:
    h = Host(QueueConfig("q", strategy="ringall"))
    for n, p in zip("abc", (1, 0, 0), strict=True):
        h.feed(ev.AddMember(n, "q", penalty=p))
        h.feed(ev.AgentLogin(n))
    h.feed(ev.CallArrives("c1", "q"), at=1)
    assert sorted(a for _, a in h.rung()) == ["b", "c"]


def test_linear_always_starts_from_the_first_position() -> None:
    h = host("linear")  # positions: d=1, c=2, b=3, a=4
    assert [serve(h, f"c{i}", 20 * i) for i in range(3)] == ["d", "d", "d"]


def test_rrordered_walks_positions_with_memory() -> None:
    h = host("rrordered")
    assert [serve(h, f"c{i}", 20 * i) for i in range(5)] == ["d", "c", "b", "a", "d"]


def test_rrmemory_walks_join_order_with_memory() -> None:
    h = host("rrmemory")
    assert [serve(h, f"c{i}", 20 * i) for i in range(5)] == ["a", "b", "c", "d", "a"]


def test_leastrecent_picks_the_member_whose_last_call_ended_longest_ago() -> None:
    h = host("leastrecent", "ab")
    assert serve(h, "c0", 0) in "ab"
    first = h.rung()[0][1]
    other = "b" if first == "a" else "a"
    assert serve(h, "c1", 20) == other
    assert serve(h, "c2", 40) == first


def test_fewestcalls_balances_counts() -> None:
    h = host("fewestcalls", "abc")
    got = Counter(serve(h, f"c{i}", 20 * i) for i in range(9))
    assert set(got.values()) == {3}


def test_random_and_wrandom_are_seeded_and_spread() -> None:
    seqs = []
    for _ in range(2):
        h = host("random", seed=7)
        seqs.append([serve(h, f"c{i}", 20 * i) for i in range(40)])
    assert seqs[0] == seqs[1]
    assert set(seqs[0]) == set("abcd")


def test_wrandom_favours_low_penalty_without_excluding_high() -> None:
    h = Host(QueueConfig("q", strategy="wrandom", seed=3))
    h.feed(ev.AddMember("a", "q", penalty=0))
    h.feed(ev.AddMember("b", "q", penalty=9))
    for n in "ab":
        h.feed(ev.AgentLogin(n))
    got = Counter(serve(h, f"c{i}", 20 * i) for i in range(400))
    assert got["a"] > 3 * got["b"] > 0


def test_longest_idle_agent_across_queues() -> None:
    h = Host(QueueConfig("q", strategy="longest-idle-agent"), QueueConfig("other"))
    for n in "ab":
        h.feed(ev.AddMember(n, "q"))
    h.feed(ev.AddMember("a", "other"))
    h.feed(ev.AgentLogin("a"), at=0)
    h.feed(ev.AgentLogin("b"), at=5)
    # a logged in first: longest idle
    h.feed(ev.CallArrives("o1", "other"), at=6)
    h.feed(ev.AgentAnswered("o1", "a"), at=7)
    h.feed(ev.CallEnded("o1", "agent"), at=30)  # a now idle since 30, b since 5
    assert serve(h, "c1", 40) == "b"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_no_strategy_rings_a_busy_or_paused_agent(name: str) -> None:
    h = host(name)
    h.feed(ev.AgentPause("a", "lunch"))
    h.feed(ev.CallArrives("c1", "q"), at=1)
    first = {a for _, a in h.rung()}
    assert "a" not in first
    agent = sorted(first)[0]
    h.feed(ev.AgentAnswered("c1", agent), at=2)
    n = len(h.actions)
    h.feed(ev.CallArrives("c2", "q"), at=3)
    assert agent not in {a for _, a in h.rung(n)} and "a" not in {a for _, a in h.rung(n)}
