"""The fault suite: every operation meets every kind of fault, through the library and the emulator.

Each case runs one call of ``NeonKeys`` or ``AsyncNeonKeys`` against the emulator while a
fault strikes that operation, either on every request ("always") or on the first only
("once", generated only where the policy retries, since otherwise it is the same case).
It checks what the caller gets (the result, or the exact error class with its
``attempts``), how many requests the emulator saw, and the state left behind: a create
leaves at most one key of its name, and a create whose answer was lost names that key in
``CreateOutcomeUnknownError.candidates``.

What to expect is derived in one place, ``expected()``, from the retry table of the
documentation (docs/guide/retries.md), copied in ``POLICY``; a test checks that the
page still says the same. Faults that need a real socket (a connection reset, a
response slower than the client's timeout) run against ``EmulatorServer`` on 127.0.0.1;
the others run in process. Backoff is ``Backoff.immediate()``: nothing sleeps, except the
client's timeout in the slow-response cases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from neon_keys import (
    APIConnectionError,
    APIError,
    APIKey,
    APITimeoutError,
    AsyncNeonKeys,
    AuthDetails,
    Backoff,
    CreateOutcomeUnknownError,
    LockedError,
    NeonError,
    NeonKeys,
    Organization,
    OrgKey,
    PersonalKey,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from neon_keys.testing import (
    AsyncEmulatorTransport,
    EmulatorServer,
    EmulatorTransport,
    Fault,
    World,
)

README = Path(__file__).resolve().parents[1] / "docs" / "guide" / "retries.md"

MAX_RETRIES = 2
"""The client's default, used by every case."""

CLIENT_TIMEOUT = 0.1
"""Seconds the client waits in the slow-response cases (the emulator holds 0.4 s longer).

Small, because a GET that always times out costs three of them; still some 30 times what
a request to the emulator on loopback takes."""

NAME = "fault-suite-key"
"""The name of every key the suite creates."""

# -- the documented policy -----------------------------------------------------------------

GET, WRITE = "GET", "POST / DELETE"

OTHER_5XX = "any other 5xx (500, 502, 504, a proxy's 520-524, ...)"

POLICY: dict[str, dict[str, str]] = {
    "connect failure (nothing sent)": {GET: "retried", WRITE: "retried"},
    "429, 503, 423": {GET: "retried", WRITE: "retried"},
    OTHER_5XX: {GET: "retried", WRITE: "not retried"},
    "timeout or dropped connection after sending": {GET: "retried", WRITE: "not retried"},
    "other 4xx": {GET: "raised", WRITE: "raised"},
}
"""The documented retry table, row by row: outcome -> method column -> what the client does."""


def _readme_policy() -> dict[str, dict[str, str]]:
    """The retry table as the retry page states it."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| outcome | GET | POST / DELETE |")
    table: dict[str, dict[str, str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        outcome, get, write = (cell.strip() for cell in line.strip("|").split("|"))
        table[outcome] = {GET: get, WRITE: write}
    return table


def test_readme_states_the_policy_the_suite_checks() -> None:
    """The retry table in the retry page is the one the suite derives its expectations from."""
    assert _readme_policy() == POLICY


# -- the fault kinds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of fault, and where it sits in the policy table."""

    name: str
    fault: Fault
    error: type[NeonError] | None
    """What the caller gets when the fault is not retried; None: the call still succeeds."""
    row: str | None
    """The retry page's row that covers it; None for a 2xx, which is never retried."""
    status: int | None = None
    socket: bool = False
    """Whether it needs a real socket (``EmulatorServer``) rather than the in-process transport."""


KINDS = [
    Kind("500", Fault.status(500, committed=True), ServerError, OTHER_5XX, 500),
    Kind("502-html", Fault.html(502, committed=True), ServerError, OTHER_5XX, 502),
    Kind("524-proxy", Fault.html(524, committed=True), ServerError, OTHER_5XX, 524),
    Kind("503", Fault.status(503), ServerError, "429, 503, 423", 503),
    Kind("423", Fault.status(423), LockedError, "429, 503, 423", 423),
    Kind(
        "429-retry-after",
        Fault.status(429, headers={"Retry-After": "1"}),
        RateLimitError,
        "429, 503, 423",
        429,
    ),
    Kind(
        "connection-reset",
        Fault.reset(committed=True),
        APIConnectionError,
        "timeout or dropped connection after sending",
        socket=True,
    ),
    Kind(
        "slow-response",
        Fault.delay(CLIENT_TIMEOUT + 0.4),
        APITimeoutError,
        "timeout or dropped connection after sending",
        socket=True,
    ),
    Kind("truncated-json", Fault.truncated_body(), UnexpectedResponseError, None),
    Kind("wrong-content-type", Fault.content_type("text/html; charset=utf-8"), None, None),
    Kind(
        "dropped-mid-body",
        Fault.lost_response(),
        APIConnectionError,
        "timeout or dropped connection after sending",
    ),
]
"""The nine kinds of the reliability issue, and a connection dropped halfway through the
answer. 500, 502, resets, drops and slow responses strike after the server acted (the
worst case: a create happened), 503, 423 and 429 before (as Neon promises for them)."""


# -- the operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One of the eight operations, and how a case calls it."""

    operation_id: str
    method: str
    call: Callable[[Any, int], Any]
    """``call(client, key_id)``: the call, on a sync or async client (then awaited)."""
    returns: type
    """The class of the result; for lists, of every item."""
    listing: str | None = None
    """For creates: the operation listed to look for a lost key."""
    victim: str | None = None
    """For revokes: ``"personal"`` or ``"org"``, the kind of key revoked."""


ORG = "org-cool-breeze-12345678"

OPS = [
    Op("listApiKeys", "GET", lambda n, _: n.personal_keys.list(), PersonalKey),
    Op(
        "createApiKey",
        "POST",
        lambda n, _: n.personal_keys.create(NAME),
        PersonalKey,
        listing="listApiKeys",
    ),
    Op(
        "revokeApiKey",
        "DELETE",
        lambda n, key_id: n.personal_keys.revoke(key_id),
        PersonalKey,
        victim="personal",
    ),
    Op("listOrgApiKeys", "GET", lambda n, _: n.org(ORG).keys.list(), OrgKey),
    Op(
        "createOrgApiKey",
        "POST",
        lambda n, _: n.org(ORG).keys.create(NAME),
        OrgKey,
        listing="listOrgApiKeys",
    ),
    Op(
        "revokeOrgApiKey",
        "DELETE",
        lambda n, key_id: n.org(ORG).keys.revoke(key_id),
        OrgKey,
        victim="org",
    ),
    Op("getAuthDetails", "GET", lambda n, _: n.whoami(), AuthDetails),
    Op("getCurrentUserOrganizations", "GET", lambda n, _: n.organizations(), Organization),
]


# -- what to expect: the one place ------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a case must observe."""

    attempts: int
    error: type[NeonError] | None
    cause: type[NeonError] | None = None
    acted: bool = False
    """Whether the server carried the operation out (a key created or revoked)."""


def expected(op: Op, kind: Kind, always: bool) -> Expected:
    """The outcome the retry page promises when ``kind`` strikes ``op`` (``always`` or once)."""
    if kind.error is None:  # the body is still the right JSON, whatever its label says
        return Expected(attempts=1, error=None, acted=True)
    column = GET if op.method == "GET" else WRITE
    retried = kind.row is not None and POLICY[kind.row][column] == "retried"
    if retried:
        attempts = MAX_RETRIES + 1 if always else 2
        error = kind.error if always else None
    else:
        attempts, error = 1, kind.error
    # The server acts on a request the fault lets through, or one it strikes after acting.
    acted = error is None or kind.fault.committed
    if op.listing is not None and error is not None and not retried:
        # A create whose answer is lost or unreadable: never resent, the key is looked for.
        return Expected(attempts, CreateOutcomeUnknownError, cause=error, acted=acted)
    return Expected(attempts, error, acted=acted)


# -- running one case ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """One loopback emulator for the cases that need a socket; each case brings its world."""
    with EmulatorServer(startup_timeout=10) as running:
        yield running


def _prepare(world: World, op: Op) -> int:
    """A key for a revoke case to revoke (0 for the other operations)."""
    if op.victim == "personal":
        token = world.issue_personal_key(world.seed.admin_id, "victim")
    elif op.victim == "org":
        token = world.issue_org_key(world.seed.org_id, "victim")
    else:
        return 0
    info = world.key_for_token(token)
    assert info is not None
    return info.id


def _perform_sync(op: Op, key_id: int, options: dict[str, Any], http: httpx.Client) -> Any:
    with http, NeonKeys(http_client=http, **options) as neon:
        try:
            return op.call(neon, key_id)
        except NeonError as err:
            return err


async def _perform_async(
    op: Op, key_id: int, options: dict[str, Any], http: httpx.AsyncClient
) -> Any:
    async with http, AsyncNeonKeys(http_client=http, **options) as neon:
        try:
            return await op.call(neon, key_id)
        except NeonError as err:
            return err


def _perform(
    flavour: str, op: Op, kind: Kind, world: World, *, key_id: int, server: EmulatorServer | None
) -> Any:
    """Make the call; return its result or the NeonError it raised."""
    timeout = CLIENT_TIMEOUT if kind.name == "slow-response" else 10.0
    options: dict[str, Any] = {
        "api_key": world.seed.admin_token,
        "backoff": Backoff.immediate(),
        "timeout": timeout,
        "max_retries": MAX_RETRIES,
    }
    if server is not None:
        options["base_url"] = server.base_url
        if flavour == "sync":
            return _perform_sync(op, key_id, options, httpx.Client(timeout=timeout))
        return asyncio.run(_perform_async(op, key_id, options, httpx.AsyncClient(timeout=timeout)))
    if flavour == "sync":
        transport = EmulatorTransport(world)
        options["base_url"] = transport.base_url
        return _perform_sync(op, key_id, options, httpx.Client(transport=transport))
    async_transport = AsyncEmulatorTransport(world)
    options["base_url"] = async_transport.base_url
    http = httpx.AsyncClient(transport=async_transport)
    return asyncio.run(_perform_async(op, key_id, options, http))


