"""The follow-up campaign runner (ccboard/cli/followup.py) on the sim, in virtual time: ten served
callers are called back on FXO lines whose far ends are a person, a voicemail, busy, ringing
with no answer, an invalid number (SIT) or a fax; the outcomes come from call progress analysis
and answering-machine detection of the line audio, retries follow the recycle rules, persons
answer the DTMF survey and an unsatisfied one is escalated to the agents' queue, where the queue
engine connects it to the agent on the FXS port. The SMS outbox is drained through a real SMPP
peer (tests/store/smsc.pl), and without one stays pending."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ccboard.board import open_board
from ccboard.cli import followup
from ccboard.ivr import IvrCall, IvrRunner
from ccboard.media.tts import build_prompt_set
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.campaign import Contact
from ccboard.queue.engine import PHRASES, QueueEngine, SimAgents
from ccboard.queue.hook import QueueHook
from ccboard.store import LedgerEvent, SmsMessage, open_store
from ccboard.store.smpp import SmppGateway
from tests.ivr.helpers import prompt_cache
from tests.queue.conftest import BACKENDS, store_url_for
from tests.store.test_smpp import Smsc, smsc  # noqa: F401 - the SMSC fixture

EPOCH = 1_767_607_200.0
N = 10
EXPECT = {  # what CPA / AMD must report, per profile kind
    followup.PERSON: "answered",
    followup.MACHINE: "machine",
    followup.BUSY: "busy",
    followup.NO_ANSWER: "no answer",
    followup.INVALID: "invalid",
    followup.FAX: "fax",
}


def _seed_ledger(url: str) -> None:
    """Ten calls the inbound queue connected to an agent, and two SMS confirmations queued."""
    with open_store(url) as s:
        rows = []
        for i in range(N):
            t = EPOCH - 3600 + 60 * i
            rows.append(LedgerEvent(t, f"c{i}", "agents", "NONE", "ENTERQUEUE", "", f"5550{i:03d}", "1", "0"))
            rows.append(LedgerEvent(t + 5, f"c{i}", "agents", "agent1", "CONNECT", "5", "agent1", "1"))
        s.record(
            events=rows,
            sms=[
                SmsMessage(f"sms-c{i}", f"5550{i:03d}", f"We will call you back. Ref c{i}.", EPOCH)
                for i in (1, 2)
            ],
        )


def _run(url: str, gateway: Any = None) -> tuple[followup.FollowupResult, dict[str, Any]]:
    board = open_board("sim://?e1=0&fxo=4&fxs=1&zone=cn&seed=5")
    lines = [c.channo for c in board.channels if c.signalling.is_fxo_port]
    agent_port = next(c.channo for c in board.channels if c.signalling.is_fxs_port)
    prompts = {"en": build_prompt_set("en", {**PHRASES["en"], "hold": "Please hold."}, folder=prompt_cache())}
    fu_prompts = build_prompt_set("en", followup.PHRASES, fragments=False, folder=prompt_cache())
    store = open_store(url)
    engine = QueueEngine(
        store,
        Acd([QueueConfig("agents", ring_timeout=15.0, wrapup=1.0)]),
        {"agent1": agent_port},
        epoch=EPOCH,
        people=SimAgents(board, np.random.default_rng(2), answer_ms=(300.0, 500.0), talk_s=(5.0, 5.0)),
        server="bank",
    )

    async def no_inbound(call: IvrCall) -> None:
        await call.hangup()

    runner = IvrRunner(board, no_inbound, prompts, inbound=[], transfer_hook=QueueHook(engine))
    engine.bind(runner, ["agents"])
    asyncio.run(runner.run(until_ms=100))  # the agent logs in
    res = followup.run_followup(
        runner, store, lines, fu_prompts, engine=engine, epoch=EPOCH + 0.1, gateway=gateway,
        rng=np.random.default_rng(11), max_s=900.0,
    )  # fmt: skip
    contacts = [Contact(f"c{i}", f"5550{i:03d}") for i in range(N)]
    out = dict(
        ledger=store.ledger(),
        sms=store.sms_messages(),
        errors=engine.errors,
        profiles=followup.sim_customers(contacts, np.random.default_rng(11)),
        ms=runner.ms,
    )
    store.close()
    board.close()
    return res, out


@pytest.fixture(scope="module", params=BACKENDS)
def run(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Any]:
    url = store_url_for(request.param, tmp_path_factory.mktemp("followup"), request, "followup")
    _seed_ledger(url)
    yield _run(url)


def test_every_contact_ends_with_a_final_status(run: Any) -> None:
    res, out = run
    assert res.errors == [] and out["errors"] == []
    assert len(res.statuses) == N
    assert not {s for s in res.statuses.values() if s in ("NEW", "RETRY", "DIALLING", "SURVEY")}


def test_outcomes_come_from_the_line_audio_and_retries_follow_the_profile(run: Any) -> None:
    res, out = run
    got = {cid: o for cid, o, _ in res.outcomes}
    for i in range(N):
        prof = out["profiles"][f"c{i}"]
        attempts = sorted(int(k.rsplit("-", 1)[1]) for k in got if k.startswith(f"followup-c{i}-"))
        assert attempts == list(range(1, len(attempts) + 1))
        for a in attempts:
            assert got[f"followup-c{i}-{a}"] == EXPECT[prof.on(a)], (i, a, res.outcomes)
        final = prof.on(attempts[-1])
        assert final in (followup.PERSON, followup.INVALID, followup.FAX)
    st = res.statuses
    assert st["c7"] == "INVALID" and st["c9"] == "FAX"
    # the ledger holds one CAMPAIGNATTEMPT and one CAMPAIGNRESULT per dial
    rows = out["ledger"]
    assert sum(r.event == "CAMPAIGNATTEMPT" for r in rows) == len(res.outcomes)
    assert sum(r.event == "CAMPAIGNRESULT" for r in rows) == len(res.outcomes)


def test_survey_answers_and_escalation_reach_the_agent(run: Any) -> None:
    res, out = run
    rows = out["ledger"]
    survey = [(r.data1, r.data2, r.data3) for r in rows if r.event == "SURVEY"]
    assert survey == [(c, q, k) for c, q, k in res.answers]
    for c, p in out["profiles"].items():
        if followup.PERSON not in p.kinds:
            continue
        keys = [k for cc, _, k in survey if cc == c]
        assert "".join(keys) == (p.answers if p.answers[0] == "1" else p.answers[:1]), (c, keys)
    escalated = [r for r in rows if r.event == "ESCALATE"]
    assert escalated and {r.data1 for r in escalated} == {c for c, _ in res.escalated}
    unhappy = {c for c, p in out["profiles"].items() if followup.PERSON in p.kinds and p.answers[0] == "2"}
    assert {c for c, _ in res.escalated} == unhappy
    for _, callid in res.escalated:  # each reached the agent through the queue engine
        story = [x.event for x in rows if x.callid == callid]
        assert story == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"], story


def test_outbox_without_an_smsc_stays_pending(run: Any) -> None:
    res, out = run
    assert "2 confirmation(s) pending" in res.sms and "no SMSC" in res.sms
    assert {m.state for m in out["sms"]} == {"pending"}


def test_outbox_is_drained_through_the_smpp_peer(smsc: Smsc, tmp_path: Path) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'sms.db'}"
    _seed_ledger(url)
    with open_store(url) as s:
        gw = SmppGateway("127.0.0.1", smsc.port, "ccboard", "secret", source_addr="Bank")
        try:
            line = followup.drain_outbox(s, gw, EPOCH)
        finally:
            gw.close()
        assert line == "SMS outbox: sent 2, to retry 0, failed 0"
        assert {m.state for m in s.sms_messages()} == {"done"}
        assert all(m.message_id for m in s.sms_messages())
    got = smsc.received()
    assert len(got) == 2


def test_a_stopped_campaign_resumes_from_its_journal(tmp_path: Path) -> None:
    """The follow-up stopped after 40 s of board time (dials in flight) and started again by a
    new runner on a new board: the journal is replayed, the cut dials end as "lost" and are
    retried under the next attempt number, and every contact still reaches a final status."""
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    _seed_ledger(url)
    fu_prompts = build_prompt_set("en", followup.PHRASES, fragments=False, folder=prompt_cache())
    prompts = {"en": build_prompt_set("en", PHRASES["en"], folder=prompt_cache())}
    results = []
    for resume in (False, True):
        board = open_board(f"sim://?e1=0&fxo=4&zone=cn&seed={6 + resume}")
        lines = [c.channo for c in board.channels if c.signalling.is_fxo_port]

        async def no_inbound(call: IvrCall) -> None:
            await call.hangup()

        runner = IvrRunner(board, no_inbound, prompts, inbound=[])
        with open_store(url) as store:
            epoch = EPOCH
            if resume:  # the new board's clock starts at 0: carry on after the journal's end
                epoch = store.journal("followup", after=store.journal_seq("followup") - 1)[0].time + 1.0
            results.append(
                followup.run_followup(
                    runner,
                    store,
                    lines,
                    fu_prompts,
                    epoch=epoch,
                    rng=np.random.default_rng(11),
                    max_s=40.0 if not resume else 900.0,
                    resume=resume,
                )  # fmt: skip
            )
            rows = store.ledger()
        board.close()
    first, second = results
    assert any(s in ("DIALLING", "RETRY", "NEW") for s in first.statuses.values())  # it was cut short
    assert second.errors == []
    assert not {s for s in second.statuses.values() if s in ("NEW", "RETRY", "DIALLING", "SURVEY")}
    attempts = [(r.data1, r.data3) for r in rows if r.event == "CAMPAIGNATTEMPT"]
    assert len(attempts) == len(set(attempts)), "an attempt number was dialled twice"
    results_by = [(r.data1, r.data3) for r in rows if r.event == "CAMPAIGNRESULT"]
    assert sorted(results_by) == sorted(attempts)  # every dial has exactly one result
    assert any(r.data2 == "lost" for r in rows if r.event == "CAMPAIGNRESULT")
