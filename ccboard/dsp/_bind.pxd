# What every kernel binding checks and allocates the same way: native return codes, channel ids
# and counts, bank rows, event buffers, saved states. Inlined into each module; the error path
# imports lazily so the common path costs no Python call.
cimport numpy as cnp
from libc.stdint cimport int32_t

from ccboard.dsp cimport c_common as CC


cdef inline int check_rc(int rc, str kernel, str op) except -1:
    """Every native return code passes here; the exception keeps the code."""
    if rc < 0:
        from ccboard.errors import DSPError
        raise DSPError(f"{kernel} {op}: {CC.cc_strerror(rc).decode()} (cc_err {rc})", rc)
    return rc


cdef inline object _arg_error(str text):
    from ccboard.errors import DSPArgumentError
    return DSPArgumentError(text)


cdef inline object frozen_empty(object dtype):
    """What a call with no event returns (most calls): one shared, read-only, empty array."""
    import numpy as np
    a = np.empty(0, dtype=dtype)
    a.flags.writeable = False
    return a


cdef inline int32_t check_channel_id(object channel) except? -1:
    if not isinstance(channel, int) or not -2**31 <= channel < 2**31:
        raise _arg_error(f"channel: {channel!r} does not fit int32")
    return <int32_t>channel


cdef inline Py_ssize_t check_channel_count(object channels) except -1:
    if not isinstance(channels, int) or not 1 <= channels <= 1 << 20:
        raise _arg_error(f"channels: {channels!r} is not a channel count 1..{1 << 20}")
    return <Py_ssize_t>channels


cdef inline object check_channel_ids(Py_ssize_t channels, object channel_ids):
    """The int64 ids of a bank's rows: 0..channels-1 unless given; each must fit int32."""
    import numpy as np
    ids = np.arange(channels, dtype=np.int64) if channel_ids is None else np.asarray(channel_ids)
    if ids.shape != (channels,) or ids.dtype.kind not in "iu":
        raise _arg_error(f"channel_ids: expected {channels} integers, got {ids.dtype} shape {ids.shape}")
    if channels and (ids.min() < -2**31 or ids.max() >= 2**31):
        raise _arg_error("channel_ids: every id must fit int32")
    return ids


cdef inline Py_ssize_t row_index(object channel, size_t rows) except -1:
    if not isinstance(channel, int) or not 0 <= channel < <long long>rows:
        raise _arg_error(f"channel: {channel!r} is not a row index 0..{rows - 1}")
    return <Py_ssize_t>channel


cdef inline size_t bank_stride(cnp.ndarray a, size_t rows) except? 0:
    """Elements between a (rows x samples) buffer's rows, after checking it has `rows` rows."""
    if a.shape[0] != <Py_ssize_t>rows:
        raise _arg_error(f"x: {a.shape[0]} rows for a bank of {rows} channels")
    return a.strides[0] // a.itemsize if a.shape[0] > 1 else a.shape[1]


cdef inline object event_buffer(object ev, size_t cap, object dtype):
    """`ev`, or a larger one when a call may write more than `cap` events."""
    if <size_t>ev.shape[0] >= cap:
        return ev
    import numpy as np
    return np.empty(cap, dtype=dtype)


cdef inline bytes state_bytes(object state, size_t size, str what):
    """A saved state from get_state(), of the size this kernel's state has."""
    if not isinstance(state, (bytes, bytearray, memoryview)):
        raise _arg_error(f"state: expected bytes from get_state(), got {type(state).__name__}")
    b = bytes(state)
    if <size_t>len(b) != size:
        raise _arg_error(f"state: {len(b)} bytes, {what} has {size}")
    return b
