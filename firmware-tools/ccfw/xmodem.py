"""XMODEM (checksum, CRC-16 and 1K) as sans-IO state machines: a sender (host side) and a
receiver (the simulated board's side).

Both are fed bytes and "now" (seconds, any monotonic origin) and hand back actions: bytes to send,
a received block, done or failed; `next_deadline()` says when to call `on_timeout(now)`. They read
no clock and touch no port; ccfw.flash drives the sender over pyserial, ccfw.simboard drives the
receiver on a pty.

Why ours and not the `xmodem` package (0.4.x): its XMODEM.send/recv block on getc/putc callbacks
and return only True/False, so it can neither be driven sans-IO (house rule; the receiver must be
sans-IO anyway to live in the simulated board), nor tell a NAK storm from a silent line or a
cancel (the CLI must say which), nor count wire bytes for the efficiency figures, nor be tested
back to back byte by byte without threads. It stays useful as an independent peer in the tests.

Protocol facts (Christensen's XMODEM, the CRC and 1K extensions as in Forsberg's YMODEM notes):
  block  = SOH|STX, seq, 255-seq, 128|1024 data bytes, checksum (1 byte sum) | CRC-16 (big endian,
           polynomial 0x1021, initial 0: binascii.crc_hqx)
  start  = the receiver sends 'C' (CRC wanted) or NAK (checksum) until the first block arrives
  answer = ACK next, NAK again; a repeated block (lost ACK) is ACKed and dropped; CAN CAN aborts
  end    = EOT, answered by ACK; the last block is padded with SUB (0x1A)
1K blocks need CRC: a sender asked for checksum (NAK) falls back to 128-byte blocks.
"""

from __future__ import annotations

import binascii
import enum
from dataclasses import dataclass

from ccfw.errors import (
    LinkError,
    NakStormError,
    NoAnswerError,
    ProtocolViolationError,
    TransferCancelledError,
)

SOH = 0x01
STX = 0x02
EOT = 0x04
ACK = 0x06
NAK = 0x15
CAN = 0x18
CRC_START = 0x43  # 'C'
SUB = 0x1A  # padding of the last block (CP/M end of file)

BLOCK = {SOH: 128, STX: 1024}
SHORT, LONG = 128, 1024
ABORT = bytes([CAN, CAN, CAN])


def checksum8(data: bytes) -> int:
    """The original XMODEM check: sum of the data bytes mod 256."""
    return sum(data) & 0xFF


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (polynomial 0x1021, initial 0, no reflection)."""
    return binascii.crc_hqx(data, 0)


def make_block(seq: int, data: bytes, crc: bool) -> bytes:
    """One framed block; `data` must be exactly 128 or 1024 bytes."""
    if len(data) not in (SHORT, LONG):
        raise ValueError(f"XMODEM data must be 128 or 1024 bytes, got {len(data)}")
    head = bytes([SOH if len(data) == SHORT else STX, seq & 0xFF, 0xFF - (seq & 0xFF)])
    check = crc16(data).to_bytes(2, "big") if crc else bytes([checksum8(data)])
    return head + data + check


# --- actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Write these bytes to the line."""

    data: bytes


@dataclass(frozen=True)
class Block:
    """Receiver: a new, checked block; answer with `store_result` before feeding more bytes."""

    number: int  # 1, 2, ... (not wrapped at 256)
    offset: int  # bytes of payload before this block
    data: bytes


@dataclass(frozen=True)
class Done:
    """The transfer finished (sender: EOT was ACKed; receiver: EOT arrived and was ACKed)."""


@dataclass(frozen=True)
class Failed:
    """The transfer failed; the error names the step."""

    error: LinkError


Action = Send | Block | Done | Failed


class State(enum.Enum):
    """Sender and receiver states (one enum: the names say whose)."""

    IDLE = "idle"
    WAIT_START = "wait-start"  # sender: for NAK / 'C'
    WAIT_ACK = "wait-ack"  # sender: for the answer to a block
    WAIT_EOT_ACK = "wait-eot-ack"
    START = "start"  # receiver: sending 'C' / NAK until a block starts
    HEADER = "header"  # receiver: for SOH / STX / EOT / CAN
    BODY = "body"  # receiver: collecting one block
    PURGE = "purge"  # receiver: discarding until the line is quiet, then NAK
    STORE = "store"  # receiver: a block is with the caller
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class SenderTimers:
    """Sender timeouts in seconds."""

    start: float = 60.0  # for the receiver's first NAK or 'C' (spec: 60 s)
    ack: float = 10.0  # for ACK/NAK after a block or EOT (spec: 10 s)


