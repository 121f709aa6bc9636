"""MFC/R2 country variants as rows of data: line codes (ABCD), MF signal meanings per group,
ANI/DNIS rules and timers. The protocol code has no country branches; it reads a row.

Sources (facts, not code): ITU-T Q.421 (line signalling, digital), Q.441 (MFC signal
meanings), OpenR2 r2proto.c (openr2_proto_configure_context: the defaults; r2config_china,
r2config_mexico, r2config_brazil: the overrides) and REFERENCE.md "MFC/R2". Signals are numbered
1..15 as in Q.441 (10 is digit 0); 0 means "the variant has no such signal".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# A and B bits of each line signal (Q.421); C and D are static per variant (cd below).
LINE_AB = {
    "idle": 0b10,  # also clear forward (forward) / release guard (backward)
    "seize": 0b00,
    "seize_ack": 0b11,
    "answer": 0b01,
    "clear_back": 0b11,
    "clear_forward": 0b10,
    "blocked": 0b11,
    "forced_release": 0b00,
}


@dataclass(frozen=True)
class GroupA:
    """Backward signals that ask for the next forward signal (Q.441 group A)."""

    next_dnis: int = 1
    dnis_minus_1: int = 2
    dnis_minus_2: int = 7
    dnis_minus_3: int = 8
    all_dnis_again: int = 0
    next_ani: int = 5
    category: int = 5  # same as next_ani in ITU: the first A-5 asks for the category
    category_and_change_to_c: int = 0
    change_to_b: int = 3  # address complete, change over to group B (forward answers in II)
    address_complete_charge: int = 6  # accepted without group B
    congestion: int = 4


@dataclass(frozen=True)
class GroupB:
    """Backward signals that end the register phase with the called line's condition."""

    accept_charge: int = 6
    accept_no_charge: int = 7
    busy: int = 3
    congestion: int = 4
    unallocated: int = 5
    out_of_order: int = 8
    special_info: int = 2
    number_changed: int = 0


@dataclass(frozen=True)
class GroupC:
    """Mexico's group C (entered by A category_and_change_to_c)."""

    next_ani: int = 0
    change_to_b: int = 0
    next_dnis_and_change_to_a: int = 0
    congestion: int = 0


@dataclass(frozen=True)
class GroupI:
    """Forward group I signals other than the digits 1..10."""

    no_more_dnis: int = 15  # end of DNIS (0: the backward end finds out by timeout)
    no_more_ani: int = 15  # end of ANI
    ani_restricted: int = 12


# Forward group II: the calling party's category, by name.
ITU_CATEGORIES: dict[str, int] = {
    "national_subscriber": 1,
    "national_priority_subscriber": 2,
    "test_equipment": 3,
    "international_subscriber": 7,
    "international_priority_subscriber": 9,
}


@dataclass(frozen=True)
class Timers:
    """Timer lengths in ms (names after OpenR2's; the Q.4xx role in the comment)."""

    seize_ack: int = 2000  # r2_seize: seizure sent, no seizure acknowledgement (Q.421)
    answer: int = 60000  # r2_answer: group B accepted, no answer signal
    mf_back_cycle: int = 2000  # backward signal on, no forward change: the compelled cycle failed
    mf_back_resume: int = 150  # length of a pulsed backward signal (Q.442 pulsed signals)
    mf_fwd_safety: int = 30000  # forward signal on, no backward answer
    release_guard: int = 3000  # r2_set_call_down: clear forward sent, far end not back to idle
    answer_delay: int = 150  # r2_answer_delay: group B cycle over before the answer signal
    # A received MF signal's end counts once the silence has lasted this long; the same signal
    # back within it was a dropout (a late buffer on a loaded host), not the next signal. Like
    # OpenR2's mf_threshold, applied to ends only: each compelled cycle is 2 x this longer.
    mf_threshold: int = 40


