"""The result objects: immutable, slotted, and safe to print."""

from __future__ import annotations

import datetime
import enum
import ipaddress
from dataclasses import dataclass, field

from ._lease_names import LeaseName
from ._secret import Secret

__all__ = [
    "APIKey",
    "AuthDetails",
    "Creator",
    "IPAddress",
    "KeyKind",
    "OrgKey",
    "Organization",
    "PersonalKey",
    "ProjectKey",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
"""An address a key was last used from."""


class KeyKind(enum.StrEnum):
    """What an API key can reach."""

    PERSONAL = "personal"
    """A user's own key: acts as that user in every organization the user belongs to."""
    ORG = "org"
    """An organization key: acts on the whole organization."""
    PROJECT = "project"
    """An organization key scoped to one project, with member-level access to it only."""


@dataclass(frozen=True, slots=True)
class Creator:
    """The user who created a key. ``name`` and ``image`` are None when Neon did not say.

    Attributes:
        id: the user's id (``user_...`` or a UUID).
        name: the user's name, or None.
        image: the URL of the user's avatar, or None.
    """

    id: str
    name: str | None = None
    image: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class APIKey:
    """What every kind of API key has.

    ``created_at``/``created_by`` are None when the response omitted them (Neon's revoke
    responses do); ``last_used_at`` is None and ``last_used_from`` empty for a key never used.
    ``secret`` is set only on the object returned by a create: Neon shows it once.
    ``expires_at`` and ``base_name`` are read from the name (see ``LeaseName``).

    Attributes:
        id: the key's id.
        name: its name, 1 to 64 characters.
        created_at: when it was created (UTC), or None when Neon did not say.
        created_by: who created it, or None when Neon did not say.
        last_used_at: when it was last used (UTC), or None if never.
        last_used_from: the addresses of its last uses; empty if never used.
        revoked: whether it is revoked.
        secret: the token, masked, on the object a create returns; None everywhere else.
    """

    id: int
    name: str
    created_at: datetime.datetime | None
    created_by: Creator | None
    last_used_at: datetime.datetime | None = None
    last_used_from: tuple[IPAddress, ...] = ()
    revoked: bool = False
    secret: Secret | None = field(default=None, compare=False)

    @property
    def kind(self) -> KeyKind:
        """The kind of key; each subclass has its own."""
        raise NotImplementedError

    @property
    def expires_at(self) -> datetime.datetime | None:
        """When this lease expires (UTC, from its name); None for an ordinary key."""
        lease = LeaseName.parse(self.name)
        return lease.expires_at if lease is not None else None

    @property
    def base_name(self) -> str:
        """The name a lease was given before its expiry was added; an ordinary key's name."""
        lease = LeaseName.parse(self.name)
        return lease.base_name if lease is not None else self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalKey(APIKey):
    """A personal API key."""

    @property
    def kind(self) -> KeyKind:
        """Always ``KeyKind.PERSONAL``."""
        return KeyKind.PERSONAL


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgKey(APIKey):
    """An organization API key: it acts on the whole organization.

    Attributes:
        org_id: the organization it belongs to.
    """

    org_id: str

    @property
    def kind(self) -> KeyKind:
        """Always ``KeyKind.ORG``."""
        return KeyKind.ORG


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectKey(APIKey):
    """An organization API key scoped to a single project, with member-level access to it.

    Attributes:
        org_id: the organization it belongs to.
        project_id: the one project it can reach.
    """

    org_id: str
    project_id: str

    @property
    def kind(self) -> KeyKind:
        """Always ``KeyKind.PROJECT``."""
        return KeyKind.PROJECT


_AUTH_METHOD_KINDS = {"api_key_user": KeyKind.PERSONAL, "api_key_org": KeyKind.ORG}


@dataclass(frozen=True, slots=True)
class Organization:
    """An organization: one the calling user belongs to, or the one that owns the calling key.

    ``allow_hipaa_projects`` and ``require_mfa`` (whether members must use multi-factor
    authentication) are None when Neon's answer leaves them out.
    """

    id: str
    name: str
    handle: str
    plan: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    managed_by: str
    allow_hipaa_projects: bool | None = None
    require_mfa: bool | None = None


@dataclass(frozen=True, slots=True)
class AuthDetails:
    """Who is calling: the answer of ``GET /auth``.

    ``auth_method`` is Neon's word for the credential (``api_key_user``, ``api_key_org``,
    ...); ``account_id`` is the user id for a personal key, the organization id for an
    organization or project-scoped key. ``organization`` is the organization that owns
    an organization or project-scoped key, as Neon names it (its id and name among
    others); None for a personal key, or when Neon does not say (a service older than
    its 2026 API description answers that call 403).
    """

    account_id: str
    auth_method: str
    auth_data: str | None = None
    organization: Organization | None = None

    @property
    def key_kind(self) -> KeyKind | None:
        """``PERSONAL`` or ``ORG`` for an API key (project-scoped keys say ``ORG``), or None."""
        return _AUTH_METHOD_KINDS.get(self.auth_method)
