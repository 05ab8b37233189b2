"""The readers of Neon's answers follow the generated models, the reference of the spec's facts.

Each generated response model (``neon_api_keys_client.models``, generated from ``openapi.yaml``
as relaxed by ``tools/relax_spec.py``) says which fields an answer must have and of which type.
These tests read those facts from the generated code itself and hold each reader of
``neon_keys._parsing`` to them: a missing required field, or a field of another JSON type,
is a ``ShapeError`` naming the field, except where the module docstring lists a deliberate
tolerance (``TOLERATED`` below mirrors that list); on well-formed answers a reader gives the
values the generated model's own ``from_dict`` gives.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import ipaddress
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from neon_api_keys_client import models
from neon_api_keys_client.types import Unset
from neon_keys import _parsing
from neon_keys._models import (
    APIKey,
    AuthDetails,
    Creator,
    IPAddress,
    Organization,
    OrgKey,
    PersonalKey,
    ProjectKey,
)
from neon_keys._parsing import ShapeError
from neon_keys._secret import Secret

ORG_ID = "org-cool-breeze-12345678"
PROJECT_ID = "summer-haze-17190561"
UTC = datetime.UTC

# -- the facts of the generated models ---------------------------------------------------------

_KINDS_OF_ANNOTATION = {
    "int": "integer",
    "str": "string",
    "bool": "boolean",
    "datetime.datetime": "date-time",
    "None": "null",
    "ApiKeyCreatorData": "object",
    "list[Organization]": "array",
}


@dataclass(frozen=True)
class Fact:
    """What a generated model says of one field: required or not, and its JSON kinds."""

    required: bool
    kinds: frozenset[str]


def facts(model: type) -> dict[str, Fact]:
    """The fields of a generated model, read from its attrs definition."""
    found = {}
    for field in attrs.fields(model):
        if field.name == "additional_properties":
            continue
        parts = [part.strip() for part in str(field.type).split("|")]
        kinds = frozenset(_KINDS_OF_ANNOTATION[part] for part in parts if part != "Unset")
        found[field.name] = Fact(required=field.default is attrs.NOTHING, kinds=kinds)
    return found


# -- one reader per answer, with a well-formed sample --------------------------------------------

LISTED = {
    "id": 165432,
    "name": "ci",
    "created_at": "2022-11-15T20:13:35Z",
    "created_by": {"id": "629982cc", "name": "John Smith", "image": "http://link.to.image"},
    "last_used_at": "2022-11-15T20:22:51Z",
    "last_used_from_addr": "192.0.2.255,2001:db8::1",
}
CREATED = {
    "id": 7,
    "key": "napi_" + "k" * 60,
    "name": "ci",
    "created_at": "2024-05-01T10:00:00Z",
    "created_by": "user_01h84bfr2npa81rn8h8jzz8mx4",
}
REVOKED = {
    "id": 7,
    "name": "ci",
    "revoked": True,
    "created_at": "2024-05-01T10:00:00Z",
    "created_by": "user_01h84bfr2npa81rn8h8jzz8mx4",
    "last_used_at": None,
    "last_used_from_addr": "",
}
ORGANIZATION = {
    "id": ORG_ID,
    "name": "Cool Breeze",
    "handle": "cool-breeze",
    "plan": "scale",
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-02-01T00:00:00+02:00",
    "managed_by": "console",
    "allow_hipaa_projects": False,
    "require_mfa": True,
}


@dataclass(frozen=True)
class Answer:
    """A generated response model, the reader of that answer, and a well-formed sample."""

    model: type
    read: Callable[[Any], Any]
    sample: dict[str, Any]


ANSWERS = {
    "ApiKeysListResponseItem": Answer(
        models.ApiKeysListResponseItem, lambda b: _parsing.personal_key_list([b])[0], LISTED
    ),
    "OrgApiKeysListResponseItem": Answer(
        models.OrgApiKeysListResponseItem,
        lambda b: _parsing.org_key_list([b], ORG_ID)[0],
        {**LISTED, "project_id": PROJECT_ID},
    ),
    "ApiKeyCreatorData": Answer(
        models.ApiKeyCreatorData,
        lambda b: _parsing.personal_key_list([{**LISTED, "created_by": b}])[0].created_by,
        LISTED["created_by"],
    ),
    "ApiKeyCreateResponse": Answer(
        models.ApiKeyCreateResponse, _parsing.personal_key_created, CREATED
    ),
    "OrgApiKeyCreateResponse": Answer(
        models.OrgApiKeyCreateResponse,
        lambda b: _parsing.org_key_created(b, ORG_ID),
        {**CREATED, "project_id": PROJECT_ID},
    ),
    "ApiKeyRevokeResponse": Answer(
        models.ApiKeyRevokeResponse, _parsing.personal_key_revoked, REVOKED
    ),
    "OrgApiKeyRevokeResponse": Answer(
        models.OrgApiKeyRevokeResponse,
        lambda b: _parsing.org_key_revoked(b, ORG_ID),
        {**REVOKED, "project_id": PROJECT_ID},
    ),
    "AuthDetailsResponse": Answer(
        models.AuthDetailsResponse,
        _parsing.auth_details,
        {"account_id": "user_x", "auth_method": "api_key_user", "auth_data": "d"},
    ),
    "Organization": Answer(
        models.Organization,
        lambda b: _parsing.organizations({"organizations": [b]})[0],
        ORGANIZATION,
    ),
    "OrganizationsResponse": Answer(
        models.OrganizationsResponse, _parsing.organizations, {"organizations": [ORGANIZATION]}
    ),
    "GeneralError": Answer(
        models.GeneralError,
        _parsing.error_fields,
        {"code": "E1", "message": "nope", "request_id": "r-1"},
    ),
}

ANY_KIND = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})
INFORMATIVE = {"last_used_at": ANY_KIND, "last_used_from_addr": ANY_KIND}
A_USER_ID_OR_AN_OBJECT = {"created_by": frozenset({"string", "object", "null"})}
TOLERATED: dict[str, dict[str, frozenset[str]]] = {
    "ApiKeysListResponseItem": {"created_by": frozenset({"string"}), **INFORMATIVE},
    "OrgApiKeysListResponseItem": {
        "created_by": frozenset({"string"}),
        "project_id": frozenset({"null"}),
        **INFORMATIVE,
    },
    "ApiKeyCreatorData": {"name": ANY_KIND, "image": ANY_KIND},
    "ApiKeyCreateResponse": A_USER_ID_OR_AN_OBJECT,
    "OrgApiKeyCreateResponse": {**A_USER_ID_OR_AN_OBJECT, "project_id": frozenset({"null"})},
    "ApiKeyRevokeResponse": {**A_USER_ID_OR_AN_OBJECT, **INFORMATIVE},
    "OrgApiKeyRevokeResponse": {
        **A_USER_ID_OR_AN_OBJECT,
        **INFORMATIVE,
        "project_id": frozenset({"null"}),
    },
    "AuthDetailsResponse": {"auth_data": ANY_KIND},
    "Organization": {"allow_hipaa_projects": ANY_KIND, "require_mfa": ANY_KIND},
    "OrganizationsResponse": {},
    "GeneralError": {"code": ANY_KIND, "message": ANY_KIND, "request_id": ANY_KIND},
}
"""Beyond its declared kinds, what a reader accepts in a field, as ``_parsing`` documents."""

OF_KIND: dict[str, object] = {
    "null": None,
    "boolean": True,
    "integer": 7,
    "number": 1.5,
    "string": "text",
    "array": [],
    "object": {"id": "user_x"},
}
"""A value of each JSON kind (the object is a valid creator, so it tests the kind only)."""

FIELDS = sorted((name, field) for name, answer in ANSWERS.items() for field in facts(answer.model))


def test_every_generated_answer_has_a_reader() -> None:
    """Each response model the generator makes is read by one reader of this table."""
    answers = {
        name for name in models.__all__ if not name.endswith("Request") and name in dir(models)
    }
    assert answers == set(ANSWERS) == set(TOLERATED)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_each_sample_has_the_facts_of_its_model(name: str) -> None:
    """The samples hold every field their model names, so the checks below cover all."""
    answer = ANSWERS[name]
    assert set(facts(answer.model)) == set(answer.sample)
    answer.read(copy.deepcopy(answer.sample))  # and reads without error


@pytest.mark.parametrize(("name", "field"), FIELDS)
def test_a_missing_field_is_named_if_the_spec_requires_it(name: str, field: str) -> None:
    """Without a required field the answer is refused, naming it; without another, it reads."""
    answer = ANSWERS[name]
    body = {k: v for k, v in copy.deepcopy(answer.sample).items() if k != field}
    if facts(answer.model)[field].required:
        with pytest.raises(ShapeError) as caught:
            answer.read(body)
        assert caught.value.where.endswith(field)
        assert caught.value.problem.endswith("got nothing")
    else:
        answer.read(body)


GOT = {
    "null": "got null",
    "boolean": "got a boolean",
    "integer": "got an integer",
    "number": "got a number",
    "string": "got a string",
    "array": "got an array",
    "object": "got an object",
}


@pytest.mark.parametrize(("name", "field"), FIELDS)
def test_a_field_of_another_type_is_named(name: str, field: str) -> None:
    """A field holding a JSON kind its model does not declare is refused, naming the field
    and the kind, unless ``_parsing`` documents a tolerance for it."""
    answer = ANSWERS[name]
    fact = facts(answer.model)
    accepted = fact[field].kinds | TOLERATED[name].get(field, frozenset())
    for kind, value in OF_KIND.items():
        body = {**copy.deepcopy(answer.sample), field: copy.deepcopy(value)}
        if kind in accepted:
            answer.read(body)
            continue
        with pytest.raises(ShapeError) as caught:
            answer.read(body)
        assert caught.value.where.endswith(field), (kind, str(caught.value))
        if kind == "string" and "date-time" in accepted:
            assert caught.value.problem == (
                "expected a date-time string, got a string that is not one"
            )
        else:
            assert caught.value.problem.endswith(GOT[kind]), (kind, str(caught.value))


def test_shape_errors_say_where_and_what() -> None:
    """The message names the place (item index, field) and the JSON kinds, never a value."""
    token = "napi_" + "s" * 60
    cases: list[tuple[Callable[[Any], Any], Any, str]] = [
        (_parsing.personal_key_list, {"id": 1}, "expected an array, got an object"),
        (_parsing.personal_key_list, [LISTED, token], "[1]: expected an object, got a string"),
        (
            _parsing.personal_key_list,
            [{**LISTED, "created_at": token}],
            "[0].created_at: expected a date-time string, got a string that is not one",
        ),
        (
            _parsing.personal_key_list,
            [{**LISTED, "id": True}],
            "[0].id: expected an integer, got a boolean",
        ),
        (
            _parsing.personal_key_list,
            [{**LISTED, "created_by": {"id": 5}}],
            "[0].created_by.id: expected a string, got an integer",
        ),
        (
            _parsing.personal_key_list,
            [{**LISTED, "created_by": [token]}],
            "[0].created_by: expected an object or a user id string, got an array",
        ),
        (
            lambda b: _parsing.org_key_list(b, ORG_ID),
            [LISTED, {**LISTED, "project_id": 5}],
            "[1].project_id: expected a string, got an integer",
        ),
        (
            _parsing.personal_key_created,
            {**CREATED, "key": ""},
            "key: expected the new key's token, got an empty string",
        ),
        (
            _parsing.personal_key_created,
            {**CREATED, "key": None},
            "key: expected the new key's token, a string, got null",
        ),
        (
            _parsing.personal_key_revoked,
            {**REVOKED, "revoked": "yes"},
            "revoked: expected a boolean, got a string",
        ),
        (
            _parsing.organizations,
            {"organizations": [ORGANIZATION, {**ORGANIZATION, "plan": 1.5}]},
            "organizations[1].plan: expected a string, got a number",
        ),
        (_parsing.organizations, {}, "organizations: expected an array, got nothing"),
        (_parsing.auth_details, [token], "expected an object, got an array"),
        (_parsing.error_fields, token, "expected an object, got a string"),
    ]
    for read, body, message in cases:
        with pytest.raises(ShapeError) as caught:
            read(copy.deepcopy(body))
        assert str(caught.value) == message
        assert "sss" not in str(caught.value)


def test_guarded_names_the_operation() -> None:
    """An operation's parser prefixes its shape errors with the operation's id."""
    parse = _parsing.guarded(_parsing.personal_key_list, "listApiKeys")
    with pytest.raises(ShapeError) as caught:
        parse([{**LISTED, "name": None}])
    assert str(caught.value) == "listApiKeys: [0].name: expected a string, got null"
    assert parse([LISTED])[0].id == LISTED["id"]


def test_inside_joins_places() -> None:
    """A place inside another reads as a path: indexes bare, fields after a dot."""
    error = ShapeError("id", "expected an integer, got null")
    assert str(error.inside("[2]")) == "[2].id: expected an integer, got null"
    assert str(error.inside("[2]").inside("organizations")) == (
        "organizations[2].id: expected an integer, got null"
    )
    assert str(ShapeError("", "expected an object, got null").inside("[0]")) == (
        "[0]: expected an object, got null"
    )


# -- values: what each reader gives ------------------------------------------------------------


def test_listed_keys_read_neon_shapes() -> None:
    """A typical listing reads every field, shares one Creator per user, and is consumed."""
    listing = [LISTED, {**LISTED, "id": 165433, "last_used_at": None, "last_used_from_addr": ""}]
    first, second = _parsing.personal_key_list(listing)
    assert listing == [None, None]  # each item released once its key was made
    assert first == PersonalKey(
        id=165432,
        name="ci",
        created_at=datetime.datetime(2022, 11, 15, 20, 13, 35, tzinfo=UTC),
        created_by=Creator("629982cc", "John Smith", "http://link.to.image"),
        last_used_at=datetime.datetime(2022, 11, 15, 20, 22, 51, tzinfo=UTC),
        last_used_from=(
            ipaddress.IPv4Address("192.0.2.255"),
            ipaddress.IPv6Address("2001:db8::1"),
        ),
    )
    assert first.created_by is second.created_by
    assert (second.last_used_at, second.last_used_from, second.revoked) == (None, (), False)
    assert first.secret is None


@pytest.mark.parametrize("project_id", [None, "", PROJECT_ID])
def test_only_a_named_project_makes_a_project_key(project_id: str | None) -> None:
    """A project id that is null or empty gives an OrgKey; a real one, a ProjectKey."""
    body = {**LISTED, "project_id": project_id}
    readers = [
        lambda: _parsing.org_key_list([dict(body)], ORG_ID)[0],
        lambda: _parsing.org_key_created({**CREATED, "project_id": project_id}, ORG_ID),
        lambda: _parsing.org_key_revoked({**REVOKED, "project_id": project_id}, ORG_ID),
    ]
    for read in readers:
        key = read()
        assert key.org_id == ORG_ID
        if project_id:
            assert type(key) is ProjectKey and key.project_id == PROJECT_ID
        else:
            assert type(key) is OrgKey and not hasattr(key, "project_id")


@pytest.mark.parametrize(
    "name",
    [
        "ApiKeysListResponseItem",
        "OrgApiKeysListResponseItem",
        "ApiKeyCreateResponse",
        "OrgApiKeyCreateResponse",
        "ApiKeyRevokeResponse",
        "OrgApiKeyRevokeResponse",
    ],
)
def test_a_boolean_is_never_a_key_id(name: str) -> None:
    """JSON true is refused as a key id by every reader (Python's bool is an int)."""
    answer = ANSWERS[name]
    with pytest.raises(ShapeError) as caught:
        answer.read({**answer.sample, "id": True})
    assert str(caught.value).endswith("id: expected an integer, got a boolean")
    assert answer.read({**answer.sample, "id": 1}).id == 1


def test_created_and_revoked_keys() -> None:
    """A create gives the secret once; a revoke gives the revoked flag and no secret."""
    created = _parsing.personal_key_created(dict(CREATED))
    assert isinstance(created.secret, Secret) and created.secret.reveal() == CREATED["key"]
    assert created.created_by == Creator("user_01h84bfr2npa81rn8h8jzz8mx4")
    assert (created.last_used_at, created.last_used_from, created.revoked) == (None, (), False)
    revoked = _parsing.personal_key_revoked({"id": 7, "name": "ci", "revoked": True})
    assert (revoked.revoked, revoked.secret, revoked.created_at, revoked.created_by) == (
        True,
        None,
        None,
        None,
    )
    not_yet = _parsing.personal_key_revoked({"id": 7, "name": "ci", "revoked": False})
    assert not_yet.revoked is False
    assert _parsing.personal_key_created({**CREATED, "created_by": None}).created_by is None


def test_creators_of_every_shape() -> None:
    """created_by as an id or an object; an empty or odd name and image read as None."""
    read = ANSWERS["ApiKeyCreatorData"].read
    assert read("user_x") == Creator("user_x")
    assert read({"id": "user_x", "name": "", "image": 5}) == Creator("user_x")
    assert read({"id": "user_x", "name": "Ada", "image": "https://i/a.png"}) == Creator(
        "user_x", "Ada", "https://i/a.png"
    )
    created = _parsing.personal_key_created({**CREATED, "created_by": {"id": "u", "name": "A"}})
    assert created.created_by == Creator("u", "A")
    blank = {"id": "u", "name": "", "image": ""}
    assert _parsing.personal_key_created({**CREATED, "created_by": blank}).created_by == (
        Creator("u")
    )
    listed = {**LISTED, "created_by": {"id": 5}}  # not the usual shape: read the long way
    with pytest.raises(ShapeError, match=r"created_by\.id: expected a string, got an integer"):
        _parsing.personal_key_list([listed])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (
            "2024-05-01T12:00:00+02:00",
            datetime.datetime(
                2024, 5, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
        ),
        ("0001-01-01T00:00:00-01:00", datetime.datetime(1, 1, 1, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00+01:00", None),
        ("9999-12-31T23:59:59-01:00", None),
        ("9999-12-31T23:59:59+01:00", datetime.datetime(9999, 12, 31, 22, 59, 59, tzinfo=UTC)),
        ("yesterday", None),
    ],
)
def test_date_times(text: str, expected: datetime.datetime | None) -> None:
    """ISO 8601 times are read with their offset (UTC without one); a time that cannot be
    put in UTC is no date-time: refused as created_at, unknown as last_used_at."""
    body = {**LISTED, "created_at": text, "last_used_at": text}
    if expected is None:
        with pytest.raises(ShapeError, match=r"created_at: expected a date-time string"):
            _parsing.personal_key_list([dict(body)])
        key = _parsing.personal_key_list([{**body, "created_at": LISTED["created_at"]}])[0]
        assert key.last_used_at is None
        with pytest.raises(ShapeError, match=r"created_at"):
            _parsing.personal_key_created({**CREATED, "created_at": text})
        return
    key = _parsing.personal_key_list([dict(body)])[0]
    assert key.created_at == expected and key.last_used_at == expected
    assert key.created_at is not None and key.created_at.utcoffset() is not None
    assert key.created_at.astimezone(UTC) == expected
    created = _parsing.personal_key_created({**CREATED, "created_at": text})
    assert created.created_at == expected


def test_caller_and_errors() -> None:
    """whoami, organizations and error bodies read their fields, optional ones as absent."""
    assert _parsing.auth_details({"account_id": "a", "auth_method": "m", "auth_data": 5}) == (
        AuthDetails("a", "m", None)
    )
    assert _parsing.auth_details({"account_id": "a", "auth_method": "m", "auth_data": "d"}) == (
        AuthDetails("a", "m", "d")
    )
    (org,) = _parsing.organizations({"organizations": [ORGANIZATION]})
    assert org == Organization(
        id=ORG_ID,
        name="Cool Breeze",
        handle="cool-breeze",
        plan="scale",
        created_at=datetime.datetime(2024, 1, 1, tzinfo=UTC),
        updated_at=datetime.datetime(2024, 1, 31, 22, tzinfo=UTC),
        managed_by="console",
        allow_hipaa_projects=False,
        require_mfa=True,
    )
    odd = {**ORGANIZATION, "allow_hipaa_projects": 1, "require_mfa": "yes"}
    (read,) = _parsing.organizations({"organizations": [odd]})
    assert (read.allow_hipaa_projects, read.require_mfa) == (None, None)
    assert _parsing.error_fields({"code": "E", "message": "m", "request_id": "r"}) == (
        "E",
        "m",
        "r",
    )
    assert _parsing.error_fields({"code": 5, "message": None, "request_id": ""}) == ("", "", None)
    assert _parsing.error_fields({}) == ("", "", None)


# -- construct ---------------------------------------------------------------------------------


def test_construct_sets_every_field() -> None:
    """KEY_FIELDS lists every field of each key class, and construct equals the constructor."""
    fields = _parsing.KEY_FIELDS
    assert tuple(f.name for f in dataclasses.fields(PersonalKey)) == fields
    assert tuple(f.name for f in dataclasses.fields(OrgKey)) == (*fields, "org_id")
    assert tuple(f.name for f in dataclasses.fields(ProjectKey)) == (
        *fields,
        "org_id",
        "project_id",
    )
    moment = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    secret = Secret("napi_" + "c" * 60)
    values = (1, "n", moment, Creator("u"), moment, (ipaddress.IPv4Address("192.0.2.1"),))
    built = _parsing.construct(PersonalKey, *values, True, secret)
    assert built == PersonalKey(**dict(zip(fields, (*values, True, secret), strict=True)))
    assert [getattr(built, name) for name in fields] == [*values, True, secret]
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "changed"  # type: ignore[misc]


# -- well-formed answers: the reader and the generated model agree --------------------------------

user_ids = st.sampled_from(["user_01h84bfr2npa81rn8h8jzz8mx4", "629982cc-de05-43db"])
moments = st.datetimes(
    min_value=datetime.datetime(1970, 1, 2),
    max_value=datetime.datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [None, UTC, datetime.timezone(datetime.timedelta(hours=2)), datetime.timezone.min]
    ),
)
times = moments.map(lambda m: m.isoformat().replace("+00:00", "Z"))
address_texts = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.sampled_from(["", "not-an-address", "192.0.2.1%eth0", "FE80::1"]),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": st.integers(min_value=1, max_value=2**63 - 1),
    "name": st.text(max_size=64),
    "key": st.from_regex(r"napi_[a-z0-9]{60}", fullmatch=True),
    "created_at": times,
    "last_used_at": st.none() | times,
    "last_used_from_addr": st.lists(address_texts, max_size=3).map(",".join),
    "project_id": st.sampled_from([PROJECT_ID, ""]),
    "revoked": st.booleans(),
}
CREATORS = st.fixed_dictionaries(
    {"id": user_ids},
    optional={"name": st.sampled_from(["", "Ada"]), "image": st.sampled_from(["", "http://i"])},
)


