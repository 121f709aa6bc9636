"""libspandsp 0.0.6's super_tone_tx / super_tone_rx and modem_connect_tones_tx / _rx as a peer (cffi shim).

Built like tests/peers/spandsp.py (compiled at first use into build/peers/, rebuilt when the source
changes). 0.0.6 API: `super_tone_rx_init(s, desc, tone_report_func_t cb, user)` with `cb(user, code,
level, delay)` (code -1 = the tone stopped), `super_tone_tx_make_step(s, f1, l1, f2, l2, ms, cycles)`
whose `nest`/`next` links (private/super_tone_tx.h, exposed with SPANDSP_EXPOSE_INTERNAL_STRUCTURES)
make cadence trees, `modem_connect_tones_tx_init(s, type)`, `modem_connect_tones_rx_init(s, type, cb,
user)`. Every loop over samples and channels runs in the shim. Audio is 8000 Hz int16; levels dBm0.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tests.peers.shim import build_spandsp_shim

__all__ = ["MODEM_TONES", "SpandspSuperToneBank", "SpandspTone", "load"]

# modem_connect_tones.h (0.0.6) tone types.
MODEM_TONES = {"CNG": 1, "ANS": 2, "ANS_PR": 3, "ANSAM": 4, "ANSAM_PR": 5}

CDEF = """
typedef struct peer_st_bank_s peer_st_bank_t;
int peer_st_tx(const float *f1, const float *f2, const float *level, const int *ms, int n, int cycles,
               int16_t *out, int64_t max);
peer_st_bank_t *peer_st_bank_new(int channels, int nelem, const int *tone, const int *f1, const int *f2,
                                 const int *min_ms, const int *max_ms, int capacity);
void peer_st_bank_free(peer_st_bank_t *b);
int peer_st_bank_run(peer_st_bank_t *b, const int16_t *x, int64_t stride, int64_t samples, int chunk);
int64_t peer_st_bank_events(peer_st_bank_t *b, int channel, int *codes, int64_t *at, int64_t max);
int peer_mct_tx(int type, int16_t *out, int64_t n);
int64_t peer_mct_rx(int type, const int16_t *x, int64_t n, int chunk, int *codes, int64_t *at, int64_t max);
"""

SOURCE = r"""
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

typedef struct peer_st_bank_s peer_st_bank_t;

/* Steps k = 0..n-1 (frequency 0 = none) nested under one step repeated `cycles` times (0 = for ever). */
int peer_st_tx(const float *f1, const float *f2, const float *level, const int *ms, int n, int cycles,
               int16_t *out, int64_t max)
{
    super_tone_tx_step_t *root = super_tone_tx_make_step(NULL, 0.0f, 0.0f, 0.0f, 0.0f, 0, cycles);
    super_tone_tx_step_t *prev = NULL;
    super_tone_tx_state_t *s;
    int64_t pos = 0;
    int k;
    for (k = 0;  k < n;  k++) {
        super_tone_tx_step_t *st = super_tone_tx_make_step(NULL, f1[k], level[k], f2[k], level[k], ms[k], 1);
        if (prev)
            prev->next = st;
        else
            root->nest = st;
        prev = st;
    }
    s = super_tone_tx_init(NULL, root);
    memset(out, 0, (size_t) max*sizeof(int16_t));
    while (pos < max) {
        int want = (max - pos < 160) ? (int) (max - pos) : 160;
        int got = super_tone_tx(s, out + pos, want);
        if (got <= 0)
            break;
        pos += got;
    }
    super_tone_tx_free(s);
    super_tone_tx_free_tone(root);
    return (int) pos;
}

typedef struct {
    super_tone_rx_state_t *st;
    int64_t samples;
    int64_t n, capacity;
    int *codes;
    int64_t *at;
} peer_st_chan_t;

struct peer_st_bank_s {
    int channels;
    super_tone_rx_descriptor_t *desc;
    peer_st_chan_t *ch;
};

static void peer_st_cb(void *user, int code, int level, int delay)
{
    peer_st_chan_t *c = (peer_st_chan_t *) user;
    (void) level;
    (void) delay;
    if (c->n < c->capacity) {
        c->codes[c->n] = code;
        c->at[c->n] = c->samples;
    }
    c->n++;
}

