"""The ccboard exception tree: one root, one subtree per layer.

Messages name what was wrong: the argument, file, line, field, channel, state or event.
"""

from __future__ import annotations


class CCBoardError(Exception):
    """Root of every error ccboard raises on purpose."""


class DSPError(CCBoardError):
    """A native DSP kernel refused an operation; keeps the native cc_err code."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class DSPArgumentError(DSPError, ValueError):
    """A buffer or parameter handed to a DSP kernel is not acceptable (names the argument)."""


class DSPTypeError(DSPError, TypeError):
    """A buffer handed to a DSP kernel has the wrong dtype or is not a numpy array."""
