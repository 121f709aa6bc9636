"""cffi build module for DAHDI's user ABI: every cdef for <dahdi/user.h> lives here.

API mode: the extension `ccboard.dahdi._dahdi` is compiled against the real header, so every
struct size, field offset and ioctl number comes from the C compiler, never from this file.
Structs are declared with `...;` (cffi asks the compiler for the layout, packed or not),
arrays as `[...]` and constants as `#define NAME ...`.

The header is Debian's `dahdi-source` (apt-get install --no-install-recommends dahdi-source):
/usr/include/dahdi/user.h, or, when only the tarball is there, extracted from
/usr/src/dahdi.tar.bz2 into build/dahdi-include/ at build time. CCBOARD_DAHDI_INCLUDE
overrides the search (a directory holding dahdi/user.h).

Build: setup.py lists `cffi_modules=["ccboard/dahdi/_build.py:ffibuilder"]`; by hand
`python ccboard/dahdi/_build.py` builds the extension in place (next to this file).
"""

from __future__ import annotations

import os
import tarfile

from cffi import FFI  # type: ignore[import-untyped]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SYSTEM_INCLUDE = "/usr/include"
TARBALL = "/usr/src/dahdi.tar.bz2"
# Where the header sits inside Debian's dahdi-source tarball.
TAR_INCLUDE = "modules/dahdi/include/dahdi/"
EXTRACT_DIR = os.path.join(ROOT, "build", "dahdi-include")


def include_dir() -> str:
    """A directory D such that D/dahdi/user.h is DAHDI's user header (extracting it if need be)."""
    env = os.environ.get("CCBOARD_DAHDI_INCLUDE")
    if env:
        if not os.path.isfile(os.path.join(env, "dahdi", "user.h")):
            raise RuntimeError(f"CCBOARD_DAHDI_INCLUDE={env}: no dahdi/user.h there")
        return env
    if os.path.isfile(os.path.join(SYSTEM_INCLUDE, "dahdi", "user.h")):
        return SYSTEM_INCLUDE
    if os.path.isfile(os.path.join(EXTRACT_DIR, "dahdi", "user.h")):
        return EXTRACT_DIR
    if not os.path.isfile(TARBALL):
        raise RuntimeError(
            "DAHDI's user header was not found: install it with "
            "`apt-get install --no-install-recommends dahdi-source` "
            f"(gives /usr/include/dahdi/user.h and {TARBALL})"
        )
    out = os.path.join(EXTRACT_DIR, "dahdi")
    os.makedirs(out, exist_ok=True)
    with tarfile.open(TARBALL, "r:bz2") as tar:
        for name in ("user.h", "dahdi_config.h"):
            member = tar.getmember(TAR_INCLUDE + name)
            src = tar.extractfile(member)
            assert src is not None
            with open(os.path.join(out, name), "wb") as f:
                f.write(src.read())
    return EXTRACT_DIR


