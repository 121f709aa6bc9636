"""libspandsp 0.0.6's HDLC transmitter and receiver (hdlc_tx/hdlc_rx, CRC-16) as a peer, through cffi.

Built like tests/peers/spandsp.py (compiled at first use into build/peers/, rebuilt when the source
changes). 0.0.6 API: `hdlc_tx_init(s, crc32, inter_frame_flags, progressive, underflow_cb, user)`,
`hdlc_tx_frame` takes one frame at a time (the shim queues the next from the underflow callback),
`hdlc_rx_init(s, crc32, report_bad_frames, framing_ok_threshold, frame_cb, user)` with
`frame_cb(user, pkt, len, ok)` (len < 0: a status report, not a frame).

Line order: spandsp's bit interface (hdlc_tx_get_bit / hdlc_rx_put_bit) is the line; the shim packs
and unpacks it bit 0 first per octet, as our kernel and DAHDI's D-channel do ("bits" mode). Its
octet interface (hdlc_tx_get / hdlc_rx_put) puts the first line bit in bit 7 ("octets" mode: the
same line, each octet bit-reversed), which is spandsp's fast path, used by the benchmarks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tests.peers.shim import build_spandsp_shim

__all__ = ["BIT_REVERSE", "Mode", "SpandspHdlc", "SpandspHdlcRx", "load"]

Mode = Literal["bits", "octets"]
_MODES = {"bits": 0, "octets": 1}
# Octet with its bit order reversed: turns our line octets into spandsp's octet-interface ones.
BIT_REVERSE = np.array([int(f"{i:08b}"[::-1], 2) for i in range(256)], dtype=np.uint8)

CDEF = """
typedef struct peer_hdlc_tx_s peer_hdlc_tx_t;
typedef struct peer_hdlc_rx_s peer_hdlc_rx_t;
peer_hdlc_tx_t *peer_hdlc_tx_new(int inter_frame_flags);
void peer_hdlc_tx_free(peer_hdlc_tx_t *t);
void peer_hdlc_tx_load(peer_hdlc_tx_t *t, const uint8_t *frames, const int64_t *lens, int n);
int peer_hdlc_tx_run(peer_hdlc_tx_t *t, uint8_t *out, int64_t n, int mode);
int peer_hdlc_tx_sent(const peer_hdlc_tx_t *t);
peer_hdlc_rx_t *peer_hdlc_rx_new(int max_len, int64_t capacity);
void peer_hdlc_rx_free(peer_hdlc_rx_t *r);
void peer_hdlc_rx_clear(peer_hdlc_rx_t *r);
int peer_hdlc_rx_run(peer_hdlc_rx_t *r, const uint8_t *x, int64_t n, int chunk, int mode);
int64_t peer_hdlc_rx_count(const peer_hdlc_rx_t *r);
int64_t peer_hdlc_rx_frame(const peer_hdlc_rx_t *r, int64_t i, uint8_t *out, int64_t max, int *ok);
void peer_hdlc_rx_stats(peer_hdlc_rx_t *r, uint64_t *out);
"""

SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

typedef struct peer_hdlc_tx_s {
    hdlc_tx_state_t *tx;
    const uint8_t *frames;
    const int64_t *lens;
    int n, next;
    int64_t off;
} peer_hdlc_tx_t;

/* Called by spandsp when it wants the next frame. */
static void tx_underflow(void *user)
{
    peer_hdlc_tx_t *t = (peer_hdlc_tx_t *) user;
    if (t->next < t->n && hdlc_tx_frame(t->tx, t->frames + t->off, (size_t) t->lens[t->next]) == 0) {
        t->off += t->lens[t->next];
        t->next++;
    }
}

peer_hdlc_tx_t *peer_hdlc_tx_new(int inter_frame_flags)
{
    peer_hdlc_tx_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->tx = hdlc_tx_init(NULL, 0, inter_frame_flags, 0, tx_underflow, t);
    if (t->tx == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void peer_hdlc_tx_free(peer_hdlc_tx_t *t)
{
    if (t == NULL)
        return;
    hdlc_tx_free(t->tx);
    free(t);
}

/* frames: the n frames back to back; they must stay alive while the transmitter runs. */
void peer_hdlc_tx_load(peer_hdlc_tx_t *t, const uint8_t *frames, const int64_t *lens, int n)
{
    t->frames = frames;
    t->lens = lens;
    t->n = n;
    t->next = 0;
    t->off = 0;
    /* an opening flag first: spandsp starts a frame loaded at once without one */
    hdlc_tx_flags(t->tx, 1);
    tx_underflow(t);
}

int peer_hdlc_tx_run(peer_hdlc_tx_t *t, uint8_t *out, int64_t n, int mode)
{
    int64_t i;
    int b;
    if (mode == 1) {
        hdlc_tx_get(t->tx, out, (size_t) n);
        return 0;
    }
    for (i = 0;  i < n;  i++) {
        uint8_t v = 0;
        for (b = 0;  b < 8;  b++)
            v |= (uint8_t) ((hdlc_tx_get_bit(t->tx) & 1) << b);
        out[i] = v;
    }
    return 0;
}

int peer_hdlc_tx_sent(const peer_hdlc_tx_t *t)
{
    return t->next;
}

typedef struct peer_hdlc_rx_s {
    hdlc_rx_state_t *rx;
    int64_t capacity;   /* octets of frame storage */
    int64_t used;
    int64_t count;      /* frames reported (stored while they fit) */
    int64_t stored;
    int64_t *off;
    int64_t *len;
    int *ok;
    uint8_t *data;
} peer_hdlc_rx_t;

static void rx_frame(void *user, const uint8_t *pkt, int len, int ok)
{
    peer_hdlc_rx_t *r = (peer_hdlc_rx_t *) user;
    if (len < 0)
        return;  /* status report */
    r->count++;
    if (r->capacity == 0 || r->used + len > r->capacity || r->stored >= r->capacity)
        return;
    memcpy(r->data + r->used, pkt, (size_t) len);
    r->off[r->stored] = r->used;
    r->len[r->stored] = len;
    r->ok[r->stored] = ok;
    r->used += len;
    r->stored++;
}

void peer_hdlc_rx_free(peer_hdlc_rx_t *r)
{
    if (r == NULL)
        return;
    if (r->rx != NULL)
        hdlc_rx_free(r->rx);
    free(r->off);
    free(r->len);
    free(r->ok);
    free(r->data);
    free(r);
}

peer_hdlc_rx_t *peer_hdlc_rx_new(int max_len, int64_t capacity)
{
    peer_hdlc_rx_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->capacity = capacity;
    r->off = calloc((size_t) capacity + 1, sizeof(int64_t));
    r->len = calloc((size_t) capacity + 1, sizeof(int64_t));
    r->ok = calloc((size_t) capacity + 1, sizeof(int));
    r->data = malloc((size_t) capacity + 1);
    r->rx = hdlc_rx_init(NULL, 0, 1, 1, rx_frame, r);
    if (r->off == NULL || r->len == NULL || r->ok == NULL || r->data == NULL || r->rx == NULL) {
        peer_hdlc_rx_free(r);
        return NULL;
    }
    hdlc_rx_set_max_frame_len(r->rx, (size_t) max_len);
    return r;
}

void peer_hdlc_rx_clear(peer_hdlc_rx_t *r)
{
    r->used = r->count = r->stored = 0;
}

int peer_hdlc_rx_run(peer_hdlc_rx_t *r, const uint8_t *x, int64_t n, int chunk, int mode)
{
    int64_t i, off;
    int b;
    if (mode == 1) {
        for (off = 0;  off < n;  off += chunk)
            hdlc_rx_put(r->rx, x + off, (int) ((n - off < chunk) ? n - off : chunk));
        return 0;
    }
    for (i = 0;  i < n;  i++)
        for (b = 0;  b < 8;  b++)
            hdlc_rx_put_bit(r->rx, (x[i] >> b) & 1);
    return 0;
}

int64_t peer_hdlc_rx_count(const peer_hdlc_rx_t *r)
{
    return r->count;
}

int64_t peer_hdlc_rx_frame(const peer_hdlc_rx_t *r, int64_t i, uint8_t *out, int64_t max, int *ok)
{
    int64_t len;
    if (i < 0 || i >= r->stored)
        return -1;
    len = (r->len[i] < max) ? r->len[i] : max;
    memcpy(out, r->data + r->off[i], (size_t) len);
    *ok = r->ok[i];
    return r->len[i];
}

/* good frames, CRC errors, length errors, aborts, good octets */
void peer_hdlc_rx_stats(peer_hdlc_rx_t *r, uint64_t *out)
{
    hdlc_rx_stats_t st;
    memset(&st, 0, sizeof(st));
    hdlc_rx_get_stats(r->rx, &st);
    out[0] = st.good_frames;
    out[1] = st.crc_errors;
    out[2] = st.length_errors;
    out[3] = st.aborts;
    out[4] = st.bytes;
}
"""


