# Mirror of native/include/ccboard/common.h: declarations only, all nogil.
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t


cdef extern from "ccboard/common.h" nogil:
    int CC_SAMPLE_RATE
    ctypedef enum cc_err:
        CC_OK
        CC_ERR_ARG
        CC_ERR_NOMEM
        CC_ERR_SPACE
        CC_ERR_STATE
    ctypedef enum cc_law:
        CC_LAW_LINEAR
        CC_LAW_ALAW
        CC_LAW_ULAW
    const char *cc_strerror(int err)
