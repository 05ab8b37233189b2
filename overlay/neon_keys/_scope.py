"""``KeyScope``: what personal keys and an organization's keys have in common.

Code that rotates, revokes, audits, leases or retires keys is written once against these
protocols and works on ``neon.personal_keys`` and ``neon.org(id).keys`` alike (or their
async twins), fully typed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._bulk import OnOutcome, RevokeOutcome
    from ._leases import AsyncLease, Lease
    from ._models import APIKey
    from ._retire import RetireOutcome
    from ._rotation import Rotation
    from ._sinks import Sink

__all__ = ["AsyncKeyScope", "KeyScope"]


class KeyScope(Protocol):
    """A set of keys managed together: ``neon.personal_keys`` or ``neon.org(id).keys``.

    ``org_id`` is None for personal keys. ``create`` takes ``project_id`` in every scope
    and refuses it (``InvalidInputError``, nothing sent) where it makes no sense: a
    personal key cannot be scoped to a project.
    """

    @property
    def org_id(self) -> str | None:
        """The organization whose keys these are; None for personal keys."""
        ...

    def list(self) -> Sequence[APIKey]:
        """The scope's live keys, never with their secrets."""
        ...

    def create(self, name: str, *, project_id: str | None = None) -> APIKey:
        """Create a key; its ``secret`` holds the token, shown only this once."""
        ...

    def revoke(self, key_id: int) -> APIKey:
        """Revoke one key of this scope."""
        ...

    def revoke_many(
        self, key_ids: Iterable[int], *, on_outcome: OnOutcome | None = None
    ) -> Sequence[RevokeOutcome[Any]]:
        """Revoke several keys, one outcome per distinct id."""
        ...

    def lease(
        self,
        base_name: str,
        *,
        ttl: datetime.timedelta = ...,
        project_id: str | None = None,
    ) -> Lease[Any]:
        """A key for one ``with`` block, its name carrying its expiry (see ``Lease``)."""
        ...

    def sweep(
        self, *, dry_run: bool = False, grace: datetime.timedelta = ...
    ) -> Sequence[RevokeOutcome[Any]]:
        """Revoke the scope's leases that expired ``grace`` ago or more, by Neon's clock."""
        ...

    def rotate(
        self,
        key_id: int,
        *,
        grace: datetime.timedelta | None = None,
        deliver: Sink | Iterable[Sink] = (),
        new_name: str | None = None,
        checkpoint: Callable[[], None] | None = None,
    ) -> Rotation:
        """Replace a key: create, deliver, verify, then revoke it (or keep it with ``grace``)."""
        ...

    def retire(
        self,
        *,
        grace: datetime.timedelta = ...,
        quiet: datetime.timedelta | None = None,
        name: str | None = None,
        dry_run: bool = False,
    ) -> Sequence[RetireOutcome]:
        """Revoke the keys newer keys of the same name replaced, once they are due."""
        ...


class AsyncKeyScope(Protocol):
    """The ``AsyncNeonKeys`` twin of ``KeyScope``: every method is awaited."""

    @property
    def org_id(self) -> str | None:
        """The organization whose keys these are; None for personal keys."""
        ...

    async def list(self) -> Sequence[APIKey]:
        """The scope's live keys, never with their secrets."""
        ...

    async def create(self, name: str, *, project_id: str | None = None) -> APIKey:
        """Create a key; its ``secret`` holds the token, shown only this once."""
        ...

    async def revoke(self, key_id: int) -> APIKey:
        """Revoke one key of this scope."""
        ...

    async def revoke_many(
        self, key_ids: Iterable[int], *, on_outcome: OnOutcome | None = None
    ) -> Sequence[RevokeOutcome[Any]]:
        """Revoke several keys, one outcome per distinct id."""
        ...

    def lease(
        self,
        base_name: str,
        *,
        ttl: datetime.timedelta = ...,
        project_id: str | None = None,
    ) -> AsyncLease[Any]:
        """A key for one ``async with`` block, its name carrying its expiry."""
        ...

    async def sweep(
        self, *, dry_run: bool = False, grace: datetime.timedelta = ...
    ) -> Sequence[RevokeOutcome[Any]]:
        """Revoke the scope's leases that expired ``grace`` ago or more, by Neon's clock."""
        ...

    async def rotate(
        self,
        key_id: int,
        *,
        grace: datetime.timedelta | None = None,
        deliver: Sink | Iterable[Sink] = (),
        new_name: str | None = None,
        checkpoint: Callable[[], None] | None = None,
    ) -> Rotation:
        """Replace a key: create, deliver, verify, then revoke it (or keep it with ``grace``)."""
        ...

    async def retire(
        self,
        *,
        grace: datetime.timedelta = ...,
        quiet: datetime.timedelta | None = None,
        name: str | None = None,
        dry_run: bool = False,
    ) -> Sequence[RetireOutcome]:
        """Revoke the keys newer keys of the same name replaced, once they are due."""
        ...
