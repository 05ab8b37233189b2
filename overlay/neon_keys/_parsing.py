"""Turning Neon's JSON into result objects, through the generated models.

The generated models are built from ``openapi.yaml`` as relaxed by ``tools/relax_spec.py``
(the one mechanism for the live service's deviations from its spec: see
docs/spec-deviations.md). This module converts them into the public objects
and normalises what the generated types leave loose: ``created_by`` is a bare user id in
create and revoke responses but an object in listings, ``last_used_from_addr`` may be empty
or hold several comma-joined addresses, and an absent optional field is ``UNSET``.
Any body that still does not fit raises ``_ShapeError``; the caller turns it into an
``UnexpectedResponseError`` that names the operation.

Listings are the one place where speed matters (an account may hold thousands of keys), so
``_listed`` reads a listed key straight from the decoded JSON when it has the shape Neon
sends, giving the very values the generated model would; anything else takes the generated
model's path, which decides what is an error and how it is worded. The generated package
is imported on first use only (attrs and thirteen model modules take ~30 ms to import),
so ``import neon_keys`` and a listing never pay for it.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._models import (
    APIKey,
    AuthDetails,
    Creator,
    IPAddress,
    Organization,
    OrgKey,
    PersonalKey,
    ProjectKey,
)
from ._secret import Secret

if TYPE_CHECKING:
    from neon_api_keys_client.models.api_key_create_response import ApiKeyCreateResponse
    from neon_api_keys_client.models.api_key_revoke_response import ApiKeyRevokeResponse
    from neon_api_keys_client.models.api_keys_list_response_item import (
        ApiKeysListResponseItem,
    )
    from neon_api_keys_client.models.org_api_key_create_response import (
        OrgApiKeyCreateResponse,
    )
    from neon_api_keys_client.models.org_api_key_revoke_response import (
        OrgApiKeyRevokeResponse,
    )
    from neon_api_keys_client.models.org_api_keys_list_response_item import (
        OrgApiKeysListResponseItem,
    )

    _GeneratedKey = (
        ApiKeysListResponseItem
        | ApiKeyCreateResponse
        | ApiKeyRevokeResponse
        | OrgApiKeysListResponseItem
        | OrgApiKeyCreateResponse
        | OrgApiKeyRevokeResponse
    )

T = TypeVar("T")


class _ShapeError(Exception):
    """A response body that does not fit the expected shape (message says where)."""


def guarded(parse: Callable[[Any], T], what: str) -> Callable[[Any], T]:
    """Wrap ``parse`` so that any failure on malformed input becomes ``_ShapeError``."""

    def parse_or_fail(data: Any) -> T:
        try:
            return parse(data)
        except _ShapeError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise _ShapeError(f"{what}: {type(err).__name__}: {_describe(err)}") from None

    return parse_or_fail


def _describe(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"missing field {err.args[0]!r}" if err.args else "missing field"
    text = str(err)
    return text if len(text) <= 120 else text[:117] + "..."


# -- scalar fields -------------------------------------------------------------------------


def _int_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _ShapeError(f"key id must be an integer, got {type(value).__name__}")
    return value


def _str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _ShapeError(f"{field} must be a string, got {type(value).__name__}")
    return value


def _aware(value: object, field: str) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        raise _ShapeError(f"{field} must be a date-time, got {value!r:.40}")
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _optional_time(value: object) -> datetime.datetime | None:
    # The generated parser hands back the raw value when a nullable date-time is unreadable;
    # a key's last use is informative only, so an unreadable one reads as "unknown".
    if isinstance(value, datetime.datetime):
        return _aware(value, "last_used_at")
    return None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@functools.lru_cache(maxsize=4096)
def parse_addresses(text: str) -> tuple[IPAddress, ...]:
    """Parse ``last_used_from_addr``: empty, one address, or several joined by commas.

    Entries that are not IP addresses are skipped rather than failing the whole key.
    """
    if "," not in text:  # the usual case: no address, or one
        address = parse_address(text.strip()) if text else None
        return () if address is None else (address,)
    found: list[IPAddress] = []
    for part in text.split(","):
        address = parse_address(part.strip())
        if address is not None:
            found.append(address)
    return tuple(found)


_AF_INET, _AF_INET6 = socket.AF_INET, socket.AF_INET6
_inet_pton, _inet_ntop = socket.inet_pton, socket.inet_ntop
_IPv4Address, _IPv6Address = ipaddress.IPv4Address, ipaddress.IPv6Address


def parse_address(text: str) -> IPAddress | None:
    """``ipaddress.ip_address(text)``, or None where that raises; several times faster.

    ``ipaddress`` parses in Python (4-6 us an address). The C functions ``inet_pton`` and
    ``inet_ntop`` read and print an address in well under one; when printing the parsed
    address gives back ``text`` exactly, ``text`` is an address in its usual written form,
    which ``ipaddress`` reads as the same address. Any other text (upper case, leading
    zeros, a zone such as ``%eth0``, garbage) is left to ``ipaddress`` itself.
    """
    try:
        if ":" in text:
            packed = _inet_pton(_AF_INET6, text)
            if _inet_ntop(_AF_INET6, packed) == text:
                return _IPv6Address(packed)
        else:
            packed = _inet_pton(_AF_INET, text)
            if _inet_ntop(_AF_INET, packed) == text:
                return _IPv4Address(packed)
    except (OSError, ValueError):  # not an address as the C library reads them
        pass
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _creator(value: object) -> Creator | None:
    from neon_api_keys_client.types import Unset  # noqa: PLC0415  (imported on first use)

    if value is None or isinstance(value, Unset):
        return None
    if isinstance(value, str):
        return _creator_of(value, None, None)
    if isinstance(value, Mapping):
        fields = (value.get("id"), value.get("name"), value.get("image"))
    else:  # the generated ApiKeyCreatorData
        fields = (value.id, value.name, value.image)  # type: ignore[attr-defined]
    return _creator_of(_str(fields[0], "created_by.id"), *map(_optional_str, fields[1:]))


@functools.lru_cache(maxsize=1024)
def _creator_of(user_id: str, name: str | None, image: str | None) -> Creator:
    # A listing repeats the same few creators on thousands of keys: share the objects.
    return Creator(id=user_id, name=name, image=image)


def _object(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _ShapeError(f"expected a JSON object, got {type(data).__name__}")
    return data


def _list(data: object) -> list[Any]:
    if not isinstance(data, list):
        raise _ShapeError(f"expected a JSON array, got {type(data).__name__}")
    return data


_fromisoformat = datetime.datetime.fromisoformat

K = TypeVar("K", bound=APIKey)

# A frozen dataclass's __init__ sets each field through object.__setattr__; the slots' own
# setters do it in well under half the time, which counts when a listing builds thousands
# of keys. The fields set below must be every field of APIKey (a test checks the list).
KEY_FIELDS = (
    "id",
    "name",
    "created_at",
    "created_by",
    "last_used_at",
    "last_used_from",
    "revoked",
    "secret",
)


def _setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The setter of slot ``name`` of ``cls`` (it bypasses the frozen ``__setattr__``)."""
    setter: Callable[[Any, Any], None] = getattr(cls, name).__set__
    return setter