void peer_st_bank_free(peer_st_bank_t *b)
{
    int c;
    if (b == NULL)
        return;
    for (c = 0;  c < b->channels && b->ch;  c++) {
        if (b->ch[c].st)
            super_tone_rx_free(b->ch[c].st);
        free(b->ch[c].codes);
        free(b->ch[c].at);
    }
    free(b->ch);
    if (b->desc)
        super_tone_rx_free_descriptor(b->desc);
    free(b);
}

peer_st_bank_t *peer_st_bank_new(int channels, int nelem, const int *tone, const int *f1, const int *f2,
                                 const int *min_ms, const int *max_ms, int capacity)
{
    peer_st_bank_t *b = calloc(1, sizeof(*b));
    int i, c, ntones = 0;
    if (b == NULL)
        return NULL;
    b->channels = channels;
    b->desc = super_tone_rx_make_descriptor(NULL);
    for (i = 0;  i < nelem;  i++) {
        while (tone[i] >= ntones) {
            super_tone_rx_add_tone(b->desc);
            ntones++;
        }
        super_tone_rx_add_element(b->desc, tone[i], f1[i], f2[i], min_ms[i], max_ms[i]);
    }
    b->ch = calloc((size_t) channels, sizeof(*b->ch));
    if (b->ch == NULL)
        goto fail;
    for (c = 0;  c < channels;  c++) {
        b->ch[c].capacity = capacity;
        b->ch[c].codes = malloc((size_t) capacity*sizeof(int));
        b->ch[c].at = malloc((size_t) capacity*sizeof(int64_t));
        b->ch[c].st = super_tone_rx_init(NULL, b->desc, peer_st_cb, &b->ch[c]);
        if (b->ch[c].st == NULL || b->ch[c].codes == NULL || b->ch[c].at == NULL)
            goto fail;
    }
    return b;
fail:
    peer_st_bank_free(b);
    return NULL;
}

/* Tick-major: every chunk of every channel in turn, as a real-time system runs. */
int peer_st_bank_run(peer_st_bank_t *b, const int16_t *x, int64_t stride, int64_t samples, int chunk)
{
    int64_t off;
    int c;
    for (off = 0;  off < samples;  off += chunk) {
        int n = (samples - off < chunk) ? (int) (samples - off) : chunk;
        for (c = 0;  c < b->channels;  c++) {
            peer_st_chan_t *ch = &b->ch[c];
            ch->samples += n;
            super_tone_rx(ch->st, x + c*stride + off, n);
        }
    }
    return 0;
}

int64_t peer_st_bank_events(peer_st_bank_t *b, int channel, int *codes, int64_t *at, int64_t max)
{
    peer_st_chan_t *c = &b->ch[channel];
    int64_t n = c->n < c->capacity ? c->n : c->capacity;
    if (n > max)
        n = max;
    memcpy(codes, c->codes, (size_t) n*sizeof(int));
    memcpy(at, c->at, (size_t) n*sizeof(int64_t));
    return n;
}

int peer_mct_tx(int type, int16_t *out, int64_t n)
{
    modem_connect_tones_tx_state_t *s = modem_connect_tones_tx_init(NULL, type);
    int64_t pos = 0;
    if (s == NULL)
        return -1;
    while (pos < n) {
        int want = (n - pos < 160) ? (int) (n - pos) : 160;
        int got = modem_connect_tones_tx(s, out + pos, want);
        if (got < want)
            memset(out + pos + got, 0, (size_t) (want - got)*sizeof(int16_t));
        pos += want;
    }
    modem_connect_tones_tx_free(s);
    return 0;
}

typedef struct {
    int64_t samples, n, max;
    int *codes;
    int64_t *at;
} peer_mct_log_t;

static void peer_mct_cb(void *user, int code, int level, int delay)
{
    peer_mct_log_t *g = (peer_mct_log_t *) user;
    (void) level;
    (void) delay;
    if (g->n < g->max) {
        g->codes[g->n] = code;
        g->at[g->n] = g->samples;
    }
    g->n++;
}

