"""Compelled MFC/R2 register signalling (ITU-T Q.440-Q.442; signal meanings from the variant row).

The compelled cycle: the forward register sounds a signal; the backward register, on hearing
it, sounds its answer; the forward register stops on hearing that; the backward register stops
on hearing the forward stop; the forward register, on hearing the backward stop, sends what the
answer asked for. A backward register with nothing to answer (the forward end ran out of digits
and the variant has no end-of-digits signal) times out and sends a pulsed signal instead.

Forward: groups I (digits, end of ANI/DNIS) and II (category). Backward: groups A (requests),
B (the called line's condition, ends the cycle), C (Mexico). Both registers return actions and
register events: ('offered', ''), ('complete', 'accepted'|'rejected'), ('accepted', 'charge' or
'no-charge'), ('rejected', cause), ('error', what), ('timeout', which timer).
"""

from __future__ import annotations

from ccboard.signalling.actions import Action, StartTone, StopTone
from ccboard.signalling.call import Cause
from ccboard.signalling.r2.variants import R2Variant

RegEvent = tuple[str, str]
FWD = "r2_fwd"
BWD = "r2_bwd"


def digit_signal(d: str) -> int:
    """Group I signal of a decimal digit ('0' is signal 10)."""
    return 10 if d == "0" else int(d)


def signal_digit(s: int) -> str:
    return "0" if s == 10 else str(s)


