"""Caller ID (FSK Bell 202 / V.23, DTMF) receiver, receiver bank and generator over numpy buffers.

See callerid.pyi for the API and native/include/ccboard/callerid.h for the method and its figures.
Arguments are checked in Python; the C calls run without the GIL on validated pointers. Messages
are rare, so they come back as Python objects, parsed here.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_callerid as C
from ccboard.dsp._bind cimport (
    bank_stride, check_channel_count, check_channel_id, check_rc, event_buffer, state_bytes
)
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAW_DTYPES, check_array, check_law, check_out, check_sample_rate
from ccboard.errors import DSPArgumentError

cdef extern from "ccboard/private/callerid.h":
    pass

cnp.import_array()

STANDARDS = {"bell202": C.CC_CID_BELL202, "v23": C.CC_CID_V23, "dtmf": C.CC_CID_DTMF}
_STANDARD_NAMES = {v: k for k, v in STANDARDS.items()}
MSG_MAX = C.CC_CID_MSG_MAX

# Message types and MDMF parameter types (GR-30-CORE / ETS 300 659-1 numbering).
SDMF_CALLERID = 0x04
MDMF_CALLERID = 0x80
SDMF_MSG_WAITING = 0x06
MDMF_MSG_WAITING = 0x82
PARAM_DATETIME = 0x01
PARAM_NUMBER = 0x02
PARAM_NUMBER_ABSENT = 0x04
PARAM_NAME = 0x07
PARAM_NAME_ABSENT = 0x08

# Where a message goes on the line, in ms from the reference event ([U]: GR-30-CORE, ETS 300 659-1,
# YDN 069 as commonly implemented): "between_rings" starts 500 ms after the first ring ends and must
# end 200 ms before the second (a 4 s pause); "before_first_ring" starts 250 ms after the line
# reversal (or alert) and the first ring follows 200 ms after the message ends.
TIMINGS = {
    "between_rings": (500, 4000 - 200),
    "before_first_ring": (250, 250 + 5000),
}
RING_GAP_AFTER_MS = 200


cdef inline int _check(int rc, str op) except -1:
    return check_rc(rc, "callerid", op)


def _standard(standard):
    try:
        return STANDARDS[standard]
    except (KeyError, TypeError):
        raise DSPArgumentError(f"standard: {standard!r} is not one of {sorted(STANDARDS)}") from None


def parse_fields(data):
    """FSK message octets (type, length, body) -> [(parameter type, value)]; SDMF gives one (0, body).

    DSPArgumentError if the length octet or a parameter runs past the end."""
    data = bytes(data)
    if len(data) < 2 or data[1] != len(data) - 2:
        raise DSPArgumentError(f"data: length octet {data[1] if len(data) > 1 else None} does not match "
                               f"{len(data) - 2} body octets")
    body = data[2:]
    if not data[0] & 0x80:
        return [(0, body)]
    out = []
    i = 0
    while i < len(body):
        if i + 2 > len(body) or i + 2 + body[i + 1] > len(body):
            raise DSPArgumentError(f"data: parameter at body offset {i} runs past the end")
        out.append((body[i], body[i + 2 : i + 2 + body[i + 1]]))
        i += 2 + body[i + 1]
    return out


def _ascii(b):
    return b.decode("latin-1")


class Message:
    """One received caller-ID message, parsed: number, name, date/time (MMDDHHMM) and reasons
    for absence ('P' private, 'O' out of area/unavailable) where present."""

    __slots__ = ("channel", "standard", "status", "start", "at", "level_dbm0", "data", "kind",
                 "msg_type", "number", "name", "when", "number_absent", "name_absent", "fields")

    def __init__(self, channel, standard, status, start, at, level_dbm0, data):
        self.channel = channel
        self.standard = standard
        self.status = status
        self.start = start
        self.at = at
        self.level_dbm0 = level_dbm0
        self.data = data
        self.number = None
        self.name = None
        self.when = None
        self.number_absent = None
        self.name_absent = None
        self.fields = []
        self.msg_type = None
        if standard == "dtmf":
            self.kind = "dtmf"
            self._parse_dtmf(_ascii(data))
        else:
            self.msg_type = data[0]
            self.fields = parse_fields(data)
            self.kind = {SDMF_CALLERID: "sdmf", MDMF_CALLERID: "mdmf", SDMF_MSG_WAITING: "sdmf-mwi",
                         MDMF_MSG_WAITING: "mdmf-mwi"}.get(self.msg_type, "other")
            if self.kind == "sdmf":
                body = _ascii(self.fields[0][1])
                self.when = body[:8] or None
                rest = body[8:]
                if rest in ("P", "O"):
                    self.number_absent = rest
                else:
                    self.number = rest
            elif self.msg_type & 0x80:
                for t, v in self.fields:
                    if t == PARAM_DATETIME:
                        self.when = _ascii(v)
                    elif t == PARAM_NUMBER:
                        self.number = _ascii(v)
                    elif t == PARAM_NUMBER_ABSENT:
                        self.number_absent = _ascii(v)
                    elif t == PARAM_NAME:
                        self.name = _ascii(v)
                    elif t == PARAM_NAME_ABSENT:
                        self.name_absent = _ascii(v)

    def _parse_dtmf(self, s):
        body = s[:-1] if s and s[-1] in "#C" else s
        if len(body) == 2 and body[0] == "D" and body[1] in "123":
            self.number_absent = "P" if body[1] == "1" else "O"  # D1 restricted, D2/D3 unavailable
            return
        i = 1 if body[:1] in ("A", "D") else 0
        j = i
        while j < len(body) and body[j].isdigit():
            j += 1
        self.number = body[i:j] or None
        rest = body[j:]
        k = rest.find("B")
        if k >= 0:
            code = rest[k + 1 : k + 3]
            self.number_absent = "P" if code == "10" else "O" if code == "00" else None
        self.fields = [(ord(body[0]) if i else 0, body[i:j].encode())] if body else []

    def __repr__(self):
        parts = [f"{self.kind}", f"ch={self.channel}", f"start={self.start}"]
        for k in ("number", "name", "when", "number_absent", "name_absent"):
            v = getattr(self, k)
            if v is not None:
                parts.append(f"{k}={v!r}")
        if self.status != "ok":
            parts.append(self.status)
        return f"Message({', '.join(parts)})"


def sdmf(number="", when="", absent=None):
    """An SDMF (0x04) caller-ID message: MMDDHHMM then the number, or 'P'/'O' when absent."""
    if absent not in (None, "P", "O"):
        raise DSPArgumentError(f"absent: {absent!r} is not None, 'P' or 'O'")
    if when and (len(when) != 8 or not when.isdigit()):
        raise DSPArgumentError(f"when: {when!r} is not MMDDHHMM")
    if not all(c.isdigit() for c in number):
        raise DSPArgumentError(f"number: {number!r} has a character that is not a digit")
    body = (when + (absent or number)).encode("ascii")
    if len(body) > 255:
        raise DSPArgumentError(f"number: {len(body)} octets do not fit a message")
    return bytes([SDMF_CALLERID, len(body)]) + body


def mdmf(*, number=None, name=None, when=None, number_absent=None, name_absent=None,
         msg_type=MDMF_CALLERID):
    """An MDMF message with the given parameters, in GR-30 order (date/time, number, name)."""
    params = []
    for label, value, ptype in (("when", when, PARAM_DATETIME), ("number", number, PARAM_NUMBER),
                                ("number_absent", number_absent, PARAM_NUMBER_ABSENT),
                                ("name", name, PARAM_NAME), ("name_absent", name_absent, PARAM_NAME_ABSENT)):
        if value is None:
            continue
        raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
        if len(raw) > 253:
            raise DSPArgumentError(f"{label}: {len(raw)} octets do not fit a parameter")
        params.append(bytes([ptype, len(raw)]) + raw)
    body = b"".join(params)
    if len(body) > 255:
        raise DSPArgumentError(f"message: {len(body)} body octets, at most 255")
    return bytes([msg_type, len(body)]) + body


def dtmf_message(number=None, *, start="A", end="C", absent=None):
    """A DTMF caller-ID string: start + number + end ('A...C', 'D...C', '...#'); when the number is
    absent, 'B10C'/'B00C' ('P'/'O') for the 'C' variants and 'D1#'/'D2#' for the '#' variant."""
    if start not in ("A", "D", ""):
        raise DSPArgumentError(f"start: {start!r} is not 'A', 'D' or ''")
    if end not in ("C", "#"):
        raise DSPArgumentError(f"end: {end!r} is not 'C' or '#'")
    if absent is not None:
        if absent not in ("P", "O"):
            raise DSPArgumentError(f"absent: {absent!r} is not None, 'P' or 'O'")
        if end == "#":
            return "D1#" if absent == "P" else "D2#"
        return f"{start or 'A'}B{'10' if absent == 'P' else '00'}C"
    if not number or not number.isdigit():
        raise DSPArgumentError(f"number: {number!r} is not a string of digits")
    return f"{start}{number}{end}"


def schedule(timing, samples):
    """(start, end) sample of a message of `samples` on the line, counted from the end of the first
    ring ('between_rings') or from the line reversal ('before_first_ring'); DSPArgumentError if it
    does not fit before the next ring."""
    try:
        start_ms, limit_ms = TIMINGS[timing]
    except KeyError:
        raise DSPArgumentError(f"timing: {timing!r} is not one of {sorted(TIMINGS)}") from None
    start = start_ms * 8
    end = start + int(samples)
    if end > limit_ms * 8:
        raise DSPArgumentError(f"samples: {samples} ({samples / 8:.0f} ms) do not fit {timing} "
                               f"({(limit_ms - start_ms)} ms available)")
    return start, end


cdef object _msg_dtype():
    cdef C.cc_cid_msg_t ev
    cdef char *base = <char *>&ev
    return np.dtype({
        "names": ["channel", "standard", "status", "len", "start", "at", "level_dbm0", "data"],
        "formats": ["<i4", "u1", "u1", "<u2", "<i8", "<i8", "<f4", ("u1", (260,))],
        "offsets": [<char *>&ev.channel - base, <char *>&ev.standard - base, <char *>&ev.status - base,
                    <char *>&ev.len - base, <char *>&ev.start - base, <char *>&ev.at - base,
                    <char *>&ev.level_dbm0 - base, <char *>&ev.data[0] - base],
        "itemsize": sizeof(C.cc_cid_msg_t),
    })


MSG_DTYPE = _msg_dtype()


cdef tuple _messages(C.cc_cid_msg_t *ev, int n):
    out = []
    cdef int i
    for i in range(n):
        out.append(Message(ev[i].channel, _STANDARD_NAMES[ev[i].standard],
                           "ok" if ev[i].status == C.CC_CID_OK else "unterminated",
                           ev[i].start, ev[i].at, ev[i].level_dbm0, bytes(ev[i].data[:ev[i].len])))
    return tuple(out)


cdef C.cc_cid_rx_config_t _rx_config(standard, min_level_dbm0, dtmf_timeout_ms) except *:
    cdef C.cc_cid_rx_config_t cfg
    cdef int std = _standard(standard)
    C.cc_cid_rx_config_default(&cfg, <C.cc_cid_standard>std)
    if not isinstance(min_level_dbm0, (int, float)) or not -90.0 <= min_level_dbm0 <= 0.0:
        raise DSPArgumentError(f"min_level_dbm0: {min_level_dbm0!r} is outside -90..0 dBm0")
    if not isinstance(dtmf_timeout_ms, int) or not 100 <= dtmf_timeout_ms <= 60000:
        raise DSPArgumentError(f"dtmf_timeout_ms: {dtmf_timeout_ms!r} is not a whole number of ms in 100..60000")
    cfg.min_level_dbm0 = min_level_dbm0
    cfg.dtmf_timeout_ms = dtmf_timeout_ms
    return cfg


cdef class CallerIdReceiver:
    """One channel's caller-ID receiver; the C state is embedded in the object."""

    cdef C.cc_cid_rx_t _s
    cdef CC.cc_law _law
    cdef str _law_name
    cdef str _standard
    cdef object _dtype
    cdef int _typenum
    cdef C.cc_cid_msg_t _ev[8]

    def __init__(self, standard="bell202", law="linear", sample_rate=8000, channel=0, *,
                 min_level_dbm0=-45.0, dtmf_timeout_ms=1000):
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        check_channel_id(channel)
        cdef C.cc_cid_rx_config_t cfg = _rx_config(standard, min_level_dbm0, dtmf_timeout_ms)
        self._standard = standard
        if C.cc_cid_rx_init(&self._s, &cfg, channel) == NULL:
            raise DSPArgumentError("callerid receiver: settings refused by the native kernel")

    @property
    def standard(self):
        return self._standard

    @property
    def law(self):
        return self._law_name

    @property
    def samples(self):
        return C.cc_cid_rx_samples(&self._s)

    @property
    def pending(self):
        return C.cc_cid_rx_pending(&self._s)

    @property
    def framing_errors(self):
        return C.cc_cid_rx_framing_errors(&self._s)

    @property
    def checksum_errors(self):
        return C.cc_cid_rx_checksum_errors(&self._s)

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 1, False):
            x = check_array("x", x, self._dtype, 1)
        cdef size_t n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0]
        cdef const char *xp = <const char *>cnp.PyArray_DATA(<cnp.ndarray>x)
        cdef size_t size = 2 if self._law == CC.CC_LAW_LINEAR else 1
        # pieces of at most 1200 samples fit the 8 event slots (n / 200 + 2)
        cdef size_t i = 0, take
        cdef int rc
        out = ()
        while i < n:
            take = n - i if n - i < 1200 else 1200
            with nogil:
                rc = C.cc_cid_rx_process(&self._s, self._law, xp + i * size, take, self._ev, 8)
            if rc:
                out = out + _messages(self._ev, _check(rc, "process"))
            i += take
        return out

    def reset(self):
        _check(C.cc_cid_rx_reset(&self._s), "reset")

    def get_state(self):
        return (<char *>&self._s)[:sizeof(self._s)]

    def set_state(self, state):
        cdef const unsigned char[::1] view = state_bytes(state, sizeof(self._s), "a receiver state")
        if C.cc_cid_rx_restore(&self._s, &view[0], view.shape[0]) < 0:
            raise DSPArgumentError("state: not a saved caller-ID receiver state (magic, settings or position invalid)")
        self._standard = _STANDARD_NAMES[(<C.cc_cid_rx_config_t *>(<char *>&self._s + 8)).standard]


