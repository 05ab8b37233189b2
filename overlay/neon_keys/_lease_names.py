"""The names of leases: keys whose name carries their expiry (grammar version 1).

A lease is an ordinary Neon API key whose name says when it expires, so that any machine
can tell, from a listing alone, which keys are leases and which have expired. Neon itself
knows nothing of it: the name is the whole state. The grammar:

    lease-name = base-name " (lease " expiry " " token ")"
    expiry     = YYYYMMDD "T" HHMMSS "Z"          ; UTC, to the second (ISO 8601, basic)
    token      = 5 random + 3 check characters    ; lowercase Crockford base32

    preview-42 (lease 20250601T130000Z k7q2xnmy)

- The **base name** comes first (1 to 30 characters, no leading or trailing whitespace, no
  control characters, never containing `` (lease ``), so the Console shows the name people
  chose, and the 34 characters after it keep the whole within Neon's 64. A longer base name
  is refused (``InvalidInputError``), never cut: a name is the only link between a lease
  and its holder. (``fit_base_name`` cuts a name made up by a program, such as the one
  ``neon-keys exec`` derives from a command.)
- The **expiry** is UTC to the second. Sorted by name, the leases of one base name come
  together, right after the base name itself, in order of expiry.
- The **token**: five random characters (25 bits from ``secrets``), so that two leases of
  one base name made in the same second get distinct names, and three check characters:
  a position-weighted sum of every code point before them, modulo the prime 32749. Any
  single changed character (of any two that differ by less than 32749 code points, all of
  ASCII) and any swap of two neighbours breaks the check; so a name typed by hand to look
  like a lease is almost never taken for one (about 1 in 32749, if its shape is right to
  the character).
- **Versions**: the keyword ``lease`` is version 1. A later grammar will use another
  keyword, so that no parser takes one version for another.

Parsing is strict: a name is a lease only if it has exactly this shape, a real calendar
time, a valid base name and the right check; anything else is an ordinary name.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from ._constants import KEY_NAME_MAX_LENGTH
from ._exceptions import InvalidInputError

__all__ = [
    "LEASE_MARKER",
    "MAX_BASE_NAME_LENGTH",
    "LeaseName",
    "check_base_name",
    "fit_base_name",
]

LEASE_MARKER = " (lease "
"""What separates a lease's base name from its expiry; a base name never contains it."""

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case: no i l o u
_RANDOM_LENGTH = 5
_CHECK_LENGTH = 3
_CHECK_MODULUS = 32_749  # the largest prime below 32**3
_SUFFIX_LENGTH = len(LEASE_MARKER) + 16 + 1 + _RANDOM_LENGTH + _CHECK_LENGTH + 1

MAX_BASE_NAME_LENGTH = KEY_NAME_MAX_LENGTH - _SUFFIX_LENGTH
"""The longest base name a lease can have (30): Neon's 64 less the 34 of the suffix."""

