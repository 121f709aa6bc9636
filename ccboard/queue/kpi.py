"""KPIs computed exactly from ledger events (``ccboard.queue.events``), nothing else.

Per queue (or all queues), with T = ``sl_threshold`` s and S = ``short_abandon`` s:

- offered: ENTERQUEUE rows (each stint in a queue; a callback retry is a new stint);
  blocked: FULL + JOINEMPTY rows (never joined, not offered).
- answered: CONNECT rows. abandoned: ABANDON rows with waittime >= S; short_abandoned: < S.
  Also counted: timeouts (EXITWITHTIMEOUT), key exits, empty exits, failed callback stints.
- ASA = sum(CONNECT.holdtime) / answered.
- SL  = answered within T / answered                                  (app_queue servicelevelperf)
- SL2 = (answered within T + abandoned within T) / (answered + abandoned), abandoned here
  counting every ABANDON, short ones included                         (app_queue servicelevelperf2)
  ("within T": holdtime / waittime <= T.)
- AHT = (sum of calltime of COMPLETEAGENT / COMPLETECALLER + sum of WRAPUP.wrapuptime) / completed.
- occupancy = busy / (busy + idle), summed over agents, where busy = on a call (CONNECT to
  COMPLETE*) or in wrap-up (the WRAPUP row's interval), idle = logged in, not paused, not busy;
  open intervals end at ``until`` (default: the last event's time).
- callback kept-promise rate = requests whose first CALLBACKATTEMPT came by promised + ``grace``,
  over CALLBACKREQUEST rows whose promised time (+ grace) is <= until.
- campaign contact rate = CAMPAIGNRESULT rows with outcome "answered" / CAMPAIGNRESULT rows;
  contacts reached = distinct contacts ever answered / distinct contacts attempted.
Ratios over an empty set are None.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ccboard.queue import events as ev


@dataclass(frozen=True)
class Kpis:
    offered: int
    blocked: int
    answered: int
    abandoned: int
    short_abandoned: int
    timeouts: int
    key_exits: int
    empty_exits: int
    callback_exits: int
    asa: float | None
    sl: float | None
    sl2: float | None
    aht: float | None
    occupancy: float | None
    callback_requests_due: int
    callback_kept: int
    callback_kept_rate: float | None
    campaign_attempts: int
    campaign_answered: int
    campaign_contact_rate: float | None
    contacts_attempted: int
    contacts_reached: int
    contact_reach_rate: float | None


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def compute(
    events: Iterable[ev.LedgerEvent],
    *,
    queue: str | None = None,
    sl_threshold: float = 20.0,
    short_abandon: float = 5.0,
    grace: float = 0.0,
    until: float | None = None,
) -> Kpis:
    """KPIs of `queue` (None: all) from ledger events in any order."""
    evs = sorted(events, key=lambda e: e.time)
    if until is None:
        until = evs[-1].time if evs else 0.0

    def mine(e: ev.LedgerEvent) -> bool:
        return queue is None or e.queuename == queue

    offered = blocked = answered = abandoned = short = timeouts = keys = empties = cb_exits = 0
    hold_sum = 0.0
    ans_in = ab_in = ab_all = 0
    talk = wrap = 0.0
    completed = 0
    for e in evs:
        if not mine(e):
            continue
        if isinstance(e, ev.EnterQueue):
            offered += 1
        elif isinstance(e, ev.Full | ev.JoinEmpty):
            blocked += 1
        elif isinstance(e, ev.Connect):
            answered += 1
            hold_sum += e.holdtime
            ans_in += e.holdtime <= sl_threshold
        elif isinstance(e, ev.Abandon):
            ab_all += 1
            ab_in += e.waittime <= sl_threshold
            if e.waittime < short_abandon:
                short += 1
            else:
                abandoned += 1
        elif isinstance(e, ev.ExitWithTimeout):
            timeouts += 1
        elif isinstance(e, ev.ExitWithKey):
            keys += 1
        elif isinstance(e, ev.ExitEmpty):
            empties += 1
        elif isinstance(e, ev.ExitCallback):
            cb_exits += 1
        elif isinstance(e, ev.CompleteAgent | ev.CompleteCaller):
            completed += 1
            talk += e.calltime
        elif isinstance(e, ev.Wrapup):
            wrap += e.wrapuptime

    # occupancy: sweep each agent's timeline
    per_agent: dict[str, list[ev.LedgerEvent]] = defaultdict(list)
    for e in evs:
        if isinstance(
            e,
            ev.AgentLoginLog
            | ev.AgentLogoffLog
            | ev.Pause
            | ev.Unpause
            | ev.Connect
            | ev.CompleteAgent
            | ev.CompleteCaller
            | ev.Wrapup,
        ):
            if isinstance(e, ev.Connect | ev.CompleteAgent | ev.CompleteCaller | ev.Wrapup) and not mine(e):
                continue
            per_agent[e.agent].append(e)
    busy_t = idle_t = 0.0
    for rows in per_agent.values():
        points: list[tuple[float, int, str]] = []
        for i, e in enumerate(rows):
            if isinstance(e, ev.Wrapup):
                points.append((e.time - e.wrapuptime, i, "busy+"))
                points.append((e.time, i, "busy-"))
            elif isinstance(e, ev.Connect):
                points.append((e.time, i, "busy+"))
            elif isinstance(e, ev.CompleteAgent | ev.CompleteCaller):
                points.append((e.time, i, "busy-"))
            elif isinstance(e, ev.AgentLoginLog):
                points.append((e.time, i, "in"))
            elif isinstance(e, ev.AgentLogoffLog):
                points.append((e.time, i, "out"))
            elif isinstance(e, ev.Pause):
                points.append((e.time, i, "pause"))
            else:
                points.append((e.time, i, "unpause"))
        points.sort()
        logged = paused = False
        busy = 0
        t0 = points[0][0] if points else until
        for t, _, what in [*points, (until, 1 << 60, "end")]:
            dt = max(0.0, t - t0)
            if busy > 0:
                busy_t += dt
            elif logged and not paused:
                idle_t += dt
            t0 = t
            if what == "busy+":
                busy += 1
            elif what == "busy-":
                busy = max(0, busy - 1)
            elif what == "in":
                logged = True
            elif what == "out":
                logged, paused = False, False
            elif what == "pause":
                paused = True
            elif what == "unpause":
                paused = False

    # callbacks
    promised: dict[str, float] = {}
    first_attempt: dict[str, float] = {}
    for e in evs:
        if not mine(e):
            continue
        if isinstance(e, ev.CallbackRequest):
            promised.setdefault(e.callid, e.promised)
        elif isinstance(e, ev.CallbackAttempt):
            first_attempt.setdefault(e.callid, e.time)
    due = [cid for cid, p in promised.items() if p + grace <= until]
    kept = sum(1 for cid in due if cid in first_attempt and first_attempt[cid] <= promised[cid] + grace)

    # campaigns (queuename = campaign)
    attempts = c_answered = 0
    tried: set[str] = set()
    reached: set[str] = set()
    for e in evs:
        if isinstance(e, ev.CampaignResult) and mine(e):
            attempts += 1
            tried.add(e.contact)
            if e.outcome == ev.Outcome.ANSWERED.value:
                c_answered += 1
                reached.add(e.contact)

    return Kpis(
        offered=offered,
        blocked=blocked,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        timeouts=timeouts,
        key_exits=keys,
        empty_exits=empties,
        callback_exits=cb_exits,
        asa=_ratio(hold_sum, answered),
        sl=_ratio(ans_in, answered),
        sl2=_ratio(ans_in + ab_in, answered + ab_all),
        aht=_ratio(talk + wrap, completed),
        occupancy=_ratio(busy_t, busy_t + idle_t),
        callback_requests_due=len(due),
        callback_kept=kept,
        callback_kept_rate=_ratio(kept, len(due)),
        campaign_attempts=attempts,
        campaign_answered=c_answered,
        campaign_contact_rate=_ratio(c_answered, attempts),
        contacts_attempted=len(tried),
        contacts_reached=len(reached),
        contact_reach_rate=_ratio(len(reached), len(tried)),
    )
