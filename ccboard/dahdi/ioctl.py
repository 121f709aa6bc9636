"""Typed wrappers over DAHDI's channel ioctls and audio read/write.

Every call goes through one `_check(rc, op, channel)`: a failure raises DeviceError with the
errno kept and a message naming the channel and the ioctl, e.g.
"channel 5: DAHDI_SETTXBITS failed: [Errno 22] Invalid argument".

Usage (one open file per channel, as DAHDI wants it):
    dev = ChannelDevice.open(5)          # /dev/dahdi/channel + DAHDI_SPECIFY(5)
    dev.set_blocksize(16)                # octets per read/write (the driver takes 16..DAHDI_MAX_BLOCKSIZE)
    p = dev.get_params()                 # spanno, chanpos, sigtype, curlaw, ...
    dev.write(octets); dev.readinto(buf)
    ev = dev.get_event()                 # DAHDI_EVENT_* (0 = none)

A pending event makes read()/write() fail with errno ELAST (500): drain get_event() first.
"""

from __future__ import annotations

import errno as _errno
import os
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ccboard.dahdi._dahdi import ffi, lib
from ccboard.errors import DeviceError

CHANNEL_DEVICE = "/dev/dahdi/channel"
CTL_DEVICE = "/dev/dahdi/ctl"


def _check(rc: int, op: str, channel: int) -> int:
    """Raise DeviceError (errno kept, channel and op named) when a native call returned < 0."""
    if rc < 0:
        err = ffi.errno
        raise DeviceError(
            f"channel {channel}: {op} failed: [Errno {err}] {os.strerror(err)}",
            errno=err,
            channel=channel,
            op=op,
        )
    return rc


def _os_error(exc: OSError, op: str, channel: int, what: str = "") -> DeviceError:
    err = exc.errno or 0
    return DeviceError(
        f"channel {channel}: {op}{what} failed: [Errno {err}] {os.strerror(err)}",
        errno=err,
        channel=channel,
        op=op,
    )


def _text(buf: Any) -> str:
    return str(ffi.string(buf).decode("latin-1"))


@dataclass(frozen=True)
class Params:
    """struct dahdi_params as DAHDI_GET_PARAMS returns it (times in ms)."""

    channo: int
    spanno: int
    chanpos: int
    sigtype: int
    sigcap: int
    rxisoffhook: bool
    rxbits: int
    txbits: int
    curlaw: int
    idlebits: int
    name: str
    chan_alarms: int


@dataclass(frozen=True)
class BufInfo:
    """struct dahdi_bufferinfo: the channel's driver-side buffers (sizes in octets)."""

    txbufpolicy: int  # DAHDI_POLICY_*: when transmission starts after an underrun
    numbufs: int  # buffers each way
    bufsize: int  # octets per buffer = the block size of a read/write


@dataclass(frozen=True)
class SpanInfo:
    """struct dahdi_spaninfo as DAHDI_SPANSTAT returns it (counters cumulative)."""

    spanno: int
    name: str
    desc: str
    alarms: int
    bpvcount: int
    crc4count: int
    ebitcount: int
    fascount: int
    irqmisses: int
    syncsrc: int
    numchans: int
    totalchans: int
    totalspans: int
    lineconfig: int
    spantype: str
    location: str
    manufacturer: str
    devicetype: str


