"""The repository API, the same tests on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import csv
import io

import pytest

from ccboard.errors import (
    StoreConflictError,
    StoreError,
    StoreNotFoundError,
    StoreSchemaError,
    StoreURLError,
)
from ccboard.store import Repository, open_store, parse_queue_log_line, queue_log_line, schema
from ccboard.store.records import (
    ANSWERED,
    CANCELLED,
    CLAIMED,
    DONE,
    FAILED,
    PENDING,
    Callback,
    CampaignAttempt,
    Cdr,
    JournalEntry,
    LedgerEvent,
    QueueMember,
    SmsMessage,
)

T0 = 1_718_000_000.0


def ev(
    t: float, callid: str, event: str, *data: str, queue: str = "sales", agent: str = "NONE"
) -> LedgerEvent:
    return LedgerEvent(T0 + t, callid, queue, agent, event, *data)


def cb(i: int, due: float, max_attempts: int = 3) -> Callback:
    return Callback(f"cb{i}", f"call{i}", "sales", f"+4930{i:06d}", T0 + due, T0, max_attempts=max_attempts)


# -- schema and URLs ------------------------------------------------------------------------------
def test_migrate_is_idempotent(store_url: str) -> None:
    with open_store(store_url) as a:
        assert a.schema_version() == schema.LATEST
    with open_store(store_url) as b:
        assert b.migrate() == schema.LATEST
        assert b.count("ledger") == 0 and b.count("journal") == 0


def test_journal_entries_are_written_once_and_read_in_order(store: Repository) -> None:
    entries = [JournalEntry("a", i, T0 + i, "acd", "event", f'{{"n": {i}}}') for i in (1, 2, 3)]
    store.record(journal=entries[:2], events=[LedgerEvent(T0, "c1", "q", "NONE", "ENTERQUEUE", uid="a/1/0")])
    store.record(journal=entries[1:])  # a replayed write: entry 2 is kept once
    store.record(journal=[JournalEntry("b", 1, T0, "acd", "timeout")])
    assert store.journal("a") == entries
    assert store.journal("a", after=2) == entries[2:]
    assert [j.server for j in store.journal("b")] == ["b"]


def test_newer_schema_is_refused(store: Repository) -> None:
    with store.tx("test", "schema_version") as t:
        t.run("INSERT INTO schema_version (version, title, applied) VALUES (?, ?, ?)", (99, "future", 0.0))
    with pytest.raises(StoreSchemaError, match="schema version 99"):
        store.migrate()


@pytest.mark.parametrize(
    "url, part",
    [
        ("mysql://x/y", "scheme 'mysql'"),
        ("sqlite://host/x.db", "no host"),
        ("sqlite:///", "no database path"),
        ("sqlite:///x.db?journal=off", "unknown option"),
        ("sqlite:///x.db?synchronous=maybe", "synchronous='maybe'"),
    ],
)
def test_bad_urls_name_the_part(url: str, part: str) -> None:
    with pytest.raises(StoreURLError, match=part):
        open_store(url)


def test_unreachable_postgres_names_the_url_without_password() -> None:
    with pytest.raises(StoreError, match=r"cannot connect to postgresql://u:\*\*\*@") as exc:
        open_store("postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2")
    assert "hunter2" not in str(exc.value)


# -- ledger and CDRs ------------------------------------------------------------------------------
def test_ledger_append_is_idempotent_and_ordered(store: Repository) -> None:
    a = ev(1, "c1", "ENTERQUEUE", "", "5551234", "1")
    b = ev(3, "c1", "CONNECT", "2", "c1-agent", "1", agent="SIP/100")
    c = ev(2, "c2", "ENTERQUEUE", "", "5550000", "2")
    store.append(a, b)
    store.append(a, b, c)  # a retry after a crash: a and b stored once
    got = store.ledger()
    assert [(e.callid, e.event) for e in got] == [
        ("c1", "ENTERQUEUE"),
        ("c2", "ENTERQUEUE"),
        ("c1", "CONNECT"),
    ]
    assert [e.id for e in got] == sorted(e.id for e in got) or len({e.id for e in got}) == 3
    assert got[2].agent == "SIP/100" and got[2].data == ("2", "c1-agent", "1", "", "")
    assert store.ledger(callid="c1", events=["CONNECT"])[0].uid == b.uid
    assert store.ledger(since=T0 + 2, until=T0 + 3) == [got[1]]
    assert store.event_counts() == {"ENTERQUEUE": 2, "CONNECT": 1}
    assert store.ledger(events=[]) == []


def test_record_is_one_transaction(store: Repository) -> None:
    good = ev(1, "c1", "ENTERQUEUE")
    bad = Cdr("c1", T0, T0 + 10, None, src=None)  # type: ignore[arg-type]  # NOT NULL column
    with pytest.raises(StoreError, match="record ledger") as exc:
        store.record(events=[good], cdrs=[bad])
    assert exc.value.op == "record" and exc.value.key == "c1"
    assert store.count("ledger") == 0 and store.count("cdr") == 0


def test_cdrs_once_per_uniqueid(store: Repository) -> None:
    c = Cdr(
        "c1", T0, T0 + 70, T0 + 10, "5551234", "600", queue="sales", agent="SIP/100", disposition=ANSWERED
    )
    store.add_cdr(c, events=[ev(70, "c1", "COMPLETECALLER", "10", "60", "1", agent="SIP/100")])
    store.add_cdr(c)
    [got] = store.cdrs()
    assert got == c and got.duration == 70 and got.billsec == 60
    assert store.count("cdr") == 1 and store.count("ledger") == 1
    assert store.cdrs(since=T0 + 1) == []


def test_queue_log_export_matches_asterisk_lines(store: Repository) -> None:
    store.append(
        LedgerEvent(T0 + 0.7, "NONE", "NONE", "NONE", "QUEUESTART"),
        ev(1.2, "1718000001.5", "ENTERQUEUE", "", "5551234", "1"),
        ev(9.9, "1718000001.5", "CONNECT", "8", "1718000009.6", "2", agent="SIP/100"),
        ev(70, "1718000001.5", "COMPLETEAGENT", "8", "60", "1", agent="SIP/100"),
    )
    out = io.StringIO()
    assert store.export_queue_log(out) == 4
    assert out.getvalue().splitlines() == [
        "1718000000|NONE|NONE|NONE|QUEUESTART|",
        "1718000001|1718000001.5|sales|NONE|ENTERQUEUE||5551234|1",
        "1718000009|1718000001.5|sales|SIP/100|CONNECT|8|1718000009.6|2",
        "1718000070|1718000001.5|sales|SIP/100|COMPLETEAGENT|8|60|1",
    ]
    back = [parse_queue_log_line(line) for line in out.getvalue().splitlines()]
    assert [(e.event, e.data) for e in back] == [(e.event, e.data) for e in store.ledger()]
    with pytest.raises(StoreError, match="holds '|'"):
        queue_log_line(ev(1, "c|1", "ENTERQUEUE"))


def test_csv_export_round_trips(store: Repository) -> None:
    store.add_cdr(Cdr("c1", T0, T0 + 5.25, None, "555", "600", disposition="NO ANSWER"))
    store.add_cdr(Cdr("c2", T0 + 1, T0 + 9, T0 + 2, "556", "600", agent="SIP/7", disposition=ANSWERED))
    out = io.StringIO()
    assert store.export_csv("cdr", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["uniqueid"] for r in rows] == ["c1", "c2"]
    assert float(rows[0]["end_time"]) == T0 + 5.25 and rows[0]["answer_time"] == ""
    assert rows[1]["agent"] == "SIP/7" and rows[1]["disposition"] == ANSWERED
    with pytest.raises(StoreError, match="no table 'nope'"):
        store.export_csv("nope", out)


# -- callbacks ------------------------------------------------------------------------------------
def test_callback_claimed_only_when_due_and_only_once(store: Repository) -> None:
    store.add_callback(cb(1, 100), sms=[SmsMessage("sms1", "+4930000001", "We call you at 18:00", T0)])
    store.add_callback(cb(2, 50))
    store.add_callback(cb(2, 50))  # retried write: still one row
    assert store.count("callbacks") == 2 and store.count("sms_outbox") == 1
    assert store.claim_callbacks("A", T0 + 10) == []
    [first] = store.claim_callbacks("A", T0 + 60, limit=5)
    assert first.id == "cb2" and first.state == CLAIMED and first.claimed_by == "A" and first.claim_seq == 1
    assert store.claim_callbacks("B", T0 + 60) == []  # held by A
    got = store.claim_callbacks("B", T0 + 100, limit=5)
    assert [c.id for c in got] == ["cb1"]


def test_callback_retries_then_fails(store: Repository) -> None:
    store.add_callback(cb(1, 0, max_attempts=2))
    [c] = store.claim_callbacks("A", T0)
    c = store.finish_callback(c, "no_answer", T0 + 30, retry_at=T0 + 600)
    assert (c.state, c.attempts, c.due) == (PENDING, 1, T0 + 600)
    assert store.claim_callbacks("A", T0 + 599) == []
    [c] = store.claim_callbacks("A", T0 + 600)
    c = store.finish_callback(c, "busy", T0 + 630, retry_at=T0 + 1200)
    assert (c.state, c.attempts, c.outcome) == (FAILED, 2, "busy")
    assert store.callback("cb1") == c
    assert store.claim_callbacks("A", T0 + 9999) == []


def test_expired_claim_is_taken_over_and_the_old_worker_cannot_finish(store: Repository) -> None:
    store.add_callback(cb(1, 0))
    [a] = store.claim_callbacks("A", T0, lease=60)
    assert store.claim_callbacks("B", T0 + 59) == []
    [b] = store.claim_callbacks("B", T0 + 61, lease=60)
    assert b.claim_seq == a.claim_seq + 1
    with pytest.raises(StoreConflictError, match=r"finish callbacks \[cb1\]: claim 1 by 'A'"):
        store.finish_callback(a, "answered", T0 + 62)
    done = store.finish_callback(b, "answered", T0 + 63, events=[ev(63, "cb1", "CALLBACK", "answered")])
    assert done.state == DONE and done.attempts == 1
    with pytest.raises(StoreConflictError):
        store.finish_callback(b, "answered", T0 + 64)  # a second outcome for one dial
    assert store.event_counts() == {"CALLBACK": 1}


def test_release_claims_after_restart(store: Repository) -> None:
    store.add_callback(cb(1, 0))
    store.add_attempts([CampaignAttempt("survey", "k1", 1, "+4930111", T0, T0)])
    store.enqueue_sms(SmsMessage("s1", "+4930111", "hi", T0))
    assert len(store.claim_callbacks("A", T0)) == 1
    assert len(store.claim_attempts("A", T0)) == 1
    assert len(store.claim_sms("A", T0)) == 1
    assert store.release_claims("B") == 0
    assert store.release_claims("A") == 3
    assert [c.state for c in store.callbacks()] == [PENDING]
    assert store.claim_callbacks("B", T0)[0].claim_seq == 2


def test_cancel_callback(store: Repository) -> None:
    store.add_callback(cb(1, 100))
    store.add_callback(cb(2, 0))
    assert store.cancel_callback("cb1", T0 + 5)
    [c2] = store.claim_callbacks("A", T0 + 5)
    assert not store.cancel_callback("cb2", T0 + 6)  # being dialled
    assert [c.state for c in store.callbacks()] == [CLAIMED, CANCELLED]
    assert store.callbacks(state=CANCELLED)[0].id == "cb1"
    with pytest.raises(StoreNotFoundError, match=r"read callbacks \[cb9\]: no such callback"):
        store.callback("cb9")
    assert c2.id == "cb2"


# -- campaign attempts ----------------------------------------------------------------------------
def test_attempts_chain_per_contact(store: Repository) -> None:
    store.add_attempts([CampaignAttempt("survey", f"k{i}", 1, f"+49{i}", T0 + i, T0) for i in range(3)])
    store.add_attempts([CampaignAttempt("other", "k0", 1, "+49", T0, T0)])
    got = store.claim_attempts("A", T0 + 10, limit=10, campaign="survey")
    assert [a.id for a in got] == ["survey/k0/1", "survey/k1/1", "survey/k2/1"]
    nxt = store.finish_attempt(got[0], "no_answer", T0 + 20, next_due=T0 + 3600)
    assert nxt is not None and nxt.attempt == 2 and nxt.due == T0 + 3600
    assert store.finish_attempt(got[1], "answered", T0 + 21) is None
    with pytest.raises(StoreConflictError, match=r"campaign_attempts \[survey/k1/1\]"):
        store.finish_attempt(got[1], "answered", T0 + 22)
    rows = {a.id: a for a in store.attempts("survey")}
    assert rows["survey/k0/1"].state == DONE and rows["survey/k0/2"].state == PENDING
    assert rows["survey/k1/1"].outcome == "answered" and rows["survey/k2/1"].state == CLAIMED
    # k2's claim (120 s lease) has expired by then, so B takes it over too
    got = store.claim_attempts("B", T0 + 3600, limit=10)
    assert [a.id for a in got] == ["other/k0/1", "survey/k2/1", "survey/k0/2"]


# -- shared agent state and membership -------------------------------------------------------------
def test_agent_compare_and_set_across_servers(store_url: str) -> None:
    with open_store(store_url) as a, open_store(store_url) as b:
        a.set_agent_state("SIP/100", "available", T0, server="A")
        won = b.set_agent_state("SIP/100", "ringing", T0 + 1, server="B", callid="c1", expect={"available"})
        lost = a.set_agent_state("SIP/100", "ringing", T0 + 1, server="A", callid="c2", expect={"available"})
        assert won is not None and lost is None
        s = a.agent_state("SIP/100")
        assert (s.state, s.server, s.callid, s.version) == ("ringing", "B", "c1", 2)
        b.set_agent_state("SIP/100", "on_call", T0 + 5, server="B", callid="c1", expect={"ringing"})
        b.set_agent_state("SIP/100", "wrap_up", T0 + 65, server="B")
        s = a.agent_state("SIP/100")
        assert (s.calls_taken, s.last_call_end, s.since) == (1, T0 + 65, T0 + 65)
        assert [x.agent for x in a.agent_states(state="wrap_up")] == ["SIP/100"]
        with pytest.raises(StoreNotFoundError):
            a.agent_state("SIP/999")


def test_queue_membership(store: Repository) -> None:
    store.add_member(QueueMember("sales", "SIP/100", 0, server="A"))
    store.add_member(QueueMember("sales", "SIP/101", 2, server="B"))
    store.add_member(QueueMember("support", "SIP/100", 1, server="A"))
    store.add_member(QueueMember("sales", "SIP/101", 1, server="B"))  # update penalty
    assert [(m.agent, m.penalty) for m in store.members("sales")] == [("SIP/100", 0), ("SIP/101", 1)]
    assert store.set_paused("SIP/100", True, "lunch") == 2
    assert all(m.paused and m.reason == "lunch" for m in store.members(agent="SIP/100"))
    assert store.set_paused("SIP/100", False, queue="sales") == 1
    assert [m.paused for m in store.members(agent="SIP/100")] == [False, True]
    assert store.remove_member("sales", "SIP/101") and not store.remove_member("sales", "SIP/101")
    assert len(store.members()) == 2


# -- SMS outbox -----------------------------------------------------------------------------------
def test_sms_claim_retry_and_fail(store: Repository) -> None:
    store.enqueue_sms(SmsMessage("s1", "+49301", "a", T0, max_attempts=2))
    store.enqueue_sms(SmsMessage("s2", "+49302", "b", T0 + 1))
    store.enqueue_sms(SmsMessage("s3", "+49303", "c", T0 + 2, not_before=T0 + 500))
    m1, m2 = store.claim_sms("D", T0 + 10)
    assert store.finish_sms(m1, T0 + 11, error="throttled", retry_at=T0 + 60) == PENDING
    assert store.finish_sms(m2, T0 + 11, message_id="M1") == DONE
    [again] = store.claim_sms("D", T0 + 60)
    assert again.id == "s1" and again.attempts == 1
    assert store.finish_sms(again, T0 + 61, error="throttled", retry_at=T0 + 120) == FAILED
    assert [m.id for m in store.claim_sms("D", T0 + 9999)] == ["s3"]
    assert {m.id: m.message_id for m in store.sms_messages(state=DONE)} == {"s2": "M1"}


def test_finish_callbacks_is_all_or_nothing(store: Repository) -> None:
    store.record(callbacks=[Callback(f"b{i}", f"c{i}", "sales", "+49", T0 + i, T0) for i in range(5)])
    got = store.claim_callbacks("w1", T0 + 10, limit=5)
    assert [c.id for c in got] == [f"b{i}" for i in range(5)]
    ev = [LedgerEvent(T0 + 10, c.callid, "sales", "w1", "CALLBACK", uid=f"{c.id}#1") for c in got]
    stale = got[4]
    store.finish_callback(stale, "answered", T0 + 10)  # finished meanwhile: its claim is spent
    with pytest.raises(StoreConflictError, match="1 of 5 claims no longer hold"):
        store.finish_callbacks([(c, "answered", None) for c in got], T0 + 11, events=ev)
    assert [c.state for c in store.callbacks()] == ["claimed"] * 4 + ["done"]
    assert store.count("ledger") == 0  # the batch's events were rolled back with it
    done = store.finish_callbacks(
        [(c, "busy" if i % 2 else "answered", T0 + 100) for i, c in enumerate(got[:4])],
        T0 + 12,
        events=ev[:4],
    )
    assert [(c.state, c.attempts, c.outcome) for c in done] == [
        ("pending", 1, "answered"), ("pending", 1, "busy"), ("pending", 1, "answered"),
        ("pending", 1, "busy"),
    ]  # fmt: skip
    assert {c.id: (c.state, c.due) for c in store.callbacks(state="pending")} == {
        f"b{i}": ("pending", T0 + 100) for i in range(4)
    }
    assert store.count("ledger") == 4
