"""Analog ports of the sim: FXS ports (we feed an agent's phone) and FXO ports (we are a phone
on an exchange line), at the level of loop current, ringing voltage and hook switch timing.

Ring cadences per zone are libtonezone's (dahdi-tools zonedata.c, as Debian libtonezone 3.1.0
dumps them; see ../shared/REFERENCE.md "Call progress tones"): on/off pairs in ms, repeating.

Timing (the port reports what DAHDI reports):
- hook flash: the phone goes on hook for FLASH_MIN_MS..FLASH_MAX_MS and back: one HookFlash;
  shorter breaks are contact bounce and ignored; on hook for FLASH_MAX_MS or more is a hang-up,
  reported FLASH_MAX_MS after the break began (only then is it known not to be a flash);
- ring trip: a phone going off hook while rung removes the ringing at once;
- kewl start (fxsks on an FXO port): the exchange drops battery for KEWL_OPEN_MS to say the far
  party hung up; loop start (fxsls) has no such signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ccboard.board.events import Alarm, ChannelAlarm, Event, HookChanged, HookFlash, RingChanged

RING_CADENCES_MS: dict[str, tuple[int, ...]] = {
    "us": (2000, 4000),
    "uk": (400, 200, 400, 2000),
    "de": (1000, 4000),
    "cn": (1000, 4000),
}
FLASH_MIN_MS = 100
FLASH_MAX_MS = 700
KEWL_OPEN_MS = 600
MS = 8  # samples per ms
NEVER = 1 << 62


def ring_cadence(zone: str) -> tuple[int, ...]:
    """The zone's ring cadence (on/off ms pairs); unknown zones ring like 'us'."""
    return RING_CADENCES_MS.get(zone, RING_CADENCES_MS["us"])


@dataclass
class FxsPort:
    """Our FXS port and the phone on it. Times are sample indices."""

    channo: int
    phone_offhook: bool = False
    reported_offhook: bool = False
    ringing: bool = False
    connected: bool = True  # the phone is plugged in
    answer_after_rings: int | None = None  # the phone's user answers on this ring (None: never)
    answer_delay_ms: int = 800
    rings: int = 0
    _break_at: int | None = None
    _answer_at: int = NEVER
    events: list[Event] = field(default_factory=list)

    def next_deadline(self) -> int:
        d = self._answer_at
        if self._break_at is not None:
            d = min(d, self._break_at + FLASH_MAX_MS * MS)
        return d

    def offhook(self, t: int) -> None:
        """The phone's user lifts the handset."""
        self.phone_offhook = True
        self._answer_at = NEVER
        if not self.connected:
            return
        if self._break_at is not None:
            held = t - self._break_at
            self._break_at = None
            if held < FLASH_MAX_MS * MS:
                if held >= FLASH_MIN_MS * MS:
                    self.events.append(HookFlash(t=t, channel=self.channo))
                return
            # on hook FLASH_MAX_MS or more, lifted in the tick that would have said so: a hang-up
            self.reported_offhook = False
            self.events.append(HookChanged(t=t, channel=self.channo, offhook=False))
        if not self.reported_offhook:
            self.reported_offhook = True
            self.ringing = False  # ring trip
            self.events.append(HookChanged(t=t, channel=self.channo, offhook=True))

    def onhook(self, t: int) -> None:
        """The phone's user hangs up (or the loop opens)."""
        self.phone_offhook = False
        if self.reported_offhook and self._break_at is None:
            self._break_at = t

    def set_ring(self, t: int, on: bool) -> None:
        """Our ringing voltage on or off."""
        if on and not self.ringing and not self.phone_offhook and self.connected:
            self.rings += 1
            if self.answer_after_rings is not None and self.rings >= self.answer_after_rings:
                self._answer_at = t + self.answer_delay_ms * MS
        self.ringing = on and not self.phone_offhook

    def set_connected(self, t: int, connected: bool) -> None:
        """Plug the phone in or pull its cable (an open loop: the same as going on hook)."""
        self.connected = connected
        if not connected:
            self.onhook(t)
            self.phone_offhook = False
        elif self.phone_offhook:
            self.offhook(t)

    def step(self, t: int) -> None:
        if self._break_at is not None and t - self._break_at >= FLASH_MAX_MS * MS:
            self._break_at = None
            self.reported_offhook = False
            self.events.append(HookChanged(t=t, channel=self.channo, offhook=False))
        if t >= self._answer_at:
            self._answer_at = NEVER
            self.offhook(t)


