"""Conference mixer over numpy rows: many conferences in one call per chunk.

See conf.pyi for the API and native/include/ccboard/conf.h for the method and its figures.
Arguments are checked in Python; the C call runs without the GIL on validated pointers.
"""

cimport numpy as cnp
from libc.stdint cimport int32_t, uint32_t
from libc.stdlib cimport calloc, free

import numpy as np

from ccboard.dsp cimport c_common as CC
from ccboard.dsp cimport c_conf as C
from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import LAW_DTYPES, check_array, check_law, check_sample_rate
from ccboard.errors import DSPArgumentError, DSPError

cdef extern from "ccboard/private/conf.h":
    pass

cnp.import_array()

MAX_MEMBERS = C.CC_CONF_MAX_MEMBERS
MAX_CONFERENCES = C.CC_CONF_MAX_CONFERENCES
POWER_BLOCK = C.CC_CONF_POWER_BLOCK
_ROLES = {C.CC_CONF_NONE: None, C.CC_CONF_PARTY: "party", C.CC_CONF_LISTEN: "listen", C.CC_CONF_WHISPER: "whisper"}


cdef object _event_dtype():
    cdef C.cc_conf_event_t ev
    cdef char *base = <char *>&ev
    return np.dtype({
        "names": ["conference", "member", "previous", "level_dbm0", "at"],
        "formats": ["<i4", "<i4", "<i4", "<f4", "<i8"],
        "offsets": [<char *>&ev.conference - base, <char *>&ev.member - base, <char *>&ev.previous - base,
                    <char *>&ev.level_dbm0 - base, <char *>&ev.at - base],
        "itemsize": sizeof(C.cc_conf_event_t),
    })


EVENT_DTYPE = _event_dtype()
_NO_EVENTS = np.empty(0, dtype=EVENT_DTYPE)
_NO_EVENTS.flags.writeable = False


cdef int _check(int rc, str op) except -1:
    """Every native return code passes here; the exception keeps the code."""
    if rc < 0:
        raise DSPError(f"conf {op}: {CC.cc_strerror(rc).decode()} (cc_err {rc})", rc)
    return rc


