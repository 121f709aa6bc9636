"""The STM32 system-memory bootloader's UART protocol (ST AN3155), host side, sans-IO.

`Stm32Host` runs one request at a time. `begin(request, now)` starts it; feed line bytes with
`receive_data(data, now)` and call `on_timeout(now)` at `next_deadline()`; each returns actions:
`Send` (bytes for the line), then finally `Reply` (the request's result) or `Failed` (an error
naming the step and, for silence, the bytes that went unanswered). No clock, no port: deadlines are
computed from the "now" handed in; ccfw.flash drives it over pyserial.

`begin_batch(requests, now)` queues several requests: each starts as soon as the previous one ends
with its `Reply`, so the action list holding that `Reply` also holds the next request's first
`Send` (a driver should write it before doing its own bookkeeping: a round trip over a fast link
is a few tens of microseconds). Still one frame in flight: the next frame only follows an ACK.
The first `Failed` drops the rest of the batch.

Protocol facts (AN3155; reply timeouts as stm32flash uses them):
  autobaud   host 0x7F, device ACK (0x79); an already synchronised device takes 0x7F as a command
             byte and answers NACK (0x1F) to it or to the next byte
  command    byte, its complement; ACK or NACK
  address    4 bytes big endian + XOR of them; ACK or NACK
  GET        ACK, N, bootloader version, N command codes, ACK
  GET VERSION ACK, version, option byte 1, option byte 2, ACK
  GET ID     ACK, N (=1), PID high, PID low, ACK
  READ       cmd, address, (len-1) and its complement -> ACK, len bytes (1..256)
  WRITE      cmd, address, (len-1), data (len multiple of 4, <= 256), XOR of len-1 and data -> ACK
  ERASE      (0x43) N-1 + N page bytes + XOR, or 0xFF 0x00 for a global erase
  EXT. ERASE (0x44) N-1 as 2 bytes + N 2-byte pages + XOR, or 0xFFFF/0xFFFE/0xFFFD + XOR
  WRITE PROTECT (0x63) N-1 + N sectors + XOR -> ACK;  WRITE UNPROTECT (0x73), READOUT PROTECT
  (0x82), READOUT UNPROTECT (0x92): ACK, ACK; the device then resets (autobaud again)
  GO         cmd, address -> ACK, the device jumps
A BUSY byte (0x76) may precede the final ACK; the host keeps waiting until the step's deadline.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

from ccfw.errors import LinkError, NoAnswerError, ProtocolViolationError, Stm32NackError

ACK = 0x79
NACK = 0x1F
BUSY = 0x76
INIT = 0x7F
MAX_BLOCK = 256  # bytes per READ / WRITE MEMORY


class Command(enum.IntEnum):
    """AN3155 command codes."""

    GET = 0x00
    GET_VERSION = 0x01
    GET_ID = 0x02
    READ_MEMORY = 0x11
    GO = 0x21
    WRITE_MEMORY = 0x31
    ERASE = 0x43
    EXTENDED_ERASE = 0x44
    WRITE_PROTECT = 0x63
    WRITE_UNPROTECT = 0x73
    READOUT_PROTECT = 0x82
    READOUT_UNPROTECT = 0x92


# Extended-erase special codes
MASS_ERASE = 0xFFFF
BANK1_ERASE = 0xFFFE
BANK2_ERASE = 0xFFFD


def xor(data: bytes) -> int:
    """XOR of all bytes (AN3155's checksum)."""
    n = len(data)
    if n <= 16:
        x = 0
        for b in data:
            x ^= b
        return x
    # a 256-byte block is on the round trip's critical path: fold it as one integer, halving
    # its width each step (8 big-int steps instead of 256 interpreted ones)
    x = int.from_bytes(data, "little")
    while n > 1:
        half = (n + 1) >> 1
        x = (x & ((1 << (half << 3)) - 1)) ^ (x >> (half << 3))
        n = half
    return x


def with_xor(data: bytes) -> bytes:
    return data + bytes([xor(data)])


def address_frame(address: int) -> bytes:
    """4-byte big-endian address plus its XOR."""
    if not 0 <= address <= 0xFFFFFFFF:
        raise ValueError(f"address 0x{address:x} is not 32-bit")
    return with_xor(address.to_bytes(4, "big"))


def command_frame(cmd: int) -> bytes:
    return bytes([cmd, cmd ^ 0xFF])


def hexs(data: bytes, limit: int = 12) -> str:
    """'7f' / '11 ee' / '31 ce ... (258 bytes)' for error messages."""
    text = " ".join(f"{b:02x}" for b in data[:limit])
    return text + (f" ... ({len(data)} bytes)" if len(data) > limit else "")


KIB = 1024
_READ_FRAME = command_frame(0x11)
_WRITE_FRAME = command_frame(0x31)


# --- chips (variants as data) --------------------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    """What the STM32 bootloader of one part answers, and its flash sectors (bytes)."""

    pid: int
    name: str
    bootloader_version: int
    commands: tuple[int, ...]
    sectors: tuple[int, ...]
    flash_base: int = 0x08000000
    ram_start: int = 0x20000000
    ram_size: int = 128 * KIB
    option1: int = 0
    option2: int = 0

    def sectors_for(self, offset: int, n: int) -> list[int]:
        """Indices of the sectors [offset, offset+n) touches (offset from the flash base)."""
        offs = self.sector_offsets()
        return [i for i, s in enumerate(offs) if s < offset + n and offset < s + self.sectors[i]]

    @property
    def flash_size(self) -> int:
        return sum(self.sectors)

    def sector_offsets(self) -> list[int]:
        out, acc = [], 0
        for s in self.sectors:
            out.append(acc)
            acc += s
        return out


_AN3155_V3 = (0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92)
_AN3155_V2 = (0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43, 0x63, 0x73, 0x82, 0x92)

CHIPS: dict[str, Chip] = {
    # RM0090: 1 MiB in sectors of 4 x 16 KiB, 64 KiB, 7 x 128 KiB; bootloader v3.1 (AN2606)
    "f405": Chip(
        0x413, "STM32F405/407/415/417", 0x31, _AN3155_V3, (16 * KIB,) * 4 + (64 * KIB,) + (128 * KIB,) * 7
    ),
    # RM0008 medium density: 128 KiB in 1 KiB pages; bootloader v2.2, legacy ERASE (0x43)
    "f103": Chip(0x410, "STM32F10x medium density", 0x22, _AN3155_V2, (1 * KIB,) * 128, ram_size=20 * KIB),
}


# --- requests and results --------------------------------------------------------------------


@dataclass(frozen=True)
class Init:
    """0x7F autobaud; an ACK or (already synchronised) NACK both mean ready."""


@dataclass(frozen=True)
class Get:
    """GET: bootloader version and supported commands."""


@dataclass(frozen=True)
class GetVersion:
    """GET VERSION: version and two option bytes."""


@dataclass(frozen=True)
class GetId:
    """GET ID: the product ID (e.g. 0x413 for STM32F405/407/415/417)."""


@dataclass(frozen=True)
class ReadMemory:
    address: int
    length: int  # 1..256 bytes


@dataclass(frozen=True)
class WriteMemory:
    address: int  # 4-byte aligned
    data: bytes  # 1..256 bytes; padded with 0xFF to a multiple of 4


@dataclass(frozen=True)
class Go:
    address: int


@dataclass(frozen=True)
class Erase:
    """Legacy ERASE (0x43): pages (each < 256), or None for a global erase."""

    pages: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ExtendedErase:
    """EXTENDED ERASE (0x44): pages (each < 0xFFF0), or `special` = MASS_ERASE / BANKn_ERASE."""

    pages: tuple[int, ...] = ()
    special: int | None = None


@dataclass(frozen=True)
class WriteProtect:
    sectors: tuple[int, ...]


@dataclass(frozen=True)
class WriteUnprotect:
    pass


@dataclass(frozen=True)
class ReadoutProtect:
    pass


@dataclass(frozen=True)
class ReadoutUnprotect:
    pass


Request = (
    Init
    | Get
    | GetVersion
    | GetId
    | ReadMemory
    | WriteMemory
    | Go
    | Erase
    | ExtendedErase
    | WriteProtect
    | WriteUnprotect
    | ReadoutProtect
    | ReadoutUnprotect
)


@dataclass(frozen=True)
class BootloaderInfo:
    """GET's answer."""

    version: int  # 0x31 = v3.1
    commands: tuple[int, ...]


@dataclass(frozen=True)
class VersionInfo:
    """GET VERSION's answer."""

    version: int
    option1: int
    option2: int


@dataclass(frozen=True)
class Send:
    data: bytes


@dataclass(frozen=True)
class Reply:
    """The request finished; `value` is its result (bytes, BootloaderInfo, VersionInfo, PID or None)."""

    request: Request
    value: object = None


@dataclass(frozen=True)
class Failed:
    request: Request
    error: LinkError


Action = Send | Reply | Failed


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for each kind of answer (stm32flash's values where it has one)."""

    init: float = 0.5
    reply: float = 1.0  # ACK to a command / address / length, GET replies, READ data
    write: float = 1.0  # ACK after a block is programmed
    page_erase: float = 5.0  # per page or sector
    mass_erase: float = 35.0
    protect: float = 1.0
    readout_unprotect: float = 35.0  # includes a mass erase


# --- the engine --------------------------------------------------------------------------------


@dataclass
class _Read:
    n: int
    timeout: float
    step: str


@dataclass
class _Ack:
    """Wait for one byte: the engine checks it is ACK (NACK or anything else fails the request)
    unless `raw`, which hands the byte to the procedure (Init: NACK also means "ready")."""

    timeout: float
    step: str
    detail: str = ""  # joined to `step` only for a message: formatting costs on every trip
    raw: bool = False

    @property
    def name(self) -> str:
        return f"{self.step}: {self.detail}" if self.detail else self.step


class _Timeout(Exception):
    pass


_Op = _Read | _Ack | Send  # a procedure yields the Send actions themselves
_Proc = Generator[_Op, object, object]


@dataclass
class _Run:
    request: Request
    proc: _Proc
    want: _Read | _Ack | None = None
    buf: bytearray = field(default_factory=bytearray)
    last_sent: bytes = b""


class Stm32Host:
    """One AN3155 host; one request in flight at a time."""

    def __init__(self, timeouts: Timeouts | None = None) -> None:
        self.timeouts = timeouts or Timeouts()
        self.bytes_sent = 0
        self.bytes_received = 0
        self._run: _Run | None = None
        self._deadline: float | None = None
        self._queue: deque[tuple[Request, _Proc]] = deque()

    @property
    def busy(self) -> bool:
        return self._run is not None

    def next_deadline(self) -> float | None:
        return self._deadline

    def begin(self, request: Request, now: float) -> list[Action]:
        """Start `request`; raises ValueError for a malformed request, RuntimeError if busy."""
        if self._run is not None:
            raise RuntimeError(f"{type(self._run.request).__name__} still in flight")
        proc = self._procedure(request)
        self._run = _Run(request, proc)
        return self._advance(None, now)

    def begin_batch(self, requests: Sequence[Request], now: float) -> list[Action]:
        """Start `requests` in order, each when the previous one has its `Reply`; every request is
        checked first (ValueError, nothing sent), and the first `Failed` drops the rest."""
        if self._run is not None:
            raise RuntimeError(f"{type(self._run.request).__name__} still in flight")
        if not requests:
            return []
        procs = [(r, self._procedure(r)) for r in requests]
        self._queue.extend(procs[1:])
        self._run = _Run(*procs[0])
        return self._advance(None, now)

    @property
    def queued(self) -> int:
        """Requests of the batch not started yet."""
        return len(self._queue)

    def receive_data(self, data: bytes, now: float) -> list[Action]:
        """Feed line bytes; bytes with no request in flight are dropped (counted)."""
        self.bytes_received += len(data)
        run = self._run
        if run is None:
            return []
        run.buf += data
        return self._drain(now)

    def on_timeout(self, now: float) -> list[Action]:
        run = self._run
        if run is None or self._deadline is None or now < self._deadline:
            return []
        run.buf.clear()
        return self._advance(_Timeout(), now)

    def abandon(self) -> None:
        """Forget the request in flight and the rest of its batch (the driver gave up)."""
        self._run = None
        self._deadline = None
        self._queue.clear()

    # engine internals ----------------------------------------------------------------------
    def _drain(self, now: float) -> list[Action]:
        out: list[Action] = []
        while self._run is not None and self._run.want is not None:
            run = self._run
            want = run.want
            assert want is not None
            if isinstance(want, _Ack):
                while run.buf and run.buf[0] == BUSY:
                    del run.buf[0]  # keep waiting until the same deadline
                if not run.buf:
                    break
                b = run.buf.pop(0)
                if b == ACK or want.raw:
                    out += self._advance(None if b == ACK and not want.raw else b, now)
                else:
                    err: LinkError = (
                        Stm32NackError("bootloader answered NACK", step=want.name)
                        if b == NACK
                        else ProtocolViolationError(f"expected ACK (0x79), got 0x{b:02x}", step=want.name)
                    )
                    self._finish()
                    out.append(Failed(run.request, err))
            else:
                if len(run.buf) < want.n:
                    break
                chunk = bytes(run.buf[: want.n])
                del run.buf[: want.n]
                out += self._advance(chunk, now)
        return out

    def _advance(self, value: object, now: float) -> list[Action]:
        run = self._run
        assert run is not None
        out: list[Action] = []
        try:
            while True:
                if isinstance(value, _Timeout):
                    op = run.proc.throw(value)
                else:
                    op = run.proc.send(value)
                value = None
                if isinstance(op, Send):
                    self.bytes_sent += len(op.data)
                    run.last_sent = op.data
                    out.append(op)
                    continue
                run.want = op
                self._deadline = now + op.timeout
                return out  # bytes already buffered are taken by the caller's _drain loop
        except StopIteration as stop:
            self._run = None
            self._deadline = None
            out.append(Reply(run.request, stop.value))
            if self._queue:
                # the next request of the batch: its first frame goes out in the same list
                self._run = _Run(*self._queue.popleft())
                out += self._advance(None, now)
        except _Timeout:
            want = run.want
            step = want.name if isinstance(want, _Ack) else want.step if want else type(run.request).__name__
            waited = want.timeout if want is not None else 0.0
            self._finish()
            out.append(
                Failed(
                    run.request,
                    NoAnswerError(
                        f"no answer in {waited:g} s after sending {hexs(run.last_sent)}", step=step
                    ),
                )
            )
        except LinkError as err:
            self._finish()
            out.append(Failed(run.request, err))
        return out

    def _finish(self) -> None:
        self._run = None
        self._deadline = None
        self._queue.clear()

    # procedures: generators yielding Send / _Read / _Ack ----------------------------------
    def _procedure(self, r: Request) -> _Proc:
        t = self.timeouts
        if isinstance(r, Init):
            return self._init()
        if isinstance(r, Get):
            return self._get()
        if isinstance(r, GetVersion):
            return self._get_version()
        if isinstance(r, GetId):
            return self._get_id()
        if isinstance(r, ReadMemory):
            if not 1 <= r.length <= MAX_BLOCK:
                raise ValueError(f"READ length must be 1..256, got {r.length}")
            return self._read(r.address, r.length)
        if isinstance(r, WriteMemory):
            if not 1 <= len(r.data) <= MAX_BLOCK:
                raise ValueError(f"WRITE length must be 1..256, got {len(r.data)}")
            if r.address & 3:
                raise ValueError(f"WRITE address 0x{r.address:08x} is not 4-byte aligned")
            return self._write(r.address, r.data)
        if isinstance(r, Go):
            return self._addressed(Command.GO, r.address, "go")
        if isinstance(r, Erase):
            return self._erase(r)
        if isinstance(r, ExtendedErase):
            return self._extended_erase(r)
        if isinstance(r, WriteProtect):
            if not 1 <= len(r.sectors) <= 256 or any(not 0 <= s <= 255 for s in r.sectors):
                raise ValueError("WRITE PROTECT takes 1..256 sectors, each 0..255")
            return self._write_protect(r.sectors)
        if isinstance(r, WriteUnprotect):
            return self._two_acks(Command.WRITE_UNPROTECT, "write-unprotect", t.protect)
        if isinstance(r, ReadoutProtect):
            return self._two_acks(Command.READOUT_PROTECT, "readout-protect", t.protect)
        if isinstance(r, ReadoutUnprotect):
            return self._two_acks(Command.READOUT_UNPROTECT, "readout-unprotect", t.readout_unprotect)
        raise ValueError(f"not an STM32 request: {r!r}")

    def _cmd(self, cmd: int, step: str) -> Generator[_Op, object, None]:
        yield Send(command_frame(cmd))
        yield _Ack(self.timeouts.reply, step, f"command 0x{cmd:02x}")

    def _init(self) -> _Proc:
        yield Send(bytes([INIT]))
        try:
            b = yield _Ack(self.timeouts.init, "init: 0x7F", raw=True)
        except _Timeout:
            # A synchronised device may be waiting for the complement of our 0x7F: a second
            # 0x7F completes that "command" and draws a NACK.
            yield Send(bytes([INIT]))
            b = yield _Ack(self.timeouts.init, "init: second 0x7F", raw=True)
            if b != NACK and b != ACK:
                raise ProtocolViolationError(f"expected ACK or NACK, got 0x{b:02x}", step="init") from None
            return None
        if b not in (ACK, NACK):
            raise ProtocolViolationError(f"expected ACK or NACK, got 0x{b:02x}", step="init: 0x7F")
        return None

    def _get(self) -> _Proc:
        yield from self._cmd(Command.GET, "get")
        n = yield _Read(1, self.timeouts.reply, "get: length")
        assert isinstance(n, bytes)
        body = yield _Read(n[0] + 1, self.timeouts.reply, "get: version and commands")
        assert isinstance(body, bytes)
        yield _Ack(self.timeouts.reply, "get", "final ACK")
        return BootloaderInfo(body[0], tuple(body[1:]))

    def _get_version(self) -> _Proc:
        yield from self._cmd(Command.GET_VERSION, "get-version")
        body = yield _Read(3, self.timeouts.reply, "get-version: reply")
        assert isinstance(body, bytes)
        yield _Ack(self.timeouts.reply, "get-version", "final ACK")
        return VersionInfo(body[0], body[1], body[2])

    def _get_id(self) -> _Proc:
        yield from self._cmd(Command.GET_ID, "get-id")
        n = yield _Read(1, self.timeouts.reply, "get-id: length")
        assert isinstance(n, bytes)
        body = yield _Read(n[0] + 1, self.timeouts.reply, "get-id: PID")
        assert isinstance(body, bytes)
        yield _Ack(self.timeouts.reply, "get-id", "final ACK")
        if len(body) < 2:
            raise ProtocolViolationError(f"PID is {len(body)} byte(s), expected 2", step="get-id")
        return int.from_bytes(body[:2], "big")

    # READ and WRITE MEMORY, about 6,000 round trips per flash+verify, are scripts: every frame,
    # checksum and step name is made when the request is created (for a batch, before its first
    # frame goes out), so a trip only resumes `_script` and hands over a ready frame.
    def _read(self, address: int, length: int) -> _Proc:
        t, step = self.timeouts, f"read 0x{address:08x}"
        return self._script(
            Send(_READ_FRAME),
            _Ack(t.reply, step, "command 0x11"),
            Send(address_frame(address)),
            _Ack(t.reply, step, "address"),
            Send(command_frame(length - 1)),
            _Ack(t.reply, step, "length"),
            _Read(length, t.reply, f"{step}: data"),  # its bytes are the result
        )

    def _write(self, address: int, data: bytes) -> _Proc:
        t, step = self.timeouts, f"write 0x{address:08x}"
        padded = data + b"\xff" * (-len(data) % 4)
        return self._script(
            Send(_WRITE_FRAME),
            _Ack(t.reply, step, "command 0x31"),
            Send(address_frame(address)),
            _Ack(t.reply, step, "address"),
            Send(with_xor(bytes([len(padded) - 1]) + padded)),
            _Ack(t.write, step, "data"),  # the result is None
        )

    @staticmethod
    def _script(*ops: _Op) -> _Proc:
        """A fixed sequence of frames and answers; returns what the last answer gave."""
        value: object = None
        for op in ops:
            value = yield op
        return value

    def _addressed(self, cmd: int, address: int, name: str) -> _Proc:
        step = f"{name} 0x{address:08x}"
        yield from self._cmd(cmd, step)
        yield Send(address_frame(address))
        yield _Ack(self.timeouts.reply, step, "address")
        return None

    def _erase(self, r: Erase) -> _Proc:
        t = self.timeouts
        if r.pages is None:
            frame, timeout = bytes([0xFF, 0x00]), t.mass_erase
        else:
            if not 1 <= len(r.pages) <= 255 or any(not 0 <= p <= 255 for p in r.pages):
                raise ValueError("ERASE takes 1..255 pages, each 0..255")
            frame, timeout = with_xor(bytes([len(r.pages) - 1, *r.pages])), t.page_erase * len(r.pages)
        yield from self._cmd(Command.ERASE, "erase")
        yield Send(frame)
        yield _Ack(timeout, "erase", "pages")
        return None

    def _extended_erase(self, r: ExtendedErase) -> _Proc:
        t = self.timeouts
        if r.special is not None:
            if r.special not in (MASS_ERASE, BANK1_ERASE, BANK2_ERASE):
                raise ValueError(f"extended-erase special code 0x{r.special:04x} is not 0xFFFF/0xFFFE/0xFFFD")
            frame, timeout = with_xor(r.special.to_bytes(2, "big")), t.mass_erase
        else:
            if not 1 <= len(r.pages) <= 0xFFF0 or any(not 0 <= p <= 0xFFFF for p in r.pages):
                raise ValueError("EXTENDED ERASE takes 1..65520 pages, each 0..0xFFFF")
            body = (len(r.pages) - 1).to_bytes(2, "big") + b"".join(p.to_bytes(2, "big") for p in r.pages)
            frame, timeout = with_xor(body), t.page_erase * len(r.pages)
        yield from self._cmd(Command.EXTENDED_ERASE, "extended-erase")
        yield Send(frame)
        yield _Ack(timeout, "extended-erase", "pages")
        return None

    def _write_protect(self, sectors: tuple[int, ...]) -> _Proc:
        yield from self._cmd(Command.WRITE_PROTECT, "write-protect")
        yield Send(with_xor(bytes([len(sectors) - 1, *sectors])))
        yield _Ack(self.timeouts.protect, "write-protect", "sectors")
        return None

    def _two_acks(self, cmd: int, name: str, timeout: float) -> _Proc:
        yield from self._cmd(cmd, name)
        yield _Ack(timeout, name, "done")
        return None
