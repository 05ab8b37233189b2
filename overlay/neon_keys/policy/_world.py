"""Reading the world a policy manages: every managed scope's keys, who is calling, Neon's time.

The listings are made at once (threads for ``NeonKeys``, tasks for ``AsyncNeonKeys``): the
client's pacing keeps them under Neon's limits, across organizations, and the waits for
answers overlap. Neon's time is read from the answers (``server_now``), so every age in
the plan is measured on Neon's clock.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._calling import calling_keys
from .._clock_guard import check_neon_now
from .._exceptions import ServerTimeUnknownError
from .._models import APIKey, AuthDetails, Organization
from ._load import PolicyFileError, Problem
from ._model import Policy

if TYPE_CHECKING:
    from .._client import AsyncNeonKeys, NeonKeys

__all__ = ["MAX_READERS", "World", "aread_world", "read_world"]

logger = logging.getLogger("neon_keys")

MAX_READERS = 32
"""Listings in flight at once while the world is read (the pacing decides when each goes)."""


@dataclass(frozen=True, slots=True)
class World:
    """What a plan is computed from.

    Attributes:
        listings: each managed scope (None: personal keys) and its keys, in the policy's order.
        caller: who is calling (``GET /auth``).
        now: Neon's time when they were read.
        neon_clock: whether ``now`` is Neon's (False: its answers carried no ``Date``, and
            ``now`` is this machine's time).
    """

    listings: dict[str | None, tuple[APIKey, ...]]
    caller: AuthDetails
    now: datetime.datetime
    neon_clock: bool = True

    def calling(self) -> set[int]:
        """The ids of keys that may be the one making the call, in every scope."""
        found: set[int] = set()
        for org_id, keys in self.listings.items():
            found |= calling_keys(self.caller, org_id, keys)
        return found

    def check_clock(self) -> None:
        """Raise ``ServerTimeUnknownError`` unless ``now`` is Neon's and its records agree.

        ``apply`` acts on ages measured by Neon's clock only, as ``retire`` does: a missing
        ``Date``, or one running implausibly far ahead of the times the listings record (a
        proxy whose clock reads year 2300 would make every key look due), stops it before
        anything is changed.
        """
        if not self.neon_clock:
            raise ServerTimeUnknownError(
                "apply judges ages by Neon's clock, but Neon's answers carried no readable "
                "Date header (a proxy that strips it?); nothing was changed"
            )
        calling = self.calling()
        for keys in self.listings.values():
            check_neon_now(self.now, keys, calling=calling, acting="apply")


def managed_scopes(policy: Policy, orgs: Sequence[Organization] | None) -> list[str | None]:
    """The scopes to read: None for personal keys, then organization ids in order.

    ``orgs`` is the caller's organizations when the file says ``orgs = "all"`` (None
    otherwise); a declared key of an organization not among them is a problem of the file.
    """
    scopes: list[str | None] = [None] if policy.scopes.personal else []
    if orgs is None:
        return [*scopes, *policy.scopes.orgs]
    mine = [org.id for org in orgs]
    problems = [
        Problem(
            policy.path,
            key.scope_line or key.line,
            f"keys[{key.index}].scope",
            f"organization {key.target.org_id} is not one of the caller's "
            f"({', '.join(mine) or 'none'})",
        )
        for key in policy.keys
        if key.target.org_id is not None and key.target.org_id not in mine
    ]
    if problems:
        raise PolicyFileError(problems)
    return [*scopes, *mine]


def _world(
    listings: dict[str | None, tuple[APIKey, ...]],
    caller: AuthDetails,
    client: NeonKeys | AsyncNeonKeys,
) -> World:
    now = client.server_now()
    if now is None:  # answers without a Date (a proxy that strips it): the next best to show
        logger.warning("Neon's answers carried no Date header; judging ages by this clock")
        return World(listings, caller, datetime.datetime.now(datetime.UTC), neon_clock=False)
    return World(listings, caller, now)


def read_world(client: NeonKeys, policy: Policy) -> World:
    """List every scope ``policy`` manages, and ask who is calling, all at once."""
    orgs = client.organizations() if policy.scopes.all_orgs else None
    scopes = managed_scopes(policy, orgs)
    with ThreadPoolExecutor(max_workers=min(MAX_READERS, len(scopes) + 1)) as pool:
        caller = pool.submit(client.whoami)
        listed = [pool.submit(_lister(client, org_id)) for org_id in scopes]
        listings: dict[str | None, tuple[APIKey, ...]] = {
            org_id: future.result() for org_id, future in zip(scopes, listed, strict=True)
        }
        auth = caller.result()
    return _world(listings, auth, client)


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error of a task group (a cancellation is the last choice)."""
    leaves: list[BaseException] = []
    todo: list[BaseException] = [group]
    while todo:
        current = todo.pop(0)
        if isinstance(current, BaseExceptionGroup):
            todo[:0] = list(current.exceptions)
        else:
            leaves.append(current)
    errors = [leaf for leaf in leaves if isinstance(leaf, Exception)]
    return (errors or leaves)[0]


def _lister(client: NeonKeys, org_id: str | None) -> Callable[[], tuple[APIKey, ...]]:
    scope = client.org(org_id).keys if org_id else client.personal_keys
    return lambda: tuple(scope.list())


async def aread_world(client: AsyncNeonKeys, policy: Policy) -> World:
    """The awaiting twin of ``read_world``: one task per listing."""
    import anyio  # noqa: PLC0415  (an httpx dependency; async code has it loaded already)

    orgs = await client.organizations() if policy.scopes.all_orgs else None
    scopes = managed_scopes(policy, orgs)
    listings: dict[str | None, tuple[APIKey, ...]] = {}
    found: dict[str, AuthDetails] = {}

    async def list_scope(org_id: str | None) -> None:
        scope = client.org(org_id).keys if org_id else client.personal_keys
        listings[org_id] = tuple(await scope.list())

    async def whoami() -> None:
        found["caller"] = await client.whoami()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(whoami)
            for org_id in scopes:
                group.start_soon(list_scope, org_id)
    except BaseExceptionGroup as failed:  # one listing failed: raise its error, as sync does
        raise _first(failed) from None
    ordered = {org_id: listings[org_id] for org_id in scopes}
    return _world(ordered, found["caller"], client)
