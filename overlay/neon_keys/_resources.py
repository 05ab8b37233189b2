"""Resource objects: ``personal_keys`` and ``org(org_id).keys``, sync and async side by side.

Each method builds an ``Operation`` (which checks its input) and has it performed (see
``_resource``); the sync and async classes differ only in awaiting it.
"""

from __future__ import annotations

import builtins
import datetime
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from . import _bulk, _leases, _validation
from . import _operations as ops
from ._bulk import OnOutcome, RevokeOutcome
from ._constants import BULK_CONCURRENCY
from ._leases import DEFAULT_GRACE, DEFAULT_TTL, AsyncLease, Lease
from ._models import OrgKey, PersonalKey, ProjectKey
from ._resource import AsyncAPIResource, AsyncPerform, NeonNow, Perform, SyncAPIResource
from ._retire import DEFAULT_RETIRE_GRACE, RetireOutcome, retire_flow
from ._rotation import Rotation, rotation_flow
from ._steps import arun, run

if TYPE_CHECKING:
    from ._scope import AsyncKeyScope, KeyScope
    from ._sinks import Sink


class PersonalKeys(SyncAPIResource):
    """The calling user's personal API keys: ``neon.personal_keys``."""

    org_id: None = None
    """Personal keys belong to no organization (see ``KeyScope``)."""

    def list(self) -> list[PersonalKey]:
        """List the caller's personal keys (never with their secrets)."""
        return self._perform(ops.list_personal_keys())

    def create(self, name: str, *, project_id: str | None = None) -> PersonalKey:
        """Create a personal key named ``name`` (1 to 64 characters).

        ``project_id`` exists so that every ``KeyScope`` is called alike; a personal key
        cannot be scoped to a project, so any value but None is refused before sending.

        The result's ``secret`` holds the token, which Neon shows only this once.
        Raises ``CreateOutcomeUnknownError`` if the answer was lost or unreadable; see its
        ``candidates``. A call interrupted from outside once its request has left (Ctrl-C
        or any other exception during a sync call; a cancelled task or an expired
        ``asyncio.timeout`` in async code) looks for the key it may have made, for a few
        seconds (a second Ctrl-C skips it), logs what it found at WARNING and re-raises the
        interruption, on which ``neon_keys.interrupted_create(exc)`` reads the result.
        """
        return self._perform(ops.create_personal_key(name, project_id))

    def revoke(self, key_id: int) -> PersonalKey:
        """Revoke the personal key ``key_id``; the result has ``revoked`` True."""
        return self._perform(ops.revoke_personal_key(key_id))

    def revoke_many(
        self, key_ids: Iterable[int], *, on_outcome: OnOutcome | None = None
    ) -> builtins.list[RevokeOutcome[PersonalKey]]:
        """Revoke several keys, paced under Neon's limits; one outcome per distinct id.

        Every id is checked before anything is sent. A failure is recorded in its outcome
        and the rest go on; ``on_outcome`` is called as each one settles.
        """
        return _bulk.revoke_all(key_ids, self.revoke, on_outcome)

    def lease(
        self,
        base_name: str,
        *,
        ttl: datetime.timedelta = DEFAULT_TTL,
        project_id: str | None = None,
    ) -> Lease[PersonalKey]:
        """A personal key for one ``with`` block: created on entry, revoked on exit.

        Its name is ``base_name`` (1 to 30 characters) followed by its expiry, ``ttl``
        from now on Neon's clock (default one hour), for a sweep to find if the revoke
        never happens; see ``Lease``. ``project_id`` must be None, as for ``create``.
        """
        return Lease(self, self._neon_now, base_name, ttl=ttl, project_id=project_id)

    def sweep(
        self, *, dry_run: bool = False, grace: datetime.timedelta = DEFAULT_GRACE
    ) -> builtins.list[RevokeOutcome[PersonalKey]]:
        """Revoke the personal leases that expired ``grace`` (default 5 min) ago or more.

        "Now" is Neon's clock, from the listing's ``Date``. Returns one outcome per expired
        lease, its ``key`` set (as revoked, or as listed when no answer gave one); with
        ``dry_run``, nothing is revoked and each outcome is ``DRY_RUN``.
        """
        return _leases.sweep(self, self._neon_now, dry_run=dry_run, grace=grace)

    def rotate(
        self,
        key_id: int,
        *,
        grace: datetime.timedelta | None = None,
        deliver: Sink | Iterable[Sink] = (),
        new_name: str | None = None,
        checkpoint: Callable[[], None] | None = None,
    ) -> Rotation:
        """Replace key ``key_id``: create, deliver, verify, then revoke or keep the old key.

        Every sink of ``deliver`` is checked first (``SinkError``, nothing sent); the new
        key has the old one's name and scope (``new_name`` renames it, without ``grace``
        only); a lease's replacement is a lease of the same base name and lifetime, its
        expiry counted from now on Neon's clock. Its secret goes to every sink, then
        ``GET /auth`` with it must answer as the same kind of key. Without ``grace`` the
        old key is then revoked; with it, the old key is kept (a staged rotation) and
        ``retire`` revokes it later. The old key is never revoked unless every delivery
        succeeded and the new key was verified.

        Returns the ``Rotation`` record (``new.secret`` holds the token). A failed step
        raises ``RotationError``, whose ``rotation`` says what exists; an interruption is
        re-raised carrying it (``interrupted_rotation``). ``checkpoint``, if given, is
        called between steps (never during a delivery); what it raises stops the rotation
        as an interruption would (the CLI passes its check for pending signals).
        """
        return run(
            rotation_flow(
                self,
                self._perform,
                self._neon_now,
                key_id,
                grace=grace,
                deliver=deliver,
                new_name=new_name,
                checkpoint=checkpoint,
            )
        )

    def retire(
        self,
        *,
        grace: datetime.timedelta = DEFAULT_RETIRE_GRACE,
        quiet: datetime.timedelta | None = None,
        name: str | None = None,
        dry_run: bool = False,
    ) -> builtins.list[RetireOutcome]:
        """Revoke the keys that newer keys of the same name replaced, once they are due.

        A replaced key is due when ``grace`` (default 7 days) has passed since its
        replacement was created, or once it has gone ``quiet`` (not used for that long since
        the replacement appeared; None: only the grace period counts), judged by Neon's
        clock as of the listing (``ServerTimeUnknownError`` if no answer said it). ``name``
        is a glob the (base) names must match. With ``dry_run`` nothing is revoked. Returns
        one ``RetireOutcome`` per replaced key, oldest first: see the rule in
        ``neon_keys._retire``.
        """
        return run(
            retire_flow(
                self,
                self._perform,
                self._neon_now,
                grace=grace,
                quiet=quiet,
                name=name,
                dry_run=dry_run,
            )
        )


