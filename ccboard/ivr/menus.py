"""Menus declared as data: a prompt, the choices (a result name, a submenu, or a coroutine), the
retries with an "invalid choice" / "no input" prompt, 0 for an agent and * to go back.

    MAIN = Menu("main", prompt="main_menu", choices=(
        Choice("1", "balance"), Choice("2", SERVICES), Choice("3", report_loss)))
    result = await run_menu(call, MAIN)   # MenuResult(kind='choice', value='balance', path=('1',))

The common case is data; anything else is plain code around run_menu.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Union

from ccboard.ivr.call import Hangup, IvrCall, Playable, Term

Action = Union[str, "Menu", Callable[[IvrCall], Awaitable[object]]]


@dataclass(frozen=True)
class Choice:
    """One key of a menu: `action` is a result name, a submenu, or a coroutine run on the call."""

    key: str
    action: Action
    label: str = ""

    @property
    def name(self) -> str:
        a = self.action
        if isinstance(a, str):
            return a
        if isinstance(a, Menu):
            return a.name
        return self.label or getattr(a, "__name__", "action")


@dataclass(frozen=True)
class Menu:
    """A menu; timeout in seconds for the choice after the prompt ends."""

    name: str
    prompt: Playable
    choices: tuple[Choice, ...]
    retries: int = 3
    timeout: float = 5.0
    invalid_prompt: str | None = "invalid"
    timeout_prompt: str | None = "no_input"
    agent_key: str | None = "0"
    back_key: str | None = "*"
    exhausted: Literal["agent", "end"] = "agent"  # what running out of retries means

    def __post_init__(self) -> None:
        keys = [c.key for c in self.choices]
        for k in keys:
            if len(k) != 1 or k not in "0123456789*#ABCD":
                raise ValueError(f"menu {self.name!r}: choice key {k!r} is not one DTMF digit")
        if len(set(keys)) != len(keys):
            raise ValueError(f"menu {self.name!r}: a key is used twice in {keys}")
        for special in (self.agent_key, self.back_key):
            if special is not None and special in keys:
                raise ValueError(f"menu {self.name!r}: key {special!r} is both a choice and agent/back")


@dataclass(frozen=True)
class MenuResult:
    """kind: 'choice' (value = the choice's name, data = what its coroutine returned), 'agent'
    (0 pressed, or retries exhausted with exhausted='agent'), 'end' (retries exhausted)."""

    kind: Literal["choice", "agent", "end"]
    value: str = ""
    path: tuple[str, ...] = ()
    data: object = None
    invalid: int = 0  # invalid keys and timeouts on the way
    events: list[str] = field(default_factory=list)


async def run_menu(call: IvrCall, menu: Menu) -> MenuResult:
    """Run a menu (and its submenus) to a result; raises Hangup if the caller hangs up."""
    stack = [menu]
    path: list[str] = []
    invalid = 0
    events: list[str] = []
    while True:
        m = stack[-1]
        moved = False
        for _ in range(max(1, m.retries)):
            r = await call.get_digits(1, terminators="", first_digit_timeout=m.timeout, prompt=m.prompt)
            if r.reason == Term.HANGUP:
                raise Hangup(f"{call.id}: menu {m.name!r}: caller hung up")
            if r.timed_out:
                invalid += 1
                events.append(f"{m.name}:timeout")
                if m.timeout_prompt is not None:
                    await call.play(m.timeout_prompt)
                continue
            d = str(r.digits)
            if m.agent_key is not None and d == m.agent_key:
                events.append(f"{m.name}:agent")
                return MenuResult("agent", "agent", (*path, d), None, invalid, events)
            if m.back_key is not None and d == m.back_key:
                events.append(f"{m.name}:back")
                if len(stack) > 1:
                    stack.pop()
                    path.pop()
                moved = True
                break
            choice = next((c for c in m.choices if c.key == d), None)
            if choice is None:
                invalid += 1
                events.append(f"{m.name}:invalid")
                if m.invalid_prompt is not None:
                    await call.play(m.invalid_prompt)
                continue
            events.append(f"{m.name}:{choice.name}")
            a = choice.action
            if isinstance(a, Menu):
                stack.append(a)
                path.append(d)
                moved = True
                break
            if isinstance(a, str):
                return MenuResult("choice", a, (*path, d), None, invalid, events)
            data = await a(call)
            return MenuResult("choice", choice.name, (*path, d), data, invalid, events)
        if not moved:
            kind: Literal["agent", "end"] = m.exhausted
            return MenuResult(kind, "", tuple(path), None, invalid, events)
