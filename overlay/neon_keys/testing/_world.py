"""The emulator's world, as test authors configure and inspect it.

A ``World`` holds users, organizations, projects and API keys (in a ``Store``), its clock,
the faults planned for the next requests and the log of requests served. It is configured
from Python and served by the app (``create_app``); every change the API makes happens in its
store. It is safe to use from a test thread while a server thread handles requests: the
store's lock guards every change.

Tokens are kept only as SHA-256 hashes: the token exists in the create response and in
whatever the caller of ``issue_*_key`` keeps, nowhere else.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from ._clock import Clock, MovableClock
from ._faults import Faults
from ._log import RequestLog
from ._ratelimit import ServerRateLimits
from ._store import KeyKindName, KeyRecord, Seed, Store, new_user_id

__all__ = ["KeyInfo", "KeyKindName", "Seed", "World"]


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


SEED_ADMIN_ID = "user_01hq7mzx4c2v9e6t8r3n5b1k0d"
SEED_MEMBER_ID = "6f1c2b9e-8a47-4d3e-b5c1-2e7d9a0f4b36"
SEED_ORG_ID = "org-cool-breeze-12345678"
SEED_PROJECT_ID = "summer-haze-17190561"


class World:
    """Users, organizations, projects and keys; the state behind an emulated Neon.

    Args:
        clock: where time comes from (``FakeClock`` in tests, ``OffsetClock`` for real time
            that can be moved forward); default the system clock.
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
        self.faults = Faults()
        self.log = RequestLog()
        self._store = Store(
            clock=clock,
            rate_limits=rate_limits,
            legacy_shapes=legacy_shapes,
            first_key_id=first_key_id,
        )

    def __repr__(self) -> str:
        users, orgs, keys = self._store.counts()
        return f"<World: {users} users, {orgs} organizations, {keys} keys>"

    @property
    def store(self) -> Store:
        """The records behind this world, as the app and its handlers use them.

        Test code rarely needs it: the methods of ``World`` configure the same records and
        return snapshots of them.
        """
        return self._store

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
        world.store.seed = Seed(
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
        seed = self._store.seed
        if seed is None:
            raise LookupError("this World was not seeded; make it with World.seeded()")
        return seed

    @property
    def clock(self) -> Clock:
        """Where the world's time comes from; assign another clock to change it."""
        return self._store.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._store.clock = clock

    @property
    def legacy_shapes(self) -> bool:
        """Whether responses take the early-2024 shapes (see the class docstring)."""
        return self._store.legacy_shapes

    @legacy_shapes.setter
    def legacy_shapes(self, value: bool) -> None:
        self._store.legacy_shapes = value

    @property
    def rate_limits(self) -> ServerRateLimits | None:
        """The enforced limits, or None. Setting them starts every bucket afresh."""
        return self._store.rate_limits

    @rate_limits.setter
    def rate_limits(self, limits: ServerRateLimits | None) -> None:
        self._store.rate_limits = limits

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
        user_id = new_user_id() if user_id is None else user_id
        address = email or f"{user_id}@example.com"
        return self._store.add_user(user_id, name=name, image=image, email=address).id

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
        store = self._store
        with store.transaction():
            if org_id is None:
                org_id = f"org-sandbox-{store.serial():08d}"
            title = name if name is not None else _title(org_id)
            store.add_org(org_id, name=title, plan=plan)
            for user in admins:
                self.add_member(org_id, user, admin=True)
            for user in members:
                self.add_member(org_id, user)
            return org_id

    def add_member(self, org_id: str, user_id: str, *, admin: bool = False) -> None:
        """Make a user an admin (``admin=True``) or a plain member of an organization."""
        self._store.set_role(org_id, user_id, "admin" if admin else "member")

    def add_project(self, org_id: str, project_id: str | None = None) -> str:
        """Add a project to an organization and return its id (default a new one)."""
        store = self._store
        with store.transaction():
            store.existing_org(org_id)
            if project_id is None:
                project_id = f"sandbox-project-{store.serial():08d}"
            store.add_project(org_id, project_id)
            return project_id

    def remove_project(self, org_id: str, project_id: str) -> None:
        """Take a project out of its organization; keys scoped to it stop working (401)."""
        self._store.remove_project(org_id, project_id)

    def issue_personal_key(self, user_id: str, name: str) -> str:
        """Create a personal key for a user, as if in the Console, and return its token."""
        store = self._store
        with store.transaction():
            store.existing_user(user_id)
            _key, token = store.create_key("personal", name, user_id, None, user_id)
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
        store = self._store
        with store.transaction():
            org = store.existing_org(org_id)
            if project_id is not None and project_id not in org.projects:
                raise KeyError(f"no project {project_id!r} in {org_id!r}")
            if created_by is None:
                admins = [user for user, role in org.roles.items() if role == "admin"]
                if not admins:
                    raise ValueError(f"{org_id!r} has no admin; pass created_by=")
                created_by = admins[0]
            store.existing_user(created_by)
            kind: KeyKindName = "project" if project_id is not None else "org"
            _key, token = store.create_key(kind, name, org_id, project_id, created_by)
            return token

    def revoke(self, key_id: int) -> None:
        """Revoke a key from Python (as an admin would in the Console)."""
        store = self._store
        with store.transaction():
            store.revoke_key(self._record(key_id))

    def advance_clock(self, seconds: float) -> datetime.datetime:
        """Move the world's clock forward ``seconds`` and return the new time.

        The clock must be one that can be moved (``FakeClock``, ``OffsetClock``); others
        raise ``TypeError``.
        """
        clock = self._store.clock
        if not isinstance(clock, MovableClock):
            raise TypeError(f"the world's clock ({clock!r}) cannot be moved; use OffsetClock")
        clock.advance(seconds)
        return clock.now()

    # -- inspection ------------------------------------------------------------------------

    def key(self, key_id: int) -> KeyInfo:
        """The key with this id, revoked or not; KeyError if there is none."""
        with self._store.transaction():
            return _info(self._record(key_id))

    def key_for_token(self, token: str) -> KeyInfo | None:
        """The key a token belongs to (revoked or not), or None."""
        with self._store.transaction():
            key = self._store.key_for_token(token)
            return _info(key) if key is not None else None

    def personal_keys(self, user_id: str, *, include_revoked: bool = False) -> list[KeyInfo]:
        """A user's personal keys, oldest first (revoked ones too, if asked)."""
        store = self._store
        with store.transaction():
            store.existing_user(user_id)
            return self._keys_of(user_id, personal=True, include_revoked=include_revoked)

    def org_keys(self, org_id: str, *, include_revoked: bool = False) -> list[KeyInfo]:
        """An organization's keys, project-scoped ones included, oldest first."""
        store = self._store
        with store.transaction():
            store.existing_org(org_id)
            return self._keys_of(org_id, personal=False, include_revoked=include_revoked)

    def _keys_of(self, owner: str, *, personal: bool, include_revoked: bool) -> list[KeyInfo]:
        store = self._store
        with store.transaction():
            if include_revoked:
                records = store.all_keys(owner, personal=personal)
            else:
                records = store.live_keys(owner, personal=personal)
            return [_info(key) for key in records]

    def _record(self, key_id: int) -> KeyRecord:
        key = self._store.key(key_id)
        if key is None:
            raise KeyError(f"no key {key_id}")
        return key


def _title(org_id: str) -> str:
    """An organization's default name, from its id (``org-acme-1``: ``Acme 1``)."""
    return org_id.removeprefix("org-").replace("-", " ").title()


def _info(key: KeyRecord) -> KeyInfo:
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
