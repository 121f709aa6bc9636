"""DahdiBoard's ticks of a whole driver block (`tick=N` ms): the same octets, audio and DTMF
events as 1 ms ticks, and `ccboard check` (DTMF both ways, CAS bits, an R2 call between two of
our own ends) passing on either. Without the kernel driver: two E1 spans looped back to back
in a scripted device (channel n <-> n + 30, one block of delay; CAS bits cross as
BITSCHANGED events, with ELAST on pending events as the driver does)."""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccboard.board import open_board
from ccboard.board.config import parse_system_conf
from ccboard.board.dahdi import DahdiBoard
from ccboard.board.events import Digit
from ccboard.cli.check import run_checks
from ccboard.dahdi._dahdi import lib
from ccboard.dahdi.ioctl import ELAST, ChannelDevice, Params, SpanInfo
from ccboard.dsp import dtmf, g711
from ccboard.errors import BoardError, DeviceError

PEER = 30
CONF = "span=1,1,0,cas,hdb3\nspan=2,0,0,cas,hdb3\ncas=1-2:1101\ncas=31-32:1101\n"


class Loop:
    """The looped spans: per channel, the blocks on their way to it, its bits, its events."""

    def __init__(self) -> None:
        self.blocks: dict[int, deque[bytes]] = {}
        self.rxbits: dict[int, int] = {}
        self.events: dict[int, list[int]] = {}


