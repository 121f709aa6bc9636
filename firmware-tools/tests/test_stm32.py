"""ST AN3155 (STM32 UART bootloader): our sans-IO host against our sans-IO device, no port.

Every command of the protocol round-trips; NACKs, silence and garbage end a request with a
LinkError naming the step; arbitrary bytes never crash either side.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccfw import stm32
from ccfw.errors import LinkError, NoAnswerError, ProtocolViolationError, Stm32NackError
from ccfw.simboard import Board, Stm32Device, Stm32Memory

F405 = stm32.CHIPS["f405"]
BASE = F405.flash_base


class Pair:
    """Host and device back to back on a virtual clock."""

    def __init__(self, tmp: Path, chip: str = "f405") -> None:
        self.board = Board(tmp, chip=stm32.CHIPS[chip])
        self.dev = Stm32Device(self.board.chip, Stm32Memory(self.board))
        self.host = stm32.Stm32Host()
        self.now = 0.0

    def call(self, req: stm32.Request, wire=lambda b: b) -> object:
        acts = self.host.begin(req, self.now)
        for _ in range(10_000):
            out = b"".join(a.data for a in acts if isinstance(a, stm32.Send))
            for a in acts:
                if isinstance(a, stm32.Reply):
                    return a.value
                if isinstance(a, stm32.Failed):
                    raise a.error
            reply = self.dev.receive_data(wire(out), self.now) if out else b""
            if reply:
                acts = self.host.receive_data(reply, self.now)
            else:
                self.now = self.host.next_deadline() or self.now
                self.dev.on_timeout(self.now)
                acts = self.host.on_timeout(self.now)
        raise AssertionError("request never ended")


@pytest.fixture
def p(tmp_path: Path) -> Pair:
    pair = Pair(tmp_path)
    pair.call(stm32.Init())
    return pair


def test_frames_and_checksums() -> None:
    assert stm32.command_frame(0x31) == b"\x31\xce"
    assert stm32.address_frame(0x08000000) == b"\x08\x00\x00\x00\x08"
    assert stm32.xor(b"\x01\x02\x04") == 7
    with pytest.raises(ValueError):
        stm32.address_frame(1 << 32)


def test_get_get_version_get_id(p: Pair) -> None:
    info = p.call(stm32.Get())
    assert isinstance(info, stm32.BootloaderInfo)
    assert info.version == 0x31 and stm32.Command.EXTENDED_ERASE in info.commands
    ver = p.call(stm32.GetVersion())
    assert isinstance(ver, stm32.VersionInfo) and ver.version == 0x31
    assert p.call(stm32.GetId()) == 0x413


def test_init_twice_takes_the_nack_path(p: Pair) -> None:
    # an already synchronised device sees 0x7F as a command byte; both answers mean "ready"
    p.call(stm32.Init())
    assert p.call(stm32.GetId()) == 0x413


def test_erase_write_read_go_commits(p: Pair) -> None:
    data = random.Random(3).randbytes(3000)
    p.call(stm32.ExtendedErase(pages=(0,)))
    for off in range(0, len(data), 256):
        p.call(stm32.WriteMemory(BASE + off, data[off : off + 256]))
    back = b"".join(p.call(stm32.ReadMemory(BASE + off, 256)) for off in range(0, 3072, 256))  # type: ignore[misc]
    assert back[:3000] == data and back[3000:] == b"\xff" * 72
    p.call(stm32.Go(BASE))
    booted = p.board.boot()
    assert booted is not None and booted.image == data


def test_unaligned_tail_is_padded_with_ff(p: Pair) -> None:
    p.call(stm32.ExtendedErase(special=stm32.MASS_ERASE))
    p.call(stm32.WriteMemory(BASE, b"abcde"))
    assert p.call(stm32.ReadMemory(BASE, 8)) == b"abcde\xff\xff\xff"


def test_write_over_unerased_flash_is_nacked(p: Pair) -> None:
    p.call(stm32.ExtendedErase(pages=(0,)))
    p.call(stm32.WriteMemory(BASE, b"\x00" * 4))
    with pytest.raises(Stm32NackError, match="write 0x08000000: data"):
        p.call(stm32.WriteMemory(BASE, b"\xff\x01\x02\x03"))


def test_bad_address_and_bad_pages_are_nacked(p: Pair) -> None:
    with pytest.raises(Stm32NackError, match="address"):
        p.call(stm32.ReadMemory(0x40000000, 4))
    with pytest.raises(Stm32NackError, match="extended-erase"):
        p.call(stm32.ExtendedErase(pages=(12,)))  # F405 has sectors 0..11
    with pytest.raises(Stm32NackError):
        p.call(stm32.ExtendedErase(special=stm32.BANK2_ERASE))  # single bank


def test_legacy_erase_on_f103(tmp_path: Path) -> None:
    q = Pair(tmp_path, "f103")
    q.call(stm32.Init())
    info = q.call(stm32.Get())
    assert stm32.Command.ERASE in info.commands and q.call(stm32.GetId()) == 0x410  # type: ignore[attr-defined]
    q.call(stm32.Erase(pages=(0, 1)))
    q.call(stm32.WriteMemory(BASE + 1024, b"1234"))
    q.call(stm32.Erase())  # global erase
    assert q.call(stm32.ReadMemory(BASE + 1024, 4)) == b"\xff" * 4


def test_write_protect_blocks_writes_until_unprotect(p: Pair) -> None:
    p.call(stm32.WriteProtect(sectors=(0,)))
    p.call(stm32.Init())  # the device reset after the option-byte write
    with pytest.raises(Stm32NackError):
        p.call(stm32.ExtendedErase(pages=(0,)))
    p.call(stm32.WriteUnprotect())
    p.call(stm32.Init())
    p.call(stm32.ExtendedErase(pages=(0,)))


def test_readout_protect_locks_reads_until_unprotect(p: Pair) -> None:
    p.call(stm32.ReadoutProtect())
    p.call(stm32.Init())
    assert p.call(stm32.GetId()) == 0x413  # still allowed
    with pytest.raises(Stm32NackError, match="read 0x08000000: command"):
        p.call(stm32.ReadMemory(BASE, 4))
    p.call(stm32.ReadoutUnprotect())
    p.call(stm32.Init())
    assert p.call(stm32.ReadMemory(BASE, 4)) == b"\xff" * 4


def test_silence_names_what_was_sent(tmp_path: Path) -> None:
    host = stm32.Stm32Host()
    acts = host.begin(stm32.Init(), 0.0)
    assert acts == [stm32.Send(b"\x7f")]
    acts = host.on_timeout(0.5)
    assert acts == [stm32.Send(b"\x7f")]  # the second 0x7F of the resync path
    acts = host.on_timeout(1.0)
    err = acts[-1].error  # type: ignore[union-attr]
    assert isinstance(err, NoAnswerError) and "after sending 7f" in str(err) and "init" in str(err)
    assert not host.busy


def test_garbage_reply_is_a_protocol_violation() -> None:
    host = stm32.Stm32Host()
    host.begin(stm32.GetId(), 0.0)
    acts = host.receive_data(b"\x42", 0.0)
    assert isinstance(acts[-1].error, ProtocolViolationError)  # type: ignore[union-attr]
    assert "0x42" in str(acts[-1].error)  # type: ignore[union-attr]


def test_busy_bytes_are_skipped() -> None:
    host = stm32.Stm32Host()
    host.begin(stm32.GetId(), 0.0)
    acts = host.receive_data(bytes([stm32.BUSY, stm32.BUSY, stm32.ACK, 1, 4, 0x13, stm32.ACK]), 0.1)
    assert acts == [stm32.Reply(stm32.GetId(), 0x413)]


def test_malformed_requests_are_refused_before_sending() -> None:
    host = stm32.Stm32Host()
    for bad in (stm32.ReadMemory(BASE, 0), stm32.ReadMemory(BASE, 257), stm32.WriteMemory(BASE + 2, b"ab")):
        with pytest.raises(ValueError):
            host.begin(bad, 0.0)
    assert host.bytes_sent == 0


REQUESTS = st.one_of(
    st.just(stm32.Get()),
    st.just(stm32.GetId()),
    st.just(stm32.GetVersion()),
    st.builds(stm32.ReadMemory, st.just(BASE), st.integers(1, 256)),
    st.builds(stm32.WriteMemory, st.just(BASE), st.binary(min_size=1, max_size=256)),
    st.builds(stm32.ExtendedErase, st.just((0, 1))),
    st.just(stm32.Go(BASE)),
)


@settings(max_examples=300, deadline=None)
@given(req=REQUESTS, junk=st.lists(st.binary(max_size=300), max_size=8))
def test_arbitrary_replies_never_crash_the_host(req: stm32.Request, junk: list[bytes]) -> None:
    host = stm32.Stm32Host()
    host.begin(req, 0.0)
    now = 0.0
    for j in junk:
        now += 0.3
        for a in host.receive_data(j, now) + host.on_timeout(now):
            if isinstance(a, stm32.Failed):
                assert isinstance(a.error, LinkError) and a.error.step
        if not host.busy:
            break


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.binary(max_size=400), max_size=10))
def test_arbitrary_bytes_never_crash_the_device(tmp_path: Path, junk: list[bytes]) -> None:
    board = Board(tmp_path / "dev")
    try:
        dev = Stm32Device(board.chip, Stm32Memory(board))
        now = 0.0
        for j in [b"\x7f", *junk]:
            now += 1.0
            out = dev.receive_data(j, now)
            assert set(out) <= set(range(256))
            dev.on_timeout(now)
        # whatever happened, an update that was never committed does not change what boots
        assert board.boot() is None
    finally:
        board.close()


# --- batches: the next request starts with the previous reply ----------------------------------


def run_batch(pair: Pair, reqs: list[stm32.Request], cuts: list[int]) -> list[stm32.Action]:
    """Drive a batch, handing each device reply to the host in pieces cut at `cuts` (mod length);
    returns every Reply/Failed in order."""
    acts = pair.host.begin_batch(reqs, pair.now)
    ends: list[stm32.Action] = []
    k = 0
    while True:
        ends += [a for a in acts if not isinstance(a, stm32.Send)]
        wire = b"".join(a.data for a in acts if isinstance(a, stm32.Send))
        if not pair.host.busy:
            assert not wire  # nothing is sent once the batch is over
            return ends
        reply = pair.dev.receive_data(wire, pair.now) if wire else b""
        if not reply:
            pair.now = pair.host.next_deadline() or pair.now
            acts = pair.host.on_timeout(pair.now)
            continue
        cut = cuts[k % len(cuts)] % (len(reply) + 1) if cuts else len(reply)
        k += 1
        acts = pair.host.receive_data(reply[:cut], pair.now)
        if cut < len(reply):
            assert not any(isinstance(a, stm32.Send) for a in acts[:-1])  # one frame in flight
            acts += pair.host.receive_data(reply[cut:], pair.now)


def test_batch_sends_the_next_command_with_the_reply(p: Pair) -> None:
    p.call(stm32.ExtendedErase(pages=(0,)))
    w, r = stm32.WriteMemory(BASE, b"abcd"), stm32.ReadMemory(BASE, 4)
    acts = p.host.begin_batch([w, r], 0.0)
    assert acts == [stm32.Send(b"\x31\xce")] and p.host.queued == 1
    acts = p.host.receive_data(p.dev.receive_data(acts[0].data, 0.0), 0.0)  # type: ignore[union-attr]
    assert acts == [stm32.Send(stm32.address_frame(BASE))]
    acts = p.host.receive_data(p.dev.receive_data(acts[0].data, 0.0), 0.0)  # type: ignore[union-attr]
    assert acts == [stm32.Send(b"\x03abcd" + bytes([3 ^ stm32.xor(b"abcd")]))]
    acts = p.host.receive_data(p.dev.receive_data(acts[0].data, 0.0), 0.0)  # type: ignore[union-attr]
    # the write's final ACK ends it and, in the same list, starts the read
    assert acts == [stm32.Reply(w, None), stm32.Send(b"\x11\xee")] and p.host.queued == 0


def test_batch_failure_drops_the_rest(p: Pair) -> None:
    reqs: list[stm32.Request] = [stm32.ReadMemory(BASE, 4), stm32.ReadMemory(0x40000000, 4), stm32.GetId()]
    ends = run_batch(p, reqs, [])
    assert ends[0] == stm32.Reply(reqs[0], b"\xff" * 4)
    assert isinstance(ends[1], stm32.Failed) and isinstance(ends[1].error, Stm32NackError)
    assert len(ends) == 2 and not p.host.busy and p.host.queued == 0
    assert p.call(stm32.GetId()) == 0x413  # the link is usable again


def test_batch_checks_every_request_before_sending() -> None:
    host = stm32.Stm32Host()
    with pytest.raises(ValueError):
        host.begin_batch([stm32.GetId(), stm32.WriteMemory(BASE + 2, b"ab")], 0.0)
    assert host.bytes_sent == 0 and not host.busy and host.queued == 0


def test_xor_of_long_blocks() -> None:
    rnd = random.Random(5)
    for n in (0, 1, 15, 16, 17, 255, 256, 257):
        data = rnd.randbytes(n)
        want = 0
        for b in data:
            want ^= b
        assert stm32.xor(data) == want


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    blocks=st.lists(st.binary(min_size=1, max_size=256), min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 300), max_size=8),
)
def test_batch_gives_what_single_calls_give(tmp_path_factory, blocks: list[bytes], cuts: list[int]) -> None:
    """Arbitrary splits of the device's replies: the same replies, in order, as single calls."""
    p = Pair(tmp_path_factory.mktemp("batch"))
    p.call(stm32.Init())
    p.call(stm32.ExtendedErase(pages=(0,)))
    writes = [stm32.WriteMemory(BASE + 256 * i, b) for i, b in enumerate(blocks)]
    reads = [stm32.ReadMemory(w.address, len(w.data)) for w in writes]
    ends = run_batch(p, [*writes, *reads, stm32.GetId()], cuts)
    assert ends == [
        *(stm32.Reply(w, None) for w in writes),
        *(stm32.Reply(r, w.data) for r, w in zip(reads, writes, strict=True)),
        stm32.Reply(stm32.GetId(), 0x413),
    ]
