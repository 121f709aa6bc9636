"""The media layer: prompts (WAV / raw G.711, per-language sets, espeak-ng demo prompts), saying
numbers, amounts, dates and times from recorded fragments, playing into a channel with barge-in,
music on hold and recording with termination conditions.

Everything here is synchronous and works on a channel's 8-sample rows (1 ms ticks, int16 linear,
8 kHz); the IVR layer above drives it from the board's tick.
"""

from __future__ import annotations

from ccboard.errors import CCBoardError


class MediaError(CCBoardError):
    """A media operation failed; the message names the file, the prompt or the language."""


class PromptFormatError(MediaError, ValueError):
    """An audio file cannot be read: names the file and the field (chunk, format tag, bits)."""


class PromptNotFound(MediaError, KeyError):
    """A prompt set has no prompt of that name (names the set's language and the key)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


__all__ = ["MediaError", "PromptFormatError", "PromptNotFound"]
