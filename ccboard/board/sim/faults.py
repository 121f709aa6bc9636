"""Faults on demand for the sim's lines: LOS, AIS, RAI, bit errors, slips, a pulled cable.

A fault changes what is on the wire (or what a far-end transmitter sends); the alarms, counters
and events that follow come from the receivers' framing logic reading those bits, never from
flags set here. Directions: 'rx' = towards us (the far end's transmit pair), 'tx' = from us.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ccboard.errors import BoardError

if TYPE_CHECKING:
    from ccboard.board.sim.board import SimBoard

DIRECTIONS = ("rx", "tx", "both")
_CLEAN = np.zeros(0, bool)  # no span changed (any() is False)


@dataclass
class LineFaults:
    """The faults on one direction of one span."""

    los: bool = False  # no pulses
    ber: float = 0.0  # bit error ratio

    @property
    def active(self) -> bool:
        return self.los or self.ber > 0.0


class Faults:
    """Inject faults into a SimBoard's spans (DAHDI span numbers)."""

    def __init__(self, board: SimBoard, seed: int = 1) -> None:
        self._board = board
        self.rng = np.random.default_rng(seed ^ 0x5EED)
        self.lines: dict[tuple[int, str], LineFaults] = {}
        self.slips: dict[int, list[int]] = {}  # span -> queued slips (+1 delete, -1 repeat)
        self.active = False

    def _line(self, span: int, direction: str) -> LineFaults:
        return self.lines.setdefault((span, direction), LineFaults())

    def _dirs(self, direction: str) -> tuple[str, ...]:
        if direction not in DIRECTIONS:
            raise BoardError(f"fault direction {direction!r}: expected one of {', '.join(DIRECTIONS)}")
        return ("rx", "tx") if direction == "both" else (direction,)

    def _refresh(self) -> None:
        self.active = any(f.active for f in self.lines.values())

    def los(self, span: int, on: bool = True, direction: str = "rx") -> None:
        """Loss of signal: the pair carries no pulses."""
        self._board._digital(span)
        for d in self._dirs(direction):
            self._line(span, d).los = on
        self._refresh()

    def ais(self, span: int, on: bool = True) -> None:
        """The far end sends AIS (unframed all ones) towards us."""
        self._board._far_transmitter(span).set_ais(span, on)

    def rai(self, span: int, on: bool = True) -> None:
        """The far end sends the remote alarm indication (as if it had lost our signal)."""
        self._board._far_transmitter(span).set_rai(span, on)

    def bit_errors(self, span: int, ber: float, direction: str = "rx") -> None:
        """Random bit errors at this ratio (0 stops them)."""
        self._board._digital(span)
        if not 0.0 <= ber <= 1.0:
            raise BoardError(f"span {span}: bit error ratio {ber} is not within 0..1")
        for d in self._dirs(direction):
            self._line(span, d).ber = ber
        self._refresh()

    def slip(self, span: int, kind: str = "delete", count: int = 1) -> None:
        """Controlled slips in our receive elastic store: a frame deleted (far clock fast) or
        repeated (far clock slow) per slip, one slip per tick."""
        self._board._digital(span)
        if kind not in ("delete", "repeat"):
            raise BoardError(f"span {span}: slip kind {kind!r}: expected 'delete' or 'repeat'")
        self.slips.setdefault(span, []).extend([1 if kind == "delete" else -1] * count)

    def cable_pull(self, span: int, pulled: bool = True) -> None:
        """Pull (or plug back) the span's cable: LOS both ways; on an analog span every port
        loses its line."""
        sp = self._board.span(span)
        if sp.kind.value == "analog":
            self._board._analog_cable(span, not pulled)
            return
        self.los(span, pulled, "both")

    def apply(self, kind: str, span: int, on: bool = True, rate: float = 0.0) -> None:
        """A fault by its sim-config name: los, ais, rai, slip, bit_errors, cable_pull."""
        if kind == "los":
            self.los(span, on)
        elif kind == "ais":
            self.ais(span, on)
        elif kind == "rai":
            self.rai(span, on)
        elif kind == "slip":
            if on:
                self.slip(span)
        elif kind == "bit_errors":
            self.bit_errors(span, rate if on else 0.0)
        elif kind == "cable_pull":
            self.cable_pull(span, on)
        else:
            raise BoardError(f"span {span}: unknown fault {kind!r}")

    def corrupt(
        self,
        spans: list[int],
        direction: str,
        octets: npt.NDArray[np.uint8],
        fbits: npt.NDArray[np.uint8] | None = None,
    ) -> npt.NDArray[np.bool_]:
        """Apply this direction's faults to a group's tick (spans, slots, 8) in place; return
        which spans' bits were changed."""
        if not self.active:
            return _CLEAN
        changed = np.zeros(len(spans), bool)
        for i, sp in enumerate(spans):
            f = self.lines.get((sp, direction))
            if f is None or not f.active:
                continue
            changed[i] = True
            if f.los:
                octets[i] = 0
                if fbits is not None:
                    fbits[i] = 0
                continue
            nbits = octets[i].size * 8 + (0 if fbits is None else fbits.shape[1])
            k = int(self.rng.poisson(f.ber * nbits))
            if k:
                pos = self.rng.integers(0, nbits, k)
                flat = octets[i].reshape(-1)
                in_oct = pos < flat.size * 8
                p = pos[in_oct]
                np.bitwise_xor.at(flat, p // 8, (1 << (p % 8)).astype(np.uint8))
                if fbits is not None and (~in_oct).any():
                    q = pos[~in_oct] - flat.size * 8
                    np.bitwise_xor.at(fbits[i], q, np.uint8(1))
        return changed
