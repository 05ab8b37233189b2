"""Reading Neon's answers: one checked reader per answer, one unchecked construction per type.

Each reader takes the decoded JSON of one answer and checks it field by field against the
facts of the answer's generated model (``neon_api_keys_client.models``, generated from
``openapi.yaml`` as relaxed by ``tools/relax_spec.py``, the one mechanism for the live
service's deviations: see docs/spec-deviations.md): every required field is present and
every field read has the type the model declares. A failed check raises ``ShapeError``
naming the field and the JSON type it held, never the value, which may echo a credential.
The checked values then go into the frozen result object through ``construct``, which sets
its slots without checking them again, as openai-python's ``construct`` trusts data that
was validated already. ``tests/test_parsing.py`` reads each generated model's facts
(which fields are required, of which type) and holds its reader to them.

Beyond the relaxations, which are facts of the generated models, the readers tolerate on
purpose what the live service sends and the generated types leave loose:

- ``created_by`` is a bare user id in create and revoke answers and an object
  ``{id, name, image}`` in listings; either is read in any answer, and a ``name`` or
  ``image`` that is empty, absent or not a string reads as None;
- ``last_used_at`` and ``last_used_from_addr`` are informative only: absent, null or
  unreadable, they read as "never used" (None, no address); entries of the address list
  that are not IP addresses are skipped;
- ``project_id`` null or empty reads as "not scoped to a project";
- ``auth_data``, ``allow_hipaa_projects``, ``require_mfa`` and the fields of an error body
  read as absent when they have another type.

A date-time without an offset is taken as UTC; one that cannot be expressed in UTC (the
year 1 east of Greenwich, say) is not a date-time the library can work with.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

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

__all__ = [
    "KEY_FIELDS",
    "ShapeError",
    "auth_details",
    "construct",
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

_T = TypeVar("_T")
_K = TypeVar("_K", bound=APIKey)


class ShapeError(Exception):
    """An answer that does not have the shape the spec gives it.

    The message is ``where: what`` (``[3].created_at: expected a date-time string, got an
    integer``); it names JSON types, never values.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)

    def inside(self, outer: str) -> ShapeError:
        """The same error, located inside ``outer`` (a field name or an ``[index]``)."""
        if not self.where:
            return ShapeError(outer, self.problem)
        joint = "" if self.where.startswith("[") else "."
        return ShapeError(f"{outer}{joint}{self.where}", self.problem)


def guarded(parse: Callable[[Any], _T], what: str) -> Callable[[Any], _T]:
    """``parse``, with the shape errors it raises prefixed by ``what`` (the operation)."""

    def parse_or_fail(data: Any) -> _T:
        try:
            return parse(data)
        except ShapeError as err:
            raise ShapeError(what, str(err)) from None

    return parse_or_fail


class _Absent:
    """A field missing from its object (as opposed to one that is null)."""

    __slots__ = ()


_ABSENT = _Absent()

_JSON_KINDS = {
    type(None): "null",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
}


def _wrong(where: str, expected: str, value: object) -> ShapeError:
    """``where`` should hold ``expected`` but holds ``value`` (named by its JSON type)."""
    got = "nothing" if value is _ABSENT else _JSON_KINDS.get(type(value), type(value).__name__)
    return ShapeError(where, f"expected {expected}, got {got}")


# -- checked readers of single values ---------------------------------------------------------


def _object(value: object, where: str = "") -> dict[str, Any]:
    if type(value) is not dict:
        raise _wrong(where, "an object", value)
    return value


def _array(value: object, where: str = "") -> list[Any]:
    if type(value) is not list:
        raise _wrong(where, "an array", value)
    return value


def _key_id(body: dict[str, Any]) -> int:
    value = body.get("id", _ABSENT)
    if type(value) is not int:  # a bool is not a key id
        raise _wrong("id", "an integer", value)
    return value


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field, _ABSENT)
    if type(value) is not str:
        raise _wrong(field, "a string", value)
    return value


