"""Configuration: where the key and host come from, and what is refused at construction."""

from __future__ import annotations

import httpx
import pytest
from fakes import API_KEY, FakeNeon
from neon_keys import (
    AsyncNeonKeys,
    ConfigurationError,
    InsecureTransportError,
    NeonKeys,
    Secret,
)


def test_defaults_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """api_key and base_url default to NEON_API_KEY and NEON_API_HOST."""
    monkeypatch.setenv("NEON_API_KEY", "napi_from_env")
    monkeypatch.setenv("NEON_API_HOST", "https://neon.example.test/api/v2/")
    with NeonKeys() as neon:
        assert neon.base_url == "https://neon.example.test/api/v2"
        assert neon._api_key.reveal() == "napi_from_env"


def test_default_base_url() -> None:
    """Without NEON_API_HOST the client talks to Neon's public API."""
    with NeonKeys(api_key="k") as neon:
        assert neon.base_url == "https://console.neon.tech/api/v2"


def test_missing_key_says_how_to_provide_one() -> None:
    """No key at all is a clear error naming the argument and the variable."""
    with pytest.raises(ConfigurationError, match="NEON_API_KEY") as caught:
        NeonKeys()
    assert "api_key" in str(caught.value)


@pytest.mark.parametrize("value", ["", "  \n"])
def test_empty_key_is_refused(value: str) -> None:
    """An empty key is refused up front rather than producing a 401 later."""
    with pytest.raises(ConfigurationError, match="empty"):
        NeonKeys(api_key=value)


def test_trailing_newline_is_stripped() -> None:
    """A key read from a file with a trailing newline is sent without it."""
    fake = FakeNeon()
    neon = NeonKeys(
        api_key=API_KEY + "\n",
        http_client=httpx.Client(transport=httpx.MockTransport(fake)),
    )
    neon.whoami()
    assert fake.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_inner_whitespace_is_refused() -> None:
    """A key with a space inside is refused with a hint, and the key is not echoed."""
    with pytest.raises(ConfigurationError) as caught:
        NeonKeys(api_key="napi_abc def")
    assert "napi_abc" not in str(caught.value)


@pytest.mark.parametrize(
    "value", ['"napi_quoted"', "'napi_quoted'", '"napi_quoted', "napi_quoted'\n", "`napi_quoted`"]
)
def test_a_key_in_quotes_is_refused_before_any_request(value: str) -> None:
    """A key that kept the quotes of an env file or a shell is refused, saying so, unsent."""
    fake = FakeNeon()
    with pytest.raises(ConfigurationError, match="quote") as caught:
        NeonKeys(api_key=value, http_client=httpx.Client(transport=httpx.MockTransport(fake)))
    assert "napi_quoted" not in str(caught.value)
    assert fake.requests == []


def test_a_key_with_its_bearer_prefix_is_refused_saying_so() -> None:
    """A key pasted with the "Bearer " of an Authorization header is refused with that hint."""
    with pytest.raises(ConfigurationError, match="Bearer") as caught:
        NeonKeys(api_key="Bearer napi_pasted")
    assert "napi_pasted" not in str(caught.value)


def test_secret_is_accepted_as_api_key() -> None:
    """A Secret (e.g. a freshly created key's) can be the client's key."""
    with NeonKeys(api_key=Secret("napi_x")) as neon:
        assert neon._api_key.reveal() == "napi_x"


def test_repr_never_shows_the_key() -> None:
    """repr of the client shows the base URL, never the key."""
    neon = NeonKeys(api_key="napi_supersecret")
    assert "supersecret" not in repr(neon) and "supersecret" not in str(neon)
    assert "console.neon.tech" in repr(neon)
    neon.close()


@pytest.mark.parametrize(
    "url", ["http://console.neon.tech/api/v2", "http://10.0.0.5/api/v2", "http://example.test"]
)
def test_plain_http_refused_except_loopback(url: str) -> None:
    """The token is never sent over plain http to a non-loopback host."""
    with pytest.raises(InsecureTransportError, match="plain http"):
        NeonKeys(api_key="k", base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/api/v2", "http://localhost/api/v2", "http://[::1]:9/api/v2"]
)
def test_plain_http_allowed_to_loopback(url: str) -> None:
    """Local emulators on loopback may use plain http: the client keeps the URL it was given."""
    with NeonKeys(api_key="k", base_url=url) as neon:
        assert neon.base_url == url


