"""IVR test harness: prompt sets from a shared cache, a sim board with FXO lines, scripted callers."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccboard.board import open_board
from ccboard.ivr import IvrRunner
from ccboard.ivr.runner import Script
from ccboard.media.prompts import PromptSet
from ccboard.media.tts import build_prompt_set

TEST_PHRASES = {
    "en": {
        "long": "This is a long announcement that keeps talking for quite a while, so that a caller "
        "can interrupt it with a key press at any moment during the message.",
        "menu": "For sales press 1. For support press 2.",
        "sub": "For billing press 1.",
        "enter_pin": "Please enter your PIN.",
    },
    "cmn": {"menu": "销售请按一。"},
}

_SETS: dict[str, PromptSet] = {}


def prompt_cache() -> Path:
    """$CCBOARD_PROMPT_CACHE, else a folder in the temp dir shared by test runs."""
    env = os.environ.get("CCBOARD_PROMPT_CACHE")
    return Path(env) if env else Path(tempfile.gettempdir()) / "ccboard-test-prompts"


def prompts() -> dict[str, PromptSet]:
    if not _SETS:
        for lang in ("en", "cmn"):
            _SETS[lang] = build_prompt_set(lang, TEST_PHRASES[lang], folder=prompt_cache())
    return _SETS


class Harness:
    """A sim board with `lines` FXO lines (China ring cadence: offered ~1 s after the ring starts)."""

    def __init__(self, lines: int = 2, echo: float | None = None, **kw: Any) -> None:
        url = f"sim://?e1=0&fxo={lines}&fxs={kw.pop('fxs', 0)}&zone=cn"
        if echo is not None:
            url += f"&echo={echo}"
        self.board = open_board(url)
        self.lines = [c for c in self.board.channels if c.signalling.is_fxo_port]
        self.fxs = [c for c in self.board.channels if c.signalling.is_fxs_port]
        self.kw = kw

    def fe(self, i: int) -> Any:
        return self.board.far_ends[self.lines[i].span]  # type: ignore[attr-defined]

    def ring(self, i: int, at_ms: float = 0.0) -> None:
        self.board.at(at_ms, self.fe(i).ring, self.lines[i].chanpos)  # type: ignore[attr-defined]

    def key(self, i: int, at_ms: float, digits: str, on_ms: float = 80.0, gap_ms: float = 100.0) -> None:
        """The caller on line i keys digits at at_ms (fixed tone and gap lengths)."""
        self.board.at(  # type: ignore[attr-defined]
            at_ms,
            self.fe(i).dtmf,
            self.lines[i].chanpos,
            digits,
            on_ms=(on_ms, on_ms),
            gap_ms=(gap_ms, gap_ms),
        )

    def hang_up(self, i: int, at_ms: float) -> None:
        self.board.at(at_ms, self.fe(i).disconnect, self.lines[i].chanpos)  # type: ignore[attr-defined]

    def run(
        self,
        script: Script,
        until_ms: int,
        hooks: list[Callable[[IvrRunner], None]] | None = None,
        stop: Callable[[], bool] | None = None,
        **kw: Any,
    ) -> IvrRunner:
        r = IvrRunner(self.board, script, prompts(), tick_hooks=hooks, **{**self.kw, **kw})
        asyncio.run(r.run(until_ms=until_ms, stop=stop))
        return r