class AsyncPersonalKeys(AsyncAPIResource):
    """The calling user's personal API keys: ``neon.personal_keys`` on ``AsyncNeonKeys``."""

    org_id: None = None
    """Personal keys belong to no organization (see ``AsyncKeyScope``)."""

    async def list(self) -> list[PersonalKey]:
        """List the caller's personal keys (never with their secrets)."""
        return await self._perform(ops.list_personal_keys())

    async def create(self, name: str, *, project_id: str | None = None) -> PersonalKey:
        """Create a personal key named ``name``; see ``PersonalKeys.create``."""
        return await self._perform(ops.create_personal_key(name, project_id))

    async def revoke(self, key_id: int) -> PersonalKey:
        """Revoke the personal key ``key_id``; the result has ``revoked`` True."""
        return await self._perform(ops.revoke_personal_key(key_id))

    async def revoke_many(
        self,
        key_ids: Iterable[int],
        *,
        on_outcome: OnOutcome | None = None,
        concurrency: int = BULK_CONCURRENCY,
    ) -> builtins.list[RevokeOutcome[PersonalKey]]:
        """Revoke several keys, ``concurrency`` at a time; see ``PersonalKeys.revoke_many``."""
        return await _bulk.arevoke_all(key_ids, self.revoke, on_outcome, concurrency)

    def lease(
        self,
        base_name: str,
        *,
        ttl: datetime.timedelta = DEFAULT_TTL,
        project_id: str | None = None,
    ) -> AsyncLease[PersonalKey]:
        """A personal key for one ``async with`` block; see ``PersonalKeys.lease``."""
        return AsyncLease(self, self._neon_now, base_name, ttl=ttl, project_id=project_id)

    async def sweep(
        self, *, dry_run: bool = False, grace: datetime.timedelta = DEFAULT_GRACE
    ) -> builtins.list[RevokeOutcome[PersonalKey]]:
        """Revoke the expired personal leases; see ``PersonalKeys.sweep``."""
        return await _leases.asweep(self, self._neon_now, dry_run=dry_run, grace=grace)

    async def rotate(
        self,
        key_id: int,
        *,
        grace: datetime.timedelta | None = None,
        deliver: Sink | Iterable[Sink] = (),
        new_name: str | None = None,
        checkpoint: Callable[[], None] | None = None,
    ) -> Rotation:
        """Replace key ``key_id``; see ``PersonalKeys.rotate``. Sinks run on a worker thread."""
        return await arun(
            rotation_flow(
                self,
                self._perform,
                self._neon_now,
                key_id,
                grace=grace,
                deliver=deliver,
                new_name=new_name,
                checkpoint=checkpoint,
            )
        )

    async def retire(
        self,
        *,
        grace: datetime.timedelta = DEFAULT_RETIRE_GRACE,
        quiet: datetime.timedelta | None = None,
        name: str | None = None,
        dry_run: bool = False,
    ) -> builtins.list[RetireOutcome]:
        """Revoke the replaced keys that are due; see ``PersonalKeys.retire``."""
        return await arun(
            retire_flow(
                self,
                self._perform,
                self._neon_now,
                grace=grace,
                quiet=quiet,
                name=name,
                dry_run=dry_run,
            )
        )


