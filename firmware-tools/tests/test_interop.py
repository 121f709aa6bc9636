"""Interop with peers no one here wrote, through real ptys (os.openpty):
lrzsz `rx`/`sx` (XMODEM checksum, CRC, 1K) and Debian's `stm32flash` (AN3155), plus `ccfw flash`
against the simulated board: errors for a missing or busy port, a silent board, a wrong board,
and line noise. Every subprocess has a timeout; the board thread is stopped by its fixture.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccfw import cli, container, flash, stm32, xmodem
from ccfw.errors import LinkError, NoAnswerError, PortBusyError, PortMissingError
from ccfw.simboard import SimBoard

OLD = random.Random(10).randbytes(40_000)
IMG = random.Random(11).randbytes(70_000)
BASE = 0x08000000


def need(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is not installed (apt-get install lrzsz stm32flash)"
    return path


def wait_for(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.fixture
def board_factory(tmp_path: Path) -> Iterator:
    boards: list[SimBoard] = []

    def make(**kw) -> SimBoard:
        b = SimBoard(tmp_path / f"slots{len(boards)}", **kw)
        b.board.install(OLD)
        boards.append(b.start())
        return b

    yield make
    for b in boards:
        b.stop()


# --- XMODEM --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "one_k"), [([], False), (["-c"], False), (["-c"], True)], ids=["sum", "crc", "1k"]
)
def test_our_sender_to_lrzsz_rx(tmp_path: Path, flags: list[str], one_k: bool) -> None:
    rx = need("rx")
    master, slave = os.openpty()
    tty.setraw(slave)
    out = tmp_path / "got.bin"
    # rx refuses absolute paths (restricted mode): a plain name, in its working directory
    proc = subprocess.Popen(
        [rx, "-X", "-q", *flags, out.name], cwd=tmp_path, stdin=slave, stdout=slave, stderr=subprocess.PIPE
    )
    os.close(slave)
    try:
        # rx may lose a block when the machine is busy and then waits 5 s before its NAK; resending
        # after 3 s is quicker, and longer than the 2 s of quiet rx needs to end a purge (a shorter
        # timer keeps it purging: a NAK storm)
        timers = xmodem.SenderTimers(ack=3.0)
        stats = flash.xmodem_send(flash.FdLink(master, "pty"), IMG, one_k=one_k, retries=0, timers=timers)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait(timeout=5)
        os.close(master)
    got = out.read_bytes()
    assert got[: len(IMG)] == IMG and set(got[len(IMG) :]) <= {0x1A}
    # Every byte on the wire is the protocol's: the blocks once each, EOT, and whole blocks sent
    # again on rx's NAK or our timer (how many depends on the machine's load, not on us).
    first_pass = stats.sent - stats.resent
    assert first_pass == clean_line_bytes(len(IMG), one_k, crc=bool(flags)) + 1
    assert stats.payload / (first_pass + stats.received) > (0.95 if one_k else 0.9)


def clean_line_bytes(size: int, one_k: bool, crc: bool) -> int:
    """Bytes of the blocks that carry `size` bytes (1K blocks while more than 896 bytes remain)."""
    total, rest = 0, size
    while rest > 0:
        n = 1024 if one_k and crc and rest > 1024 - 128 else 128
        total += 3 + n + (2 if crc else 1)
        rest -= n
    return total


@pytest.mark.parametrize(
    ("flags", "crc"), [([], False), ([], True), (["-k"], True)], ids=["sum", "crc", "1k"]
)
def test_lrzsz_sx_to_the_board(tmp_path: Path, board_factory, flags: list[str], crc: bool) -> None:
    sx = need("sx")
    b = board_factory(protocol="xmodem", xmodem_crc=crc)
    src = tmp_path / "img.bin"
    src.write_bytes(IMG)
    fd = os.open(b.path, os.O_RDWR | os.O_NOCTTY)
    try:
        r = subprocess.run(
            [sx, "-X", "-q", *flags, str(src)], stdin=fd, stdout=fd, stderr=subprocess.PIPE, timeout=60
        )
    finally:
        os.close(fd)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: b.xmodem_result is not None)
    assert b.xmodem_result == "committed"
    booted = b.booted()
    assert booted is not None and booted.image[: len(IMG)] == IMG


def test_cut_sx_transfer_keeps_the_old_image(tmp_path: Path, board_factory) -> None:
    sx = need("sx")
    b = board_factory(protocol="xmodem")
    src = tmp_path / "img.bin"
    src.write_bytes(IMG)
    fd = os.open(b.path, os.O_RDWR | os.O_NOCTTY)
    proc = subprocess.Popen([sx, "-X", "-q", "-k", str(src)], stdin=fd, stdout=fd, stderr=subprocess.DEVNULL)
    os.close(fd)
    # cut mid-transfer, as soon as blocks land in the staging slot (the whole transfer takes
    # ~30 ms on a pty, so poll tightly): the port closes and the board resets
    end = time.monotonic() + 10
    while b.board.update is None and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.0005)
    proc.kill()
    assert proc.wait(timeout=5) != 0, "sx finished before it could be cut"
    proc.wait(timeout=5)
    assert wait_for(lambda: b.sessions >= 1 and not b._open)
    assert b.booted().image == OLD  # type: ignore[union-attr]


# --- STM32 ---------------------------------------------------------------------------------------


def stm32flash(*args: str) -> subprocess.CompletedProcess[str]:
    # 8N1: a pty cannot keep the parity flags stm32flash sets for 8E1 (it checks them back)
    return subprocess.run(
        [need("stm32flash"), "-m", "8n1", *args], capture_output=True, text=True, timeout=60
    )


def test_stm32flash_and_our_client_flash_the_same_board_identically(tmp_path: Path, board_factory) -> None:
    b = board_factory(protocol="stm32")
    img = tmp_path / "img.bin"
    img.write_bytes(IMG)
    r = stm32flash(b.path)
    assert r.returncode == 0 and "0x0413" in r.stdout, r.stdout + r.stderr
    r = stm32flash("-w", str(img), "-v", "-g", "0", b.path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_for(lambda: not b._open)
    first = b.booted()
    assert first is not None and first.image == IMG
    back1 = tmp_path / "back1.bin"
    r = stm32flash("-r", str(back1), "-S", f"0x{BASE:08x}:{len(IMG)}", b.path)
    assert r.returncode == 0 and back1.read_bytes() == IMG, r.stderr
    assert wait_for(lambda: not b._open)
    # our client flashes the same image: the other slot now, same bytes
    link = flash.SerialLink(b.path)
    try:
        stats = flash.stm32_flash(link, IMG)
    finally:
        link.close()
    assert wait_for(lambda: not b._open)  # the close resets the board, as DTR on NRST would
    second = b.booted()
    assert second is not None and second.image == IMG and second.slot != first.slot
    assert stats.attempts == 1
    back2 = tmp_path / "back2.bin"
    r = stm32flash("-r", str(back2), "-S", f"0x{BASE:08x}:{len(IMG)}", b.path)
    assert r.returncode == 0 and back2.read_bytes() == back1.read_bytes() == IMG


def test_write_without_go_is_not_committed(tmp_path: Path, board_factory) -> None:
    b = board_factory(protocol="stm32")
    img = tmp_path / "img.bin"
    img.write_bytes(IMG)
    r = stm32flash("-w", str(img), b.path)  # no -g: the session ends with the port
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: not b._open)
    assert b.booted().image == OLD  # type: ignore[union-attr]


# --- ccfw flash: errors and noise ----------------------------------------------------------------


def run_cli(*argv: str, capsys) -> tuple[int, str]:
    rc = cli.main(["flash", *argv])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def test_cli_flashes_both_protocols(tmp_path: Path, board_factory, capsys) -> None:
    img = tmp_path / "img.bin"
    img.write_bytes(IMG)
    for proto in ("stm32", "xmodem"):
        b = board_factory(protocol=proto)
        rc, text = run_cli(str(img), "--port", b.path, "--protocol", proto, capsys=capsys)
        assert rc == 0, text
        assert f"flashed {len(IMG)} bytes" in text
        assert wait_for(lambda b=b: b.booted() is not None and b.booted().image[: len(IMG)] == IMG)


def test_cli_port_missing(tmp_path: Path, capsys) -> None:
    rc, text = run_cli(str(tmp_path), "--port", "/dev/ttyNOPE9", "--protocol", "stm32", capsys=capsys)
    assert rc == 2
    with pytest.raises(PortMissingError, match="/dev/ttyNOPE9"):
        flash.SerialLink("/dev/ttyNOPE9")


def test_port_busy(board_factory) -> None:
    b = board_factory(protocol="stm32")
    holder = flash.SerialLink(b.path)
    try:
        with pytest.raises(PortBusyError, match=b.path):
            flash.SerialLink(b.path)
    finally:
        holder.close()


def test_silent_board_names_port_and_bytes(board_factory) -> None:
    b = board_factory(protocol="stm32")
    b.cut_power_after(0)
    b.board.flash.dead = True  # no power at all: nothing answers
    b.powered = False
    link = flash.SerialLink(b.path)
    try:
        with pytest.raises(NoAnswerError) as ei:
            flash.stm32_flash(link, IMG, retries=1)
    finally:
        link.close()
    msg = str(ei.value)
    assert b.path in msg and "7f" in msg and "init" in msg


def test_wrong_board_container_is_refused_naming_the_field(tmp_path: Path, board_factory, capsys) -> None:
    b = board_factory(protocol="stm32")
    img = tmp_path / "fw.ccfw"
    img.write_bytes(container.pack(IMG, board_model="CCB-8", hw_rev_min=1, hw_rev_max=1, version=(2, 0, 0)))
    rc, text = run_cli(
        str(img), "--port", b.path, "--protocol", "stm32", "--board", "CCB-4", "--hw", "2", capsys=capsys
    )
    assert rc == 2 and "board_model" in text
    # without --board the board itself refuses at GO, and keeps its image
    link = flash.SerialLink(b.path)
    try:
        with pytest.raises(LinkError, match="GO answered NACK"):
            flash.stm32_flash(link, img.read_bytes(), retries=0)
    finally:
        link.close()
    assert b.booted().image == OLD  # type: ignore[union-attr]


@pytest.mark.parametrize("proto", ["xmodem", "stm32"])
@pytest.mark.parametrize("seed", [1, 2])
def test_line_noise_recovers_or_fails_cleanly(board_factory, proto: str, seed: int) -> None:
    rnd = random.Random(seed)

    def noise(data: bytes) -> bytes:
        out = bytearray()
        for x in data:
            r = rnd.random()
            if r < 0.0001:
                continue  # dropped
            if r < 0.0002:
                x ^= 1 << rnd.randrange(8)  # flipped
            out.append(x)
        return bytes(out)

    rx_timers = xmodem.ReceiverTimers(start_interval=0.3, char=0.2, block=1.0, purge=0.05)
    b = board_factory(protocol=proto, line_filter=noise, xmodem_timers=rx_timers)
    link = flash.SerialLink(b.path)
    try:
        if proto == "stm32":
            quick = stm32.Timeouts(init=0.2, reply=0.2, write=0.2, page_erase=1.0)
            flash.stm32_flash(link, IMG, retries=4, timeouts=quick)
        else:
            flash.xmodem_send(link, IMG, retries=2, timers=xmodem.SenderTimers(start=3.0, ack=0.5))
        ok = True
    except LinkError:
        ok = False
    finally:
        link.close()
    assert wait_for(lambda: not b._open or ok)
    booted = b.booted()
    assert booted is not None
    if ok:
        assert wait_for(lambda: b.booted().image[: len(IMG)] == IMG)  # type: ignore[union-attr]
    else:
        assert booted.image in (OLD,) or booted.image[: len(IMG)] == IMG
