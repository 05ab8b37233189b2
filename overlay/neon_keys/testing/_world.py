"""The emulator's state: users, organizations, projects and API keys, in memory.

A ``World`` is configured from Python and served by the app (``create_app``); every change
the API makes happens here. It is safe to use from a test thread while a server thread
handles requests: one lock guards it.

Keys are indexed by id, by owner and by token hash, so listing is linear in the owner's
keys and everything else takes constant time. Tokens look like Neon's (``napi_`` and 60
lowercase letters and digits), come from ``secrets``, and are kept only as SHA-256 hashes:
the token exists in the create response and in whatever the caller of ``issue_*_key``
keeps, nowhere else.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import re
import secrets
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ._clock import Clock, SystemClock
from ._faults import Faults
from ._log import RequestLog
from ._ratelimit import RateLimiter, ServerRateLimits

__all__ = ["KeyInfo", "KeyKindName", "Seed", "World"]

KeyKindName = Literal["personal", "org", "project"]
"""The kind of a key, as the values of ``neon_keys.KeyKind``."""

Role = Literal["admin", "member"]

ID_PATTERN = re.compile(r"[a-z0-9-]{1,60}")
TOKEN_PREFIX = "napi_"  # noqa: S105 - the prefix of every token, not a secret
TOKEN_LENGTH = 60
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_ULID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
MAX_ADDRESSES = 2


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


def iso(moment: datetime.datetime) -> str:
    """A timestamp as Neon writes it: UTC, whole seconds, ``Z``."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- records (strictly private: the app reads them under the world's lock) ----------------


@dataclass(slots=True)
class _User:
    id: str
    name: str
    image: str
    email: str


@dataclass(slots=True)
class _Org:
    id: str
    name: str
    handle: str
    plan: str
    created_at: str
    updated_at: str
    roles: dict[str, Role] = field(default_factory=dict)
    projects: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Key:
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
    def last_used_from_addr(self) -> str:
        return ",".join(self.addresses)