@pytest.mark.parametrize(
    "url", ["console.neon.tech", "ftp://x/api", "https://user:pw@h/api", "https://h/api?x=1"]
)
def test_malformed_base_urls(url: str) -> None:
    """Relative, non-http, credential-bearing or query-bearing base URLs are refused."""
    with pytest.raises(ConfigurationError):
        NeonKeys(api_key="k", base_url=url)


@pytest.mark.parametrize("value", [-1, True, 1.5, "2"])
def test_bad_max_retries(value: object) -> None:
    """max_retries must be a non-negative integer."""
    with pytest.raises(ConfigurationError, match="max_retries"):
        NeonKeys(api_key="k", max_retries=value)  # type: ignore[arg-type]


def test_missing_ca_bundle() -> None:
    """A CA bundle path that does not exist is a configuration error."""
    with pytest.raises(ConfigurationError, match="CA bundle"):
        NeonKeys(api_key="k", verify="/nonexistent/ca.pem")


def test_with_options_shares_pool_and_overrides() -> None:
    """with_options changes settings on a copy that shares the connection pool."""
    fake = FakeNeon()
    base = fake.sync_client()
    other = base.with_options(api_key="napi_other", max_retries=0, timeout=1.0)
    other.whoami()
    assert fake.requests[-1].headers["authorization"] == "Bearer napi_other"
    assert other.max_retries == 0 and other.timeout == 1.0
    assert base.max_retries == 2 and base._api_key.reveal() == API_KEY
    other.personal_keys.list()  # the copy's resources call with the copy's key
    assert fake.requests[-1].headers["authorization"] == "Bearer napi_other"
    other.close()
    base.whoami()  # closing the copy left the shared pool open
    assert len(fake.requests) == 3


def test_a_client_closes_its_own_pool_on_exit_and_never_one_it_was_given() -> None:
    """NeonKeys as a context manager closes the pool it made; an http_client given to it,
    and the pool a copy shares with its original, stay open when the client or copy closes."""
    with NeonKeys(api_key="k") as neon:
        copy = neon.with_options(max_retries=0)
        copy.close()
        assert not neon._http.is_closed
    assert neon._http.is_closed
    given = httpx.Client()
    with NeonKeys(api_key="k", http_client=given):
        pass
    assert not given.is_closed
    given.close()


@pytest.mark.anyio
async def test_an_async_client_never_closes_a_pool_it_was_given() -> None:
    """AsyncNeonKeys leaves an http_client given to it open when it closes."""
    given = httpx.AsyncClient()
    async with AsyncNeonKeys(api_key="k", http_client=given):
        pass
    assert not given.is_closed
    await given.aclose()


@pytest.mark.anyio
async def test_async_client_context_manager() -> None:
    """AsyncNeonKeys works as an async context manager and closes its pool."""
    async with AsyncNeonKeys(api_key="k") as neon:
        assert neon.base_url.endswith("/api/v2")
    assert neon._http.is_closed


@pytest.mark.parametrize(
    "url",
    [
        "https://console.neon.tech/api/v2?",
        "https://console.neon.tech/api/v2#",
        "https://console.neon.tech/api/v2?#",
        "https://console.neon.tech/api/v2/#frag",
        "https://console.neon.tech/api?x=1/v2",
        "http://127.0.0.1:8080/api/v2?",
    ],
)
def test_an_empty_query_or_fragment_is_refused(url: str) -> None:
    """A '?' or '#' in base_url, even with nothing after it, is refused before any request."""
    with pytest.raises(ConfigurationError, match="query or a fragment"):
        NeonKeys(api_key="k", base_url=url)


@pytest.mark.parametrize(
    "url", ["https://console.neon.tech/api /v2", "https://console.neon.tech/api\n/v2"]
)
def test_spaces_or_control_characters_in_base_url_are_refused(url: str) -> None:
    """Whitespace or control characters inside base_url are refused, never sent."""
    with pytest.raises(ConfigurationError, match="spaces or control"):
        NeonKeys(api_key="k", base_url=url)


@pytest.mark.parametrize("host", ["localhost.", "LOCALHOST.", "127.0.0.1.", "localhost.example"])
def test_names_resolved_by_dns_are_not_loopback(host: str) -> None:
    """localhost. (a fully qualified name, looked up in DNS) is not loopback: plain http refused."""
    with pytest.raises(InsecureTransportError):
        NeonKeys(api_key="k", base_url=f"http://{host}:8080/api/v2")
