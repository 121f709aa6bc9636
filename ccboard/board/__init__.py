"""The board layer: Board/Span/Channel, the 1 ms tick, the event stream, and two backends,
`sim` (a simulated board with simulated far ends) and `dahdi` (the real DAHDI driver).

open_board(url) opens either by URL: `sim:///path/to/board.toml`, `dahdi:///etc/dahdi/system.conf`.
"""

from __future__ import annotations

from ccboard.board.base import Board
from ccboard.board.channel import Channel, Signalling
from ccboard.board.span import Span, SpanKind

__all__ = ["Board", "Channel", "Signalling", "Span", "SpanKind", "open_board"]


def open_board(url: str) -> Board:
    """Open a board by URL; the scheme picks the backend (sim://, dahdi://)."""
    from urllib.parse import urlparse

    from ccboard.errors import BoardError

    parsed = urlparse(url)
    if parsed.scheme == "sim":
        from ccboard.board.sim import open_sim

        return open_sim(parsed)
    if parsed.scheme == "dahdi":
        from ccboard.board.dahdi import open_dahdi

        return open_dahdi(parsed)
    raise BoardError(f"{url}: unknown board scheme {parsed.scheme!r} (expected sim:// or dahdi://)")
