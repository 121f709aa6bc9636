"""E1 framing (ITU-T G.704 section 2.3, G.706 section 4, G.732 section 5) for the sim's spans.

A tick (1 ms) is 8 frames of 32 timeslots, held as one (spans, 32, 8) uint8 array indexed
[span, timeslot, frame], so a timeslot's 8 octets are one row, as the board's audio arrays are.
One tick is exactly one CRC-4 sub-multiframe (SMF); two ticks are one CRC-4 multiframe and one
TS16 CAS multiframe.

TS0 (MSB = bit 1, first on the wire):
  even frames, FAS   C 0 0 1 1 0 1 1     C = CRC-4 bit C1..C4 of the previous SMF (1 without CRC-4)
  odd frames, NFAS   M 1 A 1 1 1 1 1     M = CRC-4 multiframe bit (SMF I: 0 0 1 0; SMF II: 1 1 E1 E2),
                                         A = remote alarm (RAI), Sa4-Sa8 = 1
TS16 CAS multiframe (16 frames): frame 0 = 0000 x y x x (MFAS), frame n = ABCD of TS n | ABCD of
TS n+16. A D-channel span leaves TS16 to the HDLC layer.

Both sides are the native kernel (native/src/e1.c through ccboard.dsp.e1), one call per tick for
all spans of a group. E1Framer.build(frames, rx, rai) writes TS0/TS16 around the payload, with
the A bit from the red alarm of this end's receiver `rx` (or `rai`) and the E bits `rx` reports,
as a framer chip does. E1Deframer.process(frames) keeps the receiver's state; its reports are
read-only numpy views of the C state (los, ais, in_frame, yellow, lmfa, red, e_out, fas_errors,
crc_errors, ebit_errors, rx_bits) and `changed` lists the (span, timeslot) ABCD changes of the
tick. The alarms and counters come only from the bits: LOS = no pulses (a tick of zeros, G.775),
AIS = fewer than 3 zeros in each 512 bits (G.775), loss of frame alignment = 3 consecutive bad
FAS words (G.706 4.1.1), regained by FAS / NFAS bit 2 = 1 / FAS (4.1.2), CRC-4 multiframe
alignment from the 001011 pattern (4.2), CRC-4 errors by comparing the received C bits with the
remainder of the previous received SMF, E bits from the far end (G.704 2.3.3.4), RAI from the A
bit, CAS multiframe alignment from the MFAS (G.732 5.2) and ABCD per channel.
"""

from __future__ import annotations

from ccboard.dsp.e1 import FRAMES, TIMESLOTS, E1Deframer, E1Framer, crc4

__all__ = ["FRAMES", "TIMESLOTS", "E1Deframer", "E1Framer", "crc4"]
