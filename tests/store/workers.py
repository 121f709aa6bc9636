"""Writer processes for the crash and two-writer tests: `python -m tests.store.workers MODE URL ...`.

crash URL N: a busy simulated hour of N calls. Each call is recorded (ledger events + CDR, and
for some calls a callback promise with its SMS, or a campaign attempt) in one transaction and
then acknowledged on stdout ("ack i"); due callbacks and attempts are claimed and finished with
deterministic outcomes (model() below). Killed at any point and restarted, it releases its own
claims and carries on; every write is idempotent, so the end state must equal model(N).

claim URL NAME START [BATCH]: waits until wall time START, then claims callbacks BATCH at a time
(default 1; more are finished together with finish_callbacks) and finishes each with a ledger
event whose uid names this worker (so a callback finished by two workers would leave two
events); prints "claimed <id>" per callback and "done" at the end.
"""

from __future__ import annotations

import sys
import time
import zlib
from dataclasses import dataclass

from ccboard.store import open_store
from ccboard.store.records import ANSWERED, NO_ANSWER, Callback, CampaignAttempt, Cdr, LedgerEvent, SmsMessage

T0 = 1_718_000_000.0
HOUR = 3600.0
WORKER = "crash-writer"
OUTCOMES = ("answered", "no_answer", "busy")
MAX_ATTEMPTS = 3
RETRY_S = 120.0


def outcome(key: str, attempt: int) -> str:
    """The deterministic outcome of dial `attempt` (1, 2, ...) of callback/attempt `key`."""
    return OUTCOMES[zlib.crc32(f"{key}#{attempt}".encode()) % 3]


def call_time(i: int, n: int) -> float:
    return T0 + i * HOUR / n


def call_rows(
    i: int, n: int
) -> tuple[list[LedgerEvent], Cdr, list[Callback], list[CampaignAttempt], list[SmsMessage]]:
    """What call i writes in its one transaction (uids fixed by i, so a replay is a no-op)."""
    t = call_time(i, n)
    cid = f"call{i}"
    events = [LedgerEvent(t, cid, "sales", "NONE", "ENTERQUEUE", "", f"+49{i:07d}", "1", uid=f"{cid}/enter")]
    if i % 5 == 4:
        events.append(LedgerEvent(t + 40, cid, "sales", "NONE", "ABANDON", "1", "1", "40", uid=f"{cid}/end"))
        cdr = Cdr(cid, t, t + 40, None, f"+49{i:07d}", "600", queue="sales", disposition=NO_ANSWER)
    else:
        agent = f"SIP/{100 + i % 7}"
        events.append(
            LedgerEvent(t + 12, cid, "sales", agent, "CONNECT", "12", f"{cid}.a", "3", uid=f"{cid}/c")
        )
        events.append(
            LedgerEvent(t + 90, cid, "sales", agent, "COMPLETECALLER", "12", "78", "1", uid=f"{cid}/end")
        )
        cdr = Cdr(
            cid, t, t + 90, t + 12, f"+49{i:07d}", "600", queue="sales", agent=agent, disposition=ANSWERED
        )
    callbacks, sms, attempts = [], [], []
    if i % 3 == 0:
        callbacks.append(
            Callback(f"cb{i}", cid, "sales", f"+49{i:07d}", t + 60, t, max_attempts=MAX_ATTEMPTS)
        )
        sms.append(SmsMessage(f"sms{i}", f"+49{i:07d}", "We will call you back shortly.", t, ref=f"cb{i}"))
    if i % 4 == 0:
        attempts.append(CampaignAttempt("follow", f"k{i}", 1, f"+49{i:07d}", t + 30, t))
    return events, cdr, callbacks, attempts, sms


@dataclass(frozen=True)
class Expected:
    cdrs: set[str]
    callbacks: dict[str, tuple[str, int, str]]  # id -> (state, attempts, last outcome)
    attempts: dict[str, str]  # attempt id -> outcome
    ledger: int  # rows