# -- public snapshots ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key as the world holds it (a snapshot; it has no token).

    Attributes:
        id: the key's numeric id.
        name: its name.
        kind: ``"personal"``, ``"org"`` or ``"project"``.
        owner_id: the user id of a personal key, the organization id otherwise.
        project_id: the project of a project-scoped key, else None.
        created_by: the id of the user who created it.
        created_at: when it was created.
        revoked: whether it is revoked.
        last_used_at: when it was last used; None if never.
        last_used_from: the last distinct addresses it was used from, oldest first.
    """

    id: int
    name: str
    kind: KeyKindName
    owner_id: str
    project_id: str | None
    created_by: str
    created_at: datetime.datetime
    revoked: bool
    last_used_at: datetime.datetime | None
    last_used_from: tuple[str, ...]


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


SEED_ADMIN_ID = "user_01hq7mzx4c2v9e6t8r3n5b1k0d"
SEED_MEMBER_ID = "6f1c2b9e-8a47-4d3e-b5c1-2e7d9a0f4b36"
SEED_ORG_ID = "org-cool-breeze-12345678"
SEED_PROJECT_ID = "summer-haze-17190561"


class World:
    """Users, organizations, projects and keys; the state behind an emulated Neon.

    Args:
        clock: where time comes from (``FakeClock`` in tests); default the system clock.
        rate_limits: the limits to enforce, e.g. ``ServerRateLimits()`` for Neon's
            documented ones; None (default) for none.
        legacy_shapes: answer as the service did in early 2024: create responses without
            ``created_by``, revoke responses without ``created_at`` and ``created_by``.
        first_key_id: the id given to the first key.

    Attributes:
        faults: the faults planned for the next requests (see ``Fault``).
        log: every request served so far.
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
        self.faults = Faults()
        self.log = RequestLog()
        self._lock = threading.RLock()
        self._limiter = RateLimiter(rate_limits) if rate_limits is not None else None
        self._ids = itertools.count(first_key_id)
        self._serial = itertools.count(1)
        self._users: dict[str, _User] = {}
        self._orgs: dict[str, _Org] = {}
        self._keys: dict[int, _Key] = {}
        self._by_hash: dict[str, _Key] = {}
        self._personal: dict[str, dict[int, _Key]] = {}
        self._org_keys: dict[str, dict[int, _Key]] = {}
        self._seed: Seed | None = None

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"<World: {len(self._users)} users, {len(self._orgs)} organizations, "
                f"{len(self._keys)} keys>"
            )

    # -- configuration ---------------------------------------------------------------------

    @classmethod
    def seeded(
        cls,
        *,
        clock: Clock | None = None,
        rate_limits: ServerRateLimits | None = None,
        legacy_shapes: bool = False,
        first_key_id: int = 100_001,
    ) -> World:
        """A world with an organization, a project, an admin and a member (see ``Seed``).

        The organization is ``org-cool-breeze-12345678`` with project
        ``summer-haze-17190561``; its admin (id ``user_...``, with a name and an avatar) and
        its plain member (a UUID id, empty name and avatar) each have a personal key. Takes
        the same keyword arguments as ``World()``; ``world.seed`` holds the details.
        """
        world = cls(
            clock=clock,
            rate_limits=rate_limits,
            legacy_shapes=legacy_shapes,
            first_key_id=first_key_id,
        )
        admin = world.add_user(
            SEED_ADMIN_ID,
            name="Ada Admin",
            image="https://avatars.example.com/ada.png",
            email="ada@example.com",
        )
        member = world.add_user(SEED_MEMBER_ID, email="max@example.com")
        org = world.add_org(SEED_ORG_ID, name="Cool Breeze", admins=[admin], members=[member])
        project = world.add_project(org, SEED_PROJECT_ID)
        admin_token = world.issue_personal_key(admin, "seed-admin")
        member_token = world.issue_personal_key(member, "seed-member")
        admin_key = world.key_for_token(admin_token)
        assert admin_key is not None
        world._seed = Seed(
            admin_id=admin,
            admin_token=admin_token,
            admin_key_id=admin_key.id,
            member_id=member,
            member_token=member_token,
            org_id=org,
            project_id=project,
        )
        return world

    @property
    def seed(self) -> Seed:
        """What ``World.seeded()`` created; LookupError for a world made otherwise."""
        if self._seed is None:
            raise LookupError("this World was not seeded; make it with World.seeded()")
        return self._seed

    @property
    def rate_limits(self) -> ServerRateLimits | None:
        """The enforced limits, or None. Setting them starts every bucket afresh."""
        return self._limiter.limits if self._limiter is not None else None

    @rate_limits.setter
    def rate_limits(self, limits: ServerRateLimits | None) -> None:
        with self._lock:
            self._limiter = RateLimiter(limits) if limits is not None else None

    def add_user(
        self,
        user_id: str | None = None,
        *,
        name: str = "",
        image: str = "",
        email: str | None = None,
    ) -> str:
        """Add a user and return their id.

        Args:
            user_id: the id; default a new ``user_...`` id (Neon uses those and UUIDs).
            name: display name, as listings show it in ``created_by.name`` (may be empty).
            image: avatar address, as listings show it in ``created_by.image`` (may be empty).
            email: their address; default derived from the id.
        """
        with self._lock:
            if user_id is None:
                user_id = "user_" + "".join(secrets.choice(_ULID_ALPHABET) for _ in range(26))
            if not isinstance(user_id, str) or not user_id:
                raise ValueError("a user id must be a non-empty string")
            if user_id in self._users:
                raise ValueError(f"user {user_id!r} already exists")
            self._users[user_id] = _User(user_id, name, image, email or f"{user_id}@example.com")
            self._personal[user_id] = {}
            return user_id

    def add_org(
        self,
        org_id: str | None = None,
        *,
        name: str | None = None,
        plan: str = "scale",
        admins: Iterable[str] = (),
        members: Iterable[str] = (),
    ) -> str:
        """Add an organization and return its id.

        Args:
            org_id: the id (``^[a-z0-9-]{1,60}$``); default a new ``org-sandbox-...`` id.
            name: its name; default derived from the id.
            plan: its plan, as ``/users/me/organizations`` reports it.
            admins: users (ids) who administer it.
            members: users (ids) who belong to it without admin rights.
        """
        with self._lock:
            if org_id is None:
                org_id = f"org-sandbox-{next(self._serial):08d}"
            _check_id("organization", org_id)
            if org_id in self._orgs:
                raise ValueError(f"organization {org_id!r} already exists")
            now = iso(self.clock.now())
            handle = org_id.removeprefix("org-")
            title = name if name is not None else handle.replace("-", " ").title()
            self._orgs[org_id] = _Org(org_id, title, handle, plan, now, now)
            self._org_keys[org_id] = {}
            for user in admins:
                self.add_member(org_id, user, admin=True)
            for user in members:
                self.add_member(org_id, user)
            return org_id

    def add_member(self, org_id: str, user_id: str, *, admin: bool = False) -> None:
        """Make a user an admin (``admin=True``) or a plain member of an organization."""
        with self._lock:
            org = self._org_or_raise(org_id)
            self._user_or_raise(user_id)
            org.roles[user_id] = "admin" if admin else "member"

    def add_project(self, org_id: str, project_id: str | None = None) -> str:
        """Add a project to an organization and return its id (default a new one)."""
        with self._lock:
            org = self._org_or_raise(org_id)
            if project_id is None:
                project_id = f"sandbox-project-{next(self._serial):08d}"
            _check_id("project", project_id)
            if any(project_id in other.projects for other in self._orgs.values()):
                raise ValueError(f"project {project_id!r} already exists")
            org.projects.add(project_id)
            return project_id

    def remove_project(self, org_id: str, project_id: str) -> None:
        """Take a project out of its organization; keys scoped to it stop working (401)."""
        with self._lock:
            org = self._org_or_raise(org_id)
            if project_id not in org.projects:
                raise KeyError(f"no project {project_id!r} in {org_id!r}")
            org.projects.discard(project_id)

    def issue_personal_key(self, user_id: str, name: str) -> str:
        """Create a personal key for a user, as if in the Console, and return its token."""
        with self._lock:
            self._user_or_raise(user_id)
            _key, token = self._create_key("personal", name, user_id, None, user_id)
            return token

    def issue_org_key(
        self,
        org_id: str,
        name: str,
        *,
        project_id: str | None = None,
        created_by: str | None = None,
    ) -> str:
        """Create an organization key (scoped to ``project_id`` if given); return its token.

        Args:
            org_id: the organization.
            name: the key's name.
            project_id: a project of that organization, for a project-scoped key.
            created_by: the user recorded as its creator; default the organization's first
                admin.
        """
        with self._lock:
            org = self._org_or_raise(org_id)
            if project_id is not None and project_id not in org.projects:
                raise KeyError(f"no project {project_id!r} in {org_id!r}")
            if created_by is None:
                admins = [user for user, role in org.roles.items() if role == "admin"]
                if not admins:
                    raise ValueError(f"{org_id!r} has no admin; pass created_by=")
                created_by = admins[0]
            self._user_or_raise(created_by)
            kind: KeyKindName = "project" if project_id is not None else "org"
            _key, token = self._create_key(kind, name, org_id, project_id, created_by)
            return token

    def revoke(self, key_id: int) -> None:
        """Revoke a key from Python (as an admin would in the Console)."""
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                raise KeyError(f"no key {key_id}")
            self._revoke_key(key)

    # -- inspection ------------------------------------------------------------------------

    def key(self, key_id: int) -> KeyInfo:
        """The key with this id, revoked or not; KeyError if there is none."""
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                raise KeyError(f"no key {key_id}")
            return _info(key)

    def key_for_token(self, token: str) -> KeyInfo | None:
        """The key a token belongs to (revoked or not), or None."""
        with self._lock:
            key = self._by_hash.get(hash_token(token))
            return _info(key) if key is not None else None

    def personal_keys(self, user_id: str, *, include_revoked: bool = False) -> list[KeyInfo]:
        """A user's personal keys, oldest first (revoked ones too, if asked)."""
        with self._lock:
            self._user_or_raise(user_id)
            return self._keys_of("personal", user_id, include_revoked)

    def org_keys(self, org_id: str, *, include_revoked: bool = False) -> list[KeyInfo]:
        """An organization's keys, project-scoped ones included, oldest first."""
        with self._lock:
            self._org_or_raise(org_id)
            return self._keys_of("org", org_id, include_revoked)

    def _keys_of(self, owner_kind: str, owner: str, include_revoked: bool) -> list[KeyInfo]:
        if include_revoked:
            personal = owner_kind == "personal"
            wanted: Iterable[_Key] = [
                key
                for key in self._keys.values()
                if key.owner == owner and (key.kind == "personal") == personal
            ]
        else:
            index = self._personal if owner_kind == "personal" else self._org_keys
            wanted = index[owner].values()
        return [_info(key) for key in wanted]

    # -- what the app uses, holding ``_lock`` (strictly private) -----------------------------

    def _authenticate(self, token: str) -> _Key | None:
        """The live key a token belongs to; None if unknown, revoked or orphaned."""
        key = self._by_hash.get(hash_token(token))
        if key is None or key.revoked:
            return None
        if key.kind == "project":
            org = self._orgs.get(key.owner)
            if org is None or key.project_id not in org.projects:
                return None
        return key

    def _touch(self, key: _Key, address: str | None) -> None:
        """Record that ``key`` was used now, from ``address``."""
        key.last_used = self.clock.now()
        key.last_used_at = iso(key.last_used)
        if address:
            if address in key.addresses:
                key.addresses.remove(address)
            key.addresses.append(address)
            del key.addresses[:-MAX_ADDRESSES]

    def _create_key(
        self,
        kind: KeyKindName,
        name: str,
        owner: str,
        project_id: str | None,
        created_by: str,
    ) -> tuple[_Key, str]:
        """Store a new key; return it with its token (which is not kept)."""
        token = new_token()
        now = self.clock.now()
        key = _Key(
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
        index = self._personal if kind == "personal" else self._org_keys
        index[owner][key.id] = key
        return key, token

    def _revoke_key(self, key: _Key) -> None:
        """Mark a key revoked and drop it from its owner's listing."""
        key.revoked = True
        index = self._personal if key.kind == "personal" else self._org_keys
        index[key.owner].pop(key.id, None)

    def _find_user(self, user_id: str) -> _User | None:
        """A user record, or None."""
        return self._users.get(user_id)

    def _find_org(self, org_id: str) -> _Org | None:
        """An organization record, or None."""
        return self._orgs.get(org_id)

    def _live_personal_keys(self, user_id: str) -> Iterable[_Key]:
        """A user's keys that are not revoked, oldest first."""
        return self._personal.get(user_id, {}).values()

    def _live_org_keys(self, org_id: str) -> Iterable[_Key]:
        """An organization's keys that are not revoked, oldest first."""
        return self._org_keys.get(org_id, {}).values()

    def _live_key(self, key_id: int) -> _Key | None:
        """A key that is not revoked, or None."""
        key = self._keys.get(key_id)
        return key if key is not None and not key.revoked else None

    def _orgs_of(self, user_id: str) -> list[_Org]:
        """The organizations a user belongs to."""
        return [org for org in self._orgs.values() if user_id in org.roles]

    def _org_or_raise(self, org_id: str) -> _Org:
        org = self._orgs.get(org_id)
        if org is None:
            raise KeyError(f"no organization {org_id!r}")
        return org

    def _user_or_raise(self, user_id: str) -> _User:
        user = self._users.get(user_id)
        if user is None:
            raise KeyError(f"no user {user_id!r}")
        return user


def _check_id(what: str, value: object) -> None:
    if not isinstance(value, str) or ID_PATTERN.fullmatch(value) is None:
        raise ValueError(f"a {what} id must match ^[a-z0-9-]{{1,60}}$, got {value!r}")


def _info(key: _Key) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        name=key.name,
        kind=key.kind,
        owner_id=key.owner,
        project_id=key.project_id,
        created_by=key.created_by,
        created_at=key.created,
        revoked=key.revoked,
        last_used_at=key.last_used,
        last_used_from=tuple(key.addresses),
    )
