"""Hypothesis state machine over the ACD: random arrivals, hang-ups, answers, rejects, pauses,
log-ins/outs, exit keys and the passing of time (ring timeouts, wrap-up, retries, queue timeouts).

After every step: no call is lost (each joined call is in line, connected, or ended by exactly
one terminal ledger row), no agent is double-booked, the ACD's sets agree with the agents'
states, every ledger row is in order, and the KPIs computed from the ledger equal the ones
recomputed from the raw events the test fed.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ccboard.queue import events as ev
from ccboard.queue import kpi
from ccboard.queue.acd import CONNECTED, DIALING, PenaltyRule, QueueConfig
from ccboard.queue.agents import Activity
from ccboard.queue.events import AgentState, Outcome
from tests.queue.helpers import Host

AGENTS = ["a0", "a1", "a2", "a3", "a4"]
TERMINAL = {
    "EXITCALLBACK",
    "ABANDON",
    "EXITWITHTIMEOUT",
    "EXITWITHKEY",
    "EXITEMPTY",
    "COMPLETEAGENT",
    "COMPLETECALLER",
}
SL_T, SHORT = 20.0, 5.0


class AcdMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.h = Host(
            QueueConfig(
                "sales", strategy="ringall", ring_timeout=12, retry=3, timeout=60, exit_keys=(("0", "op"),)
            ),
            QueueConfig(
                "support",
                strategy="leastrecent",
                wrapup=7,
                ring_timeout=9,
                retry=2,
                autopause=True,
                max_penalty=0,
                rules=(PenaltyRule(25, max_change=2),),
                maxlen=6,
                leavewhenempty=frozenset({"unavailable"}),
            ),
        )
        self.h.acd.define_agent("a0", {"fr": 3})
        for i, a in enumerate(AGENTS):
            if i != 4:
                self.h.feed(ev.AddMember(a, "sales", penalty=i % 2))
            if i >= 2:
                self.h.feed(ev.AddMember(a, "support", penalty=i - 2))
        for a in AGENTS[:4]:
            self.h.feed(ev.AgentLogin(a))
        self.n = 0
        # raw model: what the test itself saw happen, with its own clock
        self.arrived: dict[str, float] = {}
        self.connected: dict[str, float] = {}
        self.abandoned: dict[str, float] = {}
        self.ended: set[str] = set()

    def now(self) -> float:
        return self.h.now

    # ------------------------------------------------------------ rules

    @rule(queue=st.sampled_from(["sales", "support"]), prio=st.sampled_from([0, 0, 0, 5]), fr=st.booleans())
    def arrive(self, queue: str, prio: int, fr: bool) -> None:
        self.n += 1
        cid = f"c{self.n}"
        skills = (("fr", 2),) if fr and queue == "sales" else ()
        out = self.h.feed(ev.CallArrives(cid, queue, "100", prio, skills))
        if any(isinstance(a, ev.EnterQueue) for a in out):
            self.arrived[cid] = self.now()
        self._observe(out)

    def _observe(self, out: list[ev.Action]) -> None:
        for a in out:
            if isinstance(a, ev.Connect):
                self.connected[a.callid] = self.now()
            elif isinstance(a, ev.LedgerEvent) and a.event in TERMINAL:
                self.ended.add(a.callid)

    def _live(self) -> list[str]:
        return sorted(c for c in self.arrived if c not in self.ended)

    def _channels(self) -> list[str]:
        calls = self.h.acd.calls
        return [c for c in self._live() if not calls[c].virtual]

    @precondition(lambda self: bool(self._channels()))
    @rule(data=st.data())
    def to_virtual(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(self._channels()))
        c = self.h.acd.calls[cid]
        if c.state in (CONNECTED, DIALING):
            return
        self._observe(self.h.feed(ev.CallerToVirtual(cid, "555" + cid)))

    @precondition(lambda self: any(c.state == DIALING for c in self.h.acd.calls.values()))
    @rule(data=st.data(), outcome=st.sampled_from([Outcome.ANSWERED, Outcome.NO_ANSWER, Outcome.BUSY]))
    def dial_result(self, data: st.DataObject, outcome: Outcome) -> None:
        cids = sorted(c.callid for c in self.h.acd.calls.values() if c.state == DIALING)
        self._observe(self.h.feed(ev.CallbackDialResult(data.draw(st.sampled_from(cids)), outcome)))

    @precondition(lambda self: bool(self._channels()))
    @rule(data=st.data())
    def hangup(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(self._channels()))
        if cid not in self.connected:
            self.abandoned[cid] = self.now()
        self._observe(self.h.feed(ev.CallerHangup(cid)))

    @precondition(lambda self: bool(self._channels()))
    @rule(data=st.data())
    def key(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(self._channels()))
        self._observe(self.h.feed(ev.CallerKey(cid, data.draw(st.sampled_from("05")))))

    def _ringing(self) -> list[tuple[str, str]]:
        return sorted(
            (a.callid, a.name) for a in self.h.acd.agents.values() if a.activity is Activity.RINGING
        )

    @precondition(lambda self: bool(self._ringing()))
    @rule(data=st.data(), answer=st.booleans())
    def answer_or_reject(self, data: st.DataObject, answer: bool) -> None:
        cid, agent = data.draw(st.sampled_from(self._ringing()))
        e = ev.AgentAnswered(cid, agent) if answer else ev.AgentRejected(cid, agent)
        self._observe(self.h.feed(e))

    @precondition(lambda self: any(c.state == CONNECTED for c in self.h.acd.calls.values()))
    @rule(data=st.data(), by=st.sampled_from(["agent", "caller"]))
    def end(self, data: st.DataObject, by: str) -> None:
        cids = sorted(c.callid for c in self.h.acd.calls.values() if c.state == CONNECTED)
        self._observe(self.h.feed(ev.CallEnded(data.draw(st.sampled_from(cids)), by)))

    @rule(agent=st.sampled_from(AGENTS), what=st.sampled_from(["login", "logout", "pause", "unpause"]))
    def agent(self, agent: str, what: str) -> None:
        a = self.h.acd.agents[agent]
        if what == "login":
            e: ev.Event = ev.AgentLogin(agent)
        elif what == "logout":
            if a.activity is not Activity.IDLE:
                return
            e = ev.AgentLogout(agent)
        elif what == "pause":
            if not a.logged_in:
                return
            e = ev.AgentPause(agent, "break")
        else:
            e = ev.AgentUnpause(agent)
        self._observe(self.h.feed(e))

    @rule(dt=st.sampled_from([0.5, 1.0, 3.0, 8.0, 15.0, 40.0]))
    def wait(self, dt: float) -> None:
        self._observe(self.h.advance(self.now() + dt))

    # ------------------------------------------------------------ invariants

    @invariant()
    def no_call_lost(self) -> None:
        acd = self.h.acd
        live = set(self._live())
        assert live == set(acd.calls), live ^ set(acd.calls)
        terminals: dict[str, int] = {}
        for e in self.h.ledger:
            if e.event in TERMINAL:
                terminals[e.callid] = terminals.get(e.callid, 0) + 1
        assert all(n == 1 for n in terminals.values()), terminals
        assert set(terminals) == set(self.arrived) - live
        for q in acd.queues.values():
            in_line = [c for c in acd.calls.values() if c.q is q and c.state != CONNECTED]
            assert q.waiting == len(in_line)
            assert sorted(q.position(c) for c in in_line) == list(range(1, len(in_line) + 1))

    @invariant()
    def no_agent_double_booked(self) -> None:
        acd = self.h.acd
        holders: dict[str, str] = {}
        for c in acd.calls.values():
            names = [m.agent.name for m in c.ringing] + (
                [c.agent.name] if c.state in (CONNECTED, DIALING) and c.agent else []
            )
            for n in names:
                assert n not in holders, f"agent {n} held by {holders[n]} and {c.callid}"
                holders[n] = c.callid
        for a in acd.agents.values():
            if a.activity in (Activity.RINGING, Activity.ON_CALL):
                assert holders.get(a.name) == a.callid, (a.name, a.activity, a.callid)
            else:
                assert a.name not in holders
            for qn, m in a.members.items():
                q = acd.queues[qn]
                assert (a.name in q.available) == a.routable
                assert q.available.get(a.name, m) is m
            if a.state is AgentState.LOGGED_OUT:
                assert a.activity is Activity.IDLE
        for q in acd.queues.values():
            assert q.staffed == sum(1 for m in q.members.values() if m.agent.staffed)

    @invariant()
    def ledger_in_order_and_kpis_match_raw_events(self) -> None:
        led = self.h.ledger
        assert all(x.time <= y.time for x, y in zip(led, led[1:], strict=False))
        for e in led:
            assert ev.ledger_from_row(e.row()) == e
        k = kpi.compute(led, sl_threshold=SL_T, short_abandon=SHORT, until=self.now())
        assert k.offered == len(self.arrived)
        assert k.answered == len(self.connected)
        waits = [self.abandoned[c] - self.arrived[c] for c in self.abandoned]
        assert k.abandoned == sum(w >= SHORT for w in waits)
        assert k.short_abandoned == sum(w < SHORT for w in waits)
        holds = [self.connected[c] - self.arrived[c] for c in self.connected]
        if holds:
            assert k.asa is not None and abs(k.asa - sum(holds) / len(holds)) < 1e-9
            assert k.sl == sum(x <= SL_T for x in holds) / len(holds)
        else:
            assert k.asa is None
        if holds or waits:
            assert k.sl2 == (sum(x <= SL_T for x in holds) + sum(w <= SL_T for w in waits)) / (
                len(holds) + len(waits)
            )
        if k.occupancy is not None:
            assert 0.0 <= k.occupancy <= 1.0


AcdMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
TestAcdStateMachine = AcdMachine.TestCase
