"""Property tests: no response, however malformed, escapes as anything but a NeonError."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx
from fakes import API_KEY, BASE_URL, ORG_ID, PROJECT_ID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neon_keys import Backoff, NeonError, NeonKeys, Secret
from neon_keys._models import APIKey

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


@settings(max_examples=100, deadline=None)
@given(token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8))
def test_secret_round_trip_and_masking(token: str) -> None:
    """A Secret reveals exactly its token and never shows it in str, repr or format."""
    secret = Secret(token)
    assert secret.reveal() == token
    assert token not in f"{secret} {secret!r} {secret:>40}"
    assert secret == Secret(token)
