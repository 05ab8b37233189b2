"""Checks of user input against the spec's rules, made before any request is sent."""

from __future__ import annotations

import re

from ._constants import ID_PATTERN, KEY_NAME_MAX_LENGTH
from ._exceptions import InvalidInputError

_ID = re.compile(ID_PATTERN)


def key_name(value: object) -> str:
    """Return ``value`` if it is a valid key name: a string of 1 to 64 characters."""
    if not isinstance(value, str):
        raise InvalidInputError("key name", f"must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidInputError("key name", "must not be empty")
    if len(value) > KEY_NAME_MAX_LENGTH:
        raise InvalidInputError(
            "key name", f"must be at most {KEY_NAME_MAX_LENGTH} characters, got {len(value)}"
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
