# Mirror of native/include/ccboard/g711.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t
from ccboard.dsp.c_common cimport cc_law


cdef extern from "ccboard/g711.h" nogil:
    void cc_g711_alaw_encode(uint8_t *out, const int16_t *inp, size_t n)
    void cc_g711_ulaw_encode(uint8_t *out, const int16_t *inp, size_t n)
    void cc_g711_alaw_decode(int16_t *out, const uint8_t *inp, size_t n)
    void cc_g711_ulaw_decode(int16_t *out, const uint8_t *inp, size_t n)
    void cc_g711_alaw_to_ulaw(uint8_t *out, const uint8_t *inp, size_t n)
    void cc_g711_ulaw_to_alaw(uint8_t *out, const uint8_t *inp, size_t n)
    void cc_g711_alaw_encode_batch(uint8_t *out, size_t out_stride, const int16_t *inp,
                                   size_t in_stride, size_t nch, size_t n)
    void cc_g711_ulaw_encode_batch(uint8_t *out, size_t out_stride, const int16_t *inp,
                                   size_t in_stride, size_t nch, size_t n)
    void cc_g711_alaw_decode_batch(int16_t *out, size_t out_stride, const uint8_t *inp,
                                   size_t in_stride, size_t nch, size_t n)
    void cc_g711_ulaw_decode_batch(int16_t *out, size_t out_stride, const uint8_t *inp,
                                   size_t in_stride, size_t nch, size_t n)
