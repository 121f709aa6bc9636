"""Debian's libspandsp 0.0.6 as a peer for tests and benchmarks, through a cffi API-mode shim.

The shim is C compiled at first use into a cache directory ($CCBOARD_PEER_CACHE, else build/peers/
under the repository) and rebuilt when its source changes (the module name carries a hash of it).
Every loop over samples, blocks or channels runs inside the shim, so one cffi call covers a whole
buffer, as our own bindings do. Audio is 8000 Hz int16 linear or G.711 octets; levels in dBm0 as
spandsp defines them (0 dBm0 sine peak = 32768 * 10^(-3.14/20)); times in ms; positions in samples.

Needs `apt-get install -y libspandsp-dev` (headers and libspandsp.so). Nothing here is ours: it is
the reference the tests and benchmarks compare against.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tests.peers.shim import SPANDSP_HINT as APT_HINT
from tests.peers.shim import PeerUnavailable as SpandspUnavailable
from tests.peers.shim import build_spandsp_shim

__all__ = [
    "APT_HINT",
    "BLOCK",
    "MAX_CHUNK",
    "G711Op",
    "Law",
    "SpandspDtmfBank",
    "SpandspPeer",
    "SpandspUnavailable",
    "load",
]

# spandsp 0.0.6 dtmf.c: DTMF_SAMPLES_PER_BLOCK, the Goertzel block; decisions land on its boundaries.
BLOCK = 102
DIGITS = "0123456789*#ABCD"

# Only what the shim exports; spandsp's own types stay behind it, so no struct layout is typed here.
CDEF = """
typedef struct peer_bank_s peer_bank_t;
int peer_g711(int op, const void *x, void *y, int64_t n);
int peer_dtmf_tx(const char *digits, int on_ms, int off_ms, int level_dbm0, int twist_db,
                 int16_t *out, int64_t max, int64_t *produced);
peer_bank_t *peer_bank_new(int channels, int capacity);
void peer_bank_free(peer_bank_t *b);
int peer_bank_reset(peer_bank_t *b);
int peer_bank_parms(peer_bank_t *b, int filter_dialtone, int twist, int reverse_twist, int threshold);
void peer_bank_clear(peer_bank_t *b);
int peer_bank_run(peer_bank_t *b, int law, const void *x, int64_t stride, int64_t samples,
                  int chunk, int exact);
