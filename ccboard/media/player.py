"""Playing audio into one channel's tx row, 8 samples (1 ms) per tick, with barge-in.

Player is a sync core: start() queues audio, fill(tx) writes the next 8 samples (silence after
the end) and says whether it is still playing, digit() stops it at once when barge-in is on, so
the tick after the digit's ON event is already silent (the stop lands within one tick).

PlayerBank plays every banked Player of a board in one vectorised step per tick: each distinct
source array is copied once into a shared arena (followed by a tick of silence, so the last,
short chunk needs no special case), and a tick is one gather of all playing rows' 8-sample
chunks into the board's tx block. A banked Player is filled by its bank, never by fill().
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

TICK = 8  # samples per tick
_CHUNK = np.arange(TICK, dtype=np.int64)


class PlayEnd(enum.Enum):
    """Why a play ended."""

    DONE = "done"  # the audio ran out
    DIGIT = "digit"  # barge-in: a digit's ON event
    STOPPED = "stopped"  # stop() from above (hangup, a new play, the script ended)


class Player:
    """One channel's prompt player; with a bank, its audio goes to tx row `row` of the block the
    bank fills, and on_idle runs whenever a play ends (done, barge-in or stopped)."""

    def __init__(
        self, bank: PlayerBank | None = None, row: int = 0, on_idle: Callable[[], None] | None = None
    ) -> None:
        self._x: npt.NDArray[np.int16] = np.zeros(0, np.int16)
        self._pos = 0
        self.barge_in = False
        self.end: PlayEnd | None = None  # why the last play ended (None while playing / never)
        self.digit = ""  # the digit that barged in
        self.bank = bank
        self.row = row
        self.on_idle = on_idle
        self.slot = -1  # index in the bank's active slots while banked and playing

    @property
    def playing(self) -> bool:
        if self.slot >= 0:
            return True
        return self._pos < self._x.size

    @property
    def position_ms(self) -> float:
        """How far the current (or last) play got, ms."""
        if self.slot >= 0 and self.bank is not None:
            return self.bank.position(self) / TICK
        return self._pos / TICK

    def start(self, samples: npt.NDArray[np.int16], barge_in: bool = True) -> None:
        """Play samples from the next tick (replacing anything playing, which ends STOPPED)."""
        if self.playing:
            self._halt(PlayEnd.STOPPED)
        self._x = np.ascontiguousarray(samples, np.int16)
        self._pos = 0
        self.barge_in = barge_in
        self.digit = ""
        self.end = None if self._x.size else PlayEnd.DONE
        if self._x.size and self.bank is not None:
            self.bank.add(self)

    def stop(self, why: PlayEnd = PlayEnd.STOPPED) -> None:
        if self.playing:
            self._halt(why)

    def _halt(self, why: PlayEnd) -> None:
        if self.slot >= 0 and self.bank is not None:
            self.bank.remove(self)
        self._pos = self._x.size  # as when the audio ran out: position_ms is then its length
        self.end = why
        if self.on_idle is not None:
            self.on_idle()

    def on_digit(self, digit: str) -> bool:
        """A digit's ON event: stop now if barge-in is on; True if this stopped the play."""
        if self.playing and self.barge_in:
            self.stop(PlayEnd.DIGIT)
            self.digit = digit
            return True
        return False

    def fill(self, tx: npt.NDArray[np.int16]) -> bool:
        """Write the next tick into tx (len 8); False (and silence written) once nothing plays.
        Not for a banked player: its bank fills it."""
        if self.slot >= 0:
            raise RuntimeError("Player.fill: this player is filled by its PlayerBank")
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


class _Source:
    """One source array in the arena: where it starts, and how many playing players use it."""

    __slots__ = ("x", "off", "refs")

    def __init__(self, x: npt.NDArray[np.int16], off: int) -> None:
        self.x = x
        self.off = off
        self.refs = 0


