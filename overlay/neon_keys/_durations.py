"""Durations as people write them on command lines and in policy files: ``90s``, ``1h30m``, ``7d``.

The grammar: one or more ``<digits><unit>`` parts, units ``d`` (days), ``h``, ``m``, ``s``,
each at most once and in that order, nothing else (no spaces, no signs, no fractions, no
upper case). ``0s`` is zero; callers that need a positive duration say so.
"""

from __future__ import annotations

import datetime
import re

from ._exceptions import InvalidInputError

__all__ = ["MAX_DURATION", "format_duration", "parse_duration"]

_GRAMMAR = re.compile(r"(?:(\d{1,12})d)?(?:(\d{1,12})h)?(?:(\d{1,12})m)?(?:(\d{1,12})s)?")
_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))

MAX_DURATION = datetime.timedelta(days=36_500)
"""The longest duration accepted (about a hundred years)."""


def parse_duration(text: object, *, field: str = "duration") -> datetime.timedelta:
    """The ``timedelta`` that ``text`` writes (``"1h30m"``); ``InvalidInputError`` otherwise.

    Args:
        text: the duration, e.g. ``"90s"``, ``"15m"``, ``"1h30m"``, ``"7d"``.
        field: what to call it in the error message (``"--ttl"``, ``"max_age"``).
    """
    if not isinstance(text, str):
        raise InvalidInputError(
            field, f"must be a string such as '1h30m', not {type(text).__name__}"
        )
    match = _GRAMMAR.fullmatch(text) if text.isascii() else None
    if not text or match is None:
        raise InvalidInputError(
            field, "must be a duration such as 90s, 15m, 1h30m or 7d (units d, h, m, s)", text
        )
    pairs = zip(match.groups(), _UNITS, strict=True)  # pragma: no mutate (one group per unit)
    seconds = sum(int(part) * size for part, (_, size) in pairs if part)
    if seconds > MAX_DURATION.total_seconds():
        raise InvalidInputError(field, f"must be at most {MAX_DURATION.days} days", text)
    return datetime.timedelta(seconds=seconds)


def format_duration(value: datetime.timedelta) -> str:
    """``value`` in the grammar ``parse_duration`` reads, to the second (``"1h30m"``, ``"0s"``).

    Fractions of a second are dropped; a negative duration is written as its size with a
    leading ``-`` (for messages only: ``parse_duration`` does not read it back).
    """
    total = int(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    parts = []
    for unit, size in _UNITS:
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")
