"""G.711 A-law / mu-law encode, decode and A <-> mu transcoding over numpy buffers.

Units: linear samples are int16, 16-bit left-justified (full scale +-32768 = +3.14 dBm0 sine
peak for A-law, +3.17 dBm0 for mu-law); codes are uint8 octets as sent on the line (A-law
with the even bits inverted, mu-law with all bits inverted). Silence encodes to 0xD5 (A)
and 0xFF (mu); decoded full scale is +-32256 (A) and +-32124 (mu). Bit-exact with the
ITU-T G.191 reference; transcoding follows G.711 Tables 3 and 4.

x is 1-D (samples,) for one channel or 2-D (channels, samples) with contiguous rows and any
positive row stride; out, if given, has x's shape, the output dtype, is writable and shares
no memory with x. Every function returns out (allocated when None). Errors: TypeError
(DSPTypeError) for a non-array or a wrong dtype, ValueError (DSPArgumentError) for shape,
layout, writability or overlap; each message names the argument.
"""

import numpy as np
import numpy.typing as npt

def alaw_encode(x: npt.NDArray[np.int16], out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
    """int16 linear samples -> A-law octets."""

def ulaw_encode(x: npt.NDArray[np.int16], out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
    """int16 linear samples -> mu-law octets."""

def alaw_decode(x: npt.NDArray[np.uint8], out: npt.NDArray[np.int16] | None = None) -> npt.NDArray[np.int16]:
    """A-law octets -> int16 linear samples (+-32256 at most)."""

def ulaw_decode(x: npt.NDArray[np.uint8], out: npt.NDArray[np.int16] | None = None) -> npt.NDArray[np.int16]:
    """mu-law octets -> int16 linear samples (+-32124 at most)."""

def alaw_to_ulaw(x: npt.NDArray[np.uint8], out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
    """A-law octets -> mu-law octets (G.711 Table 4)."""

def ulaw_to_alaw(x: npt.NDArray[np.uint8], out: npt.NDArray[np.uint8] | None = None) -> npt.NDArray[np.uint8]:
    """mu-law octets -> A-law octets (G.711 Table 3)."""
