"""A busy half hour of a small centre around the journalled queue cores, as a process that may be
killed: `python -m tests.queue.crashworld URL SERVER [HOLD]`.

Cores: an ACD (queue "bank", 2 agents), the callback core and a follow-up campaign of 24 contacts,
fed through ``ccboard.queue.durable.Durable`` exactly as the queue engine feeds them. The world
around them is deterministic: a caller every 30 s (virtual time), agents answering after 2 s and
talking 40-100 s, every third caller taking a callback at its first announcement (kept place, or
at a time ten minutes on for every other one),
others abandoning after 60-150 s, callback and campaign dials ending 3 or 5 s later with an outcome
fixed by (call, attempt). The world's own pending events live only in memory: a kill loses them,
as a real crash loses the calls on the lines.

On start the process replays its journal (``recover``) and carries on from the journal's last
time; arrivals at or before it are not repeated. It prints "t <epoch s>" every 20 virtual s and,
when the hour and all callbacks and campaign contacts are finished, "done <json digest>"; after a
restart, first "recovered <calls left in the ACD> <ledger events the recovery wrote>". With HOLD
(epoch s), once virtual time reaches it the process prints "hold" and waits to be killed: the
test kills at a random moment before HOLD, and a machine too loaded to land the kill in time
still gets it there rather than seeing the run finish.
"""

from __future__ import annotations

import heapq
import json
import sys
import time
import zlib
from typing import Any

from ccboard.queue import events as ev
from ccboard.queue.acd import CONNECTED, GONE, Acd, QueueConfig
from ccboard.queue.callback import CallbackConfig, CallbackCore, CallbackOffer, CallbackOutcome
from ccboard.queue.campaign import (
    AddContacts,
    AgentsFree,
    Campaign,
    CampaignConfig,
    Contact,
    DialOutcome,
    RecycleRule,
)
from ccboard.queue.durable import Decision, Durable
from ccboard.queue.events import Outcome
from ccboard.store import open_store

T0 = 1_767_607_200.0  # 2026-01-05 10:00 UTC: inside the callback hours
SPAN = 1800.0  # s of arrivals
EVERY = 30.0  # s between callers
AGENTS = ("ann", "bob")
CONTACTS = 24
OUTCOMES = (Outcome.ANSWERED, Outcome.NO_ANSWER, Outcome.BUSY)
LIMIT = T0 + 4 * 3600.0  # the run must be finished by then


def outcome(key: str, attempt: int) -> Outcome:
    """The deterministic result of dial `attempt` (1, 2, ...) of `key`."""
    return OUTCOMES[zlib.crc32(f"{key}#{attempt}".encode()) % 3]


def cores() -> dict[str, Any]:
    """Fresh cores, configured the same way on every start."""
    q = QueueConfig("bank", ring_timeout=15.0, retry=2.0, wrapup=5.0, announce_frequency=15.0)
    cb = CallbackConfig(
        max_attempts=3,
        retry_delay=((Outcome.NO_ANSWER, 120.0), (Outcome.BUSY, 60.0), (Outcome.LOST, 30.0)),
        open_from=0.0,
        open_until=24.0,
    )
    camp = CampaignConfig(
        "follow",
        window=(0.0, 24.0),
        agents=False,
        max_attempts=6,
        recycle=(
            RecycleRule(Outcome.NO_ANSWER, 120.0, 3, "NA_MAX"),
            RecycleRule(Outcome.BUSY, 60.0, 3, "BUSY_MAX"),
            RecycleRule(Outcome.LOST, 30.0, 3, "LOST_MAX"),
        ),
    )
    return {"acd": Acd([q]), "callback": CallbackCore(cb), "campaign": Campaign(camp)}


