"""The eight operations: input checks, permissions, state changes and response shapes.

Each handler takes the world's ``Store`` and an authenticated ``Call`` and returns a
``Reply`` or raises ``Refused`` (which the app turns into a ``GeneralError``). Handlers run
inside one transaction of the store and never wait on anything.

Permissions (the emulator's rules; where Neon does not document a case, the choice is
marked *decided*):

=====================================  ==========  =================  ==============
operation                              personal    org key            project key
=====================================  ==========  =================  ==============
list/create/revoke personal keys       own keys    403 (*decided*)    403 (*decided*)
list/create/revoke an org's keys       admin only  its own org only   403
getAuthDetails                         yes         yes                yes
getCurrentUserOrganizations            its orgs    the owning org     the owning org
=====================================  ==========  =================  ==============

- A personal key acts as its user: a plain member of the organization gets 403 on all
  three org-key operations (listing included: *decided*, the list is part of managing keys).
- An organization the caller cannot see (it does not exist, the user is not in it, or the
  key belongs to another organization) is 404, so the answer does not reveal which
  organizations exist (*decided*; 403 would be as plausible).
- A project-scoped key cannot manage organization keys (Neon's documentation), so creating
  and revoking are 403, and listing is 403 too (*decided*).
- A personal key id that is not the caller's, or an org key id of another organization, is
  404, like an unknown or revoked id.
- ``project_id`` on create must match ``^[a-z0-9-]{1,60}$`` (else 400) and name a project
  of that organization (else 404). An org key may create project keys of its organization.
- The creator (``created_by``) of a key created with an organization key is the user who
  created that organization key (*decided*).
- ``getCurrentUserOrganizations`` with an organization or project-scoped key (which belongs
  to no user) answers the single organization that owns the key, as Neon's 2026 API
  description documents; with a personal key, the organizations the user belongs to.

Input checks answer 400: a body that is not a JSON object, a ``key_name`` that is
missing, not a string, empty or longer than 64 characters, an ``org_id`` or ``project_id``
breaking ``^[a-z0-9-]{1,60}$``, a ``key_id`` that is not a 64-bit integer. They come after
authentication and, for org routes, after the permission checks (*decided*).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._constants import ID_PATTERN, KEY_NAME_MAX_LENGTH
from ._store import ID_FORMAT, KeyKindName, KeyRecord, OrgRecord, Store

__all__ = ["HANDLERS", "Call", "Refused", "Reply"]

_KEY_ID = re.compile(r"-?[0-9]{1,19}")
_INT64_MAX = 2**63 - 1


class Refused(Exception):
    """The request fails with ``status`` and a ``GeneralError`` body. Strictly private."""

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request, as the handlers need it. Strictly private."""

    caller: KeyRecord
    params: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: its JSON payload and whether it changed the world."""

    payload: Any
    changed: bool = False
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Store, Call], Reply]


# -- personal keys -----------------------------------------------------------------------


def list_api_keys(store: Store, call: Call) -> Reply:
    """GET /api_keys: the caller's live personal keys, oldest first."""
    user_id = _personal_caller(call)
    return Reply([_listed(store, key) for key in store.live_keys(user_id, personal=True)])


def create_api_key(store: Store, call: Call) -> Reply:
    """POST /api_keys: a new personal key for the caller, with its token."""
    user_id = _personal_caller(call)
    body = _json_object(call.body)
    name = _key_name(body)
    key, token = store.create_key("personal", name, user_id, None, user_id)
    return Reply(_created(store, key, token), changed=True)


def revoke_api_key(store: Store, call: Call) -> Reply:
    """DELETE /api_keys/{key_id}: revoke one of the caller's personal keys."""
    user_id = _personal_caller(call)
    key_id = _key_id(call.params["key_id"])
    key = store.live_key(key_id)
    if key is None or not key.personal or key.owner != user_id:
        raise Refused(404, f"API key {key_id} not found")
    store.revoke_key(key)
    return Reply(_revoked(store, key), changed=True)


# -- organization keys ---------------------------------------------------------------------


def list_org_api_keys(store: Store, call: Call) -> Reply:
    """GET /organizations/{org_id}/api_keys: the organization's live keys, oldest first."""
    org = _managed_org(store, call)
    return Reply([_listed(store, key) for key in store.live_keys(org.id, personal=False)])


def create_org_api_key(store: Store, call: Call) -> Reply:
    """POST /organizations/{org_id}/api_keys: a new org key, or project key with project_id."""
    org = _managed_org(store, call)
    body = _json_object(call.body)
    name = _key_name(body)
    project_id = body.get("project_id")
    if project_id is not None:
        if not isinstance(project_id, str) or ID_FORMAT.fullmatch(project_id) is None:
            raise Refused(400, f"project_id must match {ID_PATTERN}")
        if project_id not in org.projects:
            raise Refused(404, f"project {project_id} not found in organization {org.id}")
    creator = call.caller.owner if call.caller.personal else call.caller.created_by
    kind: KeyKindName = "project" if project_id is not None else "org"
    key, token = store.create_key(kind, name, org.id, project_id, creator)
    return Reply(_created(store, key, token), changed=True)