class PlayerBank:
    """Every banked Player of one board: fill(tx) plays all of them for one tick."""

    def __init__(self, capacity: int = 64, arena: int = 1 << 16) -> None:
        """capacity: players before the slot arrays grow; arena: samples before it compacts."""
        self._arena = np.zeros(max(arena, 2 * TICK), np.int16)
        self._used = 0  # arena samples in use (by live sources and by dead ones until _compact)
        self._sources: dict[int, _Source] = {}  # by id of the source array (kept alive here)
        self._n = 0  # playing players: slots 0.._n-1
        capacity = max(1, capacity)
        self._pos = np.zeros(capacity, np.int64)  # arena index of each slot's next sample
        self._stop = np.zeros(capacity, np.int64)  # arena index just past each slot's audio
        self._row = np.zeros(capacity, np.int64)  # tx row of each slot
        self._players: list[Player] = []
        self._src: list[_Source] = []

    def __len__(self) -> int:
        return self._n

    def _place(self, x: npt.NDArray[np.int16]) -> _Source:
        s = self._sources.get(id(x))
        if s is not None and s.x is x:
            return s
        need = x.size + TICK  # a tick of silence after it: the last chunk reads zeros
        if self._used + need > self._arena.size:
            self._compact(need)
        off = self._used
        self._arena[off : off + x.size] = x
        self._arena[off + x.size : off + need] = 0
        self._used += need
        s = _Source(x, off)
        self._sources[id(x)] = s
        return s

    def _compact(self, need: int) -> None:
        """Drop dead sources (and grow if still short), moving the live ones and their slots."""
        live = [s for s in self._sources.values() if s.refs > 0]
        size = self._arena.size
        want = sum(s.x.size + TICK for s in live) + need
        while size < 2 * want:
            size *= 2
        arena = np.zeros(size, np.int16)
        shift: dict[int, int] = {}
        off = 0
        for s in live:
            arena[off : off + s.x.size] = s.x
            shift[id(s)] = off - s.off
            s.off = off
            off += s.x.size + TICK
        for i in range(self._n):
            d = shift[id(self._src[i])]
            self._pos[i] += d
            self._stop[i] += d
        self._arena = arena
        self._used = off
        self._sources = {id(s.x): s for s in live}

    def add(self, p: Player) -> None:
        """Start p (not in the bank yet) from its _pos."""
        s = self._place(p._x)
        s.refs += 1
        i = self._n
        if i == self._pos.size:
            for name in ("_pos", "_stop", "_row"):
                a = getattr(self, name)
                setattr(self, name, np.concatenate([a, np.zeros(a.size, np.int64)]))
        self._pos[i] = s.off + p._pos
        self._stop[i] = s.off + p._x.size
        self._row[i] = p.row
        self._players.append(p)
        self._src.append(s)
        p.slot = i
        self._n = i + 1

    def position(self, p: Player) -> int:
        """Samples of p's audio played so far."""
        i = p.slot
        return int(min(self._pos[i], self._stop[i]) - self._src[i].off)

    def remove(self, p: Player) -> None:
        """Take p out (the last slot moves into its place)."""
        i = p.slot
        s = self._src[i]
        s.refs -= 1
        if s.refs == 0:
            del self._sources[id(s.x)]  # its arena space is reclaimed by the next _compact
        last = self._n - 1
        if i != last:
            q = self._players[last]
            self._pos[i] = self._pos[last]
            self._stop[i] = self._stop[last]
            self._row[i] = self._row[last]
            self._players[i] = q
            self._src[i] = self._src[last]
            q.slot = i
        self._players.pop()
        self._src.pop()
        self._n = last
        p.slot = -1

    def fill(self, tx: npt.NDArray[np.int16]) -> None:
        """One tick: every playing player's next 8 samples into its row of tx (rows x 8); the
        players whose audio ran out end DONE (their on_idle runs)."""
        n = self._n
        if n == 0:
            return
        pos = self._pos[:n]
        tx[self._row[:n]] = self._arena[pos[:, None] + _CHUNK]
        pos += TICK
        done = np.flatnonzero(pos >= self._stop[:n])
        for i in done[::-1].tolist():  # from the end: removal moves only later slots
            self._players[i]._halt(PlayEnd.DONE)