class ForwardRegister:
    """The outgoing register: sends DNIS, category and ANI as the backward end asks."""

    def __init__(
        self,
        variant: R2Variant,
        dnis: str,
        ani: str = "",
        category: str = "",
        ani_restricted: bool = False,
        channel: int | str = "",
    ) -> None:
        self.v = variant
        self.channel = channel
        self.dnis = dnis
        self.ani = ani
        self.category = variant.category_signal(category)
        self.ani_restricted = ani_restricted
        self.pos = 0  # next DNIS digit to send
        self.ani_pos = 0
        self.mode = "dnis"  # what an ambiguous request (China A-1) asks for
        self.group = "A"
        self.category_sent = False
        self.tone = 0  # our signal sounding, 0 if silent
        self.pending = 0  # backward signal heard, acted on when it ends
        self.due: float | None = None  # mf_fwd_safety
        self.done = False
        self.state = "idle"

    def next_deadline(self) -> float | None:
        return self.due

    def _send(self, signal: int, now: float) -> list[Action]:
        self.tone = signal
        self.due = now + self.v.timers.mf_fwd_safety
        self.state = f"sending-{self.group}{signal}"
        return [StartTone(signal, FWD)]

    def _silent(self, now: float) -> list[Action]:
        self.due = now + self.v.timers.mf_fwd_safety
        self.state = "waiting-pulse"
        return []

    def start(self, now: float) -> list[Action]:
        """Seizure acknowledged: send the first DNIS digit."""
        return self._send_dnis(now)

    def _send_dnis(self, now: float) -> list[Action]:
        self.mode = "dnis"
        if self.pos < len(self.dnis):
            self.pos += 1
            return self._send(digit_signal(self.dnis[self.pos - 1]), now)
        if self.v.i.no_more_dnis:
            return self._send(self.v.i.no_more_dnis, now)
        return self._silent(now)

    def _send_ani(self, now: float) -> list[Action]:
        v = self.v
        self.mode = "ani"
        if self.ani_restricted and v.i.ani_restricted:
            self.mode = "dnis"
            return self._send(v.i.ani_restricted, now)
        limit = v.max_ani if v.force_max_ani else len(self.ani)
        if self.ani_pos < min(len(self.ani), limit):
            self.ani_pos += 1
            if v.force_max_ani and self.ani_pos >= v.max_ani:
                self.mode = "dnis"
            return self._send(digit_signal(self.ani[self.ani_pos - 1]), now)
        self.mode = "dnis"
        if v.i.no_more_ani:
            return self._send(v.i.no_more_ani, now)
        return self._silent(now)

    def _category(self, now: float) -> list[Action]:
        self.category_sent = True
        return self._send(self.category, now)

    def on_signal(self, signal: int, on: bool, now: float) -> tuple[list[Action], list[RegEvent]]:
        """A backward signal started (on) or ended."""
        if self.done:
            return [], []
        if on:
            self.pending = signal
            self.due = None
            self.state = f"heard-{self.group}{signal}"
            if self.tone:
                self.tone = 0
                return [StopTone()], []
            return [], []
        sig, self.pending = self.pending, 0
        if not sig:
            return [], []
        return self._respond(sig, now)

    def _respond(self, sig: int, now: float) -> tuple[list[Action], list[RegEvent]]:
        v = self.v
        a, c = v.a, v.c
        if self.group == "A":
            if a.category and sig == a.category and not self.category_sent:
                self.mode = "ani"
                return self._category(now), []
            if self.mode == "ani" and a.next_ani and sig == a.next_ani:
                return self._send_ani(now), []
            if sig == a.next_dnis:
                return self._send_dnis(now), []
            if a.next_ani and sig == a.next_ani:
                return self._send_ani(now), []
            if a.category_and_change_to_c and sig == a.category_and_change_to_c:
                self.group = "C"
                return self._category(now), []
            if sig == a.change_to_b:
                self.group = "B"
                return self._category(now), []
            back = {a.dnis_minus_1: 2, a.dnis_minus_2: 3, a.dnis_minus_3: 4}
            back.pop(0, None)
            if sig in back:
                self.pos = max(0, self.pos - back[sig])
                return self._send_dnis(now), []
            if a.all_dnis_again and sig == a.all_dnis_again:
                self.pos = 0
                return self._send_dnis(now), []
            if a.address_complete_charge and sig == a.address_complete_charge:
                return self._finish(now), [("accepted", "charge")]
            if sig == a.congestion:
                return self._finish(now), [("rejected", str(Cause.SWITCH_CONGESTION))]
        elif self.group == "C":
            if sig == c.next_ani:
                return self._send_ani(now), []
            if sig == c.change_to_b:
                self.group = "B"
                return self._category(now), []
            if sig == c.next_dnis_and_change_to_a:
                self.group = "A"
                return self._send_dnis(now), []
            if sig == c.congestion:
                return self._finish(now), [("rejected", str(Cause.SWITCH_CONGESTION))]
        else:
            outcome = group_b_outcome(v, sig)
            if outcome is not None:
                return self._finish(now), [outcome]
        self._finish(now)
        return [], [("error", f"unexpected backward signal {self.group}-{sig}")]

    def _finish(self, now: float) -> list[Action]:
        self.done = True
        self.due = None
        self.state = "done"
        return []

    def on_timeout(self, now: float) -> tuple[list[Action], list[RegEvent]]:
        if self.due is None or now < self.due or self.done:
            return [], []
        self.done = True
        self.due = None
        acts: list[Action] = [StopTone()] if self.tone else []
        self.tone = 0
        return acts, [("timeout", "mf_fwd_safety")]

    def stop(self) -> list[Action]:
        """Abandon the register phase (the call is being cleared)."""
        self.done = True
        self.due = None
        if self.tone:
            self.tone = 0
            return [StopTone()]
        return []


def group_b_outcome(v: R2Variant, sig: int) -> RegEvent | None:
    """What a group B signal says: ('accepted', charge) or ('rejected', Q.850 cause)."""
    b = v.b
    table = (
        (b.accept_charge, ("accepted", "charge")),
        (b.accept_no_charge, ("accepted", "no-charge")),
        (b.busy, ("rejected", str(Cause.USER_BUSY))),
        (b.congestion, ("rejected", str(Cause.SWITCH_CONGESTION))),
        (b.unallocated, ("rejected", str(Cause.UNALLOCATED_NUMBER))),
        (b.out_of_order, ("rejected", str(Cause.DESTINATION_OUT_OF_ORDER))),
        (b.number_changed, ("rejected", str(Cause.NUMBER_CHANGED))),
        (b.special_info, ("rejected", str(Cause.NORMAL_UNSPECIFIED))),
    )
    for s, out in table:
        if s and s == sig:
            return out
    return None


