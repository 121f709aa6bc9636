"""The SMPP gateway and the outbox drain against a local SMSC.

The SMSC is tests/store/smsc.pl on Debian's Net::SMPP (libnet-smpp-perl): an SMPP 3.4
implementation independent of smpplib, so encoding mistakes on our side show up as wrong
PDUs rather than cancelling out. Never skipped: without perl's Net::SMPP the test fails with
the apt command.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ccboard.errors import SmsGatewayError
from ccboard.store import Repository
from ccboard.store.outbox import OutboxDrainer
from ccboard.store.records import DONE, FAILED, PENDING, SmsMessage
from ccboard.store.smpp import ESME_RINVDSTADR, SmppGateway

SMSC = Path(__file__).with_name("smsc.pl")
APT = "apt-get install -y libnet-smpp-perl"
T0 = 1_718_000_000.0


@dataclass
class Smsc:
    port: int
    log: Path
    proc: subprocess.Popen[str]

    def received(self) -> list[list[str]]:
        """(dest, data_coding, esm_class, hex short_message, message id) per accepted submit_sm."""
        text = self.log.read_text() if self.log.exists() else ""
        return [line.split("\t") for line in text.splitlines()]


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[Smsc]:
    perl = shutil.which("perl")
    if perl is None or subprocess.run([perl, "-MNet::SMPP", "-e", "1"], capture_output=True).returncode:
        pytest.fail(f"perl's Net::SMPP is needed for the local SMSC: {APT}")
    log = tmp_path / "smsc.log"
    proc = subprocess.Popen([perl, str(SMSC), str(log)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready = proc.stdout.readline().split()
    assert ready[:1] == ["READY"], f"SMSC did not start: {ready}"
    try:
        yield Smsc(int(ready[1]), log, proc)
    finally:
        proc.kill()
        proc.wait()


def _gw(smsc: Smsc, password: str = "secret") -> SmppGateway:
    return SmppGateway("127.0.0.1", smsc.port, "ccboard", password, source_addr="Bank")


def test_submit_short_gsm_message(smsc: Smsc) -> None:
    gw = _gw(smsc)
    try:
        assert gw.send("+4930123456", "Hello, we call you at 18:00") == "M000001"
        assert gw.send("+4930123457", "Second") == "M000002"  # same bind
    finally:
        gw.close()
    got = smsc.received()
    assert got[0] == ["+4930123456", "0", "0", b"Hello, we call you at 18:00".hex(), "M000001"]
    assert got[1][0] == "+4930123457" and bytes.fromhex(got[1][3]) == b"Second"


def test_long_message_goes_in_concatenated_parts(smsc: Smsc) -> None:
    text = "Your callback is booked. " * 8  # 200 GSM characters: two parts
    gw = _gw(smsc)
    try:
        ids = gw.send("+4930123456", text).split(",")
    finally:
        gw.close()
    got = smsc.received()
    assert ids == [g[4] for g in got] and len(got) == 2
    parts = [bytes.fromhex(g[3]) for g in got]
    assert all(int(g[2]) & 0x40 for g in got)  # esm_class UDHI: a user data header leads
    udh = [p[: p[0] + 1] for p in parts]
    assert [u[-2:] for u in udh] == [bytes([2, 1]), bytes([2, 2])]  # total 2, part 1 and 2
    assert b"".join(p[p[0] + 1 :] for p in parts) == text.encode()


def test_non_gsm_text_is_sent_as_ucs2(smsc: Smsc) -> None:
    gw = _gw(smsc)
    try:
        gw.send("+8610123456", "回访：明天 18:00")
    finally:
        gw.close()
    [got] = smsc.received()
    assert got[1] == "8" and bytes.fromhex(got[3]).decode("utf-16-be") == "回访：明天 18:00"


def test_refusals_keep_the_smpp_status(smsc: Smsc) -> None:
    gw = _gw(smsc)
    try:
        with pytest.raises(SmsGatewayError, match="0x0B") as exc:
            gw.send("000123", "x")
        assert exc.value.status == ESME_RINVDSTADR and exc.value.permanent
        assert gw.send("+4930", "still bound") == "M000001"
    finally:
        gw.close()
    with pytest.raises(SmsGatewayError, match="bind to 127.0.0.1") as exc:
        _gw(smsc, password="wrong").send("+4930", "x")
    assert exc.value.status == 0x0E and not exc.value.permanent


def test_outbox_drains_through_the_smsc(store: Repository, smsc: Smsc) -> None:
    store.enqueue_sms(SmsMessage("s1", "+4930111", "Callback at 18:00", T0, ref="cb1"))
    store.enqueue_sms(SmsMessage("s2", "000999", "bad number", T0 + 1))
    store.enqueue_sms(SmsMessage("s3", "+4930333", "later", T0 + 2, not_before=T0 + 300))
    gw = _gw(smsc)
    try:
        res = OutboxDrainer(store, gw, "sms-a").drain(T0 + 10)
        assert (res.sent, res.retried, res.failed) == (1, 0, 1)
        res = OutboxDrainer(store, gw, "sms-a").drain(T0 + 300)
        assert (res.sent, res.retried, res.failed) == (1, 0, 0)
    finally:
        gw.close()
    rows = {m.id: m for m in store.sms_messages()}
    assert (rows["s1"].state, rows["s1"].message_id) == (DONE, "M000001")
    assert rows["s2"].state == FAILED and "0x0B" in rows["s2"].error
    assert (rows["s3"].state, rows["s3"].message_id) == (DONE, "M000002")
    assert [g[0] for g in smsc.received()] == ["+4930111", "+4930333"]


def test_outbox_retries_while_the_smsc_is_down(store: Repository, smsc: Smsc) -> None:
    store.enqueue_sms(SmsMessage("s1", "+4930111", "hi", T0))
    smsc.proc.kill()
    smsc.proc.wait()
    drainer = OutboxDrainer(store, _gw(smsc), "sms-a", retry_s=30)
    assert drainer.drain(T0).retried == 1
    [m] = store.sms_messages()
    assert (m.state, m.attempts, m.not_before) == (PENDING, 1, T0 + 30)
    assert "cannot connect to SMSC" in m.error
