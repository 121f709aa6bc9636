"""E1 CAS MFC/R2: variants table, Q.421 line signalling, compelled register, the channel machine."""

from __future__ import annotations

from ccboard.signalling.r2.protocol import R2Channel
from ccboard.signalling.r2.variants import VARIANTS, R2Variant, variant

__all__ = ["VARIANTS", "R2Channel", "R2Variant", "variant"]
