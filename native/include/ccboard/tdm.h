/*
 * TDM switch: a time-slot interchange (TSI) for the whole server.
 *
 * What: any timeslot to any other in one flat index space of up to CC_TDM_MAX_SLOTS (the
 * spans' channels numbered one after another, plus linear slots for IVR, conferences and
 * recorders), one-way (dst hears src) or two-way (two one-way connections), each with its own
 * gain in dB. Each slot has a law fixed at init: G.711 A-law or mu-law octets as on the line,
 * or int16 linear. The switch moves octets untouched, like a hardware TSI, when source and
 * destination share a law at 0 dB; it transcodes A <-> mu with the G.711 Table 3/4 mappings,
 * decodes G.711 to linear or encodes linear to G.711 when the laws differ; with a gain other
 * than 0 dB it decodes, scales (float, rounded to nearest even, saturated to int16, never
 * wrapped) and encodes.
 * How: the caller hands in one (slots x n) plane of uint8 rows for the G.711 slots and one
 * of int16 rows for the linear slots (a plane's other rows are ignored on input and left
 * untouched on output). Time is cut into chunks of `chunk` samples (8 = 1 ms, DAHDI's
 * chunk); the output in chunk k carries the input of chunk k-1: latency is exactly one chunk,
 * for every connection, whatever the block sizes of the calls (the last chunk of input is
 * kept in the state). The map is indexed by destination: one source per destination, and the
 * per-chunk move is a gather over it (an unconnected destination carries the law's idle code:
 * 0, A-law 0xD5, mu-law 0xFF). connect / disconnect / set_gain only note the change in a
 * pending map (O(1) each, several changes to one destination coalesce, last wins); the changes
 * are applied in O(changes) at the next chunk boundary, so a connection never starts or stops
 * inside a chunk. A change of source or a new connection takes effect whole at that boundary;
 * a change of gain on a kept connection is ramped linearly across that chunk, so it does not
 * click.
 * Meets (tests/dsp/test_tdm.py, native/tests/test_tdm.c): every sample lands where the map
 * says and nothing elsewhere, on random graphs; one chunk of latency exactly; changes take
 * effect at the next chunk; any split of the input into blocks gives the same output.
 */
#ifndef CCBOARD_TDM_H
#define CCBOARD_TDM_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Timeslots in one switch, at most. */
#define CC_TDM_MAX_SLOTS 4096
/** Chunk length in samples, at most (1 ms = 8 samples is the usual one). */
#define CC_TDM_MAX_CHUNK 1024
/** Gain range of a connection, dB. */
#define CC_TDM_MIN_GAIN_DB (-90.0f)
#define CC_TDM_MAX_GAIN_DB 24.0f

typedef struct {
    uint32_t slots;  /**< timeslots, 1..CC_TDM_MAX_SLOTS */
    uint32_t chunk;  /**< samples per chunk (the latency), 1..CC_TDM_MAX_CHUNK; default 8 */
} cc_tdm_config_t;

typedef struct cc_tdm_s cc_tdm_t;

/** Bytes of a switch state for this config (0 if the config is out of range). */
size_t cc_tdm_state_size(const cc_tdm_config_t *cfg);
/**
 * Initialise a switch in mem (cc_tdm_state_size(cfg) bytes, 8-byte aligned) or allocate one
 * when mem is NULL. laws: cfg->slots cc_law values, one per slot. No connections. NULL on a
 * bad config or law, or no memory.
 */
cc_tdm_t *cc_tdm_init(void *mem, const cc_tdm_config_t *cfg, const uint8_t *laws);
/** Back to the state after init: no connection, idle history, time 0. */
int cc_tdm_reset(cc_tdm_t *s);
int cc_tdm_release(cc_tdm_t *s);
/** Free a state that init allocated. */
int cc_tdm_free(cc_tdm_t *s);
/** Bytes of this state (what a save holds; it contains no pointer). */
size_t cc_tdm_size(const cc_tdm_t *s);
/** Load a saved state of the same config; CC_ERR_STATE, s unchanged, if it is not one. */
int cc_tdm_restore(cc_tdm_t *s, const void *saved, size_t len);

/** Linear factor of a gain in dB (what the switch multiplies by). */
float cc_tdm_gain_factor(float gain_db);

/** Queue: dst hears src from the next chunk on, scaled by gain_db. Replaces dst's source. */
int cc_tdm_connect(cc_tdm_t *s, uint32_t src, uint32_t dst, float gain_db);
/** Queue: dst hears nothing (idle code) from the next chunk on. */
int cc_tdm_disconnect(cc_tdm_t *s, uint32_t dst);
/** Queue: a new gain on dst's (pending) connection; CC_ERR_ARG if dst has none. */
int cc_tdm_set_gain(cc_tdm_t *s, uint32_t dst, float gain_db);
/** Drop every connection at the next chunk. */
int cc_tdm_disconnect_all(cc_tdm_t *s);

/** Source of dst in the map in use (-1: none); pending != 0: in the map after the queued changes. */
int32_t cc_tdm_source(const cc_tdm_t *s, uint32_t dst, int pending);
/** Gain of dst's connection in dB (pending as above); 0 if none. */
float cc_tdm_gain_db(const cc_tdm_t *s, uint32_t dst, int pending);
/** Connections in the map in use. */
uint32_t cc_tdm_connections(const cc_tdm_t *s);
/** Changes waiting for the next chunk boundary (ramps in progress included). */
uint32_t cc_tdm_pending(const cc_tdm_t *s);
/** Samples processed since init/reset. */
int64_t cc_tdm_samples(const cc_tdm_t *s);
cc_law cc_tdm_law(const cc_tdm_t *s, uint32_t slot);

/**
 * Switch n samples of every slot. Slot i's input row is x8 + i*x8_stride (G.711 slots) or
 * x16 + i*x16_stride (linear slots); its output row y8 / y16 likewise. A plane may be NULL
 * only if no slot uses it; strides (elements) must be >= n when slots > 1. Outputs must not
 * overlap inputs. Returns CC_OK or CC_ERR_ARG.
 */
int cc_tdm_process(cc_tdm_t *s, const uint8_t *x8, size_t x8_stride, const int16_t *x16,
                   size_t x16_stride, uint8_t *y8, size_t y8_stride, int16_t *y16, size_t y16_stride,
                   size_t n);

#ifdef __cplusplus
}
#endif
#endif