def group_b_for_cause(v: R2Variant, cause: int) -> int:
    """The group B signal that refuses a call with a Q.850 cause (busy for anything unmapped)."""
    b = v.b
    by_cause = {
        Cause.USER_BUSY: b.busy,
        Cause.UNALLOCATED_NUMBER: b.unallocated,
        Cause.NUMBER_CHANGED: b.number_changed,
        Cause.DESTINATION_OUT_OF_ORDER: b.out_of_order,
        Cause.SWITCH_CONGESTION: b.congestion,
        Cause.NO_CIRCUIT_AVAILABLE: b.congestion,
        Cause.NORMAL_UNSPECIFIED: b.special_info,
    }
    return by_cause.get(cause) or b.busy


class BackwardRegister:
    """The incoming register: asks for DNIS, category and ANI, then gives the group B answer."""

    def __init__(self, variant: R2Variant, channel: int | str = "") -> None:
        self.v = variant
        self.channel = channel
        self.dnis = ""
        self.ani = ""
        self.category = 0
        self.ani_restricted = False
        self.dnis_done = variant.max_dnis == 0
        self.ani_done = variant.max_ani == 0
        self.category_received = False
        self.group = "A"
        self.asked = "dnis"  # what the next forward signal is
        self.fwd = 0  # forward signal sounding
        self.tone = 0  # our signal sounding
        self.final = 0  # group B signal given (accept/reject), 0 before
        self.offered = False
        self.done = False
        self.cycle_due: float | None = None  # mf_back_cycle (first digit: mf_fwd_safety)
        self.pulse_due: float | None = None  # end of a pulsed signal
        self.state = "idle"

    def next_deadline(self) -> float | None:
        ds = [d for d in (self.cycle_due, self.pulse_due) if d is not None]
        return min(ds) if ds else None

    def start(self, now: float) -> list[Action]:
        """Seizure acknowledged: wait for the first forward signal."""
        self.cycle_due = now + self.v.timers.mf_fwd_safety
        self.state = "waiting-first-digit"
        return []

    def _request(self) -> tuple[int, str, str]:
        """(signal, what it asks for, group after) of the next request."""
        v = self.v
        a, c = v.a, v.c
        if self.group == "C":
            if not self.ani_done:
                return c.next_ani, "ani", "C"
            if not self.dnis_done:
                return c.next_dnis_and_change_to_a, "dnis", "A"
            return c.change_to_b, "category_ii", "B"
        if not self.ani_done and (v.ani_first or self.dnis_done):
            if not self.category_received:
                if a.category:
                    return a.category, "category", "A"
                if a.category_and_change_to_c:
                    return a.category_and_change_to_c, "category", "C"
            if a.next_ani:
                return a.next_ani, "ani", "A"
            self.ani_done = True
        if not self.dnis_done:
            return a.next_dnis, "dnis", "A"
        return a.change_to_b, "category_ii", "B"

    def _ask(self, now: float, pulsed: bool = False) -> list[Action]:
        sig, self.asked, self.group = self._request()
        self.tone = sig
        self.state = f"asking-{self.asked}"
        self.cycle_due = now + self.v.timers.mf_back_cycle
        if pulsed:
            self.pulse_due = now + self.v.timers.mf_back_resume
        return [StartTone(sig, BWD)]

    def _take(self, sig: int) -> str:
        """Record a forward signal by what was asked; '' or what was wrong."""
        v = self.v
        if self.asked == "dnis":
            if 1 <= sig <= 10:
                self.dnis += signal_digit(sig)
                if len(self.dnis) >= v.max_dnis:
                    self.dnis_done = True
            elif v.i.no_more_dnis and sig == v.i.no_more_dnis:
                self.dnis_done = True
            else:
                return f"forward signal I-{sig} where a DNIS digit was asked"
        elif self.asked == "ani":
            if 1 <= sig <= 10:
                self.ani += signal_digit(sig)
                if len(self.ani) >= v.max_ani:
                    self.ani_done = True
            elif v.i.no_more_ani and sig == v.i.no_more_ani:
                self.ani_done = True
            elif v.i.ani_restricted and sig == v.i.ani_restricted:
                self.ani_restricted = True
                self.ani_done = True
            else:
                return f"forward signal I-{sig} where an ANI digit was asked"
        elif self.asked == "category":
            self.category = sig
            self.category_received = True
        elif self.asked == "category_ii":
            self.category = sig
            self.offered = True
        return ""

    def on_signal(self, signal: int, on: bool, now: float) -> tuple[list[Action], list[RegEvent]]:
        """A forward signal started (on) or ended."""
        if self.done:
            return [], []
        acts: list[Action] = []
        if on:
            if self.offered:
                return [], []
            self.fwd = signal
            self.cycle_due = None
            if self.tone:  # compelled order broken: the forward end did not wait for our stop
                self.tone = 0
                acts.append(StopTone())
            bad = self._take(signal)
            if bad:
                return [*acts, *self.stop()], [("error", bad)]
            if self._offered():  # _take() may have set it
                self.state = "offered"
                return acts, [("offered", "")]
            return [*acts, *self._ask(now)], []
        self.fwd = 0
        if self.tone and not self.pulse_due:
            self.tone = 0
            acts.append(StopTone())
            if self.final:
                self.done = True
                self.cycle_due = None
                self.state = "done"
                return acts, [("complete", "accepted" if self.accepted else "rejected")]
            self.state = f"asked-{self.asked}"
        return acts, []

    def _offered(self) -> bool:
        return self.offered

    @property
    def accepted(self) -> bool:
        b = self.v.b
        return self.final in (b.accept_charge, b.accept_no_charge) and self.final != 0

    def give(self, signal: int, now: float) -> list[Action]:
        """Answer the category with group B signal `signal` (the forward signal is still on)."""
        self.final = signal
        self.tone = signal
        self.cycle_due = now + self.v.timers.mf_back_cycle
        self.state = "answering-B"
        return [StartTone(signal, BWD)]

    def on_timeout(self, now: float) -> tuple[list[Action], list[RegEvent]]:
        acts: list[Action] = []
        if self.pulse_due is not None and now >= self.pulse_due:
            self.pulse_due = None
            if self.tone:
                self.tone = 0
                acts.append(StopTone())
        if self.cycle_due is not None and now >= self.cycle_due and not self.done:
            self.cycle_due = None
            v = self.v
            quiet = not self.tone and not self.fwd
            end_by_timeout = (self.asked == "dnis" and not v.i.no_more_dnis) or (
                self.asked == "ani" and (not v.i.no_more_ani or v.ani_ends_by_silence)
            )
            if quiet and end_by_timeout and self.state != "waiting-first-digit":
                # the forward end has no more digits and no signal to say so: resume with a pulse
                if self.asked == "dnis":
                    self.dnis_done = True
                else:
                    self.ani_done = True
                return [*acts, *self._ask(now, pulsed=True)], []
            return [*acts, *self.stop()], [("timeout", "mf_back_cycle")]
        return acts, []

    def stop(self) -> list[Action]:
        """Abandon the register phase."""
        self.done = True
        self.cycle_due = self.pulse_due = None
        self.state = "done"
        if self.tone:
            self.tone = 0
            return [StopTone()]
        return []
