"""`ccfw flash`: send an image to a board's serial bootloader (XMODEM or STM32 AN3155).

The protocol logic is sans-IO (ccfw.xmodem, ccfw.stm32); this module is the thin driver: it opens
the port with pyserial (exclusive), moves bytes between the port and the state machine with
blocking reads (termios VTIME) and the machine's deadlines, draws a rich progress bar and turns
failures into one-line errors that name the port and the step. STM32 block writes and read-backs
run as batches (Stm32Host.begin_batch): the next command goes out with the previous reply.

Retries: every failed attempt is retried after a backoff of 0.2 s, 0.4 s, 0.8 s ... (at most 2 s).
  stm32   resumes: the link is resynchronised (0x7F, AN3155's NACK path) and the write goes on
          from the block that failed; erased sectors stay erased. Read-back verify (default)
          re-reads every block after the write; GO to the flash base then asks the board to run it.
  xmodem  cannot resume (no offsets in the protocol): the port is closed and reopened (boards
          with DTR on reset restart their bootloader) and the whole image is sent again.
A NACK/NAK storm on one block, a cancel from the board or a wrong chip is not retried.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import select
import sys
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ccfw import stm32, xmodem
from ccfw.errors import (
    FirmwareError,
    LinkError,
    NakStormError,
    PortBusyError,
    PortMissingError,
    Stm32NackError,
    TransferCancelledError,
    VerifyError,
    WrongBoardError,
)

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


# --- the link ------------------------------------------------------------------------------------


class Link:
    """Bytes to and from a file descriptor; subclasses own how it is opened."""

    name = "<link>"
    fd = -1

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # one pass for a frame; more only when the port's buffer is full
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                select.select([], [self.fd], [], 1.0)
                continue
            except OSError as e:
                raise PortMissingError(f"write failed: {e.strerror}", port=self.name) from None
            if n == len(view):
                return
            view = view[n:]

    def read_some(self, timeout: float) -> bytes:
        """What arrives within `timeout` seconds (b"" if nothing)."""
        r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not r:
            return b""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return b""
        except OSError as e:
            raise PortMissingError(f"read failed: {e.strerror}", port=self.name) from None
        return data

    def flush_input(self) -> None:
        while self.read_some(0):
            pass

    def reopen(self) -> None:
        """Close and open again (a board with DTR on its reset restarts); default: flush only."""
        self.flush_input()

    def close(self) -> None:
        pass


class FdLink(Link):
    """An already open descriptor (a pty master in the tests)."""

    def __init__(self, fd: int, name: str = "<fd>") -> None:
        self.fd = fd
        self.name = name
        os.set_blocking(fd, False)


_VTIME_DS = 1  # deciseconds a blocking read waits for a first byte (termios VTIME)


class SerialLink(Link):
    """A serial port opened with pyserial: raw 8N1, exclusive (flock and lockf, as stm32flash)."""

    def __init__(self, port: str, baud: int = 115200) -> None:
        self.name = port
        self.baud = baud
        self._ser: Any = None
        self._open()

    def _open(self) -> None:
        import serial  # pyserial

        if not os.path.exists(self.name):
            raise PortMissingError("no such port", port=self.name)
        try:
            ser = serial.Serial(self.name, self.baud, timeout=0, write_timeout=10, exclusive=True)
        except serial.SerialException as e:
            code = getattr(e, "errno", None)
            text = str(e)
            if code == errno.EBUSY or "lock" in text.lower():
                raise PortBusyError("in use by another program (it holds the lock)", port=self.name) from None
            if code == errno.ENOENT:
                raise PortMissingError("no such port", port=self.name) from None
            raise PortMissingError(f"cannot open: {text}", port=self.name) from None
        fd = ser.fd
        assert fd is not None  # an open pyserial port has its descriptor
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # stm32flash locks this way
        except OSError:
            ser.close()
            raise PortBusyError("in use by another program (it holds a lockf lock)", port=self.name) from None
        self._ser = ser
        self.fd = fd
        # Reads block in the kernel (VMIN 0, VTIME 0.1 s) as stm32flash's do: one read() per
        # wake-up instead of select() then read(), and no busy polling; see read_some.
        try:
            attrs = termios.tcgetattr(fd)
            attrs[6][termios.VMIN] = 0
            attrs[6][termios.VTIME] = _VTIME_DS
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        except termios.error as e:
            ser.close()
            raise PortMissingError(f"cannot set up the line: {e.args[-1]}", port=self.name) from None
        os.set_blocking(fd, True)
        self.flush_input()

    def read_some(self, timeout: float) -> bytes:
        """What arrives within `timeout` seconds (b"" if nothing), up to 0.1 s late."""
        if timeout < _VTIME_DS / 10:
            return super().read_some(timeout)
        end = time.monotonic() + timeout
        while True:
            try:
                data = os.read(self.fd, 65536)  # returns at the first byte, or after VTIME
            except OSError as e:
                raise PortMissingError(f"read failed: {e.strerror}", port=self.name) from None
            if data or time.monotonic() >= end:
                return data

    def reopen(self) -> None:
        self.close()
        self._open()

    def close(self) -> None:
        if self._ser is not None:
            self._ser.close()
            self._ser = None
            self.fd = -1


# --- driving the sans-IO machines ----------------------------------------------------------------


def _pump(link: Link, machine: Any, first: list[Any], finished: Callable[[Any], bool]) -> Any:
    """Send/receive until `finished(action)` is true for an action; returns that action."""
    todo = list(first)
    while True:
        for a in todo:
            if isinstance(a, (xmodem.Send, stm32.Send)):
                link.write(a.data)
            elif finished(a):
                return a
        todo = []
        dl = machine.next_deadline()
        now = time.monotonic()
        try:
            data = link.read_some(1.0 if dl is None else dl - now)
        except PortMissingError:
            if not hasattr(machine, "connection_lost"):
                raise
            todo = machine.connection_lost(time.monotonic())  # a hangup is an input, not a crash
            if not todo:
                raise
            continue
        now = time.monotonic()
        if data:
            todo = machine.receive_data(data, now)
        elif dl is not None and now >= dl:
            todo = machine.on_timeout(now)


@dataclass
class Stats:
    """What a transfer cost: payload bytes, wire bytes both ways, seconds, retries."""

    payload: int = 0
    sent: int = 0
    received: int = 0
    resent: int = 0  # of `sent`: blocks sent again after a NAK or a timeout
    seconds: float = 0.0
    attempts: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def wire(self) -> int:
        return self.sent + self.received

    @property
    def efficiency(self) -> float:
        """Payload bytes / wire bytes (both directions)."""
        return self.payload / self.wire if self.wire else 0.0


def _backoff(attempt: int) -> float:
    return min(2.0, 0.2 * 2.0 ** (attempt - 1))


def xmodem_send(
    link: Link,
    data: bytes,
    *,
    one_k: bool = True,
    retries: int = 3,
    block_retries: int = 10,
    timers: xmodem.SenderTimers | None = None,
    progress: Progress | None = None,
) -> Stats:
    """Send `data` by XMODEM (1K when the receiver asks for CRC and `one_k`); restart on failure."""
    stats = Stats(payload=len(data))
    t0 = time.monotonic()
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(_backoff(attempt))
            link.reopen()
            stats.attempts += 1
        tx = xmodem.XmodemSender(data, one_k=one_k, retries=block_retries, timers=timers)
        last = [0]

        def finished(a: Any, tx: xmodem.XmodemSender = tx, last: list[int] = last) -> bool:
            if progress is not None and tx.offset != last[0]:
                last[0] = tx.offset
                progress(tx.offset, len(data))
            return isinstance(a, (xmodem.Done, xmodem.Failed))

        end = _pump(link, tx, tx.start(time.monotonic()), finished)
        stats.sent += tx.bytes_sent
        stats.resent += tx.bytes_resent
        stats.received += tx.bytes_received
        if isinstance(end, xmodem.Done):
            if progress is not None:
                progress(len(data), len(data))
            stats.seconds = time.monotonic() - t0
            return stats
        err = end.error.at(link.name)
        stats.notes.append(str(err))
        if isinstance(err, TransferCancelledError) or attempt == retries:
            if isinstance(err, TransferCancelledError):
                raise WrongBoardError(
                    "the board cancelled the transfer (CAN CAN): it refused the image "
                    "(another board or hardware revision, or it does not fit); it keeps its previous image",
                    port=link.name,
                    step=err.step,
                )
            raise err
    raise AssertionError("unreachable")


class Stm32Session:
    """An AN3155 host on a link: `call(request)` returns the reply value or raises LinkError."""

    def __init__(self, link: Link, timeouts: stm32.Timeouts | None = None) -> None:
        self.link = link
        self.host = stm32.Stm32Host(timeouts)

    def call(self, request: stm32.Request) -> Any:
        out: list[Any] = []
        done, err = self.run_batch([request], lambda _i, value: out.append(value))
        if err is not None:
            raise err
        return out[0]

    def run_batch(
        self, requests: Sequence[stm32.Request], on_reply: Callable[[int, Any], None]
    ) -> tuple[int, LinkError | None]:
        """Run `requests` back to back (Stm32Host.begin_batch); `on_reply(index, value)` for each
        reply. Returns (replies, None) or, at the first failure, (replies so far, its error).

        This loop is the round trip's critical path (about 6,150 trips per 256 KiB flash+verify
        over a pty, where a trip costs tens of microseconds): the machine hands the next request's
        first frame together with the previous reply, and once a frame is written the loop goes
        straight to the blocking read, as stm32flash does. Work left between the write and the
        read keeps this CPU busy when the board wakes up, which (measured on a 2-vCPU VM) tends to
        push the board onto the other CPU, and cross-CPU wake-ups cost several times more."""
        host, link = self.host, self.link
        acts = host.begin_batch(requests, time.monotonic())
        done = 0
        try:
            while True:
                frame = b""
                for a in acts:
                    if type(a) is stm32.Send:
                        frame = frame + a.data if frame else a.data
                    elif type(a) is stm32.Reply:
                        on_reply(done, a.value)
                        done += 1
                    elif type(a) is stm32.Failed:
                        return done, a.error.at(link.name)
                dl = host.next_deadline()
                if dl is None:  # no request in flight: the batch is over
                    return done, None
                if frame:
                    link.write(frame)
                data = link.read_some(dl - time.monotonic())
                now = time.monotonic()
                if data:
                    acts = host.receive_data(data, now)
                elif now >= dl:
                    acts = host.on_timeout(now)
                else:
                    acts = []
        except BaseException:
            host.abandon()  # on_reply refused a reply, or the port went away
            raise

    def resync(self) -> None:
        """Back to a known state after a lost or garbled frame: drain, then 0x7F (ACK or NACK)."""
        time.sleep(0.05)
        self.link.flush_input()
        self.call(stm32.Init())


def _chip_for(pid: int, port: str) -> stm32.Chip:
    for chip in stm32.CHIPS.values():
        if chip.pid == pid:
            return chip
    known = ", ".join(f"0x{c.pid:03X} {c.name}" for c in stm32.CHIPS.values())
    raise WrongBoardError(
        f"the bootloader reports chip 0x{pid:03X}; ccfw knows {known}", port=port, step="get-id"
    )


def stm32_flash(
    link: Link,
    data: bytes,
    *,
    address: int | None = None,
    verify: bool = True,
    go: bool = True,
    retries: int = 3,
    timeouts: stm32.Timeouts | None = None,
    progress: Progress | None = None,
) -> Stats:
    """Erase, write (256-byte blocks), read back and GO; resumes from the failed block on retry."""
    t0 = time.monotonic()
    s = Stm32Session(link, timeouts)
    stats = Stats(payload=len(data))
    _with_retries(lambda: s.call(stm32.Init()), s, retries, stats, resync=False)
    info: stm32.BootloaderInfo = _with_retries(lambda: s.call(stm32.Get()), s, retries, stats)
    pid: int = _with_retries(lambda: s.call(stm32.GetId()), s, retries, stats)
    chip = _chip_for(pid, link.name)
    base = chip.flash_base if address is None else address
    off = base - chip.flash_base
    if not 0 <= off or off + len(data) > chip.flash_size or not data:
        raise WrongBoardError(
            f"{len(data)} bytes at 0x{base:08X} do not fit {chip.name} flash "
            f"0x{chip.flash_base:08X}+{chip.flash_size}",
            port=link.name,
            step="plan",
        )
    pages = tuple(chip.sectors_for(off, len(data)))
    if stm32.Command.EXTENDED_ERASE in info.commands:
        erase: stm32.Request = stm32.ExtendedErase(pages=pages)
    elif stm32.Command.ERASE in info.commands:
        erase = stm32.Erase(pages=pages)
    else:
        raise WrongBoardError("the bootloader offers no erase command", port=link.name, step="get")
    _with_retries(lambda: s.call(erase), s, retries, stats)
    total = len(data) * (2 if verify else 1)
    offsets = range(0, len(data), stm32.MAX_BLOCK)
    writes = [stm32.WriteMemory(base + pos, data[pos : pos + stm32.MAX_BLOCK]) for pos in offsets]

    def written(i: int, _value: object) -> None:
        if progress is not None:
            progress(min(len(data), (i + 1) * stm32.MAX_BLOCK), total)

    _batch_with_retries(s, writes, written, retries, stats)
    if verify:
        reads = [stm32.ReadMemory(w.address, len(w.data)) for w in writes]

        def read_back(i: int, got: bytes) -> None:
            want = writes[i].data
            if got != want:
                k = next(k for k in range(len(want)) if got[k] != want[k])
                raise VerifyError(
                    f"read back 0x{got[k]:02X} at 0x{writes[i].address + k:08X}, wrote 0x{want[k]:02X}; "
                    "the board keeps its previous image (no GO sent)",
                    port=link.name,
                    step="verify",
                )
            if progress is not None:
                progress(len(data) + min(len(data), (i + 1) * stm32.MAX_BLOCK), total)

        _batch_with_retries(s, reads, read_back, retries, stats)
    if go:
        try:
            s.call(stm32.Go(chip.flash_base))
        except Stm32NackError:
            raise WrongBoardError(
                "the board refused to run the new image (GO answered NACK): its CRC or container "
                "header check failed; it keeps its previous image",
                port=link.name,
                step="go",
            ) from None
    stats.sent, stats.received = s.host.bytes_sent, s.host.bytes_received
    stats.seconds = time.monotonic() - t0
    return stats


def _shifted(on_reply: Callable[[int, Any], None], start: int, i: int, value: Any) -> None:
    on_reply(start + i, value)


def _batch_with_retries(
    s: Stm32Session,
    requests: Sequence[stm32.Request],
    on_reply: Callable[[int, Any], None],
    retries: int,
    stats: Stats,
) -> None:
    """Run a batch; on NACK or silence resynchronise and go on from the request that failed, which
    gets `retries` more tries (as `_with_retries` gives a single request)."""
    start = 0
    attempt = naks = 0
    while True:
        if attempt:
            time.sleep(_backoff(attempt))
            stats.attempts += 1
            try:
                s.resync()
            except LinkError as e:
                stats.notes.append(str(e))
                if attempt == retries:
                    raise
                attempt += 1
                continue
        done, err = s.run_batch(requests[start:], partial(_shifted, on_reply, start))
        if err is None:
            return
        if done:
            start += done
            attempt = naks = 0  # the failing request is a new one: it gets its own tries
        stats.notes.append(str(err))
        if isinstance(err, Stm32NackError):
            naks += 1
            if attempt == retries:
                raise NakStormError(
                    f"refused {naks} times in a row (NACK): {err.message}", port=err.port, step=err.step
                ) from None
        elif attempt == retries:
            raise err
        attempt += 1


def _with_retries(
    fn: Callable[[], Any], s: Stm32Session, retries: int, stats: Stats, resync: bool = True
) -> Any:
    """Run one AN3155 request; on NACK or silence resynchronise and try the same request again."""
    naks = 0
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(_backoff(attempt))
            stats.attempts += 1
            if resync:
                try:
                    s.resync()
                except LinkError as e:
                    stats.notes.append(str(e))
                    if attempt == retries:
                        raise
                    continue
        try:
            return fn()
        except Stm32NackError as e:
            naks += 1
            stats.notes.append(str(e))
            if attempt == retries:
                raise NakStormError(
                    f"refused {naks} times in a row (NACK): {e.message}", port=e.port, step=e.step
                ) from None
        except LinkError as e:
            stats.notes.append(str(e))
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


# --- the command -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlashImage:
    data: bytes
    address: int | None  # None: the flash base
    kind: str  # "container", "ihex", "srec", "bin"


def load_image(path: str, board: str | None = None, hw: int | None = None) -> FlashImage:
    """The bytes to flash: a ccfw container as is (checked, and against --board/--hw), else an
    image file flattened from its lowest address (gaps 0xFF)."""
    from ccfw import container, image

    with open(path, "rb") as f:
        head = f.read(4)
    if container.is_container(head):
        c = container.load(path)
        if board is not None and hw is not None:
            try:
                c.check_compatible(board, hw)
            except container.CompatibilityError as e:
                raise WrongBoardError(f"{e.file}: field {e.field}: {e.detail}", step="check image") from None
        return FlashImage(c.to_bytes(), None, "container")
    img = image.load(path)
    fmt = img.format or "bin"
    return FlashImage(img.to_bytes(), None if fmt == "bin" else img.min_address, fmt)


def run(args: argparse.Namespace) -> int:
    """`ccfw flash IMAGE --port PORT ...`; returns the exit status (0 ok, 2 error)."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    err = Console(stderr=True, highlight=False)
    img = load_image(args.image, args.board, args.hw)
    link = SerialLink(args.port, args.baud)
    bar = Progress(
        TextColumn(f"{args.protocol} {os.path.basename(args.image)}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    try:
        with bar:
            task = bar.add_task("flash", total=len(img.data))

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if args.protocol == "stm32":
                stats = stm32_flash(
                    link,
                    img.data,
                    address=img.address,
                    verify=not args.no_verify,
                    retries=args.retries,
                    progress=progress,
                )
            else:
                stats = xmodem_send(link, img.data, retries=args.retries, progress=progress)
    finally:
        link.close()
    verified = " verified," if args.protocol == "stm32" and not args.no_verify else ""
    print(
        f"flashed {len(img.data)} bytes ({img.kind}) to {args.port} by {args.protocol}:{verified} "
        f"{stats.seconds:.2f} s, {stats.attempts - 1} retries, payload/wire {stats.efficiency:.3f}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (the same options as `ccfw flash`), for scripts and tests."""
    p = argparse.ArgumentParser(prog="python -m ccfw.flash")
    p.add_argument("image")
    p.add_argument("--port", required=True)
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--protocol", choices=("xmodem", "stm32"), default="xmodem")
    p.add_argument("--board")
    p.add_argument("--hw", type=int)
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--no-verify", action="store_true")
    args = p.parse_args(argv)
    try:
        return run(args)
    except FirmwareError as e:
        print(f"ccfw: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
