"""The IVR layer: async scripts over calls (IvrCall), menus as data, secure digits, and the
runner that ties scripts to a board's calls with one task group per call.

    async def script(call: IvrCall) -> None:
        await call.answer()
        r = await call.get_digits(4, secret=True, prompt="enter_pin")
        ...

    await IvrRunner(board, script, prompts).run(until_ms=60_000)
"""

from __future__ import annotations

from ccboard.ivr.call import (
    DigitsResult,
    Hangup,
    IvrCall,
    IvrError,
    PlayResult,
    RecordResult,
    Term,
    TransferHook,
    TransferResult,
)
from ccboard.ivr.menus import Choice, Menu, MenuResult, run_menu
from ccboard.ivr.runner import IvrRunner, RunnerConfig, RunnerStats
from ccboard.ivr.secure import SecretDigits, require_plain

__all__ = [
    "Choice",
    "DigitsResult",
    "Hangup",
    "IvrCall",
    "IvrError",
    "IvrRunner",
    "Menu",
    "MenuResult",
    "PlayResult",
    "RecordResult",
    "RunnerConfig",
    "RunnerStats",
    "SecretDigits",
    "Term",
    "TransferHook",
    "TransferResult",
    "require_plain",
    "run_menu",
]
