/* TDM switch state layout. Private: only the kernel and bindings that embed a state include it.
 * The state is one block: this header, then arrays whose offsets follow from (slots, chunk).
 * It holds no pointer, so it can be saved and restored as bytes. */
#ifndef CCBOARD_PRIVATE_TDM_H
#define CCBOARD_PRIVATE_TDM_H

#include "ccboard/tdm.h"

#define CC_TDM_MAGIC 0x314d4454u /* "TDM1" */

/* How a connection moves samples; derived from the two laws and the gain, never trusted
 * from a saved state. */
enum {
    CC_TDM_IDLE = 0,   /* no source: the destination law's idle code */
    CC_TDM_COPY8,      /* same G.711 law at 0 dB: octets untouched */
    CC_TDM_COPY16,     /* linear to linear at 0 dB */
    CC_TDM_A2U,        /* G.711 Table 3/4 transcoding at 0 dB */
    CC_TDM_U2A,
    CC_TDM_DEC,        /* G.711 to linear at 0 dB */
    CC_TDM_ENC,        /* linear to G.711 at 0 dB */
    CC_TDM_GAIN,       /* decode, scale (ramped when g0 != g1), saturate, encode */
};

/* Applied map entry, by destination. */
typedef struct {
    int32_t src;       /* -1: none */
    float g0;          /* gain at the start of the chunk (linear factor) */
    float g1;          /* gain at its end; g0 != g1 only in a ramp chunk */
    float gain_db;     /* g1 in dB, for queries */
    int32_t kind;      /* CC_TDM_* */
} cc_tdm_conn_t;

/* Pending map entry, by destination: what the map will be after the next boundary. */
typedef struct {
    int32_t src;
    float gain;
    float gain_db;
    int32_t dirty;     /* 1: listed in the dirty list */
} cc_tdm_next_t;

struct cc_tdm_s {
    uint32_t magic;
    uint32_t slots;
    uint32_t chunk;
    uint32_t pos;       /* samples into the current chunk (= t mod chunk) */
    int64_t t;          /* samples processed */
    uint64_t size;      /* bytes of the whole state */
    uint32_t ndirty;    /* entries in the dirty list */
    uint32_t nconn;     /* connections in the applied map */
    uint32_t allocated; /* init allocated it (cc_tdm_free may free it) */
    uint32_t n8;        /* slots with a G.711 law (the others are linear) */
    /* followed by, each 64-byte aligned:
     *   uint8_t law[slots]
     *   cc_tdm_conn_t conn[slots]
     *   cc_tdm_next_t next[slots]
     *   uint32_t dirty[slots]
     *   uint8_t hist8[slots * chunk]     last chunk of input, ring indexed by t mod chunk
     *   int16_t hist16[slots * chunk] */
};

static inline size_t cc_tdm_align64_(size_t n) { return (n + 63u) & ~(size_t)63u; }

typedef struct {
    size_t law, conn, next, dirty, hist8, hist16, size;
} cc_tdm_layout_t;

static inline cc_tdm_layout_t cc_tdm_layout_(size_t slots, size_t chunk)
{
    cc_tdm_layout_t l;
    l.law = cc_tdm_align64_(sizeof(struct cc_tdm_s));
    l.conn = l.law + cc_tdm_align64_(slots);
    l.next = l.conn + cc_tdm_align64_(slots * sizeof(cc_tdm_conn_t));
    l.dirty = l.next + cc_tdm_align64_(slots * sizeof(cc_tdm_next_t));
    l.hist8 = l.dirty + cc_tdm_align64_(slots * sizeof(uint32_t));
    l.hist16 = l.hist8 + cc_tdm_align64_(slots * chunk);
    l.size = l.hist16 + cc_tdm_align64_(slots * chunk * sizeof(int16_t));
    return l;
}

#endif
