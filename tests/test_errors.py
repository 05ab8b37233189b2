"""Error statuses map to the right class, with their context, whatever the body looks like."""

from __future__ import annotations

import pickle
from typing import Any

import httpx
import pytest
from fakes import API_KEY, ORG_ID, FakeNeon, json_response, run
from neon_keys import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    CreateOutcomeUnknownError,
    InvalidInputError,
    LockedError,
    NeonError,
    NotFoundError,
    PermissionDeniedError,
    PersonalKey,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (418, APIError),
        (422, BadRequestError),
        (423, LockedError),
        (429, RateLimitError),
        (499, APIError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_status_maps_to_class(
    make_client: Any, fake: FakeNeon, status: int, cls: type[APIError]
) -> None:
    """Each error status raises its class with code, message and request id from the body."""
    body = {"code": "E1", "message": "it went wrong", "request_id": "req-body"}
    fake.route("GET", "/api_keys", json_response(body, status=status))
    client = make_client(max_retries=0)
    with pytest.raises(cls) as caught:
        run(client.personal_keys.list())
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, NeonError)
    assert (error.status_code, error.code, error.message) == (status, "E1", "it went wrong")
    assert error.request_id == "req-body"
    assert error.attempts == 1
    assert str(error) == (
        f"GET /api_keys: it went wrong (HTTP {status}, code E1, request req-body)"
    )


def test_request_id_falls_back_to_header(client: Any, fake: FakeNeon) -> None:
    """Without a request_id in the body, the x-neon-ret-request-id header is used."""
    fake.route("GET", "/auth", json_response({"code": "", "message": "nope"}, status=401))
    with pytest.raises(AuthenticationError) as caught:
        run(client.whoami())
    assert caught.value.request_id == "req-from-header"
    assert caught.value.code == ""


def test_html_502_from_a_proxy(make_client: Any, fake: FakeNeon) -> None:
    """An HTML error page becomes a ServerError with a short one-line excerpt."""
    page = "<html><head><title>502</title></head><body>\n<h1>Bad Gateway</h1>" + "x" * 5000
    fake.route("GET", "/api_keys", httpx.Response(502, text=page))
    with pytest.raises(ServerError) as caught:
        run(make_client(max_retries=0).personal_keys.list())
    error = caught.value
    assert error.status_code == 502 and error.request_id is None
    assert "Bad Gateway" in error.message and "<h1>" not in error.message
    assert "\n" not in str(error) and len(error.message) < 300


@pytest.mark.parametrize("offset", range(150, 200, 7))
def test_an_echoed_token_cut_by_the_excerpt_leaves_no_piece(
    make_client: Any, fake: FakeNeon, offset: int
) -> None:
    """A gateway page echoing the Authorization header shows no part of the token, cut or not."""
    page = "<html><body>" + "x" * offset + f" Authorization: Bearer {API_KEY} </body></html>"
    fake.route("GET", "/auth", httpx.Response(401, text=page))
    with pytest.raises(AuthenticationError) as caught:
        run(make_client().whoami())
    text, message = str(caught.value), caught.value.message
    assert "Bearer [redacted]" in message or message.endswith("...")
    assert not any(API_KEY[:n] in text for n in range(6, len(API_KEY) + 1))


@pytest.mark.parametrize("offset", range(150, 200, 7))
def test_a_bare_echoed_token_cut_by_the_excerpt_leaves_no_piece(
    make_client: Any, fake: FakeNeon, offset: int
) -> None:
    """A token echoed without "Bearer" before it is masked too before the excerpt is cut."""
    page = "<p>" + "y" * offset + f" you sent {API_KEY}, which we do not know</p>"
    fake.route("GET", "/auth", httpx.Response(401, text=page))
    with pytest.raises(AuthenticationError) as caught:
        run(make_client().whoami())
    text = str(caught.value)
    assert not any(API_KEY[:n] in text for n in range(8, len(API_KEY) + 1))
    assert "you sent" not in text or "you sent [r" in text


def test_another_bearer_credential_in_an_error_page_is_masked(
    make_client: Any, fake: FakeNeon
) -> None:
    """Whatever token follows "Bearer" in an error page is masked, not only this client's."""
    page = "<p>upstream said: authorization: bearer napi_someone_elses_token_1234</p>"
    fake.route("GET", "/auth", httpx.Response(502, text=page))
    with pytest.raises(ServerError) as caught:
        run(make_client(max_retries=0).whoami())
    assert "someone_elses" not in str(caught.value)
    assert "bearer [redacted]" in str(caught.value).lower()


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2]", b'{"message": 5}', b"null"])
def test_odd_error_bodies(make_client: Any, fake: FakeNeon, body: bytes) -> None:
    """Empty, truncated or oddly typed error bodies still give the status's error class."""
    fake.route("POST", "/api_keys", httpx.Response(403, content=body))
    with pytest.raises(PermissionDeniedError) as caught:
        run(make_client().personal_keys.create("x"))
    assert caught.value.status_code == 403
    assert caught.value.message


