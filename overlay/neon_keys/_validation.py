"""Checks of user input against the spec's rules, made before any request is sent."""

from __future__ import annotations

import re
import unicodedata

from ._constants import ID_PATTERN, KEY_NAME_MAX_LENGTH
from ._exceptions import InvalidInputError

_ID = re.compile(ID_PATTERN)

_UNPRINTABLE = frozenset({"Cc", "Cs", "Zl", "Zp"})
"""Unicode categories a key name may not contain: control characters (a newline, a tab,
an escape), lone surrogates (which no UTF-8 request can carry), and the line and
paragraph separators: each would break the one line a name takes in a listing, a log
or a terminal."""


_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The bidirectional embeddings, overrides and isolates: each changes the order in which
the rest of a line is shown, so a name holding one reads as another name in a listing."""


def key_name(value: object) -> str:
    """Return ``value`` if it is a valid key name.

    A key name is a string of 1 to 64 characters with something visible in it, without
    control characters, line breaks, lone surrogates or characters that reorder the rest
    of the line (each refused with the rule it breaks).
    """
    if not isinstance(value, str):
        raise InvalidInputError("key name", f"must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidInputError("key name", "must not be empty")
    if len(value) > KEY_NAME_MAX_LENGTH:
        raise InvalidInputError(
            "key name", f"must be at most {KEY_NAME_MAX_LENGTH} characters, got {len(value)}"
        )
    if value.isspace():
        raise InvalidInputError("key name", "must not be only whitespace", value)
    visible = False
    for char in value:
        category = unicodedata.category(char)
        if category in _UNPRINTABLE:
            kind = "a lone surrogate" if category == "Cs" else "a control character or line break"
            raise InvalidInputError(
                "key name", f"must not contain {kind} (U+{ord(char):04X})", value
            )
        if char in _REORDERING:
            raise InvalidInputError(
                "key name",
                f"must not contain a direction override or isolate (U+{ord(char):04X}), "
                "which reorders how the rest of a listing's line reads",
                value,
            )
        visible = visible or not (char.isspace() or category == "Cf")
    if not visible:
        raise InvalidInputError(
            "key name",
            "holds nothing visible (only whitespace and invisible format characters)",
            value,
        )
    return value


def resource_id(field: str, value: object) -> str:
    """Return ``value`` if it matches the spec's pattern for organization and project ids."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, not {type(value).__name__}")
    if not _ID.match(value) or value.endswith("\n"):
        raise InvalidInputError(
            field, "must be 1 to 60 lowercase letters, digits or hyphens", value
        )
    return value


def key_id(value: object) -> int:
    """Return ``value`` if it is a valid key id: a positive int (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(
            "key_id", f"must be a positive integer, not {type(value).__name__}", value
        )
    if value <= 0 or value >= 2**63:
        raise InvalidInputError("key_id", "must be a positive 64-bit integer", value)
    return value
