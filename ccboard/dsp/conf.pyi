"""Conference mixer: many conferences over one flat member table, one call per chunk.

Member m is row m of the input and of the output, (members, samples), 8000 Hz: int16 for
law 'linear', uint8 G.711 octets for 'alaw' / 'ulaw' (decoded, mixed, encoded). A member in a
conference is a 'party' (talks and listens), 'listen' (listen-only; a supervisor monitoring) or
'whisper' (a supervisor coaching one agent: hears everyone, heard by the agent only). Each
member hears the sum of the conference's parties minus itself, plus its coaches, computed
exactly in int32 and clipped to int16 (never wrapped). Members in no conference get silence.
Changes apply from the next call's first sample.

Loudest talker: each party's mean-square power over 20 ms blocks, smoothed with time constant
loudest_tau_ms; a conference's loudest changes when another party is louder by
loudest_hysteresis_db, or the current one leaves or drops below loudest_floor_dbm0. Each change
is an event of EVENT_DTYPE: conference (int32), member (int32, -1 none), previous (int32, -1
none), level_dbm0 (float32), at (int64, sample index of the 20 ms block end that decided it).
"""

from typing import Literal

import numpy as np
import numpy.typing as npt

Law = Literal["linear", "alaw", "ulaw"]
Role = Literal["party", "listen", "whisper"]

MAX_MEMBERS: int
MAX_CONFERENCES: int
POWER_BLOCK: int
EVENT_DTYPE: np.dtype

class ConferenceMixer:
    """Conferences 0..conferences-1 over members 0..members-1 (all rows of every call)."""

    def __init__(
        self,
        members: int = 1024,
        conferences: int = 256,
        law: Law = "linear",
        sample_rate: int = 8000,
        *,
        loudest_tau_ms: float = 300.0,
        loudest_floor_dbm0: float = -45.0,
        loudest_hysteresis_db: float = 3.0,
    ) -> None: ...
    @property
    def members(self) -> int: ...
    @property
    def conferences(self) -> int: ...
    @property
    def law(self) -> Law: ...
    @property
    def samples(self) -> int: ...
    def join(self, member: int, conference: int, *, listen_only: bool = False) -> None:
        """Put member in conference as a party (or listen-only); moves it if it was elsewhere."""
    def leave(self, member: int) -> None:
        """Take member out; whisperers coaching it become listeners."""
    def supervise(
        self, supervisor: int, agent: int, mode: Literal["monitor", "whisper", "barge"] = "monitor"
    ) -> None:
        """Put supervisor in agent's conference: listen (monitor), coach the agent only (whisper),
        or talk to everyone (barge)."""
    def conference(self, member: int) -> int | None: ...
    def role(self, member: int) -> Role | None: ...
    def target(self, member: int) -> int | None:
        """The agent a whisperer coaches."""
    def loudest(self, conference: int) -> int | None: ...
    def power_dbm0(self, member: int) -> float:
        """Smoothed power of a party at the last 20 ms block end, dBm0 (-200 if none)."""
    def process(
        self, x: npt.NDArray[np.int16] | npt.NDArray[np.uint8], out: npt.NDArray[np.generic] | None = None
    ) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.void]]:
        """Mix one block: x (members, samples); returns (out, loudest-talker events)."""
    def reset(self) -> None: ...
    def get_state(self) -> bytes: ...
    def set_state(self, state: bytes) -> None: ...
