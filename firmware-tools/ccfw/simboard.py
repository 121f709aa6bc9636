"""A simulated board bootloader on a pseudo-terminal: the DEVICE side of XMODEM and of the STM32
UART bootloader (AN3155), over A/B image slots in a file-backed NOR flash with a boot record.

Layers (all but the last are sans-IO: bytes and "now" in, bytes out, no clock, no port):
  FlashFile     NOR flash in a file (mmap): erase sets 0xFF, programming can only clear bits;
                `arm_power_cut(n)` kills the supply after n more bytes of erase/program work
  Board         slot A, slot B and two boot-record sectors written alternately (ping-pong):
                the newest record whose CRC is good names the active slot, image length, CRC-32
                and the option bytes. An update goes to the inactive slot, is checked (read back,
                CRC-32, and for a ccfw container its header via ccfw.container, imported lazily)
                and only then gets a new record. A cut transfer, a power loss while erasing or
                writing, or a block that does not read back leaves the old record, so the board
                boots its previous image.
  Stm32Device   AN3155 device side, a real chip's replies (default STM32F405, PID 0x413, F4
                sector layout) so Debian's stm32flash accepts it; flash at 0x08000000 maps to the
                active slot until the session erases or writes, then to the staging slot. GO to
                the flash base commits (verify + new boot record) and "runs" the image.
  XMODEM        ccfw.xmodem.XmodemReceiver; blocks go to the staging slot, EOT commits.
  SimBoard      the driver: a thread polls the pty master, feeds the session, writes replies.
                Closing the port (the last slave fd) is a reset, as DTR wired to NRST: the
                session ends, an uncommitted update is dropped. `python -m ccfw.simboard
                --slots DIR` runs one and prints the pty path.

Power loss: `SimBoard.cut_power_after(n)` or `FlashFile.arm_power_cut(n)`; the board then
answers nothing until `power_on()`, which reopens the flash file like a reboot.
"""

from __future__ import annotations

import argparse
import enum
import mmap
import os
import select
import signal
import struct
import sys
import threading
import time
import tty
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ccfw import xmodem
from ccfw.stm32 import ACK, CHIPS, INIT, KIB, NACK, Chip, Command, xor

# --- flash model ---------------------------------------------------------------------------------

RECORD_SECTOR = 4 * KIB


class PowerLost(Exception):
    """The simulated supply was cut: the board is dead until powered on again."""


class FlashFile:
    """NOR flash kept in a file through mmap; offsets and sizes in bytes."""

    def __init__(self, path: str | os.PathLike[str], size: int) -> None:
        self.path = Path(path)
        self.size = size
        fresh = not self.path.exists() or self.path.stat().st_size != size
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fresh:
                os.ftruncate(fd, 0)
                os.write(fd, b"\xff" * size)
            self._mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self._budget: int | None = None
        self.dead = False
        self.erased_bytes = 0
        self.programmed_bytes = 0

    def close(self) -> None:
        if not self._mm.closed:
            self._mm.flush()
            self._mm.close()

    def arm_power_cut(self, after: int) -> None:
        """Cut the power after `after` more bytes of erase or program work (0: at the next op)."""
        self._budget = max(0, after)

    def _spend(self, n: int) -> int:
        """How many of n bytes get done before the power goes (n if it stays on)."""
        if self.dead:
            raise PowerLost("flash has no power")
        if self._budget is None:
            return n
        done = min(n, self._budget)
        self._budget -= done
        return done

    def read(self, offset: int, n: int) -> bytes:
        if self.dead:
            raise PowerLost("flash has no power")
        return self._mm[offset : offset + n]

    def erase(self, offset: int, n: int) -> None:
        done = self._spend(n)
        self._mm[offset : offset + done] = b"\xff" * done
        self.erased_bytes += done
        if done < n:
            self.dead = True
            raise PowerLost(f"power lost erasing 0x{offset:x}+{n} after {done} bytes")

    def program(self, offset: int, data: bytes) -> None:
        """NOR programming: each bit can only go from 1 to 0 (new = old AND data)."""
        done = self._spend(len(data))
        if done:
            old = self._mm[offset : offset + done]
            new = int.from_bytes(old, "little") & int.from_bytes(data[:done], "little")
            self._mm[offset : offset + done] = new.to_bytes(done, "little")
        self.programmed_bytes += done
        if done < len(data):
            self.dead = True
            raise PowerLost(f"power lost programming 0x{offset:x}+{len(data)} after {done} bytes")


