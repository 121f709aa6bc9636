#include "ccboard/common.h"

const char *cc_strerror(int err)
{
    switch (err) {
    case CC_OK: return "ok";
    case CC_ERR_ARG: return "invalid argument";
    case CC_ERR_NOMEM: return "out of memory";
    case CC_ERR_SPACE: return "output buffer too small";
    case CC_ERR_STATE: return "not a valid saved state";
    default: return "unknown error";
    }
}