_new = object.__new__
(
    _set_id,
    _set_name,
    _set_created_at,
    _set_created_by,
    _set_last_used_at,
    _set_last_used_from,
    _set_revoked,
    _set_secret,
) = (_setter(APIKey, name) for name in KEY_FIELDS)
_set_org_id = _setter(OrgKey, "org_id")
_set_project_org_id = _setter(ProjectKey, "org_id")
_set_project_id = _setter(ProjectKey, "project_id")


def _listed(cls: type[K], item: object) -> K | None:
    """A listed key of class ``cls`` when ``item`` has the shape Neon sends, else None.

    Gives exactly the key ``_common`` makes from the generated list models: the same
    ``fromisoformat``, the same shared ``Creator``, the same addresses, ``revoked`` False
    and no secret (the caller sets ``org_id`` and ``project_id``). An item this does not
    recognise (a missing or mistyped field, an unreadable ``created_at``) returns None and
    goes through the generated model, which raises the error it deserves.
    """
    if type(item) is not dict:
        return None
    key_id, name, created = item.get("id"), item.get("name"), item.get("created_at")
    if type(key_id) is not int or type(name) is not str or type(created) is not str:
        return None
    by = item.get("created_by")
    if type(by) is dict:
        user_id, user_name, image = by.get("id"), by.get("name"), by.get("image")
        if type(user_id) is not str:
            return None
        # _optional_str, inline: this runs once for every key of a listing.
        creator = _creator_of(
            user_id,
            user_name if type(user_name) is str and user_name else None,
            image if type(image) is str and image else None,
        )
    elif type(by) is str:
        creator = _creator_of(by, None, None)
    else:
        return None
    try:
        created_at = _fromisoformat(created)
    except ValueError:
        return None
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=datetime.UTC)
    used = item.get("last_used_at")
    addresses = item.get("last_used_from_addr")
    key: K = _new(cls)
    _set_id(key, key_id)
    _set_name(key, name)
    _set_created_at(key, created_at)
    _set_created_by(key, creator)
    _set_last_used_at(key, _time_or_none(used) if type(used) is str else None)
    _set_last_used_from(key, parse_addresses(addresses) if type(addresses) is str else ())
    _set_revoked(key, False)
    _set_secret(key, None)
    return key


