"""One description per API operation: what to send and how to read the answer.

These are pure values shared by the sync and async clients; the clients only perform them.
Building one validates its input, so bad input fails before anything is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import _parsing, _validation
from ._constants import DELIVERED_KEYS_REMEMBERED, ORPHAN_CLOCK_SKEW, ORPHAN_SERVER_SLACK
from ._exceptions import InvalidInputError
from ._models import APIKey, AuthDetails, Organization, OrgKey, PersonalKey, ProjectKey
from ._secret import Secret

T_co = TypeVar("T_co", covariant=True)  # pragma: no mutate (variance is for type checkers only)


@dataclass(frozen=True, slots=True)
class OrphanSearch:
    """How to look for a key whose create may have happened: list, then match by name."""

    listing: Operation[Sequence[APIKey]]
    key_name: str
    revoke_hint: str


@dataclass(frozen=True, slots=True)
class Operation(Generic[T_co]):
    """An API call: method, path, JSON body, and the parser of a successful answer."""

    operation_id: str
    method: str
    path: str
    parse: Callable[[Any], T_co]
    json: dict[str, Any] | None = None
    orphan_search: OrphanSearch | None = None
    credential: Secret | None = None
    """The key to call with instead of the client's (a rotation verifying its new key)."""


def list_personal_keys() -> Operation[list[PersonalKey]]:
    """``listApiKeys``."""
    return Operation(
        "listApiKeys",
        "GET",
        "/api_keys",
        _parsing.guarded(_parsing.personal_key_list, "listApiKeys"),
    )


def create_personal_key(name: object, project_id: object = None) -> Operation[PersonalKey]:
    """``createApiKey``; ``project_id`` must be None (a personal key has no project).

    The body is written here rather than by the generated ``ApiKeyCreateRequest``, whose
    package takes ~30 ms to import, before the first byte is sent (``neon-keys exec`` waits
    on it); ``tests/test_request_bodies.py`` holds the two to the same output.
    """
    key_name = _validation.key_name(name)
    if project_id is not None:
        raise InvalidInputError(
            "project_id",
            "a personal key cannot be scoped to a project; create an organization key "
            "with a project_id instead (neon.org(ORG_ID).keys.create(name, project_id=...))",
        )
    return Operation(
        "createApiKey",
        "POST",
        "/api_keys",
        _parsing.guarded(_parsing.personal_key_created, "createApiKey"),
        json={"key_name": key_name},
        orphan_search=OrphanSearch(
            list_personal_keys(), key_name, "neon-keys revoke ID, or personal_keys.revoke(ID)"
        ),
    )


def revoke_personal_key(key_id: object) -> Operation[PersonalKey]:
    """``revokeApiKey``."""
    checked = _validation.key_id(key_id)
    return Operation(
        "revokeApiKey",
        "DELETE",
        f"/api_keys/{checked}",
        _parsing.guarded(_parsing.personal_key_revoked, "revokeApiKey"),
    )


def list_org_keys(org_id: str) -> Operation[list[OrgKey | ProjectKey]]:
    """``listOrgApiKeys``; ``org_id`` was validated when the ``Org`` was made."""
    return Operation(
        "listOrgApiKeys",
        "GET",
        f"/organizations/{org_id}/api_keys",
        _parsing.guarded(lambda data: _parsing.org_key_list(data, org_id), "listOrgApiKeys"),
    )


def create_org_key(
    org_id: str, name: object, project_id: object | None
) -> Operation[OrgKey | ProjectKey]:
    """``createOrgApiKey``; with ``project_id``, a project-scoped key (body: as above)."""
    key_name = _validation.key_name(name)
    body: dict[str, Any] = {"key_name": key_name}
    if project_id is not None:
        body["project_id"] = _validation.resource_id("project_id", project_id)
    return Operation(
        "createOrgApiKey",
        "POST",
        f"/organizations/{org_id}/api_keys",
        _parsing.guarded(lambda data: _parsing.org_key_created(data, org_id), "createOrgApiKey"),
        json=body,
        orphan_search=OrphanSearch(
            list_org_keys(org_id),
            key_name,
            f"neon-keys revoke ID --org {org_id}, or org({org_id!r}).keys.revoke(ID)",
        ),
    )