class ChannelDevice:
    """One open DAHDI channel file: the fd, the channel number it was specified to, the ioctls."""

    def __init__(self, fd: int, channel: int) -> None:
        self.fd = fd
        self.channel = channel
        self._int = ffi.new("int *")

    @classmethod
    def open(cls, channel: int, path: str = CHANNEL_DEVICE, nonblock: bool = True) -> ChannelDevice:
        """Open path (the generic channel selector) and DAHDI_SPECIFY the channel on it."""
        flags = os.O_RDWR | (os.O_NONBLOCK if nonblock else 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise _os_error(exc, "open", channel, f" {path}") from None
        dev = cls(fd, channel)
        try:
            dev.specify(channel)
        except DeviceError:
            os.close(fd)
            raise
        return dev

    # -- plumbing -----------------------------------------------------------------------------

    def _ioctl_int_in(self, request: int, value: int, op: str) -> None:
        self._int[0] = value
        _check(lib.ccb_ioctl(self.fd, request, self._int), op, self.channel)

    def _ioctl_int_out(self, request: int, op: str) -> int:
        self._int[0] = 0
        _check(lib.ccb_ioctl(self.fd, request, self._int), op, self.channel)
        return int(self._int[0])

    # -- ioctls -------------------------------------------------------------------------------

    def specify(self, channel: int) -> None:
        """DAHDI_SPECIFY: bind this file to channel (must come before any other ioctl)."""
        self._ioctl_int_in(lib.DAHDI_SPECIFY, channel, "DAHDI_SPECIFY")

    def set_blocksize(self, octets: int) -> None:
        """DAHDI_SET_BLOCKSIZE: octets per read/write (8 per ms; the driver refuses fewer than 16)."""
        self._ioctl_int_in(lib.DAHDI_SET_BLOCKSIZE, octets, "DAHDI_SET_BLOCKSIZE")

    def get_blocksize(self) -> int:
        """DAHDI_GET_BLOCKSIZE, in octets."""
        return self._ioctl_int_out(lib.DAHDI_GET_BLOCKSIZE, "DAHDI_GET_BLOCKSIZE")

    def get_bufinfo(self) -> BufInfo:
        """DAHDI_GET_BUFINFO (the driver reports no fill levels: readbufs/writebufs are -1)."""
        b = ffi.new("struct dahdi_bufferinfo *")
        _check(lib.ccb_ioctl(self.fd, lib.DAHDI_GET_BUFINFO, b), "DAHDI_GET_BUFINFO", self.channel)
        return BufInfo(txbufpolicy=b.txbufpolicy, numbufs=b.numbufs, bufsize=b.bufsize)

    def set_bufinfo(self, numbufs: int, bufsize: int, txbufpolicy: int) -> None:
        """DAHDI_SET_BUFINFO: numbufs buffers of bufsize octets each way (also the block size).

        The driver wants 16 <= bufsize <= DAHDI_MAX_BLOCKSIZE and numbufs * bufsize <=
        DAHDI_MAX_BUF_SPACE, and caps numbufs at DAHDI_MAX_NUM_BUFS. Received audio is always
        handed up at once; txbufpolicy DAHDI_POLICY_HALF_FULL holds transmission back until half
        the buffers are written (again after each underrun): a jitter cushion for a late writer.
        """
        b = ffi.new("struct dahdi_bufferinfo *")
        b.txbufpolicy = txbufpolicy
        b.rxbufpolicy = lib.DAHDI_POLICY_IMMEDIATE
        b.numbufs = numbufs
        b.bufsize = bufsize
        _check(lib.ccb_ioctl(self.fd, lib.DAHDI_SET_BUFINFO, b), "DAHDI_SET_BUFINFO", self.channel)

    def flush(self, what: int) -> None:
        """DAHDI_FLUSH with DAHDI_FLUSH_{READ,WRITE,BOTH,EVENT,ALL}."""
        self._ioctl_int_in(lib.DAHDI_FLUSH, what, "DAHDI_FLUSH")

    def get_params(self) -> Params:
        """DAHDI_GET_PARAMS for this file's channel (channo 0 = the specified one)."""
        p = ffi.new("struct dahdi_params *")
        _check(lib.ccb_ioctl(self.fd, lib.DAHDI_GET_PARAMS, p), "DAHDI_GET_PARAMS", self.channel)
        return Params(
            channo=p.channo,
            spanno=p.spanno,
            chanpos=p.chanpos,
            sigtype=p.sigtype & 0xFFFFFFFF,
            sigcap=p.sigcap & 0xFFFFFFFF,
            rxisoffhook=bool(p.rxisoffhook),
            rxbits=p.rxbits,
            txbits=p.txbits,
            curlaw=p.curlaw,
            idlebits=p.idlebits,
            name=_text(p.name),
            chan_alarms=p.chan_alarms,
        )

    def set_params(self, **timings: int) -> None:
        """DAHDI_SET_PARAMS: read the current params, change the named timing fields (ms), write back."""
        p = ffi.new("struct dahdi_params *")
        _check(lib.ccb_ioctl(self.fd, lib.DAHDI_GET_PARAMS, p), "DAHDI_GET_PARAMS", self.channel)
        allowed = {
            "prewinktime",
            "preflashtime",
            "winktime",
            "flashtime",
            "starttime",
            "rxwinktime",
            "rxflashtime",
            "debouncetime",
            "pulsebreaktime",
            "pulsemaketime",
            "pulseaftertime",
        }
        for key, value in timings.items():
            if key not in allowed:
                raise ValueError(
                    f"set_params: {key!r} is not a settable timing ({', '.join(sorted(allowed))})"
                )
            setattr(p, key, value)
        _check(lib.ccb_ioctl(self.fd, lib.DAHDI_SET_PARAMS, p), "DAHDI_SET_PARAMS", self.channel)

    def spanstat(self, spanno: int = 0) -> SpanInfo:
        """DAHDI_SPANSTAT for span spanno (0 = this channel's span)."""
        s = ffi.new("struct dahdi_spaninfo *")
        s.spanno = spanno
        _check(lib.ccb_ioctl(self.fd, lib.DAHDI_SPANSTAT, s), "DAHDI_SPANSTAT", self.channel)
        return SpanInfo(
            spanno=s.spanno,
            name=_text(s.name),
            desc=_text(s.desc),
            alarms=s.alarms,
            bpvcount=s.bpvcount,
            crc4count=s.crc4count,
            ebitcount=s.ebitcount,
            fascount=s.fascount,
            irqmisses=s.irqmisses,
            syncsrc=s.syncsrc,
            numchans=s.numchans,
            totalchans=s.totalchans,
            totalspans=s.totalspans,
            lineconfig=s.lineconfig,
            spantype=_text(s.spantype),
            location=_text(s.location),
            manufacturer=_text(s.manufacturer),
            devicetype=_text(s.devicetype),
        )

    def get_event(self) -> int:
        """DAHDI_GETEVENT: the next pending DAHDI_EVENT_* (DAHDI_EVENT_NONE = 0 when none)."""
        return self._ioctl_int_out(lib.DAHDI_GETEVENT, "DAHDI_GETEVENT")

    def hook(self, op: int) -> None:
        """DAHDI_HOOK with DAHDI_{ONHOOK,OFFHOOK,WINK,FLASH,START,RING,RINGOFF}."""
        self._ioctl_int_in(lib.DAHDI_HOOK, op, "DAHDI_HOOK")

    def set_tx_bits(self, bits: int) -> None:
        """DAHDI_SETTXBITS: CAS ABCD (A = 8) to send."""
        self._ioctl_int_in(lib.DAHDI_SETTXBITS, bits, "DAHDI_SETTXBITS")

    def get_rx_bits(self) -> int:
        """DAHDI_GETRXBITS: CAS ABCD received (low 4 bits; some drivers set higher bits)."""
        return self._ioctl_int_out(lib.DAHDI_GETRXBITS, "DAHDI_GETRXBITS") & 0xF

    def set_law(self, law: int) -> None:
        """DAHDI_SETLAW: DAHDI_LAW_{DEFAULT,MULAW,ALAW} until the file is closed."""
        self._ioctl_int_in(lib.DAHDI_SETLAW, law, "DAHDI_SETLAW")

    # -- audio --------------------------------------------------------------------------------

    def readinto(self, buf: Any) -> int:
        """Read line octets into buf (a writable buffer); returns the count, 0 when none ready."""
        try:
            return os.readv(self.fd, [buf])
        except BlockingIOError:
            return 0
        except OSError as exc:
            raise _os_error(exc, "read", self.channel) from None

    def write(self, data: Any) -> int:
        """Write line octets; returns the count written, 0 when the driver's buffers are full."""
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            raise _os_error(exc, "write", self.channel) from None

    def close(self) -> None:
        """Close the file (DAHDI resets the law and blocksize)."""
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    def __enter__(self) -> ChannelDevice:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


ELAST = int(lib.ELAST)  # errno of read/write while an event is pending
EAGAIN = _errno.EAGAIN