# --- board: slots and boot record ----------------------------------------------------------------

_REC = struct.Struct("<4sIBBBBIII")  # magic, seq, slot, kind, rdp, pad, wrp, length, crc32
_REC_MAGIC = b"CCBR"
KIND_RAW, KIND_CONTAINER = 0, 1


@dataclass(frozen=True)
class BootRecord:
    """One boot record: which slot runs, its image length (bytes) and CRC-32, option bytes."""

    seq: int
    slot: int
    length: int
    crc32: int
    kind: int = KIND_RAW
    wrp: int = 0  # bit n: sector n write-protected
    rdp: int = 0  # 1: readout protection on

    def to_bytes(self) -> bytes:
        body = _REC.pack(
            _REC_MAGIC, self.seq, self.slot, self.kind, self.rdp, 0, self.wrp, self.length, self.crc32
        )
        return body + zlib.crc32(body).to_bytes(4, "little")

    @classmethod
    def from_bytes(cls, raw: bytes) -> BootRecord | None:
        body, crc = raw[: _REC.size], raw[_REC.size : _REC.size + 4]
        if len(crc) < 4 or zlib.crc32(body).to_bytes(4, "little") != crc:
            return None
        magic, seq, slot, kind, rdp, _, wrp, length, crc32 = _REC.unpack(body)
        if magic != _REC_MAGIC or slot not in (0, 1):
            return None
        return cls(seq, slot, length, crc32, kind, wrp, rdp)


@dataclass(frozen=True)
class Booted:
    """What the board runs after reset."""

    slot: int
    record: BootRecord
    image: bytes


class UpdateRefused(Exception):
    """Commit refused; the reason names the check (crc, container field, ...)."""


