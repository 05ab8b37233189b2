"""The records behind a ``World`` and the operations on them, as the app and handlers use them.

A ``Store`` holds users, organizations, projects and keys in memory. Keys are indexed by id,
by owner and by token hash, so listing is linear in the owner's keys and everything else
takes constant time. Tokens look like Neon's (``napi_`` and 60 lowercase letters and
digits), come from ``secrets``, and are kept only as SHA-256 hashes: the token exists in the
create response and in whatever the caller of ``World.issue_*_key`` keeps, nowhere else.

Every method takes the store's lock, which is re-entrant: ``transaction()`` holds it across
several calls, so that the app authenticates, rate-limits and runs an operation as one step
while a test thread configures the world. The records it returns are live and mutable:
they are for the emulator's own layers, which read them inside a transaction; test code
reads snapshots (``KeyInfo``) through ``World``.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import re
import secrets
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from .._constants import ID_PATTERN
from ._clock import Clock, SystemClock
from ._ratelimit import RateLimiter, ServerRateLimits

__all__ = [
    "ID_FORMAT",
    "KeyKindName",
    "KeyRecord",
    "OrgRecord",
    "Role",
    "Seed",
    "Store",
    "UserRecord",
    "hash_token",
    "iso",
    "new_token",
]

KeyKindName = Literal["personal", "org", "project"]
"""The kind of a key, as the values of ``neon_keys.KeyKind``."""

Role = Literal["admin", "member"]
"""A user's role in an organization."""

ID_FORMAT = re.compile(ID_PATTERN)
"""Organization and project ids as the spec allows them."""

TOKEN_PREFIX = "napi_"  # noqa: S105 - the prefix of every token, not a secret
TOKEN_LENGTH = 60
MAX_ADDRESSES = 2
"""How many distinct addresses a key remembers (``last_used_from_addr``)."""

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_ULID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """A fresh token shaped like Neon's: ``napi_`` and 60 lowercase letters and digits."""
    chars: list[str] = []
    while len(chars) < TOKEN_LENGTH:
        # Bytes below 252 (7 * 36) map onto the 36 characters without bias; drop the rest.
        chars.extend(_TOKEN_ALPHABET[b % 36] for b in secrets.token_bytes(TOKEN_LENGTH) if b < 252)
    return TOKEN_PREFIX + "".join(chars[:TOKEN_LENGTH])


def new_user_id() -> str:
    """A fresh ``user_...`` id, in the ULID form Neon uses for many users."""
    return "user_" + "".join(secrets.choice(_ULID_ALPHABET) for _ in range(26))


def iso(moment: datetime.datetime) -> str:
    """A timestamp as Neon writes it: UTC, whole seconds, ``Z``."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_id(what: str, value: object) -> str:
    """``value`` if it is an organization or project id the API could address; else ValueError."""
    if not isinstance(value, str) or ID_FORMAT.fullmatch(value) is None:
        raise ValueError(f"a {what} id must match {ID_PATTERN}, got {value!r}")
    return value


# -- records ---------------------------------------------------------------------------------


@dataclass(slots=True)
class UserRecord:
    """A user: what listings show of a key's creator."""

    id: str
    name: str
    image: str
    email: str


@dataclass(slots=True)
class OrgRecord:
    """An organization, its members' roles and its projects."""

    id: str
    name: str
    handle: str
    plan: str
    created_at: str
    updated_at: str
    roles: dict[str, Role] = field(default_factory=dict)
    projects: set[str] = field(default_factory=set)


@dataclass(slots=True)
class KeyRecord:
    """An API key; its token is known only by its hash."""

    id: int
    name: str
    kind: KeyKindName
    owner: str
    """The user id of a personal key; the organization id of an org or project key."""
    project_id: str | None
    created_by: str
    created: datetime.datetime
    created_at: str
    token_hash: str
    revoked: bool = False
    last_used: datetime.datetime | None = None
    last_used_at: str | None = None
    addresses: list[str] = field(default_factory=list)

    @property
    def personal(self) -> bool:
        """Whether it is a personal key (owned by a user, not an organization)."""
        return self.kind == "personal"

    @property
    def last_used_from_addr(self) -> str:
        """The addresses it was last used from, as Neon joins them (oldest first)."""
        return ",".join(self.addresses)


@dataclass(frozen=True, slots=True)
class Seed:
    """Who and what ``World.seeded()`` created, with the credentials to act as them.

    Attributes:
        admin_id: an organization admin (a ``user_...`` id).
        admin_token: the admin's personal API key.
        admin_key_id: the id of that key.
        member_id: a member of the organization who is not an admin (a UUID).
        member_token: the member's personal API key.
        org_id: the organization.
        project_id: a project of the organization.
    """

    admin_id: str
    admin_token: str = field(repr=False)
    admin_key_id: int
    member_id: str
    member_token: str = field(repr=False)
    org_id: str
    project_id: str


