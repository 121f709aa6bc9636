"""Helpers for the board tests: run a board for a while and pick events."""

from __future__ import annotations

from typing import Any

from ccboard.board.base import Board
from ccboard.board.events import Event


def run(board: Board, ms: int) -> list[Event]:
    """Tick the board for ms milliseconds (virtual time); every event, in order."""
    out: list[Event] = []
    for _ in range(ms):
        out += board.tick()
    return out


def of(events: list[Event], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def digits_by_channel(events: list[Event]) -> dict[int, str]:
    from ccboard.board.events import Digit

    out: dict[int, str] = {}
    for e in events:
        if isinstance(e, Digit) and e.kind == "on":
            out[e.channel] = out.get(e.channel, "") + e.digit
    return out