cdef class CallerIdReceiverBank:
    """Receivers for many channels, fed by one (channels x samples) buffer per call."""

    cdef C.cc_cid_rx_t *_states
    cdef C.cc_cid_rx_t **_ptrs
    cdef size_t _n
    cdef CC.cc_law _law
    cdef str _law_name
    cdef object _dtype
    cdef int _typenum
    cdef object _ev

    def __cinit__(self, *args, **kwargs):
        self._states = NULL
        self._ptrs = NULL

    def __init__(self, channels, standard="bell202", law="linear", sample_rate=8000, *,
                 min_level_dbm0=-45.0, dtmf_timeout_ms=1000):
        check_channel_count(channels)
        check_sample_rate(sample_rate)
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        cdef C.cc_cid_rx_config_t cfg = _rx_config(standard, min_level_dbm0, dtmf_timeout_ms)
        self._states = <C.cc_cid_rx_t *>calloc(channels, sizeof(C.cc_cid_rx_t))
        self._ptrs = <C.cc_cid_rx_t **>calloc(channels, sizeof(C.cc_cid_rx_t *))
        if self._states == NULL or self._ptrs == NULL:
            raise MemoryError(f"channels: cannot allocate {channels} receivers")
        cdef size_t c
        for c in range(channels):
            self._ptrs[c] = C.cc_cid_rx_init(&self._states[c], &cfg, <int32_t>c)
        self._n = channels
        self._ev = np.empty(channels * C.cc_cid_rx_max_events(160), dtype=MSG_DTYPE)

    def __dealloc__(self):
        free(self._ptrs)
        free(self._states)

    @property
    def channels(self):
        return self._n

    def process(self, x):
        if not fast_rows_ok(x, self._typenum, 2, False):
            x = check_array("x", x, self._dtype, 2)
        cdef cnp.ndarray a = <cnp.ndarray>x
        cdef size_t stride = bank_stride(a, self._n)
        cdef size_t n = a.shape[1]
        cdef size_t cap = self._n * C.cc_cid_rx_max_events(n)
        self._ev = event_buffer(self._ev, cap, MSG_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(a)
        cdef C.cc_cid_msg_t *evp = <C.cc_cid_msg_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_cid_rx_process_batch(self._ptrs, self._n, self._law, xp, stride, n, evp, cap)
        return _messages(evp, _check(rc, "process_batch")) if rc else ()

    def reset(self):
        cdef size_t c
        for c in range(self._n):
            _check(C.cc_cid_rx_reset(self._ptrs[c]), "reset")


cdef class CallerIdGenerator:
    """One message at a time, as line audio (int16); the C state is embedded in the object."""

    cdef C.cc_cid_tx_t _s
    cdef str _standard

    def __init__(self, standard="bell202", sample_rate=8000, *, level_dbm0=None, seizure_bits=300,
                 mark_bits=180, stop_bits=1, postamble_bits=5, dtmf_on_ms=60, dtmf_off_ms=60,
                 baud_error_pct=0.0, freq_error_pct=0.0, twist_db=0.0):
        check_sample_rate(sample_rate)
        cdef int std = _standard(standard)
        cdef C.cc_cid_tx_config_t cfg
        C.cc_cid_tx_config_default(&cfg, <C.cc_cid_standard>std)
        if level_dbm0 is not None:
            if not isinstance(level_dbm0, (int, float)) or not -90.0 <= level_dbm0 <= 3.0:
                raise DSPArgumentError(f"level_dbm0: {level_dbm0!r} is outside -90..3 dBm0")
            cfg.level_dbm0 = level_dbm0
        for name, value, lo, hi in (("seizure_bits", seizure_bits, 0, 10000), ("mark_bits", mark_bits, 0, 10000),
                                    ("stop_bits", stop_bits, 1, 8), ("postamble_bits", postamble_bits, 0, 10000),
                                    ("dtmf_on_ms", dtmf_on_ms, 20, 1000), ("dtmf_off_ms", dtmf_off_ms, 20, 1000)):
            if not isinstance(value, int) or not lo <= value <= hi:
                raise DSPArgumentError(f"{name}: {value!r} is not a whole number in {lo}..{hi}")
        for name, value, lim in (("baud_error_pct", baud_error_pct, 10.0), ("freq_error_pct", freq_error_pct, 10.0),
                                 ("twist_db", twist_db, 20.0)):
            if not isinstance(value, (int, float)) or not -lim <= value <= lim:
                raise DSPArgumentError(f"{name}: {value!r} is outside -{lim}..{lim}")
        cfg.seizure_bits = seizure_bits
        cfg.mark_bits = mark_bits
        cfg.stop_bits = stop_bits
        cfg.postamble_bits = postamble_bits
        cfg.dtmf_on_ms = dtmf_on_ms
        cfg.dtmf_off_ms = dtmf_off_ms
        cfg.baud_error_pct = baud_error_pct
        cfg.freq_error_pct = freq_error_pct
        cfg.twist_db = twist_db
        if C.cc_cid_tx_init(&self._s, &cfg) == NULL:
            raise DSPArgumentError("callerid generator: settings refused by the native kernel")
        self._standard = standard

    @property
    def standard(self):
        return self._standard

    @property
    def remaining(self):
        return C.cc_cid_tx_remaining(&self._s)

    def put(self, message):
        if self._standard == "dtmf":
            if not isinstance(message, str):
                raise DSPArgumentError(f"message: expected the DTMF digits as str, got {type(message).__name__}")
            for i, d in enumerate(message):
                if d.upper() not in "0123456789*#ABCD":
                    raise DSPArgumentError(f"message: {d!r} at index {i} is not a DTMF digit")
            raw = message.encode("ascii")
        else:
            if not isinstance(message, (bytes, bytearray)):
                raise DSPArgumentError(f"message: expected bytes (type, length, body), got {type(message).__name__}")
            raw = bytes(message)
            if len(raw) < 2 or raw[1] != len(raw) - 2:
                raise DSPArgumentError(f"message: length octet does not match {len(raw) - 2} body octets")
        if not 1 <= len(raw) <= MSG_MAX:
            raise DSPArgumentError(f"message: {len(raw)} octets, 1..{MSG_MAX} allowed")
        rc = C.cc_cid_tx_put(&self._s, raw, len(raw))
        if rc == CC.CC_ERR_SPACE:
            raise DSPArgumentError("message: the previous message is still sounding")
        _check(rc, "put")

    def generate(self, n=None, out=None):
        if n is None:
            n = self.remaining
        if not isinstance(n, int) or n < 0:
            raise DSPArgumentError(f"n: {n!r} is not a sample count")
        out = check_out("out", out, np.dtype(np.int16), (n,))
        cdef int16_t *op = <int16_t *>cnp.PyArray_DATA(out)
        cdef size_t count = n
        with nogil:
            C.cc_cid_tx_generate(&self._s, op, count)
        return out

    def reset(self):
        _check(C.cc_cid_tx_reset(&self._s), "reset")


def generate(message, standard="bell202", **settings):
    """The line audio of one message (int16), from a fresh generator with these settings."""
    g = CallerIdGenerator(standard, **settings)
    g.put(message)
    return g.generate()