def _time_or_none(text: str) -> datetime.datetime | None:
    # As in the generated model and _optional_time: an unreadable last use reads as unknown.
    try:
        moment = _fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _listing_item(data: object) -> dict[str, Any]:
    item = _object(data)
    # Listings carry created_by as an object; tolerate a bare id as in other responses.
    if isinstance(item.get("created_by"), str):
        item = {**item, "created_by": {"id": item["created_by"]}}
    return item


# -- keys ----------------------------------------------------------------------------------


def _common(model: _GeneratedKey) -> dict[str, Any]:
    """The fields every key kind shares, read from any generated key model."""
    from neon_api_keys_client.types import Unset  # noqa: PLC0415  (imported on first use)

    last_used_at = getattr(model, "last_used_at", None)
    addresses = getattr(model, "last_used_from_addr", "")
    created_at = model.created_at
    key: object = getattr(model, "key", None)
    return {
        "id": _int_id(model.id),
        "name": _str(model.name, "name"),
        "created_at": None if isinstance(created_at, Unset) else _aware(created_at, "created_at"),
        "created_by": _creator(model.created_by),
        "last_used_at": _optional_time(last_used_at),
        "last_used_from": parse_addresses(addresses) if isinstance(addresses, str) else (),
        "revoked": getattr(model, "revoked", False) is True,
        "secret": Secret(_str(key, "key")) if key is not None else None,
    }


def _org_key(model: _GeneratedKey, org_id: str) -> OrgKey | ProjectKey:
    fields = _common(model)
    project_id = getattr(model, "project_id", None)
    if isinstance(project_id, str) and project_id:
        return ProjectKey(org_id=org_id, project_id=project_id, **fields)
    return OrgKey(org_id=org_id, **fields)


def personal_key_list(data: object) -> list[PersonalKey]:
    """Parse the answer of ``listApiKeys``; consumes ``data`` (see ``_release``)."""
    keys = []
    for item in _release(_list(data)):
        key = _listed(PersonalKey, item)
        keys.append(_personal_key_listed(item) if key is None else key)
    return keys


def _release(items: list[Any]) -> Iterator[Any]:
    """The items of a decoded listing, each dropped from the list once handed out.

    The decoded JSON is a temporary of the call, and a listing's thousands of dicts are
    garbage as soon as their keys are made: released one by one, they do not add to the
    peak memory, and the garbage collector stops walking them.
    """
    for index, item in enumerate(items):
        items[index] = None
        yield item


def _personal_key_listed(item: object) -> PersonalKey:
    """One listed personal key, through the generated model (the reference path)."""
    from neon_api_keys_client.models.api_keys_list_response_item import (  # noqa: PLC0415
        ApiKeysListResponseItem,
    )

    return PersonalKey(**_common(ApiKeysListResponseItem.from_dict(_listing_item(item))))


def personal_key_created(data: object) -> PersonalKey:
    """Parse the answer of ``createApiKey`` (the only place the secret appears)."""
    from neon_api_keys_client.models.api_key_create_response import (  # noqa: PLC0415
        ApiKeyCreateResponse,
    )

    return PersonalKey(**_common(ApiKeyCreateResponse.from_dict(_object(data))))


def personal_key_revoked(data: object) -> PersonalKey:
    """Parse the answer of ``revokeApiKey``."""
    from neon_api_keys_client.models.api_key_revoke_response import (  # noqa: PLC0415
        ApiKeyRevokeResponse,
    )

    return PersonalKey(**_common(ApiKeyRevokeResponse.from_dict(_object(data))))


