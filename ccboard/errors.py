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


class BoardError(CCBoardError):
    """A board, span or channel operation failed; the message names the span or channel."""


class ConfigError(BoardError):
    """A configuration file (system.conf, a sim description) is wrong: names file, line and key."""

    def __init__(self, message: str, path: str = "", line: int = 0, key: str = "") -> None:
        where = ":".join(p for p in (path, str(line) if line else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line
        self.key = key


class DeviceError(BoardError):
    """A device call failed (an ioctl, a read): keeps errno and names the channel and the operation."""

    def __init__(self, message: str, errno: int = 0, channel: int = 0, op: str = "") -> None:
        super().__init__(message)
        self.errno = errno
        self.channel = channel
        self.op = op