class OrgKeys(SyncAPIResource):
    """An organization's API keys, project-scoped ones included: ``neon.org(id).keys``."""

    def __init__(self, perform: Perform, org_id: str, neon_now: NeonNow) -> None:
        super().__init__(perform, neon_now)
        self.org_id = org_id

    def list(self) -> list[OrgKey | ProjectKey]:
        """List the organization's keys; project-scoped ones are ``ProjectKey``."""
        return self._perform(ops.list_org_keys(self.org_id))

    def create(self, name: str, *, project_id: str | None = None) -> OrgKey | ProjectKey:
        """Create an organization key, or with ``project_id`` a key scoped to that project.

        Returns an ``OrgKey``, or a ``ProjectKey`` when ``project_id`` is given; its
        ``secret`` holds the token, shown only this once.
        """
        return self._perform(ops.create_org_key(self.org_id, name, project_id))

    def revoke(self, key_id: int) -> OrgKey | ProjectKey:
        """Revoke the organization or project-scoped key ``key_id``."""
        return self._perform(ops.revoke_org_key(self.org_id, key_id))

    def revoke_many(
        self, key_ids: Iterable[int], *, on_outcome: OnOutcome | None = None
    ) -> builtins.list[RevokeOutcome[OrgKey | ProjectKey]]:
        """Revoke several keys, paced under Neon's limits; see ``PersonalKeys.revoke_many``."""
        return _bulk.revoke_all(key_ids, self.revoke, on_outcome)

    def lease(
        self,
        base_name: str,
        *,
        ttl: datetime.timedelta = DEFAULT_TTL,
        project_id: str | None = None,
    ) -> Lease[OrgKey | ProjectKey]:
        """An organization key (with ``project_id``, project-scoped) for one ``with`` block.

        Created on entry, revoked on exit; see ``PersonalKeys.lease`` and ``Lease``.
        """
        return Lease(self, self._neon_now, base_name, ttl=ttl, project_id=project_id)

    def sweep(
        self, *, dry_run: bool = False, grace: datetime.timedelta = DEFAULT_GRACE
    ) -> builtins.list[RevokeOutcome[OrgKey | ProjectKey]]:
        """Revoke the organization's expired leases; see ``PersonalKeys.sweep``."""
        return _leases.sweep(self, self._neon_now, dry_run=dry_run, grace=grace)

    def rotate(
        self,
        key_id: int,
        *,
        grace: datetime.timedelta | None = None,
        deliver: Sink | Iterable[Sink] = (),
        new_name: str | None = None,
        checkpoint: Callable[[], None] | None = None,
    ) -> Rotation:
        """Replace key ``key_id``; see ``PersonalKeys.rotate``."""
        return run(
            rotation_flow(
                self,
                self._perform,
                self._neon_now,
                key_id,
                grace=grace,
                deliver=deliver,
                new_name=new_name,
                checkpoint=checkpoint,
            )
        )

    def retire(
        self,
        *,
        grace: datetime.timedelta = DEFAULT_RETIRE_GRACE,
        quiet: datetime.timedelta | None = None,
        name: str | None = None,
        dry_run: bool = False,
    ) -> builtins.list[RetireOutcome]:
        """Revoke the replaced keys that are due; see ``PersonalKeys.retire``."""
        return run(
            retire_flow(
                self,
                self._perform,
                self._neon_now,
                grace=grace,
                quiet=quiet,
                name=name,
                dry_run=dry_run,
            )
        )


