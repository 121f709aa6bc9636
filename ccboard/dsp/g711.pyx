"""G.711 A-law / mu-law encode, decode and A <-> mu transcoding over numpy buffers.

Linear samples are int16, 16-bit left-justified (full scale +-32768; A-law uses the top 13
bits, mu-law the top 14). Codes are uint8 octets as sent on the line (A-law with the even
bits inverted, mu-law with all bits inverted). Bit-exact with ITU-T G.191; transcoding is
G.711 Tables 3 and 4.

Every function takes x as 1-D (samples,) for one channel, or 2-D (channels, samples) with
contiguous rows and any positive row stride for a batch, and writes into out (allocated when
None) of the same shape. Arguments are checked here; the C call runs without the GIL and
sees only valid pointers, counts and strides. No copies are made.
"""

cimport numpy as cnp
from libc.stdint cimport int16_t, uint8_t
from libc.stddef cimport size_t

from ccboard.dsp.c_g711 cimport (
    cc_g711_alaw_decode,
    cc_g711_alaw_decode_batch,
    cc_g711_alaw_encode,
    cc_g711_alaw_encode_batch,
    cc_g711_alaw_to_ulaw,
    cc_g711_ulaw_decode,
    cc_g711_ulaw_decode_batch,
    cc_g711_ulaw_encode,
    cc_g711_ulaw_encode_batch,
    cc_g711_ulaw_to_alaw,
)

import numpy as np

from ccboard.dsp._fast cimport fast_rows_ok
from ccboard.dsp._args import check_array, check_out
from ccboard.errors import DSPArgumentError

cnp.import_array()

_INT16 = np.dtype(np.int16)
_UINT8 = np.dtype(np.uint8)

# Which kernel a call runs.
cdef enum Op:
    ALAW_ENCODE
    ULAW_ENCODE
    ALAW_DECODE
    ULAW_DECODE
    ALAW_TO_ULAW
    ULAW_TO_ALAW


cdef struct Layout:
    char *x
    char *out
    size_t nch        # rows (1 for 1-D input)
    size_t n          # samples per row
    size_t x_stride   # row stride of x, in elements
    size_t out_stride # row stride of out, in elements
    bint batch        # 2-D input: the batch entry points


cdef size_t _extent(cnp.ndarray a):
    """Bytes from the first to one past the last element (0 if empty)."""
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(a)
    cdef size_t item = <size_t>cnp.PyArray_ITEMSIZE(a)
    if cnp.PyArray_SIZE(a) == 0:
        return 0
    if nd == 1:
        return <size_t>dims[0] * item
    return <size_t>(dims[0] - 1) * <size_t>cnp.PyArray_STRIDES(a)[0] + <size_t>dims[1] * item


cdef object _prepare(object x, object out, object in_dtype, object out_dtype, Layout *L):
    """Check x and out, allocate out if needed, describe both in L; return out."""
    cdef cnp.ndarray xa, oa
    cdef size_t xe, oe
    cdef char *xp
    cdef char *op
    if isinstance(x, np.ndarray) and x.ndim not in (1, 2):
        raise DSPArgumentError(
            f"x: expected 1-D (samples,) or 2-D (channels, samples), got shape {x.shape}"
        )
    cdef int nd = cnp.PyArray_NDIM(<cnp.ndarray>x) if cnp.PyArray_Check(x) else 1
    if not fast_rows_ok(x, in_dtype.num, nd, False):
        x = check_array("x", x, in_dtype, nd)
    if out is None:
        out = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(<cnp.ndarray>x), out_dtype.num, 0)
    elif not (fast_rows_ok(out, out_dtype.num, nd, True) and out.shape == x.shape):
        out = check_out("out", out, out_dtype, x.shape)
    xa = x
    oa = out
    xp = <char *>cnp.PyArray_DATA(xa)
    op = <char *>cnp.PyArray_DATA(oa)
    xe = _extent(xa)
    oe = _extent(oa)
    # The kernels take restrict pointers: in and out may not share memory.
    if xe and oe and xp < op + oe and op < xp + xe:
        raise DSPArgumentError("out: shares memory with x; pass a separate array")
    L.x = xp
    L.out = op
    L.batch = cnp.PyArray_NDIM(xa) == 2
    if not L.batch:
        L.nch = 1
        L.n = <size_t>cnp.PyArray_DIMS(xa)[0]
        L.x_stride = L.n
        L.out_stride = L.n
    else:
        L.nch = <size_t>cnp.PyArray_DIMS(xa)[0]
        L.n = <size_t>cnp.PyArray_DIMS(xa)[1]
        # A single row's stride is never used (and numpy may set it to anything).
        if L.nch > 1:
            L.x_stride = <size_t>cnp.PyArray_STRIDES(xa)[0] // <size_t>cnp.PyArray_ITEMSIZE(xa)
            L.out_stride = <size_t>cnp.PyArray_STRIDES(oa)[0] // <size_t>cnp.PyArray_ITEMSIZE(oa)
        else:
            L.x_stride = L.n
            L.out_stride = L.n
    return out