@dataclass(frozen=True)
class ReceiverTimers:
    """Receiver timeouts in seconds."""

    start_interval: float = 3.0  # between 'C'/NAK while waiting for the first block
    start_tries: int = 20  # 'C'/NAK sent before giving up
    crc_tries: int = 4  # 'C' sent before falling back to NAK (checksum)
    char: float = 1.0  # inside a block
    block: float = 10.0  # for the next block after an ACK
    purge: float = 0.2  # quiet line needed before the NAK that follows a bad block


class XmodemSender:
    """Host side: sends `data` in 128-byte or, with `one_k` and CRC, 1024-byte blocks."""

    def __init__(
        self,
        data: bytes,
        *,
        one_k: bool = False,
        retries: int = 10,
        timers: SenderTimers | None = None,
    ) -> None:
        if retries < 1:
            raise ValueError("retries must be >= 1")
        self.data = bytes(data)
        self.one_k = one_k
        self.retries = retries
        self.timers = timers or SenderTimers()
        self.state = State.IDLE
        self.crc = False
        self.offset = 0  # payload bytes ACKed
        self.seq = 1
        self.bytes_sent = 0
        self.bytes_received = 0
        self.blocks_sent = 0
        self.retransmissions = 0
        self.bytes_resent = 0  # of bytes_sent: blocks and EOTs sent again after a NAK or timeout
        self._block = b""
        self._block_len = 0
        self._errors = 0
        self._naks = 0
        self._cans = 0
        self._deadline: float | None = None

    # public API ----------------------------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        """Begin: wait for the receiver's NAK or 'C'."""
        if self.state is not State.IDLE:
            raise RuntimeError("sender already started")
        self.state = State.WAIT_START
        self._deadline = now + self.timers.start
        return []

    def next_deadline(self) -> float | None:
        return self._deadline

    @property
    def done(self) -> bool:
        return self.state in (State.DONE, State.FAILED)

    def receive_data(self, data: bytes, now: float) -> list[Action]:
        """Feed bytes read from the line."""
        self.bytes_received += len(data)
        out: list[Action] = []
        for b in data:
            if self.done:
                break
            out += self._byte(b, now)
        return out

    def on_timeout(self, now: float) -> list[Action]:
        if self._deadline is None or now < self._deadline or self.done:
            return []
        if self.state is State.WAIT_START:
            return self._fail(
                NoAnswerError(
                    f"no NAK or 'C' from the receiver in {self.timers.start:g} s; nothing sent yet",
                    step="start",
                ),
                now,
            )
        return self._retry(now, nak=False)

    def connection_lost(self, now: float) -> list[Action]:
        """The line went away. After our EOT that is the receiver finishing (lrzsz rx closes the
        pty as soon as it has the EOT); anywhere else the transfer failed."""
        if self.done:
            return []
        if self.state is State.WAIT_EOT_ACK:
            self.state = State.DONE
            self._deadline = None
            return [Done()]
        return self._fail(NoAnswerError("the receiver closed the line", step=self._step()), now, False)

    # internals -----------------------------------------------------------------------------
    def _send(self, data: bytes) -> Send:
        self.bytes_sent += len(data)
        return Send(data)

    def _fail(self, error: LinkError, now: float, abort: bool = True) -> list[Action]:
        self.state = State.FAILED
        self._deadline = None
        out: list[Action] = [self._send(ABORT)] if abort else []
        out.append(Failed(error))
        return out

    def _step(self) -> str:
        return "eot" if self.state is State.WAIT_EOT_ACK else f"block {self.seq_abs}"

    @property
    def seq_abs(self) -> int:
        """The number (from 1, unwrapped) of the block now in flight."""
        return self.blocks_sent

    def _next(self, now: float) -> list[Action]:
        """Send the next block, or EOT when everything is ACKed."""
        rest = len(self.data) - self.offset
        self._errors = self._naks = 0
        if rest <= 0:
            self.state = State.WAIT_EOT_ACK
            self._deadline = now + self.timers.ack
            return [self._send(bytes([EOT]))]
        size = LONG if (self.one_k and self.crc and rest > LONG - SHORT) else SHORT
        chunk = self.data[self.offset : self.offset + size]
        self._block_len = len(chunk)
        self._block = make_block(self.seq, chunk.ljust(size, bytes([SUB])), self.crc)
        self.blocks_sent += 1
        self.state = State.WAIT_ACK
        self._deadline = now + self.timers.ack
        return [self._send(self._block)]

    def _retry(self, now: float, nak: bool) -> list[Action]:
        self._errors += 1
        self._naks += int(nak)
        if self._errors > self.retries:
            step = self._step()
            if self._naks:
                return self._fail(
                    NakStormError(
                        f"refused {self._naks} times (NAK), {self._errors - self._naks} timeouts",
                        step=step,
                    ),
                    now,
                )
            return self._fail(
                NoAnswerError(
                    f"no ACK or NAK after {self._errors} tries of {self.timers.ack:g} s", step=step
                ),
                now,
            )
        self.retransmissions += 1
        self._deadline = now + self.timers.ack
        again = bytes([EOT]) if self.state is State.WAIT_EOT_ACK else self._block
        self.bytes_resent += len(again)
        return [self._send(again)]

    def _byte(self, b: int, now: float) -> list[Action]:
        if b == CAN:
            self._cans += 1
            if self._cans >= 2:
                return self._fail(
                    TransferCancelledError("receiver sent CAN CAN", step=self._step()), now, False
                )
            return []
        self._cans = 0
        if self.state is State.WAIT_START:
            if b in (CRC_START, NAK):
                self.crc = b == CRC_START
                return self._next(now)
            return []  # line noise before the start: wait on
        if self.state is State.WAIT_ACK:
            if b == ACK:
                self.offset += self._block_len
                self.seq = (self.seq + 1) & 0xFF
                return self._next(now)
            if b == NAK:
                return self._retry(now, nak=True)
            return []  # stale 'C' or noise: the timer decides
        if self.state is State.WAIT_EOT_ACK:
            if b == ACK:
                self.state = State.DONE
                self._deadline = None
                return [Done()]
            if b == NAK:
                return self._retry(now, nak=True)
        return []


