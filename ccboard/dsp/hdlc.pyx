"""HDLC framing (Q.921 flags, bit stuffing, aborts, FCS-16) over numpy octet buffers.

See hdlc.pyi for the API and native/include/ccboard/hdlc.h for the method and its figures.
Arguments are checked in Python; the C calls run without the GIL on validated pointers.
Frames are rare, so each one becomes a Python HdlcFrame holding a bytes object; bits never do.
"""

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport calloc, free

from collections import namedtuple

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_hdlc as C
from ccboard.dsp._bind cimport (
    check_channel_count, check_channel_id, check_channel_ids, check_rc, row_index, state_bytes
)
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import check_array, check_out
from ccboard.errors import DSPArgumentError, DSPError

cdef extern from "ccboard/private/hdlc.h":
    pass

cnp.import_array()

OK = C.CC_HDLC_OK
BAD_FCS = C.CC_HDLC_BAD_FCS
ABORT = C.CC_HDLC_ABORT
TOO_LONG = C.CC_HDLC_TOO_LONG
TOO_SHORT = C.CC_HDLC_TOO_SHORT
NON_OCTET = C.CC_HDLC_NON_OCTET
STATUS_NAMES = {OK: "ok", BAD_FCS: "bad_fcs", ABORT: "abort", TOO_LONG: "too_long", TOO_SHORT: "too_short",
                NON_OCTET: "non_octet"}
MAX_FRAME = C.CC_HDLC_MAX_FRAME
Q921_MAX = C.CC_HDLC_Q921_MAX
Q921_MIN = C.CC_HDLC_Q921_MIN
TX_QUEUE_OCTETS = C.CC_HDLC_TX_RING
TX_QUEUE_FRAMES = C.CC_HDLC_TX_FRAMES
_IDLES = {"flags": C.CC_HDLC_IDLE_FLAGS, "mark": C.CC_HDLC_IDLE_MARK}
_U8 = np.dtype(np.uint8)
_U8_NUM = _U8.num

HdlcFrame = namedtuple("HdlcFrame", ["channel", "data", "status", "position"])
HdlcFrame.__doc__ = "A received frame: channel id, octets (bytes, FCS removed when whole), status, bit position."
HdlcRxStats = namedtuple("HdlcRxStats", ["good", "bad_fcs", "aborts", "too_long", "too_short", "non_octet",
                                         "octets"])
HdlcTxStats = namedtuple("HdlcTxStats", ["frames", "aborts", "underruns", "octets"])


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "hdlc", op)


cdef C.cc_hdlc_rx_config_t _rx_config(min_len, max_len, report_bad) except *:
    cdef C.cc_hdlc_rx_config_t cfg
    if not isinstance(max_len, int) or not 1 <= max_len <= C.CC_HDLC_MAX_FRAME:
        raise DSPArgumentError(f"max_len: {max_len!r} is not an octet count 1..{C.CC_HDLC_MAX_FRAME}")
    if not isinstance(min_len, int) or not 0 <= min_len <= max_len:
        raise DSPArgumentError(f"min_len: {min_len!r} is not an octet count 0..max_len ({max_len})")
    cfg.min_len = min_len
    cfg.max_len = max_len
    cfg.report_bad = 1 if report_bad else 0
    return cfg


cdef C.cc_hdlc_tx_config_t _tx_config(min_flags, idle, max_len) except *:
    cdef C.cc_hdlc_tx_config_t cfg
    if not isinstance(min_flags, int) or not 1 <= min_flags <= 255:
        raise DSPArgumentError(f"min_flags: {min_flags!r} is not a flag count 1..255")
    if idle not in _IDLES:
        raise DSPArgumentError(f"idle: {idle!r} is not one of {sorted(_IDLES)}")
    if not isinstance(max_len, int) or not 1 <= max_len <= C.CC_HDLC_MAX_FRAME:
        raise DSPArgumentError(f"max_len: {max_len!r} is not an octet count 1..{C.CC_HDLC_MAX_FRAME}")
    cfg.min_flags = min_flags
    cfg.idle = _IDLES[idle]
    cfg.max_len = max_len
    return cfg


cdef list _frames(const C.cc_hdlc_frame_t *fr, int n, const uint8_t *data):
    cdef list out = []
    cdef int i
    for i in range(n):
        out.append(HdlcFrame(fr[i].channel, (<const char *>data + fr[i].offset)[:fr[i].length], fr[i].status,
                             fr[i].position))
    return out