class AsyncOrgKeys(AsyncAPIResource):
    """An organization's API keys on ``AsyncNeonKeys``: ``neon.org(id).keys``."""

    def __init__(self, perform: AsyncPerform, org_id: str, neon_now: NeonNow) -> None:
        super().__init__(perform, neon_now)
        self.org_id = org_id

    async def list(self) -> list[OrgKey | ProjectKey]:
        """List the organization's keys; project-scoped ones are ``ProjectKey``."""
        return await self._perform(ops.list_org_keys(self.org_id))

    async def create(self, name: str, *, project_id: str | None = None) -> OrgKey | ProjectKey:
        """Create an organization or project-scoped key; see ``OrgKeys.create``."""
        return await self._perform(ops.create_org_key(self.org_id, name, project_id))

    async def revoke(self, key_id: int) -> OrgKey | ProjectKey:
        """Revoke the organization or project-scoped key ``key_id``."""
        return await self._perform(ops.revoke_org_key(self.org_id, key_id))

    async def revoke_many(
        self,
        key_ids: Iterable[int],
        *,
        on_outcome: OnOutcome | None = None,
        concurrency: int = BULK_CONCURRENCY,
    ) -> builtins.list[RevokeOutcome[OrgKey | ProjectKey]]:
        """Revoke several keys, ``concurrency`` at a time; see ``PersonalKeys.revoke_many``."""
        return await _bulk.arevoke_all(key_ids, self.revoke, on_outcome, concurrency)

    def lease(
        self,
        base_name: str,
        *,
        ttl: datetime.timedelta = DEFAULT_TTL,
        project_id: str | None = None,
    ) -> AsyncLease[OrgKey | ProjectKey]:
        """An organization or project-scoped key for one ``async with`` block."""
        return AsyncLease(self, self._neon_now, base_name, ttl=ttl, project_id=project_id)

    async def sweep(
        self, *, dry_run: bool = False, grace: datetime.timedelta = DEFAULT_GRACE
    ) -> builtins.list[RevokeOutcome[OrgKey | ProjectKey]]:
        """Revoke the organization's expired leases; see ``PersonalKeys.sweep``."""
        return await _leases.asweep(self, self._neon_now, dry_run=dry_run, grace=grace)

    async def rotate(
        self,
        key_id: int,
        *,
        grace: datetime.timedelta | None = None,
        deliver: Sink | Iterable[Sink] = (),
        new_name: str | None = None,
        checkpoint: Callable[[], None] | None = None,
    ) -> Rotation:
        """Replace key ``key_id``; see ``PersonalKeys.rotate``. Sinks run on a worker thread."""
        return await arun(
            rotation_flow(
                self,
                self._perform,
                self._neon_now,
                key_id,
                grace=grace,
                deliver=deliver,
                new_name=new_name,
                checkpoint=checkpoint,
            )
        )

    async def retire(
        self,
        *,
        grace: datetime.timedelta = DEFAULT_RETIRE_GRACE,
        quiet: datetime.timedelta | None = None,
        name: str | None = None,
        dry_run: bool = False,
    ) -> builtins.list[RetireOutcome]:
        """Revoke the replaced keys that are due; see ``PersonalKeys.retire``."""
        return await arun(
            retire_flow(
                self,
                self._perform,
                self._neon_now,
                grace=grace,
                quiet=quiet,
                name=name,
                dry_run=dry_run,
            )
        )


class Org:
    """One organization, as reached by ``neon.org(org_id)``."""

    def __init__(self, perform: Perform, org_id: str, neon_now: NeonNow) -> None:
        self.id = _validation.resource_id("org_id", org_id)
        self.keys = OrgKeys(perform, self.id, neon_now)

    def __repr__(self) -> str:
        return f"Org({self.id!r})"


class AsyncOrg:
    """One organization, as reached by ``neon.org(org_id)`` on ``AsyncNeonKeys``."""

    def __init__(self, perform: AsyncPerform, org_id: str, neon_now: NeonNow) -> None:
        self.id = _validation.resource_id("org_id", org_id)
        self.keys = AsyncOrgKeys(perform, self.id, neon_now)

    def __repr__(self) -> str:
        return f"AsyncOrg({self.id!r})"


if TYPE_CHECKING:

    def _satisfy_protocols(
        personal: PersonalKeys,
        org: OrgKeys,
        async_personal: AsyncPersonalKeys,
        async_org: AsyncOrgKeys,
    ) -> tuple[KeyScope, KeyScope, AsyncKeyScope, AsyncKeyScope]:
        """Never called: mypy checks here that every resource satisfies its protocol."""
        return personal, org, async_personal, async_org