def revoke_org_api_key(store: Store, call: Call) -> Reply:
    """DELETE /organizations/{org_id}/api_keys/{key_id}: revoke one of the org's keys."""
    org = _managed_org(store, call)
    key_id = _key_id(call.params["key_id"])
    key = store.live_key(key_id)
    if key is None or key.personal or key.owner != org.id:
        raise Refused(404, f"API key {key_id} not found")
    store.revoke_key(key)
    return Reply(_revoked(store, key), changed=True)


# -- who is calling --------------------------------------------------------------------------


def get_auth_details(store: Store, call: Call) -> Reply:
    """GET /auth: the caller's account and kind of credential."""
    caller = call.caller
    method = "api_key_user" if caller.personal else "api_key_org"
    return Reply({"account_id": caller.owner, "auth_method": method})


def get_current_user_organizations(store: Store, call: Call) -> Reply:
    """GET /users/me/organizations: the caller's organizations.

    A personal key answers the organizations its user belongs to; an organization or
    project-scoped key, which belongs to no user, the one organization that owns it.
    """
    caller = call.caller
    if caller.personal:
        orgs = store.orgs_of(caller.owner)
    else:
        owner = store.org(caller.owner)
        orgs = [owner] if owner is not None else []
    return Reply({"organizations": [_organization(org) for org in orgs]})


HANDLERS: dict[str, Handler] = {
    "listApiKeys": list_api_keys,
    "createApiKey": create_api_key,
    "revokeApiKey": revoke_api_key,
    "listOrgApiKeys": list_org_api_keys,
    "createOrgApiKey": create_org_api_key,
    "revokeOrgApiKey": revoke_org_api_key,
    "getAuthDetails": get_auth_details,
    "getCurrentUserOrganizations": get_current_user_organizations,
}
"""The handler of each operationId."""


# -- permissions -------------------------------------------------------------------------------


def _personal_caller(call: Call) -> str:
    if not call.caller.personal:
        raise Refused(403, "this operation needs a personal API key, not an organization API key")
    return call.caller.owner


def _managed_org(store: Store, call: Call) -> OrgRecord:
    org_id = call.params["org_id"]
    if ID_FORMAT.fullmatch(org_id) is None:
        raise Refused(400, f"org_id must match {ID_PATTERN}")
    caller = call.caller
    org = store.org(org_id)
    if caller.personal:
        role = org.roles.get(caller.owner) if org is not None else None
        if org is None or role is None:
            raise Refused(404, f"organization {org_id} not found")
        if role != "admin":
            raise Refused(403, "only organization admins can manage organization API keys")
        return org
    if org is None or caller.owner != org_id:
        raise Refused(404, f"organization {org_id} not found")
    if caller.kind == "project":
        raise Refused(403, "project-scoped API keys cannot manage organization API keys")
    return org


# -- input -------------------------------------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise Refused(400, "request body is required")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused(400, "request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, "request body must be a JSON object")
    return value


def _key_name(body: dict[str, Any]) -> str:
    if "key_name" not in body:
        raise Refused(400, "key_name is required")
    name = body["key_name"]
    if not isinstance(name, str):
        raise Refused(400, "key_name must be a string")
    if not name:
        raise Refused(400, "key_name must not be empty")
    if len(name) > KEY_NAME_MAX_LENGTH:
        raise Refused(400, f"key_name must be at most {KEY_NAME_MAX_LENGTH} characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(400, "key_name must be valid Unicode text") from None
    return name


def _key_id(raw: str) -> int:
    if _KEY_ID.fullmatch(raw) is None or not -_INT64_MAX - 1 <= int(raw) <= _INT64_MAX:
        raise Refused(400, "key_id must be an integer")
    return int(raw)


# -- response shapes -------------------------------------------------------------------------


def _listed(store: Store, key: KeyRecord) -> dict[str, Any]:
    user = store.user(key.created_by)
    item: dict[str, Any] = {
        "id": key.id,
        "name": key.name,
        "created_at": key.created_at,
        "created_by": {
            "id": key.created_by,
            "name": user.name if user is not None else "",
            "image": user.image if user is not None else "",
        },
        "last_used_at": key.last_used_at,
        "last_used_from_addr": key.last_used_from_addr,
    }
    if key.project_id is not None:
        item["project_id"] = key.project_id
    return item


def _created(store: Store, key: KeyRecord, token: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": key.id,
        "key": token,
        "name": key.name,
        "created_at": key.created_at,
    }
    if not store.legacy_shapes:
        body["created_by"] = key.created_by
    if key.project_id is not None:
        body["project_id"] = key.project_id
    return body


def _revoked(store: Store, key: KeyRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"id": key.id, "name": key.name}
    if not store.legacy_shapes:
        body["created_at"] = key.created_at
        body["created_by"] = key.created_by
    body["last_used_at"] = key.last_used_at
    body["last_used_from_addr"] = key.last_used_from_addr
    body["revoked"] = True
    if key.project_id is not None:
        body["project_id"] = key.project_id
    return body


def _organization(org: OrgRecord) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "handle": org.handle,
        "plan": org.plan,
        "created_at": org.created_at,
        "updated_at": org.updated_at,
        "managed_by": "console",
        "allow_hipaa_projects": False,
    }