cdef object _rx_stats(const C.cc_hdlc_rx_t *s):
    cdef C.cc_hdlc_rx_stats_t st
    _check(C.cc_hdlc_rx_stats(s, &st), "stats")
    return HdlcRxStats(st.good, st.bad_fcs, st.aborts, st.too_long, st.too_short, st.non_octet, st.octets)


cdef object _tx_stats(const C.cc_hdlc_tx_t *s):
    cdef C.cc_hdlc_tx_stats_t st
    _check(C.cc_hdlc_tx_stats(s, &st), "stats")
    return HdlcTxStats(st.frames, st.aborts, st.underruns, st.octets)


cdef class HdlcReceiver:
    """One D-channel's receiver; the C state is embedded in the object."""

    cdef C.cc_hdlc_rx_t _s
    cdef object _fr
    cdef object _data

    def __init__(self, channel=0, *, min_len=C.CC_HDLC_Q921_MIN, max_len=C.CC_HDLC_Q921_MAX, report_bad=True):
        check_channel_id(channel)
        cdef C.cc_hdlc_rx_config_t cfg = _rx_config(min_len, max_len, report_bad)
        if C.cc_hdlc_rx_init(&self._s, &cfg, channel) == NULL:
            raise DSPArgumentError("hdlc receiver: settings refused by the native kernel")
        self._fr = np.empty(0, dtype=np.uint8)
        self._data = np.empty(0, dtype=np.uint8)
        self._room(64 * 8)

    cdef void _room(self, size_t nbits) except *:
        cdef size_t nfr = C.cc_hdlc_rx_max_frames(nbits) * sizeof(C.cc_hdlc_frame_t)
        cdef size_t nd = C.cc_hdlc_rx_max_data(&self._s, nbits)
        if <size_t>self._fr.shape[0] < nfr:
            self._fr = np.empty(nfr, dtype=np.uint8)
        if <size_t>self._data.shape[0] < nd:
            self._data = np.empty(nd, dtype=np.uint8)

    @property
    def channel(self):
        return C.cc_hdlc_rx_channel(&self._s)

    @property
    def position(self):
        return C.cc_hdlc_rx_position(&self._s)

    @property
    def stats(self):
        return _rx_stats(&self._s)

    cdef list _run(self, x, size_t nbits):
        self._room(nbits)
        cdef const uint8_t *xp = <const uint8_t *>cnp.PyArray_DATA(<cnp.ndarray>x)
        cdef C.cc_hdlc_frame_t *frp = <C.cc_hdlc_frame_t *>cnp.PyArray_DATA(<cnp.ndarray>self._fr)
        cdef uint8_t *dp = <uint8_t *>cnp.PyArray_DATA(<cnp.ndarray>self._data)
        cdef size_t maxfr = <size_t>self._fr.shape[0] // sizeof(C.cc_hdlc_frame_t)
        cdef size_t maxd = self._data.shape[0]
        cdef int rc
        with nogil:
            rc = C.cc_hdlc_rx_process_bits(&self._s, xp, nbits, frp, maxfr, dp, maxd)
        return _frames(frp, _check(rc, "process"), dp) if rc else []

    def process(self, x):
        if not fast_rows_ok(x, _U8_NUM, 1, False):
            x = check_array("x", x, _U8, 1)
        return self._run(x, <size_t>cnp.PyArray_DIMS(<cnp.ndarray>x)[0] * 8)

    def process_bits(self, x, nbits):
        x = check_array("x", x, _U8, 1)
        if not isinstance(nbits, int) or not 0 <= nbits <= 8 * x.shape[0]:
            raise DSPArgumentError(f"nbits: {nbits!r} is not a bit count 0..{8 * x.shape[0]} (8 per octet of x)")
        return self._run(x, nbits)

    def reset(self):
        _check(C.cc_hdlc_rx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a receiver state")
        if C.cc_hdlc_rx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved HDLC receiver state (magic, settings or position invalid)")
        self._room(64 * 8)

    def __reduce__(self):
        return (_restore_receiver, (self.get_state(),))


def _restore_receiver(state):
    r = HdlcReceiver()
    r.set_state(state)
    return r


cdef class HdlcReceiverBank:
    """Receivers for many D-channels, fed by one (channels x octets) buffer per call."""

    cdef C.cc_hdlc_rx_t *_states
    cdef C.cc_hdlc_rx_t **_ptrs
    cdef size_t _n
    cdef object _fr
    cdef object _data

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, *, channel_ids=None, min_len=C.CC_HDLC_Q921_MIN, max_len=C.CC_HDLC_Q921_MAX,
                 report_bad=True):
        check_channel_count(channels)
        ids = check_channel_ids(channels, channel_ids)
        cdef C.cc_hdlc_rx_config_t cfg = _rx_config(min_len, max_len, report_bad)
        self._states = <C.cc_hdlc_rx_t *>calloc(channels, sizeof(C.cc_hdlc_rx_t))
        self._ptrs = <C.cc_hdlc_rx_t **>calloc(channels, sizeof(C.cc_hdlc_rx_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} receivers")
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_hdlc_rx_init(&self._states[c], &cfg, <int32_t>ids[c])
        self._n = channels
        self._fr = np.empty(0, dtype=np.uint8)
        self._data = np.empty(0, dtype=np.uint8)
        self._room(8)

    def __dealloc__(self):
        free(self._ptrs)
        free(self._states)

    cdef void _room(self, size_t n) except *:
        cdef size_t nfr = self._n * C.cc_hdlc_rx_max_frames(8 * n) * sizeof(C.cc_hdlc_frame_t)
        cdef size_t nd = self._n * C.cc_hdlc_rx_max_data(self._ptrs[0], 8 * n)
        if <size_t>self._fr.shape[0] < nfr:
            self._fr = np.empty(nfr, dtype=np.uint8)
        if <size_t>self._data.shape[0] < nd:
            self._data = np.empty(nd, dtype=np.uint8)

    @property
    def channels(self):
        return self._n

    def process(self, x):
        if not fast_rows_ok(x, _U8_NUM, 2, False):
            x = check_array("x", x, _U8, 2)
        cdef cnp.ndarray a = <cnp.ndarray>x
        if a.shape[0] != <Py_ssize_t>self._n:
            raise DSPArgumentError(f"x: {a.shape[0]} rows for a bank of {self._n} channels")
        cdef size_t n = a.shape[1]
        cdef size_t stride = a.strides[0] if a.shape[0] > 1 else n
        self._room(n)
        cdef const uint8_t *xp = <const uint8_t *>cnp.PyArray_DATA(a)
        cdef C.cc_hdlc_frame_t *frp = <C.cc_hdlc_frame_t *>cnp.PyArray_DATA(<cnp.ndarray>self._fr)
        cdef uint8_t *dp = <uint8_t *>cnp.PyArray_DATA(<cnp.ndarray>self._data)
        cdef size_t maxfr = <size_t>self._fr.shape[0] // sizeof(C.cc_hdlc_frame_t)
        cdef size_t maxd = self._data.shape[0]
        cdef int rc
        with nogil:
            rc = C.cc_hdlc_rx_process_batch(self._ptrs, self._n, xp, stride, n, frp, maxfr, dp, maxd)
        return _frames(frp, _check(rc, "process_batch"), dp) if rc else []

    def stats(self, channel):
        return _rx_stats(self._ptrs[row_index(channel, self._n)])

    def reset(self, channel=None):
        cdef size_t c
        if channel is None:
            for c in range(self._n):
                _check(C.cc_hdlc_rx_reset(self._ptrs[c]), "reset")
        else:
            _check(C.cc_hdlc_rx_reset(self._ptrs[row_index(channel, self._n)]), "reset")


cdef int _put(C.cc_hdlc_tx_t *s, frame, more) except -1:
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        raise DSPArgumentError(f"frame: expected bytes, got {type(frame).__name__}")
    cdef const unsigned char[::1] view = bytes(frame)
    cdef size_t n = view.shape[0]
    cdef const uint8_t *p = &view[0] if n else NULL
    cdef int rc = C.cc_hdlc_tx_put(s, p, n, 1 if more else 0)
    if rc == CC.CC_ERR_ARG:
        raise DSPArgumentError(f"frame: {n} octets make the frame longer than max_len")
    if rc == CC.CC_ERR_SPACE:
        raise DSPError(f"hdlc put: queue full ({C.cc_hdlc_tx_pending(s)} frames, "
                       f"{C.cc_hdlc_tx_space(s)} octets free); nothing queued", rc)
    return _check(rc, "put")


cdef class HdlcTransmitter:
    """One D-channel's transmitter: a frame queue to line octets; the C state is embedded."""

    cdef C.cc_hdlc_tx_t _s

    def __init__(self, *, min_flags=1, idle="flags", max_len=C.CC_HDLC_Q921_MAX):
        cdef C.cc_hdlc_tx_config_t cfg = _tx_config(min_flags, idle, max_len)
        if C.cc_hdlc_tx_init(&self._s, &cfg) == NULL:
            raise DSPArgumentError("hdlc transmitter: settings refused by the native kernel")

    @property
    def pending(self):
        return C.cc_hdlc_tx_pending(&self._s)

    @property
    def space(self):
        return C.cc_hdlc_tx_space(&self._s)

    @property
    def position(self):
        return C.cc_hdlc_tx_position(&self._s)

    @property
    def stats(self):
        return _tx_stats(&self._s)

    def put(self, frame, *, more=False):
        _put(&self._s, frame, more)

    def abort(self):
        return _check(C.cc_hdlc_tx_abort(&self._s), "abort") == 1

    def generate(self, n, out=None):
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not an octet count")
        out = check_out("out", out, _U8, (n,))
        cdef uint8_t *op = <uint8_t *>cnp.PyArray_DATA(<cnp.ndarray>out)
        cdef size_t count = n
        cdef int rc
        with nogil:
            rc = C.cc_hdlc_tx_generate(&self._s, op, count)
        _check(rc, "generate")
        return out

    def generate_bits(self, nbits):
        if not isinstance(nbits, int) or nbits < 0:
            raise DSPArgumentError(f"nbits: {nbits!r} is not a bit count")
        out = np.zeros((nbits + 7) // 8, dtype=np.uint8)
        cdef uint8_t *op = <uint8_t *>cnp.PyArray_DATA(<cnp.ndarray>out)
        cdef size_t count = nbits
        cdef int rc
        with nogil:
            rc = C.cc_hdlc_tx_generate_bits(&self._s, op, count)
        _check(rc, "generate_bits")
        return out

    def reset(self):
        _check(C.cc_hdlc_tx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a transmitter state")
        if C.cc_hdlc_tx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved HDLC transmitter state (magic, settings or queue invalid)")

    def __reduce__(self):
        return (_restore_transmitter, (self.get_state(),))


def _restore_transmitter(state):
    t = HdlcTransmitter()
    t.set_state(state)
    return t


cdef class HdlcTransmitterBank:
    """Transmitters for many D-channels, generating one (channels x octets) buffer per call."""

    cdef C.cc_hdlc_tx_t *_states
    cdef C.cc_hdlc_tx_t **_ptrs
    cdef size_t _n

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, *, min_flags=1, idle="flags", max_len=C.CC_HDLC_Q921_MAX):
        check_channel_count(channels)
        cdef C.cc_hdlc_tx_config_t cfg = _tx_config(min_flags, idle, max_len)
        self._states = <C.cc_hdlc_tx_t *>calloc(channels, sizeof(C.cc_hdlc_tx_t))
        self._ptrs = <C.cc_hdlc_tx_t **>calloc(channels, sizeof(C.cc_hdlc_tx_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} transmitters")
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_hdlc_tx_init(&self._states[c], &cfg)
        self._n = channels

    def __dealloc__(self):
        free(self._ptrs)
        free(self._states)

    @property
    def channels(self):
        return self._n

    def put(self, channel, frame, *, more=False):
        _put(self._ptrs[row_index(channel, self._n)], frame, more)

    def abort(self, channel):
        return _check(C.cc_hdlc_tx_abort(self._ptrs[row_index(channel, self._n)]), "abort") == 1

    def pending(self, channel):
        return C.cc_hdlc_tx_pending(self._ptrs[row_index(channel, self._n)])

    def stats(self, channel):
        return _tx_stats(self._ptrs[row_index(channel, self._n)])

    def generate(self, n, out=None):
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not an octet count")
        out = check_out("out", out, _U8, (self._n, n))
        cdef cnp.ndarray a = <cnp.ndarray>out
        cdef size_t stride = a.strides[0] if a.shape[0] > 1 else n
        cdef uint8_t *op = <uint8_t *>cnp.PyArray_DATA(a)
        cdef size_t count = n
        cdef int rc
        with nogil:
            rc = C.cc_hdlc_tx_generate_batch(self._ptrs, self._n, op, stride, count)
        _check(rc, "generate_batch")
        return out

    def reset(self, channel=None):
        cdef size_t c
        if channel is None:
            for c in range(self._n):
                _check(C.cc_hdlc_tx_reset(self._ptrs[c]), "reset")
        else:
            _check(C.cc_hdlc_tx_reset(self._ptrs[row_index(channel, self._n)]), "reset")