int64_t peer_bank_count(const peer_bank_t *b, int channel);
int64_t peer_bank_digits(const peer_bank_t *b, int channel, char *digits, int64_t *at, int64_t max);
"""

SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

enum { OP_ALAW_ENC, OP_ALAW_DEC, OP_ULAW_ENC, OP_ULAW_DEC, OP_ALAW_TO_ULAW, OP_ULAW_TO_ALAW };
enum { LAW_LINEAR, LAW_ALAW, LAW_ULAW };
#define PEER_BLOCK 102
#define PEER_MAX_CHUNK 1024

typedef struct peer_bank_s peer_bank_t;

int peer_g711(int op, const void *x, void *y, int64_t n)
{
    int64_t i;
    switch (op) {
    case OP_ALAW_ENC:
        for (i = 0;  i < n;  i++) ((uint8_t *) y)[i] = linear_to_alaw(((const int16_t *) x)[i]);
        return 0;
    case OP_ALAW_DEC:
        for (i = 0;  i < n;  i++) ((int16_t *) y)[i] = alaw_to_linear(((const uint8_t *) x)[i]);
        return 0;
    case OP_ULAW_ENC:
        for (i = 0;  i < n;  i++) ((uint8_t *) y)[i] = linear_to_ulaw(((const int16_t *) x)[i]);
        return 0;
    case OP_ULAW_DEC:
        for (i = 0;  i < n;  i++) ((int16_t *) y)[i] = ulaw_to_linear(((const uint8_t *) x)[i]);
        return 0;
    /* The transcoders are library functions in 0.0.6 (table lookups behind a call). */
    case OP_ALAW_TO_ULAW:
        for (i = 0;  i < n;  i++) ((uint8_t *) y)[i] = alaw_to_ulaw(((const uint8_t *) x)[i]);
        return 0;
    case OP_ULAW_TO_ALAW:
        for (i = 0;  i < n;  i++) ((uint8_t *) y)[i] = ulaw_to_alaw(((const uint8_t *) x)[i]);
        return 0;
    }
    return -1;
}

/* Queue digits as space frees (0.0.6 holds MAX_DTMF_DIGITS) and generate until it drains. */
int peer_dtmf_tx(const char *digits, int on_ms, int off_ms, int level_dbm0, int twist_db,
                 int16_t *out, int64_t max, int64_t *produced)
{
    dtmf_tx_state_t *s = dtmf_tx_init(NULL);
    size_t left = strlen(digits);
    int64_t pos = 0;
    if (s == NULL)
        return -1;
    dtmf_tx_set_level(s, level_dbm0, twist_db);
    dtmf_tx_set_timing(s, on_ms, off_ms);
    for (;;) {
        int n, want;
        /* 0.0.6 returns 0 when the whole string was queued, else how many did not fit (and
           queues nothing), so feed one digit at a time until the queue is full. */
        while (left > 0 && dtmf_tx_put(s, digits, 1) == 0) {
            digits++;
            left--;
        }
        want = (max - pos < 160) ? (int) (max - pos) : 160;
        if (want <= 0)
            break;
        n = dtmf_tx(s, out + pos, want);
        pos += n;
        if (n < want && left == 0)
            break;
    }
    dtmf_tx_free(s);
    *produced = pos;
    return (left == 0) ? 0 : -2;
}

typedef struct {
    dtmf_rx_state_t *st;
    int64_t samples;     /* consumed since reset */
    int64_t call_end;    /* sample index one past the dtmf_rx() call in progress */
    int64_t n;           /* digits reported */
    int64_t capacity;    /* digits/at hold the first `capacity` of them */
    char *digits;
    int64_t *at;
} peer_chan_t;

struct peer_bank_s {
    int channels;
    int parms[4];
    int have_parms;
    peer_chan_t *ch;
};

static void peer_digits_cb(void *user, const char *digits, int len)
{
    peer_chan_t *c = (peer_chan_t *) user;
    int i;
    for (i = 0;  i < len;  i++) {
        /* Keep counting past capacity; only the first `capacity` are stored. */
        if (c->n < c->capacity) {
            c->digits[c->n] = digits[i];
            c->at[c->n] = c->call_end;
        }
        c->n++;
    }
}

void peer_bank_free(peer_bank_t *b)
{
    int c;
    if (b == NULL)
        return;
    if (b->ch != NULL) {
        for (c = 0;  c < b->channels;  c++) {
            if (b->ch[c].st != NULL)
                dtmf_rx_free(b->ch[c].st);
            free(b->ch[c].digits);
            free(b->ch[c].at);
        }
        free(b->ch);
    }
    free(b);
}

int peer_bank_reset(peer_bank_t *b)
{
    int c;
    for (c = 0;  c < b->channels;  c++) {
        peer_chan_t *ch = &b->ch[c];
        if (ch->st != NULL)
            dtmf_rx_free(ch->st);
        ch->st = dtmf_rx_init(NULL, peer_digits_cb, ch);
        if (ch->st == NULL)
            return -1;
        if (b->have_parms)
            dtmf_rx_parms(ch->st, b->parms[0], b->parms[1], b->parms[2], b->parms[3]);
        ch->samples = 0;
        ch->call_end = 0;
        ch->n = 0;
    }
    return 0;
}

peer_bank_t *peer_bank_new(int channels, int capacity)
{
    peer_bank_t *b = calloc(1, sizeof(*b));
    int c;
    if (b == NULL)
        return NULL;
    b->channels = channels;
    b->ch = calloc((size_t) channels, sizeof(*b->ch));
    if (b->ch == NULL)
        goto fail;
    for (c = 0;  c < channels;  c++) {
        b->ch[c].capacity = (capacity > 0) ? capacity : 0;
        if (capacity > 0) {
            b->ch[c].digits = malloc((size_t) capacity);
            b->ch[c].at = malloc((size_t) capacity*sizeof(int64_t));
            if (b->ch[c].digits == NULL || b->ch[c].at == NULL)
                goto fail;
        }
    }
    if (peer_bank_reset(b) != 0)
        goto fail;
    return b;
fail:
    peer_bank_free(b);
    return NULL;
}

int peer_bank_parms(peer_bank_t *b, int filter_dialtone, int twist, int reverse_twist, int threshold)
{
    int c;
    b->parms[0] = filter_dialtone;
    b->parms[1] = twist;
    b->parms[2] = reverse_twist;
    b->parms[3] = threshold;
    b->have_parms = 1;
    for (c = 0;  c < b->channels;  c++)
        dtmf_rx_parms(b->ch[c].st, filter_dialtone, twist, reverse_twist, threshold);
    return 0;
}

void peer_bank_clear(peer_bank_t *b)
{
    int c;
    for (c = 0;  c < b->channels;  c++)
        b->ch[c].n = 0;
}

/* One dtmf_rx() call; with `exact` it is cut at spandsp's block boundaries (multiples of
   PEER_BLOCK from reset), so a digit's position is the boundary where spandsp decided it.
   spandsp's own loop cuts at the same places, so detections do not change. */
static void peer_rx_call(peer_chan_t *c, const int16_t *amp, int len, int exact)
{
    while (len > 0) {
        int n = len;
        if (exact) {
            int to_edge = PEER_BLOCK - (int) (c->samples % PEER_BLOCK);
            if (n > to_edge)
                n = to_edge;
        }
        c->call_end = c->samples + n;
        dtmf_rx(c->st, amp, n);
        c->samples += n;
        amp += n;
        len -= n;
    }
}

/* x: channels rows of `samples`, `stride` elements apart. Tick-major, as a real-time system runs:
   for every chunk, every channel in turn. G.711 input is expanded a chunk at a time with
   spandsp's inline decoders into a stack buffer (spandsp's dtmf_rx only takes linear). */
int peer_bank_run(peer_bank_t *b, int law, const void *x, int64_t stride, int64_t samples,
                  int chunk, int exact)
{
    int16_t tmp[PEER_MAX_CHUNK];
    int64_t off;
    int c, i;
    if (chunk <= 0 || (law != LAW_LINEAR && chunk > PEER_MAX_CHUNK))
        return -1;
    for (off = 0;  off < samples;  off += chunk) {
        int n = (samples - off < chunk) ? (int) (samples - off) : chunk;
        for (c = 0;  c < b->channels;  c++) {
            peer_chan_t *ch = &b->ch[c];
            if (law == LAW_LINEAR) {
                peer_rx_call(ch, (const int16_t *) x + c*stride + off, n, exact);
            } else {
                const uint8_t *g = (const uint8_t *) x + c*stride + off;
                if (law == LAW_ALAW)
                    for (i = 0;  i < n;  i++) tmp[i] = alaw_to_linear(g[i]);
                else
                    for (i = 0;  i < n;  i++) tmp[i] = ulaw_to_linear(g[i]);
                peer_rx_call(ch, tmp, n, exact);
            }
        }
    }
    return 0;
}

int64_t peer_bank_count(const peer_bank_t *b, int channel)
{
    return b->ch[channel].n;
}

int64_t peer_bank_digits(const peer_bank_t *b, int channel, char *digits, int64_t *at, int64_t max)
{
    const peer_chan_t *c = &b->ch[channel];
    int64_t n = (c->n < c->capacity) ? c->n : c->capacity;
    if (n > max)
        n = max;
    if (n > 0) {
        memcpy(digits, c->digits, (size_t) n);
        memcpy(at, c->at, (size_t) n*sizeof(int64_t));
    }
    return n;
}
"""