def revoke_org_key(org_id: str, key_id: object) -> Operation[OrgKey | ProjectKey]:
    """``revokeOrgApiKey``."""
    checked = _validation.key_id(key_id)
    return Operation(
        "revokeOrgApiKey",
        "DELETE",
        f"/organizations/{org_id}/api_keys/{checked}",
        _parsing.guarded(lambda data: _parsing.org_key_revoked(data, org_id), "revokeOrgApiKey"),
    )


def get_auth_details(credential: Secret | None = None) -> Operation[AuthDetails]:
    """``getAuthDetails``; with ``credential``, asked with that key instead of the client's."""
    return Operation(
        "getAuthDetails",
        "GET",
        "/auth",
        _parsing.guarded(_parsing.auth_details, "getAuthDetails"),
        credential=credential,
    )


def list_organizations() -> Operation[list[Organization]]:
    """``getCurrentUserOrganizations``."""
    return Operation(
        "getCurrentUserOrganizations",
        "GET",
        "/users/me/organizations",
        _parsing.guarded(_parsing.organizations, "getCurrentUserOrganizations"),
    )


class DeliveredKeys:
    """Ids of the keys a client created and returned, the most recent ones; thread-safe.

    Their secrets were delivered, so the orphan search never names them. Only keys made
    within the search's window could be mistaken for a lost one, so a bounded memory of
    the latest ``DELIVERED_KEYS_REMEMBERED`` is plenty.
    """

    def __init__(self, size: int = DELIVERED_KEYS_REMEMBERED) -> None:
        self.size = size
        self._ids: dict[int, None] = {}  # insertion-ordered: the oldest id comes first
        self._lock = threading.Lock()

    def add(self, key_id: int) -> None:
        """Remember ``key_id``, forgetting the oldest id beyond ``size``."""
        with self._lock:
            self._ids[key_id] = None
            while len(self._ids) > self.size:
                del self._ids[next(iter(self._ids))]

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)


def search_start(*, server_now: float | None, local_now: float, elapsed: float) -> float:
    """The POSIX time, on Neon's clock, from which a key counts as made by a lost create.

    Args:
        server_now: Neon's clock when it answered the listing (its ``Date``), or None.
        local_now: this machine's clock (``time.time()``), standing in without a ``Date``.
        elapsed: seconds since the create left, measured here.

    The moment the create left is ``now - elapsed``, less ``ORPHAN_SERVER_SLACK`` on
    Neon's clock or ``ORPHAN_CLOCK_SKEW`` on the local one (see both).
    """
    if server_now is None:
        return local_now - elapsed - ORPHAN_CLOCK_SKEW
    return server_now - elapsed - ORPHAN_SERVER_SLACK


def candidates_of(
    search: OrphanSearch,
    keys: Sequence[APIKey],
    since: float,
    delivered: DeliveredKeys | None = None,
) -> list[APIKey]:
    """Keys named ``search.key_name`` created at or after ``since`` (a POSIX time).

    A key without ``created_at`` counts (it cannot be ruled out); one in ``delivered``
    does not (its secret reached the caller).
    """
    return [
        key
        for key in keys
        if key.name == search.key_name
        and (key.created_at is None or key.created_at.timestamp() >= since)
        and (delivered is None or key.id not in delivered)
    ]


def owning_organization(
    details: AuthDetails, organizations: Sequence[Organization]
) -> Organization | None:
    """The organization an organization or project-scoped key belongs to, from the answer
    of ``getCurrentUserOrganizations`` called with that key; None if it does not say.

    Neon answers the one organization that owns such a key; the one whose id is the
    key's ``account_id`` is taken, else the only one answered.
    """
    for organization in organizations:
        if organization.id == details.account_id:
            return organization
    return organizations[0] if len(organizations) == 1 else None
