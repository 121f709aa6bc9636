"""ACD rules one at a time: priority, skills, penalty relaxation, tiers, timers, empty queues,
exit keys, overflow, announcements, live estimate and kept-place callbacks."""

from __future__ import annotations

import pytest

from ccboard.queue import events as ev
from ccboard.queue.acd import PenaltyRule, QueueConfig
from ccboard.queue.events import AgentState, Outcome, QueueError
from tests.queue.helpers import Host


def test_vip_caller_goes_before_earlier_callers() -> None:
    h = Host(QueueConfig("q"))
    h.feed(ev.AddMember("a", "q"))
    h.feed(ev.CallArrives("c1", "q"), at=1)
    h.feed(ev.CallArrives("c2", "q"), at=2)
    h.feed(ev.CallArrives("vip", "q", priority=10), at=3)
    assert [h.acd.position(c) for c in ("vip", "c1", "c2")] == [1, 2, 3]
    h.feed(ev.AgentLogin("a"), at=4)
    assert h.rung() == [("vip", "a")]


def test_skills_with_levels() -> None:
    h = Host(QueueConfig("q"))
    h.acd.define_agent("en", {"english": 5})
    h.acd.define_agent("fr1", {"french": 1})
    h.agents("q", ["en", "fr1"])
    h.feed(ev.CallArrives("c1", "q", skills=(("french", 3),)), at=1)
    assert h.rung() == []
    h.acd.define_agent("fr5", {"french": 5})
    h.agents("q", ["fr5"])
    assert h.rung() == [("c1", "fr5")]


def test_penalty_relaxes_with_waiting_time() -> None:
    rules = (PenaltyRule(30, max_change=1), PenaltyRule(60, max_change=5))
    h = Host(QueueConfig("q", max_penalty=0, rules=rules))
    h.feed(ev.AddMember("p2", "q", penalty=2))
    h.feed(ev.AgentLogin("p2"))
    h.feed(ev.CallArrives("c1", "q"), at=0)
    h.advance(59)
    assert h.rung() == []
    h.advance(61)
    assert h.rung() == [("c1", "p2")]
    assert h.events("ENTERQUEUE")[0].time == 0


def test_rules_may_only_widen() -> None:
    with pytest.raises(QueueError, match="only widen"):
        QueueConfig("q", rules=(PenaltyRule(10, max_change=-1),))


def test_tiers_open_with_wait_and_skip_empty_tiers() -> None:
    h = Host(QueueConfig("q", strategy="top-down", tier_rules=True, tier_wait=20))
    h.feed(ev.AddMember("t1", "q", level=1))
    h.feed(ev.AddMember("t2", "q", level=2))
    h.agents("q", []) if False else None
    h.feed(ev.AgentLogin("t1"))
    h.feed(ev.AgentLogin("t2"))
    h.feed(ev.CallArrives("x", "q"), at=0)
    h.feed(ev.AgentAnswered("x", "t1"), at=1)
    h.feed(ev.CallArrives("c1", "q"), at=2)
    n = len(h.actions)
    h.advance(21)
    assert h.rung(n) == []
    h.advance(22.5)
    assert h.rung(n) == [("c1", "t2")]
    # no-agent-no-wait: with tier 1 unstaffed, tier 2 is rung at once
    g = Host(QueueConfig("q", tier_rules=True, tier_wait=20, tier_no_agent_no_wait=True))
    g.feed(ev.AddMember("t1", "q", level=1))
    g.feed(ev.AddMember("t2", "q", level=2))
    g.feed(ev.AgentLogin("t2"))
    g.feed(ev.CallArrives("c1", "q"), at=0)
    assert g.rung() == [("c1", "t2")]


