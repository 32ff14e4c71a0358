"""Tracking codes (回执编号): 80 random bits, read aloud and typed without 0/O or 1/I mix-ups."""

import re
import secrets

# Crockford's base 32: digits and letters without I, L, O and U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16  # 16 symbols x 5 bits = 80 bits
GROUP = 4
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")


def new_code() -> str:
    """A fresh code, grouped for reading: 7KQ2-M9XD-3FTA-WB8C."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return format_code(raw)


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalize(typed: str | None) -> str | None:
    """The canonical form of a typed code, or None if it cannot be one.

    Case, spaces, hyphens and the look-alikes O/I/L are forgiven.
    """
    if not typed:
        return None
    raw = _SEPARATORS.sub("", typed.strip().upper()).translate(_TYPO)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return format_code(raw)