def org_key_list(data: object, org_id: str) -> list[OrgKey | ProjectKey]:
    """Parse the answer of ``listOrgApiKeys``; consumes ``data`` (see ``_release``)."""
    keys: list[OrgKey | ProjectKey] = []
    for item in _release(_list(data)):
        project_id = item.get("project_id") if type(item) is dict else None
        key: OrgKey | ProjectKey | None
        if type(project_id) is str and project_id:
            key = _listed(ProjectKey, item)
            if key is not None:
                _set_project_org_id(key, org_id)
                _set_project_id(key, project_id)
        else:
            key = _listed(OrgKey, item)
            if key is not None:
                _set_org_id(key, org_id)
        keys.append(_org_key_listed(item, org_id) if key is None else key)
    return keys


def _org_key_listed(item: object, org_id: str) -> OrgKey | ProjectKey:
    """One listed organization key, through the generated model (the reference path)."""
    from neon_api_keys_client.models.org_api_keys_list_response_item import (  # noqa: PLC0415
        OrgApiKeysListResponseItem,
    )

    return _org_key(OrgApiKeysListResponseItem.from_dict(_listing_item(item)), org_id)


def org_key_created(data: object, org_id: str) -> OrgKey | ProjectKey:
    """Parse the answer of ``createOrgApiKey``."""
    from neon_api_keys_client.models.org_api_key_create_response import (  # noqa: PLC0415
        OrgApiKeyCreateResponse,
    )

    return _org_key(OrgApiKeyCreateResponse.from_dict(_object(data)), org_id)


def org_key_revoked(data: object, org_id: str) -> OrgKey | ProjectKey:
    """Parse the answer of ``revokeOrgApiKey``."""
    from neon_api_keys_client.models.org_api_key_revoke_response import (  # noqa: PLC0415
        OrgApiKeyRevokeResponse,
    )

    return _org_key(OrgApiKeyRevokeResponse.from_dict(_object(data)), org_id)


# -- the caller ----------------------------------------------------------------------------


def auth_details(data: object) -> AuthDetails:
    """Parse the answer of ``getAuthDetails``."""
    from neon_api_keys_client.models.auth_details_response import (  # noqa: PLC0415
        AuthDetailsResponse,
    )

    model = AuthDetailsResponse.from_dict(_object(data))
    auth_data = model.auth_data
    return AuthDetails(
        account_id=_str(model.account_id, "account_id"),
        auth_method=_str(model.auth_method, "auth_method"),
        auth_data=auth_data if isinstance(auth_data, str) else None,
    )


def organizations(data: object) -> list[Organization]:
    """Parse the answer of ``getCurrentUserOrganizations``."""
    from neon_api_keys_client.models.organizations_response import (  # noqa: PLC0415
        OrganizationsResponse,
    )

    model = OrganizationsResponse.from_dict(_object(data))
    found = []
    for org in model.organizations:
        hipaa, mfa = org.allow_hipaa_projects, org.require_mfa
        found.append(
            Organization(
                id=_str(org.id, "id"),
                name=_str(org.name, "name"),
                handle=_str(org.handle, "handle"),
                plan=_str(org.plan, "plan"),
                created_at=_aware(org.created_at, "created_at"),
                updated_at=_aware(org.updated_at, "updated_at"),
                managed_by=_str(org.managed_by, "managed_by"),
                allow_hipaa_projects=hipaa if isinstance(hipaa, bool) else None,
                require_mfa=mfa if isinstance(mfa, bool) else None,
            )
        )
    return found


def error_fields(data: object) -> tuple[str, str, str | None]:
    """``(code, message, request_id)`` of a ``GeneralError`` body; raises ``_ShapeError``."""
    from neon_api_keys_client.models.general_error import GeneralError  # noqa: PLC0415

    model = GeneralError.from_dict(_object(data))
    code = model.code if isinstance(model.code, str) else ""
    message = model.message if isinstance(model.message, str) else ""
    request_id = model.request_id if isinstance(model.request_id, str) else None
    return code, message, request_id


__all__ = [
    "APIKey",
    "auth_details",
    "error_fields",
    "guarded",
    "org_key_created",
    "org_key_list",
    "org_key_revoked",
    "organizations",
    "parse_address",
    "parse_addresses",
    "personal_key_created",
    "personal_key_list",
    "personal_key_revoked",
]