def _u8(x: npt.ArrayLike, name: str) -> npt.NDArray[np.uint8]:
    a = np.ascontiguousarray(x, dtype=np.uint8)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected 1-D octets, got shape {a.shape}")
    return a


class SpandspHdlcRx:
    """One spandsp hdlc_rx (CRC-16, bad frames reported, 1 flag to start framing) collecting frames."""

    def __init__(self, peer: SpandspHdlc, max_len: int = 400, capacity: int = 1 << 20) -> None:
        self._ffi, self._lib = peer.ffi, peer.lib
        raw = self._lib.peer_hdlc_rx_new(max_len, capacity)
        if raw == self._ffi.NULL:
            raise MemoryError("peer_hdlc_rx_new failed")
        self._rx = self._ffi.gc(raw, self._lib.peer_hdlc_rx_free)

    def feed(self, x: npt.ArrayLike, mode: Mode = "bits", chunk: int = 1 << 20) -> None:
        """Line octets (bit 0 first in "bits" mode; bit 7 first in "octets" mode)."""
        a = _u8(x, "x")
        self._lib.peer_hdlc_rx_run(
            self._rx, self._ffi.from_buffer("uint8_t[]", a), a.size, chunk, _MODES[mode]
        )

    def bind(self, x: npt.NDArray[np.uint8], mode: Mode, chunk: int) -> Callable[[], None]:
        """A call feeding x (checked once) `chunk` octets per hdlc_rx call, frames counted only."""
        a = _u8(x, "x")
        args = (self._rx, self._ffi.from_buffer("uint8_t[]", a), a.size, chunk, _MODES[mode])
        fn = self._lib.peer_hdlc_rx_run

        def call() -> None:
            fn(*args)

        call.keepalive = a  # type: ignore[attr-defined]
        return call

    def frames(self) -> list[tuple[bytes, bool]]:
        """(octets without FCS, FCS good) per frame reported since the last clear()."""
        n = int(self._lib.peer_hdlc_rx_count(self._rx))
        buf = self._ffi.new("uint8_t[]", 1 << 16)
        ok = self._ffi.new("int *")
        out = []
        for i in range(n):
            length = int(self._lib.peer_hdlc_rx_frame(self._rx, i, buf, 1 << 16, ok))
            if length < 0:
                break
            out.append((bytes(self._ffi.buffer(buf, length)), bool(ok[0])))
        return out

    def count(self) -> int:
        return int(self._lib.peer_hdlc_rx_count(self._rx))

    def clear(self) -> None:
        self._lib.peer_hdlc_rx_clear(self._rx)

    def stats(self) -> dict[str, int]:
        """spandsp's counters: good frames, CRC errors, length errors, aborts, good octets."""
        out = self._ffi.new("uint64_t[5]")
        self._lib.peer_hdlc_rx_stats(self._rx, out)
        return dict(zip(("good", "crc_errors", "length_errors", "aborts", "octets"), out, strict=True))


