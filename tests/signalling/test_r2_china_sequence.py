"""MFC/R2 China register sequence against OpenR2 1.3.3 (Debian libopenr2, the peer of the DAHDI VM
stage), replayed signal by signal against our R2Channel, both directions; ITU as a control.

The peer models below restate OpenR2 1.3.3's r2proto.c rules (release-1 branch; the China row is
r2config_china) as data: what its forward register sends when each backward signal ends
(handle_group_a_request: DNIS requests are matched before the ANI request, so in China every
A-1 gets a DNIS digit and no ANI is ever sent), and what its backward register asks after each
forward signal (first DNIS digit, category, ANI until max_ani or I-15/I-12, the rest of the DNIS;
no end-of-DNIS signal in China: after mf_back_cycle of silence a pulsed A-3). Each test asserts
the whole exchange, not only its result, so a change of order shows up as a diff of signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ccboard.board.events import BitsChanged
from ccboard.signalling.actions import Action, CallEvent, MfSignal, StartTone, StopTone
from ccboard.signalling.r2 import R2Channel, variant
from ccboard.signalling.r2.variants import R2Variant

STEP_MS = 30.0  # time between two MF edges in the replay (a detector's operate time)
NATIONAL = 1  # II-1, national subscriber (OpenR2 and ours)


@dataclass(frozen=True)
class OpenR2Tones:
    """The OpenR2 1.3.3 tone table entries the register sequence depends on (0 = none)."""

    next_dnis: int = 1
    dnis_minus: tuple[tuple[int, int], ...] = ((2, 1), (7, 2), (8, 3))  # (A-n, digits back)
    next_ani: int = 5
    category: int = 5
    change_to_b: int = 3
    accept: int = 7  # the VM peer accepts OR2_CALL_NO_CHARGE: B-7 in both rows
    no_more_dnis: int = 15
    no_more_ani: int = 15
    ani_restricted: int = 12


OPENR2 = {
    "itu": OpenR2Tones(),
    # r2config_china: A-1 next ANI, A-6 category, no end-of-DNIS (B-1 with charge, B-2 busy)
    "cn": OpenR2Tones(next_ani=1, category=6, no_more_dnis=0),
}


@dataclass
class OpenR2Forward:
    """OpenR2 calling: the forward signal it sends when a backward signal ends (None: silent)."""

    t: OpenR2Tones
    dnis: str
    ani: str
    index: int = 0
    category_sent: bool = False
    group: str = "I"  # I until A-3 (then II: group B follows)
    label: str = "I"  # the group of the signal last sent (the category is a group II signal)
    ani_pos: int = 0

    def first(self) -> int:
        return _sig(self.dnis[0])  # mf_send_dnis(0) on the seizure acknowledgement

    def _dnis(self) -> int | None:
        if self.index < len(self.dnis):
            return _sig(self.dnis[self.index])
        return self.t.no_more_dnis or None  # China: silent, waiting for the pulsed request

    def answer(self, a: int) -> int | None:
        t = self.t
        if self.group == "II":
            return None  # group B: the register phase is over
        self.label = "I"
        if a == t.next_dnis:  # handle_dnis_request comes first: A-1 is always DNIS
            self.index += 1
            return self._dnis()
        back = dict(t.dnis_minus)
        if a in back:
            self.index = max(0, self.index - back[a])
            return self._dnis()
        if self.category_sent and a == t.next_ani:
            if self.ani_pos < len(self.ani):
                self.ani_pos += 1
                return _sig(self.ani[self.ani_pos - 1])
            return t.no_more_ani or None
        if a == t.category:
            self.category_sent = True
            self.label = "II"
            return NATIONAL
        if a == t.change_to_b:
            self.group = self.label = "II"
            return NATIONAL
        raise AssertionError(f"OpenR2 would raise a protocol error on A-{a}")


@dataclass
class OpenR2Backward:
    """OpenR2 called: the backward signal it sounds on each forward signal (0: none)."""

    t: OpenR2Tones
    max_ani: int = 10
    max_dnis: int = 4
    dnis: str = ""
    ani: str = ""
    category: int = 0
    asked: str = "dnis"
    ani_restricted: bool = False
    done: list[str] = field(default_factory=list)

    def _after_ani(self) -> int:
        # mf_receive_expected_ani: get_ani_first, so the rest of the DNIS, or group B
        if len(self.dnis) >= self.max_dnis:
            self.asked = "category_ii"
            return self.t.change_to_b
        self.asked = "dnis"
        return self.t.next_dnis

    def on(self, f: int) -> int:
        t = self.t
        if self.asked == "dnis":
            assert 1 <= f <= 10 or f == t.no_more_dnis, f"I-{f} for a DNIS digit"
            if f == t.no_more_dnis:
                self.asked = "category_ii"
                return t.change_to_b
            self.dnis += _digit(f)
            if len(self.dnis) == 1:  # first digit (get_ani_first): category, then ANI
                self.asked = "category"
                return t.category
            if len(self.dnis) >= self.max_dnis:
                self.asked = "category_ii"
                return t.change_to_b
            return t.next_dnis
        if self.asked == "category":
            self.category = f
            self.asked = "ani"
            return t.next_ani
        if self.asked == "ani":
            if f in (t.no_more_ani, t.ani_restricted):
                self.ani_restricted = f == t.ani_restricted
                return self._after_ani()
            self.ani += _digit(f)
            if len(self.ani) >= self.max_ani:
                return self._after_ani()
            return t.next_ani
        if self.asked == "category_ii":
            self.category = f
            self.asked = "done"
            return t.accept
        raise AssertionError(f"forward signal I-{f} after the register phase")

    def silence(self) -> int:
        """mf_back_cycle expired with the forward end silent (1.3.3: only on a DNIS request)."""
        assert self.asked == "dnis" and not self.t.no_more_dnis, f"OpenR2 protocol error ({self.asked})"
        self.asked = "category_ii"
        return self.t.change_to_b


def _sig(d: str) -> int:
    return 10 if d == "0" else int(d)


def _digit(s: int) -> str:
    return "0" if s == 10 else str(s)


class Rig:
    """One R2Channel of ours in virtual time (ms), its actions kept for inspection."""

    def __init__(self, v: R2Variant) -> None:
        self.v = v
        self.m = R2Channel(v, 1)
        self.now = 0.0
        self.events: list[CallEvent] = []
        self.tone = 0  # our MF signal sounding
        self.feed_actions(self.m.start())

    def feed_actions(self, acts: list[Action]) -> list[int]:
        """Track our tone; the signals started, in order."""
        started = []
        for a in acts:
            if isinstance(a, StartTone):
                self.tone = a.signal
                started.append(a.signal)
            elif isinstance(a, StopTone):
                self.tone = 0
            elif isinstance(a, CallEvent):
                self.events.append(a)
        return started

    def mf(self, sig: int, on: bool) -> list[int]:
        """An MF edge STEP_MS after the last; an end acts once it lasted mf_threshold."""
        self.now += STEP_MS
        started = self.feed_actions(self.m.handle(MfSignal(sig, on), self.now))
        if not on:
            self.now += self.v.timers.mf_threshold
            started += self.feed_actions(self.m.on_timeout(self.now))
        return started

    def bits(self, name: str) -> None:
        self.now += STEP_MS
        self.feed_actions(self.m.handle(BitsChanged(0, 1, self.v.bits(name)), self.now))

    def wait(self) -> tuple[list[int], float]:
        """Run to our next deadline: the signals started then, and how long we waited (ms)."""
        due = self.m.next_deadline()
        assert due is not None, "no timer running: the exchange is stuck"
        waited, self.now = due - self.now, due
        return self.feed_actions(self.m.on_timeout(self.now)), waited

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def openr2_calls_us(name: str, dnis: str, ani: str) -> tuple[Rig, list[str]]:
    """OpenR2 (forward) calls our backward end; the exchange as 'I-n'/'II-n' and 'A-n'/'B-n'."""
    r = Rig(variant(name))
    peer = OpenR2Forward(OPENR2[name], dnis, ani)
    r.bits("seize")
    log: list[str] = []
    fwd: int | None = peer.first()
    group = "I"
    for _ in range(100):
        if fwd is None:  # OpenR2 silent: our mf_back_cycle runs out, we pulse a request
            started, waited = r.wait()
            # mf_back_cycle runs from the start of our request: two edges and the hold of the
            # forward signal's end (mf_threshold) before
            back_cycle = r.v.timers.mf_back_cycle - STEP_MS - r.v.timers.mf_threshold
            assert len(started) == 1 and waited == back_cycle, (started, waited)
            log.append(f"(silence) A-{started[0]} pulsed")
            r.wait()  # the pulse ends (mf_back_resume)
            assert r.tone == 0
            back = started[0]
        else:
            log.append(f"{group}-{fwd}")
            started = r.mf(fwd, True)
            if "offered" in r.kinds():
                started = r.feed_actions(r.m.answer(r.now))
                assert started == [r.v.b.accept_charge]
                log.append(f"B-{started[0]}")
                r.mf(fwd, False)
                assert r.tone == 0 and r.kinds()[-1] != "releasing"
                return r, log
            assert len(started) == 1, f"no compelled answer to {group}-{fwd}"
            back = started[0]
            log.append(f"A-{back}")
            r.mf(fwd, False)
            assert r.tone == 0  # compelled: our signal ends with theirs
        fwd = peer.answer(back)
        group = peer.label
    raise AssertionError(f"no offered call after {log}")


def we_call_openr2(name: str, dnis: str, ani: str, max_ani: int = 10) -> tuple[OpenR2Backward, list[str]]:
    """Our forward end calls OpenR2 (backward) until its group B answer."""
    r = Rig(variant(name))
    peer = OpenR2Backward(OPENR2[name], max_ani=max_ani, max_dnis=4)
    r.feed_actions(r.m.dial(dnis, r.now, ani=ani, category="national_subscriber"))
    r.bits("seize_ack")
    log: list[str] = []
    fwd = r.tone
    for _ in range(100):
        if fwd:
            group = "II" if peer.asked in ("category", "category_ii") else "I"
            log.append(f"{group}-{fwd}")
            back = peer.on(fwd)
        else:  # we are silent: OpenR2's mf_back_cycle (2 s) ends it with a pulsed request
            back = peer.silence()
            log.append("(silence)")
        group_b = peer.asked == "done"
        log.append(f"{'B' if group_b else 'A'}-{back}")
        r.mf(back, True)
        assert r.tone == 0  # compelled: their signal stops ours
        started = r.mf(back, False)
        if group_b:
            assert started == [] and "alerting" in r.kinds()
            return peer, log
        assert len(started) <= 1
        fwd = started[0] if started else 0
    raise AssertionError(f"OpenR2 never reached group B: {log}")


# -- OpenR2 calls us -------------------------------------------------------------------------------


def test_china_openr2_calls_us_dnis_first_then_category_then_no_ani_by_silence() -> None:
    r, log = openr2_calls_us("cn", "5678", "1234567890")
    assert log == [
        *("I-5", "A-1", "I-6", "A-1", "I-7", "A-1", "I-8"),
        "A-6",  # DNIS complete (max_dnis 4): the category
        "II-1",
        "A-1",  # after the category, A-1 asks for ANI; OpenR2 hears a DNIS request, has none left
        "(silence) A-3 pulsed",  # no ANI: address complete, group B
        "II-1",
        "B-1",
    ]
    offered = next(e.call for e in r.events if e.kind == "offered")
    assert offered is not None
    assert (offered.dnis, offered.ani, offered.category) == ("5678", "", "national_subscriber")


def test_china_openr2_calls_us_with_a_short_dnis_two_pulsed_requests() -> None:
    r, log = openr2_calls_us("cn", "56", "1234567890")
    assert log == [
        *("I-5", "A-1", "I-6", "A-1"),
        "(silence) A-6 pulsed",  # no end-of-DNIS signal in China: silence ends the DNIS
        "II-1",
        "A-1",
        "(silence) A-3 pulsed",
        "II-1",
        "B-1",
    ]
    offered = next(e.call for e in r.events if e.kind == "offered")
    assert offered is not None
    assert (offered.dnis, offered.ani, offered.category) == ("56", "", "national_subscriber")


def test_itu_openr2_calls_us_unchanged_ani_after_the_first_digit() -> None:
    r, log = openr2_calls_us("itu", "5678", "7654321")
    assert log == [
        "I-5",
        "A-5",  # category
        "II-1",
        *(x for d in "7654321" for x in ("A-5", f"I-{d}")),
        "A-5",
        "I-15",  # end of ANI
        *("A-1", "I-6", "A-1", "I-7", "A-1", "I-8"),
        "A-3",
        "II-1",
        "B-6",
    ]
    offered = next(e.call for e in r.events if e.kind == "offered")
    assert offered is not None
    assert (offered.dnis, offered.ani, offered.category) == ("5678", "7654321", "national_subscriber")


# -- we call OpenR2 ----------------------------------------------------------------------------------


def test_china_we_call_openr2_category_ani_then_the_rest_of_the_dnis() -> None:
    peer, log = we_call_openr2("cn", "5678", "1234567890")
    assert log == [
        "I-5",
        "A-6",
        "II-1",
        *(x for d in "123456789" for x in ("A-1", f"I-{d}")),
        *("A-1", "I-10"),  # the 10th ANI digit (max_ani): OpenR2's next A-1 asks for DNIS
        *("A-1", "I-6", "A-1", "I-7", "A-1", "I-8"),
        "A-3",
        "II-1",
        "B-7",
    ]
    assert (peer.dnis, peer.ani, peer.category) == ("5678", "1234567890", NATIONAL)


def test_china_we_call_openr2_with_a_short_ani_ended_by_i15() -> None:
    peer, log = we_call_openr2("cn", "5678", "88776655")
    assert log[:3] == ["I-5", "A-6", "II-1"]
    assert log[3:21] == [x for d in "88776655" for x in ("A-1", f"I-{d}")] + ["A-1", "I-15"]
    assert log[21:] == ["A-1", "I-6", "A-1", "I-7", "A-1", "I-8", "A-3", "II-1", "B-7"]
    assert (peer.dnis, peer.ani, peer.category, peer.ani_restricted) == ("5678", "88776655", 1, False)


def test_china_we_call_openr2_with_a_short_dnis_it_pulses_a3() -> None:
    peer, log = we_call_openr2("cn", "12", "1234567890")
    assert log[-7:] == ["A-1", "I-2", "A-1", "(silence)", "A-3", "II-1", "B-7"]
    assert (peer.dnis, peer.ani, peer.category) == ("12", "1234567890", NATIONAL)


def test_china_we_call_openr2_without_ani() -> None:
    peer, log = we_call_openr2("cn", "5678", "")
    assert log[:5] == ["I-5", "A-6", "II-1", "A-1", "I-15"]
    assert (peer.dnis, peer.ani) == ("5678", "")


@pytest.mark.parametrize("ani", ["7654321", ""])
def test_itu_we_call_openr2_unchanged(ani: str) -> None:
    peer, log = we_call_openr2("itu", "5678", ani)
    assert log[:3] == ["I-5", "A-5", "II-1"]
    assert log[-3:] == ["A-3", "II-1", "B-7"]
    assert (peer.dnis, peer.ani, peer.category) == ("5678", ani, NATIONAL)


# -- our two ends back to back keep working with the China order -----------------------------------


@pytest.mark.parametrize(("dnis", "ani"), [("5678", "1234567890"), ("56", "88776655"), ("5678", "")])
def test_china_our_forward_against_our_backward(dnis: str, ani: str) -> None:
    v = variant("cn")
    fwd, bwd = Rig(v), Rig(v)
    fwd.feed_actions(fwd.m.dial(dnis, 0.0, ani=ani, category="national_subscriber"))
    bwd.bits("seize")
    fwd.bits("seize_ack")
    for _ in range(200):
        if "offered" in bwd.kinds():
            break
        if fwd.tone:
            sig = fwd.tone
            back = bwd.mf(sig, True)
            if "offered" in bwd.kinds():
                break
            assert back, "backward end gave no compelled answer"
            fwd.mf(back[0], True)
            bwd.mf(sig, False)
            nxt = fwd.mf(back[0], False)
            assert len(nxt) <= 1
        else:  # the forward end ran out of digits: the backward end pulses
            started, _ = bwd.wait()
            fwd.mf(started[0], True)
            bwd.wait()
            fwd.mf(started[0], False)
    offered = next(e.call for e in bwd.events if e.kind == "offered")
    assert offered is not None
    assert (offered.dnis, offered.ani, offered.category) == (dnis, ani, "national_subscriber")