def test_error_body_without_code(client: Any, fake: FakeNeon) -> None:
    """A GeneralError body missing its code field is read, code empty."""
    fake.route("GET", "/api_keys", json_response({"message": "gone"}, status=404))
    with pytest.raises(NotFoundError) as caught:
        run(client.personal_keys.list())
    assert caught.value.code == "" and caught.value.message == "gone"


def test_rate_limit_carries_retry_after(make_client: Any, fake: FakeNeon) -> None:
    """A 429 exposes the Retry-After Neon asked for."""
    fake.route(
        "GET",
        "/api_keys",
        json_response({"code": "", "message": "slow down"}, status=429, **{"Retry-After": "120"}),
    )
    with pytest.raises(RateLimitError) as caught:
        run(make_client(max_retries=0).personal_keys.list())
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize("status", [300, 301, 302, 303, 307, 308, 399])
def test_redirect_is_not_followed(client: Any, fake: FakeNeon, status: int) -> None:
    """Any 3xx is reported as a redirect not followed (the token must not travel elsewhere)."""
    moved = httpx.Response(status, headers={"location": "https://evil.test/"})
    fake.route("GET", "/api_keys", moved)
    with pytest.raises(APIError) as caught:
        run(client.personal_keys.list())
    assert caught.value.status_code == status
    assert caught.value.message.startswith("redirect not followed (")
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [299, 400])
def test_statuses_around_the_redirects_are_not_redirects(
    make_client: Any, fake: FakeNeon, status: int
) -> None:
    """Statuses just outside 3xx are not called redirects."""
    fake.route("GET", "/auth", httpx.Response(status, content=b"{}"))
    with pytest.raises(NeonError) as caught:
        run(make_client(max_retries=0).whoami())
    assert "redirect" not in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"id": "seven"}', b"[]", b'{"id": 1}', b'{"id": 1, "name": 2}'],
)
def test_unreadable_success_body(client: Any, fake: FakeNeon, body: bytes) -> None:
    """A 200 whose body does not fit the spec raises UnexpectedResponseError naming the call."""
    fake.route("DELETE", "/api_keys/7", httpx.Response(200, content=body))
    with pytest.raises(UnexpectedResponseError) as caught:
        run(client.personal_keys.revoke(7))
    assert "revokeApiKey" in str(caught.value) or "JSON" in str(caught.value)
    assert caught.value.status_code == 200 and caught.value.attempts == 1
    assert len(fake.requests) == 1


def test_messages_never_contain_the_api_key(client: Any, fake: FakeNeon) -> None:
    """Even if the server echoes the token, errors show it redacted."""
    echo = {"code": API_KEY, "message": f"bad token {API_KEY}"}
    fake.route("GET", f"/organizations/{ORG_ID}/api_keys", json_response(echo, status=401))
    with pytest.raises(AuthenticationError) as caught:
        run(client.org(ORG_ID).keys.list())
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value.args) and API_KEY not in caught.value.code
    assert "[redacted]" in caught.value.message


def _every_error() -> list[NeonError]:
    """One of each error class the library raises, with its attributes filled in."""
    key = PersonalKey(id=7, name="ci", created_at=None, created_by=None)
    lost = APITimeoutError(
        "POST /api_keys: timed out", method="POST", path="/api_keys", request_sent=True
    )
    errors: list[NeonError] = [
        ConfigurationError("no API key"),
        InvalidInputError("key_name", "must be 1 to 64 characters", "x" * 70),
        APIConnectionError("GET /auth: refused", method="GET", path="/auth", request_sent=False),
        lost,
        UnexpectedResponseError(
            "body is not JSON", method="GET", path="/auth", status_code=200, request_id="r-1"
        ),
        CreateOutcomeUnknownError("ci", [key], lost, "neon-keys revoke 7"),
        RateLimitError("slow down", status_code=429, retry_after=2.0, request_id="r-2"),
    ]
    errors += [
        cls("nope", status_code=status, code="c", request_id="r-3", method="GET", path="/auth")
        for status, cls in [(401, AuthenticationError), (404, NotFoundError), (502, ServerError)]
    ]
    for number, error in enumerate(errors):
        error.attempts = number
    return errors


def test_an_error_made_before_any_request_counts_no_attempt() -> None:
    """attempts is 0 until the client sets it: nothing was sent."""
    assert NeonError("no key").attempts == 0
    assert ConfigurationError("no key").attempts == 0