class SpandspHdlc:
    """Handle on the loaded shim."""

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi = ffi
        self.lib = lib

    def tx(
        self, frames: Sequence[bytes], n: int, *, inter_frame_flags: int = 1, mode: Mode = "bits"
    ) -> tuple[npt.NDArray[np.uint8], int]:
        """n line octets of spandsp's hdlc_tx sending frames in turn; (octets, frames taken)."""
        blob = np.frombuffer(b"".join(frames), dtype=np.uint8).copy()
        lens = np.array([len(f) for f in frames], dtype=np.int64)
        out = np.zeros(n, dtype=np.uint8)
        t = self.tx_state(inter_frame_flags)
        self.lib.peer_hdlc_tx_load(
            t, self.ffi.from_buffer("uint8_t[]", blob), self.ffi.from_buffer("int64_t[]", lens), len(frames)
        )
        self.lib.peer_hdlc_tx_run(t, self.ffi.from_buffer("uint8_t[]", out), n, _MODES[mode])
        return out, int(self.lib.peer_hdlc_tx_sent(t))

    def tx_state(self, inter_frame_flags: int = 1) -> Any:
        raw = self.lib.peer_hdlc_tx_new(inter_frame_flags)
        if raw == self.ffi.NULL:
            raise MemoryError("peer_hdlc_tx_new failed")
        return self.ffi.gc(raw, self.lib.peer_hdlc_tx_free)

    def rx(self, max_len: int = 400, capacity: int = 1 << 20) -> SpandspHdlcRx:
        return SpandspHdlcRx(self, max_len, capacity)

    def decode(self, x: npt.ArrayLike, mode: Mode = "bits") -> list[tuple[bytes, bool]]:
        """Frames a fresh hdlc_rx finds in line octets x."""
        r = self.rx()
        r.feed(x, mode)
        return r.frames()


@functools.cache
def load() -> SpandspHdlc:
    """Build (once per source version) and load the shim."""
    mod = build_spandsp_shim("_ccboard_spandsp_hdlc_peer", CDEF, SOURCE)
    return SpandspHdlc(mod.ffi, mod.lib)
