"""Signalling: the call model shared by every protocol, the sans-IO machines (analog loop start,
E1 MFC/R2, ISDN PRI over libpri, T1 E&M) and the drivers that bind them to board channels."""

from __future__ import annotations

from ccboard.signalling.call import Call, CallMachine, CallState, Cause, Direction

__all__ = ["Call", "CallMachine", "CallState", "Cause", "Direction"]
