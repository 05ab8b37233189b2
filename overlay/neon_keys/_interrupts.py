"""What a create interrupted from outside leaves behind, carried by the interruption.

A create may be interrupted by something other than a failure of the call: Ctrl-C
(``KeyboardInterrupt``) or any other exception raised while a sync call waits, a cancelled
task or an expired timeout in async code. The library does not swallow the interruption:
it re-raises the very same exception, after a bounded search for the key the create may
have made, and attaches the result. ``interrupted_create(exc)`` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ._models import APIKey

__all__ = ["InterruptedCreate", "find_carried", "interrupted_create"]

T = TypeVar("T")

_ATTRIBUTE = "neon_keys_interrupted_create"
"""The attribute of the interrupting exception under which the result travels."""


@dataclass(frozen=True, slots=True)
class InterruptedCreate:
    """What is known of a create that was interrupted from outside.

    Attributes:
        key_name: the name of the key the create asked for.
        candidates: the keys of that name created since the create's request left, found
            by listing the keys after the interruption; their secret is lost, so revoke
            them and create again. Empty when nothing was found, or when the request had
            not left (``request_sent`` False). None when the search was skipped (a
            second interruption) or failed (``failure`` says why): list the keys of that
            name to find out. When ``created`` is set, it is the one candidate, and its
            secret is not lost.
        revoke_hint: how to revoke a candidate (the CLI command and the library call).
        request_sent: False when the create was interrupted before its request left: no
            key was made, nothing was searched.
        failure: why ``candidates`` is None; None otherwise.
        created: the key the create made, with its ``secret``, when the interruption came
            after Neon's answer was read but before ``create`` returned it: nothing was
            lost, the secret is here (the key is also the one candidate). None otherwise.
    """

    key_name: str
    candidates: tuple[APIKey, ...] | None
    revoke_hint: str
    request_sent: bool = True
    failure: str | None = None
    created: APIKey | None = None

    def describe(self) -> str:
        """One sentence saying what exists and what to do about it."""
        what = f"the create of key {self.key_name!r} was interrupted"
        if not self.request_sent:
            return f"{what} before its request was sent: no key was created"
        if self.created is not None:
            return (
                f"{what} after Neon's answer was read: key id {self.created.id} was created "
                "and its secret is on the interruption (interrupted_create(exc).created): "
                f"deliver it, or revoke the key ({self.revoke_hint})"
            )
        what = f"{what} after its request was sent"
        if self.candidates is None:
            return (
                f"{what}; {self.failure or 'the keys were not searched'}: list the keys "
                f"named {self.key_name!r} to find it, and revoke it ({self.revoke_hint})"
            )
        if not self.candidates:
            return f"{what}; no key of that name was created since it was sent"
        ids = ", ".join(str(key.id) for key in self.candidates)
        return (
            f"{what}; key id(s) {ids} of that name were created since it was sent and "
            f"their secret is lost: revoke them ({self.revoke_hint}) and create again"
        )

    def attach(self, interruption: BaseException, note: str) -> None:
        """Carry this result on ``interruption``, with ``note`` added to it (PEP 678)."""
        setattr(interruption, _ATTRIBUTE, self)
        interruption.add_note(f"neon_keys: {note}")


def interrupted_create(exc: BaseException) -> InterruptedCreate | None:
    """What an interrupted create left, if ``exc`` (or an exception it wraps) carries it.

    Pass the exception that ended a create from outside: a ``KeyboardInterrupt``, a
    cancellation, or the ``TimeoutError`` that ``asyncio.timeout`` makes of one. The
    exceptions it was raised from (``__cause__``, ``__context__``) and, for an exception
    group, its members are looked at too.

    Returns:
        The ``InterruptedCreate`` attached by the library, or None when ``exc`` carries
        none (it did not interrupt a create).
    """
    return find_carried(exc, _ATTRIBUTE, InterruptedCreate)


def find_carried(exc: BaseException, attribute: str, kind: type[T]) -> T | None:
    """The ``kind`` record the library attached to ``exc`` as ``attribute``, or None.

    The exceptions ``exc`` was raised from (``__cause__``, ``__context__``) and, for an
    exception group, its members are looked at too, depth first; each exception once.
    """
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found = getattr(current, attribute, None)
        if isinstance(found, kind):
            return found
        if isinstance(current, BaseExceptionGroup):
            todo.extend(reversed(current.exceptions))
        todo.extend(link for link in (current.__context__, current.__cause__) if link is not None)
    return None
