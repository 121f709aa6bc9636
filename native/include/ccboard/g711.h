/*
 * G.711 A-law and mu-law companding, and A-law <-> mu-law transcoding.
 *
 * What: encode int16 linear to 8-bit codes, decode codes to int16, transcode codes.
 * How: table lookups. Encoding depends only on the top 12 (A-law) or 14 (mu-law) bits of
 * the input, so encode tables have 4096 / 16384 entries and sit in L1; decode tables have
 * 256. The tables are generated from the G.191 STL reference algorithm
 * (native/tools/gen_g711_tables.py) and the tests check them against the G.191 vectors.
 * Meets: bit-exact with ITU-T G.191 (sweep-r.a/.u/.rea/.reu/.a-a/.u-u, all 65,536 inputs);
 * transcoding follows G.711 Tables 3 and 4.
 * Codes are as sent on the line: A-law with even bits inverted (XOR 0x55), mu-law with all
 * bits inverted; silence encodes to 0xD5 (A) and 0xFF (mu). Decoded full scale is
 * +-32256 (A) and +-32124 (mu).
 *
 * G.711 has no state, so there is no init/reset/free: every block size works as is.
 * Batch forms take a (channels x samples) buffer as rows with a stride in elements.
 */
#ifndef CCBOARD_G711_H
#define CCBOARD_G711_H

#include "ccboard/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read-only tables (the only file-scope data of the kernel). */
extern const uint8_t cc_g711_alaw_enc_table[4096];   /* index: (uint16_t)x >> 4 */
extern const uint8_t cc_g711_ulaw_enc_table[16384];  /* index: (uint16_t)x >> 2 */
extern const int16_t cc_g711_alaw_dec_table[256];
extern const int16_t cc_g711_ulaw_dec_table[256];
extern const uint8_t cc_g711_alaw_to_ulaw_table[256];
extern const uint8_t cc_g711_ulaw_to_alaw_table[256];

static inline uint8_t cc_linear_to_alaw(int16_t x) { return cc_g711_alaw_enc_table[(uint16_t)x >> 4]; }
static inline uint8_t cc_linear_to_ulaw(int16_t x) { return cc_g711_ulaw_enc_table[(uint16_t)x >> 2]; }
static inline int16_t cc_alaw_to_linear(uint8_t c) { return cc_g711_alaw_dec_table[c]; }
static inline int16_t cc_ulaw_to_linear(uint8_t c) { return cc_g711_ulaw_dec_table[c]; }

/* Single channel: n samples from in to out. */
void cc_g711_alaw_encode(uint8_t *restrict out, const int16_t *restrict in, size_t n);
void cc_g711_ulaw_encode(uint8_t *restrict out, const int16_t *restrict in, size_t n);
void cc_g711_alaw_decode(int16_t *restrict out, const uint8_t *restrict in, size_t n);
void cc_g711_ulaw_decode(int16_t *restrict out, const uint8_t *restrict in, size_t n);
void cc_g711_alaw_to_ulaw(uint8_t *restrict out, const uint8_t *restrict in, size_t n);
void cc_g711_ulaw_to_alaw(uint8_t *restrict out, const uint8_t *restrict in, size_t n);

/* Batch: nch rows of n samples; row c starts at in + c*in_stride (elements), out likewise. */
void cc_g711_alaw_encode_batch(uint8_t *restrict out, size_t out_stride,
                               const int16_t *restrict in, size_t in_stride, size_t nch, size_t n);
void cc_g711_ulaw_encode_batch(uint8_t *restrict out, size_t out_stride,
                               const int16_t *restrict in, size_t in_stride, size_t nch, size_t n);
void cc_g711_alaw_decode_batch(int16_t *restrict out, size_t out_stride,
                               const uint8_t *restrict in, size_t in_stride, size_t nch, size_t n);
void cc_g711_ulaw_decode_batch(int16_t *restrict out, size_t out_stride,
                               const uint8_t *restrict in, size_t in_stride, size_t nch, size_t n);

#ifdef __cplusplus
}
#endif
#endif