def _optional_text(value: object) -> str | None:
    return value if type(value) is str and value else None


_fromisoformat = datetime.datetime.fromisoformat
_UTC = datetime.UTC


def _time(text: str) -> datetime.datetime | None:
    """``text`` read as an ISO 8601 date-time (UTC if it names no offset), or None."""
    try:
        moment = _fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_UTC)
    if moment.tzinfo is not _UTC and moment.year in (1, 9999):
        # Only near the ends of the calendar can the conversion to UTC overflow.
        try:
            moment.astimezone(_UTC)
        except OverflowError:
            return None
    return moment


def _moment(body: dict[str, Any], field: str) -> datetime.datetime:
    value = body.get(field, _ABSENT)
    if type(value) is not str:
        raise _wrong(field, "a date-time string", value)
    moment = _time(value)
    if moment is None:
        raise _not_a_moment(field)
    return moment


def _not_a_moment(field: str) -> ShapeError:
    return ShapeError(field, "expected a date-time string, got a string that is not one")


def _last_used_at(body: dict[str, Any]) -> datetime.datetime | None:
    value = body.get("last_used_at")
    return _time(value) if type(value) is str else None


def _last_used_from(body: dict[str, Any]) -> tuple[IPAddress, ...]:
    value = body.get("last_used_from_addr")
    return parse_addresses(value) if type(value) is str else ()


def _creator(value: object) -> Creator:
    """``created_by``: a user id, or an object whose ``id`` is one."""
    if type(value) is str:
        return _creator_of(value, None, None)
    if type(value) is not dict:
        raise _wrong("created_by", "an object or a user id string", value)
    user_id = value.get("id", _ABSENT)
    if type(user_id) is not str:
        raise _wrong("created_by.id", "a string", user_id)
    return _creator_of(
        user_id, _optional_text(value.get("name")), _optional_text(value.get("image"))
    )


@functools.lru_cache(maxsize=1024)  # pragma: no mutate  (a cache's size changes no result)
def _creator_of(user_id: str, name: str | None, image: str | None) -> Creator:
    # A listing repeats the same few creators on thousands of keys: share the objects.
    return Creator(id=user_id, name=name, image=image)


def _optional_creator(body: dict[str, Any]) -> Creator | None:
    value = body.get("created_by")
    return None if value is None else _creator(value)


def _project_id(body: dict[str, Any]) -> str | None:
    value = body.get("project_id")
    if value is None or type(value) is str:
        return value or None
    raise _wrong("project_id", "a string", value)