# Every constant the binding (ioctl.py, board/dahdi.py) uses; the layout test checks each
# against a C program built on the same header.
IOCTLS = (
    "DAHDI_GET_BLOCKSIZE",
    "DAHDI_SET_BLOCKSIZE",
    "DAHDI_FLUSH",
    "DAHDI_GET_PARAMS",
    "DAHDI_SET_PARAMS",
    "DAHDI_HOOK",
    "DAHDI_GETEVENT",
    "DAHDI_SPANSTAT",
    "DAHDI_SPECIFY",
    "DAHDI_SETLAW",
    "DAHDI_GETRXBITS",
    "DAHDI_SETTXBITS",
    "DAHDI_GET_BUFINFO",
    "DAHDI_SET_BUFINFO",
)
CONSTANTS = (
    "DAHDI_CODE",
    "DAHDI_CONFIG_D4",
    "DAHDI_CONFIG_ESF",
    "DAHDI_CONFIG_AMI",
    "DAHDI_CONFIG_B8ZS",
    "DAHDI_CONFIG_CCS",
    "DAHDI_CONFIG_HDB3",
    "DAHDI_CONFIG_CRC4",
    "DAHDI_SIG_NONE",
    "DAHDI_SIG_FXSLS",
    "DAHDI_SIG_FXSGS",
    "DAHDI_SIG_FXSKS",
    "DAHDI_SIG_FXOLS",
    "DAHDI_SIG_FXOGS",
    "DAHDI_SIG_FXOKS",
    "DAHDI_SIG_EM",
    "DAHDI_SIG_EM_E1",
    "DAHDI_SIG_CLEAR",
    "DAHDI_SIG_HDLCRAW",
    "DAHDI_SIG_HDLCFCS",
    "DAHDI_SIG_HDLCNET",
    "DAHDI_SIG_HARDHDLC",
    "DAHDI_SIG_CAS",
    "DAHDI_SIG_MTP2",
    "DAHDI_LAW_DEFAULT",
    "DAHDI_LAW_MULAW",
    "DAHDI_LAW_ALAW",
    "DAHDI_ONHOOK",
    "DAHDI_OFFHOOK",
    "DAHDI_WINK",
    "DAHDI_FLASH",
    "DAHDI_START",
    "DAHDI_RING",
    "DAHDI_RINGOFF",
    "DAHDI_FLUSH_READ",
    "DAHDI_FLUSH_WRITE",
    "DAHDI_FLUSH_BOTH",
    "DAHDI_FLUSH_EVENT",
    "DAHDI_FLUSH_ALL",
    "DAHDI_ALARM_NONE",
    "DAHDI_ALARM_RECOVER",
    "DAHDI_ALARM_LOOPBACK",
    "DAHDI_ALARM_YELLOW",
    "DAHDI_ALARM_RED",
    "DAHDI_ALARM_BLUE",
    "DAHDI_ALARM_NOTOPEN",
    "DAHDI_ALARM_LOS",
    "DAHDI_ALARM_LFA",
    "DAHDI_ALARM_LMFA",
    "DAHDI_EVENT_NONE",
    "DAHDI_EVENT_ONHOOK",
    "DAHDI_EVENT_RINGOFFHOOK",
    "DAHDI_EVENT_WINKFLASH",
    "DAHDI_EVENT_ALARM",
    "DAHDI_EVENT_NOALARM",
    "DAHDI_EVENT_ABORT",
    "DAHDI_EVENT_OVERRUN",
    "DAHDI_EVENT_BADFCS",
    "DAHDI_EVENT_DIALCOMPLETE",
    "DAHDI_EVENT_RINGERON",
    "DAHDI_EVENT_RINGEROFF",
    "DAHDI_EVENT_HOOKCOMPLETE",
    "DAHDI_EVENT_BITSCHANGED",
    "DAHDI_EVENT_PULSE_START",
    "DAHDI_EVENT_POLARITY",
    "DAHDI_EVENT_RINGBEGIN",
    "DAHDI_EVENT_REMOVED",
    "DAHDI_EVENT_READ_OVERRUN",
    "DAHDI_EVENT_WRITE_UNDERRUN",
    "DAHDI_EVENT_PULSEDIGIT",
    "DAHDI_EVENT_DTMFDOWN",
    "DAHDI_EVENT_DTMFUP",
    "DAHDI_MAX_SPANS",
    "DAHDI_MAX_CHANNELS",
    "DAHDI_MAX_BLOCKSIZE",
    "DAHDI_MAX_NUM_BUFS",
    "DAHDI_MAX_BUF_SPACE",
    "DAHDI_POLICY_IMMEDIATE",
    "DAHDI_POLICY_WHEN_FULL",
    "DAHDI_POLICY_HALF_FULL",
    "ELAST",
)