class LoopedDevice(ChannelDevice):
    def __init__(self, loop: Loop, channel: int) -> None:
        # an fd that always polls readable: the driver always has a block ready here
        super().__init__(os.open("/dev/zero", os.O_RDONLY), channel)
        self.loop = loop
        self.peer = channel + PEER if channel <= PEER else channel - PEER
        for c in (channel, self.peer):
            loop.blocks.setdefault(c, deque())
            loop.rxbits.setdefault(c, 0b1001)
            loop.events.setdefault(c, [])
        self.bufinfo = (0, 0, 0)

    def _pending(self, op: str) -> None:
        if self.loop.events[self.channel]:
            raise DeviceError("pending event", errno=ELAST, channel=self.channel, op=op)

    def get_params(self) -> Params:
        spanno, pos = (1, self.channel) if self.channel <= PEER else (2, self.channel - PEER)
        bits = self.loop.rxbits[self.channel]
        return Params(self.channel, spanno, pos, 0, 0, False, bits, 0b1001, lib.DAHDI_LAW_ALAW, 0, "", 0)

    def spanstat(self, spanno: int = 0) -> SpanInfo:
        return SpanInfo(spanno, f"LOOP/{spanno}", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, "E1", "", "", "")

    def set_bufinfo(self, numbufs: int, bufsize: int, txbufpolicy: int) -> None:
        self.bufinfo = (numbufs, bufsize, txbufpolicy)

    def get_event(self) -> int:
        evs = self.loop.events[self.channel]
        return evs.pop(0) if evs else lib.DAHDI_EVENT_NONE

    def get_rx_bits(self) -> int:
        return self.loop.rxbits[self.channel]

    def set_tx_bits(self, bits: int) -> None:
        self.loop.rxbits[self.peer] = bits
        self.loop.events[self.peer].append(lib.DAHDI_EVENT_BITSCHANGED)

    def readinto(self, buf: Any) -> int:
        self._pending("read")
        q = self.loop.blocks[self.channel]
        if not q:
            return 0
        data = q.popleft()
        memoryview(buf)[: len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        self._pending("write")
        self.loop.blocks[self.peer].append(bytes(data))
        return len(data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def looped(block: int, tick: int) -> DahdiBoard:
    loop = Loop()
    return DahdiBoard(
        parse_system_conf(CONF),
        "/dev/dahdi/channel",
        lambda c, _: LoopedDevice(loop, c),
        block=block,
        tick=tick,
    )


BLOCK_TICK = st.sampled_from([(16, 1), (16, 2), (32, 4), (64, 2), (64, 8), (128, 16), (160, 5)])


@given(bt=BLOCK_TICK, seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_a_tick_of_n_ms_moves_the_same_audio(bt: tuple[int, int], seed: int) -> None:
    """What channel 1 sends, channel 31 hears one block later, A-law coded, whatever the tick."""
    block, tick = bt
    rng = np.random.default_rng(seed)
    sent = rng.integers(-32768, 32767, 4 * block, dtype=np.int16)
    with looped(block, tick) as board:
        a, b = board.channel(1).index, board.channel(31).index
        ts = tick * 8
        assert board.rx.shape == board.tx.shape == (4, ts)
        heard = []
        for k in range(len(sent) // ts + block // ts):
            board.tx[a] = sent[k * ts : (k + 1) * ts] if (k + 1) * ts <= len(sent) else 0
            board.tick()
            assert board.t == (k + 1) * ts
            heard.append(board.rx[b].copy())
    coded = np.empty(len(sent), np.uint8)
    g711.alaw_encode(sent, coded)
    want = np.empty(len(sent), np.int16)
    g711.alaw_decode(coded, want)
    got = np.concatenate(heard)
    assert (got[:block] == _silence_alaw()).all()  # the first block: nothing written yet
    np.testing.assert_array_equal(got[block : block + len(sent)], want)


def _silence_alaw() -> int:
    out = np.empty(1, np.int16)
    g711.alaw_decode(np.array([0xD5], np.uint8), out)
    return int(out[0])


def _digits(block: int, tick: int, keyed: str) -> list[tuple[int, str, str, int, int]]:
    with looped(block, tick) as board:
        gen = dtmf.DtmfGenerator(on_ms=50, off_ms=50)
        gen.put(keyed)
        row = board.channel(2).index
        out = []
        while board.t < (len(keyed) * 100 + 200) * 8:
            gen.generate(board.tx.shape[1], out=board.tx[row])
            for e in board.tick():
                if isinstance(e, Digit) and e.channel == 32:
                    assert board.t - tick * 8 < e.t <= board.t  # reported in the tick it happened in
                    out.append((e.t, e.digit, e.kind, e.start, e.end))
        return out


@given(bt=BLOCK_TICK, keyed=st.text("0123456789*#ABCD", min_size=1, max_size=6))
@settings(max_examples=15, deadline=None)
def test_dtmf_events_are_the_same_at_any_tick(bt: tuple[int, int], keyed: str) -> None:
    block, tick = bt
    one_ms = _digits(block, 1, keyed)
    assert "".join(d for _, d, kind, _, _ in one_ms if kind == "off") == keyed
    assert _digits(block, tick, keyed) == one_ms


@pytest.mark.parametrize(("block", "tick"), [(32, 1), (32, 4), (128, 16)])
def test_check_passes_on_looped_spans_at_any_tick(block: int, tick: int) -> None:
    """`ccboard check` with R2 over the looped spans: DTMF both ways, CAS bits, an R2 call."""
    with looped(block, tick) as board:
        t0 = board.t
        results = run_checks(board, [(1, 31)], "itu")
        assert board.t > t0
    assert [(r.name, r.ok) for r in results] == [
        ("spans and alarms", True),
        ("DTMF audio", True),
        ("DTMF audio", True),
        ("CAS bits", True),
        ("R2 call (itu)", True),
    ], [r.message for r in results]


def test_tick_must_divide_the_block(tmp_path: Any) -> None:
    conf = tmp_path / "system.conf"
    conf.write_text(CONF)
    for query, words in (("block=16&tick=3", "tick=3 ms"), ("block=32&tick=0", "tick=0 ms")):
        with pytest.raises(BoardError, match=words):
            open_board(f"dahdi://{conf}?{query}&device={tmp_path}/nodev")
    with pytest.raises(BoardError, match="tick='x'"):
        open_board(f"dahdi://{conf}?tick=x")


# -- the IVR runner on a board of N ms ticks ----------------------------------------------------------

IVR_PROMPT_MS = 300


def _prompt() -> np.ndarray:
    """A prompt that A-law carries unchanged (decoded octets), so the far end hears it exactly."""
    octets = np.random.default_rng(7).integers(0, 256, IVR_PROMPT_MS * 8, dtype=np.uint8)
    x = np.empty(octets.size, np.int16)
    g711.alaw_decode(octets, x)
    return x


def _ivr_call(tick: int) -> tuple[list[tuple[str, str]], list[int], np.ndarray, Any]:
    """An R2 call from channel 1 (ours, dialled by the runner) to the IVR on 31 over the looped
    spans: the script plays a prompt, then collects three times while the caller keys, from
    board time after the answer, 4071# (TERMDIGIT), 12 (IDDTIME), then nothing (FIRSTDIGIT).
    Returns (digits, reason) per collection, the board ms each ended at (after the answer), what
    channel 1 heard, and the runner."""
    from ccboard.ivr import IvrCall, IvrRunner
    from ccboard.signalling.r2 import R2Channel, variant

    prompt = _prompt()
    got: list[tuple[str, str]] = []
    ended: list[int] = []

    async def script(call: IvrCall) -> None:
        await call.answer()
        await call.play(prompt, barge_in=False)
        for first, inter in ((10.0, 3.0), (10.0, 0.5), (1.0, 3.0)):
            r = await call.get_digits(
                max_digits=8, terminators="#", first_digit_timeout=first, inter_digit_timeout=inter
            )
            got.append((str(r.digits), r.reason.name))
            ended.append(runner.ms)
        await call.hangup()

    v = variant("itu")
    board = looped(128, tick)
    row = board.channel(1).index
    heard: list[np.ndarray] = []
    keys = dtmf.DtmfGenerator(on_ms=60, off_ms=60)
    plan: list[tuple[int, str]] = []  # (board ms after the answer, digits to key)
    answered: list[int] = []

    def caller(r: IvrRunner) -> None:
        heard.append(board.rx[row].copy())
        if answered and plan and r.ms - answered[0] >= plan[0][0]:
            keys.put(plan.pop(0)[1])
        if keys.pending:
            keys.generate(board.tx.shape[1], out=board.tx[row])

    runner = IvrRunner(
        board,
        script,
        {},
        machines={1: R2Channel(v, 1), 31: R2Channel(v, 31)},
        inbound=[31],
        tick_hooks=[caller],
    )

    async def main() -> None:
        legs: list[IvrCall] = []
        run = asyncio.create_task(
            runner.run(until_ms=30_000, stop=lambda: bool(runner.finished and legs and legs[0].released))
        )
        while runner.ms < 200:  # both ends see each other's idle bits first
            await asyncio.sleep(0)
        legs.append(await runner.dial("5678", channel=1, timeout=20.0))
        answered.append(runner.ms)
        plan.extend([(IVR_PROMPT_MS + 500, "4071#"), (IVR_PROMPT_MS + 2000, "12")])
        await run

    try:
        asyncio.run(main())
    finally:
        board.close()
    return got, [e - answered[0] for e in ended], np.concatenate(heard), runner


def _contains(hay: np.ndarray, needle: np.ndarray) -> bool:
    starts = np.flatnonzero(hay[: hay.size - needle.size + 1] == needle[0])
    return any(np.array_equal(hay[s : s + needle.size], needle) for s in starts.tolist())


@pytest.mark.parametrize("tick", [4, 8, 16])
def test_ivr_script_on_n_ms_ticks_collects_what_1_ms_ticks_do(tick: int) -> None:
    """IvrRunner on a DahdiBoard of N ms ticks (rows of 8N samples): board time from the board,
    so the same digits and the same termination reasons as with 1 ms ticks, each collection ending
    within a few ticks of the same board ms, and the prompt heard whole by the far end."""
    want, want_at, heard_1, r1 = _ivr_call(1)
    assert want == [("4071", "TERMDIGIT"), ("12", "IDDTIME"), ("", "FIRSTDIGIT")]
    got, at, heard, r = _ivr_call(tick)
    assert got == want
    assert r.tick_ms == tick and r.stats.ticks * tick == r.ms
    assert [c.tags.get("_outcome") for c in r.finished] == ["completed"]
    # a tick late at most for each of: the answer seen, the caller's keying started (a tick
    # hook), the collection's timer fired
    for a, b in zip(at, want_at, strict=True):
        assert abs(a - b) <= 3 * tick, (at, want_at)
    assert _contains(heard_1, _prompt()) and _contains(heard, _prompt())


def test_board_commands_on_n_ms_ticks(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ccboard monitor` and `ccboard test` on a board of 8 ms ticks: the WAV holds the asked
    seconds of both directions (rows of 64 samples), the timing test paces 8 ms ticks."""
    import wave

    from ccboard.cli import board as cli_board
    from ccboard.cli.main import main

    monkeypatch.setattr(cli_board, "_open", lambda url: looped(64, 8))
    wav = tmp_path / "m.wav"
    assert main(["monitor", "dahdi:///etc/dahdi/system.conf", "1", str(wav), "--seconds", "0.2"]) == 0
    with wave.open(str(wav)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (2, 8000, 1600)
        x = np.frombuffer(w.readframes(1600), "<i2").reshape(-1, 2)
    assert (x[:, 1] == 0).all()  # nothing sent
    assert "1600 samples" in capsys.readouterr().out
    assert main(["test", "dahdi:///etc/dahdi/system.conf", "--seconds", "1.2"]) == 0
    out = capsys.readouterr().out
    assert "--- Results after 150 ticks ---" in out and "8000 samples in" in out, out
