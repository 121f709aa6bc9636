"""Recording a channel's rx (optionally mixed with tx) to WAV, with Dialogic-like termination:
silence (TM_MAXSIL), maximum time (TM_MAXTIME), a digit (TM_DIGIT), or stopped from above.

Recorder is a sync core fed one tick at a time. blank(True) replaces the received audio by
silence from that tick on (the secure-digit path uses it: nothing keyed then reaches the file).
Silence is measured per 8-sample tick as RMS below silence_dbm0; the silence timer only runs
once speech was heard, unless initial_silence_ms is given.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from ccboard.media.prompts import Law, write_wav

TICK = 8
SINE_0DBM0_RMS = 22767.0 / np.sqrt(2.0)
_SILENCE = np.zeros(TICK, np.int16)
_SILENCE.setflags(write=False)


class RecordEnd(enum.Enum):
    """Why a recording ended (Dialogic termination names)."""

    MAXTIME = "maxtime"
    MAXSIL = "maxsil"  # silence after speech
    NOSPEECH = "nospeech"  # initial silence ran out
    DIGIT = "digit"
    HANGUP = "hangup"
    STOPPED = "stopped"


class Recorder:
    """Collects one channel's audio until a termination condition; save() writes the WAV."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        max_ms: int | None = 60_000,
        silence_ms: int | None = 3000,
        initial_silence_ms: int | None = None,
        silence_dbm0: float = -40.0,
        terminators: str = "#",
        mix_tx: bool = False,
        coding: Literal["pcm16", Law] = "pcm16",
        trim_silence: bool = True,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.max_ms = max_ms
        self.silence_ms = silence_ms
        self.initial_silence_ms = initial_silence_ms
        self.threshold = float(SINE_0DBM0_RMS * 10.0 ** (silence_dbm0 / 20.0))
        self.terminators = terminators
        self.mix_tx = mix_tx
        self.coding = coding
        self.trim = trim_silence
        self._energy = self.threshold**2 * TICK  # sum of squares of a tick at the threshold
        self._parts: list[npt.NDArray[np.int16]] = []
        self._tx: list[npt.NDArray[np.int16]] = []
        self.ms = 0
        self.quiet_ms = 0
        self.heard = False
        self.blanked = False
        self.blanked_ms = 0
        self.end: RecordEnd | None = None
        self.digit = ""

    @property
    def active(self) -> bool:
        return self.end is None

    def blank(self, on: bool) -> None:
        """Record silence instead of the line (True) or the line again (False)."""
        self.blanked = on

    def feed(self, rx: npt.NDArray[np.int16], tx: npt.NDArray[np.int16] | None = None) -> bool:
        """One tick of audio; False once the recording has ended. Mixing happens at save time."""
        if self.end is not None:
            return False
        if self.blanked:
            self._parts.append(_SILENCE)
            self.blanked_ms += 1
            loud = False
        else:
            self._parts.append(rx.copy())
            timed = self.silence_ms is not None or self.initial_silence_ms is not None
            loud = timed and float(np.dot(rx.astype(np.float32), rx)) >= self._energy
        if self.mix_tx:
            self._tx.append(_SILENCE if tx is None else tx.copy())
        self.ms += 1
        if loud:
            self.heard = True
            self.quiet_ms = 0
        else:
            self.quiet_ms += 1
        if self.max_ms is not None and self.ms >= self.max_ms:
            self.end = RecordEnd.MAXTIME
        elif self.heard and self.silence_ms is not None and self.quiet_ms >= self.silence_ms:
            self.end = RecordEnd.MAXSIL
        elif (
            not self.heard
            and self.initial_silence_ms is not None
            and self.quiet_ms >= self.initial_silence_ms
        ):
            self.end = RecordEnd.NOSPEECH
        return self.end is None

    def on_digit(self, digit: str) -> bool:
        """A digit's ON event; True if it ended the recording."""
        if self.end is None and digit in self.terminators:
            self.end = RecordEnd.DIGIT
            self.digit = digit
            return True
        return False

    def stop(self, why: RecordEnd = RecordEnd.STOPPED) -> None:
        if self.end is None:
            self.end = why

    def samples(self) -> npt.NDArray[np.int16]:
        """What was recorded; with trim_silence, a MAXSIL recording loses its trailing silence."""
        x = np.concatenate(self._parts) if self._parts else np.zeros(0, np.int16)
        if self.mix_tx and self._tx:
            x = np.clip(x.astype(np.int32) + np.concatenate(self._tx), -32768, 32767).astype(np.int16)
        if self.trim and self.end == RecordEnd.MAXSIL:
            x = x[: max(0, x.size - self.quiet_ms * TICK)]
        return x

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write the WAV (to `path`, else the constructor's); None when there is no path."""
        p = Path(path) if path is not None else self.path
        if p is None:
            return None
        write_wav(p, self.samples(), self.coding)
        return p
