"""Audio both ways through a channel pair on the real driver, with our G.711 and our DTMF
generator and receiver: digits keyed on span 1 (channel 1) are decoded on span 2 (channel 25),
and at the same time the other way.

The DSP takes the audio 1 ms (8 samples) at a time, but the channel files are read and written
20 ms at a time, with 32 driver buffers each way (DAHDI_SET_BUFINFO), through the backend's
ChannelDevice. Why not 1 ms blocks: the driver refuses blocks under 16 octets (checked below),
and under TCG a full board tick costs 0.2-0.8 ms of the guest's time (vm_tick.py measures it),
too close to real time on a loaded machine for a 2-minute CI stage; the board's own 2 ms path
is exercised by the other guest tests (silence here, CAS/hook/ring, R2).
"""

from __future__ import annotations

import errno
import select
import time
from collections.abc import Callable

import numpy as np
import pytest

from ccboard.board.base import Board
from ccboard.board.events import Digit
from ccboard.dahdi._dahdi import lib
from ccboard.dahdi.ioctl import ELAST, ChannelDevice
from ccboard.dsp import dtmf, g711
from ccboard.errors import DeviceError
from tests.vm.guest.conftest import PEER_OFFSET, Paced

A, B = 1, 1 + PEER_OFFSET
FORWARD = "0123456789*#ABCD"
BACKWARD = "97531#"
BLOCK = 160  # octets per read/write: 20 ms
CHUNK = 8  # samples the DTMF receiver takes per call: 1 ms
BUFFERS = 32  # driver buffers each way: 640 ms of slack for a late loop
SECONDS_LIMIT = 30.0


def _read(dev: ChannelDevice, buf: bytearray) -> int:
    """One block, draining events first when the driver has one pending (ELAST)."""
    try:
        return dev.readinto(buf)
    except DeviceError as exc:
        if exc.errno != ELAST:
            raise
    while dev.get_event() != lib.DAHDI_EVENT_NONE:
        pass
    return dev.readinto(buf)


def test_driver_refuses_one_ms_blocks() -> None:
    with ChannelDevice.open(A) as dev:
        with pytest.raises(DeviceError) as ei:
            dev.set_blocksize(8)
        assert ei.value.errno == errno.EINVAL
        dev.set_blocksize(16)
        assert dev.get_blocksize() == 16


def test_dtmf_both_ways_in_1ms_chunks() -> None:
    chans = (A, B)
    devs = [ChannelDevice.open(c) for c in chans]
    try:
        for d in devs:
            d.set_bufinfo(BUFFERS, BLOCK, lib.DAHDI_POLICY_HALF_FULL)
            assert (d.get_bufinfo().numbufs, d.get_bufinfo().bufsize) == (BUFFERS, BLOCK)
        gen = [dtmf.DtmfGenerator(on_ms=60, off_ms=60) for _ in chans]
        gen[0].put(FORWARD)
        gen[1].put(BACKWARD)
        bank = dtmf.DtmfReceiverBank(2, "linear", channel_ids=np.array(chans))
        poll = select.poll()
        for d in devs:
            poll.register(d.fd, select.POLLIN | select.POLLPRI)
        tx_pcm = np.zeros(BLOCK, np.int16)
        tx_line = np.zeros(BLOCK, np.uint8)
        rx_line = np.zeros((2, BLOCK), np.uint8)
        rx_pcm = np.zeros((2, BLOCK), np.int16)
        got = [bytearray(BLOCK), bytearray(BLOCK)]
        have = [0, 0]
        heard = {A: "", B: ""}
        blocks = busy = 0.0
        t0 = time.monotonic()
        while (heard[B], heard[A]) != (FORWARD, BACKWARD):
            assert time.monotonic() - t0 < SECONDS_LIMIT, f"heard on {B}: {heard[B]!r}, on {A}: {heard[A]!r}"
            if not poll.poll(2000):
                raise AssertionError("no block from the driver in 2 s: the spans stopped")
            t1 = time.monotonic()
            for i, d in enumerate(devs):
                if have[i] == 0:
                    have[i] = _read(d, got[i])
            if have != [BLOCK, BLOCK]:
                continue  # one channel's block came a moment before the other's
            have = [0, 0]
            for i, d in enumerate(devs):
                rx_line[i] = np.frombuffer(got[i], np.uint8)
                gen[i].generate(BLOCK, out=tx_pcm)
                g711.ulaw_encode(tx_pcm, tx_line)  # the loc spans are mu-law
                assert d.write(tx_line) == BLOCK, f"channel {chans[i]}: driver's write buffers full"
            g711.ulaw_decode(rx_line, rx_pcm)
            chunks = rx_pcm.reshape(2, BLOCK // CHUNK, CHUNK).transpose(1, 0, 2).copy()
            for chunk in chunks:
                for e in bank.process(chunk):
                    if e["kind"] == dtmf.OFF:
                        heard[int(e["channel"])] += e["digit"].decode()
            blocks += 1
            busy += time.monotonic() - t1
        print(f"{blocks:.0f} blocks of 20 ms; loop busy {busy / blocks * 1e3:.2f} ms per block")
        assert (heard[B], heard[A]) == (FORWARD, BACKWARD)
        assert blocks < 200  # 16 digits of 120 ms + the start-up cushion: about 2.3 s of line time
    finally:
        for d in devs:
            d.close()


def test_silence_is_silence_and_no_digits(board_factory: Callable[..., Board]) -> None:
    """The board's own path (2 ms blocks, 1 ms ticks): the idle line decodes to silence."""
    board = board_factory(f"bchan={A}", f"bchan={B}")
    pace = Paced(board, B)
    digits = []
    rms = []
    for _ in range(500):
        digits += [ev for ev in pace.tick() if isinstance(ev, Digit)]
        rms.append(float(np.sqrt(np.mean(board.rx[board.channel(B).index].astype(np.float64) ** 2))))
    assert digits == []
    assert max(rms[100:]) < 10.0  # idle mu-law code 0xFF decodes to 0