_SHAPE = re.compile(
    r"(?P<base>.+) \(lease (?P<stamp>[0-9]{8}T[0-9]{6}Z) "
    r"(?P<random>[0-9a-hjkmnp-tv-z]{5})(?P<check>[0-9a-hjkmnp-tv-z]{3})\)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class LeaseName:
    """The parts of a lease's name; ``name`` (or ``str()``) writes it whole.

    Attributes:
        base_name: the name people chose (``preview-42``).
        expires_at: when the lease expires, timezone-aware UTC, whole seconds.
        token: eight lowercase base32 characters: five random, three check.
    """

    base_name: str
    expires_at: datetime.datetime
    token: str

    @classmethod
    def new(cls, base_name: str, expires_at: datetime.datetime) -> LeaseName:
        """A fresh lease name: ``base_name`` expiring at ``expires_at``, with a random token.

        ``expires_at`` must be timezone-aware; it is written in UTC, with any fraction of a
        second rounded up (a lease never ends before the moment asked for). Raises
        ``InvalidInputError`` for a base name that breaks the rules (see the module).
        """
        import secrets  # noqa: PLC0415  (not needed to read names, only to make them)

        random = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
        return cls._compose(base_name, expires_at, random)

    @classmethod
    def _compose(cls, base_name: str, expires_at: datetime.datetime, random: str) -> LeaseName:
        """The lease name with these parts; ``random`` is five characters of the alphabet."""
        base = check_base_name(base_name)
        expiry = _whole_seconds_utc(expires_at)
        return cls(base, expiry, random + _check(_body(base, _stamp(expiry), random)))

    @classmethod
    def parse(cls, name: str) -> LeaseName | None:
        """The lease that ``name`` writes, or None if it is an ordinary name."""
        if LEASE_MARKER not in name or len(name) > KEY_NAME_MAX_LENGTH:
            return None
        match = _SHAPE.fullmatch(name)
        if match is None:
            return None
        base, stamp, random, check = match.group("base", "stamp", "random", "check")
        if not _is_base_name(base) or _check(_body(base, stamp, random)) != check:
            return None
        try:
            expiry = datetime.datetime(
                int(stamp[0:4]),
                int(stamp[4:6]),
                int(stamp[6:8]),
                int(stamp[9:11]),
                int(stamp[11:13]),
                int(stamp[13:15]),
                tzinfo=datetime.UTC,
            )
        except ValueError:  # year 0, month 13, February 30, 25 o'clock, second 60 ...
            return None
        return cls(base, expiry, random + check)

    @property
    def name(self) -> str:
        """The key name: ``base (lease YYYYMMDDTHHMMSSZ token)``."""
        return f"{self.base_name}{LEASE_MARKER}{_stamp(self.expires_at)} {self.token})"

    def __str__(self) -> str:
        return self.name


def check_base_name(value: object) -> str:
    """Return ``value`` if it can be a lease's base name; ``InvalidInputError`` otherwise."""
    field = "lease base name"
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidInputError(field, "must not be empty")
    if len(value) > MAX_BASE_NAME_LENGTH:
        raise InvalidInputError(
            field,
            f"must be at most {MAX_BASE_NAME_LENGTH} characters, got {len(value)} (a lease's "
            f"name adds {_SUFFIX_LENGTH} for its expiry, within Neon's {KEY_NAME_MAX_LENGTH})",
        )
    if value != value.strip():
        raise InvalidInputError(field, "must not begin or end with whitespace", value)
    if not value.isprintable():
        raise InvalidInputError(field, "must not contain control characters", value)
    if LEASE_MARKER in value:
        raise InvalidInputError(field, f"must not contain {LEASE_MARKER.strip()!r}", value)
    return value


def fit_base_name(text: str, default: str) -> str:
    """``text`` made into a base name: control characters dropped, cut to 30 characters,
    stripped; ``default`` if nothing is left. For names a program derives, not for names a
    person chose (those are refused when too long, see ``check_base_name``)."""
    kept = "".join(ch for ch in text if ch.isprintable())
    kept = kept.replace(LEASE_MARKER, " ").strip()[:MAX_BASE_NAME_LENGTH].rstrip()
    return kept or default


def _is_base_name(value: str) -> bool:
    return (
        len(value) <= MAX_BASE_NAME_LENGTH
        and value == value.strip()
        and value.isprintable()
        and LEASE_MARKER not in value
    )


def _body(base: str, stamp: str, random: str) -> str:
    """Everything the check characters protect."""
    return f"{base}{LEASE_MARKER}{stamp} {random}"


def _check(body: str) -> str:
    """Three base32 characters of ``sum((i + 1) * ord(c)) mod 32749`` over ``body``.

    With a prime modulus above every weight (a name has at most 64 characters), changing one
    character changes the sum by ``weight * difference``, which the prime never divides
    unless it divides the difference; swapping neighbours ``a b`` changes it by ``a - b``.
    """
    total = sum(weight * ord(ch) for weight, ch in enumerate(body, start=1)) % _CHECK_MODULUS
    digits = []
    for _ in range(_CHECK_LENGTH):
        total, digit = divmod(total, 32)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _stamp(moment: datetime.datetime) -> str:
    """``YYYYMMDDTHHMMSSZ`` (written by hand: ``strftime`` pads years below 1000 unevenly)."""
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}"
        f"T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}Z"
    )


def _whole_seconds_utc(moment: datetime.datetime) -> datetime.datetime:
    if not isinstance(moment, datetime.datetime) or moment.tzinfo is None:
        raise InvalidInputError("expires_at", "must be a timezone-aware datetime")
    try:
        moment = moment.astimezone(datetime.UTC)
        if moment.microsecond:
            moment = moment.replace(microsecond=0) + datetime.timedelta(seconds=1)
    except OverflowError:
        raise InvalidInputError("expires_at", "must be before the year 10000") from None
    return moment