def _named(world: World, op: Op) -> list[int]:
    """Ids of the live keys named ``NAME`` in the scope ``op`` creates in."""
    keys = (
        world.personal_keys(world.seed.admin_id)
        if op.operation_id == "createApiKey"
        else world.org_keys(world.seed.org_id)
    )
    return [key.id for key in keys if key.name == NAME]


CASES = [
    pytest.param(
        op, kind, always, id=f"{op.operation_id}-{kind.name}-{'always' if always else 'once'}"
    )
    for op in OPS
    for kind in KINDS
    for always in (True, False)
    # A fault that is not retried meets one request either way: "once" would repeat "always".
    if always or expected(op, kind, always=False) != expected(op, kind, always=True)
]


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize(("op", "kind", "always"), CASES)
def test_fault(
    request: pytest.FixtureRequest, flavour: str, op: Op, kind: Kind, always: bool
) -> None:
    """The call returns or raises as the policy says, after exactly the expected attempts."""
    want = expected(op, kind, always)
    world = World.seeded()
    server: EmulatorServer | None = None
    if kind.socket:
        server = request.getfixturevalue("server")
        server.world = world
    key_id = _prepare(world, op)
    world.faults.inject(op.operation_id, kind.fault, times=None if always else 1)

    outcome = _perform(flavour, op, kind, world, key_id=key_id, server=server)
    assert world.log.settle(timeout=10), "the emulator is still serving requests"

    # What the caller got.
    if want.error is None:
        items = outcome if isinstance(outcome, list) and op.method == "GET" else [outcome]
        assert all(isinstance(item, op.returns) for item in items), outcome
    else:
        assert type(outcome) is want.error, outcome
        assert outcome.attempts == want.attempts
    if isinstance(outcome, APIError):
        assert outcome.status_code == kind.status
    if isinstance(outcome, RateLimitError):
        assert outcome.retry_after == 1.0
    if isinstance(outcome, APIConnectionError):
        assert outcome.request_sent is not False

    # What the server saw.
    assert world.log.count(op.operation_id) == want.attempts

    # What is left behind.
    if op.listing is not None:
        named = _named(world, op)
        assert len(named) == (1 if want.acted else 0)  # never a duplicate
        if isinstance(outcome, APIKey):
            assert named == [outcome.id] and outcome.secret is not None
        if isinstance(outcome, CreateOutcomeUnknownError):
            assert type(outcome.cause) is want.cause
            assert outcome.candidates is not None
            assert [key.id for key in outcome.candidates] == named
            assert all(str(key_id) in str(outcome) for key_id in named)
            assert "revoke" in str(outcome)
            assert world.log.count(op.listing) == 1  # it looked, once
        else:
            assert world.log.count(op.listing) == 0
    if op.victim is not None:
        assert world.key(key_id).revoked is want.acted
        if want.error is None:
            assert outcome.id == key_id and outcome.revoked


def test_the_suite_covers_every_operation_and_kind() -> None:
    """Eight operations and eleven kinds of fault, each pair struck always (and once if retried)."""
    assert len(OPS) == 8 and len(KINDS) == 11
    assert len({op.operation_id for op in OPS}) == 8
    always = {
        (op.operation_id, kind.name) for op, kind, every in (c.values for c in CASES) if every
    }
    assert len(always) == 8 * 11


def test_expected_outcomes_follow_the_table() -> None:
    """Spot checks of expected(): what the retry page's table says for a few cells."""
    get, post, delete = OPS[0], OPS[1], OPS[2]
    by_name = {kind.name: kind for kind in KINDS}
    assert expected(get, by_name["500"], always=True) == Expected(3, ServerError, acted=True)
    assert expected(get, by_name["500"], always=False) == Expected(2, None, acted=True)
    assert expected(post, by_name["500"], always=False) == Expected(
        1, CreateOutcomeUnknownError, cause=ServerError, acted=True
    )
    assert expected(post, by_name["503"], always=True) == Expected(3, ServerError, acted=False)
    assert expected(post, by_name["524-proxy"], always=True) == Expected(
        1, CreateOutcomeUnknownError, cause=ServerError, acted=True
    )
    assert expected(delete, by_name["slow-response"], always=True) == Expected(
        1, APITimeoutError, acted=True
    )
    assert expected(delete, by_name["wrong-content-type"], always=True) == Expected(
        1, None, acted=True
    )