@dataclass(frozen=True)
class R2Variant:
    """One country's MFC/R2."""

    name: str
    country: str
    cd: int = 0b01  # static C and D bits (ITU 01, China 11)
    max_ani: int = 10
    max_dnis: int = 4
    ani_first: bool = True  # the backward end asks for category and ANI after the first DNIS digit
    force_max_ani: bool = False  # exactly max_ani ANI digits are exchanged (China)
    ani_ends_by_silence: bool = False  # a forward end silent on an ANI request has no more ANI
    accept_signal: str = "accept_charge"  # the group B signal accept() sends
    a: GroupA = field(default_factory=GroupA)
    b: GroupB = field(default_factory=GroupB)
    c: GroupC = field(default_factory=GroupC)
    i: GroupI = field(default_factory=GroupI)
    categories: dict[str, int] = field(default_factory=lambda: dict(ITU_CATEGORIES))
    timers: Timers = field(default_factory=Timers)
    source: str = ""

    def bits(self, signal: str) -> int:
        """ABCD (A = 8) of a line signal name (see LINE_AB)."""
        return (LINE_AB[signal] << 2) | self.cd

    def category_signal(self, name: str) -> int:
        """The group II signal of a category name (national_subscriber if unknown or empty)."""
        return self.categories.get(name) or self.categories["national_subscriber"]

    def category_name(self, signal: int) -> str:
        """The category name of a group II signal ('category-N' if the variant does not name it)."""
        for k, v in self.categories.items():
            if v == signal:
                return k
        return f"category-{signal}"

    def with_counts(self, max_ani: int | None = None, max_dnis: int | None = None) -> R2Variant:
        """This row with other ANI/DNIS digit counts (per trunk configuration)."""
        return replace(
            self,
            max_ani=self.max_ani if max_ani is None else max_ani,
            max_dnis=self.max_dnis if max_dnis is None else max_dnis,
        )


ITU = R2Variant(
    name="itu",
    country="ITU",
    source="Q.421/Q.441; OpenR2 openr2_proto_configure_context defaults",
)

# A-1 asks for the next DNIS digit and, after the category, for the next ANI digit. OpenR2
# 1.3.3 (Debian) as forward end answers every A-1 with DNIS and never sends ANI; as backward end
# it asks DNIS 1, A-6, ANI, rest of DNIS. So our backward end asks DNIS first, then for
# ANI, and takes silence there as "no ANI" (pulsed A-3); our forward end serves either order.
CHINA = R2Variant(
    name="cn",
    country="China",
    cd=0b11,
    ani_first=False,
    force_max_ani=True,
    ani_ends_by_silence=True,
    a=GroupA(next_ani=1, category=6, address_complete_charge=0),
    b=GroupB(accept_charge=1, busy=2, special_info=0),
    i=GroupI(no_more_dnis=0),
    source="China No.1; OpenR2 1.3.3 r2config_china and r2proto.c (CD=11, A-1 next DNIS or, after "
    "A-6 category, next ANI; B-1 accept, B-2 busy; no end-of-DNIS signal; ANI ends with I-15, "
    "I-12, max_ani digits or silence)",
)

MEXICO = R2Variant(
    name="mx",
    country="Mexico",
    ani_first=False,
    a=GroupA(next_ani=0, category=0, category_and_change_to_c=6, address_complete_charge=0),
    b=GroupB(accept_charge=1, accept_no_charge=5, busy=2, unallocated=2, special_info=0),
    c=GroupC(next_ani=1, change_to_b=3, next_dnis_and_change_to_a=5, congestion=4),
    i=GroupI(no_more_dnis=0, ani_restricted=15),
    source="OpenR2 r2config_mexico (DNIS first, A-6 category and group C, C-1/C-3/C-5/C-4, "
    "B-1/B-5 accept, B-2 busy, no end-of-DNIS signal)",
)

BRAZIL = R2Variant(
    name="br",
    country="Brazil",
    a=GroupA(address_complete_charge=0, dnis_minus_1=9, all_dnis_again=2),
    b=GroupB(
        accept_charge=1,
        busy=2,
        accept_no_charge=5,
        special_info=6,
        number_changed=3,
        unallocated=7,
    ),
    i=GroupI(no_more_dnis=0, ani_restricted=12),
    categories={**ITU_CATEGORIES, "collect_call": 8},
    source="OpenR2 r2config_brazil (A-9 DNIS-1, A-2 all DNIS again, B-1 accept, B-2 busy, "
    "B-3 number changed, B-5 no charge, B-6 SIT, B-7 unallocated, II-8 collect call)",
)

VARIANTS: dict[str, R2Variant] = {v.name: v for v in (ITU, CHINA, MEXICO, BRAZIL)}


def variant(name: str) -> R2Variant:
    """The variant row by name ('itu', 'cn', 'mx', 'br'); ValueError naming the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown R2 variant {name!r} (known: {', '.join(VARIANTS)})") from None
