"""``Secret``: a token that does not show itself by accident."""

from __future__ import annotations

import hmac
import threading
import weakref
from typing import Any, NoReturn

__all__ = ["Secret", "live_tokens"]

_MASK = "**********"

# Keyed by id: equal secrets are distinct objects, each live until it is collected (a
# WeakSet would hold one per token and forget it when the first of them died).
_LIVE: weakref.WeakValueDictionary[int, Secret] = weakref.WeakValueDictionary()
_LIVE_LOCK = threading.Lock()


class Secret:
    """A secret string (an API key's token) masked in ``str``, ``repr`` and f-strings.

    Call :meth:`reveal` to get the token itself, at the one place it is needed. Two secrets
    compare equal when their tokens are equal (in constant time). An empty secret is false.
    Secrets cannot be pickled, so they do not end up in caches or task queues by accident.
    While a secret exists, its token is also removed from the library's error messages and,
    once a client was made, from the log records of ``neon_keys``, httpx and httpcore (see
    ``live_tokens`` and ``neon_keys._redaction``).
    """

    __slots__ = ("__weakref__", "_value")

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret takes a str, not {type(value).__name__}")
        self._value = value
        with _LIVE_LOCK:
            _LIVE[id(self)] = self

    def reveal(self) -> str:
        """Return the token in clear."""
        return self._value

    def __str__(self) -> str:
        return _MASK

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __format__(self, format_spec: str) -> str:
        return format(_MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other.reveal().encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; store secret.reveal() deliberately instead")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def live_tokens(min_length: int = 8) -> list[str]:
    """The tokens of every ``Secret`` alive in this process, longest first.

    Tokens shorter than ``min_length`` characters are left out: a real key is tens of
    characters long, and masking a short string everywhere it occurs would mangle text
    that has nothing to do with it. Longest first, so that a token containing another is
    masked whole.
    """
    with _LIVE_LOCK:
        tokens = {secret.reveal() for secret in list(_LIVE.values())}
    return sorted((t for t in tokens if len(t) >= min_length), key=len, reverse=True)
