# Mirror of native/include/ccboard/farmix.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t


cdef extern from "ccboard/farmix.h" nogil:
    int CC_FARMIX_TICK
    int CC_FARMIX_MAX_ROWS
    int CC_FARMIX_MAX_HIST
    int CC_FARMIX_Q15_ONE
    ctypedef struct cc_farmix_t:
        pass
    size_t cc_farmix_state_size(uint32_t rows, uint32_t hist_ticks)
    cc_farmix_t *cc_farmix_init(void *mem, uint32_t rows, uint32_t hist_ticks, const uint8_t *laws)
    int cc_farmix_reset(cc_farmix_t *s)
    int cc_farmix_release(cc_farmix_t *s)
    int cc_farmix_free(cc_farmix_t *s)
    size_t cc_farmix_size(const cc_farmix_t *s)
    int cc_farmix_restore(cc_farmix_t *s, const void *saved, size_t len)
    int64_t cc_farmix_ticks(const cc_farmix_t *s)
    int cc_farmix_set_echo(cc_farmix_t *s, uint32_t row, int32_t q15, uint32_t delay)
    int cc_farmix_put_tx(cc_farmix_t *s, const int16_t *tx, size_t tx_stride, const int64_t *rows, size_t n)
    int cc_farmix_process(cc_farmix_t *s, const int16_t *far, uint8_t *out)