@functools.lru_cache(maxsize=4096)  # pragma: no mutate  (a cache's size changes no result)
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
    """``ipaddress.ip_address(text)``, or None where that raises.

    The C functions ``inet_pton`` and ``inet_ntop`` read and print an address; when
    printing the parsed address gives back ``text`` exactly, ``text`` is an address in its
    usual written form, which ``ipaddress`` reads as the same address. Any other text (upper
    case, leading zeros, a zone such as ``%eth0``, garbage) is left to ``ipaddress`` itself.
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


# -- the unchecked construction --------------------------------------------------------------

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
"""The fields of ``APIKey``, in order: ``construct`` sets each (a test checks the list)."""


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


def construct(  # noqa: PLR0917  (the listing's loop passes them positionally)
    cls: type[_K],
    key_id: int,
    name: str,
    created_at: datetime.datetime | None,
    created_by: Creator | None,
    last_used_at: datetime.datetime | None,
    last_used_from: tuple[IPAddress, ...],
    revoked: bool,
    secret: Secret | None,
) -> _K:
    """A key of class ``cls`` from values already checked; nothing is checked again.

    Equal to ``cls(id=key_id, ...)``, without the frozen dataclass's ``__init__``, which
    sets each field through ``object.__setattr__``. Organization and project keys get
    their ``org_id`` (and ``project_id``) from ``_in_org`` afterwards.
    """
    key: _K = _new(cls)
    _set_id(key, key_id)
    _set_name(key, name)
    _set_created_at(key, created_at)
    _set_created_by(key, created_by)
    _set_last_used_at(key, last_used_at)
    _set_last_used_from(key, last_used_from)
    _set_revoked(key, revoked)
    _set_secret(key, secret)
    return key


# -- the answers about keys ------------------------------------------------------------------


def _listed(cls: type[_K], item: object) -> _K:
    """A key of a listing: ``id``, ``name``, ``created_at`` and ``created_by`` required.

    The same checks as the readers below, written out: a listing has thousands of keys.
    """
    if type(item) is not dict:
        raise _wrong("", "an object", item)
    key_id, name, created = item.get("id"), item.get("name"), item.get("created_at")
    if type(key_id) is not int:  # a bool is not a key id
        raise _wrong("id", "an integer", item.get("id", _ABSENT))
    if type(name) is not str:
        raise _wrong("name", "a string", item.get("name", _ABSENT))
    if type(created) is not str:
        raise _wrong("created_at", "a date-time string", item.get("created_at", _ABSENT))
    try:
        created_at = _fromisoformat(created)
    except ValueError:
        raise _not_a_moment("created_at") from None
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=_UTC)
    elif created_at.tzinfo is not _UTC and _time(created) is None:
        raise _not_a_moment("created_at")
    by = item.get("created_by")
    if type(by) is dict and type(user_id := by.get("id")) is str:
        user_name, image = by.get("name"), by.get("image")
        creator = _creator_of(
            user_id,
            user_name if type(user_name) is str and user_name else None,
            image if type(image) is str and image else None,
        )
    else:
        creator = _creator(item.get("created_by", _ABSENT))
    used = item.get("last_used_at")
    addresses = item.get("last_used_from_addr")
    # construct(), inline: a call less for each key of a listing.
    key: _K = _new(cls)
    _set_id(key, key_id)
    _set_name(key, name)
    _set_created_at(key, created_at)
    _set_created_by(key, creator)
    _set_last_used_at(key, _time(used) if type(used) is str else None)
    _set_last_used_from(key, parse_addresses(addresses) if type(addresses) is str else ())
    _set_revoked(key, False)
    _set_secret(key, None)
    return key


def _created(cls: type[_K], body: dict[str, Any]) -> _K:
    """The key of a create answer: ``id``, ``key``, ``name``, ``created_at`` required."""
    token = body.get("key", _ABSENT)
    if type(token) is not str:
        raise _wrong("key", "the new key's token, a string", token)
    if not token:
        raise ShapeError("key", "expected the new key's token, got an empty string")
    return construct(
        cls,
        key_id=_key_id(body),
        name=_text(body, "name"),
        created_at=_moment(body, "created_at"),
        created_by=_optional_creator(body),
        last_used_at=None,
        last_used_from=(),
        revoked=False,
        secret=Secret(token),
    )


def _revoked(cls: type[_K], body: dict[str, Any]) -> _K:
    """The key of a revoke answer: ``id``, ``name``, ``revoked`` required."""
    revoked = body.get("revoked", _ABSENT)
    if type(revoked) is not bool:
        raise _wrong("revoked", "a boolean", revoked)
    return construct(
        cls,
        key_id=_key_id(body),
        name=_text(body, "name"),
        created_at=_moment(body, "created_at") if "created_at" in body else None,
        created_by=_optional_creator(body),
        last_used_at=_last_used_at(body),
        last_used_from=_last_used_from(body),
        revoked=revoked,
        secret=None,
    )


class _KeyReader(Protocol):
    """Reads a key of class ``cls`` from an answer's JSON object."""

    def __call__(self, cls: type[_K], body: dict[str, Any], /) -> _K: ...


def _org_key(read: _KeyReader, body: dict[str, Any], org_id: str) -> OrgKey | ProjectKey:
    """An organization key read by ``read``: a ``ProjectKey`` when it names a project."""
    project_id = _project_id(body)
    if project_id is None:
        key = read(OrgKey, body)
        _set_org_id(key, org_id)
        return key
    scoped = read(ProjectKey, body)
    _set_project_org_id(scoped, org_id)
    _set_project_id(scoped, project_id)
    return scoped