class Board:
    """A/B slots and the boot record in one flash file: [record 0][record 1][slot 0][slot 1]."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        chip: Chip | None = None,
        model: str = "CCB-4",
        hw_rev: int = 2,
    ) -> None:
        self.chip = chip or CHIPS["f405"]
        self.model = model
        self.hw_rev = hw_rev
        self.slot_size = self.chip.flash_size
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.flash = FlashFile(Path(directory) / "flash.bin", 2 * RECORD_SECTOR + 2 * self.slot_size)
        self.update: Update | None = None
        self.last_refusal: str | None = None

    def close(self) -> None:
        self.flash.close()

    def slot_offset(self, slot: int) -> int:
        return 2 * RECORD_SECTOR + slot * self.slot_size

    def records(self) -> list[tuple[int, BootRecord]]:
        """Valid records as (sector, record), newest first."""
        out = []
        for sector in (0, 1):
            rec = BootRecord.from_bytes(self.flash.read(sector * RECORD_SECTOR, _REC.size + 4))
            if rec is not None:
                out.append((sector, rec))
        return sorted(out, key=lambda x: -x[1].seq)

    def record(self) -> BootRecord | None:
        """The newest valid record (option bytes live there even if its image went bad)."""
        recs = self.records()
        return recs[0][1] if recs else None

    def boot(self) -> Booted | None:
        """The image the board would run: the newest record whose slot still checks out."""
        for _, rec in self.records():
            # a record written only for protection bits (no image yet) never boots
            if 0 < rec.length <= self.slot_size:
                image = self.flash.read(self.slot_offset(rec.slot), rec.length)
                if zlib.crc32(image) == rec.crc32:
                    return Booted(rec.slot, rec, image)
        return None

    @property
    def active_slot(self) -> int | None:
        b = self.boot()
        return b.slot if b else None

    def begin_update(self) -> Update:
        """Open (or keep) the update of the inactive slot."""
        if self.update is None:
            active = self.active_slot
            self.update = Update(self, 1 if active == 0 else 0)
        return self.update

    def drop_update(self) -> None:
        """Forget an uncommitted update (reset, cut transfer): the old record stays."""
        self.update = None

    def write_record(self, rec: BootRecord) -> None:
        """Write `rec` into the sector not holding the newest record (the old one survives a cut)."""
        recs = self.records()
        sector = 1 - recs[0][0] if recs else 0
        self.flash.erase(sector * RECORD_SECTOR, RECORD_SECTOR)
        self.flash.program(sector * RECORD_SECTOR, rec.to_bytes())

    def set_options(self, *, wrp: int | None = None, rdp: int | None = None) -> None:
        """Rewrite the newest record with new option bytes (same image)."""
        cur = self.record() or BootRecord(0, 0, 0, zlib.crc32(b""))
        self.write_record(
            BootRecord(
                cur.seq + 1,
                cur.slot,
                cur.length,
                cur.crc32,
                cur.kind,
                cur.wrp if wrp is None else wrp,
                cur.rdp if rdp is None else rdp,
            )
        )

    def install(self, image: bytes) -> BootRecord:
        """Factory programming: write `image` through the normal update path and commit it."""
        up = self.begin_update()
        up.erase_all()
        if not up.program(0, image):
            raise UpdateRefused("factory image did not read back")
        return up.commit(len(image))


class Update:
    """Writing a new image into the inactive slot; nothing is live until `commit`."""

    def __init__(self, board: Board, slot: int) -> None:
        self.board = board
        self.slot = slot
        self.base = board.slot_offset(slot)
        self.extent = 0  # highest byte written + 1
        self.crc_stream = 0  # CRC-32 of the bytes received in order (XMODEM)
        self.stream_len = 0

    def erase_sector(self, index: int) -> bool:
        offs = self.board.chip.sector_offsets()
        if not 0 <= index < len(offs):
            return False
        self.board.flash.erase(self.base + offs[index], self.board.chip.sectors[index])
        return True

    def erase_all(self) -> None:
        self.board.flash.erase(self.base, self.board.slot_size)

    def erase_for(self, offset: int, n: int) -> None:
        """Erase the sectors that start inside [offset, offset+n) (XMODEM erases as it goes)."""
        for i, start in enumerate(self.board.chip.sector_offsets()):
            if offset <= start < offset + n:
                self.erase_sector(i)

    def program(self, offset: int, data: bytes) -> bool:
        """Program and read back; False if it did not stick (not erased, out of the slot)."""
        if offset < 0 or offset + len(data) > self.board.slot_size:
            return False
        self.board.flash.program(self.base + offset, data)
        if self.board.flash.read(self.base + offset, len(data)) != data:
            return False
        self.extent = max(self.extent, offset + len(data))
        return True

    def append(self, data: bytes) -> bool:
        """Sequential write (XMODEM): erase sectors on entry, program, keep a running CRC."""
        off = self.stream_len
        data = data[: max(0, self.board.slot_size - off)]
        self.erase_for(off, len(data))
        if not self.program(off, data):
            return False
        self.crc_stream = zlib.crc32(data, self.crc_stream)
        self.stream_len += len(data)
        return True

    def check(self, length: int) -> tuple[int, bytes]:
        """Verify the staged image: (kind, image); raises UpdateRefused naming the check."""
        if length <= 0:
            raise UpdateRefused("empty image")
        image = self.board.flash.read(self.base, length)
        if self.stream_len and zlib.crc32(image) != self.crc_stream:
            raise UpdateRefused("crc32: the slot does not read back as received")
        if image[:4] != b"CCFW":
            return KIND_RAW, image
        from ccfw import container  # only for this step: the board knows containers by magic

        if len(image) < container.HEADER_SIZE:
            raise UpdateRefused("container: header truncated")
        (plen,) = struct.unpack_from("<I", image, 48)
        whole = image[: container.HEADER_SIZE + plen]
        try:
            c = container.parse(whole, source="slot")
            c.check_compatible(self.board.model, self.board.hw_rev)
        except container.ContainerError as e:
            raise UpdateRefused(f"container {e.field}: {e.detail}") from None
        return KIND_CONTAINER, whole

    def commit(self, length: int | None = None) -> BootRecord:
        """Check the image, then write the boot record that makes it active."""
        n = self.extent if length is None else length
        kind, image = self.check(n)
        cur = self.board.record()
        rec = BootRecord(
            (cur.seq + 1) if cur else 1,
            self.slot,
            len(image),
            zlib.crc32(image),
            kind,
            cur.wrp if cur else 0,
            cur.rdp if cur else 0,
        )
        self.board.write_record(rec)
        self.board.update = None
        return rec


# --- STM32 device side (sans-IO) -----------------------------------------------------------------


class Stm32Memory:
    """The device's view of memory: the flash window over the slots, RAM, option bytes."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.chip = board.chip
        self.ram = bytearray(self.chip.ram_size)
        self.went_to: int | None = None

    @property
    def _rec(self) -> BootRecord | None:
        return self.board.record()

    @property
    def readout_protected(self) -> bool:
        r = self._rec
        return bool(r and r.rdp)

    def _flash_off(self, address: int, n: int) -> int | None:
        off = address - self.chip.flash_base
        return off if 0 <= off and off + n <= self.board.slot_size else None

    def _ram_off(self, address: int, n: int) -> int | None:
        off = address - self.chip.ram_start
        return off if 0 <= off and off + n <= self.chip.ram_size else None

    def valid(self, address: int) -> bool:
        return self._flash_off(address, 1) is not None or self._ram_off(address, 1) is not None

    def read(self, address: int, n: int) -> bytes | None:
        off = self._flash_off(address, n)
        if off is not None:
            up = self.board.update
            slot = up.slot if up is not None else self.board.active_slot
            if slot is None:
                slot = 0
            return self.board.flash.read(self.board.slot_offset(slot) + off, n)
        off = self._ram_off(address, n)
        return bytes(self.ram[off : off + n]) if off is not None else None

    def _sector_of(self, off: int) -> int:
        for i, start in enumerate(self.chip.sector_offsets()):
            if start <= off < start + self.chip.sectors[i]:
                return i
        return -1

    def write(self, address: int, data: bytes) -> bool:
        off = self._flash_off(address, len(data))
        if off is not None:
            rec = self._rec
            wrp = rec.wrp if rec else 0
            if any(wrp >> self._sector_of(o) & 1 for o in (off, off + len(data) - 1)):
                return False
            return self.board.begin_update().program(off, data)
        off = self._ram_off(address, len(data))
        if off is None:
            return False
        self.ram[off : off + len(data)] = data
        return True

    def erase(self, pages: list[int] | None) -> bool:
        """Erase sectors of the staging slot (None: all of it; the active slot is never erased)."""
        rec = self._rec
        wrp = rec.wrp if rec else 0
        n = len(self.chip.sectors)
        todo = list(range(n)) if pages is None else pages
        if any(not 0 <= p < n or wrp >> p & 1 for p in todo):
            return False
        up = self.board.begin_update()
        if pages is None:
            up.erase_all()
        else:
            for p in todo:
                up.erase_sector(p)
        return True

    def go(self, address: int) -> bool:
        """Commit a staged image (GO to the flash base), or run the active one."""
        if address != self.chip.flash_base:
            return False
        up = self.board.update
        if up is not None:
            try:
                up.commit()
            except UpdateRefused as e:
                self.board.last_refusal = str(e)
                return False
        elif self.board.boot() is None:
            return False
        self.went_to = address
        return True

    def write_protect(self, sectors: list[int]) -> bool:
        if any(not 0 <= s < len(self.chip.sectors) for s in sectors):
            return False
        rec = self._rec
        mask = rec.wrp if rec else 0
        for s in sectors:
            mask |= 1 << s
        self.board.set_options(wrp=mask)
        return True

    def write_unprotect(self) -> bool:
        self.board.set_options(wrp=0)
        return True

    def readout_protect(self) -> bool:
        self.board.set_options(rdp=1)
        return True

    def readout_unprotect(self) -> bool:
        # A real part mass-erases; ours erases the staging slot only (never the running image).
        self.board.begin_update().erase_all()
        self.board.drop_update()
        self.board.set_options(rdp=0)
        return True