@dataclass
class FxoPort:
    """Our FXO port and the exchange line it hangs on."""

    channo: int
    kewl: bool = True  # fxsks: the exchange signals disconnect by dropping battery
    zone: str = "us"
    offhook: bool = False  # we hold the loop
    battery: bool = True
    connected: bool = True
    current: bool = False  # loop current flowing (reported)
    ring_on: bool = False  # ringing voltage present (reported)
    _ring_start: int | None = None
    _battery_back: int = NEVER
    events: list[Event] = field(default_factory=list)

    def next_deadline(self) -> int:
        d = self._battery_back
        if self._ring_start is not None:
            d = min(d, self._next_ring_edge())
        return d

    def _next_ring_edge(self) -> int:
        assert self._ring_start is not None
        cad = [c * MS for c in ring_cadence(self.zone)]
        period = sum(cad)
        # edges are at cumulative cadence offsets; find the next one after the current state
        elapsed = (self._now - self._ring_start) % period
        base = self._now - elapsed
        acc = 0
        for c in cad:
            acc += c
            if acc > elapsed:
                return base + acc
        return base + period

    _now: int = 0

    def _ring_phase_on(self, t: int) -> bool:
        assert self._ring_start is not None
        cad = [c * MS for c in ring_cadence(self.zone)]
        elapsed = (t - self._ring_start) % sum(cad)
        acc = 0
        for i, c in enumerate(cad):
            acc += c
            if elapsed < acc:
                return i % 2 == 0
        return False

    def _update(self, t: int) -> None:
        self._now = t
        ring = self._ring_start is not None and self.connected and self._ring_phase_on(t)
        if ring != self.ring_on:
            self.ring_on = ring
            self.events.append(RingChanged(t=t, channel=self.channo, ringing=ring))
        cur = self.offhook and self.battery and self.connected
        if cur != self.current:
            self.current = cur
            self.events.append(HookChanged(t=t, channel=self.channo, offhook=cur))

    def ring(self, t: int) -> None:
        """The exchange starts ringing us with the zone's cadence (until answered or stopped)."""
        if not self.offhook:
            self._ring_start = t
        self._update(t)

    def stop_ring(self, t: int) -> None:
        """The caller gave up before we answered."""
        self._ring_start = None
        self._update(t)

    def set_hook(self, t: int, offhook: bool) -> None:
        """We close (answer / seize) or open the loop; closing it trips any ringing."""
        self.offhook = offhook
        if offhook:
            self._ring_start = None
        self._update(t)

    def disconnect(self, t: int) -> None:
        """The far party hung up: on kewl start the exchange drops battery for KEWL_OPEN_MS."""
        self._ring_start = None
        if self.kewl:
            self.battery = False
            self._battery_back = t + KEWL_OPEN_MS * MS
        self._update(t)

    def set_connected(self, t: int, connected: bool) -> None:
        """Plug the line in or pull it: no battery is a red alarm on the port, as wctdm reports."""
        if connected != self.connected:
            self.connected = connected
            self.events.append(
                ChannelAlarm(t=t, channel=self.channo, alarms=Alarm.NONE if connected else Alarm.RED)
            )
        self._update(t)

    def step(self, t: int) -> None:
        if t >= self._battery_back:
            self._battery_back = NEVER
            self.battery = True
        self._update(t)