# Structs and the fields the binding touches, in declaration order; `...` lets the compiler
# place them (dahdi_spaninfo is __attribute__((packed))). Arrays: name -> element type.
STRUCTS: dict[str, tuple[tuple[str, str], ...]] = {
    "dahdi_params": (
        ("int", "channo"),
        ("int", "spanno"),
        ("int", "chanpos"),
        ("int", "sigtype"),
        ("int", "sigcap"),
        ("int", "rxisoffhook"),
        ("int", "rxbits"),
        ("int", "txbits"),
        ("int", "txhooksig"),
        ("int", "rxhooksig"),
        ("int", "curlaw"),
        ("int", "idlebits"),
        ("char[]", "name"),
        ("int", "prewinktime"),
        ("int", "preflashtime"),
        ("int", "winktime"),
        ("int", "flashtime"),
        ("int", "starttime"),
        ("int", "rxwinktime"),
        ("int", "rxflashtime"),
        ("int", "debouncetime"),
        ("int", "pulsebreaktime"),
        ("int", "pulsemaketime"),
        ("int", "pulseaftertime"),
        ("uint32_t", "chan_alarms"),
    ),
    "dahdi_bufferinfo": (
        ("int", "txbufpolicy"),
        ("int", "rxbufpolicy"),
        ("int", "numbufs"),
        ("int", "bufsize"),
        ("int", "readbufs"),
        ("int", "writebufs"),
    ),
    "dahdi_spaninfo": (
        ("int", "spanno"),
        ("char[]", "name"),
        ("char[]", "desc"),
        ("int", "alarms"),
        ("int", "txlevel"),
        ("int", "rxlevel"),
        ("int", "bpvcount"),
        ("int", "crc4count"),
        ("int", "ebitcount"),
        ("int", "fascount"),
        ("uint32_t", "fecount"),
        ("uint32_t", "cvcount"),
        ("uint32_t", "becount"),
        ("uint32_t", "prbs"),
        ("uint32_t", "errsec"),
        ("int", "irqmisses"),
        ("int", "syncsrc"),
        ("int", "numchans"),
        ("int", "totalchans"),
        ("int", "totalspans"),
        ("int", "lbo"),
        ("int", "lineconfig"),
        ("char[]", "lboname"),
        ("char[]", "location"),
        ("char[]", "manufacturer"),
        ("char[]", "devicetype"),
        ("int", "irq"),
        ("int", "linecompat"),
        ("char[]", "spantype"),
    ),
}


def _cdef() -> str:
    parts = []
    for name, fields in STRUCTS.items():
        lines = []
        for ctype, field in fields:
            if ctype.endswith("[]"):
                lines.append(f"    {ctype[:-2]} {field}[...];")
            else:
                lines.append(f"    {ctype} {field};")
        parts.append(f"struct {name} {{\n" + "\n".join(lines) + "\n    ...;\n};")
    parts += [f"#define {c} ..." for c in IOCTLS + CONSTANTS]
    parts.append(
        """
int ccb_ioctl(int fd, unsigned long request, void *arg);
size_t ccb_sizeof_params(void);
size_t ccb_sizeof_spaninfo(void);
"""
    )
    return "\n".join(parts)


SOURCE = """
#include <sys/ioctl.h>
#include <dahdi/user.h>

/* ioctl is variadic; one fixed-signature wrapper keeps cffi's call simple. Every DAHDI ioctl the
   binding uses takes a pointer (ints too: the driver does get_user/put_user on it). */
static int ccb_ioctl(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
static size_t ccb_sizeof_params(void) { return sizeof(struct dahdi_params); }
static size_t ccb_sizeof_spaninfo(void) { return sizeof(struct dahdi_spaninfo); }
"""

ffibuilder = FFI()
ffibuilder.cdef(_cdef())
ffibuilder.set_source("ccboard.dahdi._dahdi", SOURCE, include_dirs=[include_dir()])


if __name__ == "__main__":
    import shutil

    # In-place build: compile under build/cffi-dahdi, then put the .so next to this file.
    so = ffibuilder.compile(tmpdir=os.path.join(ROOT, "build", "cffi-dahdi"), verbose=False)
    shutil.copy2(so, os.path.join(HERE, os.path.basename(so)))