class World:
    def __init__(self, durable: Durable) -> None:
        self.d = durable
        self.acd: Acd = durable.cores["acd"]  # type: ignore[assignment]
        self.cb: CallbackCore = durable.cores["callback"]  # type: ignore[assignment]
        self.camp: Campaign = durable.cores["campaign"]  # type: ignore[assignment]
        self.pending: list[tuple[float, int, str, Any]] = []  # (when, seq, core, event)
        self.n = 0
        self.offered: set[str] = set()

    def at(self, when: float, core: str, event: Any) -> None:
        """Feed `event` to `core` at `when`; core "both": (dial result, callback outcome) at once,
        as the engine feeds them."""
        self.n += 1
        heapq.heappush(self.pending, (when, self.n, core, event))

    def feed(self, core: str, event: ev.Event, now: float) -> None:
        self.react(self.d.feed(core, event, now), now)

    def react(self, d: Decision, now: float) -> None:
        for a in d.actions:
            if isinstance(a, ev.RingAgent):
                self.at(now + 2.0, "acd", ev.AgentAnswered(a.callid, a.agent))
            elif isinstance(a, ev.Bridge):
                talk = 40.0 + zlib.crc32(a.callid.encode()) % 61
                self.at(now + talk, "acd", ev.CallEnded(a.callid, "agent"))
            elif isinstance(a, ev.Announce) and a.position is not None:
                self.offer(a.callid, now)
            elif isinstance(a, ev.DialCallback):
                r = self.cb.requests[a.callid]
                o = outcome(a.callid, r.attempts + 1)
                self.at(now + 3.0, "both", (ev.CallbackDialResult(a.callid, o), CallbackOutcome(a.callid, o)))
            elif isinstance(a, ev.Dial):
                attempt = int(a.callid.rsplit("-", 1)[1])
                self.at(now + 5.0, "campaign", DialOutcome(a.callid, outcome(a.contact, attempt)))
            elif isinstance(a, ev.Hangup) and a.callid in self.acd.calls:
                self.at(now + 1.0, "acd", ev.CallerHangup(a.callid))  # booked: the caller hangs up

    def offer(self, callid: str, now: float) -> None:
        i = int(callid[1:])
        if i % 3 or callid in self.offered:
            return
        self.offered.add(callid)
        rate, aht, staffed = self.acd.live_rates("bank", now)
        pos = self.acd.position(callid)
        self.feed("callback", CallbackOffer(callid, "bank", f"555{i:04d}", pos, rate, aht, staffed), now)
        keys = "211"  # callback on my number, keep my place
        if i % 2:  # ... or at a time: HHMM (UTC), ten minutes on, then confirm
            at = time.gmtime(now + 600)
            keys = f"212{at.tm_hour:02d}{at.tm_min:02d}1"
        for k, key in enumerate(keys):
            self.at(now + 1.0 + k, "callback", ev.CallerKey(callid, key))

    def waiting(self, callid: str) -> bool:
        c = self.acd.calls.get(callid)
        return c is not None and c.state not in (CONNECTED, GONE) and not c.virtual

    def step(self, now: float) -> None:
        while self.pending and self.pending[0][0] <= now:
            _, _, core, e = heapq.heappop(self.pending)
            if isinstance(e, ev.CallerKey) and not (e.callid in self.cb.menus and self.waiting(e.callid)):
                continue  # connected or gone meanwhile: the menu is moot
            if isinstance(e, ev.CallerHangup) and not self.waiting(e.callid):
                continue  # patience ran out too late: already talking, kept place or gone
            if isinstance(e, ev.CallEnded) and self.acd.calls.get(e.callid, None) is None:
                continue
            if isinstance(e, ev.CallerHangup) and e.callid in self.cb.menus:
                self.cb.menus.pop(e.callid)  # as the engine does when a caller leaves the menu
            if core == "both":
                self.react(self.d.feed_many([("acd", e[0]), ("callback", e[1])], now), now)
            else:
                self.feed(core, e, now)
        self.react(self.d.timeouts(now), now)

    def busy(self) -> bool:
        return bool(
            self.acd.calls
            or self.cb.pending()
            or self.camp.in_flight
            or any(s.status in ("NEW", "RETRY", "DIALLING") for s in self.camp.states.values())
        )


def digest(d: Durable) -> dict[str, Any]:
    """The cores' durable state, comparable between a live run and a replay."""
    acd: Acd = d.cores["acd"]  # type: ignore[assignment]
    cb: CallbackCore = d.cores["callback"]  # type: ignore[assignment]
    camp: Campaign = d.cores["campaign"]  # type: ignore[assignment]
    return {
        "agents": {n: [a.state.value, a.calls] for n, a in sorted(acd.agents.items())},
        "calls": sorted(acd.calls),
        "callbacks": {k: list(v) for k, v in sorted(cb.snapshot().items())},
        "contacts": {k: [s.status, s.attempts] for k, s in sorted(camp.states.items())},
        "aht": round(acd.queues["bank"].aht, 6),
    }


def main(url: str, server: str, hold: float | None = None, snapshot_every: int = 0) -> None:
    store = open_store(url)
    d = Durable(store, server, cores(), snapshot_every=snapshot_every)
    w = World(d)
    last = store.journal(server)[-1].time if store.journal_seq(server) else None
    if last is None:
        now = T0
        w.feed("campaign", AddContacts(tuple(Contact(f"k{i}", f"666{i:04d}") for i in range(CONTACTS))), now)
        w.feed("campaign", AgentsFree(2), now)
        for a in AGENTS:
            w.feed("acd", ev.AddMember(a, "bank"), now)
            w.feed("acd", ev.AgentLogin(a), now)
    else:
        now = last
        rec = d.recover(now)
        print(f"recovered {len(w.acd.calls)} {' '.join(e.EVENT for e in rec.ledger)}", flush=True)
        w.react(rec, now)
    i_next = 0 if last is None else int((last - T0) // EVERY) + 1
    while now < LIMIT:
        while i_next * EVERY < SPAN and T0 + i_next * EVERY <= now:
            cid = f"c{i_next}"
            w.feed("acd", ev.CallArrives(cid, "bank", callerid=f"555{i_next:04d}"), now)
            w.at(now + 60.0 + (i_next * 37) % 91, "acd", ev.CallerHangup(cid))  # patience
            i_next += 1
        w.step(now)
        if now - T0 > SPAN and not w.busy() and not w.pending:
            break
        now += 1.0
        if int(now - T0) % 20 == 0:
            print(f"t {now}", flush=True)
        if hold is not None and now >= hold:
            print("hold", flush=True)
            while True:
                time.sleep(1.0)
    print("done " + json.dumps(digest(d), sort_keys=True), flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else None)