class DevState(enum.Enum):
    AUTOBAUD = "autobaud"  # waiting for 0x7F
    COMMAND = "command"  # synchronised, waiting for a command and its complement
    FRAME = "frame"  # inside a command, waiting for its next frame
    RUNNING = "running"  # after GO: the application runs, the bootloader is gone
    RESETTING = "resetting"  # after a protection command: back to AUTOBAUD


@dataclass
class _Need:
    n: int


class Stm32Device:
    """AN3155 device side. `receive_data(data, now)` returns bytes to send."""

    def __init__(self, chip: Chip, memory: Stm32Memory, *, frame_timeout: float = 2.0) -> None:
        self.chip = chip
        self.mem = memory
        self.frame_timeout = frame_timeout
        self.state = DevState.AUTOBAUD
        self._buf = bytearray()
        self._gen: Generator[_Need | bytes, bytes, None] | None = None
        self._need = 0
        self._deadline: float | None = None
        self.commands_done = 0

    def reset(self) -> None:
        """Hardware reset: back to autobaud, input dropped."""
        self.state = DevState.AUTOBAUD
        self._buf.clear()
        self._gen = None
        self._deadline = None

    def next_deadline(self) -> float | None:
        return self._deadline

    def on_timeout(self, now: float) -> bytes:
        """A frame stopped half way: drop it and wait for a command again."""
        if self._deadline is not None and now >= self._deadline and self.state is DevState.FRAME:
            self._gen = None
            self._buf.clear()
            self._deadline = None
            self.state = DevState.COMMAND
        return b""

    def receive_data(self, data: bytes, now: float) -> bytes:
        out = bytearray()
        self._buf += data
        while self._buf:
            if self.state in (DevState.RUNNING,):
                self._buf.clear()
                break
            if self.state is DevState.AUTOBAUD:
                i = self._buf.find(INIT)
                if i < 0:
                    self._buf.clear()
                    break
                del self._buf[: i + 1]
                out.append(ACK)
                self.state = DevState.COMMAND
                continue
            if self._gen is None:
                if len(self._buf) < 2:
                    break
                cmd, comp = self._buf[0], self._buf[1]
                del self._buf[:2]
                if cmd ^ comp != 0xFF or cmd not in self.chip.commands:
                    out.append(NACK)
                    continue
                self._gen = self._command(cmd)
                out += self._step(None, now)
                continue
            if len(self._buf) < self._need:
                break
            chunk = bytes(self._buf[: self._need])
            del self._buf[: self._need]
            out += self._step(chunk, now)
        return bytes(out)

    def _step(self, value: bytes | None, now: float) -> bytes:
        """Run the command generator to its next need; collect what it says."""
        assert self._gen is not None
        out = bytearray()
        try:
            op = self._gen.send(value) if value is not None else next(self._gen)
            while isinstance(op, bytes):
                out += op
                op = next(self._gen)
            self._need = op.n
            self.state = DevState.FRAME
            self._deadline = now + self.frame_timeout
        except StopIteration:
            self._gen = None
            self._deadline = None
            self.commands_done += 1
            if self.state is DevState.FRAME:
                self.state = DevState.COMMAND
            if self.state is DevState.RESETTING:
                self.reset()
        return bytes(out)

    # one generator per command: yields reply bytes or _Need(n), receives the bytes needed
    def _command(self, cmd: int) -> Generator[_Need | bytes, bytes, None]:
        chip, mem = self.chip, self.mem
        nack, ack = bytes([NACK]), bytes([ACK])
        locked = mem.readout_protected
        if cmd == Command.GET:
            yield ack + bytes([len(chip.commands), chip.bootloader_version, *chip.commands]) + ack
            return
        if cmd == Command.GET_VERSION:
            yield ack + bytes([chip.bootloader_version, chip.option1, chip.option2]) + ack
            return
        if cmd == Command.GET_ID:
            yield ack + bytes([1]) + chip.pid.to_bytes(2, "big") + ack
            return
        if locked and cmd in (
            Command.READ_MEMORY,
            Command.WRITE_MEMORY,
            Command.GO,
            Command.ERASE,
            Command.EXTENDED_ERASE,
            Command.WRITE_PROTECT,
            Command.WRITE_UNPROTECT,
        ):
            yield nack
            return
        yield ack
        if cmd in (Command.READ_MEMORY, Command.WRITE_MEMORY, Command.GO):
            frame = yield _Need(5)
            address = int.from_bytes(frame[:4], "big")
            if xor(frame[:4]) != frame[4] or not mem.valid(address):
                yield nack
                return
            if cmd == Command.GO:
                # the address ACK is the only answer GO has: commit first, so a refusal is a NACK
                if mem.go(address):
                    self.state = DevState.RUNNING
                    yield ack
                else:
                    yield nack
                return
            yield ack
            if cmd == Command.READ_MEMORY:
                n = yield _Need(2)
                data = mem.read(address, n[0] + 1) if n[0] ^ n[1] == 0xFF else None
                yield nack if data is None else ack + data
            elif cmd == Command.WRITE_MEMORY:
                n = yield _Need(1)
                body = yield _Need(n[0] + 2)
                data, wsum = body[:-1], body[-1]
                ok = xor(n + data) == wsum and mem.write(address, data)
                yield ack if ok else nack
            return
        if cmd == Command.ERASE:
            count1 = yield _Need(1)
            if count1[0] == 0xFF:
                cs = yield _Need(1)
                yield ack if cs[0] == 0x00 and mem.erase(None) else nack
                return
            body = yield _Need(count1[0] + 2)
            pages, csum = list(body[:-1]), body[-1]
            yield ack if xor(count1 + body[:-1]) == csum and mem.erase(pages) else nack
            return
        if cmd == Command.EXTENDED_ERASE:
            nn = yield _Need(2)
            count = int.from_bytes(nn, "big")
            if count >= 0xFFF0:
                cs = yield _Need(1)
                ok = cs[0] == xor(nn) and count == 0xFFFF and mem.erase(None)  # single bank: no 0xFFFE/D
                yield ack if ok else nack
                return
            body = yield _Need(2 * (count + 1) + 1)
            raw, esum = body[:-1], body[-1]
            pages = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
            yield ack if xor(nn + raw) == esum and mem.erase(pages) else nack
            return
        if cmd == Command.WRITE_PROTECT:
            n = yield _Need(1)
            body = yield _Need(n[0] + 2)
            ok = xor(n + body[:-1]) == body[-1] and mem.write_protect(list(body[:-1]))
            if ok:
                self.state = DevState.RESETTING
            yield ack if ok else nack
            return
        done = {
            Command.WRITE_UNPROTECT: mem.write_unprotect,
            Command.READOUT_PROTECT: mem.readout_protect,
            Command.READOUT_UNPROTECT: mem.readout_unprotect,
        }[Command(cmd)]()
        self.state = DevState.RESETTING
        yield ack if done else nack