def test_wrapup_then_available_and_wrapup_in_ledger() -> None:
    h = Host(QueueConfig("q", wrapup=30))
    h.agents("q", ["a"])
    h.feed(ev.CallArrives("c1", "q"), at=0)
    h.feed(ev.AgentAnswered("c1", "a"), at=2)
    h.feed(ev.CallEnded("c1", "caller"), at=62)
    assert h.acd.agent_state("a") is AgentState.WRAP_UP
    h.feed(ev.CallArrives("c2", "q"), at=70)
    assert h.rung() == [("c1", "a")]
    h.advance(92)
    assert h.acd.agent_state("a") is AgentState.RINGING
    assert h.rung()[-1] == ("c2", "a")
    (w,) = h.events("WRAPUP")
    assert (w.time, w.wrapuptime) == (92, 30)  # type: ignore[attr-defined]
    (cc,) = h.events("COMPLETECALLER")
    assert cc.data() == (2, 60, 1)


def test_ring_timeout_autopause_and_retry_keep_the_place() -> None:
    h = Host(QueueConfig("q", strategy="linear", ring_timeout=15, retry=5, autopause=True))
    h.feed(ev.AddMember("a", "q", position=1))
    h.feed(ev.AddMember("b", "q", position=2))
    h.feed(ev.AgentLogin("a"))
    h.feed(ev.AgentLogin("b"))
    h.feed(ev.CallArrives("c1", "q"), at=0)
    h.feed(ev.CallArrives("c2", "q"), at=1)
    assert h.rung() == [("c1", "a"), ("c2", "b")]
    h.feed(ev.AgentAnswered("c2", "b"), at=10)
    h.advance(15)
    (rna,) = h.events("RINGNOANSWER")
    assert (rna.agent, rna.ringtime) == ("a", 15000)  # type: ignore[attr-defined]
    assert h.acd.agent_state("a") is AgentState.PAUSED
    assert h.events("PAUSE")[0].data() == ("autopause",)
    assert h.acd.position("c1") == 1
    h.feed(ev.CallEnded("c2", "agent"), at=18)
    assert h.rung()[-1] == ("c2", "b")  # c1 rests until 20
    h.advance(20)
    assert h.rung()[-1] == ("c1", "b")


def test_reject_is_a_no_answer() -> None:
    h = Host(QueueConfig("q", retry=0))
    h.agents("q", ["a", "b"])
    h.feed(ev.CallArrives("c1", "q"), at=0)
    h.feed(ev.AgentRejected("c1", "a"), at=1)
    assert h.events("RINGNOANSWER")[0].agent == "a"


def test_maxlen_and_joinempty_and_leavewhenempty() -> None:
    h = Host(QueueConfig("q", maxlen=1, overflow="voicemail"))
    h.feed(ev.AddMember("a", "q"))
    h.feed(ev.CallArrives("c1", "q"), at=0)
    out = h.feed(ev.CallArrives("c2", "q"), at=1)
    assert [e.event for e in h.ledger if e.callid == "c2"] == ["FULL"]
    assert ev.ExitQueue("c2", "q", "FULL", "voicemail") in out

    g = Host(QueueConfig("q", joinempty=frozenset({"unavailable", "paused"})))
    g.feed(ev.AddMember("a", "q"))
    g.feed(ev.CallArrives("c1", "q"), at=0)
    assert g.events("JOINEMPTY")
    g.feed(ev.AgentLogin("a"))
    g.feed(ev.AgentPause("a", "break"))
    g.feed(ev.CallArrives("c2", "q"), at=1)
    assert len(g.events("JOINEMPTY")) == 2

    k = Host(QueueConfig("q", leavewhenempty=frozenset({"unavailable", "paused"})))
    k.agents("q", ["a"])
    k.feed(ev.AgentPause("a"))
    k.feed(ev.CallArrives("c1", "q"), at=0)
    k.feed(ev.AgentLogout("a"), at=3)
    (x,) = k.events("EXITEMPTY")
    assert x.callid == "c1" and x.data() == (1, 1, 3)