@pytest.mark.parametrize("error", _every_error(), ids=lambda e: type(e).__name__)
def test_errors_survive_pickling(error: NeonError) -> None:
    """An error crosses a process boundary (a process pool) whole: class, message, fields."""
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - bytes this test just made
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.args == error.args
    assert vars(copy).keys() == vars(error).keys()
    assert copy.attempts == error.attempts
    if isinstance(error, CreateOutcomeUnknownError):
        assert copy.candidates == error.candidates and str(copy.cause) == str(error.cause)
    else:
        assert vars(copy) == vars(error)


@pytest.mark.parametrize(
    ("failure", "timeout", "expected"),
    [
        (httpx.ReadTimeout, 30.0, "GET /auth: timed out after 30 s waiting for Neon to answer"),
        (httpx.ReadTimeout, httpx.Timeout(5.0, read=2.5), "timed out after 2.5 s waiting for Neon"),
        (httpx.ConnectTimeout, 4.0, "could not connect to console.neon.tech: timed out after 4 s"),
        (httpx.WriteTimeout, 6.0, "timed out after 6 s sending the request"),
        (httpx.PoolTimeout, 7.0, "timed out after 7 s waiting for a free connection in the pool"),
        (httpx.ReadTimeout, None, "GET /auth: timed out waiting for Neon to answer"),
    ],
)
def test_timeouts_say_what_was_waited_for_and_how_long(
    make_client: Any,
    fake: FakeNeon,
    failure: type[httpx.TimeoutException],
    timeout: Any,
    expected: str,
) -> None:
    """A timeout names its phase and the request's own limit for it, in seconds."""

    def slow(request: httpx.Request) -> httpx.Response:
        raise failure("timed out", request=request)

    fake.route("GET", "/auth", slow)
    with pytest.raises(APITimeoutError) as caught:
        run(make_client(timeout=timeout, max_retries=0).whoami())
    assert expected in str(caught.value)


def test_a_connect_and_a_read_timeout_read_differently(make_client: Any, fake: FakeNeon) -> None:
    """A connect timeout never reached Neon; a read timeout waited for its answer: two messages."""
    messages = []
    for failure in (httpx.ConnectTimeout, httpx.ReadTimeout):

        def slow(request: httpx.Request, failure: Any = failure) -> httpx.Response:
            raise failure("timed out", request=request)

        fake.route("GET", "/auth", slow)
        with pytest.raises(APITimeoutError) as caught:
            run(make_client(max_retries=0).whoami())
        messages.append(str(caught.value))
    assert "could not connect" in messages[0] and "waiting for Neon" not in messages[0]
    assert "waiting for Neon to answer" in messages[1] and "connect" not in messages[1]


def test_a_shown_value_is_cut_to_forty_characters() -> None:
    """A bad value is shown whole up to 40 characters of its repr, else its first 37 and '...'."""
    whole = InvalidInputError("name", "too odd", "x" * 38)  # repr: 40 characters
    assert str(whole) == f"invalid name: too odd (got {'x' * 38!r})"
    cut = InvalidInputError("name", "too odd", "y" * 39)  # repr: 41 characters
    assert str(cut) == f"invalid name: too odd (got '{'y' * 36}...)"
    assert str(InvalidInputError("name", "too odd")) == "invalid name: too odd"


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (503, "Service Unavailable")])
def test_an_error_answer_without_a_message_is_named_by_its_reason_phrase(
    make_client: Any, fake: FakeNeon, status: int, reason: str
) -> None:
    """An error body that parses but carries no message gives the status's reason phrase."""
    fake.route("GET", "/api_keys", json_response({}, status=status))
    with pytest.raises(NeonError) as caught:
        run(make_client(max_retries=0).personal_keys.list())
    assert caught.value.message == reason  # type: ignore[attr-defined]


@pytest.mark.parametrize("extra", [0, 1])
def test_an_error_body_is_cut_only_past_the_excerpt_length(
    make_client: Any, fake: FakeNeon, extra: int
) -> None:
    """A body of exactly the excerpt's length is shown whole; one character more is cut
    to the length, ending in an ellipsis."""
    from neon_keys._constants import ERROR_EXCERPT_LENGTH

    text = "x" * (ERROR_EXCERPT_LENGTH + extra)
    fake.route("GET", "/api_keys", httpx.Response(502, text=text))
    with pytest.raises(NeonError) as caught:
        run(make_client(max_retries=0).personal_keys.list())
    message = caught.value.message  # type: ignore[attr-defined]
    if extra:
        assert message == f"Bad Gateway: {text[: ERROR_EXCERPT_LENGTH - 3]}..."
    else:
        assert message == f"Bad Gateway: {text}"