def well_formed(answer: Answer) -> st.SearchStrategy[dict[str, Any]]:
    """Answers with every required field of the model and any of its optional ones."""
    fact = facts(answer.model)
    strategies = {
        name: CREATORS
        if "object" in fact[name].kinds
        else user_ids
        if name == "created_by"
        else VALUES[name]
        for name in fact
    }
    return st.fixed_dictionaries(
        {name: s for name, s in strategies.items() if fact[name].required},
        optional={name: s for name, s in strategies.items() if not fact[name].required},
    )


def _aware(moment: object) -> datetime.datetime | None:
    if not isinstance(moment, datetime.datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _addresses(text: object) -> tuple[IPAddress, ...]:
    found = []
    for part in text.split(",") if isinstance(text, str) and text else ():
        try:
            found.append(ipaddress.ip_address(part.strip()))
        except ValueError:
            continue
    return tuple(found)


def reference_key(model: type, body: dict[str, Any]) -> APIKey:
    """The key the generated model's from_dict gives, converted plainly to the public type."""
    parsed = model.from_dict(copy.deepcopy(body))  # type: ignore[attr-defined]
    by = getattr(parsed, "created_by", None)
    creator = (
        None
        if by is None or isinstance(by, Unset)
        else Creator(by)
        if isinstance(by, str)
        else Creator(by.id, by.name or None, by.image or None)
    )
    key = getattr(parsed, "key", None)
    fields = {
        "id": parsed.id,
        "name": parsed.name,
        "created_at": _aware(parsed.created_at),
        "created_by": creator,
        "last_used_at": _aware(getattr(parsed, "last_used_at", None)),
        "last_used_from": _addresses(getattr(parsed, "last_used_from_addr", "")),
        "revoked": getattr(parsed, "revoked", False),
        "secret": Secret(key) if key is not None else None,
    }
    project = getattr(parsed, "project_id", None)
    if not hasattr(parsed, "project_id"):
        return PersonalKey(**fields)
    if isinstance(project, str) and project:
        return ProjectKey(org_id=ORG_ID, project_id=project, **fields)
    return OrgKey(org_id=ORG_ID, **fields)


KEY_ANSWERS = [name for name in ANSWERS if name.startswith(("ApiKey", "OrgApiKey"))]
KEY_ANSWERS.remove("ApiKeyCreatorData")


@pytest.mark.parametrize("name", KEY_ANSWERS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_well_formed_answers_read_as_the_generated_model_reads_them(
    name: str, data: st.DataObject
) -> None:
    """On any well-formed answer a reader gives what the generated model gives, field for
    field, the secret included."""
    answer = ANSWERS[name]
    body = data.draw(well_formed(answer))
    key = answer.read(copy.deepcopy(body))
    expected = reference_key(answer.model, body)
    assert type(key) is type(expected)
    assert key == expected
    assert key.secret == expected.secret
    assert all(getattr(key, f) == getattr(expected, f) for f in _parsing.KEY_FIELDS)


# -- addresses -----------------------------------------------------------------------------------


def reference_address(text: str) -> IPAddress | None:
    """What ``parse_address`` replaces."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(
        address_texts,
        st.ip_addresses().map(lambda a: str(a).upper()),
        st.ip_addresses(v=4).map(lambda a: ".".join(f"{int(p):03d}" for p in str(a).split("."))),
        st.text(alphabet="0123456789abcdefABCDEF:.%x ", max_size=45),
        st.text(max_size=12),
    )
)
def test_parse_address_agrees_with_ipaddress(text: str) -> None:
    """parse_address gives the address ipaddress.ip_address gives, or None where that raises."""
    assert _parsing.parse_address(text) == reference_address(text)


def test_parse_addresses_reads_lists() -> None:
    """Empty, one, several comma-joined addresses (spaces around), junk entries skipped."""
    v4, v6 = ipaddress.IPv4Address("192.0.2.1"), ipaddress.IPv6Address("::1")
    assert _parsing.parse_addresses("") == ()
    assert _parsing.parse_addresses("192.0.2.1") == (v4,)
    assert _parsing.parse_addresses(" 192.0.2.1 ") == (v4,)
    assert _parsing.parse_addresses(" 192.0.2.1 , ::1") == (v4, v6)
    assert _parsing.parse_addresses("x,,::1,y") == (v6,)
    assert _parsing.parse_addresses("junk") == ()


def test_results_stay_out_of_pickles_only_through_their_secret() -> None:
    """A read key pickles like any frozen dataclass, except one holding a secret."""
    listed = _parsing.personal_key_list([dict(LISTED)])[0]
    assert pickle.loads(pickle.dumps(listed)) == listed  # noqa: S301 - bytes made here
    created = _parsing.personal_key_created(dict(CREATED))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(created)


def test_a_revoke_answer_keeps_when_and_where_the_key_was_last_used() -> None:
    """A revoked key's last use (time and addresses) is read from the answer, not dropped."""
    used = {
        **REVOKED,
        "last_used_at": "2024-05-02T08:30:00Z",
        "last_used_from_addr": "192.0.2.7",
    }
    key = _parsing.personal_key_revoked(used)
    assert key.last_used_at == datetime.datetime(2024, 5, 2, 8, 30, tzinfo=datetime.UTC)
    assert key.last_used_from == (ipaddress.ip_address("192.0.2.7"),)
    assert _parsing.personal_key_revoked(REVOKED).last_used_at is None


_T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (Creator(id="user_1"), "name"),
        (Organization("org-1", "Acme", "acme", "free", _T0, _T0, "console"), "name"),
        (AuthDetails(account_id="org-1", auth_method="api_key_org"), "auth_method"),
        (PersonalKey(id=1, name="ci", created_at=None, created_by=None), "name"),
    ],
    ids=["creator", "organization", "auth-details", "key"],
)
def test_every_result_object_is_immutable(value: object, field: str) -> None:
    """No result the library returns can be changed after the fact."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, "other")


@pytest.mark.parametrize(
    ("cls", "own"), [(PersonalKey, ()), (OrgKey, ("org-1",)), (ProjectKey, ("org-1", "p-1"))]
)
def test_keys_are_made_with_named_fields_only(cls: type[object], own: tuple[str, ...]) -> None:
    """Key objects take keyword arguments only, so a new field can never shift the others."""
    common = {"id": 1, "name": "ci", "created_at": None, "created_by": None}
    with pytest.raises(TypeError):
        cls(1, "ci", None, None, *own)
    if own:
        with pytest.raises(TypeError):
            cls(*own, **common)