# -- the store -------------------------------------------------------------------------------


class Store:
    """Users, organizations, projects and keys, with the operations the API performs on them.

    Args:
        clock: where time comes from; default the system clock.
        rate_limits: the limits to enforce; None for none.
        legacy_shapes: answer in the shapes Neon used in early 2024 (see ``World``).
        first_key_id: the id given to the first key.

    Attributes:
        clock: where time comes from (``created_at``, ``last_used_at``, rate limits).
        legacy_shapes: whether responses take the early-2024 shapes.
        seed: what ``World.seeded()`` planted; None for a store filled otherwise.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        rate_limits: ServerRateLimits | None = None,
        legacy_shapes: bool = False,
        first_key_id: int = 100_001,
    ) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.legacy_shapes = legacy_shapes
        self.seed: Seed | None = None
        self._lock = threading.RLock()
        self._limiter = RateLimiter(rate_limits) if rate_limits is not None else None
        self._ids = itertools.count(first_key_id)
        self._serial = itertools.count(1)
        self._users: dict[str, UserRecord] = {}
        self._orgs: dict[str, OrgRecord] = {}
        self._keys: dict[int, KeyRecord] = {}
        self._by_hash: dict[str, KeyRecord] = {}
        self._personal: dict[str, dict[int, KeyRecord]] = {}
        self._org_keys: dict[str, dict[int, KeyRecord]] = {}

    def __repr__(self) -> str:
        users, orgs, keys = self.counts()
        return f"<Store: {users} users, {orgs} organizations, {keys} keys>"

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the store's lock while the block runs: its calls see and make one state."""
        with self._lock:
            yield

    def serial(self) -> int:
        """The next number of a sequence, for generated ids (1, 2, ...)."""
        with self._lock:
            return next(self._serial)

    # -- rate limits ------------------------------------------------------------------------

    @property
    def rate_limits(self) -> ServerRateLimits | None:
        """The enforced limits, or None. Setting them starts every bucket afresh."""
        limiter = self._limiter
        return limiter.limits if limiter is not None else None

    @rate_limits.setter
    def rate_limits(self, limits: ServerRateLimits | None) -> None:
        with self._lock:
            self._limiter = RateLimiter(limits) if limits is not None else None

    def admit(self, account: str, operation_id: str, org_id: str | None) -> int | None:
        """Count a request against the rate limits: None if it may proceed, else seconds to wait.

        Args:
            account: who is calling (a user id or an organization id).
            operation_id: the operation called.
            org_id: the organization in the path, if any.
        """
        with self._lock:
            if self._limiter is None:
                return None
            return self._limiter.acquire(account, operation_id, org_id, self.clock.monotonic())

    # -- users, organizations, projects -----------------------------------------------------

    def add_user(self, user_id: str, *, name: str, image: str, email: str) -> UserRecord:
        """Store a new user; ValueError if the id is taken or empty."""
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("a user id must be a non-empty string")
        with self._lock:
            if user_id in self._users:
                raise ValueError(f"user {user_id!r} already exists")
            user = self._users[user_id] = UserRecord(user_id, name, image, email)
            self._personal[user_id] = {}
            return user

    def add_org(self, org_id: str, *, name: str, plan: str) -> OrgRecord:
        """Store a new organization (``name`` and ``handle`` come with it); ValueError if taken."""
        check_id("organization", org_id)
        with self._lock:
            if org_id in self._orgs:
                raise ValueError(f"organization {org_id!r} already exists")
            now = iso(self.clock.now())
            handle = org_id.removeprefix("org-")
            org = self._orgs[org_id] = OrgRecord(org_id, name, handle, plan, now, now)
            self._org_keys[org_id] = {}
            return org

    def set_role(self, org_id: str, user_id: str, role: Role) -> None:
        """Give a user a role in an organization; KeyError if either is unknown."""
        with self._lock:
            org = self.existing_org(org_id)
            self.existing_user(user_id)
            org.roles[user_id] = role

    def add_project(self, org_id: str, project_id: str) -> None:
        """Add a project to an organization; ValueError if any organization has it already."""
        check_id("project", project_id)
        with self._lock:
            org = self.existing_org(org_id)
            if any(project_id in other.projects for other in self._orgs.values()):
                raise ValueError(f"project {project_id!r} already exists")
            org.projects.add(project_id)

    def remove_project(self, org_id: str, project_id: str) -> None:
        """Take a project out of its organization; KeyError if it is not there."""
        with self._lock:
            org = self.existing_org(org_id)
            if project_id not in org.projects:
                raise KeyError(f"no project {project_id!r} in {org_id!r}")
            org.projects.discard(project_id)

    def user(self, user_id: str) -> UserRecord | None:
        """A user, or None."""
        with self._lock:
            return self._users.get(user_id)

    def org(self, org_id: str) -> OrgRecord | None:
        """An organization, or None."""
        with self._lock:
            return self._orgs.get(org_id)

    def existing_user(self, user_id: str) -> UserRecord:
        """A user; KeyError if there is none."""
        user = self.user(user_id)
        if user is None:
            raise KeyError(f"no user {user_id!r}")
        return user

    def existing_org(self, org_id: str) -> OrgRecord:
        """An organization; KeyError if there is none."""
        org = self.org(org_id)
        if org is None:
            raise KeyError(f"no organization {org_id!r}")
        return org

    def orgs_of(self, user_id: str) -> list[OrgRecord]:
        """The organizations a user belongs to, in the order they were added."""
        with self._lock:
            return [org for org in self._orgs.values() if user_id in org.roles]

    # -- keys --------------------------------------------------------------------------------

    def create_key(
        self,
        kind: KeyKindName,
        name: str,
        owner: str,
        project_id: str | None,
        created_by: str,
    ) -> tuple[KeyRecord, str]:
        """Store a new key; return it with its token (which is not kept).

        Args:
            kind: personal, org or project.
            name: its name.
            owner: the user (personal) or organization (org, project) it belongs to.
            project_id: the project of a project key, else None.
            created_by: the user recorded as its creator.
        """
        token = new_token()
        with self._lock:
            index = self._personal if kind == "personal" else self._org_keys
            owned = index[owner]  # a KeyError for an unknown owner, before anything is stored
            now = self.clock.now()
            key = KeyRecord(
                id=next(self._ids),
                name=name,
                kind=kind,
                owner=owner,
                project_id=project_id,
                created_by=created_by,
                created=now,
                created_at=iso(now),
                token_hash=hash_token(token),
            )
            self._keys[key.id] = key
            self._by_hash[key.token_hash] = key
            owned[key.id] = key
            return key, token

    def revoke_key(self, key: KeyRecord) -> None:
        """Mark a key revoked and take it out of its owner's listing."""
        with self._lock:
            key.revoked = True
            index = self._personal if key.personal else self._org_keys
            index[key.owner].pop(key.id, None)

    def key(self, key_id: int) -> KeyRecord | None:
        """A key, revoked or not, or None."""
        with self._lock:
            return self._keys.get(key_id)

    def live_key(self, key_id: int) -> KeyRecord | None:
        """A key that is not revoked, or None."""
        key = self.key(key_id)
        return key if key is not None and not key.revoked else None

    def key_for_token(self, token: str) -> KeyRecord | None:
        """The key a token belongs to, revoked or not, or None."""
        with self._lock:
            return self._by_hash.get(hash_token(token))

    def authenticate(self, token: str) -> KeyRecord | None:
        """The live key a token belongs to; None if unknown, revoked or orphaned.

        A project key is orphaned when its project has left its organization.
        """
        with self._lock:
            key = self._by_hash.get(hash_token(token))
            if key is None or key.revoked:
                return None
            if key.kind == "project":
                org = self._orgs.get(key.owner)
                if org is None or key.project_id not in org.projects:
                    return None
            return key

    def touch(self, key: KeyRecord, address: str | None) -> None:
        """Record that ``key`` was used now, from ``address`` (if known)."""
        with self._lock:
            key.last_used = self.clock.now()
            key.last_used_at = iso(key.last_used)
            if address:
                if address in key.addresses:
                    key.addresses.remove(address)
                key.addresses.append(address)
                del key.addresses[:-MAX_ADDRESSES]

    def live_keys(self, owner: str, *, personal: bool) -> list[KeyRecord]:
        """An owner's keys that are not revoked, oldest first (none for an unknown owner).

        Args:
            owner: a user id (``personal=True``) or an organization id.
            personal: whether to list the user's personal keys or the organization's keys.
        """
        with self._lock:
            index = self._personal if personal else self._org_keys
            return list(index.get(owner, {}).values())

    def all_keys(self, owner: str, *, personal: bool) -> list[KeyRecord]:
        """An owner's keys, revoked ones included, oldest first."""
        with self._lock:
            return [
                key
                for key in self._keys.values()
                if key.owner == owner and key.personal == personal
            ]

    def counts(self) -> tuple[int, int, int]:
        """How many users, organizations and keys (revoked included) it holds."""
        with self._lock:
            return len(self._users), len(self._orgs), len(self._keys)
