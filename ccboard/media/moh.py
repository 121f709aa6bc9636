"""Music on hold from a file, looped: one shared source, each listener at its own position.

A listener joins at the source's running position (as on a real MOH class: everyone on hold
hears the same stream), so starting hold costs nothing and many channels share one array: the
IVR runner's PlayerBank (hold()) writes one source to all its listeners' rows in one step a tick.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from ccboard.media import MediaError
from ccboard.media.prompts import load_prompt

TICK = 8  # samples per tick


class MusicOnHold:
    """A looped source; fill(tx, t) writes the 8 samples of board sample t."""

    def __init__(self, samples: npt.NDArray[np.int16], name: str = "default") -> None:
        x = np.ascontiguousarray(samples, np.int16)
        if x.size < TICK:
            raise MediaError(f"music on hold {name!r}: {x.size} samples is too short to loop")
        # one period plus a tick so a tick never straddles the wrap
        self.samples: npt.NDArray[np.int16] = np.concatenate([x, x[:TICK]])
        self.period = x.size
        self.name = name

    @classmethod
    def from_file(cls, path: str | Path) -> MusicOnHold:
        """A WAV or raw G.711 file (any rate, converted to 8 kHz)."""
        p = load_prompt(path)
        return cls(p.samples, p.name)

    def fill(self, tx: npt.NDArray[np.int16], t: int) -> None:
        """Write the source at board sample t (looped) into tx (len 8)."""
        i = t % self.period
        tx[:] = self.samples[i : i + TICK]
