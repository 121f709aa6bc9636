"""OpenR2 (Debian's libopenr2) as the far end of an MFC/R2 trunk, on its own DAHDI channels.

OpenR2 opens and drives its channels itself (CAS through DAHDI's ioctls, MF tones in-band on
the channel file, 20 ms blocks, 4 buffers); OpenR2Peer runs its event loop in a thread and
records what it reports. Calls into the library happen on that thread only (OpenR2 1.3 is not
thread safe): `submit` queues them. Offered calls are accepted and answered; a far-end clear is
acknowledged.

OpenR2Process runs an OpenR2Peer in a child process (forked), so that OpenR2 keeps its 80 ms of
buffers served on the VM's other CPU while our board's Python loop holds this process's GIL:
under TCG a late OpenR2 loop chops its own MF tones. Same interface; what OpenR2 reports is
pushed back over a pipe as it happens.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import queue
import select
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

POLL_MS = 20  # longest sleep between two looks at the channels and OpenR2's timers
MF_THRESHOLD_MS = 40  # as our R2's mf_threshold (ccboard/signalling/r2/variants.py)


def _load() -> tuple[Any, Any]:
    """The compiled peer module (build/vm/<kernel>/openr2-<hash>/, built by run_vm.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    found = sorted(glob.glob(os.path.join(root, "build", "vm", "*", "openr2-*", "_openr2_peer*.so")))
    if not found:
        raise RuntimeError("OpenR2 peer module not built (python -m tests.vm.run_vm builds it)")
    sys.path.insert(0, os.path.dirname(max(found, key=os.path.getmtime)))
    import _openr2_peer  # type: ignore[import-not-found]

    return _openr2_peer.ffi, _openr2_peer.lib


ffi, lib = _load()
_peers: dict[int, OpenR2Peer] = {}  # channel number -> the peer that owns it


@dataclass
class PeerCall:
    """What OpenR2 reported about one call on one channel, in order."""

    events: list[str] = field(default_factory=list)
    ani: str = ""
    dnis: str = ""
    category: str = ""
    disconnect_cause: str = ""
    errors: list[str] = field(default_factory=list)


class OpenR2Peer:
    """An OpenR2 context over `channels` of one variant ('itu', 'cn')."""

    VARIANTS = {"itu": "OR2_VAR_ITU", "cn": "OR2_VAR_CHINA"}

    def __init__(
        self,
        variant: str,
        channels: list[int],
        max_ani: int,
        max_dnis: int,
        debug: bool = False,
        on_change: Callable[[int, PeerCall], None] | None = None,
        on_log: Callable[[str], None] | None = None,
    ):
        self.log: list[str] = []
        self.on_change = on_change  # called on OpenR2's thread after each change to a call
        self.on_log = on_log
        self.calls: dict[int, PeerCall] = {c: PeerCall() for c in channels}
        self._ev = ffi.new("openr2_event_interface_t *")
        self._tr = ffi.new("openr2_transcoder_interface_t *")
        lib.peer_fill_interface(self._ev, self._tr)
        var = getattr(lib, self.VARIANTS[variant])
        self.ctx = lib.openr2_context_new(ffi.NULL, self._ev, self._tr, var, max_ani, max_dnis)
        if self.ctx == ffi.NULL:
            raise RuntimeError(f"openr2_context_new({variant}) failed")
        level = lib.OR2_LOG_ERROR | lib.OR2_LOG_WARNING | lib.OR2_LOG_NOTICE
        if debug:
            level |= lib.OR2_LOG_DEBUG | lib.OR2_LOG_MF_TRACE | lib.OR2_LOG_CAS_TRACE
        lib.openr2_context_set_log_level(self.ctx, level)
        # an MF change counts once it has lasted MF_THRESHOLD_MS (chan_dahdi's mfcr2_mf_threshold):
        # our transmitter in the TCG guest can drop out for tens of ms when the host stalls the VM
        lib.openr2_context_set_mf_threshold(self.ctx, MF_THRESHOLD_MS)
        self.chans: dict[int, Any] = {}
        for c in channels:
            ch = lib.openr2_chan_new(self.ctx, c, ffi.NULL, ffi.NULL)
            if ch == ffi.NULL:
                raise RuntimeError(f"openr2_chan_new({c}) failed (channel busy or not cas?)")
            self.chans[c] = ch
            _peers[c] = self
            lib.openr2_chan_enable_read(ch)
            # OpenR2 1.3.3 indexes a table with -1 in get_tx_cas_string before the first set_idle
            lib.openr2_chan_set_idle(ch)
        self._todo: queue.Queue[Callable[[], object]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="openr2", daemon=True)
        self._thread.start()

    # -- the loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        poll = select.poll()
        for ch in self.chans.values():
            poll.register(lib.openr2_chan_get_fd(ch), select.POLLIN | select.POLLPRI)
        while not self._stop.is_set():
            while True:
                try:
                    self._todo.get_nowait()()
                except queue.Empty:
                    break
            due = lib.openr2_context_get_time_to_next_event(self.ctx)
            poll.poll(POLL_MS if due < 0 else min(due, POLL_MS))
            for ch in self.chans.values():
                lib.openr2_chan_process_event(ch)

    def submit(self, fn: Callable[[], object]) -> None:
        """Run fn on the OpenR2 thread."""
        self._todo.put(fn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        lib.openr2_context_delete(self.ctx)  # closes the channels it opened
        for c in self.chans:
            _peers.pop(c, None)

    # -- commands --------------------------------------------------------------------------------

    def changed(self, channo: int) -> None:
        if self.on_change is not None:
            self.on_change(channo, self.calls[channo])

    def make_call(self, channo: int, ani: str, dnis: str) -> None:
        ch = self.chans[channo]
        self.calls[channo] = PeerCall()
        self.changed(channo)
        cat = lib.OR2_CALLING_PARTY_CATEGORY_NATIONAL_SUBSCRIBER
        self.submit(lambda: lib.openr2_chan_make_call(ch, ani.encode(), dnis.encode(), cat))

    def hang_up(self, channo: int) -> None:
        ch = self.chans[channo]
        self.submit(lambda: lib.openr2_chan_disconnect_call(ch, lib.OR2_CAUSE_NORMAL_CLEARING))

    def cas(self, channo: int) -> tuple[str, str]:
        """(tx, rx) CAS strings as OpenR2 sees them, e.g. ('1001', '1001') when idle."""
        ch = self.chans[channo]
        return (
            ffi.string(lib.openr2_chan_get_tx_cas_string(ch)).decode(),
            ffi.string(lib.openr2_chan_get_rx_cas_string(ch)).decode(),
        )

    def state(self, channo: int) -> str:
        ch = self.chans[channo]
        return ffi.string(lib.openr2_chan_get_r2_state_string(ch)).decode()


# -- callbacks (OpenR2's thread) -------------------------------------------------------------------


def _call(chan: Any) -> tuple[OpenR2Peer, int, PeerCall]:
    c = lib.openr2_chan_get_number(chan)
    peer = _peers[c]
    return peer, c, peer.calls.setdefault(c, PeerCall())


@ffi.def_extern()
def peer_on_call_init(chan: Any) -> None:
    peer, c, _ = _call(chan)
    peer.calls[c] = PeerCall(events=["init"])
    peer.changed(c)


@ffi.def_extern()
def peer_on_call_offered(chan: Any, ani: Any, dnis: Any, category: int) -> None:
    peer, c, call = _call(chan)
    call.events.append("offered")
    call.ani = ffi.string(ani).decode() if ani != ffi.NULL else ""
    call.dnis = ffi.string(dnis).decode() if dnis != ffi.NULL else ""
    call.category = ffi.string(lib.openr2_proto_get_category_string(category)).decode()
    peer.changed(c)
    peer.submit(lambda: lib.openr2_chan_accept_call(chan, lib.OR2_CALL_NO_CHARGE))


@ffi.def_extern()
def peer_on_call_accepted(chan: Any, mode: int) -> None:
    peer, c, call = _call(chan)
    call.events.append("accepted")
    peer.changed(c)
    if "offered" in call.events:  # incoming: answer it
        peer.submit(lambda: lib.openr2_chan_answer_call(chan))


@ffi.def_extern()
def peer_on_call_answered(chan: Any) -> None:
    _note(chan, "answered")


@ffi.def_extern()
def peer_on_call_disconnect(chan: Any, cause: int) -> None:
    peer, c, call = _call(chan)
    call.events.append("disconnect")
    call.disconnect_cause = ffi.string(lib.openr2_proto_get_disconnect_string(cause)).decode()
    peer.changed(c)
    peer.submit(lambda: lib.openr2_chan_disconnect_call(chan, lib.OR2_CAUSE_NORMAL_CLEARING))


@ffi.def_extern()
def peer_on_call_end(chan: Any) -> None:
    _note(chan, "end")


@ffi.def_extern()
def peer_on_os_error(chan: Any, err: int) -> None:
    _note(chan, error=f"os error {err} ({os.strerror(err)})")


@ffi.def_extern()
def peer_on_protocol_error(chan: Any, error: int) -> None:
    _note(chan, error="protocol error: " + ffi.string(lib.openr2_proto_get_error(error)).decode())


@ffi.def_extern()
def peer_on_line_idle(chan: Any) -> None:
    _note(chan, "line-idle")


@ffi.def_extern()
def peer_on_line_blocked(chan: Any) -> None:
    _note(chan, "line-blocked")


@ffi.def_extern()
def peer_on_log(line: Any) -> None:
    text = ffi.string(line).decode(errors="replace").rstrip()
    for p in set(_peers.values()):
        p.log.append(text)
        if p.on_log is not None:
            p.on_log(text)


def _note(chan: Any, event: str = "", error: str = "") -> None:
    peer, c, call = _call(chan)
    if event:
        call.events.append(event)
    if error:
        call.errors.append(error)
    peer.changed(c)


# -- the peer in a child process -------------------------------------------------------------------


def _close_inherited_channels() -> None:
    """A forked child holds copies of the parent's DAHDI files; DAHDI lets one file hold a
    channel, so they would keep the parent's channels busy after it closes them."""
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("/dev/dahdi/"):
                os.close(int(name))
        except OSError:
            pass


def _serve(cmd: Connection, push: Connection, args: tuple[Any, ...]) -> None:
    """The child: an OpenR2Peer; commands in on `cmd`, call changes and log lines out on `push`."""
    _close_inherited_channels()
    try:
        peer = OpenR2Peer(
            *args,
            on_change=lambda c, call: push.send(("call", c, call)),
            on_log=lambda text: push.send(("log", 0, text)),
        )
    except Exception as exc:  # reported to the parent, which raises it
        cmd.send(("error", repr(exc)))
        return
    cmd.send(("ok", None))
    while True:
        op, a = cmd.recv()
        try:
            if op == "close":
                peer.close()
                cmd.send(("ok", None))
                return
            result = getattr(peer, op)(*a)
        except Exception as exc:
            cmd.send(("error", f"{op}{a}: {exc!r}"))
        else:
            cmd.send(("ok", result))


class OpenR2Process:
    """OpenR2Peer's interface, the peer running in a forked child process."""

    def __init__(
        self,
        variant: str,
        channels: list[int],
        max_ani: int,
        max_dnis: int,
        debug: bool = False,
    ) -> None:
        ctx = multiprocessing.get_context("fork")
        self._cmd, child_cmd = ctx.Pipe()
        self._push, child_push = ctx.Pipe(duplex=False)
        self._calls: dict[int, PeerCall] = {c: PeerCall() for c in channels}
        self._log: list[str] = []
        self._proc = ctx.Process(
            target=_serve,
            args=(child_cmd, child_push, (variant, channels, max_ani, max_dnis, debug)),
            daemon=True,
        )
        self._proc.start()
        child_cmd.close()  # the child's ends: closed here so that its exit reads as EOF
        child_push.close()
        self._ask("start")

    def _ask(self, op: str, *args: Any) -> Any:
        if op != "start":
            self._cmd.send((op, args))
        if not self._cmd.poll(10.0):
            raise RuntimeError(f"OpenR2 child: no answer to {op} in 10 s")
        status, value = self._cmd.recv()
        if status != "ok":
            raise RuntimeError(f"OpenR2 child: {value}")
        return value

    def _drain(self) -> None:
        while self._push.poll(0):
            try:
                kind, c, value = self._push.recv()
            except EOFError:  # the child has exited
                return
            if kind == "call":
                self._calls[c] = value
            else:
                self._log.append(value)

    @property
    def calls(self) -> dict[int, PeerCall]:
        self._drain()
        return self._calls

    @property
    def log(self) -> list[str]:
        self._drain()
        return self._log

    def make_call(self, channo: int, ani: str, dnis: str) -> None:
        self._ask("make_call", channo, ani, dnis)

    def hang_up(self, channo: int) -> None:
        self._ask("hang_up", channo)

    def cas(self, channo: int) -> tuple[str, str]:
        return tuple(self._ask("cas", channo))  # type: ignore[return-value]

    def state(self, channo: int) -> str:
        return str(self._ask("state", channo))

    def close(self) -> None:
        try:
            self._ask("close")
        finally:
            self._proc.join(5.0)
            if self._proc.is_alive():
                self._proc.kill()
            self._drain()
