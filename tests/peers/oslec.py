"""OSLEC (the Linux kernel's line echo canceller, drivers/misc/echo or drivers/staging/echo) as a
peer of our echo canceller, built with cffi from a source directory the user fetched.

OSLEC is GPL-2.0 kernel code: it is never part of this project and nothing here fetches it. Point
$CCBOARD_OSLEC_SRC at a directory holding its echo.c, echo.h, fir.h and oslec.h (e.g. a copy of
drivers/misc/echo/ from a Linux tree); without it load() fails with that instruction. The shim
gives echo.c the three kernel headers it includes (<linux/kernel.h>, <linux/module.h>,
<linux/slab.h>) as userspace stand-ins, as ../shared/peers/run_oslec_bench.sh does, and builds it
with -O2 -march=x86-64 (REFERENCE.md's main OSLEC row; gcc 12 does not vectorise its loops there).
oslec_update(ec, tx, rx) takes tx = Rin, rx = Sin and returns the cleaned Sin.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from tests.peers.shim import PeerUnavailable, build_shim, cache_dir
from tests.peers.spandsp_echo import EchoBank

ENV = "CCBOARD_OSLEC_SRC"
FILES = ("echo.c", "echo.h", "fir.h", "oslec.h")
HINT = (
    f"set ${ENV} to a directory holding OSLEC's {', '.join(FILES)} (Linux drivers/misc/echo/, fetched "
    "by you: OSLEC is GPL kernel code and is never part of this repository)"
)
CFLAGS = ["-O2", "-march=x86-64", "-std=gnu99", "-w"]

SHIM = {
    "kernel.h": "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "static inline int fls(unsigned int x) { return x ? 32 - __builtin_clz(x) : 0; }\n",
    "module.h": "#define EXPORT_SYMBOL_GPL(s)\n#define MODULE_LICENSE(s)\n#define MODULE_AUTHOR(s)\n"
    "#define MODULE_DESCRIPTION(s)\n#define MODULE_VERSION(s)\n",
    "slab.h": "#include <stdlib.h>\n#define GFP_KERNEL 0\n#define kzalloc(n, f) calloc(1, (n))\n"
    "#define kcalloc(n, s, f) calloc((n), (s))\n#define kfree(p) free(p)\n",
}

CDEF = """
#define ECHO_CAN_USE_ADAPTION ...
#define ECHO_CAN_USE_NLP ...
#define ECHO_CAN_USE_CNG ...
#define ECHO_CAN_USE_CLIP ...
#define ECHO_CAN_USE_TX_HPF ...
#define ECHO_CAN_USE_RX_HPF ...
void *peer_new(int taps, int mode);
void peer_free(void *h);
void peer_bank_run(void **h, int nch, const int16_t *rin, const int16_t *sin, int16_t *out,
                   int64_t stride, int64_t n);
"""

SOURCE = r"""
#include <stdint.h>
#include "oslec.h"

void *peer_new(int taps, int mode) { return oslec_create(taps, mode); }
void peer_free(void *h) { oslec_free((struct oslec_state *) h); }
void peer_bank_run(void **h, int nch, const int16_t *rin, const int16_t *sin, int16_t *out,
                   int64_t stride, int64_t n)
{
    for (int c = 0;  c < nch;  c++) {
        struct oslec_state *s = (struct oslec_state *) h[c];
        const int16_t *r = rin + c*stride, *x = sin + c*stride;
        int16_t *o = out + c*stride;
        for (int64_t i = 0;  i < n;  i++)
            o[i] = oslec_update(s, r[i], x[i]);
    }
}
"""


def source_dir() -> Path:
    """$CCBOARD_OSLEC_SRC, checked to hold OSLEC's four files."""
    env = os.environ.get(ENV)
    if not env:
        raise PeerUnavailable(f"OSLEC peer: {HINT}")
    src = Path(env).resolve()
    missing = [f for f in FILES if not (src / f).is_file()]
    if missing:
        raise PeerUnavailable(f"OSLEC peer: {src} lacks {', '.join(missing)}; {HINT}")
    return src


def load() -> Any:
    src = source_dir()
    shim = cache_dir() / "oslec-shim" / "linux"
    shim.mkdir(parents=True, exist_ok=True)
    for name, text in SHIM.items():
        if not (shim / name).exists() or (shim / name).read_text() != text:
            (shim / name).write_text(text)
    # the module name hashes the OSLEC source too, so another copy rebuilds
    digest = hashlib.sha256("".join((src / f).read_text() for f in FILES).encode()).hexdigest()[:16]
    return build_shim(
        "_ccboard_oslec_peer",
        CDEF,
        SOURCE + f"\n/* OSLEC source {digest} */\n",
        HINT,
        sources=[str(src / "echo.c")],
        include_dirs=[str(shim.parent), str(src)],
        extra_compile_args=CFLAGS,
    )


def modes() -> dict[str, int]:
    """OSLEC's mode flags from oslec.h: 'adapt', 'full' (NLP, CNG, CLIP, HPFs) and 'dahdi'
    (what DAHDI's dahdi_echocan_oslec.c passes: no CNG)."""
    lib = load().lib
    adapt = lib.ECHO_CAN_USE_ADAPTION
    dahdi = (
        adapt
        | lib.ECHO_CAN_USE_NLP
        | lib.ECHO_CAN_USE_CLIP
        | lib.ECHO_CAN_USE_TX_HPF
        | lib.ECHO_CAN_USE_RX_HPF
    )
    return {"adapt": adapt, "full": dahdi | lib.ECHO_CAN_USE_CNG, "dahdi": dahdi}


def bank(channels: int, taps: int = 1024, mode: str = "adapt") -> EchoBank:
    return EchoBank(load(), channels, taps, modes()[mode])