class XmodemReceiver:
    """Device side: asks with 'C' (crc=True) or NAK, checks blocks and hands them out one by one.

    After a `Block` action call `store_result(ok, now)`: ok ACKs the block, not ok cancels
    (e.g. flash failure). `max_size` bounds the payload (bytes); a longer transfer is cancelled.
    """

    def __init__(
        self,
        *,
        crc: bool = True,
        retries: int = 10,
        max_size: int | None = None,
        timers: ReceiverTimers | None = None,
    ) -> None:
        self.crc = crc
        self.retries = retries
        self.max_size = max_size
        self.timers = timers or ReceiverTimers()
        self.state = State.IDLE
        self.expected = 1  # unwrapped number of the next new block
        self.offset = 0  # payload bytes stored
        self.bytes_sent = 0
        self.bytes_received = 0
        self._buf = bytearray()
        self._need = 0
        self._errors = 0
        self._start_sent = 0
        self._cans = 0
        self._deadline: float | None = None
        self._pending = bytearray()
        self._last_len = 0

    def start(self, now: float) -> list[Action]:
        if self.state is not State.IDLE:
            raise RuntimeError("receiver already started")
        self.state = State.START
        return self._ask(now)

    def next_deadline(self) -> float | None:
        return self._deadline

    @property
    def done(self) -> bool:
        return self.state in (State.DONE, State.FAILED)

    def receive_data(self, data: bytes, now: float) -> list[Action]:
        self.bytes_received += len(data)
        self._pending += data
        return self._run(now)

    def store_result(self, ok: bool, now: float) -> list[Action]:
        """The caller's answer to the last `Block`: stored (ACK) or not (cancel)."""
        if self.state is not State.STORE:
            raise RuntimeError(f"store_result in state {self.state.value}")
        if not ok:
            return self._fail(
                ProtocolViolationError("board could not store the block", step=self._step()), now
            )
        self.offset += self._last_len
        self.expected += 1
        self._errors = 0
        self.state = State.HEADER
        self._deadline = now + self.timers.block
        return [self._send(bytes([ACK]))] + self._run(now)

    def on_timeout(self, now: float) -> list[Action]:
        if self._deadline is None or now < self._deadline or self.done or self.state is State.STORE:
            return []
        if self.state is State.START:
            if self._start_sent >= self.timers.start_tries:
                return self._fail(
                    NoAnswerError(f"no block after {self._start_sent} start requests", step="start"), now
                )
            return self._ask(now)
        if self.state is State.PURGE:
            return self._nak(now)
        # a block stopped half way, or no next block: ask again
        what = "block stopped half way" if self.state is State.BODY else "no block"
        return self._nak(now, timeout=what)

    # internals -----------------------------------------------------------------------------
    def _step(self) -> str:
        return f"block {self.expected}"

    def _send(self, data: bytes) -> Send:
        self.bytes_sent += len(data)
        return Send(data)

    def _fail(self, error: LinkError, now: float, abort: bool = True) -> list[Action]:
        self.state = State.FAILED
        self._deadline = None
        self._pending.clear()
        out: list[Action] = [self._send(ABORT)] if abort else []
        out.append(Failed(error))
        return out

    def _ask(self, now: float) -> list[Action]:
        if self.crc and self._start_sent >= self.timers.crc_tries:
            self.crc = False  # the sender may only know checksum XMODEM
        self._start_sent += 1
        self._deadline = now + self.timers.start_interval
        return [self._send(bytes([CRC_START if self.crc else NAK]))]

    def _nak(self, now: float, timeout: str | None = None) -> list[Action]:
        self._errors += 1
        self._buf.clear()
        if self._errors > self.retries:
            cls = NoAnswerError if timeout else NakStormError
            why = (
                f"{timeout} ({self._errors} times)" if timeout else f"bad block {self._errors} times in a row"
            )
            return self._fail(cls(why, step=self._step()), now)
        self.state = State.HEADER
        self._deadline = now + self.timers.block
        return [self._send(bytes([NAK]))]

    def _purge(self, now: float) -> None:
        self.state = State.PURGE
        self._buf.clear()
        self._deadline = now + self.timers.purge

    def _run(self, now: float) -> list[Action]:
        out: list[Action] = []
        while self._pending and not self.done and self.state is not State.STORE:
            if self.state is State.PURGE:
                self._pending.clear()
                self._deadline = now + self.timers.purge
                break
            if self.state is State.BODY:
                take = min(self._need - len(self._buf), len(self._pending))
                self._buf += self._pending[:take]
                del self._pending[:take]
                self._deadline = now + self.timers.char
                if len(self._buf) == self._need:
                    out += self._block(now)
                continue
            b = self._pending.pop(0)
            out += self._header(b, now)
        return out

    def _header(self, b: int, now: float) -> list[Action]:
        if b == CAN:
            self._cans += 1
            if self._cans >= 2:
                return self._fail(
                    TransferCancelledError("sender sent CAN CAN", step=self._step()), now, False
                )
            return []
        self._cans = 0
        if b in BLOCK:
            self.state = State.BODY
            self._buf = bytearray([b])
            self._need = 3 + BLOCK[b] + (2 if self.crc else 1)
            self._deadline = now + self.timers.char
            return []
        if b == EOT:
            self.state = State.DONE
            self._deadline = None
            return [self._send(bytes([ACK])), Done()]
        if self.state is State.START:
            return []  # noise before the first block
        self._purge(now)
        return []

    def _block(self, now: float) -> list[Action]:
        buf = bytes(self._buf)
        self._buf.clear()
        seq, cseq = buf[1], buf[2]
        data = buf[3 : 3 + BLOCK[buf[0]]]
        check = buf[3 + len(data) :]
        good = (crc16(data).to_bytes(2, "big") if self.crc else bytes([checksum8(data)])) == check
        if seq != 0xFF - cseq or not good:
            self._purge(now)
            return []
        if seq == (self.expected - 1) & 0xFF and self.expected > 1:
            self.state = State.HEADER  # our ACK was lost: ACK again, keep nothing
            self._deadline = now + self.timers.block
            return [self._send(bytes([ACK]))]
        if seq != self.expected & 0xFF:
            return self._fail(
                ProtocolViolationError(
                    f"got block seq {seq}, expected {self.expected & 0xFF}", step=self._step()
                ),
                now,
            )
        room = self.max_size if self.max_size is not None else self.offset + len(data)
        over = self.offset + len(data) - room
        if over > 0 and data[-over:] != bytes([SUB]) * over:
            return self._fail(
                ProtocolViolationError(f"image exceeds the slot ({self.max_size} bytes)", step=self._step()),
                now,
            )
        self.state = State.STORE
        self._deadline = None
        self._last_len = len(data)
        return [Block(self.expected, self.offset, data)]
