"""libspandsp 0.0.6's caller-ID transmitter and receiver (adsi_tx / adsi_rx) as a peer, through cffi.

Built like tests/peers/spandsp.py (compiled at first use into build/peers/, rebuilt when the source
changes). 0.0.6 API (/usr/include/spandsp/adsi.h): `adsi_tx_init(s, standard)`,
`adsi_tx_put_message(s, msg, len)` (FSK: type, length, body, the checksum added by spandsp;
CLIP_DTMF: the digit string), `adsi_tx(s, amp, max_len)`; `adsi_rx_init(s, standard, put_msg,
user)` with `put_msg(user, msg, len)` per message (FSK: type, length, body after the checksum held;
DTMF: the digits up to and including '#' or 'C'), `adsi_rx(s, amp, len)`.
Standards: ADSI_STANDARD_CLASS (Bell 202), ADSI_STANDARD_CLIP (V.23), ADSI_STANDARD_CLIP_DTMF.
Every loop over samples and channels runs inside the shim: one cffi call per buffer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from tests.peers.shim import build_spandsp_shim

__all__ = ["STANDARDS", "SpandspAdsi", "SpandspAdsiBank", "load"]

CDEF = """
typedef struct peer_adsi_bank_s peer_adsi_bank_t;
int peer_adsi_standard(const char *name);
int peer_adsi_tx(int standard, const uint8_t *msg, int len, int16_t *out, int64_t max, int64_t *produced);
peer_adsi_bank_t *peer_adsi_bank_new(int channels, int standard, int capacity);
void peer_adsi_bank_free(peer_adsi_bank_t *b);
int peer_adsi_bank_reset(peer_adsi_bank_t *b);
int peer_adsi_bank_run(peer_adsi_bank_t *b, const int16_t *x, int64_t stride, int64_t samples, int chunk);
int64_t peer_adsi_bank_count(const peer_adsi_bank_t *b, int channel);
int peer_adsi_bank_message(const peer_adsi_bank_t *b, int channel, int64_t i, uint8_t *out, int64_t *at);
"""

SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

#define PEER_MSG 256

typedef struct peer_adsi_bank_s peer_adsi_bank_t;

int peer_adsi_standard(const char *name)
{
    if (strcmp(name, "bell202") == 0) return ADSI_STANDARD_CLASS;
    if (strcmp(name, "v23") == 0) return ADSI_STANDARD_CLIP;
    if (strcmp(name, "dtmf") == 0) return ADSI_STANDARD_CLIP_DTMF;
    return -1;
}

/* One message from a fresh adsi_tx, generated until the transmitter stops. */
int peer_adsi_tx(int standard, const uint8_t *msg, int len, int16_t *out, int64_t max, int64_t *produced)
{
    adsi_tx_state_t *s = adsi_tx_init(NULL, standard);
    int64_t pos = 0;
    if (s == NULL)
        return -1;
    if (adsi_tx_put_message(s, msg, len) <= 0) {
        adsi_tx_free(s);
        return -2;
    }
    while (pos < max) {
        int want = (max - pos < 160) ? (int) (max - pos) : 160;
        int n = adsi_tx(s, out + pos, want);
        pos += n;
        if (n < want)
            break;
    }
    adsi_tx_free(s);
    *produced = pos;
    return 0;
}

typedef struct {
    adsi_rx_state_t *st;
    int64_t samples;
    int64_t call_end;
    int64_t n;
    int64_t capacity;
    uint8_t *msgs;     /* capacity x (1 length octet + PEER_MSG) */
    int64_t *at;
} peer_adsi_chan_t;

struct peer_adsi_bank_s {
    int channels;
    int standard;
    peer_adsi_chan_t *ch;
};

static void peer_put_msg(void *user, const uint8_t *msg, int len)
{
    peer_adsi_chan_t *c = (peer_adsi_chan_t *) user;
    if (c->n < c->capacity) {
        uint8_t *slot = c->msgs + c->n * (PEER_MSG + 1);
        if (len > PEER_MSG)
            len = PEER_MSG;
        slot[0] = (uint8_t) len;
        memcpy(slot + 1, msg, (size_t) len);
        c->at[c->n] = c->call_end;
    }
    c->n++;
}

void peer_adsi_bank_free(peer_adsi_bank_t *b)
{
    int c;
    if (b == NULL)
        return;
    if (b->ch != NULL) {
        for (c = 0;  c < b->channels;  c++) {
            if (b->ch[c].st != NULL)
                adsi_rx_free(b->ch[c].st);
            free(b->ch[c].msgs);
            free(b->ch[c].at);
        }
        free(b->ch);
    }
    free(b);
}

int peer_adsi_bank_reset(peer_adsi_bank_t *b)
{
    int c;
    for (c = 0;  c < b->channels;  c++) {
        peer_adsi_chan_t *ch = &b->ch[c];
        if (ch->st != NULL)
            adsi_rx_free(ch->st);
        ch->st = adsi_rx_init(NULL, b->standard, peer_put_msg, ch);
        if (ch->st == NULL)
            return -1;
        ch->samples = 0;
        ch->call_end = 0;
        ch->n = 0;
    }
    return 0;
}

peer_adsi_bank_t *peer_adsi_bank_new(int channels, int standard, int capacity)
{
    peer_adsi_bank_t *b = calloc(1, sizeof(*b));
    int c;
    if (b == NULL)
        return NULL;
    b->channels = channels;
    b->standard = standard;
    b->ch = calloc((size_t) channels, sizeof(*b->ch));
    if (b->ch == NULL)
        goto fail;
    for (c = 0;  c < channels;  c++) {
        b->ch[c].capacity = capacity;
        b->ch[c].msgs = malloc((size_t) (capacity > 0 ? capacity : 1) * (PEER_MSG + 1));
        b->ch[c].at = malloc((size_t) (capacity > 0 ? capacity : 1) * sizeof(int64_t));
        if (b->ch[c].msgs == NULL || b->ch[c].at == NULL)
            goto fail;
    }
    if (peer_adsi_bank_reset(b) != 0)
        goto fail;
    return b;
fail:
    peer_adsi_bank_free(b);
    return NULL;
}

/* Tick-major: every `chunk` samples, every channel in turn. */
int peer_adsi_bank_run(peer_adsi_bank_t *b, const int16_t *x, int64_t stride, int64_t samples, int chunk)
{
    int64_t off;
    int c;
    if (chunk <= 0)
        return -1;
    for (off = 0;  off < samples;  off += chunk) {
        int n = (samples - off < chunk) ? (int) (samples - off) : chunk;
        for (c = 0;  c < b->channels;  c++) {
            peer_adsi_chan_t *ch = &b->ch[c];
            ch->call_end = ch->samples + n;
            adsi_rx(ch->st, x + c*stride + off, n);
            ch->samples += n;
        }
    }
    return 0;
}

int64_t peer_adsi_bank_count(const peer_adsi_bank_t *b, int channel)
{
    return b->ch[channel].n;
}

int peer_adsi_bank_message(const peer_adsi_bank_t *b, int channel, int64_t i, uint8_t *out, int64_t *at)
{
    const peer_adsi_chan_t *c = &b->ch[channel];
    const uint8_t *slot;
    if (i < 0 || i >= c->n || i >= c->capacity)
        return -1;
    slot = c->msgs + i * (PEER_MSG + 1);
    memcpy(out, slot + 1, slot[0]);
    *at = c->at[i];
    return slot[0];
}
"""

