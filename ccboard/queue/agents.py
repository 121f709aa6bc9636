"""Agents and queue memberships: the state the ACD keeps per agent, and how it reads as a state.

An agent is one person (one phone) across all queues: logged in or not, paused (with a reason) or
not, and at most one activity at a time (idle, ringing, on call, wrap-up). Pausing while on a
call takes effect at once for routing and shows as PAUSED when the call and wrap-up are over,
as Asterisk does. The supervisor-visible state is derived, never stored twice:

    logged out  > ringing / on call / wrap-up  > paused  > available

A membership (`Member`) carries what is per queue: Asterisk's penalty, mod_callcenter's tier
level and position, the join ordinal (round-robin memory order), and per-queue counters that
the strategies read (calls taken, time the last call ended).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ccboard.queue.events import AgentState


class Activity(enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"
    ON_CALL = "on call"
    WRAP_UP = "wrap-up"


@dataclass(slots=True, eq=False)
class Member:
    """An agent's membership of one queue."""

    queuename: str
    agent: Agent
    penalty: int = 0
    level: int = 1  # mod_callcenter tier level (1 = first tier)
    position: int = 1  # mod_callcenter tier position / Asterisk member order for linear, rrordered
    ordinal: int = 0  # join order in this queue: round-robin-with-memory order
    calls: int = 0  # calls taken from this queue
    last_call: float = 0.0  # epoch s the last call from this queue ended (0 = never)


@dataclass(slots=True, eq=False)
class Agent:
    """One agent across all queues."""

    name: str
    skills: dict[str, int] = field(default_factory=dict)  # skill -> level (higher = better)
    logged_in: bool = False
    channel: str = ""
    login_time: float = 0.0
    paused: bool = False
    pause_reason: str = ""
    activity: Activity = Activity.IDLE
    callid: str = ""  # the call it rings for, talks to or wraps up
    idle_since: float = 0.0  # epoch s it last became free (longest-idle-agent)
    calls: int = 0  # calls taken, all queues
    talk_time: float = 0.0  # s, all queues (agent-with-least-talk-time)
    busy_since: float = 0.0  # epoch s the current ring/call/wrap-up began
    members: dict[str, Member] = field(default_factory=dict)
    wrapup_queue: str = ""  # the queue whose call the agent is wrapping up
    timers: dict[str, int] = field(default_factory=dict)  # the ACD's armed timers (kind -> token)

    @property
    def routable(self) -> bool:
        """May be offered a call now."""
        return self.logged_in and not self.paused and self.activity is Activity.IDLE

    @property
    def staffed(self) -> bool:
        """Counts as staff for wait estimates and empty-queue rules: logged in, not paused."""
        return self.logged_in and not self.paused

    @property
    def state(self) -> AgentState:
        if not self.logged_in:
            return AgentState.LOGGED_OUT
        if self.activity is Activity.RINGING:
            return AgentState.RINGING
        if self.activity is Activity.ON_CALL:
            return AgentState.ON_CALL
        if self.activity is Activity.WRAP_UP:
            return AgentState.WRAP_UP
        return AgentState.PAUSED if self.paused else AgentState.AVAILABLE

    def has_skills(self, required: tuple[tuple[str, int], ...]) -> bool:
        """Every required skill at least at the required level."""
        sk = self.skills
        for name, level in required:
            if sk.get(name, -1) < level:
                return False
        return True