int64_t peer_mct_rx(int type, const int16_t *x, int64_t n, int chunk, int *codes, int64_t *at, int64_t max)
{
    peer_mct_log_t g = {0, 0, max, codes, at};
    modem_connect_tones_rx_state_t *s = modem_connect_tones_rx_init(NULL, type, peer_mct_cb, &g);
    int64_t off;
    if (s == NULL)
        return -1;
    for (off = 0;  off < n;  off += chunk) {
        int k = (n - off < chunk) ? (int) (n - off) : chunk;
        g.samples = off + k;
        modem_connect_tones_rx(s, x + off, k);
    }
    modem_connect_tones_rx_free(s);
    return g.n < max ? g.n : max;
}
"""


class SpandspSuperToneBank:
    """`channels` super_tone_rx states sharing one descriptor; tones are lists of elements
    (f1, f2, min_ms, max_ms) with f = 0 for silence (spandsp's own convention). Reports are
    (code, sample at the end of the chunk in which spandsp reported it); code -1 = tone ended."""

    def __init__(
        self, peer: SpandspTone, channels: int, tones: Sequence[Sequence[tuple[int, int, int, int]]]
    ):
        self._ffi, self._lib = peer.ffi, peer.lib
        rows = [(t, *el) for t, els in enumerate(tones) for el in els]
        cols = [self._ffi.new("int[]", [r[i] for r in rows]) for i in range(5)]
        raw = self._lib.peer_st_bank_new(channels, len(rows), *cols, 1024)
        if raw == self._ffi.NULL:
            raise MemoryError("peer_st_bank_new failed")
        self._bank = self._ffi.gc(raw, self._lib.peer_st_bank_free)
        self.channels = channels

    def bind(self, x: npt.NDArray[np.int16], chunk: int) -> Callable[[], None]:
        """Check x once; return a call feeding its current contents `chunk` samples at a time."""
        if x.dtype != np.int16 or x.ndim != 2 or x.shape[0] != self.channels or x.strides[1] != 2:
            raise ValueError("x: expected (channels, samples) int16 with contiguous rows")
        ptr = self._ffi.cast("int16_t *", x.ctypes.data)
        stride, n, bank, run = x.strides[0] // 2, x.shape[1], self._bank, self._lib.peer_st_bank_run

        def call() -> None:
            run(bank, ptr, stride, n, chunk)
            del_ok = x  # the closure keeps x (and so ptr) alive
            del del_ok

        return call

    def events(self, channel: int) -> list[tuple[int, int]]:
        codes = self._ffi.new("int[]", 1024)
        at = self._ffi.new("int64_t[]", 1024)
        n = self._lib.peer_st_bank_events(self._bank, channel, codes, at, 1024)
        return [(int(codes[i]), int(at[i])) for i in range(n)]


class SpandspTone:
    """The loaded shim: generators and receivers of super tones and modem connect tones."""

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi, self.lib = ffi, lib

    def super_tone_tx(
        self, steps: Sequence[tuple[float, float, float, int]], samples: int, cycles: int = 0
    ) -> npt.NDArray[np.int16]:
        """steps (f1, f2, level_dbm0, ms) repeated `cycles` times (0 = for ever), `samples` long."""
        out = np.zeros(samples, dtype=np.int16)
        cols = [self.ffi.new("float[]", [s[i] for s in steps]) for i in range(3)]
        ms = self.ffi.new("int[]", [s[3] for s in steps])
        self.lib.peer_st_tx(
            *cols, ms, len(steps), cycles, self.ffi.cast("int16_t *", out.ctypes.data), samples
        )
        return out

    def modem_tone_tx(self, tone: str, samples: int) -> npt.NDArray[np.int16]:
        out = np.zeros(samples, dtype=np.int16)
        if self.lib.peer_mct_tx(MODEM_TONES[tone], self.ffi.cast("int16_t *", out.ctypes.data), samples) != 0:
            raise ValueError(f"tone: spandsp refused {tone!r}")
        return out

    def modem_tone_rx(self, tone: str, x: npt.NDArray[np.int16], chunk: int = 160) -> list[tuple[int, int]]:
        """Reports (code, sample at the end of the chunk) of a receiver looking for `tone`."""
        x = np.ascontiguousarray(x, dtype=np.int16)
        codes = self.ffi.new("int[]", 256)
        at = self.ffi.new("int64_t[]", 256)
        n = self.lib.peer_mct_rx(
            MODEM_TONES[tone], self.ffi.cast("int16_t *", x.ctypes.data), len(x), chunk, codes, at, 256
        )
        return [(int(codes[i]), int(at[i])) for i in range(n)]


@functools.cache
def load() -> SpandspTone:
    """Build (once per source version) and load the shim."""
    mod = build_spandsp_shim("_ccboard_spandsp_tone_peer", CDEF, SOURCE)
    return SpandspTone(mod.ffi, mod.lib)