def model(n: int) -> Expected:
    """The exact end state of crash(n), however often it was killed."""
    cbs: dict[str, tuple[str, int, str]] = {}
    atts: dict[str, str] = {}
    ledger = 0
    for i in range(n):
        events, _, callbacks, attempts, _ = call_rows(i, n)
        ledger += len(events)
        for c in callbacks:
            k = 1
            while outcome(c.id, k) != "answered" and k < MAX_ATTEMPTS:
                k += 1
            last = outcome(c.id, k)
            cbs[c.id] = ("done" if last == "answered" else "failed", k, last)
            ledger += k
        for a in attempts:
            k = 1
            while True:
                atts[f"{a.campaign}/{a.contact}/{k}"] = outcome(f"{a.campaign}/{a.contact}", k)
                ledger += 1
                if atts[f"{a.campaign}/{a.contact}/{k}"] == "answered" or k == MAX_ATTEMPTS:
                    break
                k += 1
    return Expected({f"call{i}" for i in range(n)}, cbs, atts, ledger)


def _work(store: object, now: float) -> int:
    """Claim and finish what is due at `now`; returns how many rows were finished."""
    from ccboard.store import Repository

    assert isinstance(store, Repository)
    done = 0
    for c in store.claim_callbacks(WORKER, now, limit=2, lease=HOUR):
        k = c.attempts + 1
        out = outcome(c.id, k)
        ev = LedgerEvent(now, c.callid, c.queue, "NONE", "CALLBACK", out, str(k), uid=f"{c.id}#{k}")
        store.finish_callback(c, out, now, retry_at=None if out == "answered" else now + RETRY_S, events=[ev])
        done += 1
    for a in store.claim_attempts(WORKER, now, limit=2, lease=HOUR):
        out = outcome(f"{a.campaign}/{a.contact}", a.attempt)
        nxt = None if out == "answered" or a.attempt >= MAX_ATTEMPTS else now + RETRY_S
        ev = LedgerEvent(now, a.id, a.campaign, "NONE", "ATTEMPT", out, str(a.attempt), uid=a.id)
        store.finish_attempt(a, out, now, next_due=nxt, events=[ev])
        done += 1
    return done


def crash(url: str, n: int) -> None:
    store = open_store(url)
    store.release_claims(WORKER)  # whatever this worker held when it died goes back to pending
    for i in range(n):
        events, cdr, callbacks, attempts, sms = call_rows(i, n)
        store.record(events=events, cdrs=[cdr], callbacks=callbacks, attempts=attempts, sms=sms)
        print(f"ack {i}", flush=True)
        _work(store, call_time(i, n))
    now = T0 + HOUR
    while store.callbacks(state="pending") or store.attempts(state="pending"):
        now += RETRY_S
        _work(store, now)
    print("done", flush=True)
    store.close()


def claim(url: str, name: str, start: float, batch: int = 1) -> None:
    store = open_store(url, migrate=False)
    while time.time() < start:
        time.sleep(0.001)
    now = T0 + HOUR
    while True:
        got = store.claim_callbacks(name, now, limit=batch)
        if not got:
            break
        time.sleep(0.002)  # the dial: other servers claim meanwhile (SQLite's lock is not fair)
        evs = [
            LedgerEvent(now, c.callid, c.queue, name, "CALLBACK", "answered", uid=f"{c.id}#{name}")
            for c in got
        ]
        if batch == 1:
            store.finish_callback(got[0], "answered", now, events=evs)
        else:
            store.finish_callbacks([(c, "answered", None) for c in got], now, events=evs)
        for c in got:
            print(f"claimed {c.id}", flush=True)
    print("done", flush=True)
    store.close()


if __name__ == "__main__":
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "crash":
        crash(url, int(sys.argv[3]))
    elif mode == "claim":
        claim(url, sys.argv[3], float(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    else:
        sys.exit(f"unknown mode {mode!r}")