cdef void _run(Op op, const Layout *P) noexcept nogil:
    cdef size_t c
    cdef Layout L = P[0]
    cdef bint batch = L.batch
    if op == ALAW_ENCODE:
        if batch:
            cc_g711_alaw_encode_batch(<uint8_t *>L.out, L.out_stride, <const int16_t *>L.x, L.x_stride, L.nch, L.n)
        else:
            cc_g711_alaw_encode(<uint8_t *>L.out, <const int16_t *>L.x, L.n)
    elif op == ULAW_ENCODE:
        if batch:
            cc_g711_ulaw_encode_batch(<uint8_t *>L.out, L.out_stride, <const int16_t *>L.x, L.x_stride, L.nch, L.n)
        else:
            cc_g711_ulaw_encode(<uint8_t *>L.out, <const int16_t *>L.x, L.n)
    elif op == ALAW_DECODE:
        if batch:
            cc_g711_alaw_decode_batch(<int16_t *>L.out, L.out_stride, <const uint8_t *>L.x, L.x_stride, L.nch, L.n)
        else:
            cc_g711_alaw_decode(<int16_t *>L.out, <const uint8_t *>L.x, L.n)
    elif op == ULAW_DECODE:
        if batch:
            cc_g711_ulaw_decode_batch(<int16_t *>L.out, L.out_stride, <const uint8_t *>L.x, L.x_stride, L.nch, L.n)
        else:
            cc_g711_ulaw_decode(<int16_t *>L.out, <const uint8_t *>L.x, L.n)
    elif L.x_stride == L.n and L.out_stride == L.n:
        # Transcoding has no batch entry in the C API; packed rows are one long row.
        if op == ALAW_TO_ULAW:
            cc_g711_alaw_to_ulaw(<uint8_t *>L.out, <const uint8_t *>L.x, L.nch * L.n)
        else:
            cc_g711_ulaw_to_alaw(<uint8_t *>L.out, <const uint8_t *>L.x, L.nch * L.n)
    elif op == ALAW_TO_ULAW:
        for c in range(L.nch):  # one call per row (1-byte elements: strides are bytes)
            cc_g711_alaw_to_ulaw(<uint8_t *>L.out + c * L.out_stride, <const uint8_t *>L.x + c * L.x_stride, L.n)
    else:
        for c in range(L.nch):
            cc_g711_ulaw_to_alaw(<uint8_t *>L.out + c * L.out_stride, <const uint8_t *>L.x + c * L.x_stride, L.n)


cdef object _call(Op op, object x, object out, object in_dtype, object out_dtype):
    cdef Layout L
    out = _prepare(x, out, in_dtype, out_dtype, &L)
    with nogil:
        _run(op, &L)
    return out


def alaw_encode(x, out=None):
    """Encode int16 linear samples to A-law octets (0 -> 0xD5). x: (samples,) or (channels, samples)."""
    return _call(ALAW_ENCODE, x, out, _INT16, _UINT8)


def ulaw_encode(x, out=None):
    """Encode int16 linear samples to mu-law octets (0 -> 0xFF). x: (samples,) or (channels, samples)."""
    return _call(ULAW_ENCODE, x, out, _INT16, _UINT8)


def alaw_decode(x, out=None):
    """Decode A-law octets to int16 linear samples (full scale +-32256)."""
    return _call(ALAW_DECODE, x, out, _UINT8, _INT16)


def ulaw_decode(x, out=None):
    """Decode mu-law octets to int16 linear samples (full scale +-32124)."""
    return _call(ULAW_DECODE, x, out, _UINT8, _INT16)


def alaw_to_ulaw(x, out=None):
    """Transcode A-law octets to mu-law octets (G.711 Table 4)."""
    return _call(ALAW_TO_ULAW, x, out, _UINT8, _UINT8)


def ulaw_to_alaw(x, out=None):
    """Transcode mu-law octets to A-law octets (G.711 Table 3)."""
    return _call(ULAW_TO_ALAW, x, out, _UINT8, _UINT8)
