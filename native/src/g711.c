/*
 * G.711 block loops: one table lookup per sample (tables in g711_tables.c).
 *
 * Encoding is a byte gather, which x86 cannot vectorise, so the loops are written for the
 * scalar core: 4 samples per iteration keeps about one sample per cycle in flight (load,
 * shift, table load, store) without a branch per sample. Decoding and transcoding are the
 * same shape. Batch forms run the single-channel loop row by row (rows are independent), or
 * once over the whole buffer when the rows are packed, so that 960 channels x 8 samples (a
 * 1 ms tick) costs what 7,680 samples in one row do.
 */
#include "ccboard/g711.h"

#define CC_G711_UNROLL 4

/* One macro per loop shape keeps the six kernels identical apart from table and shift. */
#define CC_G711_MAP(out, in, n, lookup)                                   \
    do {                                                                  \
        size_t i_ = 0;                                                    \
        for (; i_ + CC_G711_UNROLL <= (n); i_ += CC_G711_UNROLL) {        \
            (out)[i_] = lookup((in)[i_]);                                 \
            (out)[i_ + 1] = lookup((in)[i_ + 1]);                         \
            (out)[i_ + 2] = lookup((in)[i_ + 2]);                         \
            (out)[i_ + 3] = lookup((in)[i_ + 3]);                         \
        }                                                                 \
        for (; i_ < (n); i_++)                                            \
            (out)[i_] = lookup((in)[i_]);                                 \
    } while (0)

#define CC_A2U(c) (cc_g711_alaw_to_ulaw_table[(c)])
#define CC_U2A(c) (cc_g711_ulaw_to_alaw_table[(c)])

void cc_g711_alaw_encode(uint8_t *restrict out, const int16_t *restrict in, size_t n)
{
    CC_G711_MAP(out, in, n, cc_linear_to_alaw);
}

void cc_g711_ulaw_encode(uint8_t *restrict out, const int16_t *restrict in, size_t n)
{
    CC_G711_MAP(out, in, n, cc_linear_to_ulaw);
}

void cc_g711_alaw_decode(int16_t *restrict out, const uint8_t *restrict in, size_t n)
{
    CC_G711_MAP(out, in, n, cc_alaw_to_linear);
}

void cc_g711_ulaw_decode(int16_t *restrict out, const uint8_t *restrict in, size_t n)
{
    CC_G711_MAP(out, in, n, cc_ulaw_to_linear);
}

void cc_g711_alaw_to_ulaw(uint8_t *restrict out, const uint8_t *restrict in, size_t n)
{
    CC_G711_MAP(out, in, n, CC_A2U);
}

void cc_g711_ulaw_to_alaw(uint8_t *restrict out, const uint8_t *restrict in, size_t n)
{
    CC_G711_MAP(out, in, n, CC_U2A);
}

void cc_g711_alaw_encode_batch(uint8_t *restrict out, size_t out_stride,
                               const int16_t *restrict in, size_t in_stride, size_t nch, size_t n)
{
    if (in_stride == n && out_stride == n) {
        cc_g711_alaw_encode(out, in, nch * n); /* packed rows: one long row */
        return;
    }
    for (size_t c = 0; c < nch; c++)
        cc_g711_alaw_encode(out + c * out_stride, in + c * in_stride, n);
}

void cc_g711_ulaw_encode_batch(uint8_t *restrict out, size_t out_stride,
                               const int16_t *restrict in, size_t in_stride, size_t nch, size_t n)
{
    if (in_stride == n && out_stride == n) {
        cc_g711_ulaw_encode(out, in, nch * n); /* packed rows: one long row */
        return;
    }
    for (size_t c = 0; c < nch; c++)
        cc_g711_ulaw_encode(out + c * out_stride, in + c * in_stride, n);
}

void cc_g711_alaw_decode_batch(int16_t *restrict out, size_t out_stride,
                               const uint8_t *restrict in, size_t in_stride, size_t nch, size_t n)
{
    if (in_stride == n && out_stride == n) {
        cc_g711_alaw_decode(out, in, nch * n); /* packed rows: one long row */
        return;
    }
    for (size_t c = 0; c < nch; c++)
        cc_g711_alaw_decode(out + c * out_stride, in + c * in_stride, n);
}

void cc_g711_ulaw_decode_batch(int16_t *restrict out, size_t out_stride,
                               const uint8_t *restrict in, size_t in_stride, size_t nch, size_t n)
{
    if (in_stride == n && out_stride == n) {
        cc_g711_ulaw_decode(out, in, nch * n); /* packed rows: one long row */
        return;
    }
    for (size_t c = 0; c < nch; c++)
        cc_g711_ulaw_decode(out + c * out_stride, in + c * in_stride, n);
}
