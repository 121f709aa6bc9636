"""The queue engine: the I/O shell around the ACD and callback cores, bound to an IVR runner.

It owns an ``Acd`` and a ``CallbackCore`` and feeds them events with "now" (board time, s, plus a
fixed ``epoch``): transfers from the IVR (``QueueHook`` -> ``serve``), the caller's keys and
hang-up, the agents' phones answering and hanging up, and the cores' deadlines (checked every
1 ms tick). For every decision it first writes the ledger events the core returned through the
store in one transaction, then carries out the other actions: ring an agent's FXS port, bridge
caller and agent, play position / estimated-wait announcements between music on hold, offer
"1 keep waiting / 2 callback", dial a kept-place callback out on a free line and bridge it to the
agent reserved for it.

Actions that speak to a waiting caller run in that caller's own script task (the IVR's TaskGroup
for the call); agent legs and callbacks (which have no caller script) run in tasks the engine
starts and keeps.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ccboard.ivr import IvrCall, IvrError, TransferResult
from ccboard.queue import events as ev
from ccboard.queue.acd import Acd
from ccboard.queue.callback import CallbackCore, CallbackOffer, CallbackOutcome
from ccboard.queue.durable import Decision, Durable
from ccboard.queue.events import Action, Outcome
from ccboard.queue.overflow import OverflowCore
from ccboard.queue.shared import SharedCallbacks, SharedClaimed, SharedLost
from ccboard.store.records import TAKEN, OverflowOffer
from ccboard.store.records import LedgerEvent as LedgerRow

if TYPE_CHECKING:
    from ccboard.ivr import IvrRunner
    from ccboard.media.moh import MusicOnHold
    from ccboard.store.repository import Repository

log = logging.getLogger("ccboard.queue.engine")

POLL_S = 0.1  # s between looks of a waiting caller's task at its inbox (board time)

# The engine's prompts (add them to the call's prompt set); missing ones are skipped.
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "queue_position": "You are caller number",
        "queue_more_than": "You are behind more than",
        "queue_wait": "Your estimated wait is about",
        "queue_minutes": "minutes.",
        "callback_offer": "To keep waiting, press 1. To be called back, press 2.",
        "callback_number_is": "We will call you back on",
        "callback_enter_number": "Please enter your phone number, followed by the hash key.",
        "callback_confirm_number": "You entered",
        "callback_when": "To keep your place in line, press 1. To choose a time, press 2.",
        "callback_enter_time": "Enter the time in four digits, hours and minutes.",
        "callback_confirm_time": "We will call you at",
        "callback_booked": "Thank you. We will call you back at about",
        "callback_keep_waiting": "Please keep holding.",
    },
    "cmn": {
        "queue_position": "您前面排队的位置是第",
        "queue_more_than": "您前面的人数超过",
        "queue_wait": "预计等待时间约为",
        "queue_minutes": "分钟。",
        "callback_offer": "继续等待请按一，需要回电请按二。",
        "callback_number_is": "我们将回电到",
        "callback_enter_number": "请输入您的电话号码，以井号键结束。",
        "callback_confirm_number": "您输入的是",
        "callback_when": "保留排队位置请按一，选择时间请按二。",
        "callback_enter_time": "请输入四位数的时间，小时和分钟。",
        "callback_confirm_time": "我们将在以下时间回电",
        "callback_booked": "谢谢，我们将在大约以下时间回电",
        "callback_keep_waiting": "请继续等待。",
    },
}


def from_row(r: LedgerRow) -> ev.LedgerEvent:
    """A stored ledger row back as the core's typed event (for ccboard.queue.kpi)."""
    return ev.ledger_from_row((repr(r.time), r.callid, r.queue, r.agent, r.event, *r.data))


def queue_ledger(store: Repository, **where: Any) -> list[ev.LedgerEvent]:
    """The queue events of the store's ledger (other layers' rows, e.g. the IVR's, left out)."""
    return [from_row(r) for r in store.ledger(**where) if r.event in ev.LEDGER_EVENTS]


@dataclass(eq=False)
class _Waiter:
    """One call the engine serves: a live caller (call set) or a kept-place callback."""

    callid: str
    queue: str
    call: IvrCall | None
    inbox: list[Action] = field(default_factory=list)
    agent: str = ""  # bridged to this agent
    virtual: bool = False
    booked: bool = False  # took a callback at a time: left the line
    offered: bool = False
    result: TransferResult | None = None
    leg: IvrCall | None = None  # the customer's leg of a callback
    task: asyncio.Task[None] | None = None  # the prompt or menu being played to the caller


