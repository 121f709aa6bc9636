# The cffi extension built by _build.py: `ffi` (types, sizes, offsets) and `lib` (constants and
# ccb_ioctl), both dynamic.
from typing import Any

ffi: Any
lib: Any
