"""The follow-up campaign (回访) that ends the phone bank's demo, and the SMS outbox drain.

After the inbound run, every caller who reached an agent is called back for a two-question DTMF
survey ("were you satisfied?", "was it resolved?"); an unsatisfied answer escalates the call to
the agents' queue (complaint follow-up, through the queue engine when one is given).

Dialling is the board's: each attempt takes a free FXO line of the sim and dials the number. Loop
start has no answer supervision, so the result comes from the line's audio: call progress
analysis (``ccboard.dsp.cpa``: ringback, busy, congestion, SIT, fax tones, voice, no answer after
``no_answer_s``) and, once a voice is heard, answering-machine detection (``ccboard.dsp.amd``:
human or machine). The outcomes (answered, no answer, busy, machine, fax, invalid) go to the
sans-IO ``Campaign`` core, which recycles them by its rules (retry delays, caps, final statuses)
and paces the dialling to the free lines. The core is fed through ``ccboard.queue.durable``: every
input is journalled with the ledger rows it implies before anything is dialled, so a restarted
run resumes the campaign where it stopped and dials no attempt number twice.

The far ends are the sim's exchange lines; ``SimCustomers`` plays each customer's side from a
profile per attempt (a person saying hello and keying survey answers, a voicemail greeting, busy,
ringing with no answer, an invalid number's SIT, a fax's CED tone).

SMS: the callback confirmations the queue engine wrote to ``sms_outbox`` are drained through an
SMS gateway (``ccboard.store.smpp.SmppGateway`` against an SMSC) when one is given; without one
(the demo runs no SMSC) they stay in the outbox as *pending*, claimable by the next drainer that
has a gateway, and the summary says so.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccboard.board.sim.farend import human_dtmf
from ccboard.dsp import amd, cpa
from ccboard.ivr import IvrCall, IvrError, IvrRunner
from ccboard.media.prompts import PromptSet
from ccboard.queue import events as ev
from ccboard.queue.campaign import (
    AddContacts,
    AgentsFree,
    Campaign,
    CampaignConfig,
    Contact,
    DialOutcome,
    Question,
    RecycleRule,
)
from ccboard.queue.durable import Durable
from ccboard.queue.engine import QueueEngine
from ccboard.queue.events import Outcome
from ccboard.store import Repository
from ccboard.store.outbox import OutboxDrainer, SmsGateway

log = logging.getLogger("ccboard.cli.followup")

# Prompts of the follow-up (ours) and the far ends' speech (the sim's customers), English.
PHRASES: dict[str, str] = {
    "survey_satisfied": "Hello, this is your bank calling about your recent call. "
    "If you were satisfied with our service, press 1. If not, press 2.",
    "survey_resolved": "Was your question resolved? Press 1 for yes, 2 for no.",
    "survey_invalid": "Sorry, that key is not valid.",
    "campaign_thanks": "Thank you for your answers. Goodbye.",
    "campaign_drop": "Sorry, we will call you again later. Goodbye.",
    "complaint_transfer": "We are sorry to hear that. Please hold for our complaints desk.",
    "farend_hello": "Hello?",
    "farend_machine": "Hi, you have reached the voicemail of the Wang family. We cannot take your call "
    "right now. Please leave your name and number after the tone, and we will call you back.",
}

SURVEY = (
    Question("satisfied", "survey_satisfied", "12", unsatisfied="2"),
    Question("resolved", "survey_resolved", "12"),
)

# What the customer's side does on an attempt (SimCustomers).
PERSON, MACHINE, BUSY, NO_ANSWER, INVALID, FAX = "person", "machine", "busy", "no answer", "invalid", "fax"


def campaign_config(name: str = "followup", complaint_queue: str = "agents") -> CampaignConfig:
    """The demo's campaign: progressive over the free lines, survey by DTMF, short recycle delays
    (the demo's day is minutes long), calling window open all day in the contacts' zone."""
    return CampaignConfig(
        name,
        window=(0.0, 24.0),
        agents=False,
        max_attempts=4,
        recycle=(
            RecycleRule(Outcome.NO_ANSWER, 45.0, 3, "NA_MAX"),
            RecycleRule(Outcome.BUSY, 30.0, 3, "BUSY_MAX"),
            RecycleRule(Outcome.MACHINE, 60.0, 2, "AM_MAX"),
            RecycleRule(Outcome.LOST, 30.0, 3, "LOST_MAX"),
        ),
        survey=SURVEY,
        complaint_queue=complaint_queue,
    )


def contacts_from_ledger(store: Repository, queue: str) -> list[Contact]:
    """Every call the queue connected to an agent, as a follow-up contact (number = caller ID, or
    a number made from the call id when the line gave none)."""
    seen: dict[str, str] = {}
    entered = {r.callid: r.data2 for r in store.ledger(queue=queue, events=["ENTERQUEUE"])}
    for r in store.ledger(queue=queue, events=["CONNECT"]):
        if r.callid in seen:
            continue
        cid = entered.get(r.callid, "")
        seen[r.callid] = cid if cid else f"8{zlib.crc32(r.callid.encode()) % 10_000_000:07d}"
    return [Contact(callid, number) for callid, number in seen.items()]


# ---------------------------------------------------------------- the sim's customers


@dataclass
class Customer:
    """One contact's side: what happens on attempt 1, 2, ... (the last repeats) and the keys a
    person presses for the survey."""

    kinds: tuple[str, ...]
    answers: str = "11"

    def on(self, attempt: int) -> str:
        return self.kinds[min(attempt, len(self.kinds)) - 1]


def sim_customers(contacts: Sequence[Contact], rng: np.random.Generator) -> dict[str, Customer]:
    """Profiles for the demo: most answer (some after a busy or unanswered first try), some
    voicemail, some unsatisfied (escalated), a few invalid numbers and a fax."""
    out: dict[str, Customer] = {}
    for i, c in enumerate(contacts):
        r = float(rng.random())
        answers = "2" if r < 0.2 else "12" if r < 0.35 else "11"
        if i % 10 == 7:
            kinds: tuple[str, ...] = (INVALID,)
        elif i % 10 == 9:
            kinds = (FAX,)
        elif i % 5 == 1:
            kinds = (BUSY, PERSON)
        elif i % 5 == 3:
            kinds = (NO_ANSWER, MACHINE, PERSON)
        else:
            kinds = (PERSON,)
        out[c.id] = Customer(kinds, answers)
    return out


def _sine(freqs_ms: Sequence[tuple[float, float]], dbm0: float = -13.0) -> np.ndarray[Any, Any]:
    amp = 32768 * 10 ** ((dbm0 - 3.14) / 20) * np.sqrt(2)
    parts = [amp * np.sin(2 * np.pi * f * np.arange(int(ms * 8)) / 8000) for f, ms in freqs_ms]
    return np.concatenate(parts).astype(np.int16)


# SIT (ITU-T E.180 / Bellcore: 913.8, 1370.6, 1776.7 Hz) and a fax's CED answer tone (2100 Hz)
SIT_TONES = _sine(((913.8, 380.0), (1370.6, 380.0), (1776.7, 380.0)), -24.0)
CED = _sine(((2100.0, 3000.0),), -12.0)


class SimCustomers:
    """Plays the customers' sides on the sim's exchange lines and keys survey answers."""

    QUIET_MS = 700  # a person answers once our prompt has been quiet this long

    def __init__(self, board: Any, prompts: PromptSet, rng: np.random.Generator) -> None:
        self.board = board
        self.prompts = prompts
        self.rng = rng
        self.keying: dict[int, list[str]] = {}  # line -> survey keys still to press
        self._heard: dict[int, int] = {}  # line -> ms of our speech heard since the last key
        self._quiet: dict[int, int] = {}

    def _fe(self, line: int) -> tuple[Any, int, int]:
        ch = self.board.channel(line)
        return self.board.far_ends[ch.span], ch.chanpos, ch.index

    def answer(self, line: int, kind: str, customer: Customer) -> None:
        """The far end's behaviour from now on (our dialling has just finished)."""
        fe, pos, _ = self._fe(line)
        ring_s = float(self.rng.uniform(3.0, 9.0))
        now = self.board.t / 8
        start_ms = now + ring_s * 1000 + 300  # when the far end picks up
        if kind == BUSY:
            fe.tone(pos, "busy")
        elif kind == INVALID:
            fe.play(pos, np.concatenate([SIT_TONES, np.zeros(4000, np.int16), SIT_TONES]))
        elif kind == NO_ANSWER:
            fe.tone(pos, "ringback")
        else:
            fe.tone(pos, "ringback", seconds=ring_s)
            if kind == PERSON:
                self.board.at(start_ms, fe.play, pos, self.prompts.get("farend_hello").samples)
                self.keying[line] = list(customer.answers)
                self._heard[line] = self._quiet[line] = 0
            elif kind == MACHINE:
                greeting = self.prompts.get("farend_machine").samples
                self.board.at(start_ms, fe.play, pos, greeting)
            elif kind == FAX:
                self.board.at(start_ms, fe.play, pos, CED)

    def hang_up(self, line: int) -> None:
        fe, pos, _ = self._fe(line)
        fe.silence(pos)
        self.keying.pop(line, None)

    def __call__(self, runner: IvrRunner) -> None:
        """Tick hook: a person keys the next answer after hearing a prompt end."""
        for line, keys in list(self.keying.items()):
            fe, pos, row = self._fe(line)
            if not keys:
                continue
            if np.abs(runner.board.tx[row]).max() > 300:
                self._heard[line] += 1
                self._quiet[line] = 0
                continue
            self._quiet[line] += 1
            if self._heard[line] > 500 and self._quiet[line] >= self.QUIET_MS:
                fe.play(pos, human_dtmf(keys.pop(0), self.rng, on_ms=(80.0, 120.0)))
                self._heard[line] = 0


# ---------------------------------------------------------------- call progress on our side


class LineListener:
    """Call progress analysis of one dialled line, then answering-machine detection after voice.

    AMD is fed from where CPA's voice evidence began (kept in `ring`), as if it had run from
    the answer: a person's short "hello" is over by the time CPA is sure it was a voice.
    """

    KEEP = 8000 * 2  # samples of recent line audio kept for AMD (a ring)

    def __init__(self, row: int, zone: str, no_answer_s: float) -> None:
        self.row = row
        self.cpa = cpa.CallProgress(zone, no_answer_ms=int(no_answer_s * 1000))
        self.amd: amd.AnsweringMachineDetector | None = None
        self.outcome: Outcome | None = None
        self.heard: list[str] = []  # what CPA reported, in order
        self.ring = np.zeros(self.KEEP, np.int16)  # sample k of the line at ring[k % KEEP]
        self.seen = 0  # samples fed so far

    def feed(self, x: np.ndarray[Any, Any]) -> None:
        if self.outcome is not None:
            return
        if self.amd is not None:
            for e in self.amd.process(x):
                if int(e["kind"]) == amd.RESULT:
                    res = amd.RESULTS[int(e["result"])]
                    self.heard.append(f"{res.lower()} ({amd.CAUSES[int(e['cause'])].lower()})")
                    self.outcome = Outcome.MACHINE if res == "MACHINE" else Outcome.ANSWERED
            return
        at = self.seen % self.KEEP
        if at + x.size <= self.KEEP:
            self.ring[at : at + x.size] = x
        else:
            self.ring[np.arange(at, at + x.size) % self.KEEP] = x
        self.seen += x.size
        for e in self.cpa.process(x):
            name = cpa.KIND_NAMES.get(int(e["kind"]), "?")
            self.heard.append(name)
            kind = int(e["kind"])
            if kind in (cpa.BUSY, cpa.CONGESTION):
                self.outcome = Outcome.BUSY
            elif kind == cpa.SIT:
                self.outcome = Outcome.INVALID
            elif kind == cpa.FAX:
                self.outcome = Outcome.FAX
            elif kind == cpa.NO_ANSWER:
                self.outcome = Outcome.NO_ANSWER
            elif kind == cpa.VOICE:
                self.amd = amd.AnsweringMachineDetector()
                first = max(int(e["start"]), self.seen - self.KEEP)
                self.feed(self.ring[np.arange(first, self.seen) % self.KEEP])
                continue
            else:
                continue
            return


# ---------------------------------------------------------------- the dialler


@dataclass
class FollowupResult:
    """What the follow-up did: statuses per contact, outcomes per attempt, survey and SMS figures."""

    statuses: dict[str, str] = field(default_factory=dict)
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (callid, outcome, heard)
    answers: list[tuple[str, str, str]] = field(default_factory=list)  # (contact, question, key)
    escalated: list[tuple[str, str]] = field(default_factory=list)  # (contact, call id in the queue)
    sms: str = ""
    errors: list[str] = field(default_factory=list)


class FollowupDialler:
    """Runs one campaign on an IVR runner's FXO lines (see the module docstring)."""

    def __init__(
        self,
        runner: IvrRunner,
        store: Repository,
        lines: Sequence[int],
        prompts: PromptSet,
        customers: SimCustomers,
        profiles: dict[str, Customer],
        *,
        config: CampaignConfig | None = None,
        engine: QueueEngine | None = None,
        epoch: float = 0.0,
        zone: str = "cn",
        no_answer_s: float = 25.0,
        server: str = "followup",
    ) -> None:
        self.runner = runner
        self.lines = list(lines)
        self.free = list(lines)
        self.prompts = prompts
        self.customers = customers
        self.profiles = profiles
        self.engine = engine
        self.epoch = epoch - runner.ms / 1000.0  # engine time = epoch at the runner's ms now
        self.zone = zone
        self.no_answer_s = no_answer_s
        self.campaign = Campaign(config or campaign_config())
        self.durable = Durable(store, server, {"campaign": self.campaign}, derive=lambda a: None)
        self.result = FollowupResult()
        self.listening: dict[str, LineListener] = {}
        self.talking = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._inbox: dict[str, list[ev.Action]] = {}
        self._wake: dict[str, asyncio.Future[None]] = {}

    def now(self) -> float:
        return self.epoch + self.runner.ms / 1000.0

    # ------------------------------------------------------------ cores and ticks

    def start(self, contacts: Sequence[Contact], resume: bool = False) -> None:
        """Load the list (a fresh run) or replay the journal (resume), then hook into the ticks."""
        if resume:
            d = self.durable.recover(self.now())
            self._route(d.actions)
        else:
            self.durable.start_fresh()
            self._feed(AddContacts(tuple(contacts)))
        self._feed(AgentsFree(len(self.lines) - self.talking))
        self.runner.tick_hooks.append(self._tick)
        self.runner.tick_hooks.append(self.customers)

    def _feed(self, event: ev.Event) -> None:
        self._route(self.durable.feed("campaign", event, self.now()).actions)

    def _route(self, actions: Sequence[ev.Action]) -> None:
        for a in actions:
            if isinstance(a, ev.Dial):
                self._spawn(self._attempt(a))
            else:
                cid = getattr(a, "callid", "")
                self._inbox.setdefault(cid, []).append(a)
                fut = self._wake.get(cid)
                if fut is not None and not fut.done():
                    fut.set_result(None)

    def _spawn(self, coro: Any) -> None:
        t: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.result.errors.append(repr(t.exception()))
                log.error("follow-up call failed", exc_info=t.exception())

        t.add_done_callback(done)

    def _tick(self, runner: IvrRunner) -> None:
        d = self.campaign.next_deadline()
        if d is not None and d <= self.now():
            self._route(self.durable.timeouts(self.now()).actions)
        for lis in self.listening.values():
            lis.feed(runner.board.rx[lis.row])

    def finished(self) -> bool:
        """Every contact has a final status and no call is up."""
        busy = ("NEW", "RETRY", "DIALLING", "CONTACTED", "SURVEY")
        return not self._tasks and not any(s.status in busy for s in self.campaign.states.values())

    # ------------------------------------------------------------ one attempt

    async def _board_wait(self, cond: Any, seconds: float, call: IvrCall) -> None:
        waited = 0.0
        while not cond() and waited < seconds and not call.released:
            await call.sleep(0.05)
            waited += 0.05

    async def _attempt(self, d: ev.Dial) -> None:
        runner = self.runner
        if not self.free:
            self.result.errors.append(f"{d.callid}: no free line (pacing out of step)")
            self._feed(DialOutcome(d.callid, Outcome.LOST))
            return
        line = self.free.pop(0)
        attempt = int(d.callid.rsplit("-", 1)[1])
        profile = self.profiles.get(d.contact, Customer((PERSON,)))
        call: IvrCall | None = None
        try:
            call = await runner.dial(d.number, channel=line, timeout=15.0)
        except IvrError as exc:
            log.info("%s: %s", d.callid, exc)
        if call is None:
            self._done_line(line)
            self.result.outcomes.append((d.callid, Outcome.INVALID.value, "dial failed"))
            self._feed(DialOutcome(d.callid, Outcome.INVALID))
            return
        self.customers.answer(line, profile.on(attempt), profile)
        lis = self.listening[d.callid] = LineListener(
            runner.board.channel(line).index, self.zone, self.no_answer_s
        )
        await self._board_wait(lambda: lis.outcome is not None, self.no_answer_s + 15.0, call)
        del self.listening[d.callid]
        outcome = lis.outcome
        if outcome is None:  # hung up by the line (busy tone ends a loop-start call) or silence
            outcome = Outcome.BUSY if call.released and "busy" in lis.heard else Outcome.NO_ANSWER
        if call.released and outcome is Outcome.ANSWERED:
            outcome = Outcome.NO_ANSWER
        self.result.outcomes.append((d.callid, outcome.value, " ".join(lis.heard)))
        if outcome is Outcome.ANSWERED:
            self.talking += 1
        self._feed(DialOutcome(d.callid, outcome))
        if outcome is Outcome.ANSWERED:
            self._feed(AgentsFree(len(self.lines) - self.talking))
            try:
                await self._converse(d, call)
            finally:
                self.talking -= 1
                self._feed(AgentsFree(len(self.lines) - self.talking))
        await runner.drop_outgoing(call)
        self.customers.hang_up(line)
        self._done_line(line)

    def _done_line(self, line: int) -> None:
        self.free.append(line)

    async def _converse(self, d: ev.Dial, call: IvrCall) -> None:
        """Carry out the campaign's actions for an answered call: survey prompts and keys,
        escalation to the complaint queue, goodbye."""
        inbox = self._inbox.setdefault(d.callid, [])
        loop = asyncio.get_running_loop()
        while True:
            if not inbox:
                fut: asyncio.Future[None] = loop.create_future()
                self._wake[d.callid] = fut
                await fut
                continue
            a = inbox.pop(0)
            if isinstance(a, ev.Prompt):
                name = a.prompt.replace("-", "_")
                await call.play(name, barge_in=True)
                if name == "survey_invalid":
                    continue
                r = await call.get_digits(1, "", first_digit_timeout=8.0)
                if call.released or not r.digits:
                    self._feed(ev.CallerHangup(d.callid))
                    return
                q = next((q for q in SURVEY if q.prompt == name), None)
                if q is not None:
                    self.result.answers.append((d.contact, q.id, str(r.digits)))
                self._feed(ev.CallerKey(d.callid, str(r.digits)))
            elif isinstance(a, ev.Hangup):
                if a.prompt and not call.released:
                    await call.play(a.prompt.replace("-", "_"), barge_in=False)
                return
            elif isinstance(a, ev.ConnectToAgent):
                self.result.escalated.append((d.contact, call.id))
                await call.play("complaint_transfer", barge_in=False)
                if self.engine is not None and a.queuename in self.engine.acd.queues:
                    res = await self.engine.serve(call, a.queuename)
                    log.info("%s: complaint queue %s: %s", d.callid, a.queuename, res)
                return


def drain_outbox(store: Repository, gateway: SmsGateway | None, now: float, worker: str = "followup") -> str:
    """Send what the SMS outbox holds through `gateway`, or say what stays pending without one."""
    if gateway is None:
        n = len(store.sms_messages(state="pending"))
        return (
            f"SMS outbox: {n} confirmation(s) pending; no SMSC configured in the demo, so they stay in"
            " sms_outbox (state pending) for a drainer with an SMPP gateway (ccboard.store.smpp)"
        )
    drainer = OutboxDrainer(store, gateway, worker)
    sent = retried = failed = 0
    while True:
        r = drainer.drain(now)
        sent, retried, failed = sent + r.sent, retried + r.retried, failed + r.failed
        if r.sent + r.retried + r.failed == 0 or r.retried:
            break
    return f"SMS outbox: sent {sent}, to retry {retried}, failed {failed}"


async def _run(dialler: FollowupDialler, contacts: Sequence[Contact], until_ms: int, resume: bool) -> None:
    dialler.start(contacts, resume)
    await dialler.runner.run(until_ms=until_ms, stop=dialler.finished)


def run_followup(
    runner: IvrRunner,
    store: Repository,
    lines: Sequence[int],
    prompts: PromptSet,
    *,
    queue: str = "agents",
    engine: QueueEngine | None = None,
    epoch: float = 0.0,
    rng: np.random.Generator | None = None,
    gateway: SmsGateway | None = None,
    max_s: float = 1800.0,
    resume: bool = False,
) -> FollowupResult:
    """Run the follow-up campaign for the queue's answered callers on `lines` (FXO ports of the
    sim) until every contact is final (or max_s of board time), then drain the SMS outbox.

    prompts: a PromptSet holding PHRASES (build_prompt_set("en", PHRASES)); epoch: s since the
    epoch at the runner's current board time. Prints nothing; see FollowupResult and summary().
    """
    rng = rng if rng is not None else np.random.default_rng(7)
    contacts = contacts_from_ledger(store, queue)
    customers = SimCustomers(runner.board, prompts, rng)
    dialler = FollowupDialler(
        runner,
        store,
        lines,
        prompts,
        customers,
        sim_customers(contacts, rng),
        config=campaign_config(complaint_queue=queue),
        engine=engine,
        epoch=epoch,
    )
    saved = runner.prompts
    runner.prompts = {**saved, "en": _merged(saved.get("en"), prompts)}
    try:
        asyncio.run(_run(dialler, contacts, runner.ms + int(max_s * 1000), resume))
    finally:
        runner.prompts = saved
    res = dialler.result
    res.statuses = {cid: s.status for cid, s in dialler.campaign.states.items()}
    res.sms = drain_outbox(store, gateway, dialler.now())
    return res


def _merged(base: PromptSet | None, extra: PromptSet) -> PromptSet:
    if base is None:
        return extra
    return PromptSet(base.language, {**base.prompts, **extra.prompts}, base.gap_ms)


def summary(res: FollowupResult) -> list[str]:
    """The demo's summary lines for the follow-up."""
    by: dict[str, int] = {}
    for s in res.statuses.values():
        by[s] = by.get(s, 0) + 1
    outs: dict[str, int] = {}
    for _, o, _ in res.outcomes:
        outs[o] = outs.get(o, 0) + 1
    unsat = sum(1 for _, q, k in res.answers if q == "satisfied" and k == "2")
    return [
        f"  follow-up campaign: {len(res.statuses)} contacts, {len(res.outcomes)} dials; outcomes "
        + ", ".join(f"{k} {v}" for k, v in sorted(outs.items())),
        "    final statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())),
        f"    survey answers {len(res.answers)}; unsatisfied {unsat}, escalated to the complaint queue "
        f"{len(res.escalated)}",
        f"    {res.sms}",
        *(f"    follow-up error: {e}" for e in res.errors[:5]),
    ]
