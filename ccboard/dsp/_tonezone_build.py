"""cffi build module for Debian's libtonezone (apt-get install libtonezone-dev): every cdef for
<dahdi/tonezone.h> lives here.

API mode: `ccboard.dsp._tonezone` is compiled against the real headers (tonezone.h includes
DAHDI's dahdi/user.h, from dahdi-source), so struct layouts and DAHDI_TONE_* numbers come
from the compiler, never from this file. The zone list is libtonezone's `builtin_zones[]`,
ended by an entry whose zone is -1.

Build: setup.py lists `cffi_modules=["ccboard/dsp/_tonezone_build.py:ffibuilder"]`; by hand
`python ccboard/dsp/_tonezone_build.py` builds the extension in place (next to this file).
"""

from __future__ import annotations

import os
import sys

from cffi import FFI  # type: ignore[import-untyped]

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "ccboard", "dahdi"))
from _build import include_dir  # type: ignore[import-not-found]  # noqa: E402  (same dahdi/user.h search)

sys.path.pop(0)

TONES = (
    "DAHDI_TONE_DIALTONE",
    "DAHDI_TONE_BUSY",
    "DAHDI_TONE_RINGTONE",
    "DAHDI_TONE_CONGESTION",
    "DAHDI_TONE_CALLWAIT",
    "DAHDI_TONE_DIALRECALL",
    "DAHDI_TONE_RECORDTONE",
    "DAHDI_TONE_INFO",
    "DAHDI_TONE_STUTTER",
    "DAHDI_TONE_MAX",
    "DAHDI_MAX_CADENCE",
)

CDEF = (
    "\n".join(f"#define {name} ..." for name in TONES)
    + """
struct tone_zone_sound { int toneid; char data[...]; ...; };
struct tone_zone {
    int zone;
    char country[...];
    char description[...];
    int ringcadence[...];
    struct tone_zone_sound tones[...];
    int dtmf_high_level;
    int dtmf_low_level;
    int mfr1_level;
    int mfr2_level;
    ...;
};
extern struct tone_zone builtin_zones[];
struct tone_zone *tone_zone_find(char *country);
char *tone_zone_tone_name(int id);
"""
)

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "ccboard.dsp._tonezone",
    "#include <dahdi/user.h>\n#include <dahdi/tonezone.h>\n",
    include_dirs=[include_dir()],
    libraries=["tonezone"],
)

if __name__ == "__main__":
    import shutil

    # In-place build: compile under build/cffi-tonezone, then put the .so next to this file.
    so = ffibuilder.compile(tmpdir=os.path.join(ROOT, "build", "cffi-tonezone"), verbose=False)
    shutil.copy2(so, os.path.join(HERE, os.path.basename(so)))
