/*
 * Far-end line mixer for the simulated board: what the far ends send, with the hybrid echo of
 * what we sent, coded for the line, for every line row in one call per tick.
 *
 * What: each line row (an E1/T1 timeslot or an analog port) carries, per 1 ms tick of 8
 * samples, the far end's own audio (int16, rendered elsewhere) plus the echo of our transmit
 * audio as a 2-wire/4-wire hybrid returns it: our tx of `delay` ticks ago, attenuated by the
 * row's echo return loss (a Q15 factor; 0 = no echo). The sum saturates at int16 and is coded
 * with the row's G.711 law (A-law or mu-law, the Table 1/2 encoders).
 * How: the kernel keeps the last `hist_ticks` ticks of our tx per row in its state (a ring of
 * (rows x 8) int16 blocks, tick-major so a tick's history is one contiguous block); put_tx
 * scatters this tick's tx rows into it, process reads each row's delayed block, mixes
 * ((tx * q15) >> 15, arithmetic shift, in int32), clips and codes, then the tick advances.
 * Meets (native/tests/test_farmix.c, tests/board/test_farmix_kernel.py): bit-exact with the
 * integer model above on random audio, delays and losses; echo delay exact to the tick.
 */
#ifndef CCBOARD_FARMIX_H
#define CCBOARD_FARMIX_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Samples per tick (1 ms). */
#define CC_FARMIX_TICK 8
/** Rows and history length one state takes, at most. */
#define CC_FARMIX_MAX_ROWS 65536
#define CC_FARMIX_MAX_HIST 4096
/** Q15 echo factor of 0 dB (the largest). */
#define CC_FARMIX_Q15_ONE 32768

typedef struct cc_farmix_s cc_farmix_t;

/** Bytes of a mixer state (0 if out of range). hist_ticks: 2..CC_FARMIX_MAX_HIST. */
size_t cc_farmix_state_size(uint32_t rows, uint32_t hist_ticks);
/**
 * Initialise a mixer in mem (cc_farmix_state_size bytes, 8-byte aligned) or allocate one when
 * mem is NULL. laws: rows cc_law values, CC_LAW_ALAW or CC_LAW_ULAW. No echo on any row (delay 1
 * tick), silent history, tick 0. NULL on a bad argument or no memory.
 */
cc_farmix_t *cc_farmix_init(void *mem, uint32_t rows, uint32_t hist_ticks, const uint8_t *laws);
/** Back to the state after init (laws kept). */
int cc_farmix_reset(cc_farmix_t *s);
int cc_farmix_release(cc_farmix_t *s);
int cc_farmix_free(cc_farmix_t *s);
/** Bytes of this state (what a save holds; it contains no pointer). */
size_t cc_farmix_size(const cc_farmix_t *s);
int cc_farmix_restore(cc_farmix_t *s, const void *saved, size_t len);
/** Ticks processed since init/reset. */
int64_t cc_farmix_ticks(const cc_farmix_t *s);
/** Echo on row: factor q15 (0..CC_FARMIX_Q15_ONE; 0 = none) after delay ticks (1..hist_ticks-1). */
int cc_farmix_set_echo(cc_farmix_t *s, uint32_t row, int32_t q15, uint32_t delay);
/**
 * Our tx of this tick: n blocks of 8 samples, block i (at tx + i * tx_stride) heard on row
 * rows[i]. Rows not given this tick keep their history of this tick as it was (silence unless
 * given before, hist_ticks ago).
 */
int cc_farmix_put_tx(cc_farmix_t *s, const int16_t *tx, size_t tx_stride, const int64_t *rows, size_t n);
/**
 * One tick: out[r] (8 octets at out + r * 8) = law_r(sat16(far[r] + echo_r)) for every row,
 * far (rows x 8 int16, packed); then the tick advances.
 */
int cc_farmix_process(cc_farmix_t *s, const int16_t *far, uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif
