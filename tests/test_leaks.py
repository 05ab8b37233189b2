"""No credential leaks: the API key and fresh secrets never show where people or tools look.

A scenario runs every operation over a real socket to the emulator, successes and failures
(retries, a lost create, a cut answer, a reset, a timeout, 401, 403, 429), while every
logger records at DEBUG: ``neon_keys``, ``httpx``, ``httpcore`` and the root. Then no log
record (message, arguments, formatted exception, stack), no ``repr`` or ``str`` of a client,
key, outcome or error, and no formatted traceback of a raised error may contain the API key,
its ``Bearer`` header value, another token used, or any secret (or a piece of one) that
appeared in a response body.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from neon_keys import (
    APIConnectionError,
    APITimeoutError,
    AsyncNeonKeys,
    AuthenticationError,
    Backoff,
    CreateOutcomeUnknownError,
    NeonError,
    NeonKeys,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from neon_keys.testing import EmulatorServer, Fault, World
from rawhttp import RawServer

LOGGERS = ("", "neon_keys", "httpx", "httpcore", "uvicorn", "uvicorn.error")
TOKEN = re.compile(r"napi_[a-z0-9]{12,}")
WRONG_TOKEN = "napi_" + "w" * 60
"""An obviously fake token that Neon (the emulator) does not know."""


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """A loopback emulator: a real socket, so httpx and httpcore do their own logging."""
    with EmulatorServer(startup_timeout=10) as running:
        yield running


class Seen:
    """Every token the scenario meets, and every object it may print."""

    def __init__(self, world: World) -> None:
        self.tokens: set[str] = {world.seed.admin_token, world.seed.member_token, WRONG_TOKEN}
        self.objects: list[object] = []
        self.errors: list[NeonError] = []

    def body(self, content: bytes) -> None:
        """Keep every token, or piece of one, that a response body carried."""
        self.tokens.update(TOKEN.findall(content.decode("utf-8", "replace")))

    def forbidden(self) -> set[str]:
        """The texts that must never show: each token and its Authorization header value."""
        return self.tokens | {f"Bearer {token}" for token in self.tokens}


async def _call(thunk: Callable[[], Any]) -> Any:
    value = thunk()
    return await value if inspect.isawaitable(value) else value


async def _fails(seen: Seen, thunk: Callable[[], Any], expected: type[NeonError]) -> None:
    try:
        await _call(thunk)
    except NeonError as err:
        assert type(err) is expected, err
        seen.errors.append(err)
    else:
        pytest.fail(f"expected {expected.__name__}")


async def _scenario(neon: Any, world: World, seen: Seen) -> None:
    """Every operation, then failures of each kind; sync or async client alike."""
    org_id, project_id = world.seed.org_id, world.seed.project_id
    org = neon.org(org_id)
    personal = await _call(lambda: neon.personal_keys.create("leak-check"))
    org_key = await _call(lambda: org.keys.create("leak-check-org"))
    project_key = await _call(lambda: org.keys.create("leak-check-project", project_id=project_id))
    verified = await _call(lambda: neon.with_options(api_key=personal.secret).whoami())
    seen.objects += [neon, neon.with_options(max_retries=0), org, personal, org_key, project_key]
    seen.objects += [personal.secret, verified, await _call(neon.whoami)]
    seen.objects += await _call(neon.personal_keys.list)
    seen.objects += await _call(org.keys.list)
    seen.objects += await _call(neon.organizations)
    seen.objects.append(await _call(lambda: neon.personal_keys.revoke(personal.id)))
    seen.objects += await _call(lambda: org.keys.revoke_many([org_key.id, org_key.id + 1000]))

    faults = world.faults
    faults.inject("listApiKeys", Fault.status(503), times=3)
    await _fails(seen, neon.personal_keys.list, ServerError)
    faults.inject("createApiKey", Fault.lost_response())
    await _fails(seen, lambda: neon.personal_keys.create("lost"), CreateOutcomeUnknownError)
    faults.inject("createOrgApiKey", Fault.truncated_body())
    await _fails(seen, lambda: org.keys.create("cut"), CreateOutcomeUnknownError)
    faults.inject("createApiKey", Fault.status(500, committed=True))
    await _fails(seen, lambda: neon.personal_keys.create("lost-500"), CreateOutcomeUnknownError)
    faults.inject("createApiKey", Fault.html(502, committed=True))
    faults.inject("listApiKeys", Fault.status(401, message=f"no {world.seed.admin_token}"))
    await _fails(seen, lambda: neon.personal_keys.create("unlisted"), CreateOutcomeUnknownError)
    faults.inject("revokeOrgApiKey", Fault.reset(committed=True))
    await _fails(seen, lambda: org.keys.revoke(project_key.id), APIConnectionError)
    faults.inject("getAuthDetails", Fault.delay(1.0))
    quick = neon.with_options(timeout=0.2, max_retries=0)
    await _fails(seen, quick.whoami, APITimeoutError)
    assert world.log.settle(timeout=5)
    faults.inject("getCurrentUserOrganizations", Fault.status(429, headers={"Retry-After": "1"}))
    await _fails(seen, neon.with_options(max_retries=0).organizations, RateLimitError)
    echo = f"key {world.seed.admin_token} (Bearer {world.seed.admin_token}) may not list"
    faults.inject("listOrgApiKeys", Fault.status(403, message=echo, code=world.seed.admin_token))
    await _fails(seen, org.keys.list, PermissionDeniedError)
    faults.inject("getAuthDetails", Fault.response(200, b'{"account_id": 7}'))
    await _fails(seen, neon.whoami, UnexpectedResponseError)
    await _fails(seen, neon.with_options(api_key=WRONG_TOKEN).whoami, AuthenticationError)
    stale = neon.with_options(api_key=personal.secret)  # the key revoked above
    await _fails(seen, stale.personal_keys.list, AuthenticationError)
    seen.objects += [stale, *seen.errors]


def _run(flavour: str, server: EmulatorServer, seen: Seen) -> None:
    world = server.world
    options: dict[str, Any] = {
        "api_key": world.seed.admin_token,
        "base_url": server.base_url,
        "backoff": Backoff.immediate(),
        "timeout": 5.0,
    }
    if flavour == "sync":

        def keep(response: httpx.Response) -> None:
            seen.body(response.read())

        with (
            httpx.Client(timeout=5.0, event_hooks={"response": [keep]}) as http,
            NeonKeys(http_client=http, **options) as neon,
        ):
            asyncio.run(_scenario(neon, world, seen))
        return

    async def akeep(response: httpx.Response) -> None:
        seen.body(await response.aread())

    async def main() -> None:
        async with (
            httpx.AsyncClient(timeout=5.0, event_hooks={"response": [akeep]}) as http,
            AsyncNeonKeys(http_client=http, **options) as neon,
        ):
            await _scenario(neon, world, seen)

    asyncio.run(main())


def _record_texts(record: logging.LogRecord) -> list[str]:
    texts = [record.getMessage(), repr(record.args), str(record.msg), str(vars(record))]
    if record.exc_info:
        texts.append(logging.Formatter().formatException(record.exc_info))
    texts += [record.exc_text or "", record.stack_info or ""]
    return texts


def _leaks(texts: list[str], forbidden: set[str]) -> list[str]:
    return sorted({secret for text in texts for secret in forbidden if secret in text})


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger that might see a request records at DEBUG."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_no_secret_in_any_log_record(
    server: EmulatorServer, debug_logs: pytest.LogCaptureFixture, flavour: str
) -> None:
    """No log record at any level, from any logger, holds the API key or a secret."""
    server.world = World.seeded()
    seen = Seen(server.world)
    _run(flavour, server, seen)
    records = debug_logs.records
    # The loggers that matter did speak: the check below looked at real output.
    assert {"neon_keys", "httpx"} <= {record.name for record in records}
    assert any(record.name.startswith("httpcore") for record in records)
    assert {logging.DEBUG, logging.INFO, logging.WARNING} <= {r.levelno for r in records}
    assert len(seen.tokens) >= 6  # the caller's, others, three fresh secrets, a cut one
    texts = [text for record in records for text in _record_texts(record)]
    assert _leaks(texts, seen.forbidden()) == []


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_no_secret_in_reprs_messages_or_tracebacks(server: EmulatorServer, flavour: str) -> None:
    """repr and str of clients, keys and errors, and formatted tracebacks, never show one."""
    server.world = World.seeded()
    seen = Seen(server.world)
    _run(flavour, server, seen)
    texts: list[str] = []
    for obj in seen.objects:
        texts += [repr(obj), str(obj), f"{obj}"]
    for error in seen.errors:
        texts += ["".join(traceback.format_exception(error)), repr(error.args)]
        texts += [repr(vars(error))]
    assert _leaks(texts, seen.forbidden()) == []
    # The tracebacks checked are the full chains: httpx's own exceptions are in them.
    chained = "".join(texts)
    assert "httpx.ReadError" in chained and "httpx.RemoteProtocolError" in chained
    assert "httpx.ReadTimeout" in chained and "[redacted]" in chained
    assert "CreateOutcomeUnknownError" in chained


# -- a server that echoes the token into every field and header it can ------------------------

ECHOED = "napi_" + "e3c7o" * 12
"""The caller's token, which the echoing server puts everywhere it can."""


