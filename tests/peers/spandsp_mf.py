"""libspandsp 0.0.6's Bell MF and MFC/R2 generators and receivers as a peer, through a cffi shim.

Built like tests/peers/spandsp.py (compiled at first use into build/peers/, rebuilt when the source
changes). 0.0.6 API: `r2_mf_tx_init(s, int fwd)`, `r2_mf_rx_init(s, int fwd, tone_report_func_t cb,
user)` with `cb(user, code, level, delay)` (code 0 = the tone stopped), `bell_mf_rx_init(s,
digits_rx_callback_t cb, user)` with `cb(user, digits, len)`. Every loop runs inside the shim, so one
cffi call covers a whole buffer. Audio is 8000 Hz int16; positions are samples.

R2 signal codes as 0.0.6 reports and accepts them: signal n (1..15) as the character
R2_SYMBOLS[n - 1]; Bell MF: "1234567890CA*B#" (KP '*', ST '#', ST' 'A', ST'' 'B', ST''' 'C').
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from tests.peers.shim import build_spandsp_shim

__all__ = ["R2_SYMBOLS", "R1_SYMBOLS", "SpandspMf", "SpandspR2Bank", "load"]

R1_SYMBOLS = "1234567890CA*B#"

CDEF = """
typedef struct peer_r2_bank_s peer_r2_bank_t;
int peer_r2_code(int fwd, int signal);
int peer_r2_tx(int fwd, const int *signals, const int *on, const int *off, int n, int16_t *out, int64_t max);
int peer_bell_tx(const char *digits, int16_t *out, int64_t max, int64_t *produced);
int64_t peer_r2_rx(int fwd, const int16_t *x, int64_t n, int chunk, int *codes, int64_t *at, int64_t max);
int64_t peer_bell_rx(const int16_t *x, int64_t n, int chunk, char *digits, int64_t *at, int64_t max);
peer_r2_bank_t *peer_r2_bank_new(int channels, int fwd);
void peer_r2_bank_free(peer_r2_bank_t *b);
int peer_r2_bank_run(peer_r2_bank_t *b, const int16_t *x, int64_t stride, int64_t samples, int chunk);
int64_t peer_r2_bank_count(const peer_r2_bank_t *b);
"""

SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

/* 0.0.6 takes and reports R2 signals as characters; this is its table for signals 1..15. */
static const char R2_CODES[] = "1234567890BCDEF";

int peer_r2_code(int fwd, int signal)
{
    (void) fwd;
    return (signal >= 1 && signal <= 15) ? R2_CODES[signal - 1] : -1;
}

/* Each signal on for on[k] samples then off[k] samples; out is zeroed first. */
int peer_r2_tx(int fwd, const int *signals, const int *on, const int *off, int n, int16_t *out, int64_t max)
{
    r2_mf_tx_state_t *s = r2_mf_tx_init(NULL, fwd);
    int64_t pos = 0;
    int k;
    if (s == NULL)
        return -1;
    memset(out, 0, (size_t) max*sizeof(int16_t));
    for (k = 0;  k < n;  k++) {
        int64_t left = on[k];
        if (pos + on[k] + off[k] > max) {
            r2_mf_tx_free(s);
            return -2;
        }
        if (r2_mf_tx_put(s, R2_CODES[signals[k] - 1]) != 0) {
            r2_mf_tx_free(s);
            return -3;
        }
        while (left > 0) {
            int want = left > 160 ? 160 : (int) left;
            int got = r2_mf_tx(s, out + pos, want);
            if (got <= 0)
                break;
            pos += got;
            left -= got;
        }
        r2_mf_tx_put(s, 0);
        pos += off[k] + left;
    }
    r2_mf_tx_free(s);
    return 0;
}

int peer_bell_tx(const char *digits, int16_t *out, int64_t max, int64_t *produced)
{
    bell_mf_tx_state_t *s = bell_mf_tx_init(NULL);
    size_t left = strlen(digits);
    int64_t pos = 0;
    if (s == NULL)
        return -1;
    for (;;) {
        int n, want;
        while (left > 0 && bell_mf_tx_put(s, digits, 1) == 0) {
            digits++;
            left--;
        }
        want = (max - pos < 160) ? (int) (max - pos) : 160;
        if (want <= 0)
            break;
        n = bell_mf_tx(s, out + pos, want);
        pos += n;
        if (n < want && left == 0)
            break;
    }
    bell_mf_tx_free(s);
    *produced = pos;
    return left == 0 ? 0 : -2;
}

typedef struct {
    int64_t n, max, call_end;
    int *codes;
    char *digits;
    int64_t *at;
} peer_log_t;

static void r2_cb(void *user, int code, int level, int delay)
{
    peer_log_t *l = (peer_log_t *) user;
    (void) level;
    (void) delay;
    if (l->n < l->max) {
        l->codes[l->n] = code;
        l->at[l->n] = l->call_end;
    }
    l->n++;
}

static void bell_cb(void *user, const char *digits, int len)
{
    peer_log_t *l = (peer_log_t *) user;
    int i;
    for (i = 0;  i < len;  i++) {
        if (l->n < l->max) {
            l->digits[l->n] = digits[i];
            l->at[l->n] = l->call_end;
        }
        l->n++;
    }
}

/* Every change the receiver reports: the code (0 = tone off) and the end of the call in which it came. */
int64_t peer_r2_rx(int fwd, const int16_t *x, int64_t n, int chunk, int *codes, int64_t *at, int64_t max)
{
    peer_log_t l = {0, max, 0, codes, NULL, at};
    r2_mf_rx_state_t *s = r2_mf_rx_init(NULL, fwd, r2_cb, &l);
    int64_t off;
    if (s == NULL)
        return -1;
    for (off = 0;  off < n;  off += chunk) {
        int k = (n - off < chunk) ? (int) (n - off) : chunk;
        l.call_end = off + k;
        r2_mf_rx(s, x + off, k);
    }
    r2_mf_rx_free(s);
    return l.n;
}

int64_t peer_bell_rx(const int16_t *x, int64_t n, int chunk, char *digits, int64_t *at, int64_t max)
{
    peer_log_t l = {0, max, 0, NULL, digits, at};
    bell_mf_rx_state_t *s = bell_mf_rx_init(NULL, bell_cb, &l);
    int64_t off;
    if (s == NULL)
        return -1;
    for (off = 0;  off < n;  off += chunk) {
        int k = (n - off < chunk) ? (int) (n - off) : chunk;
        l.call_end = off + k;
        bell_mf_rx(s, x + off, k);
    }
    bell_mf_rx_free(s);
    return l.n;
}

/* Benchmark bank: `channels` r2_mf_rx states counting tone-on reports. */
typedef struct peer_r2_bank_s {
    int channels;
    int64_t count;
    r2_mf_rx_state_t **st;
} peer_r2_bank_t;

static void bank_cb(void *user, int code, int level, int delay)
{
    (void) level;
    (void) delay;
    if (code)
        ((peer_r2_bank_t *) user)->count++;
}

void peer_r2_bank_free(peer_r2_bank_t *b)
{
    int c;
    if (b == NULL)
        return;
    for (c = 0;  b->st != NULL && c < b->channels;  c++)
        if (b->st[c] != NULL)
            r2_mf_rx_free(b->st[c]);
    free(b->st);
    free(b);
}

peer_r2_bank_t *peer_r2_bank_new(int channels, int fwd)
{
    peer_r2_bank_t *b = calloc(1, sizeof(*b));
    int c;
    if (b == NULL)
        return NULL;
    b->channels = channels;
    b->st = calloc((size_t) channels, sizeof(*b->st));
    if (b->st == NULL)
        goto fail;
    for (c = 0;  c < channels;  c++)
        if ((b->st[c] = r2_mf_rx_init(NULL, fwd, bank_cb, b)) == NULL)
            goto fail;
    return b;
fail:
    peer_r2_bank_free(b);
    return NULL;
}

int peer_r2_bank_run(peer_r2_bank_t *b, const int16_t *x, int64_t stride, int64_t samples, int chunk)
{
    int64_t off;
    int c;
    for (off = 0;  off < samples;  off += chunk) {
        int n = (samples - off < chunk) ? (int) (samples - off) : chunk;
        for (c = 0;  c < b->channels;  c++)
            r2_mf_rx(b->st[c], x + c*stride + off, n);
    }
    return 0;
}

int64_t peer_r2_bank_count(const peer_r2_bank_t *b)
{
    return b->count;
}
"""

