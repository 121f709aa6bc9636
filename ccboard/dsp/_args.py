"""Argument checks shared by the DSP bindings: done in Python, before the GIL is dropped,
so the C layer only ever sees valid (state, n, pointers). Every error names the argument."""

from __future__ import annotations

from typing import Any

import numpy as np

from ccboard.errors import DSPArgumentError, DSPTypeError

SAMPLE_RATE = 8000

LAWS = {"linear": 0, "alaw": 1, "ulaw": 2}
LAW_DTYPES = {"linear": np.dtype(np.int16), "alaw": np.dtype(np.uint8), "ulaw": np.dtype(np.uint8)}


def check_sample_rate(sample_rate: int) -> None:
    """Every kernel runs at 8000 Hz; anything else is refused rather than resampled."""
    if sample_rate != SAMPLE_RATE:
        raise DSPArgumentError(f"sample_rate: {sample_rate!r} Hz is not supported, only {SAMPLE_RATE}")


def check_law(law: str) -> int:
    """Map 'linear' / 'alaw' / 'ulaw' to the native cc_law code."""
    try:
        return LAWS[law]
    except (KeyError, TypeError):
        raise DSPArgumentError(f"law: {law!r} is not one of {sorted(LAWS)}") from None


def check_array(name: str, x: Any, dtype: np.dtype, ndim: int, *, writable: bool = False) -> np.ndarray:
    """Return x if it is a numpy array of this dtype and ndim whose rows are C-contiguous."""
    if not isinstance(x, np.ndarray):
        raise DSPTypeError(f"{name}: expected a numpy array of {dtype}, got {type(x).__name__}")
    if x.dtype != dtype:
        raise DSPTypeError(f"{name}: dtype {x.dtype} is not {dtype}")
    if x.ndim != ndim:
        want = "(channels, samples)" if ndim == 2 else "(samples,)"
        raise DSPArgumentError(f"{name}: expected {ndim}-D of shape {want}, got shape {x.shape}")
    if x.size == 0:
        pass  # numpy gives empty arrays arbitrary strides; there is nothing to address
    elif x.ndim == 1 and not x.flags.c_contiguous:
        raise DSPArgumentError(f"{name}: must be C-contiguous (got strides {x.strides})")
    elif x.ndim == 2 and x.shape[1] > 1 and x.strides[1] != x.itemsize:
        raise DSPArgumentError(f"{name}: rows must be contiguous (got strides {x.strides})")
    elif x.ndim == 2 and x.shape[0] > 1 and (x.strides[0] < 0 or x.strides[0] % x.itemsize):
        raise DSPArgumentError(
            f"{name}: row stride {x.strides[0]} is not a positive multiple of {x.itemsize}"
        )
    if writable and not x.flags.writeable:
        raise DSPArgumentError(f"{name}: must be writable")
    return x


def check_out(name: str, out: Any, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Allocate an output like shape, or check the caller's one."""
    if out is None:
        fresh: np.ndarray = np.empty(shape, dtype=dtype)
        return fresh
    given = check_array(name, out, dtype, len(shape), writable=True)
    if given.shape != shape:
        raise DSPArgumentError(f"{name}: shape {given.shape} does not match the input's {shape}")
    return given
