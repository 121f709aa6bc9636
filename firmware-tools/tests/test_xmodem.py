"""XMODEM (checksum, CRC-16, 1K): sans-IO sender and receiver back to back, no port.

Christensen's XMODEM plus the CRC and 1K extensions: every variant round-trips any payload,
the byte stream may be cut into any chunks, NAK storms / silence / CAN end cleanly, and line
noise (flipped bits, dropped bytes) either recovers exactly or fails with a LinkError.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccfw import xmodem
from ccfw.errors import LinkError, NakStormError, NoAnswerError, TransferCancelledError


def pair(
    data: bytes,
    *,
    one_k: bool,
    crc: bool,
    to_receiver=lambda b: b,
    to_sender=lambda b: b,
    chunk: int | None = None,
    max_steps: int = 200_000,
) -> tuple[xmodem.XmodemSender, xmodem.XmodemReceiver, bytes, list[object]]:
    """Run a sender and a receiver against each other on a virtual clock.

    `to_receiver` / `to_sender` rewrite the bytes on the line (noise); time jumps to the next
    deadline whenever the line is idle."""
    tx = xmodem.XmodemSender(data, one_k=one_k, retries=8)
    rx = xmodem.XmodemReceiver(crc=crc, retries=8, timers=xmodem.ReceiverTimers(purge=0.1))
    got = bytearray()
    ends: list[object] = []
    now = 0.0
    line_r: list[bytes] = []
    line_s: list[bytes] = []

    def run(actions, dst):
        for a in actions:
            if isinstance(a, xmodem.Send):
                dst.append(a.data)
            elif isinstance(a, xmodem.Block):
                assert a.offset == len(got)
                got.extend(a.data)
                run(rx.store_result(True, now), line_s)
            else:
                ends.append(a)

    run(tx.start(now), line_r)
    run(rx.start(now), line_s)
    for _ in range(max_steps):
        if tx.done and rx.done:
            break
        if line_r:
            raw = to_receiver(line_r.pop(0))
            parts = [raw] if chunk is None else [raw[i : i + chunk] for i in range(0, len(raw), chunk)]
            for p in parts:
                if p:
                    run(rx.receive_data(p, now), line_s)
        elif line_s:
            raw = to_sender(line_s.pop(0))
            if raw:
                run(tx.receive_data(raw, now), line_r)
        else:
            dls = [d for d in (tx.next_deadline(), rx.next_deadline()) if d is not None]
            if not dls:
                break
            now = max(now, min(dls))
            run(tx.on_timeout(now), line_r)
            run(rx.on_timeout(now), line_s)
    else:
        raise AssertionError("no end after max_steps")
    return tx, rx, bytes(got), ends


def padded(data: bytes, got: bytes) -> bool:
    return got[: len(data)] == data and set(got[len(data) :]) <= {xmodem.SUB}


def test_crc16_check_value() -> None:
    # CRC-16/XMODEM catalogue check value
    assert xmodem.crc16(b"123456789") == 0x31C3
    assert xmodem.checksum8(b"\xff\x02") == 0x01


@pytest.mark.parametrize(("one_k", "crc"), [(False, False), (False, True), (True, True), (True, False)])
@pytest.mark.parametrize("size", [0, 1, 127, 128, 129, 1024, 1025, 5000])
def test_every_variant_round_trips(one_k: bool, crc: bool, size: int) -> None:
    data = random.Random(size).randbytes(size)
    tx, rx, got, ends = pair(data, one_k=one_k, crc=crc)
    assert any(isinstance(e, xmodem.Done) for e in ends)
    assert tx.state is xmodem.State.DONE and rx.state is xmodem.State.DONE
    assert padded(data, got)
    assert tx.crc is crc  # the receiver's start character picked the check
    if one_k and crc and size > 896:
        assert tx.blocks_sent < -(-size // 128)  # some 1K blocks went out


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=3000), chunk=st.integers(1, 300), one_k=st.booleans(), crc=st.booleans())
def test_any_chunking_gives_the_same_result(data: bytes, chunk: int, one_k: bool, crc: bool) -> None:
    _, _, whole, _ = pair(data, one_k=one_k, crc=crc)
    _, _, pieces, _ = pair(data, one_k=one_k, crc=crc, chunk=chunk)
    assert whole == pieces and padded(data, whole)


def test_efficiency_of_1k_on_a_clean_line() -> None:
    data = random.Random(1).randbytes(256 * 1024)
    tx, rx, got, _ = pair(data, one_k=True, crc=True)
    eff = len(data) / (tx.bytes_sent + tx.bytes_received)
    assert eff >= 0.95  # 1024 / (1029 + 1 ACK) = 0.994
    assert tx.bytes_sent == 256 * 1029 + 1


def test_nak_storm_fails_with_nak_storm_error() -> None:
    tx = xmodem.XmodemSender(b"x" * 300, retries=3)
    tx.start(0.0)
    acts = tx.receive_data(b"C", 0.0)
    for _ in range(3):
        acts = tx.receive_data(bytes([xmodem.NAK]), 0.0)
        assert isinstance(acts[0], xmodem.Send) and acts[0].data[0] == xmodem.SOH  # the same block again
    acts = tx.receive_data(bytes([xmodem.NAK]), 0.0)
    assert isinstance(acts[-1], xmodem.Failed) and isinstance(acts[-1].error, NakStormError)
    assert acts[0] == xmodem.Send(xmodem.ABORT)
    assert "block 1" in str(acts[-1].error)
    assert tx.bytes_resent == 3 * 133  # the three CRC blocks sent again; the abort is not a block


def test_silent_receiver_is_no_answer() -> None:
    tx = xmodem.XmodemSender(b"abc", timers=xmodem.SenderTimers(start=5.0))
    tx.start(10.0)
    assert tx.next_deadline() == 15.0
    assert tx.on_timeout(14.9) == []
    acts = tx.on_timeout(15.0)
    assert isinstance(acts[-1], xmodem.Failed) and isinstance(acts[-1].error, NoAnswerError)
    assert "start" in str(acts[-1].error)


def test_cancel_from_either_side() -> None:
    tx = xmodem.XmodemSender(b"abc")
    tx.start(0.0)
    tx.receive_data(b"C", 0.0)
    acts = tx.receive_data(bytes([xmodem.CAN, xmodem.CAN]), 0.0)
    assert isinstance(acts[-1].error, TransferCancelledError)
    rx = xmodem.XmodemReceiver()
    rx.start(0.0)
    acts = rx.receive_data(bytes([xmodem.CAN, xmodem.CAN]), 0.0)
    assert isinstance(acts[-1].error, TransferCancelledError)


def test_lost_ack_gives_a_duplicate_that_is_acked_and_dropped() -> None:
    data = bytes(range(256)) * 2
    dropped = [False]

    def lose_first_ack(b: bytes) -> bytes:
        if b == bytes([xmodem.ACK]) and not dropped[0]:
            dropped[0] = True
            return b""
        return b

    tx, rx, got, _ = pair(data, one_k=False, crc=True, to_sender=lose_first_ack)
    assert dropped[0] and tx.retransmissions >= 1  # block 1 went twice (or more: the NAK races)
    assert got == data and rx.state is xmodem.State.DONE


def test_receiver_falls_back_to_checksum_for_an_old_sender() -> None:
    rx = xmodem.XmodemReceiver(crc=True, timers=xmodem.ReceiverTimers(start_interval=1.0, crc_tries=2))
    sent = [rx.start(0.0)[0].data]
    for t in (1.0, 2.0, 3.0):
        sent.append(rx.on_timeout(t)[0].data)
    assert sent == [b"C", b"C", bytes([xmodem.NAK]), bytes([xmodem.NAK])]
    assert rx.crc is False


@settings(max_examples=200, deadline=None)
@given(junk=st.lists(st.binary(max_size=200), max_size=20), crc=st.booleans())
def test_arbitrary_bytes_into_the_receiver_never_crash(junk: list[bytes], crc: bool) -> None:
    rx = xmodem.XmodemReceiver(crc=crc, retries=3)
    rx.start(0.0)
    now = 0.0
    for j in junk:
        now += 0.5
        for a in rx.receive_data(j, now) + rx.on_timeout(now):
            if isinstance(a, xmodem.Block):
                rx.store_result(True, now)
            if isinstance(a, xmodem.Failed):
                assert isinstance(a.error, LinkError) and str(a.error)
        if rx.state is xmodem.State.STORE:
            rx.store_result(False, now)
    assert rx.state in set(xmodem.State)


@settings(max_examples=200, deadline=None)
@given(junk=st.lists(st.binary(max_size=50), max_size=30), one_k=st.booleans())
def test_arbitrary_bytes_into_the_sender_never_crash(junk: list[bytes], one_k: bool) -> None:
    tx = xmodem.XmodemSender(b"z" * 2000, one_k=one_k, retries=3)
    tx.start(0.0)
    now = 0.0
    for j in junk:
        now += 3.0
        for a in tx.receive_data(j, now) + tx.on_timeout(now):
            if isinstance(a, xmodem.Failed):
                assert isinstance(a.error, LinkError) and str(a.error)
    assert 0 <= tx.offset <= 2000


@settings(max_examples=80, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=4000),
    seed=st.integers(0, 2**32 - 1),
    flip=st.floats(0, 0.002),
    drop=st.floats(0, 0.002),
    one_k=st.booleans(),
)
def test_line_noise_recovers_exactly_or_fails_cleanly(
    data: bytes, seed: int, flip: float, drop: float, one_k: bool
) -> None:
    rnd = random.Random(seed)

    def noise(b: bytes) -> bytes:
        out = bytearray()
        for x in b:
            if rnd.random() < drop:
                continue
            if rnd.random() < flip:
                x ^= 1 << rnd.randrange(8)
            out.append(x)
        return bytes(out)

    tx, rx, got, ends = pair(data, one_k=one_k, crc=True, to_receiver=noise, to_sender=noise)
    if rx.state is xmodem.State.DONE and tx.state is xmodem.State.DONE:
        assert padded(data, got)
    else:
        # a failure is reported as a LinkError, and whatever was delivered is a correct prefix
        assert any(isinstance(e, xmodem.Failed) for e in ends) or not (tx.done and rx.done)
        assert data.startswith(got[: len(data)]) or padded(data, got)
