"""What a policy file says, once read and checked: immutable values, no I/O.

``load`` (``_load``) builds them; ``plan`` reads them. Every duration is a ``timedelta``
measured on Neon's clock; every line number is the line of the policy file where the value
was written, for messages that point back at it.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .._findings import DEFAULT_MIN_AGE, IPNetwork
from .._models import APIKey, KeyKind, OrgKey, ProjectKey

__all__ = [
    "DEFAULT_MIN_AGE",
    "ExpiredLeases",
    "IPNetwork",
    "KeyDeclaration",
    "PersonalKeys",
    "Policy",
    "Rules",
    "Scopes",
    "Target",
    "Undeclared",
]


class PersonalKeys(enum.StrEnum):
    """``rules.personal_keys``: whether personal keys are allowed at all."""

    ALLOW = "allow"
    FORBID = "forbid"
    """Every personal key in a managed scope is a finding."""


class Undeclared(enum.StrEnum):
    """``rules.undeclared``: what becomes of keys in a managed scope that no entry declares."""

    REPORT = "report"
    """A finding, nothing more."""
    REVOKE = "revoke"
    """Revoked by ``apply`` (never the key making the call, never a live lease)."""


class ExpiredLeases(enum.StrEnum):
    """``rules.expired_leases``: what becomes of leases past their expiry."""

    REPORT = "report"
    REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a declared key lives: ``personal``, ``org:ORG_ID`` or ``project:ORG_ID/PROJECT_ID``.

    Attributes:
        kind: the kind of key it is.
        org_id: its organization (None for a personal key).
        project_id: its project (a project-scoped key only).
    """

    kind: KeyKind
    org_id: str | None = None
    project_id: str | None = None

    def __str__(self) -> str:
        if self.kind is KeyKind.PERSONAL:
            return "personal"
        if self.kind is KeyKind.ORG:
            return f"org:{self.org_id}"
        return f"project:{self.org_id}/{self.project_id}"

    def holds(self, key: APIKey) -> bool:
        """Whether ``key`` is of this kind, organization and project."""
        if key.kind is not self.kind:
            return False
        if isinstance(key, OrgKey | ProjectKey) and key.org_id != self.org_id:
            return False
        return not isinstance(key, ProjectKey) or key.project_id == self.project_id


@dataclass(frozen=True, slots=True)
class KeyDeclaration:
    """One ``[[keys]]`` entry: a key that must exist, and how it is kept fresh.

    Attributes:
        index: its place among the entries, from 0.
        line: the line of its ``[[keys]]`` header.
        name: the key's name (a lease's base name when ``ttl`` is set).
        target: where it lives.
        rotate_every: replace it once it is this old (None: never for age).
        grace: keep the replaced key this long (None: revoke it once the replacement is
            delivered and verified).
        quiet: revoke the replaced key sooner once it has not been used for this long.
        ttl: the key is a lease living this long (None: an ordinary key).
        deliver: commands that read the secret on stdin, as ``--deliver-cmd``.
        save: the file the secret is saved to (mode 0600), resolved against the policy
            file's folder; None for none.
    """

    index: int
    line: int
    name: str
    target: Target
    rotate_every: datetime.timedelta | None = None
    grace: datetime.timedelta | None = None
    quiet: datetime.timedelta | None = None
    ttl: datetime.timedelta | None = None
    deliver: tuple[str, ...] = ()
    save: Path | None = None
    scope_line: int = 0
    """The line of its ``scope`` (0: not known)."""

    @property
    def is_lease(self) -> bool:
        """Whether the key is a lease (``ttl`` is set)."""
        return self.ttl is not None

    @property
    def label(self) -> str:
        """``"ci" (personal)``: the entry in messages."""
        return f'"{self.name}" ({self.target})'

    def holds(self, key: APIKey) -> bool:
        """Whether ``key`` is a generation of this declared key (its name, kind and place)."""
        if not self.target.holds(key):
            return False
        if self.is_lease:
            return key.expires_at is not None and key.base_name == self.name
        return key.expires_at is None and key.name == self.name


@dataclass(frozen=True, slots=True)
class Rules:
    """The ``[rules]`` table: what is a finding, and what is revoked.

    Attributes:
        max_age: keys older than this are findings (None: no limit).
        max_unused: keys last used longer ago than this are findings (None: no limit).
        min_age: a key never used is a finding once it is this old.
        allowed_networks: a key last used from an address outside every one of these
            is a finding (None: any address).
        personal_keys: whether personal keys are allowed.
        undeclared: what becomes of keys no entry declares.
        expired_leases: what becomes of leases past their expiry.
        lines: the line of each rule the file sets, by name.
    """

    max_age: datetime.timedelta | None = None
    max_unused: datetime.timedelta | None = None
    min_age: datetime.timedelta = DEFAULT_MIN_AGE
    allowed_networks: tuple[IPNetwork, ...] | None = None
    personal_keys: PersonalKeys = PersonalKeys.ALLOW
    undeclared: Undeclared = Undeclared.REPORT
    expired_leases: ExpiredLeases = ExpiredLeases.REPORT
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Scopes:
    """The ``[scopes]`` table: which keys the policy manages.

    Attributes:
        personal: the caller's personal keys.
        orgs: these organizations' keys (project-scoped ones included).
        all_orgs: every organization the caller belongs to (``orgs = "all"``).
    """

    personal: bool = False
    orgs: tuple[str, ...] = ()
    all_orgs: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy file, read and checked (``load``).

    Attributes:
        path: the file, as it was named.
        version: the format's version (1).
        rules: what is a finding, and what is revoked.
        scopes: which keys are managed.
        keys: the declared keys, in the file's order.
    """

    path: str
    version: int
    rules: Rules
    scopes: Scopes
    keys: tuple[KeyDeclaration, ...]
    line: int = 1
    """The line of ``[scopes]`` (where findings about the whole file point)."""