def _pieces(token: str, size: int = 12) -> set[str]:
    """Every run of ``size`` characters of ``token``: what a cut token leaves behind."""
    return {token[start : start + size] for start in range(len(token) - size + 1)}


def _echo(status: str, body: bytes, **headers: str) -> bytes:
    """An answer with the token in the reason phrase, a header of every kind, and ``body``."""
    fields = {
        "Content-Type": f"application/json; note={ECHOED}",
        "Content-Length": str(len(body)),
        "x-neon-ret-request-id": ECHOED,
        "Date": ECHOED,
        "Retry-After": ECHOED,
        "Location": f"https://elsewhere.example/?token={ECHOED}",
        "WWW-Authenticate": f"Bearer realm={ECHOED}",
        "X-Echo": f"Authorization: Bearer {ECHOED}",
        f"X-{ECHOED}": "1",
        **headers,
    }
    code, _, reason = status.partition(" ")
    return (
        f"HTTP/1.1 {code} {reason} {ECHOED}".encode()
        + b"".join(f"\r\n{name}: {value}".encode() for name, value in fields.items())
        + b"\r\n\r\n"
        + body
    )


_ERROR_BODY = json.dumps(
    {"code": ECHOED, "message": f"bad token Bearer {ECHOED} ({ECHOED})", "request_id": ECHOED}
).encode()
_PAGE = (
    "<html><body>" + "x" * 180 + f" Authorization: Bearer {ECHOED} {ECHOED}</body></html>"
).encode()
_SHAPES = json.dumps(
    {"id": ECHOED, "key": ECHOED, "name": ECHOED, "created_at": ECHOED, "account_id": 5}
).encode()
_LISTING = json.dumps([{"id": 1, "name": ECHOED, "created_at": ECHOED, "created_by": ECHOED}])

