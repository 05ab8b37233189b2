"""Property tests: no response, however malformed, escapes as anything but a NeonError."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import zlib
from collections.abc import Callable
from typing import Any

import httpx
from fakes import API_KEY, BASE_URL, ORG_ID, PROJECT_ID
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from neon_keys import Backoff, LeaseName, NeonError, NeonKeys, Secret
from neon_keys._models import APIKey
from neon_keys.cli._output import auth_record, key_record, org_record

HALF_DAY = datetime.timedelta(hours=5, minutes=30)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)

key_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers(min_value=-5, max_value=2**64) | st.text(max_size=5) | st.none(),
        "key": st.text(max_size=10) | st.integers(),
        "name": st.text(max_size=70) | st.integers() | st.none(),
        "created_at": st.sampled_from(["2024-01-01T00:00:00Z", "yesterday", "", None, 5]),
        "created_by": json_values | st.text(max_size=30),
        "last_used_at": st.sampled_from(["2024-01-01T00:00:00+02:00", "nope", None, 1]),
        "last_used_from_addr": st.sampled_from(["", "192.0.2.1", "1.2.3.4,::1", "x,,y", 7]),
        "revoked": json_values,
        "project_id": st.sampled_from([PROJECT_ID, "", None, 3]),
    },
)

bodies = json_values | key_fields | st.lists(key_fields, max_size=3)

OPERATIONS: list[Callable[[NeonKeys], Any]] = [
    lambda n: n.personal_keys.list(),
    lambda n: n.personal_keys.create("k"),
    lambda n: n.personal_keys.revoke(1),
    lambda n: n.org(ORG_ID).keys.list(),
    lambda n: n.org(ORG_ID).keys.create("k", project_id=PROJECT_ID),
    lambda n: n.org(ORG_ID).keys.revoke(1),
    lambda n: n.whoami(),
    lambda n: n.organizations(),
]


def _client(status: int, body: bytes, content_type: str) -> NeonKeys:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": content_type}
        if content_type == "gzip":  # a body that claims compression it does not have
            headers = {"content-type": "application/json", "content-encoding": "gzip"}
        return httpx.Response(status, content=body, headers=headers)

    return NeonKeys(
        api_key=API_KEY,
        base_url=BASE_URL,
        backoff=Backoff.immediate(),
        max_retries=1,
        rate_limits=None,
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )


def _check(result: Any) -> None:
    items = result if isinstance(result, list) else [result]
    for item in items:
        if isinstance(item, APIKey):
            assert isinstance(item.id, int) and isinstance(item.name, str)
            assert item.secret is None or isinstance(item.secret, Secret)
            assert API_KEY not in repr(item)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    operation=st.sampled_from(OPERATIONS),
    status=st.sampled_from([200, 201, 204, 301, 400, 401, 404, 418, 423, 429, 500, 502, 503]),
    body=bodies,
)
def test_any_json_gives_a_result_or_neon_error(
    operation: Callable[[NeonKeys], Any], status: int, body: Any
) -> None:
    """Any JSON body with any status yields a well-typed result or a NeonError."""
    with _client(status, json.dumps(body).encode(), "application/json") as neon:
        try:
            result = operation(neon)
        except NeonError as err:
            assert API_KEY not in str(err)
            return
    assert 200 <= status < 300
    _check(result)


@settings(max_examples=150, deadline=None)
@given(
    operation=st.sampled_from(OPERATIONS),
    status=st.integers(min_value=200, max_value=599),
    body=st.binary(max_size=64),
    content_type=st.sampled_from(["application/json", "text/html", "", "gzip"]),
)
def test_any_bytes_give_a_result_or_neon_error(
    operation: Callable[[NeonKeys], Any], status: int, body: bytes, content_type: str
) -> None:
    """Arbitrary bytes under any status and content type never raise a foreign exception."""
    with _client(status, body, content_type) as neon, contextlib.suppress(NeonError):
        _check(operation(neon))


header_values = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from(
        [
            b"",
            b"0",
            b"-1",
            b"1e400",
            b"nan",
            b"inf",
            b"999999999999999999999",
            b"Mon, 01 Jan 0001 00:00:00 +0500",
            b"Fri, 31 Dec 9999 23:59:59 -2359",
            b"Mon, 01 Jan 99999 00:00:00 GMT",
            b"gzip",
            b"deflate",
            b"br",
            b"gzip, gzip",
            b"identity",
            b"application/json; charset=utf-16",
            API_KEY.encode(),
        ]
    ),
)
header_names = st.sampled_from(
    [
        b"retry-after",
        b"date",
        b"x-neon-ret-request-id",
        b"content-type",
        b"content-encoding",
        b"location",
        b"x-other",
    ]
)
nested = st.integers(min_value=1, max_value=50_000).map(lambda n: b"[" * n + b"]" * n)
encoded_json = st.tuples(bodies.map(json.dumps).map(str.encode), st.sampled_from([15, 31, -15]))
any_body = st.one_of(
    st.binary(max_size=200),
    bodies.map(json.dumps).map(str.encode),
    nested,
    encoded_json.map(lambda pair: zlib.compress(pair[0], wbits=pair[1])),
    st.text(max_size=50).map(lambda t: json.dumps(t).encode("utf-16")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    operation=st.sampled_from(OPERATIONS),
    status=st.integers(min_value=100, max_value=999),
    headers=st.lists(st.tuples(header_names, header_values), max_size=5),
    reason=header_values,
    body=any_body,
)
def test_any_status_headers_and_body_give_a_result_or_neon_error(
    operation: Callable[[NeonKeys], Any],
    status: int,
    headers: list[tuple[bytes, bytes]],
    reason: bytes,
    body: bytes,
) -> None:
    """Any status, any header values (dates, waits, codings, request ids), any reason phrase
    and any body, compressed or not, nested or not, end in a result or a NeonError."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(body),
            extensions={"reason_phrase": reason},
        )

    with NeonKeys(
        api_key=API_KEY,
        base_url=BASE_URL,
        backoff=Backoff.immediate(),
        max_retries=1,
        rate_limits=None,
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    ) as neon:
        try:
            result = operation(neon)
        except NeonError as err:
            assert API_KEY not in str(err) and API_KEY not in repr(vars(err))
            return
    assert 200 <= status < 300
    _check(result)


