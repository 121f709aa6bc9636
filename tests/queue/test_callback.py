"""Callback menu, promises from Erlang, bookings, SMS, retries by outcome; and with the ACD."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from ccboard.queue import erlang
from ccboard.queue import events as ev
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.callback import CallbackConfig, CallbackCore, CallbackOffer, CallbackOutcome
from ccboard.queue.durable import Durable
from ccboard.queue.events import Outcome
from ccboard.store import open_store
from tests.queue.helpers import Host

TZ = "Europe/Berlin"
# 2024-03-05 10:00 in Berlin
T0 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=ZoneInfo(TZ)).timestamp()


def keys(core: CallbackCore, callid: str, digits: str, now: float) -> list[ev.Action]:
    out: list[ev.Action] = []
    for d in digits:
        out += core.handle(ev.CallerKey(callid, d), now)
    return out


def offer(core: CallbackCore, now: float = T0, position: int = 7, callerid: str = "5551000") -> None:
    core.handle(CallbackOffer("c1", "q", callerid, position, arrival_rate=0.05, aht=180, staffed=10), now)


def test_keep_waiting() -> None:
    core = CallbackCore(CallbackConfig(tz=TZ))
    offer(core)
    assert keys(core, "c1", "1", T0) == [ev.Prompt("c1", "callback-keep-waiting")]
    assert core.requests == {}


def test_keep_place_with_own_number_promises_from_erlang() -> None:
    core = CallbackCore(CallbackConfig(tz=TZ, confidence=0.8))
    offer(core)
    out = keys(core, "c1", "211", T0)  # callback, this number, keep my place
    req = next(a for a in out if isinstance(a, ev.CallbackRequest))
    want = max(erlang.place_quantile(7, 10, 180, 0.8), erlang.wait_quantile(10, 0.05 * 180, 180, 0.8))
    assert abs(req.promised - (T0 + want)) < 1e-6
    assert (req.number, req.mode, req.position) == ("5551000", "place", 7)
    assert ev.KeepPlace("c1", "5551000", req.promised) in out
    sms = next(a for a in out if isinstance(a, ev.SendSms))
    assert sms.number == "5551000" and "c1" in sms.text
    assert isinstance(out[-1], ev.Hangup)


def test_another_number_is_keyed_read_back_and_can_be_corrected() -> None:
    core = CallbackCore(CallbackConfig(tz=TZ))
    offer(core)
    out = keys(core, "c1", "22", T0)
    assert out[-1] == ev.Prompt("c1", "callback-enter-number")
    out = keys(core, "c1", "0301234#", T0)
    assert out[-1] == ev.Prompt("c1", "callback-confirm-number", say="0301234")
    out = keys(core, "c1", "2" + "0309999#" + "1", T0)
    assert out[-1] == ev.Prompt("c1", "callback-when")
    out = keys(core, "c1", "1", T0)
    assert next(a for a in out if isinstance(a, ev.CallbackRequest)).number == "0309999"


def test_chosen_time_inside_hours_is_booked_and_fires() -> None:
    core = CallbackCore(CallbackConfig(tz=TZ, open_from=8, open_until=20, priority=5))
    offer(core)
    out = keys(core, "c1", "2121800", T0)  # callback, this number, choose a time, 18:00
    assert out[-1] == ev.Prompt("c1", "callback-confirm-time", say="18:00")
    out = keys(core, "c1", "1", T0)
    req = next(a for a in out if isinstance(a, ev.CallbackRequest))
    assert req.mode == "time" and req.promised == T0 + 8 * 3600
    assert not any(isinstance(a, ev.KeepPlace) for a in out)
    assert ev.LeaveForCallback("c1") in out  # off the line until then
    assert core.next_deadline() == req.promised
    assert core.on_timeout(req.promised - 1) == []
    assert core.on_timeout(req.promised) == [ev.EnqueueCallback("c1", "q", "5551000", 5)]


def test_time_outside_hours_or_nonsense_is_refused_three_times_then_waiting() -> None:
    core = CallbackCore(CallbackConfig(tz=TZ, open_from=8, open_until=20))
    offer(core)
    keys(core, "c1", "212", T0)
    assert keys(core, "c1", "2230", T0)[-1].prompt.startswith("invalid")  # type: ignore[attr-defined]
    assert keys(core, "c1", "2599", T0)[-1].prompt.startswith("invalid")  # type: ignore[attr-defined]
    out = keys(core, "c1", "0700", T0)
    assert out[-1] == ev.Prompt("c1", "callback-keep-waiting")
    assert core.menus == {}


def test_retries_by_outcome_then_final() -> None:
    core = CallbackCore(
        CallbackConfig(tz=TZ, max_attempts=3, retry_delay=((Outcome.BUSY, 60.0),), default_retry=900)
    )
    offer(core)
    keys(core, "c1", "211", T0)
    (r1,) = core.handle(CallbackOutcome("c1", Outcome.BUSY), T0 + 100)
    assert r1.data() == ("busy", 1, 0, repr(T0 + 160))  # type: ignore[attr-defined]
    assert core.on_timeout(T0 + 160) == [ev.EnqueueCallback("c1", "q", "5551000", 5)]
    (r2,) = core.handle(CallbackOutcome("c1", Outcome.NO_ANSWER), T0 + 200)
    assert r2.data()[:3] == ("no answer", 2, 0)  # type: ignore[attr-defined]
    assert core.next_deadline() == T0 + 1100
    (r3,) = core.handle(CallbackOutcome("c1", Outcome.MACHINE), T0 + 1200)
    assert r3.data()[:3] == ("machine", 3, 1)  # type: ignore[attr-defined]
    assert core.pending() == []


def test_invalid_number_is_final_at_once_and_answered_ends() -> None:
    core = CallbackCore(CallbackConfig(tz=TZ))
    offer(core)
    keys(core, "c1", "211", T0)
    (r,) = core.handle(CallbackOutcome("c1", Outcome.INVALID), T0 + 10)
    assert r.data()[2] == 1  # type: ignore[attr-defined]


def test_end_to_end_with_the_acd_kept_promise() -> None:
    """Caller waits, takes a callback keeping the place, is dialled when it reaches an agent."""
    h = Host(QueueConfig("q", default_aht=60))
    core = CallbackCore(CallbackConfig(tz=TZ))
    h.agents("q", ["a"])
    h.feed(ev.CallArrives("busy", "q"), at=T0)
    h.feed(ev.AgentAnswered("busy", "a"), at=T0)
    h.feed(ev.CallArrives("c1", "q", callerid="5551000"), at=T0 + 1)
    rate, aht, staffed = h.acd.live_rates("q", h.now)
    core.handle(CallbackOffer("c1", "q", "5551000", h.acd.position("c1"), rate, aht, staffed), h.now)
    out = keys(core, "c1", "211", h.now)
    h._take([a for a in out if isinstance(a, ev.LedgerEvent)])
    kp = next(a for a in out if isinstance(a, ev.KeepPlace))
    h.feed(ev.CallerToVirtual(kp.callid, kp.number, kp.promised))
    h.feed(ev.CallerHangup("c1"), at=T0 + 2)
    h.feed(ev.CallEnded("busy", "agent"), at=T0 + 50)
    assert h.rung()[-1] == ("c1", "a")
    h.feed(ev.AgentAnswered("c1", "a"), at=T0 + 52)
    h.feed(ev.CallbackDialResult("c1", Outcome.ANSWERED), at=T0 + 60)
    res = core.handle(CallbackOutcome("c1", Outcome.ANSWERED), T0 + 60)
    h._take(res)
    from ccboard.queue import kpi

    k = kpi.compute(h.ledger, until=kp.promised + 1)
    assert (k.callback_requests_due, k.callback_kept, k.callback_kept_rate) == (1, 1, 1.0)


def test_booked_time_leaves_the_line_then_comes_back_through_the_durable_cores(tmp_path: Path) -> None:
    """A waiting caller books 18:00: it leaves the ACD's line in the booking's decision
    (EXITWITHKEY 2, the agents' queue goes on without it); at 18:00 the callback enters the queue
    under the same call id, reaches an agent and is dialled."""
    store = open_store(f"sqlite:///{tmp_path / 'booked.db'}")
    acd, core = Acd([QueueConfig("q")]), CallbackCore(CallbackConfig(tz=TZ))
    d = Durable(store, "e", {"acd": acd, "callback": core})
    for e in (ev.AddMember("a", "q"), ev.AgentLogin("a"), ev.CallArrives("busy", "q")):
        d.feed("acd", e, T0)
    d.feed("acd", ev.AgentAnswered("busy", "a"), T0)
    d.feed("acd", ev.CallArrives("c1", "q", callerid="5551000"), T0 + 1)
    d.feed("callback", CallbackOffer("c1", "q", "5551000", 1, 0.01, 120.0, 1), T0 + 5)
    for k in "2121800":  # callback, this number, choose a time, 18:00
        d.feed("callback", ev.CallerKey("c1", k), T0 + 6)
    dec = d.feed("callback", ev.CallerKey("c1", "1"), T0 + 7)
    assert [e.event for e in dec.ledger] == ["CALLBACKREQUEST", "EXITWITHKEY"]
    assert dec.ledger[1].data()[0] == "2" and "c1" not in acd.calls
    assert d.feed("acd", ev.CallerHangup("c1"), T0 + 8).ledger == []  # it left already: no ABANDON
    d.feed("acd", ev.CallEnded("busy", "agent"), T0 + 60)
    dec = d.timeouts(T0 + 8 * 3600)
    assert [e.event for e in dec.ledger] == ["ENTERQUEUE"] and ev.RingAgent(
        "c1", "a", 15.0, "callback 5551000"
    ) in dec.actions
    dec = d.feed("acd", ev.AgentAnswered("c1", "a"), T0 + 8 * 3600 + 2)
    assert ev.DialCallback("c1", "5551000", "a", "callback 5551000") in dec.actions
    store.close()
