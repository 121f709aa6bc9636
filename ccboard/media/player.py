"""Playing audio into one channel's tx row, one board tick at a time, with barge-in.

A tick is 8 samples (1 ms) on the sim and by default; a board may tick N ms at a time (the DAHDI
backend's `tick=N`: rows of 8N samples), and then every fill writes 8N samples.

Player is a sync core: start() queues audio, fill(tx) writes the next len(tx) samples (silence
after the end) and says whether it is still playing, digit() stops it at once when barge-in is
on, so the tick after the digit's ON event is already silent (the stop lands within one tick).

PlayerBank plays every banked Player of a board in one vectorised step per tick: each distinct
source array is copied once into a shared arena (at a tick boundary, padded with silence to
whole ticks, so the last, short chunk needs no special case), and a tick is one gather of all
playing rows' chunks (one tick of int16 each) into the board's tx block. It also plays music on
hold to the rows on hold, one broadcast per source. A banked Player is filled by its bank, never
by fill().
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ccboard.media.moh import MusicOnHold

TICK = 8  # samples per ms (a 1 ms tick): positions in ms are samples / TICK


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
        """Write the next tick into tx (len(tx) samples: 8 per ms); False (and silence written)
        once nothing plays. Not for a banked player: its bank fills it."""
        if self.slot >= 0:
            raise RuntimeError("Player.fill: this player is filled by its PlayerBank")
        n = self._x.size - self._pos
        w = tx.shape[0]
        if n <= 0:
            tx[:] = 0
            return False
        if n >= w:
            tx[:] = self._x[self._pos : self._pos + w]
            self._pos += w
        else:
            tx[:n] = self._x[self._pos :]
            tx[n:] = 0
            self._pos = self._x.size
        if self._pos >= self._x.size:
            self.end = PlayEnd.DONE
        return True


class _Source:
    """One source array in the arena: its first block, and how many playing players use it."""

    __slots__ = ("x", "off", "refs")

    def __init__(self, x: npt.NDArray[np.int16], off: int) -> None:
        self.x = x
        self.off = off  # arena sample index, a multiple of the bank's tick
        self.refs = 0


class PlayerBank:
    """Every banked Player of one board, plus its channels on hold: fill(tx, t) plays all of
    them for one tick of `tick` samples (the board's row length: 8 per ms).

    Prompts: each distinct source array is copied once into a shared arena, at a tick boundary
    and padded with silence to whole ticks, so a tick of every playing row is one gather of
    one-tick blocks (block index per slot) and one scatter into tx. Music on hold (hold()): every
    listener of one MusicOnHold hears the same stream (the samples from board sample t), so a
    tick is one broadcast per source; a playing prompt on a held row is written after it and wins.
    Ends are found without a per-tick scan: the bank keeps the tick of the soonest end."""

    def __init__(self, capacity: int = 64, arena: int = 1 << 16, *, tick: int = TICK) -> None:
        """capacity: players before the slot arrays grow; arena: samples before it compacts;
        tick: samples per fill (the board's rx/tx row length, a positive multiple of 8)."""
        if tick < TICK or tick % TICK:
            raise ValueError(f"PlayerBank: tick={tick} samples is not a positive multiple of {TICK}")
        self.tick = tick
        self._block = np.dtype((np.void, 2 * tick))  # one tick of one channel
        size = self._blocks(max(arena, 2 * tick)) * tick
        self._arena = np.zeros(size, np.int16)
        self._arena_blocks = self._arena.view(self._block)
        self._used = 0  # arena samples in use (by live sources and by dead ones until _compact)
        self._sources: dict[int, _Source] = {}  # by id of the source array (kept alive here)
        self._n = 0  # playing players: slots 0.._n-1
        capacity = max(1, capacity)
        self._blk = np.zeros(capacity, np.int64)  # arena block of each slot's next tick
        self._endt = np.zeros(capacity, np.int64)  # bank tick after which each slot has ended
        self._row = np.zeros(capacity, np.int64)  # tx row of each slot
        self._players: list[Player] = []
        self._src: list[_Source] = []
        self._ticks = 0  # fills so far
        self._soonest = 1 << 62  # no earlier tick can end a play (may be early after a stop)
        self._held: dict[int, MusicOnHold] = {}  # tx row -> its music on hold
        self._hold_rows: list[tuple[MusicOnHold, npt.NDArray[np.int64]]] | None = []  # None: stale
        self._tx: npt.NDArray[np.int16] | None = None
        self._tx_blocks: npt.NDArray[np.void] = np.zeros(0, self._block)

    def __len__(self) -> int:
        return self._n

    def _blocks(self, n: int) -> int:
        """Ticks needed for n samples (the last one padded with silence)."""
        return -(-n // self.tick)

    def _as_blocks(self, tx: npt.NDArray[np.int16]) -> npt.NDArray[np.void]:
        """tx (rows x tick int16, C-contiguous) as one element per row: a row is then one copy."""
        ts = self.tick
        if tx.dtype != np.int16 or tx.ndim != 2 or tx.shape[1] != ts or not tx.flags.c_contiguous:
            raise ValueError(f"PlayerBank.fill: tx must be a C-contiguous (rows, {ts}) int16 array")
        return tx.view(self._block).reshape(-1)

    # -- music on hold ----------------------------------------------------------------------------

    def hold(self, row: int, moh: MusicOnHold | None) -> None:
        """Row `row` hears moh from the next fill (None: no more music; the row keeps its last
        tick, the caller silences it)."""
        if moh is None:
            if self._held.pop(row, None) is not None:
                self._hold_rows = None
        elif self._held.get(row) is not moh:
            self._held[row] = moh
            self._hold_rows = None

    @property
    def held(self) -> int:
        """Rows on hold."""
        return len(self._held)

    def _groups(self) -> list[tuple[MusicOnHold, npt.NDArray[np.int64]]]:
        if self._hold_rows is None:
            by: dict[int, tuple[MusicOnHold, list[int]]] = {}
            for row, m in self._held.items():
                by.setdefault(id(m), (m, []))[1].append(row)
            self._hold_rows = [(m, np.array(sorted(rows), np.int64)) for m, rows in by.values()]
        return self._hold_rows

    # -- prompts ----------------------------------------------------------------------------------

    def _place(self, x: npt.NDArray[np.int16]) -> _Source:
        s = self._sources.get(id(x))
        if s is not None and s.x is x:
            return s
        ts = self.tick
        need = (self._blocks(x.size) + 1) * ts  # whole ticks, then a tick of silence
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
        ts = self.tick
        want = sum((self._blocks(s.x.size) + 1) * ts for s in live) + need
        while size < 2 * want:
            size *= 2
        arena = np.zeros(size, np.int16)
        shift: dict[int, int] = {}
        off = 0
        for s in live:
            arena[off : off + s.x.size] = s.x
            shift[id(s)] = (off - s.off) // ts
            s.off = off
            off += (self._blocks(s.x.size) + 1) * ts
        for i in range(self._n):
            self._blk[i] += shift[id(self._src[i])]
        self._arena = arena
        self._arena_blocks = arena.view(self._block)
        self._used = off
        self._sources = {id(s.x): s for s in live}

    def add(self, p: Player) -> None:
        """Start p (not in the bank yet) from its _pos (a multiple of the bank's tick)."""
        s = self._place(p._x)
        s.refs += 1
        i = self._n
        if i == self._blk.size:
            for name in ("_blk", "_endt", "_row"):
                a = getattr(self, name)
                setattr(self, name, np.concatenate([a, np.zeros(a.size, np.int64)]))
        first = (s.off + p._pos) // self.tick
        end = self._ticks + self._blocks(p._x.size - p._pos)
        self._blk[i] = first
        self._endt[i] = end
        self._row[i] = p.row
        self._soonest = min(self._soonest, end)
        self._players.append(p)
        self._src.append(s)
        p.slot = i
        self._n = i + 1

    def position(self, p: Player) -> int:
        """Samples of p's audio played so far."""
        i = p.slot
        return int(min(int(self._blk[i]) * self.tick - self._src[i].off, p._x.size))

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
            self._blk[i] = self._blk[last]
            self._endt[i] = self._endt[last]
            self._row[i] = self._row[last]
            self._players[i] = q
            self._src[i] = self._src[last]
            q.slot = i
        self._players.pop()
        self._src.pop()
        self._n = last
        p.slot = -1

    def fill(self, tx: npt.NDArray[np.int16], t: int = 0) -> None:
        """One tick into tx (rows x tick, C-contiguous): the held rows' music from board sample
        t, then every playing player's next tick; the players whose audio ran out end DONE
        (their on_idle runs)."""
        if tx is not self._tx:
            self._tx_blocks = self._as_blocks(tx)
            self._tx = tx
        if self._held:
            ts = self.tick
            for m, rows in self._groups():
                i = t % m.period
                if i + ts <= m.samples.size:
                    tx[rows] = m.samples[i : i + ts]
                else:  # a tick longer than MusicOnHold's one-tick (8-sample) overlap: wrap by index
                    tx[rows] = m.samples[(i + np.arange(ts)) % m.period]
        n = self._n
        if n == 0:
            return
        blk = self._blk[:n]
        self._tx_blocks[self._row[:n]] = self._arena_blocks[blk]
        blk += 1
        self._ticks += 1
        if self._ticks < self._soonest:
            return
        for i in np.flatnonzero(self._endt[:n] <= self._ticks)[::-1].tolist():
            self._players[i]._halt(PlayEnd.DONE)  # from the end: removal moves only later slots
        self._soonest = int(self._endt[: self._n].min()) if self._n else 1 << 62
