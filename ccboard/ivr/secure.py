"""Secure digits: a PIN or card number collected with get_digits(secret=True).

SecretDigits is not a str: repr/str/format show only a mask, it cannot be iterated, indexed,
concatenated, pickled or JSON-encoded, and the only ways to use the value are comparisons
that do not reveal it (matches, digest) or an explicit reveal() whose name shows in review.
Code that writes logs, CDRs or ledger rows takes `str`, and `require_plain` refuses a
SecretDigits there at run time too, so the type checker and the runtime both catch a leak.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import NoReturn

MASK = "*"


class SecretDigits:
    """Digits that must not be shown: masked everywhere, compared in constant time."""

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("SecretDigits takes a str of digits")
        self.__value = value

    def __repr__(self) -> str:
        return f"SecretDigits({MASK * len(self.__value)!r})"

    def __str__(self) -> str:
        return MASK * len(self.__value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __len__(self) -> int:
        return len(self.__value)

    def __bool__(self) -> bool:
        return bool(self.__value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretDigits):
            return hmac.compare_digest(self.__value.encode(), other.__value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash((SecretDigits, len(self.__value)))

    def matches(self, plain: str) -> bool:
        """Constant-time comparison with a known value."""
        return hmac.compare_digest(self.__value.encode(), plain.encode())

    def digest(self, salt: bytes, iterations: int = 1000) -> bytes:
        """PBKDF2-HMAC-SHA256 of the digits: what a store keeps instead of the digits."""
        return hashlib.pbkdf2_hmac("sha256", self.__value.encode(), salt, iterations)

    def reveal(self) -> str:
        """The digits themselves (for a host verification API; never for logs or records)."""
        return self.__value

    def _refuse(self, *_: object) -> NoReturn:
        raise TypeError(
            "SecretDigits cannot be iterated, indexed, added or serialised; use matches()/digest()"
        )

    __iter__ = _refuse
    __getitem__ = _refuse
    __add__ = _refuse
    __radd__ = _refuse
    __reduce__ = _refuse
    __reduce_ex__ = _refuse
    __getstate__ = _refuse


def require_plain(value: object, what: str) -> str:
    """value as str for a log line, CDR or ledger field; TypeError for SecretDigits (names `what`)."""
    if isinstance(value, SecretDigits):
        raise TypeError(f"{what}: secret digits must not be written here")
    return str(value)
