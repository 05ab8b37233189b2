"""The fast readers of listings give exactly what the generated-model path gives.

``_parsing._listed`` reads listed keys straight from the decoded JSON and
``_parsing.parse_address`` reads addresses with the C library; each must agree with the
straightforward implementation (the generated models, ``ipaddress.ip_address``) on every
input: the same objects for good input, the same error for bad.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import ipaddress
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from neon_api_keys_client.models.api_keys_list_response_item import ApiKeysListResponseItem
from neon_api_keys_client.models.org_api_keys_list_response_item import (
    OrgApiKeysListResponseItem,
)
from neon_keys import _parsing
from neon_keys._models import IPAddress, OrgKey, PersonalKey, ProjectKey

ORG_ID = "org-cool-breeze-12345678"


# -- the straightforward implementations ------------------------------------------------


def reference_address(text: str) -> IPAddress | None:
    """What ``parse_address`` replaces."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def reference_personal_list(data: object) -> list[PersonalKey]:
    """Every listed item through the generated model, as before the fast path."""
    return [
        PersonalKey(
            **_parsing._common(ApiKeysListResponseItem.from_dict(_parsing._listing_item(item)))
        )
        for item in _parsing._list(data)
    ]


def reference_org_list(data: object) -> list[OrgKey | ProjectKey]:
    """The organization listing through the generated model, as before the fast path."""
    return [
        _parsing._org_key(
            OrgApiKeysListResponseItem.from_dict(_parsing._listing_item(item)), ORG_ID
        )
        for item in _parsing._list(data)
    ]


def outcome(parse: Callable[[Any], Any], data: object) -> tuple[str, Any]:
    """What ``parse`` (guarded as the operations guard it) returns or raises, given a copy
    of ``data`` (listings consume theirs)."""
    try:
        return "ok", _parsing.guarded(parse, "listApiKeys")(copy.deepcopy(data))
    except _parsing._ShapeError as err:
        return "error", str(err)


# -- strategies --------------------------------------------------------------------------

addresses = st.ip_addresses()
address_texts = st.one_of(
    addresses.map(str),
    addresses.map(lambda a: a.exploded),
    addresses.map(lambda a: str(a).upper()),
    st.ip_addresses(v=4).map(lambda a: ".".join(f"{int(p):03d}" for p in str(a).split("."))),
    st.ip_addresses(v=6).map(lambda a: f"{a}%eth0"),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.text(alphabet="0123456789abcdefABCDEF:.%x ", max_size=45),
    st.text(max_size=12),
)
address_lists = st.lists(address_texts, max_size=3).map(",".join) | st.sampled_from(
    ["", " 192.0.2.1 , ::1", ",,", "113.203.180.132,35.160.120.126"]
)

moments = st.datetimes(
    min_value=datetime.datetime(1970, 1, 2), max_value=datetime.datetime(2100, 1, 1)
)
timezones = st.sampled_from([None, datetime.UTC, datetime.timezone(datetime.timedelta(hours=2))])
time_texts = st.one_of(
    st.builds(lambda m, tz: m.replace(tzinfo=tz).isoformat(), moments, timezones),
    moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),
    moments.map(lambda m: m.strftime("%Y-%m-%d")),
    st.sampled_from(["", "yesterday", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00+25:00"]),
    st.text(max_size=25),
)
odd_values = st.none() | st.booleans() | st.integers() | st.floats() | st.lists(st.integers())

creators = st.one_of(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["user_01h84bfr2npa81rn8h8jzz8mx4", "629982cc-de05-43db"])},
        optional={
            "name": st.sampled_from(["", "Ada Admin"]) | odd_values,
            "image": st.sampled_from(["", "http://link.to.image"]) | odd_values,
            "extra": st.integers(),
        },
    ),
    st.fixed_dictionaries({}, optional={"id": odd_values, "name": st.text(max_size=5)}),
    st.text(max_size=12),
    odd_values,
    st.just([["id", "user_x"]]),  # something dict() accepts
)

listed_items = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers(min_value=-5, max_value=2**64) | odd_values | st.text(max_size=3),
        "name": st.text(max_size=20) | odd_values,
        "created_at": time_texts | odd_values,
        "created_by": creators,
        "last_used_at": time_texts | odd_values,
        "last_used_from_addr": address_lists | odd_values,
        "project_id": st.sampled_from(["summer-haze-17190561", ""]) | odd_values,
        "revoked": st.booleans(),
        "key": st.text(max_size=5),
    },
)
well_formed_items = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=1, max_value=2**40),
        "name": st.text(min_size=1, max_size=64),
        "created_at": time_texts,
        "created_by": creators,
        "last_used_at": time_texts | st.none(),
        "last_used_from_addr": address_lists,
    },
    optional={"project_id": st.sampled_from(["summer-haze-17190561", ""]) | st.none()},
)
items = well_formed_items | listed_items | odd_values | st.text(max_size=5)


# -- the properties ------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(text=address_texts)
def test_parse_address_agrees_with_ipaddress(text: str) -> None:
    """parse_address gives the address ipaddress.ip_address gives, or None where it raises."""
    assert _parsing.parse_address(text) == reference_address(text)


@settings(max_examples=300, deadline=None)
@given(data=st.lists(items, max_size=4) | items)
def test_personal_listing_agrees_with_the_generated_model(data: object) -> None:
    """Any listing body gives the same keys, or the same error, on both paths."""
    assert outcome(_parsing.personal_key_list, data) == outcome(reference_personal_list, data)


@settings(max_examples=300, deadline=None)
@given(data=st.lists(items, max_size=4) | items)
def test_org_listing_agrees_with_the_generated_model(data: object) -> None:
    """Organization listings too, project-scoped keys included."""
    fast = outcome(lambda d: _parsing.org_key_list(d, ORG_ID), data)
    assert fast == outcome(reference_org_list, data)
    if fast[0] == "ok":  # dataclass equality already compares the classes; be explicit
        reference = reference_org_list(copy.deepcopy(data))
        assert [type(k) for k in fast[1]] == [type(k) for k in reference]


def test_fast_path_shares_creators_and_reads_neon_shapes() -> None:
    """A typical listing takes the fast path and shares one Creator per user."""
    item = {
        "id": 165432,
        "name": "mykey_1",
        "created_at": "2022-11-15T20:13:35Z",
        "created_by": {"id": "629982cc", "name": "John Smith", "image": "http://link.to.image"},
        "last_used_at": "2022-11-15T20:22:51Z",
        "last_used_from_addr": "192.0.2.255,2001:db8::1",
    }
    assert _parsing._listed(PersonalKey, item) is not None
    listing = [item, {**item, "id": 165433}]
    first, second = _parsing.personal_key_list(listing)
    assert listing == [None, None]  # consumed: each item released once its key was made
    assert first.created_by is second.created_by
    assert first.last_used_from == (
        ipaddress.IPv4Address("192.0.2.255"),
        ipaddress.IPv6Address("2001:db8::1"),
    )
    assert first.created_at == datetime.datetime(2022, 11, 15, 20, 13, 35, tzinfo=datetime.UTC)


def test_fast_path_sets_every_field() -> None:
    """The fast path sets every field of each key class, so none can be added unnoticed."""
    fields = _parsing.KEY_FIELDS
    assert tuple(f.name for f in dataclasses.fields(PersonalKey)) == fields
    assert tuple(f.name for f in dataclasses.fields(OrgKey)) == (*fields, "org_id")
    assert tuple(f.name for f in dataclasses.fields(ProjectKey)) == (
        *fields,
        "org_id",
        "project_id",
    )
