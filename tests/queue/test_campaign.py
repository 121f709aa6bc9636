"""Campaign rules: calling windows per time zone, do-not-call, recycle delays and caps,
"no answer after N attempts", progressive and predictive pacing with the drop cap, survey and
complaint escalation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ccboard.queue import events as ev
from ccboard.queue.campaign import (
    AddContacts,
    AddDnc,
    AgentsFree,
    CallDone,
    Campaign,
    CampaignConfig,
    Contact,
    DialOutcome,
    Question,
    RecycleRule,
)
from ccboard.queue.events import Outcome

# 2024-03-05 08:00 UTC: 09:00 in Berlin, 03:00 in New York, 16:00 in Shanghai
T0 = dt.datetime(2024, 3, 5, 8, 0, tzinfo=dt.UTC).timestamp()


def dials(out: list[ev.Action]) -> list[str]:
    return [a.contact for a in out if isinstance(a, ev.Dial)]


def test_calling_window_follows_each_contacts_time_zone() -> None:
    c = Campaign(CampaignConfig("fu", window=(9.0, 20.0)))
    c.handle(AddContacts((Contact("ber", "1", "Europe/Berlin"), Contact("nyc", "2", "America/New_York"))), T0)
    c.handle(AgentsFree(5), T0)
    assert dials(c.on_timeout(T0)) == ["ber"]
    nyc_open = dt.datetime(2024, 3, 5, 9, 0, tzinfo=ZoneInfo("America/New_York")).timestamp()
    assert c.next_deadline() == nyc_open
    assert dials(c.on_timeout(nyc_open)) == ["nyc"]


def test_dnc_is_never_dialled_and_refusal_adds_to_it() -> None:
    c = Campaign(CampaignConfig("fu", window=(0, 24), dnc=frozenset({"666"})))
    c.handle(AddContacts((Contact("a", "666"), Contact("b", "777"))), T0)
    c.handle(AgentsFree(2), T0)
    out = c.on_timeout(T0)
    assert dials(out) == ["b"]
    assert c.status("a") == "DNC"
    c.handle(DialOutcome(out[-1].callid, Outcome.REFUSED), T0 + 5)  # type: ignore[attr-defined]
    assert c.status("b") == "REFUSED" and "777" in c.dnc
    c.handle(AddDnc("888"), T0)
    assert "888" in c.dnc


def test_recycle_delays_and_no_answer_after_n_attempts() -> None:
    rules = (RecycleRule(Outcome.NO_ANSWER, 600, 3, "NA_MAX"), RecycleRule(Outcome.BUSY, 120, 5, "B_MAX"))
    c = Campaign(CampaignConfig("fu", window=(0, 24), recycle=rules, max_attempts=10))
    c.handle(AddContacts((Contact("a", "1"),)), T0)
    c.handle(AgentsFree(1), T0)
    t = T0
    results = []
    for outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.NO_ANSWER):
        out = c.on_timeout(t)
        (d,) = [a for a in out if isinstance(a, ev.Dial)]
        (res,) = c.handle(DialOutcome(d.callid, outcome), t + 30)
        results.append(res)
        if c.next_deadline() is not None:
            t = c.next_deadline()  # type: ignore[assignment]
    assert [r.data()[1:4] for r in results] == [  # type: ignore[attr-defined]
        ("no answer", 1, "RETRY"),
        ("busy", 2, "RETRY"),
        ("no answer", 3, "RETRY"),
        ("no answer", 4, "NA_MAX"),
    ]
    assert float(results[0].next) == T0 + 30 + 600  # type: ignore[attr-defined]
    assert float(results[1].next) == T0 + 30 + 600 + 30 + 120  # type: ignore[attr-defined]
    assert c.status("a") == "NA_MAX"


def test_final_outcomes_and_attempt_cap() -> None:
    c = Campaign(CampaignConfig("fu", window=(0, 24), max_attempts=1))
    c.handle(AddContacts((Contact("f", "1"), Contact("i", "2"), Contact("m", "3"))), T0)
    c.handle(AgentsFree(3), T0)
    out = c.on_timeout(T0)
    ids = {a.contact: a.callid for a in out if isinstance(a, ev.Dial)}
    c.handle(DialOutcome(ids["f"], Outcome.FAX), T0 + 1)
    c.handle(DialOutcome(ids["i"], Outcome.INVALID), T0 + 1)
    c.handle(DialOutcome(ids["m"], Outcome.MACHINE), T0 + 1)
    assert [c.status(x) for x in "fim"] == ["FAX", "INVALID", "MAX_ATTEMPTS"]


def test_progressive_dials_one_line_per_free_agent() -> None:
    c = Campaign(CampaignConfig("fu", window=(0, 24)))
    c.handle(AddContacts(tuple(Contact(str(i), str(i)) for i in range(20))), T0)
    c.handle(AgentsFree(3), T0)
    assert len(dials(c.on_timeout(T0))) == 3
    assert dials(c.on_timeout(T0 + 1)) == []  # three in flight already


def test_predictive_overdials_by_answer_rate_and_falls_back_at_the_drop_cap() -> None:
    cfg = CampaignConfig("fu", pacing="predictive", window=(0, 24), initial_answer_rate=0.25, max_ratio=3.0)
    c = Campaign(cfg)
    c.handle(AddContacts(tuple(Contact(str(i), str(i)) for i in range(200))), T0)
    c.handle(AgentsFree(4), T0)
    out = c.on_timeout(T0)
    assert len(dials(out)) == 12  # 4 agents x min(3, 1/0.25)
    callids = [a.callid for a in out if isinstance(a, ev.Dial)]
    # five people answer, only four agents: one drop
    got: list[ev.Action] = []
    for cid in callids[:5]:
        got += c.handle(DialOutcome(cid, Outcome.ANSWERED), T0 + 10)
    assert sum(isinstance(a, ev.ConnectToAgent) for a in got) == 4
    assert ev.Hangup(callids[4], "campaign-drop") in got
    assert c.drop_rate == pytest.approx(1 / 5)
    for cid in callids[5:]:
        c.handle(DialOutcome(cid, Outcome.NO_ANSWER), T0 + 10)
    c.handle(AgentsFree(4), T0 + 20)
    assert len(dials(c.on_timeout(T0 + 20))) == 4  # drop rate 20 % >= 3 %: progressive


def test_survey_and_escalation_of_an_unsatisfied_answer() -> None:
    survey = (
        Question("q1", "survey-resolved", "12", unsatisfied="2"),
        Question("q2", "survey-score", "12345"),
    )
    c = Campaign(
        CampaignConfig("fu", queue="agents", window=(0, 24), survey=survey, complaint_queue="complaints")
    )
    c.handle(AddContacts((Contact("happy", "1"), Contact("sad", "2"))), T0)
    c.handle(AgentsFree(2), T0)
    ids = {a.contact: a.callid for a in c.on_timeout(T0) if isinstance(a, ev.Dial)}
    for k in ids.values():
        out = c.handle(DialOutcome(k, Outcome.ANSWERED), T0 + 5)
        assert ev.ConnectToAgent(k, "agents", [x for x in ids if ids[x] == k][0]) in out
        assert c.handle(CallDone(k), T0 + 60)[-1] == ev.Prompt(k, "survey-resolved")
    h = ids["happy"]
    assert c.handle(ev.CallerKey(h, "9"), T0 + 61)[0] == ev.Prompt(h, "survey-invalid")
    c.handle(ev.CallerKey(h, "1"), T0 + 62)
    out = c.handle(ev.CallerKey(h, "5"), T0 + 63)
    assert c.status("happy") == "SURVEYED" and out[-1] == ev.Hangup(h, "campaign-thanks")
    s = ids["sad"]
    out = c.handle(ev.CallerKey(s, "2"), T0 + 62)
    assert [type(a).__name__ for a in out] == ["SurveyAnswer", "Escalate", "ConnectToAgent"]
    assert out[-1] == ev.ConnectToAgent(s, "complaints", "sad")
    assert c.status("sad") == "ESCALATED"