def test_exit_key_and_timeout_to_overflow() -> None:
    h = Host(QueueConfig("q", exit_keys=(("0", "operator"),), timeout=120, overflow="site-b"))
    h.feed(ev.AddMember("a", "q"))
    h.feed(ev.CallArrives("c1", "q"), at=0)
    h.feed(ev.CallArrives("c2", "q"), at=1)
    out = h.feed(ev.CallerKey("c1", "5"), at=2)
    assert out == []
    out = h.feed(ev.CallerKey("c1", "0"), at=3)
    assert ev.ExitQueue("c1", "q", "KEY", "operator") in out
    assert h.events("EXITWITHKEY")[0].data() == ("0", 1, 1, 3)
    h.advance(121)
    (t,) = h.events("EXITWITHTIMEOUT")
    assert t.callid == "c2" and t.data() == (1, 2, 120)
    assert ev.ExitQueue("c2", "q", "TIMEOUT", "site-b") in h.actions


def test_hangup_while_ringing_cancels_and_abandons() -> None:
    h = Host(QueueConfig("q"))
    h.agents("q", ["a"])
    h.feed(ev.CallArrives("c1", "q"), at=0)
    h.feed(ev.CallerHangup("c1"), at=4)
    assert [e.event for e in h.ledger if e.callid == "c1"] == ["ENTERQUEUE", "RINGCANCELED", "ABANDON"]
    assert h.acd.agent_state("a") is AgentState.AVAILABLE
    assert h.feed(ev.CallerHangup("c1"), at=5) == []  # a second hang-up is a no-op


def announcements(h: Host, callid: str) -> list[ev.Announce]:
    return [a for a in h.actions if isinstance(a, ev.Announce) and a.callid == callid]


def test_position_announcements_only_up_and_holdtime_once() -> None:
    cfg = QueueConfig(
        "q", announce_frequency=30, announce_position_only_up=True, announce_holdtime="once", default_aht=120
    )
    h = Host(cfg)
    h.agents("q", ["a", "b"])
    for i in range(4):
        h.feed(ev.CallArrives(f"x{i}", "q"), at=0)  # x0, x1 ringing, x2, x3 waiting
    h.feed(ev.AgentAnswered("x0", "a"), at=1)
    h.feed(ev.AgentAnswered("x1", "b"), at=1)
    h.advance(31)
    a3 = announcements(h, "x3")
    assert a3 == [ev.Announce("x3", "q", 2, False, 2 * 120 / 2)]  # first one: position and wait
    h.advance(61)  # no change: only-up says nothing, holdtime was once
    assert len(announcements(h, "x3")) == 1
    h.feed(ev.CallEnded("x0", "agent"), at=70)  # x2 rings a (still in line: ringing callers count)
    h.feed(ev.AgentAnswered("x2", "a"), at=71)  # x3 is now first
    h.advance(91)
    assert announcements(h, "x3")[-1] == ev.Announce("x3", "q", 1, False, None)


def test_first_announcement_soon_then_every_frequency() -> None:
    """announce_first: a caller who has to wait hears the first one after that many s (app_queue
    says it at once), the next ones every announce_frequency; one who is answered hears none."""
    h = Host(QueueConfig("q", announce_frequency=15, announce_first=5, announce_holdtime="yes"))
    h.agents("q", ["a"])
    h.feed(ev.CallArrives("c1", "q"), at=0)  # rings a at once
    h.feed(ev.AgentAnswered("c1", "a"), at=1)
    h.feed(ev.CallArrives("c2", "q"), at=2)  # waits
    h.advance(6.9)
    assert not announcements(h, "c2")
    h.advance(7)  # 5 s after it came
    assert not announcements(h, "c1") and announcements(h, "c2") == [ev.Announce("c2", "q", 1, False, 180.0)]
    h.advance(21.9)
    assert len(announcements(h, "c2")) == 1
    h.advance(22)
    assert len(announcements(h, "c2")) == 2
    with pytest.raises(QueueError, match="announce_first"):
        QueueConfig("q", announce_frequency=15, announce_first=-1)