STANDARDS = ("bell202", "v23", "dtmf")


class SpandspAdsiBank:
    """`channels` spandsp adsi_rx states of one standard fed from one (channels x samples) buffer
    per call (int16, rows C-contiguous), each `chunk` samples of every channel in turn."""

    def __init__(self, peer: SpandspAdsi, channels: int, standard: str, capacity: int = 64) -> None:
        if channels < 1:
            raise ValueError(f"channels: {channels} < 1")
        self._ffi = peer.ffi
        self._lib = peer.lib
        raw = self._lib.peer_adsi_bank_new(channels, peer.standard_code(standard), capacity)
        if raw == self._ffi.NULL:
            raise MemoryError("peer_adsi_bank_new failed")
        self._bank = self._ffi.gc(raw, self._lib.peer_adsi_bank_free)
        self.channels = channels
        self.standard = standard

    def reset(self) -> None:
        """Fresh receivers; message lists emptied."""
        if self._lib.peer_adsi_bank_reset(self._bank) != 0:
            raise MemoryError("adsi_rx_init failed")

    def bind(self, x: npt.NDArray[np.int16], chunk: int = 160) -> Callable[[], None]:
        """Check x once; return a call that feeds its current contents (benchmark loops)."""
        if not isinstance(x, np.ndarray) or x.dtype != np.int16:
            raise TypeError("x: expected a numpy array of int16")
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"x: shape {x.shape} is not ({self.channels}, samples)")
        if x.shape[1] > 1 and x.strides[1] != 2 or x.strides[0] % 2 or x.strides[0] < 0:
            raise ValueError("x: rows must be C-contiguous")
        if chunk < 1:
            raise ValueError(f"chunk: {chunk} < 1")
        args = (self._bank, self._ffi.cast("int16_t *", x.ctypes.data), x.strides[0] // 2, x.shape[1], chunk)
        fn = self._lib.peer_adsi_bank_run

        def call() -> None:
            if fn(*args) != 0:
                raise RuntimeError("peer_adsi_bank_run failed")

        call.keepalive = x  # type: ignore[attr-defined]
        return call

    def run(self, x: npt.NDArray[np.int16], chunk: int = 160) -> None:
        self.bind(x, chunk)()

    def count(self, channel: int = 0) -> int:
        return int(self._lib.peer_adsi_bank_count(self._bank, channel))

    def messages(self, channel: int = 0) -> list[tuple[bytes, int]]:
        """(message, sample position of the end of the call that delivered it)."""
        out: list[tuple[bytes, int]] = []
        buf = self._ffi.new("uint8_t[]", 256)
        at = self._ffi.new("int64_t *")
        for i in range(self.count(channel)):
            n = self._lib.peer_adsi_bank_message(self._bank, channel, i, buf, at)
            if n < 0:
                break
            out.append((bytes(self._ffi.buffer(buf, n)), int(at[0])))
        return out


class SpandspAdsi:
    """spandsp 0.0.6 adsi_tx / adsi_rx."""

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi = ffi
        self.lib = lib

    def standard_code(self, standard: str) -> int:
        code = int(self.lib.peer_adsi_standard(standard.encode()))
        if code < 0:
            raise ValueError(f"standard: {standard!r} is not one of {STANDARDS}")
        return code

    def tx(self, standard: str, message: bytes | str) -> npt.NDArray[np.int16]:
        """spandsp's line audio for one message (FSK: type, length, body; DTMF: the digits)."""
        raw = message.encode("ascii") if isinstance(message, str) else bytes(message)
        cap = 8000 * 10
        out = np.zeros(cap, dtype=np.int16)
        produced = self.ffi.new("int64_t *")
        rc = self.lib.peer_adsi_tx(
            self.standard_code(standard),
            raw,
            len(raw),
            self.ffi.cast("int16_t *", out.ctypes.data),
            cap,
            produced,
        )
        if rc != 0:
            raise RuntimeError(f"peer_adsi_tx failed ({rc})")
        return out[: produced[0]].copy()

    def rx(self, standard: str, x: npt.ArrayLike, chunk: int = 160) -> list[tuple[bytes, int]]:
        """Run one fresh adsi_rx over x (1-D int16); the messages it delivered."""
        a = np.ascontiguousarray(x, dtype=np.int16).reshape(1, -1)
        bank = SpandspAdsiBank(self, 1, standard)
        bank.run(a, chunk)
        return bank.messages(0)

    def bank(self, channels: int, standard: str, capacity: int = 64) -> SpandspAdsiBank:
        return SpandspAdsiBank(self, channels, standard, capacity)


@functools.cache
def load() -> SpandspAdsi:
    """Build (once per source version) and load the shim."""
    mod = build_spandsp_shim("_ccboard_spandsp_adsi_peer", CDEF, SOURCE)
    return SpandspAdsi(mod.ffi, mod.lib)