R2_SYMBOLS = "1234567890BCDEF"


class SpandspR2Bank:
    """`channels` r2_mf_rx states fed from one (channels x samples) int16 buffer per call, in C."""

    def __init__(self, peer: SpandspMf, channels: int, fwd: bool) -> None:
        self._ffi, self._lib = peer.ffi, peer.lib
        raw = self._lib.peer_r2_bank_new(channels, int(fwd))
        if raw == self._ffi.NULL:
            raise MemoryError("peer_r2_bank_new failed")
        self._bank = self._ffi.gc(raw, self._lib.peer_r2_bank_free)
        self.channels = channels

    def bind(self, x: npt.NDArray[np.int16], chunk: int) -> Callable[[], None]:
        """Check x once; return a call feeding its current contents `chunk` samples at a time."""
        if x.dtype != np.int16 or x.ndim != 2 or x.shape[0] != self.channels or x.strides[1] != 2:
            raise ValueError(f"x: expected ({self.channels}, samples) int16 with contiguous rows")
        args = (self._bank, self._ffi.cast("int16_t *", x.ctypes.data), x.strides[0] // 2, x.shape[1], chunk)
        fn = self._lib.peer_r2_bank_run

        def call() -> None:
            fn(*args)

        call.keepalive = x  # type: ignore[attr-defined]
        return call

    @property
    def count(self) -> int:
        """Tone-on reports over all channels so far."""
        return int(self._lib.peer_r2_bank_count(self._bank))


class SpandspMf:
    """spandsp 0.0.6 Bell MF and R2 MF, one cffi call per buffer."""

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi = ffi
        self.lib = lib

    def r2_tx(self, fwd: bool, items: list[tuple[int, int, int]]) -> npt.NDArray[np.int16]:
        """(signal 1..15, on samples, off samples) in turn from one r2_mf_tx state (-11 dBm0 per tone)."""
        n = len(items)
        sig = self.ffi.new("int[]", [s for s, _, _ in items])
        on = self.ffi.new("int[]", [a for _, a, _ in items])
        off = self.ffi.new("int[]", [b for _, _, b in items])
        total = sum(a + b for _, a, b in items)
        out = np.zeros(total, dtype=np.int16)
        rc = self.lib.peer_r2_tx(
            int(fwd), sig, on, off, n, self.ffi.cast("int16_t *", out.ctypes.data), total
        )
        if rc != 0:
            raise RuntimeError(f"peer_r2_tx failed ({rc})")
        return out

    def bell_tx(self, digits: str) -> npt.NDArray[np.int16]:
        """bell_mf_tx of `digits` (its own timing: KP 100 ms, others 68 ms, 68 ms gaps)."""
        bad = [d for d in digits if d not in R1_SYMBOLS]
        if bad:
            raise ValueError(f"digits: {bad[0]!r} is not a Bell MF symbol")
        cap = len(digits) * 1800 + 8000
        out = np.zeros(cap, dtype=np.int16)
        produced = self.ffi.new("int64_t *")
        rc = self.lib.peer_bell_tx(
            digits.encode(), self.ffi.cast("int16_t *", out.ctypes.data), cap, produced
        )
        if rc != 0:
            raise RuntimeError(f"peer_bell_tx failed ({rc})")
        return out[: produced[0]].copy()

    def r2_rx(self, fwd: bool, x: npt.ArrayLike, chunk: int = 80) -> list[tuple[int, int]]:
        """Fresh r2_mf_rx over x: (signal 1..15, or 0 for tone off, sample at the end of the call)."""
        a = np.ascontiguousarray(x, dtype=np.int16)
        cap = a.size // 40 + 16
        codes = self.ffi.new("int[]", cap)
        at = self.ffi.new("int64_t[]", cap)
        got = self.lib.peer_r2_rx(
            int(fwd), self.ffi.cast("int16_t *", a.ctypes.data), a.size, chunk, codes, at, cap
        )
        if got < 0:
            raise RuntimeError("peer_r2_rx failed")
        out = []
        for i in range(min(got, cap)):
            c = codes[i]
            out.append((R2_SYMBOLS.index(chr(c)) + 1 if c else 0, int(at[i])))
        return out

    def bell_rx(self, x: npt.ArrayLike, chunk: int = 80) -> list[tuple[str, int]]:
        """Fresh bell_mf_rx over x: (symbol, sample at the end of the call that reported it)."""
        a = np.ascontiguousarray(x, dtype=np.int16)
        cap = a.size // 80 + 16
        digits = self.ffi.new("char[]", cap)
        at = self.ffi.new("int64_t[]", cap)
        got = self.lib.peer_bell_rx(self.ffi.cast("int16_t *", a.ctypes.data), a.size, chunk, digits, at, cap)
        if got < 0:
            raise RuntimeError("peer_bell_rx failed")
        raw = self.ffi.buffer(digits, min(got, cap))[:]
        return [(chr(raw[i]), int(at[i])) for i in range(min(got, cap))]

    def r2_bank(self, channels: int, fwd: bool) -> SpandspR2Bank:
        return SpandspR2Bank(self, channels, fwd)


@functools.cache
def load() -> SpandspMf:
    """Build (once per source version) and load the shim."""
    mod = build_spandsp_shim("_ccboard_spandsp_mf_peer", CDEF, SOURCE)
    return SpandspMf(mod.ffi, mod.lib)