class SimAgents:
    """The people at the sim board's FXS phones: answer after a delay, hang up after a talk time."""

    def __init__(
        self,
        board: Any,
        rng: np.random.Generator,
        answer_ms: tuple[float, float] = (300.0, 1500.0),
        talk_s: tuple[float, float] = (4.0, 10.0),
    ) -> None:
        self.board = board
        self.rng = rng
        self.answer_ms = answer_ms
        self.talk_s = talk_s

    def _fe(self, port: int) -> tuple[Any, int]:
        ch = self.board.channel(port)
        return self.board.far_ends[ch.span], ch.chanpos

    def ringing(self, port: int) -> None:
        fe, pos = self._fe(port)
        fe.answer_after(pos, rings=1, delay_ms=int(self.rng.uniform(*self.answer_ms)))

    def connected(self, port: int) -> None:
        fe, pos = self._fe(port)
        talk_ms = float(self.rng.uniform(*self.talk_s)) * 1000
        self.board.at(self.board.t / 8 + talk_ms, fe.onhook, pos)

    def nobody(self, port: int) -> None:
        """The callback's customer did not answer: the agent puts the phone down."""
        fe, pos = self._fe(port)
        fe.onhook(pos)


class QueueEngine:
    """Binds an ``Acd`` (and a ``CallbackCore``) to an IVR runner, a store and agents' phones.

    `agents`: agent name -> board channel of the agent's phone (FXS port). `lines`: picks a free
    line for dialling a callback out (None: none free). `epoch`: s since the epoch at board time 0.

    Every input to the cores goes through the store's journal (``ccboard.queue.durable``) under
    `server`'s name. `resume`: on bind, replay that journal (the engine or its process died and
    was restarted on the same store) and end the legs lost with it; kept-place and scheduled
    callbacks, agents' states and the queues' figures carry on. Without it the journal is only
    appended to (a fresh run on a store that already holds one). `snapshot_every`: save a
    snapshot of the cores every that many journal entries, so that a resume replays only the
    entries after the latest one (0: never).

    `shared`: take part in the store's shared callbacks (ccboard.queue.shared): every
    `claim_every` board s, claim due rows of the bound queues (lease `claim_lease` s of
    `shared_clock`, the wall clock all servers share) for the agents that are free, dial them as
    kept places are dialled, and record each outcome once in the shared table With
    ``CallbackConfig(shared=True)`` the kept places booked here are rows of that table too, held
    by this engine (claims renewed every third of `claim_lease`) and taken over by another engine
    if this one dies.

    `overflow`: take part in overflow between sites (ccboard.queue.overflow) for its queue, every
    `claim_every` board s: offer callers to the other sites when the live SL from the shared ledger
    is low (or a wait too long), send over the ones another site took (the caller's transfer
    ends with detail "left queue Q: OVERFLOW -> <site>": the IVR script dials the tie line),
    withdraw the offers of callers served or gone at home, and take other sites' offers for the
    free agents its own line leaves idle (their callers then arrive here like any caller).
    """

    def __init__(
        self,
        store: Repository,
        acd: Acd,
        agents: dict[str, int],
        *,
        callbacks: CallbackCore | None = None,
        moh: MusicOnHold | None = None,
        epoch: float = 0.0,
        lines: Callable[[], int | None] | None = None,
        release_line: Callable[[int], None] | None = None,
        people: SimAgents | None = None,
        menu_timeout: float = 6.0,
        dial_timeout: float = 30.0,
        server: str = "engine",
        resume: bool = False,
        shared: SharedCallbacks | None = None,
        shared_clock: Callable[[], float] = time.time,
        claim_every: float = 0.5,
        claim_lease: float = 60.0,
        overflow: OverflowCore | None = None,
        snapshot_every: int = 0,
    ) -> None:
        self.store = store
        self.acd = acd
        self.callbacks = callbacks
        self.agents = dict(agents)
        self.moh = moh
        self.epoch = epoch
        self.lines = lines
        self.release_line = release_line
        self.people = people
        self.menu_timeout = menu_timeout
        self.dial_timeout = dial_timeout
        self.runner: IvrRunner | None = None
        self.waiters: dict[str, _Waiter] = {}
        self.legs: dict[str, IvrCall] = {}  # agent -> answered agent leg
        self.emitted: list[ev.LedgerEvent] = []  # every ledger event written, in order
        self.errors: list[str] = []
        self.played: list[tuple[str, str]] = []  # (callid, prompt) spoken to waiting callers
        self.dialled: list[tuple[str, str, int]] = []  # (callid, number, line) of callbacks dialled
        self._ringing: dict[str, str] = {}  # agent -> callid being rung
        self._busy_ports: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        cores: dict[str, Any] = {"acd": acd}
        if callbacks is not None:
            cores["callback"] = callbacks
        if shared is not None:
            cores["shared"] = shared
        self.shared = shared
        self.shared_clock = shared_clock
        self.claim_every = claim_every
        self.claim_lease = claim_lease
        self.overflow = overflow
        self._expecting: list[float] = []  # board-s deadlines of taken callers not yet arrived
        self.lost_claims = 0  # shared outcomes not recorded: the claim had expired (lease too short)
        self._queues: list[str] = []
        self._next_claim = 0.0
        self._next_renew = float("-inf")  # shared clock s
        self.durable = Durable(
            store,
            server,
            cores,
            clock=shared_clock if shared is not None else None,
            lease=claim_lease,
            snapshot_every=snapshot_every,
        )
        self.lost_dials = 0  # shared stints not dialled: their claim was lost before the dial
        self.resume = resume
        self._deferred: list[Action] = []  # decided before the loop ran (bind): acted on first tick

    # -- binding and time ----------------------------------------------------------------------

    def bind(self, runner: IvrRunner, queues: Iterable[str]) -> None:
        """Attach to the runner (tick hook for deadlines), log the agents in, add them to queues."""
        self.runner = runner
        self._queues = list(queues)
        runner.tick_hooks.append(self._tick)
        now = self.now()
        if self.resume:
            d = self.durable.recover(now)
            self.emitted.extend(d.ledger)
            self._deferred += d.actions
        else:
            self.durable.start_fresh()
        for name, port in self.agents.items():
            a = self.acd.agents.get(name)
            if a is None or not a.logged_in:
                self._feed(ev.AgentLogin(name, f"chan{port}"), now, defer=True)
            for q in queues:
                if a is None or q not in a.members:
                    self._feed(ev.AddMember(name, q), now, defer=True)

    def now(self) -> float:
        """Engine time: epoch s."""
        assert self.runner is not None
        return self.epoch + self.runner.ms / 1000.0

    def _tick(self, runner: IvrRunner) -> None:
        now = self.now()
        if self._deferred:
            acts, self._deferred = self._deferred, []
            for a in acts:
                self._act(a, now)
        for core in (self.acd, self.callbacks):
            d = core.next_deadline() if core is not None else None
            if d is not None and d <= now:
                self._apply(self.durable.timeouts(now), now)
                break  # timeouts() fired every core that was due
        if (self.shared is not None or self.overflow is not None) and now >= self._next_claim:
            self._next_claim = now + self.claim_every
            if self.shared is not None:
                self._claim_shared(now)
            if self.overflow is not None:
                self._overflow(now)
        if self.shared is not None and self.shared.held:
            self._renew_shared()

    def _free_agents(self) -> int:
        return sum(
            1
            for a in self.acd.agents.values()
            if a.routable and a.name in self.agents and any(q in a.members for q in self._queues)
        )

    def _overflow(self, now: float) -> None:
        """Offer, send over, withdraw (this site's callers); take (other sites' callers)."""
        core = self.overflow
        assert core is not None
        q, site, store = core.cfg.queue, self.durable.server, self.store
        line = self.acd.live_callers(q)
        here = {c[0] for c in line}
        for o in store.overflow_offers(site=site, state=TAKEN):
            sent = False
            if o.id in here:
                d = self.durable.feed("acd", ev.CallerOverflow(o.id, o.taken_by), now)
                sent = any(isinstance(a, ev.ExitQueue) for a in d.actions)
                self._apply(d, now)
            store.settle_overflow(o.id, self.shared_clock(), sent=sent)
            core.settled(o.id)
            here.discard(o.id)
        for callid in [c for c in core.offered if c not in here]:  # served or gone at home
            store.settle_overflow(callid, self.shared_clock(), sent=False)
            core.settled(callid)
        line = [c for c in line if c[0] in here]
        if line:
            rows = store.ledger(since=now - core.cfg.window, until=now + 1e-3, queue=q)
            mine = [from_row(r) for r in rows if r.server == site and r.event in ev.LEDGER_EVENTS]
            sl = core.live_sl(mine, now)
            for callid, callerid, waited in core.to_offer(now, line, sl):
                store.offer_overflow(OverflowOffer(callid, site, q, callerid, self.shared_clock(), waited))
        self._expecting = [t for t in self._expecting if t > now]
        n = core.take(self._free_agents() - len(self._expecting), self.acd.waiting(q))
        if n > 0:
            for o in store.claim_overflow(
                site, self.shared_clock(), limit=n, lease=self.claim_lease, queues=[q]
            ):
                if store.take_overflow(o, self.shared_clock()):
                    self._expecting.append(now + self.claim_lease)  # an agent kept for it
                    log.info("overflow: %s takes %s's caller %s", site, o.site, o.id)

    def _claim_shared(self, now: float) -> None:
        """Claim due shared callbacks for this engine's free agents and put them in line."""
        assert self.shared is not None
        free = self._free_agents()
        waiting = sum(self.acd.waiting(q) for q in self._queues)
        n = self.shared.want(free, waiting)
        if n <= 0:
            return
        got = self.store.claim_callbacks(
            self.durable.server, self.shared_clock(), limit=n, lease=self.claim_lease, queues=self._queues
        )
        if got:
            self._feed(SharedClaimed(tuple(got)), now, core="shared")

    def _renew_shared(self) -> None:
        """Every third of a lease (shared clock), extend the claims of the rows held here (kept
        places waiting in this line, claimed rows not yet dialled), so that only an engine that
        died or stalled loses them. A claim found lost is left to the dial's re-check."""
        assert self.shared is not None
        wall = self.shared_clock()
        if wall < self._next_renew:
            return
        self._next_renew = wall + self.claim_lease / 3
        lost = self.store.renew_callbacks(list(self.shared.held.values()), wall + self.claim_lease)
        if lost:
            log.warning("shared callbacks %s: claims taken over by another engine", ", ".join(lost))

    def idle(self) -> bool:
        """Nothing waiting, ringing, connected or pending (the run may stop)."""
        pending = self.callbacks.pending() if self.callbacks is not None else []
        held = self.shared.held if self.shared is not None else {}
        return not (self.waiters or self._tasks or pending or held or self.acd.calls)

    def agent_action(self, event: ev.AgentLogin | ev.AgentLogout | ev.AgentPause | ev.AgentUnpause) -> None:
        """An agent logs in or out, pauses or comes back (a supervisor's console, a shift plan):
        fed to the ACD through the journal like any input. Before the runner's loop runs (right
        after bind) its actions wait for the first tick."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._feed(event, defer=True)
        else:
            self._feed(event)

    # -- feeding the cores and carrying out their decisions -----------------------------------------

    def _feed(
        self, event: ev.Event, now: float | None = None, core: str | None = None, defer: bool = False
    ) -> None:
        """Feed the ACD (or the callback core) through the journal, then act on the decision."""
        now = self.now() if now is None else now
        if core is None:
            core = "callback" if isinstance(event, CallbackOffer | CallbackOutcome) else "acd"
        d = self.durable.feed(core, event, now)
        if defer:
            self.emitted.extend(d.ledger)
            self._deferred += d.actions
        else:
            self._apply(d, now)

    def _dial_result(self, callid: str, outcome: Outcome) -> None:
        """A kept-place callback's dial ended: the ACD and the callback core learn it in one
        decision (one transaction), so a crash cannot leave the stint ended but no retry booked."""
        inputs: list[tuple[str, ev.Event]] = [("acd", ev.CallbackDialResult(callid, outcome))]
        r = self.callbacks.requests.get(callid) if self.callbacks is not None else None
        if r is not None and not r.done:  # a shared kept place's outcome is the shared core's
            inputs.append(("callback", CallbackOutcome(callid, outcome)))
        if self.shared is not None and callid in self.shared.held:
            inputs.append(("shared", CallbackOutcome(callid, outcome)))
        now = self.now()
        self._apply(self.durable.feed_many(inputs, now), now)

    def _apply(self, d: Decision, now: float) -> None:
        """The decision's ledger events and SMS are written (by Durable): now act."""
        self.emitted.extend(d.ledger)
        if d.lost_claims:
            self.lost_claims += d.lost_claims
            log.warning("%d shared callback outcomes not recorded: their claims had expired", d.lost_claims)
        for a in d.actions:
            if isinstance(a, ev.DialCallback) and a.callid in d.lost_dials:
                self._spawn(self._claim_lost(a.callid, a.agent))
            else:
                self._act(a, now)

    def _act(self, a: Action, now: float) -> None:
        if isinstance(a, ev.RingAgent):
            self._ringing[a.agent] = a.callid
            self._spawn(self._ring(a.callid, a.agent, a.timeout))
        elif isinstance(a, ev.StopRinging):
            if self._ringing.get(a.agent) == a.callid:
                del self._ringing[a.agent]
            leg = self.legs.get(a.agent)
            w = self.waiters.get(a.callid)
            if leg is not None and not (w is not None and w.agent == a.agent):
                self._spawn(self._drop_agent(a.agent))
        elif isinstance(a, ev.Bridge):
            self._bridge(a.callid, a.agent)
        elif isinstance(a, ev.KeepPlace):  # the ACD was told in the same decision (durable.derive)
            w = self.waiters.get(a.callid)
            if w is not None:
                w.virtual = True
        elif isinstance(a, ev.DialCallback):
            self._spawn(self._callback(a.callid, a.number, a.agent, a.whisper))
        elif isinstance(a, ev.LeaveForCallback):  # the ACD was told in the same decision
            w = self.waiters.get(a.callid)
            if w is not None:
                w.booked = True
        elif isinstance(a, ev.EnqueueCallback):
            pass  # entered the queue in the same decision (durable.derive)
        elif isinstance(a, ev.Announce | ev.Prompt | ev.Hangup | ev.ExitQueue):
            w = self.waiters.get(a.callid)
            if w is not None and w.call is not None:
                w.inbox.append(a)
        elif isinstance(a, ev.AgentStateChanged):
            pass  # the ledger and the ACD keep the agents' states
        else:
            self.errors.append(f"unhandled action {a!r}")

    def _spawn(self, coro: Any) -> None:
        t: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._done)

    def _done(self, t: asyncio.Task[None]) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            self.errors.append(f"{t.get_coro()!r}: {t.exception()!r}")
            log.error("queue engine task failed", exc_info=t.exception())

    # -- agents' phones ----------------------------------------------------------------------------

    async def _board_sleep(self, s: float) -> None:
        assert self.runner is not None
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def fire() -> None:
            if not fut.done():
                fut.set_result(None)

        self.runner.call_later(int(s * 1000), fire)
        await fut

    async def _ring(self, callid: str, agent: str, timeout: float) -> None:
        runner = self.runner
        assert runner is not None
        port = self.agents[agent]
        while port in self._busy_ports:  # the last call's leg is still being dropped
            await self._board_sleep(0.05)
        if self._ringing.get(agent) != callid:
            return
        self._busy_ports.add(port)
        try:
            if self.people is not None:
                self.people.ringing(port)
            leg = await runner.dial("", channel=port, timeout=timeout + 2.0)
        except IvrError:
            self._busy_ports.discard(port)
            if self._ringing.get(agent) == callid:
                self._feed(ev.AgentRejected(callid, agent))
            return
        self.legs[agent] = leg
        if self._ringing.get(agent) != callid:  # rung off meanwhile (caller left, timeout)
            await self._drop_agent(agent)
            return
        del self._ringing[agent]
        self._feed(ev.AgentAnswered(callid, agent))

    async def _drop_agent(self, agent: str) -> None:
        assert self.runner is not None
        leg = self.legs.pop(agent, None)
        if leg is not None:
            await self.runner.drop_outgoing(leg)
        self._busy_ports.discard(self.agents[agent])

    def _bridge(self, callid: str, agent: str) -> None:
        runner = self.runner
        assert runner is not None
        w = self.waiters.get(callid)
        leg = self.legs.get(agent)
        if w is None or leg is None:
            self.errors.append(f"bridge {callid} to {agent}: no caller or no agent leg")
            return
        other = w.call if w.call is not None else w.leg
        assert other is not None
        w.agent = agent
        if w.task is not None:
            w.task.cancel()  # stop the announcement or menu: the agent is there
        if w.call is not None:
            w.call.stop_moh()
            w.call.tag("agent", agent)
            w.call.tag("dstchannel", str(runner.board.channel(leg.channel)))
        runner.bridge(other.channel, leg.channel)
        if self.people is not None:
            self.people.connected(self.agents[agent])

    async def _until_ended(self, w: _Waiter, caller: IvrCall) -> None:
        """Wait until the caller or the agent hangs up; tell the ACD who did; drop the agent."""
        leg = self.legs[w.agent]
        while not (caller.released or leg.released):
            await self._board_sleep(POLL_S)
        self._feed(ev.CallEnded(w.callid, "caller" if caller.released else "agent"))
        await self._drop_agent(w.agent)

    # -- callbacks (kept places reaching an agent) ---------------------------------------------------

    async def _callback(self, callid: str, number: str, agent: str, whisper: str) -> None:
        runner = self.runner
        assert runner is not None
        w = self.waiters.setdefault(callid, _Waiter(callid, "", None, virtual=True))
        leg = self.legs.get(agent)
        if leg is not None and not leg.released:
            digits = "".join(ch for ch in number if ch.isdigit())
            if digits:
                await leg.say_digits(digits, barge_in=False)  # the whisper: who is called back
        line = self.lines() if self.lines is not None else None
        waited = 0.0
        while line is None and self.lines is not None and waited < self.dial_timeout:
            await self._board_sleep(0.5)  # every spare line is busy: the agent waits for one
            waited += 0.5
            line = self.lines()
        cust: IvrCall | None = None
        if line is not None:
            self.dialled.append((callid, number, line))
            try:
                cust = await runner.dial(number, channel=line, timeout=self.dial_timeout)
            except IvrError as e:
                log.info("callback %s: %s", callid, e)
        if cust is None:
            if line is not None and self.release_line is not None:
                self.release_line(line)
            await self._drop_agent(agent)
            if self.people is not None:  # else the phone stays off hook and the port rings no more
                self.people.nobody(self.agents[agent])
            self.waiters.pop(callid, None)
            self._dial_result(callid, Outcome.NO_ANSWER)
            return
        w.leg = cust
        self._dial_result(callid, Outcome.ANSWERED)
        try:
            if w.agent:
                await self._until_ended(w, cust)
        finally:
            await runner.drop_outgoing(cust)
            if self.release_line is not None:
                self.release_line(cust.channel)
            self.waiters.pop(callid, None)

    async def _claim_lost(self, callid: str, agent: str) -> None:
        """A shared stint about to be dialled whose claim another engine holds now: no dial; the
        agent puts the phone down, the ACD ends the stint, the shared core forgets the row."""
        self.lost_dials += 1
        log.warning("shared callback %s: the claim was taken over, not dialled here", callid)
        await self._drop_agent(agent)
        if self.people is not None:
            self.people.nobody(self.agents[agent])
        self.waiters.pop(callid, None)
        now = self.now()
        lost = [("acd", ev.CallbackDialResult(callid, Outcome.LOST)), ("shared", SharedLost(callid))]
        self._apply(self.durable.feed_many(lost, now), now)

    # -- a live caller in a queue (called by the IVR through QueueHook) -----------------------------

    async def serve(self, call: IvrCall, queue: str) -> TransferResult:
        """Put the caller in `queue` until an agent has served it, it left or took a callback."""
        w = _Waiter(call.id, queue, call)
        self.waiters[call.id] = w
        if self._expecting:  # a caller this site took from another (or a local one) came in
            self._expecting.pop(0)
        call.tag("queue", queue)
        try:
            self._feed(ev.CallArrives(call.id, queue, callerid=call.ani))
            if self.moh is not None and not w.inbox and not w.agent:
                call.start_moh(self.moh)
            while w.result is None:
                if w.agent:
                    await self._until_ended(w, call)
                    w.result = TransferResult(True, "agent", w.agent, self.agents[w.agent])
                    break
                if call.released:
                    self._feed(ev.CallerHangup(call.id))
                    done = w.virtual or w.booked
                    w.result = TransferResult(done, "callback" if done else "abandoned")
                    break
                if w.inbox:
                    a = w.inbox.pop(0)
                    if isinstance(a, ev.Announce) and (w.virtual or self._menu_open(w.callid)):
                        continue  # in the callback menu or booked: no announcement now
                    # a task of its own, so that an agent answering can cut it short
                    w.task = asyncio.get_running_loop().create_task(self._caller_action(w, a))
                    try:
                        await asyncio.wait([w.task])
                    except asyncio.CancelledError:
                        w.task.cancel()
                        raise
                    finally:
                        w.task = None
                    continue
                await call.sleep(POLL_S)
            return w.result
        finally:
            call.stop_moh()
            if self.callbacks is not None:
                self.callbacks.menus.pop(call.id, None)
            if not w.virtual:
                self.waiters.pop(call.id, None)
            else:
                w.call = None

    def callbacks_open(self) -> set[str]:
        """Calls now in the callback menu."""
        return set(self.callbacks.menus) if self.callbacks is not None else set()

    def _menu_open(self, callid: str) -> bool:
        return self.callbacks is not None and callid in self.callbacks.menus

    async def _caller_action(self, w: _Waiter, a: Action) -> None:
        call = w.call
        assert call is not None
        if call.released:
            return
        if isinstance(a, ev.ExitQueue):
            w.result = TransferResult(False, f"left queue {a.queuename}: {a.reason} -> {a.target or '-'}")
            return
        if isinstance(a, ev.Hangup):
            if a.prompt:
                await call.play(a.prompt, barge_in=False)
            await call.hangup()
            done = w.virtual or w.booked
            w.result = TransferResult(done, "callback" if done else "hung up")
            return
        if w.agent:
            return  # connected meanwhile: announcements and menus are moot
        call.stop_moh()
        try:
            if isinstance(a, ev.Announce):
                await self._announce(w, call, a)
            elif isinstance(a, ev.Prompt):
                await self._prompt(w, call, a)
        except IvrError:
            return  # hung up while speaking; the loop sees it
        except asyncio.CancelledError:
            if self.callbacks is not None:
                self.callbacks.menus.pop(w.callid, None)
            raise
        if not w.agent and not w.virtual and not call.released and self.moh is not None:
            call.start_moh(self.moh)

    async def _announce(self, w: _Waiter, call: IvrCall, a: ev.Announce) -> None:
        self.played.append((w.callid, "announce"))
        if a.position is not None:
            await call.play("queue_more_than" if a.more_than else "queue_position", barge_in=False)
            await call.say_number(a.position, barge_in=False)
        if a.wait is not None:
            await call.play("queue_wait", barge_in=False)
            await call.say_number(max(1, round(a.wait / 60.0)), barge_in=False)
            await call.play("queue_minutes", barge_in=False)
        if a.prompt:
            await call.play(a.prompt, barge_in=False)
        if self.callbacks is not None and not w.offered and a.position is not None and not w.agent:
            w.offered = True
            now = self.now()
            try:
                pos = self.acd.position(w.callid)
            except ev.QueueError:
                return
            rate, aht, staffed = self.acd.live_rates(w.queue, now)
            c = self.acd.calls[w.callid]  # its place, kept in the shared table if it keeps it
            offer = CallbackOffer(w.callid, w.queue, call.ani, pos, rate, aht, staffed, c.enter, c.priority)
            self._feed(offer, now)

    async def _prompt(self, w: _Waiter, call: IvrCall, a: ev.Prompt) -> None:
        name = a.prompt.replace("-", "_")
        self.played.append((w.callid, name))
        if name in call.prompts:
            await call.play(name, barge_in=True)
        digits = "".join(ch for ch in a.say if ch.isdigit())
        if digits:
            await call.say_digits(digits, barge_in=True)
        if not self._menu_open(w.callid) or w.agent or call.released:
            return
        assert self.callbacks is not None
        state = self.callbacks.menus[w.callid].state
        if state in ("ENTER_NUMBER", "ENTER_TIME"):
            # a time is complete at its fourth digit (HHMM): a '#' after it would be a wrong key
            n = 4 if state == "ENTER_TIME" else self.callbacks.cfg.max_digits
            r = await call.get_digits(n, "#", first_digit_timeout=self.menu_timeout)
            keys = list(str(r.digits))
            if r.terminator or (r.digits and not (state == "ENTER_TIME" and len(keys) == 4)):
                keys.append(r.terminator or "#")
        else:
            r = await call.get_digits(1, "", first_digit_timeout=self.menu_timeout)
            keys = list(str(r.digits))
        log.info("%s: callback menu %s got %r", w.callid, state, keys)
        if not keys:
            self.callbacks.menus.pop(w.callid, None)  # no answer: keep waiting
            return
        now = self.now()
        for k in keys:
            if w.agent or not self._menu_open(w.callid):
                break
            self._feed(ev.CallerKey(w.callid, k), now, core="callback")