# --- XMODEM device side --------------------------------------------------------------------------


class XmodemSession:
    """XmodemReceiver into the staging slot; EOT commits."""

    def __init__(
        self, board: Board, *, crc: bool = True, timers: xmodem.ReceiverTimers | None = None
    ) -> None:
        self.board = board
        self.rx = xmodem.XmodemReceiver(crc=crc, max_size=board.slot_size, timers=timers)
        self.result: str | None = None  # "committed", or why not

    def start(self, now: float) -> bytes:
        return self._apply(self.rx.start(now), now)

    def receive_data(self, data: bytes, now: float) -> bytes:
        return self._apply(self.rx.receive_data(data, now), now)

    def on_timeout(self, now: float) -> bytes:
        return self._apply(self.rx.on_timeout(now), now)

    def next_deadline(self) -> float | None:
        return self.rx.next_deadline()

    def _apply(self, actions: list[xmodem.Action], now: float) -> bytes:
        out = bytearray()
        todo = list(actions)
        while todo:
            a = todo.pop(0)
            if isinstance(a, xmodem.Send):
                out += a.data
            elif isinstance(a, xmodem.Block):
                up = self.board.begin_update()
                ok = up.append(a.data)
                if ok and a.number == 1 and a.data[:4] == b"CCFW":
                    ok = self._early_check(a.data)
                todo += self.rx.store_result(ok, now)
            elif isinstance(a, xmodem.Done):
                up = self.board.begin_update()
                try:
                    up.commit(up.stream_len)
                    self.result = "committed"
                except UpdateRefused as e:
                    self.board.drop_update()
                    self.board.last_refusal = self.result = str(e)
            elif isinstance(a, xmodem.Failed):
                self.board.drop_update()
                self.result = self.result or str(a.error)  # keep the refusal that caused it
        return bytes(out)

    def _early_check(self, first: bytes) -> bool:
        """A container for another board is cancelled at its first block, not after the upload."""
        from ccfw import container

        try:
            hdr = first[: container.HEADER_SIZE]
            model = hdr[8:24].rstrip(b"\0").decode("ascii", "replace")
            lo, hi = struct.unpack_from("<HH", hdr, 24)
        except (struct.error, ValueError):
            return True  # a malformed header is refused at commit, with its field named
        if model != self.board.model or not lo <= self.board.hw_rev <= hi:
            self.board.last_refusal = self.result = (
                f"container board_model/hw_rev: image for {model!r} rev {lo}..{hi}, "
                f"board is {self.board.model!r} rev {self.board.hw_rev}"
            )
            return False
        return True