cdef class ConferenceMixer:
    """Conferences over a flat table of `members` rows; the C state is owned by the object."""

    cdef C.cc_conf_t *_s
    cdef uint32_t _members
    cdef uint32_t _conferences
    cdef CC.cc_law _law
    cdef str _law_name
    cdef object _dtype
    cdef int _typenum
    cdef object _ev
    cdef tuple _settings

    def __cinit__(self, *args, **kwargs):
        self._s = NULL

    def __init__(self, members=1024, conferences=256, law="linear", sample_rate=8000, *,
                 loudest_tau_ms=300.0, loudest_floor_dbm0=-45.0, loudest_hysteresis_db=3.0):
        check_sample_rate(sample_rate)
        for name, value, hi in (("members", members, C.CC_CONF_MAX_MEMBERS),
                                ("conferences", conferences, C.CC_CONF_MAX_CONFERENCES)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= hi:
                raise DSPArgumentError(f"{name}: {value!r} is not a count 1..{hi}")
        for name, value, lo, hi in (("loudest_tau_ms", loudest_tau_ms, 20.0, 10000.0),
                                    ("loudest_floor_dbm0", loudest_floor_dbm0, -90.0, 0.0),
                                    ("loudest_hysteresis_db", loudest_hysteresis_db, 0.0, 20.0)):
            if not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise DSPArgumentError(f"{name}: {value!r} is outside {lo}..{hi}")
        self._law = check_law(law)
        self._law_name = law
        self._dtype = LAW_DTYPES[law]
        self._typenum = self._dtype.num
        cdef C.cc_conf_config_t cfg
        cfg.members = members
        cfg.conferences = conferences
        cfg.loudest_tau_ms = loudest_tau_ms
        cfg.loudest_floor_dbm0 = loudest_floor_dbm0
        cfg.loudest_hysteresis_db = loudest_hysteresis_db
        cdef size_t size = C.cc_conf_state_size(&cfg)
        cdef void *mem = calloc(1, size)
        if mem == NULL:
            raise MemoryError(f"members: cannot allocate a mixer of {members} members ({size} bytes)")
        self._s = C.cc_conf_init(mem, &cfg)
        if self._s == NULL:
            free(mem)
            raise DSPArgumentError("conference mixer: settings refused by the native kernel")
        self._members = members
        self._conferences = conferences
        self._settings = (members, conferences, law, loudest_tau_ms, loudest_floor_dbm0, loudest_hysteresis_db)
        self._ev = np.empty(C.cc_conf_max_events(self._s, C.CC_CONF_POWER_BLOCK), dtype=EVENT_DTYPE)

    def __dealloc__(self):
        if self._s != NULL:
            C.cc_conf_release(self._s)
            free(self._s)

    @property
    def members(self):
        return self._members

    @property
    def conferences(self):
        return self._conferences

    @property
    def law(self):
        return self._law_name

    @property
    def samples(self):
        return C.cc_conf_samples(self._s)

    cdef uint32_t _index(self, str name, value, uint32_t count) except? 0:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < count:
            raise DSPArgumentError(f"{name}: {value!r} is not an index 0..{count - 1}")
        return value

    def join(self, member, conference, *, listen_only=False):
        cdef uint32_t m = self._index("member", member, self._members)
        cdef uint32_t c = self._index("conference", conference, self._conferences)
        role = C.CC_CONF_LISTEN if listen_only else C.CC_CONF_PARTY
        _check(C.cc_conf_set(self._s, m, c, role, -1), "join")

    def leave(self, member):
        _check(C.cc_conf_leave(self._s, self._index("member", member, self._members)), "leave")

    def supervise(self, supervisor, agent, mode="monitor"):
        cdef uint32_t s = self._index("supervisor", supervisor, self._members)
        cdef uint32_t a = self._index("agent", agent, self._members)
        if s == a:
            raise DSPArgumentError(f"supervisor: {supervisor} is the agent itself")
        cdef int32_t conf = C.cc_conf_conference(self._s, a)
        if conf < 0:
            raise DSPArgumentError(f"agent: member {agent} is in no conference")
        if C.cc_conf_role(self._s, a) == C.CC_CONF_WHISPER:
            raise DSPArgumentError(f"agent: member {agent} is itself whispering")
        if mode == "monitor":
            rc = C.cc_conf_set(self._s, s, conf, C.CC_CONF_LISTEN, -1)
        elif mode == "whisper":
            rc = C.cc_conf_set(self._s, s, conf, C.CC_CONF_WHISPER, a)
        elif mode == "barge":
            rc = C.cc_conf_set(self._s, s, conf, C.CC_CONF_PARTY, -1)
        else:
            raise DSPArgumentError(f"mode: {mode!r} is not one of ['barge', 'monitor', 'whisper']")
        _check(rc, "supervise")

    def conference(self, member):
        cdef int32_t c = C.cc_conf_conference(self._s, self._index("member", member, self._members))
        return None if c < 0 else c

    def role(self, member):
        return _ROLES[C.cc_conf_role(self._s, self._index("member", member, self._members))]

    def target(self, member):
        cdef int32_t t = C.cc_conf_target(self._s, self._index("member", member, self._members))
        return None if t < 0 else t

    def loudest(self, conference):
        cdef int32_t m = C.cc_conf_loudest(self._s, self._index("conference", conference, self._conferences))
        return None if m < 0 else m

    def power_dbm0(self, member):
        return float(C.cc_conf_power_dbm0(self._s, self._index("member", member, self._members)))

    def process(self, x, out=None):
        if not fast_rows_ok(x, self._typenum, 2, False):
            x = check_array("x", x, self._dtype, 2)
        cdef cnp.ndarray a = <cnp.ndarray>x
        if a.shape[0] != <Py_ssize_t>self._members:
            raise DSPArgumentError(f"x: {a.shape[0]} rows for a mixer of {self._members} members")
        cdef Py_ssize_t n = a.shape[1]
        if out is None:
            out = np.empty((self._members, n), dtype=self._dtype)
        elif not fast_rows_ok(out, self._typenum, 2, True):
            out = check_array("out", out, self._dtype, 2, writable=True)
        cdef cnp.ndarray o = <cnp.ndarray>out
        if o.shape[0] != a.shape[0] or o.shape[1] != n:
            raise DSPArgumentError(f"out: shape {(o.shape[0], o.shape[1])} is not {(a.shape[0], n)}")
        if n and np.may_share_memory(a, o):
            raise DSPArgumentError("out: must not overlap x")
        cdef size_t item = a.itemsize
        cdef size_t xs = a.strides[0] // item if self._members > 1 else n
        cdef size_t ys = o.strides[0] // item if self._members > 1 else n
        cdef size_t cap = C.cc_conf_max_events(self._s, n)
        if <size_t>self._ev.shape[0] < cap:
            self._ev = np.empty(cap, dtype=EVENT_DTYPE)
        cdef void *xp = cnp.PyArray_DATA(a)
        cdef void *yp = cnp.PyArray_DATA(o)
        cdef C.cc_conf_event_t *evp = <C.cc_conf_event_t *>cnp.PyArray_DATA(<cnp.ndarray>self._ev)
        cdef int rc
        with nogil:
            rc = C.cc_conf_process(self._s, self._law, xp, xs, yp, ys, n, evp, cap)
        _check(rc, "process")
        return out, (self._ev[:rc].copy() if rc else _NO_EVENTS)

    def reset(self):
        _check(C.cc_conf_reset(self._s), "reset")

    def get_state(self):
        return (<char *>self._s)[:C.cc_conf_size(self._s)]

    def set_state(self, state):
        if not isinstance(state, (bytes, bytearray, memoryview)):
            raise DSPArgumentError(f"state: expected bytes from get_state(), got {type(state).__name__}")
        cdef const unsigned char[::1] view = bytes(state)
        cdef size_t size = C.cc_conf_size(self._s)
        if <size_t>view.shape[0] != size:
            raise DSPArgumentError(f"state: {view.shape[0]} bytes, this mixer's state has {size}")
        if C.cc_conf_restore(self._s, &view[0], size) < 0:
            raise DSPArgumentError("state: not a saved state of a mixer with these members and conferences")

    def __reduce__(self):
        return (_restore_mixer, (self._settings, self.get_state()))


def _restore_mixer(settings, state):
    members, conferences, law, tau, floor, hyst = settings
    m = ConferenceMixer(members, conferences, law, loudest_tau_ms=tau, loudest_floor_dbm0=floor,
                        loudest_hysteresis_db=hyst)
    m.set_state(state)
    return m