# Same flags as the measured C harness (../shared/peers/run_spandsp_bench.sh).
MAX_CHUNK = 1024


Law = Literal["linear", "alaw", "ulaw"]
G711Op = Literal["alaw_encode", "alaw_decode", "ulaw_encode", "ulaw_decode", "alaw_to_ulaw", "ulaw_to_alaw"]
_LAWS = {"linear": 0, "alaw": 1, "ulaw": 2}
_G711_OPS = {
    "alaw_encode": 0,
    "alaw_decode": 1,
    "ulaw_encode": 2,
    "ulaw_decode": 3,
    "alaw_to_ulaw": 4,
    "ulaw_to_alaw": 5,
}
_G711_DTYPES = {
    "alaw_encode": (np.int16, np.uint8),
    "alaw_decode": (np.uint8, np.int16),
    "ulaw_encode": (np.int16, np.uint8),
    "ulaw_decode": (np.uint8, np.int16),
    "alaw_to_ulaw": (np.uint8, np.uint8),
    "ulaw_to_alaw": (np.uint8, np.uint8),
}


class SpandspDtmfBank:
    """`channels` spandsp dtmf_rx states fed from one (channels x samples) buffer per call.

    Each call runs, inside C, every `chunk`-sample slice of every channel in turn (tick-major).
    Digits are collected per channel by spandsp's digits callback, up to `capacity` per channel
    (counted beyond that). With exact=True a digit's position is the end of the 102-sample block
    in which spandsp confirmed it; otherwise it is the end of the chunk in which it was reported.
    """

    def __init__(self, peer: SpandspPeer, channels: int, capacity: int = 256) -> None:
        if channels < 1:
            raise ValueError(f"channels: {channels} < 1")
        self._ffi = peer.ffi
        self._lib = peer.lib
        raw = self._lib.peer_bank_new(channels, capacity)
        if raw == self._ffi.NULL:
            raise MemoryError("peer_bank_new failed")
        self._bank = self._ffi.gc(raw, self._lib.peer_bank_free)
        self.channels = channels
        self.capacity = capacity

    def parms(
        self,
        *,
        filter_dialtone: bool | None = None,
        normal_twist_db: int | None = None,
        reverse_twist_db: int | None = None,
        threshold_dbm0: int | None = None,
    ) -> None:
        """dtmf_rx_parms on every channel (twists in dB, threshold in dBm0); None keeps spandsp's."""
        self._lib.peer_bank_parms(
            self._bank,
            -1 if filter_dialtone is None else int(filter_dialtone),
            -1 if normal_twist_db is None else int(normal_twist_db),
            -1 if reverse_twist_db is None else int(reverse_twist_db),
            -99 if threshold_dbm0 is None else int(threshold_dbm0),
        )

    def reset(self) -> None:
        """Fresh receiver states (parms kept), sample counters and digit lists at 0."""
        if self._lib.peer_bank_reset(self._bank) != 0:
            raise MemoryError("dtmf_rx_init failed")

    def clear(self) -> None:
        """Forget collected digits; receiver states and sample counters carry on."""
        self._lib.peer_bank_clear(self._bank)

    def run(self, x: npt.NDArray[Any], chunk: int = 160, law: Law = "linear", *, exact: bool = False) -> None:
        """Feed x: (channels, samples), int16 for 'linear', uint8 for 'alaw'/'ulaw', rows C-contiguous."""
        self.bind(x, chunk, law, exact=exact)()

    def bind(
        self, x: npt.NDArray[Any], chunk: int = 160, law: Law = "linear", *, exact: bool = False
    ) -> Callable[[], None]:
        """Check x once and return a call that feeds its current contents (for benchmark loops:
        the buffer may be refilled in place between calls; it must stay alive and unmoved)."""
        if law not in _LAWS:
            raise ValueError(f"law: {law!r} is not one of {sorted(_LAWS)}")
        dtype = np.dtype(np.int16 if law == "linear" else np.uint8)
        if not isinstance(x, np.ndarray) or x.dtype != dtype:
            raise TypeError(f"x: expected a numpy array of {dtype}")
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"x: shape {x.shape} is not ({self.channels}, samples)")
        if x.strides[1] != x.itemsize or x.strides[0] % x.itemsize or x.strides[0] < 0:
            raise ValueError("x: rows must be C-contiguous")
        if chunk < 1 or (law != "linear" and chunk > MAX_CHUNK):
            raise ValueError(f"chunk: {chunk} outside 1..{MAX_CHUNK if law != 'linear' else 'samples'}")
        ptr = self._ffi.cast("void *", x.ctypes.data)
        args = (self._bank, _LAWS[law], ptr, x.strides[0] // x.itemsize, x.shape[1], chunk, int(exact))
        fn = self._lib.peer_bank_run

        def call() -> None:
            if fn(*args) != 0:
                raise RuntimeError("peer_bank_run failed")

        call.keepalive = x  # type: ignore[attr-defined]
        return call

    def count(self, channel: int = 0) -> int:
        """Digits reported on `channel` since reset/clear."""
        self._check_channel(channel)
        return int(self._lib.peer_bank_count(self._bank, channel))

    def counts(self) -> npt.NDArray[np.int64]:
        """Digits reported per channel since reset/clear."""
        return np.array([self._lib.peer_bank_count(self._bank, c) for c in range(self.channels)], np.int64)

    def digits(self, channel: int = 0) -> list[tuple[str, int]]:
        """(digit, sample position) as reported on `channel`, the first `capacity` of them."""
        self._check_channel(channel)
        n = max(self.capacity, 1)
        d = self._ffi.new("char[]", n)
        at = self._ffi.new("int64_t[]", n)
        got = self._lib.peer_bank_digits(self._bank, channel, d, at, n)
        raw = self._ffi.buffer(d, got)[:]
        return [(chr(raw[i]), int(at[i])) for i in range(got)]

    def _check_channel(self, channel: int) -> None:
        if not 0 <= channel < self.channels:
            raise ValueError(f"channel: {channel} outside 0..{self.channels - 1}")


class SpandspPeer:
    """spandsp 0.0.6 G.711 and DTMF, one cffi call per buffer."""

    def __init__(self, ffi: Any, lib: Any, path: Path) -> None:
        self.ffi = ffi
        self.lib = lib
        self.path = path

    # G.711: spandsp's static inline codecs, looped in the shim.
    def _g711(self, op: G711Op, x: npt.ArrayLike) -> npt.NDArray[Any]:
        in_dtype, out_dtype = _G711_DTYPES[op]
        a: npt.NDArray[Any] = np.ascontiguousarray(x, dtype=in_dtype)
        y: npt.NDArray[Any] = np.empty(a.shape, dtype=out_dtype)
        self.g711_into(op, a, y)
        return y

    def alaw_encode(self, x: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """int16 linear -> A-law octets (any shape)."""
        return self._g711("alaw_encode", x)

    def alaw_decode(self, x: npt.ArrayLike) -> npt.NDArray[np.int16]:
        """A-law octets -> int16 linear (any shape)."""
        return self._g711("alaw_decode", x)

    def ulaw_encode(self, x: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """int16 linear -> mu-law octets (any shape)."""
        return self._g711("ulaw_encode", x)

    def ulaw_decode(self, x: npt.ArrayLike) -> npt.NDArray[np.int16]:
        """mu-law octets -> int16 linear (any shape)."""
        return self._g711("ulaw_decode", x)

    def alaw_to_ulaw(self, x: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """A-law octets -> mu-law octets (any shape)."""
        return self._g711("alaw_to_ulaw", x)

    def ulaw_to_alaw(self, x: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """mu-law octets -> A-law octets (any shape)."""
        return self._g711("ulaw_to_alaw", x)

    def g711_into(self, op: G711Op, x: npt.NDArray[Any], out: npt.NDArray[Any]) -> None:
        """No allocation: x and out C-contiguous, int16/uint8 as `op` needs."""
        self.g711_bind(op, x, out)()

    def g711_bind(self, op: G711Op, x: npt.NDArray[Any], out: npt.NDArray[Any]) -> Callable[[], None]:
        """Check once; return a call doing `op` from x's current contents into out (benchmarks)."""
        want = tuple(np.dtype(d) for d in _G711_DTYPES[op])
        if (x.dtype, out.dtype) != want:
            raise TypeError(f"x/out: dtypes {x.dtype}/{out.dtype} do not fit {op}")
        if x.size != out.size or not (x.flags.c_contiguous and out.flags.c_contiguous):
            raise ValueError("x/out: sizes differ or not C-contiguous")
        if not out.flags.writeable:
            raise ValueError("out: not writable")
        ffi = self.ffi
        args = (_G711_OPS[op], ffi.cast("void *", x.ctypes.data), ffi.cast("void *", out.ctypes.data), x.size)
        fn = self.lib.peer_g711

        def call() -> None:
            fn(*args)

        call.keepalive = (x, out)  # type: ignore[attr-defined]
        return call

    # DTMF
    def dtmf_rx(
        self,
        x: npt.ArrayLike,
        chunk: int = 160,
        *,
        law: Law = "linear",
        normal_twist_db: int | None = None,
        reverse_twist_db: int | None = None,
        threshold_dbm0: int | None = None,
        filter_dialtone: bool | None = None,
    ) -> list[tuple[str, int]]:
        """Run one fresh dtmf_rx over x (1-D) in `chunk`-sample calls.

        Returns (digit, sample) per digit reported, sample = the end of spandsp's 102-sample block
        in which it confirmed the digit, counted from x[0]. Unset settings keep spandsp's defaults
        (0.0.6: normal twist 8 dB, reverse twist 4 dB, threshold -42 dBm0, no dial tone filter).
        """
        dtype = np.int16 if law == "linear" else np.uint8
        a = np.ascontiguousarray(x, dtype=dtype)
        if a.ndim != 1:
            raise ValueError(f"x: expected 1-D, got shape {a.shape}")
        bank = SpandspDtmfBank(self, 1, capacity=a.size // BLOCK + 1)
        bank.parms(
            filter_dialtone=filter_dialtone,
            normal_twist_db=normal_twist_db,
            reverse_twist_db=reverse_twist_db,
            threshold_dbm0=threshold_dbm0,
        )
        bank.run(a.reshape(1, -1), chunk, law, exact=True)
        return bank.digits(0)

    def dtmf_bank(self, channels: int, capacity: int = 256) -> SpandspDtmfBank:
        """Raw handle for benchmark loops: `channels` states, all looped in C per call."""
        return SpandspDtmfBank(self, channels, capacity)

    def dtmf_tx(
        self,
        digits: str,
        on_ms: int = 50,
        off_ms: int = 55,
        level_dbm0: int = -10,
        twist_db: int = 0,
    ) -> npt.NDArray[np.int16]:
        """spandsp's dtmf_tx for `digits`: low tone at level_dbm0, high tone at level_dbm0 + twist_db."""
        bad = [d for d in digits if d not in DIGITS]
        if bad:
            raise ValueError(f"digits: {bad[0]!r} is not a DTMF digit")
        if on_ms < 1 or off_ms < 0:
            raise ValueError(f"on_ms/off_ms: {on_ms}/{off_ms} out of range")
        cap = len(digits) * (on_ms + off_ms) * 8 + 8000
        out = np.zeros(cap, dtype=np.int16)
        produced = self.ffi.new("int64_t *")
        rc = self.lib.peer_dtmf_tx(
            digits.encode(),
            on_ms,
            off_ms,
            int(level_dbm0),
            int(twist_db),
            self.ffi.cast("int16_t *", out.ctypes.data),
            cap,
            produced,
        )
        if rc != 0:
            raise RuntimeError(f"peer_dtmf_tx failed ({rc})")
        return out[: produced[0]].copy()


@functools.cache
def load() -> SpandspPeer:
    """Build (once per source version) and load the shim; SpandspUnavailable names the apt command."""
    mod = build_spandsp_shim("_ccboard_spandsp_peer", CDEF, SOURCE)
    return SpandspPeer(mod.ffi, mod.lib, Path(mod.__file__))