# --- the pty driver ------------------------------------------------------------------------------


class SimBoard:
    """The simulated board on a pty; a thread serves it. Use as a context manager.

    protocol: "stm32", "xmodem" or "auto" (0x7F within `auto_delay` s of the port opening picks
    STM32, silence picks XMODEM). `line_filter` rewrites the bytes the board receives (noise tests).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        protocol: str = "auto",
        chip: str = "f405",
        model: str = "CCB-4",
        hw_rev: int = 2,
        xmodem_crc: bool = True,
        xmodem_timers: xmodem.ReceiverTimers | None = None,
        auto_delay: float = 0.3,
        line_filter: Callable[[bytes], bytes] | None = None,
    ) -> None:
        if protocol not in ("auto", "stm32", "xmodem"):
            raise ValueError(f"protocol must be auto, stm32 or xmodem, not {protocol!r}")
        self.directory = Path(directory)
        self.protocol = protocol
        self.chip = CHIPS[chip]
        self.model = model
        self.hw_rev = hw_rev
        self.xmodem_crc = xmodem_crc
        self.xmodem_timers = xmodem_timers or xmodem.ReceiverTimers(start_interval=1.0, block=5.0)
        self.auto_delay = auto_delay
        self.line_filter = line_filter
        self.board = Board(self.directory, chip=self.chip, model=model, hw_rev=hw_rev)
        self.log: list[str] = []
        self.sessions = 0
        self.powered = True
        self._master, slave = os.openpty()
        self.path = os.ttyname(slave)
        tty.setraw(slave)
        os.close(slave)
        os.set_blocking(self._master, False)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._out = bytearray()
        self._open = False
        self._session: Stm32Device | XmodemSession | None = None
        self._session_start = 0.0
        self.xmodem_result: str | None = None

    # control ---------------------------------------------------------------------------------
    def start(self) -> SimBoard:
        self._thread = threading.Thread(target=self._serve, name=f"simboard {self.path}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        os.close(self._master)
        self.board.close()

    def __enter__(self) -> SimBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def cut_power_after(self, nbytes: int) -> None:
        """Kill the supply after `nbytes` more bytes of flash erase/program work."""
        with self._lock:
            self.board.flash.arm_power_cut(nbytes)

    def power_on(self) -> None:
        """Reboot from the flash file (after a power cut, or any time)."""
        with self._lock:
            self.board.close()
            self.board = Board(self.directory, chip=self.chip, model=self.model, hw_rev=self.hw_rev)
            self.powered = True
            self._session = None
            self._out.clear()
            self._open = False  # a new session starts when the port is next seen open

    def booted(self) -> Booted | None:
        """What the board boots now (reads the flash file as a fresh board would)."""
        with self._lock:
            return self.board.boot()

    # serving ---------------------------------------------------------------------------------
    def _new_session(self, now: float) -> bytes:
        self.sessions += 1
        self.board.drop_update()
        self._session_start = now
        self._session = None
        self.xmodem_result = None
        if self.protocol == "stm32":
            self._session = Stm32Device(self.chip, Stm32Memory(self.board))
        elif self.protocol == "xmodem":
            return self._start_xmodem(now)
        return b""

    def _start_xmodem(self, now: float) -> bytes:
        s = XmodemSession(self.board, crc=self.xmodem_crc, timers=self.xmodem_timers)
        self._session = s
        return s.start(now)

    def _end_session(self) -> None:
        if isinstance(self._session, XmodemSession):
            self.xmodem_result = self._session.result
        self._session = None
        self.board.drop_update()
        self._out.clear()
        self._open = False

    def _deadline(self) -> float | None:
        s = self._session
        if s is None:
            return self._session_start + self.auto_delay if (self._open and self.protocol == "auto") else None
        return s.next_deadline()

    def _feed(self, data: bytes, now: float) -> bytes:
        if self.line_filter is not None:
            data = self.line_filter(data)
        s = self._session
        if s is None:
            if self.protocol == "auto" and INIT in data:
                self._session = Stm32Device(self.chip, Stm32Memory(self.board))
                return self._session.receive_data(data[data.index(INIT) :], now)
            return b""
        out = s.receive_data(data, now)
        if isinstance(s, XmodemSession) and s.result is not None:
            self.xmodem_result = s.result
        return out

    def _timeout(self, now: float) -> bytes:
        s = self._session
        if s is None:
            if self.protocol == "auto" and self._open and now >= self._session_start + self.auto_delay:
                return self._start_xmodem(now)
            return b""
        out = s.on_timeout(now)
        if isinstance(s, XmodemSession) and s.result is not None:
            self.xmodem_result = s.result
        return out

    def _serve(self) -> None:
        poller = select.poll()
        fd = self._master
        while not self._stop.is_set():
            with self._lock:
                dl = self._deadline()
                mask = select.POLLIN | (select.POLLOUT if self._out else 0)
            poller.register(fd, mask)
            wait = 0.05 if dl is None else max(0.0, min(0.05, dl - time.monotonic()))
            events = poller.poll(wait * 1000)
            ev = events[0][1] if events else 0
            now = time.monotonic()
            hup = False
            with self._lock:
                if ev & select.POLLIN and not self._open and self.powered:
                    self._open = True  # data before the first poll without HUP: the port is open
                    self._handle(partial(self._new_session, now), now)
                if ev & select.POLLIN:
                    try:
                        data = os.read(fd, 65536)
                    except (BlockingIOError, InterruptedError):
                        data = b""
                    except OSError:  # EIO: the last slave fd closed, input drained
                        data, hup = b"", True
                    if data:
                        self._handle(partial(self._feed, data, now), now)
                if hup or (ev & select.POLLHUP and not ev & select.POLLIN):
                    if self._open:
                        self._end_session()
                    time.sleep(0.005)  # the port is closed: POLLHUP stays up until it is reopened
                    continue
                if not self._open and self.powered:
                    self._open = True
                    self._handle(partial(self._new_session, now), now)
                dl = self._deadline()
                if dl is not None and now >= dl:
                    self._handle(partial(self._timeout, now), now)
                if self._out and self.powered:
                    try:
                        n = os.write(fd, self._out)
                        del self._out[:n]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self._out.clear()

    def _handle(self, step: Callable[[], bytes], now: float) -> None:
        if not self.powered:
            return
        try:
            self._out += step()
        except PowerLost as e:
            self.log.append(f"power lost: {e}")
            self.powered = False
            self._session = None
            self._out.clear()


# --- command line --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m ccfw.simboard",
        description="Run a simulated board bootloader on a pty and print the pty's path.",
    )
    p.add_argument("--slots", metavar="DIR", required=True, help="directory of the flash file (flash.bin)")
    p.add_argument("--protocol", choices=("auto", "stm32", "xmodem"), default="auto")
    p.add_argument("--chip", choices=sorted(CHIPS), default="f405")
    p.add_argument("--model", default="CCB-4", help="board model the container check expects")
    p.add_argument("--hw", type=int, default=2, help="hardware revision")
    p.add_argument("--checksum", action="store_true", help="XMODEM: ask for the 8-bit checksum, not CRC")
    p.add_argument("--initial", metavar="IMAGE", help="factory-install IMAGE if the board has no image")
    args = p.parse_args(argv)
    board = SimBoard(
        args.slots,
        protocol=args.protocol,
        chip=args.chip,
        model=args.model,
        hw_rev=args.hw,
        xmodem_crc=not args.checksum,
    )
    if args.initial and board.booted() is None:
        board.board.install(Path(args.initial).read_bytes())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with board:
        print(board.path, flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