ECHO_ANSWERS: dict[str, bytes] = {
    "401 json": _echo("401 Unauthorized", _ERROR_BODY),
    "403 html cut": _echo("403 Forbidden", _PAGE, **{"Content-Type": "text/html"}),
    "404 text": _echo("404 Not Found", (" " * 190 + ECHOED).encode()),
    "429 json": _echo("429 Too Many Requests", _ERROR_BODY),
    "500 json": _echo("500 Internal Server Error", _ERROR_BODY),
    "502 html": _echo("502 Bad Gateway", _PAGE),
    "302 redirect": _echo("302 Found", b""),
    "200 shapes": _echo("200 OK", _SHAPES),
    "200 listing": _echo("200 OK", _LISTING.encode()),
    "200 coding": _echo("200 OK", b"{}", **{"Content-Encoding": ECHOED}),
    "400 coding": _echo("400 Bad Request", b"{}", **{"Content-Encoding": f"gzip, {ECHOED}"}),
    "200 malformed header": _echo("200 OK", b"{}", **{f"Bad {ECHOED}": "x"}).replace(
        f"Bad {ECHOED}: x".encode(), f"Bad {ECHOED}".encode()
    ),
}
"""Answers that put the token into every field of an answer the client reads."""

ECHO_CALLS: dict[str, Callable[[Any], Any]] = {
    "listApiKeys": lambda n: n.personal_keys.list(),
    "createApiKey": lambda n: n.personal_keys.create("echo"),
    "revokeApiKey": lambda n: n.personal_keys.revoke(7),
    "listOrgApiKeys": lambda n: n.org("org-echo").keys.list(),
    "createOrgApiKey": lambda n: n.org("org-echo").keys.create("echo", project_id="p-echo"),
    "revokeOrgApiKey": lambda n: n.org("org-echo").keys.revoke(7),
    "getAuthDetails": lambda n: n.whoami(),
    "getCurrentUserOrganizations": lambda n: n.organizations(),
}


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_server_echoing_the_token_everywhere_leaks_it_nowhere(
    debug_logs: pytest.LogCaptureFixture, flavour: str
) -> None:
    """Whatever field or header a server (or proxy) echoes the token into, for every
    operation, no error, traceback, log record (any logger, DEBUG) or warning shows it."""
    current = {"answer": b""}
    with RawServer(lambda request: [current["answer"]]) as server:
        options: dict[str, Any] = {
            "api_key": ECHOED,
            "base_url": server.base_url,
            "backoff": Backoff.immediate(),
            "max_retries": 1,
            "timeout": 5.0,
        }
        errors: list[BaseException] = []
        outcomes: set[str] = set()

        async def every_call(neon: Any) -> None:
            for name, answer in ECHO_ANSWERS.items():
                current["answer"] = answer
                for operation, call in ECHO_CALLS.items():
                    try:
                        result = await _call(lambda c=call: c(neon))
                    except NeonError as err:
                        errors.append(err)
                        outcomes.add(f"{name} {operation} {type(err).__name__}")
                    else:
                        outcomes.add(f"{name} {operation} {type(result).__name__}")

        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            if flavour == "sync":
                with NeonKeys(**options) as neon:
                    asyncio.run(every_call(neon))
            else:

                async def main() -> None:
                    async with AsyncNeonKeys(**options) as neon:
                        await every_call(neon)

                asyncio.run(main())
    assert len(server.requests) >= len(ECHO_ANSWERS) * len(ECHO_CALLS)
    # Every operation met every answer, and nothing but NeonErrors (or results) came out.
    assert len(outcomes) == len(ECHO_ANSWERS) * len(ECHO_CALLS)
    assert any("CreateOutcomeUnknownError" in o for o in outcomes)
    assert any("UnexpectedResponseError" in o for o in outcomes)
    assert any("APIConnectionError" in o for o in outcomes)

    texts = [str(w.message) for w in warned]
    for error in errors:
        texts += [str(error), repr(error), repr(error.args), repr(vars(error))]
        texts.append("".join(traceback.format_exception(error)))
    records = debug_logs.records
    assert {"neon_keys", "httpx"} <= {record.name for record in records}
    assert any(record.name.startswith("httpcore") for record in records)
    texts += [text for record in records for text in _record_texts(record)]
    forbidden = _pieces(ECHOED) | {f"Bearer {ECHOED}"}
    assert _leaks(texts, forbidden) == []
    # The redaction did its work where the token was: it is not missing by luck.
    joined = "".join(texts)
    assert joined.count("[redacted]") > 100