@settings(max_examples=100, deadline=None)
@given(token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8))
def test_secret_round_trip_and_masking(token: str) -> None:
    """A Secret reveals exactly its token and never shows it in str, repr or format."""
    masked = Secret("x")
    # A token that is itself a piece of the masked form ("********") is not a leak.
    assume(token not in f"{masked} {masked!r} {masked:>40}")
    secret = Secret(token)
    assert secret.reveal() == token
    assert token not in f"{secret} {secret!r} {secret:>40}"
    assert secret == Secret(token)


# -- round trips: valid answers come out exactly as they went in -----------------------------

UTC = datetime.UTC
user_ids = (
    st.uuids().map(str)
    | st.from_regex(r"user_[0-9a-hjkmnp-tv-z]{26}", fullmatch=True)
    | st.just("user_01h84bfr2npa81rn8h8jzz8mx4")
)
moments = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1),
    max_value=datetime.datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, datetime.timezone(datetime.timedelta(hours=2)), datetime.timezone(-HALF_DAY)]
    ),
).map(lambda moment: moment.replace(microsecond=0))
key_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=64)
lease_names = st.builds(
    LeaseName._compose,
    st.sampled_from(["ci", "preview-42", "a" * 30]),
    moments,
    st.text("0123456789abcdefghjkmnpqrstvwxyz", min_size=5, max_size=5),
)
addresses = st.lists(st.ip_addresses().map(str), max_size=3)
creators = st.fixed_dictionaries(
    {
        "id": user_ids,
        "name": st.sampled_from(["", "Ada Admin"]) | st.text(max_size=20),
        "image": st.sampled_from(["", "https://avatars.example.com/ada.png"]),
    }
)


def _iso(moment: datetime.datetime) -> str:
    """A time as Neon writes it (any offset); the client must read it back to the instant."""
    return moment.isoformat().replace("+00:00", "Z")


