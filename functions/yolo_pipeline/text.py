"""Bounded, inert quoting of text that came from a user or an event.

Everything a user or an event controls (file names, YAML values, label tokens, tag
values, FailureReason) reaches findings, emails, tags and logs only through these
functions: the result is short (truncated with "..."), one line, and free of control
characters, so no value can inflate a message past SNS's 256 KB, inject lines into an
email body, or put ESC/NUL into a subject. ``repr`` is never applied to a whole value.
"""

from __future__ import annotations

import math
import reprlib
import unicodedata

DEFAULT_LIMIT = 80
ELLIPSIS = "..."
# Python refuses str() of an int above 4,300 digits (ValueError); describe those instead.
_MAX_INT_BITS = 4000 * 3
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxtuple, _REPR.maxset = 2, 6, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 40, 40, 40


def _escape(char: str) -> str:
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _is_control(char: str) -> bool:
    # Cc: C0/C1 controls (NUL, ESC, CR, LF, DEL...); Cf: format characters such as the
    # bidi overrides that make text read differently from what it is; Zl/Zp: U+2028/9.
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}


def clean(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` on one line, control characters escaped, at most ``limit`` characters."""
    limit = max(limit, len(ELLIPSIS) + 1)
    head = text[: limit + 1]  # never walk a huge string
    # isprintable() is False for every control/format/separator character: the C-speed
    # common case; only other text is walked character by character.
    full = (
        head if head.isprintable() else "".join(_escape(c) if _is_control(c) else c for c in head)
    )
    if len(full) <= limit and len(head) == len(text):
        return full
    return full[: limit - len(ELLIPSIS)] + ELLIPSIS


def _plain(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return f"<an integer of about {int(value.bit_length() * 0.30103):,} digits>"
    if isinstance(value, int | float):
        return str(value)
    return _REPR.repr(value)


def quote(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """A bounded, inert rendering of ``value`` for a message: strings in single quotes.

    ``quote("images/x\\n")`` -> ``'images/x\\n'``; a 900,000-character path comes out as
    its first characters and "...", whatever ``limit`` says.
    """
    if isinstance(value, str):
        return "'" + clean(value, max(limit - 2, 4)) + "'"
    return clean(_plain(value), limit)


def line(text: str, limit: int = 1000) -> str:
    """One body line from event or user text: control characters neutralised, bounded."""
    return clean(text, limit)


def lines(text: str, max_lines: int = 20, limit: int = 200) -> list[str]:
    """Multi-line event text (e.g. FailureReason) as at most ``max_lines`` clean lines."""
    parts = text[: max_lines * (limit + 2)].splitlines()
    out = [clean(part, limit) for part in parts[:max_lines]]
    if len(parts) > max_lines or len(text) > max_lines * (limit + 2):
        out.append(ELLIPSIS)
    return out


def finite_number(value: object) -> float | None:
    """A finite number from untrusted event, tag or results values ("1e309", inf, nan,
    booleans and non-numbers: None); a string is read from its first 64 characters only."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value[:64]) if isinstance(value, str) else value
        number = float(number) if isinstance(number, int | float) else None
    except (ValueError, OverflowError):
        return None
    return number if number is not None and math.isfinite(number) else None


def duration_text(seconds: float | None) -> str:
    """A duration for a sentence: ``3907`` -> ``1h 05m 07s``; ``125`` -> ``2m 05s``."""
    if seconds is None or seconds < 0:
        return "-"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def duration_column(seconds: float | None) -> str:
    """A duration for a narrow table column: ``3907`` -> ``1h05m``; ``125`` -> ``2m05s``."""
    if seconds is None or seconds < 0:
        return "-"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
