"""Playing audio into one channel's tx row, 8 samples (1 ms) per tick, with barge-in.

Player is a sync core: start() queues audio, fill(tx) writes the next 8 samples (silence after
the end) and says whether it is still playing, digit() stops it at once when barge-in is on, so
the tick after the digit's ON event is already silent (the stop lands within one tick).
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

TICK = 8  # samples per tick


class PlayEnd(enum.Enum):
    """Why a play ended."""

    DONE = "done"  # the audio ran out
    DIGIT = "digit"  # barge-in: a digit's ON event
    STOPPED = "stopped"  # stop() from above (hangup, a new play, the script ended)


class Player:
    """One channel's prompt player."""

    def __init__(self) -> None:
        self._x: npt.NDArray[np.int16] = np.zeros(0, np.int16)
        self._pos = 0
        self.barge_in = False
        self.end: PlayEnd | None = None  # why the last play ended (None while playing / never)
        self.digit = ""  # the digit that barged in

    @property
    def playing(self) -> bool:
        return self._pos < self._x.size

    @property
    def position_ms(self) -> float:
        """How far the current (or last) play got, ms."""
        return self._pos / TICK

    def start(self, samples: npt.NDArray[np.int16], barge_in: bool = True) -> None:
        """Play samples from the next tick (replacing anything playing, which ends STOPPED)."""
        if self.playing:
            self.end = PlayEnd.STOPPED
        self._x = np.ascontiguousarray(samples, np.int16)
        self._pos = 0
        self.barge_in = barge_in
        self.digit = ""
        self.end = None if self._x.size else PlayEnd.DONE

    def stop(self, why: PlayEnd = PlayEnd.STOPPED) -> None:
        if self.playing:
            self._pos = self._x.size
            self.end = why

    def on_digit(self, digit: str) -> bool:
        """A digit's ON event: stop now if barge-in is on; True if this stopped the play."""
        if self.playing and self.barge_in:
            self.stop(PlayEnd.DIGIT)
            self.digit = digit
            return True
        return False

    def fill(self, tx: npt.NDArray[np.int16]) -> bool:
        """Write the next tick into tx (len 8); False (and silence written) once nothing plays."""
        n = self._x.size - self._pos
        if n <= 0:
            tx[:] = 0
            return False
        if n >= TICK:
            tx[:] = self._x[self._pos : self._pos + TICK]
            self._pos += TICK
        else:
            tx[:n] = self._x[self._pos :]
            tx[n:] = 0
            self._pos = self._x.size
        if self._pos >= self._x.size:
            self.end = PlayEnd.DONE
        return True