def test_position_more_than_limit_and_periodic_prompts() -> None:
    cfg = QueueConfig(
        "q",
        announce_frequency=20,
        announce_position="more",
        announce_position_limit=2,
        periodic_announce=("p1", "p2"),
        periodic_announce_frequency=25,
    )
    h = Host(cfg)
    for i in range(4):
        h.feed(ev.CallArrives(f"c{i}", "q"), at=0)
    h.advance(51)
    got = announcements(h, "c3")
    assert got[0] == ev.Announce("c3", "q", 2, True, None)
    assert [a.prompt for a in got if a.prompt] == ["p1", "p2"]


def test_estimate_is_live() -> None:
    h = Host(QueueConfig("q", default_aht=100))
    h.agents("q", ["a", "b"])
    assert h.acd.estimated_wait("q", 4) == 200
    h.feed(ev.CallArrives("c1", "q"), at=0)
    h.feed(ev.AgentAnswered("c1", "a"), at=0)
    h.feed(ev.CallEnded("c1", "agent"), at=40)
    assert h.acd.estimated_wait("q", 4) == 80  # AHT is now 40 s
    h.feed(ev.AgentPause("b"))
    assert h.acd.estimated_wait("q", 4) == 160
    h.feed(ev.AgentPause("a"))
    assert h.acd.estimated_wait("q", 4) is None


def test_kept_place_callback_is_dialled_when_it_reaches_an_agent() -> None:
    h = Host(QueueConfig("q"))
    h.feed(ev.AddMember("a", "q"))
    h.feed(ev.CallArrives("c1", "q", callerid="5551000"), at=0)
    h.feed(ev.CallArrives("c2", "q"), at=1)
    h.feed(ev.CallerToVirtual("c1", "5552000"), at=10)
    h.feed(ev.CallerHangup("c1"), at=11)  # the line drops; the place stays
    assert h.acd.position("c1") == 1 and h.acd.position("c2") == 2
    h.feed(ev.AgentLogin("a"), at=20)
    assert h.rung() == [("c1", "a")]
    ring = [a for a in h.actions if isinstance(a, ev.RingAgent)][0]
    assert "5552000" in ring.whisper
    out = h.feed(ev.AgentAnswered("c1", "a"), at=22)
    assert ev.DialCallback("c1", "5552000", "a", "callback 5552000") in out
    h.feed(ev.CallbackDialResult("c1", Outcome.ANSWERED), at=30)
    assert h.events("CONNECT")[0].data() == (30, "a", 10)
    assert h.acd.agent_state("a") is AgentState.ON_CALL


def test_failed_callback_frees_the_agent() -> None:
    h = Host(QueueConfig("q"))
    h.agents("q", ["a"])
    h.feed(ev.AgentPause("a"))
    h.feed(ev.CallArrives("c1", "q", callerid="5551000"), at=0)
    h.feed(ev.CallArrives("c2", "q"), at=0)
    h.feed(ev.CallerToVirtual("c1", ""), at=5)
    h.feed(ev.AgentUnpause("a"), at=6)
    h.feed(ev.AgentAnswered("c1", "a"), at=7)
    h.feed(ev.CallbackDialResult("c1", Outcome.BUSY), at=12)
    (x,) = h.events("EXITCALLBACK")
    assert x.data() == ("busy", 1, 1, 12)
    assert h.rung()[-1] == ("c2", "a")


def test_bad_input_names_the_call() -> None:
    h = Host(QueueConfig("q"))
    with pytest.raises(QueueError, match="unknown queue 'nope'"):
        h.feed(ev.CallArrives("c1", "nope"))
    with pytest.raises(QueueError, match="c9"):
        h.feed(ev.CallEnded("c9", "agent"))
    with pytest.raises(QueueError, match="unknown strategy"):
        QueueConfig("q", strategy="roundrobin-ish")