def personal_key_list(data: object) -> list[PersonalKey]:
    """Read the answer of ``listApiKeys``; consumes ``data`` (see ``_released``)."""
    items, keys = _array(data), []
    try:
        for item in _released(items):
            keys.append(_listed(PersonalKey, item))
    except ShapeError as err:
        raise err.inside(f"[{len(keys)}]") from None
    return keys


def org_key_list(data: object, org_id: str) -> list[OrgKey | ProjectKey]:
    """Read the answer of ``listOrgApiKeys``; consumes ``data`` (see ``_released``)."""
    items, keys = _array(data), []
    try:
        for item in _released(items):
            keys.append(_org_key(_listed, _object(item), org_id))
    except ShapeError as err:
        raise err.inside(f"[{len(keys)}]") from None
    return keys


def _released(items: list[Any]) -> Iterator[Any]:
    """The items of a decoded listing, each dropped from the list once handed out.

    The decoded JSON is a temporary of the call, and a listing's thousands of dicts are
    garbage as soon as their keys are made: released one by one, they do not add to the
    peak memory, and the garbage collector stops walking them.
    """
    for index, item in enumerate(items):
        items[index] = None
        yield item


def personal_key_created(data: object) -> PersonalKey:
    """Read the answer of ``createApiKey`` (the only place the secret appears)."""
    return _created(PersonalKey, _object(data))


def personal_key_revoked(data: object) -> PersonalKey:
    """Read the answer of ``revokeApiKey``."""
    return _revoked(PersonalKey, _object(data))


def org_key_created(data: object, org_id: str) -> OrgKey | ProjectKey:
    """Read the answer of ``createOrgApiKey``."""
    return _org_key(_created, _object(data), org_id)


def org_key_revoked(data: object, org_id: str) -> OrgKey | ProjectKey:
    """Read the answer of ``revokeOrgApiKey``."""
    return _org_key(_revoked, _object(data), org_id)


# -- the caller ------------------------------------------------------------------------------


def auth_details(data: object) -> AuthDetails:
    """Read the answer of ``getAuthDetails``."""
    body = _object(data)
    auth_data = body.get("auth_data")
    return AuthDetails(
        account_id=_text(body, "account_id"),
        auth_method=_text(body, "auth_method"),
        auth_data=auth_data if type(auth_data) is str else None,
    )


def organizations(data: object) -> list[Organization]:
    """Read the answer of ``getCurrentUserOrganizations``."""
    listed = _array(_object(data).get("organizations", _ABSENT), "organizations")
    found = []
    for index, item in enumerate(listed):
        try:
            found.append(_organization(_object(item)))
        except ShapeError as err:
            raise err.inside(f"organizations[{index}]") from None
    return found


def _organization(body: dict[str, Any]) -> Organization:
    hipaa, mfa = body.get("allow_hipaa_projects"), body.get("require_mfa")
    return Organization(
        id=_text(body, "id"),
        name=_text(body, "name"),
        handle=_text(body, "handle"),
        plan=_text(body, "plan"),
        created_at=_moment(body, "created_at"),
        updated_at=_moment(body, "updated_at"),
        managed_by=_text(body, "managed_by"),
        allow_hipaa_projects=hipaa if type(hipaa) is bool else None,
        require_mfa=mfa if type(mfa) is bool else None,
    )


def error_fields(data: object) -> tuple[str, str, str | None]:
    """``(code, message, request_id)`` of an error body (``GeneralError``).

    Every field is optional: a missing or mistyped ``code`` or ``message`` reads as empty,
    a missing, empty or mistyped ``request_id`` as None. A body that is not a JSON object
    raises ``ShapeError``.
    """
    body = _object(data)
    code, message, request_id = body.get("code"), body.get("message"), body.get("request_id")
    return (
        code if type(code) is str else "",
        message if type(message) is str else "",
        request_id if type(request_id) is str and request_id else None,
    )