def _utc(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def listed_keys(draw: st.DrawFn, org: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """A listing item, and the JSON record neon-keys must print for it."""
    created, used = draw(moments), draw(st.none() | moments)
    creator, used_from = draw(creators), draw(addresses)
    project = draw(st.none() | st.just(PROJECT_ID)) if org else None
    lease = draw(st.none() | lease_names)
    body = {
        "id": draw(st.integers(1, 2**63 - 1)),
        "name": lease.name if lease is not None else draw(key_names),
        "created_at": _iso(created),
        "created_by": creator,
        "last_used_at": None if used is None else _iso(used),
        "last_used_from_addr": ",".join(used_from),
    }
    if project:
        body["project_id"] = project
    record = {
        "id": body["id"],
        "name": body["name"],
        "kind": ("project" if project else "org") if org else "personal",
        "org_id": ORG_ID if org else None,
        "project_id": project,
        "created_at": _utc(created),
        "created_by": {
            "id": creator["id"],
            "name": creator["name"] or None,
            "image": creator["image"] or None,
        },
        "last_used_at": _utc(used),
        "last_used_from": [str(ipaddress.ip_address(a)) for a in used_from],
        "revoked": False,
        "base_name": lease.base_name if lease is not None else body["name"],
        "expires_at": _utc(lease.expires_at) if lease is not None else None,
    }
    return body, record


def _through_client(body: Any, call: Callable[[NeonKeys], Any]) -> Any:
    with _client(200, json.dumps(body).encode(), "application/json; charset=utf-8") as neon:
        return call(neon)


@settings(max_examples=100, deadline=None)
@given(org=st.booleans(), data=st.data())
def test_listings_round_trip(org: bool, data: st.DataObject) -> None:
    """Every field of a listed key reaches the key object and the CLI's JSON record intact."""
    pairs = data.draw(st.lists(listed_keys(org), max_size=4, unique_by=lambda p: p[0]["id"]))
    call = (lambda n: n.org(ORG_ID).keys.list()) if org else (lambda n: n.personal_keys.list())
    keys = _through_client([body for body, _ in pairs], call)
    assert [key_record(key) for key in keys] == [record for _, record in pairs]
    again = _through_client([body for body, _ in pairs], call)
    assert keys == again and set(keys) == set(again)  # equal and hashable, as values


@settings(max_examples=100, deadline=None)
@given(
    org=st.booleans(),
    key_id=st.integers(1, 2**63 - 1),
    name=key_names,
    created=moments,
    creator=st.none() | user_ids,
    token=st.from_regex(r"napi_[a-z0-9]{60}", fullmatch=True),
    project=st.booleans(),
)
def test_creates_round_trip(
    *,
    org: bool,
    key_id: int,
    name: str,
    created: datetime.datetime,
    creator: str | None,
    token: str,
    project: bool,
) -> None:
    """A create's answer gives back its id, name, time, creator and the very secret sent."""
    body: dict[str, Any] = {"id": key_id, "key": token, "name": name, "created_at": _iso(created)}
    if creator is not None:
        body["created_by"] = creator
    scoped = org and project
    if scoped:
        body["project_id"] = PROJECT_ID
    call = (
        (lambda n: n.org(ORG_ID).keys.create("k", project_id=PROJECT_ID if scoped else None))
        if org
        else (lambda n: n.personal_keys.create("k"))
    )
    key = _through_client(body, call)
    assert key.secret is not None and key.secret.reveal() == token
    assert token not in repr(key)
    record = key_record(key)
    assert (record["id"], record["name"], record["created_at"]) == (key_id, name, _utc(created))
    assert record["created_by"] == (
        None if creator is None else {"id": creator, "name": None, "image": None}
    )
    assert record["kind"] == ("project" if scoped else "org" if org else "personal")


@settings(max_examples=100, deadline=None)
@given(org=st.booleans(), key_id=st.integers(1, 2**63 - 1), name=key_names, used=addresses)
def test_revokes_round_trip(org: bool, key_id: int, name: str, used: list[str]) -> None:
    """A revoke's answer, without created_at and created_by as Neon sends it, reads back."""
    body = {
        "id": key_id,
        "name": name,
        "revoked": True,
        "last_used_at": None,
        "last_used_from_addr": ",".join(used),
    }
    call = (
        (lambda n: n.org(ORG_ID).keys.revoke(key_id))
        if org
        else (lambda n: n.personal_keys.revoke(key_id))
    )
    record = key_record(_through_client(body, call))
    assert (record["id"], record["name"], record["revoked"]) == (key_id, name, True)
    assert record["created_at"] is None and record["created_by"] is None
    assert record["last_used_from"] == [str(ipaddress.ip_address(a)) for a in used]


@settings(max_examples=100, deadline=None)
@given(
    orgs=st.lists(
        st.fixed_dictionaries(
            {
                "id": st.from_regex(r"org-[a-z0-9-]{1,40}", fullmatch=True),
                "name": st.text(max_size=30),
                "handle": st.from_regex(r"[a-z0-9-]{1,30}", fullmatch=True),
                "plan": st.sampled_from(["free", "launch", "scale", "business"]),
                "managed_by": st.sampled_from(["console", "vercel"]),
                "created_at": moments,
                "updated_at": moments,
            },
            optional={"require_mfa": st.booleans()},
        ),
        max_size=3,
    ),
    account=user_ids,
    method=st.sampled_from(["api_key_user", "api_key_org", "jwt", "keycloak"]),
)
def test_organizations_and_whoami_round_trip(
    orgs: list[dict[str, Any]], account: str, method: str
) -> None:
    """Organizations and the caller's details read back field for field."""
    body = {
        "organizations": [
            {**o, "created_at": _iso(o["created_at"]), "updated_at": _iso(o["updated_at"])}
            for o in orgs
        ]
    }
    records = [org_record(o) for o in _through_client(body, lambda n: n.organizations())]
    assert records == [
        {
            **o,
            "created_at": _utc(o["created_at"]),
            "updated_at": _utc(o["updated_at"]),
            "require_mfa": o.get("require_mfa"),
        }
        for o in orgs
    ]
    answers = {
        "/api/v2/auth": {"account_id": account, "auth_method": method},
        "/api/v2/users/me/organizations": body,
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path])

    with NeonKeys(
        api_key=API_KEY,
        base_url=BASE_URL,
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    ) as neon:
        auth = neon.whoami()
    assert auth_record(auth)["account_id"] == account and auth.auth_method == method
    # An organization key learns its organization when Neon names exactly one.
    named = method == "api_key_org" and len(orgs) == 1
    assert (auth.organization is not None) is named
    if named:
        assert auth.organization is not None and auth.organization.id == orgs[0]["id"]


_URL_ALPHABET = st.sampled_from(list("aAz09-._~:/?#[]@!$&'()*+,;=% \t\n\x00\u00e9\udcff"))


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["https://", "http://", "ftp://", "", "HTTPS://"]),
    host=st.sampled_from(
        ["console.neon.tech", "127.0.0.1", "localhost", "localhost.", "[::1]", "10.0.0.1", ""]
    ),
    rest=st.text(_URL_ALPHABET, max_size=25),
)
def test_any_base_url_is_refused_or_keeps_every_path_intact(
    scheme: str, host: str, rest: str
) -> None:
    """Any base_url gives a ConfigurationError, or a root to which every operation's path
    appends as a path: no query, no fragment, and plain http to loopback only."""
    from neon_keys._base_client import _resolve_base_url, is_loopback
    from neon_keys._constants import ENDPOINTS
    from neon_keys._exceptions import ConfigurationError

    try:
        base = _resolve_base_url(scheme + host + rest)
    except ConfigurationError:
        return
    root = httpx.URL(base)
    assert root.scheme in ("https", "http") and not root.query and not root.fragment
    assert root.scheme == "https" or is_loopback(root.host)
    for _, _, path in ENDPOINTS:
        url = httpx.URL(base + path.format(org_id="org-1", key_id=7))
        assert url.path == root.path.rstrip("/") + path.format(org_id="org-1", key_id=7)
        assert not url.query and not url.fragment and url.host == root.host


@settings(max_examples=500, deadline=None)
@given(name=st.text(max_size=70) | st.text(st.characters(codec=None), max_size=8))
def test_any_key_name_is_refused_or_sendable(name: str) -> None:
    """Any string is refused with InvalidInputError, or is a name a request can carry and a
    terminal shows on one line: 1 to 64 characters, not only whitespace, encodable as UTF-8,
    no control character or line break."""
    import unicodedata

    from neon_keys import InvalidInputError
    from neon_keys._validation import key_name

    try:
        checked = key_name(name)
    except InvalidInputError as err:
        assert err.field == "key name" and err.rule
        return
    assert checked == name and 1 <= len(name) <= 64 and not name.isspace()
    name.encode("utf-8")
    assert json.loads(json.dumps({"key_name": name}))["key_name"] == name
    assert not any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in name)
