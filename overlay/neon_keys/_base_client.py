"""What the sync and async clients share: settings, request building, the retry flow.

The whole life of a call (attempts, waits, error mapping, the search for a key whose create
may have happened) is one generator, ``BaseClient._flow``. It yields *steps*, a request to
send or a wait, and receives the outcome of each send. ``NeonKeys`` and ``AsyncNeonKeys``
only drive it, with blocking or awaiting I/O, so every decision is made in one place.

A create keeps a ``Progress`` up to date, so that its driver knows, if something from
outside interrupts it, whether its request left; ``_interrupted`` is then the flow of the
bounded search for its key. Every wait goes through ``_wait``, which the test mode
(``neon_keys.set_testing``) skips.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import functools
import ipaddress
import json
import logging
import os
import re
import ssl
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar

import httpx

from . import _operations as ops
from . import _test_mode
from ._body import ACCEPT_ENCODING, Answer
from ._constants import (
    API_HOST_ENV,
    API_KEY_ENV,
    DEFAULT_BASE_URL,
    ERROR_EXCERPT_LENGTH,
    INTERRUPTED_SEARCH_SECONDS,
    REQUEST_ID_HEADER,
    RESPONSE_REQUEST_ID_HEADER,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigurationError,
    CreateOutcomeUnknownError,
    InsecureTransportError,
    NeonError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnexpectedResponseError,
    error_class_for,
)
from ._interrupts import InterruptedCreate
from ._models import APIKey, AuthDetails, KeyKind
from ._operations import DeliveredKeys, Operation, OrphanSearch, candidates_of, search_start
from ._pacing import NoPacing, Pacer, RateLimits
from ._parsing import ShapeError, error_fields
from ._redaction import protect_logs, redact, redact_chain
from ._retry import Backoff, Verdict, judge, parse_retry_after, request_was_sent
from ._secret import Secret
from ._server_clock import ServerClock
from ._version import __version__

T = TypeVar("T")

logger = logging.getLogger("neon_keys")

Timeout = float | httpx.Timeout | None
"""Seconds for each phase of a request, an ``httpx.Timeout``, or None for no limit."""

Verify = bool | str | os.PathLike[str] | ssl.SSLContext
"""TLS verification: True (system CAs), a CA bundle path, an ``SSLContext``, or False."""


@dataclass(frozen=True, slots=True)  # pragma: no mutate (private; never assigned)
class Send:
    """A step of a call: send this request and reply with its ``Answer`` (the response with
    its body read within bounds) or the transport error."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)  # pragma: no mutate (private; never assigned)
class Sleep:
    """A step of a call: wait this many seconds, then reply with None."""

    seconds: float


Step = Send | Sleep
Flow = Generator[Step, "Answer | httpx.RequestError | None", T]


class NotGiven:
    """Marks an option left out of ``with_options`` (as opposed to one set to None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

FIXED_HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": ACCEPT_ENCODING,  # the codings _body inflates within bounds
    "User-Agent": f"neon-api-keys/{__version__} python-httpx/{httpx.__version__}",
}
"""Headers of every request, besides the key and the request id."""


@dataclass(frozen=True, slots=True)  # pragma: no mutate (private; never assigned)
class Shared:
    """What a client shares with its copies (``with_options``). Strictly private.

    One pacer, because the copies call for one account at one pace; one memory of the
    keys delivered, so that no copy blames a key another one returned; one reading of
    Neon's clock, which every answer to any of them updates.
    """

    pacer: Pacer | NoPacing
    delivered: DeliveredKeys
    clock: ServerClock

    @classmethod
    def new(cls, rate_limits: RateLimits | None) -> Shared:
        """A client's own: a pacer under ``rate_limits`` (None: no pacing), no key delivered."""
        if rate_limits is not None and not isinstance(rate_limits, RateLimits):
            raise ConfigurationError(
                f"rate_limits must be a RateLimits or None, not {type(rate_limits).__name__}"
            )
        pacer = NoPacing() if rate_limits is None else Pacer(rate_limits)
        return cls(pacer, DeliveredKeys(), ServerClock())


@dataclass(slots=True)  # pragma: no mutate (slots: memory only)
class Progress:
    """How far a call that creates a key got, for its driver if it is interrupted.

    ``sent_at`` is the ``time.monotonic()`` at which the create request that may have
    made the key was handed to the transport, or None while no such request has left
    (before the first attempt, and after an attempt answered 429, 503 or 423, or whose
    connection failed: Neon made nothing then).
    """

    search: OrphanSearch
    sent_at: float | None = None
    created: APIKey | None = None
    """The key made, once Neon's answer was read: an interruption from then on hands it back
    (with its secret) rather than looking for it."""


HttpClient = TypeVar("HttpClient", httpx.Client, httpx.AsyncClient)


class Pool(Generic[HttpClient]):
    """The connection pool of a client and of its copies (``with_options``). Strictly private.

    ``client`` sends the requests. A pool the library made (``owned``) is closed by the
    client that made it, and ``renew`` may replace it; one given as ``http_client`` is the
    caller's and is never replaced or closed here.
    """

    def __init__(self, given: HttpClient | None, make: Callable[[], HttpClient]) -> None:
        self.owned = given is None
        self.client: HttpClient = make() if given is None else given
        self._make: Callable[[], HttpClient] = make
        self._lock = threading.Lock()

    def renew(self, spoilt: HttpClient) -> HttpClient | None:
        """Replace ``spoilt`` (if it is still the pool, and the library made it) by a new
        pool; return it for the caller to dispose of, or None if nothing was replaced."""
        with self._lock:
            if not self.owned or self.client is not spoilt:
                return None
            self.client = self._make()
            return spoilt


class BaseClient:
    """Settings and decisions shared by ``NeonKeys`` and ``AsyncNeonKeys``. Strictly private."""

    @property
    def _http(self) -> httpx.Client | httpx.AsyncClient:
        """The httpx client (the connection pool) that sends this client's requests."""
        raise NotImplementedError

    def __init__(
        self,
        api_key: str | Secret | None,
        *,
        base_url: str | None,
        timeout: Timeout,
        max_retries: int,
        backoff: Backoff | None,
        rate_limits: RateLimits | None,
        shared: Shared | None,
    ) -> None:
        self._api_key = resolve_api_key(api_key)
        protect_logs()
        self.base_url = _resolve_base_url(base_url)
        self.timeout = timeout
        self.max_retries = check_max_retries(max_retries)
        if backoff is not None and not isinstance(backoff, Backoff):
            raise ConfigurationError(f"backoff must be a Backoff, not {type(backoff).__name__}")
        self.backoff = backoff or Backoff()
        self._shared = shared if shared is not None else Shared.new(rate_limits)
        # Filled in by the subclass once its connection pool exists.
        self._headers: dict[str, str] = dict(FIXED_HEADERS)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def server_now(self) -> datetime.datetime | None:
        """Neon's current time (UTC), from the ``Date`` of its latest answer; no request.

        Leases expire by Neon's clock, not this machine's. The estimate is that answer's
        time plus the time elapsed here since (on a monotonic clock); it errs early by up
        to a second, never late. None until an answer with a ``Date`` has arrived (to this
        client or any of its ``with_options`` copies).
        """
        return self._shared.clock.now()

    def _copy_options(
        self,
        api_key: str | Secret | NotGiven,
        timeout: Timeout | NotGiven,
        max_retries: int | NotGiven,
        backoff: Backoff | NotGiven,
    ) -> dict[str, Any]:
        """The constructor's arguments for a copy of this client with some settings changed.

        The copy is built by the constructor, so every check runs again; it shares this
        client's connection pool (without owning it), its pacer and its memory of keys.
        """
        return {
            "api_key": self._api_key if isinstance(api_key, NotGiven) else api_key,
            "base_url": self.base_url,
            "timeout": self.timeout if isinstance(timeout, NotGiven) else timeout,
            "max_retries": self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            "backoff": self.backoff if isinstance(backoff, NotGiven) else backoff,
            "_shared": self._shared,
        }

    # -- one call ----------------------------------------------------------------------

    def _build_request(
        self,
        operation: Operation[Any],
        request_id: str,
        timeout: Timeout | NotGiven = NOT_GIVEN,
    ) -> httpx.Request:
        headers = {
            **self._headers,  # empty when the pool sends them already
            # The token is kept in its Secret only, and put in each request's headers.
            "Authorization": f"Bearer {(operation.credential or self._api_key).reveal()}",
            REQUEST_ID_HEADER: request_id,
        }
        return self._http.build_request(
            operation.method,
            _url(self.base_url + operation.path),
            json=operation.json,
            headers=headers,
            timeout=self.timeout if isinstance(timeout, NotGiven) else timeout,
        )

    def _whoami(self) -> Flow[AuthDetails]:
        """``GET /auth``; for an organization or project-scoped key, also its organization.

        Neon's newest description answers ``GET /users/me/organizations`` called with such
        a key with the one organization that owns it. An older service refuses the call
        (403) or does not know it (404): whoami then answers without the organization.
        """
        details = yield from self._flow(ops.get_auth_details())
        if details.key_kind is not KeyKind.ORG:
            return details
        try:
            organizations = yield from self._flow(ops.list_organizations())
        except (PermissionDeniedError, NotFoundError):
            return details
        owner = ops.owning_organization(details, organizations)
        return details if owner is None else dataclasses.replace(details, organization=owner)

    def _flow(
        self,
        operation: Operation[T],
        progress: Progress | None = None,
        deadline: float | None = None,
    ) -> Flow[T]:
        """Perform ``operation`` with retries; see the module docstring.

        ``progress`` is kept up to date for a create (see ``Progress``). With a
        ``deadline`` (a ``time.monotonic()``), no request outlives it and no wait passes
        it: the call fails with ``APITimeoutError`` instead.
        """
        request_id = str(uuid.uuid4())
        attempt = 0
        pacer = self._shared.pacer
        search = operation.orphan_search
        sent_at = time.monotonic()
        while True:
            attempt += 1
            if (wait := pacer.reserve(operation.operation_id)) > 0:
                yield from self._wait(wait, operation, deadline)
            request = self._build_request(operation, request_id, self._timeout_until(deadline))
            sent_at = time.monotonic()
            if progress is not None:
                progress.sent_at = sent_at  # from here on the key may exist
            outcome = yield Send(request)
            assert outcome is not None
            if isinstance(outcome, Answer):
                self._shared.clock.observe(outcome.response.headers.get("date"))
            self._log_attempt(operation, attempt, request_id, outcome)
            if isinstance(outcome, Answer) and outcome.response.is_success:
                pacer.recovered()
                try:
                    result = self._parse_success(operation, outcome, attempt)
                except UnexpectedResponseError as unreadable:
                    if search is None:
                        raise
                    # Created, but the answer (its id, its only copy of the secret) is
                    # unreadable: as good as lost, so look for the key like any lost create.
                    yield from self._create_outcome_unknown(search, unreadable, sent_at, attempt)
                if search is not None and isinstance(result, APIKey):
                    self._created(result, progress)
                return result
            error = self._error_for(operation, outcome, request)
            error.attempts = attempt
            verdict, retry_after = _judge(operation.method, outcome)
            delay = self.backoff.delay(attempt, retry_after)
            paused = False
            if isinstance(error, RateLimitError):
                # Hold every call of this client, not only this one, until Neon allows more;
                # a longer Retry-After than the client waits for is the caller's to honour.
                cap = self.backoff.max_retry_after * self.backoff.scale
                paused = pacer.backoff(delay if delay is not None else cap)
            if (
                verdict is Verdict.RETRY
                and attempt <= self.max_retries
                and delay is not None
                and (deadline is None or time.monotonic() + delay < deadline)
            ):
                if progress is not None:
                    progress.sent_at = None  # Neon made nothing: the attempt may be repeated
                if not paused and delay > 0:
                    yield from self._wait(delay, operation, deadline)
                continue
            cause = outcome if isinstance(outcome, httpx.RequestError) else None
            if verdict is Verdict.AMBIGUOUS and search is not None:
                error.__cause__ = cause  # as "raise error from cause" would: kept in the chain
                yield from self._create_outcome_unknown(search, error, sent_at, attempt)
            raise error from cause

    def _created(self, key: APIKey, progress: Progress | None) -> None:
        """Note a key a create made and is about to return: an interruption from now on
        hands it back (``progress``), and no orphan search of this client names it."""
        if progress is not None:
            progress.created = key  # first: the memory below hides the key from a search
        self._shared.delivered.add(key.id)

    def _wait(
        self, seconds: float, operation: Operation[Any], deadline: float | None
    ) -> Flow[None]:
        """Wait ``seconds`` (unless the test mode skips it); never past ``deadline``."""
        if seconds <= 0:
            return
        if deadline is not None and time.monotonic() + seconds >= deadline:
            raise APITimeoutError(
                f"{operation.method} {operation.path}: no time left to wait {seconds:.3g} s "
                "before sending",
                method=operation.method,
                path=operation.path,
                request_sent=False,
            )
        if not _test_mode.skip(seconds):
            yield Sleep(seconds)

    def _timeout_until(self, deadline: float | None) -> Timeout:
        """The request timeout, shortened so that no phase outlives ``deadline``."""
        if deadline is None:
            return self.timeout
        left = max(deadline - time.monotonic(), 0.001)
        if self.timeout is None:
            return left
        if isinstance(self.timeout, httpx.Timeout):
            phases = self.timeout.as_dict()
            return httpx.Timeout(
                **{
                    phase: left if seconds is None else min(seconds, left)
                    for phase, seconds in phases.items()
                }
            )
        return min(float(self.timeout), left)

    def _interrupted(self, progress: Progress) -> Flow[InterruptedCreate]:
        """What a create interrupted from outside leaves: found by a listing, if it was sent.

        The listing obeys a deadline of ``INTERRUPTED_SEARCH_SECONDS``; the drivers run it
        shielded from the interruption (async) and skip it on a second one.
        """
        search = progress.search
        if progress.created is not None:
            # Neon's answer was read: the key and its secret are here, nothing to look for.
            made = progress.created
            return InterruptedCreate(search.key_name, (made,), search.revoke_hint, created=made)
        if progress.sent_at is None:
            return InterruptedCreate(search.key_name, (), search.revoke_hint, request_sent=False)
        deadline = time.monotonic() + INTERRUPTED_SEARCH_SECONDS
        try:
            candidates = yield from self._find_orphans(search, progress.sent_at, deadline)
        except NeonError as err:
            failure = f"the keys could not be listed ({err})"
            return InterruptedCreate(search.key_name, None, search.revoke_hint, failure=failure)
        return InterruptedCreate(search.key_name, tuple(candidates), search.revoke_hint)

    def _search_out_of_time(self, progress: Progress) -> InterruptedCreate:
        """The result of an interrupted create whose search reached its deadline."""
        search = progress.search
        failure = f"the search ran out of time ({INTERRUPTED_SEARCH_SECONDS:g} s)"
        return InterruptedCreate(search.key_name, None, search.revoke_hint, failure=failure)

    def _search_skipped(self, progress: Progress, why: BaseException) -> InterruptedCreate:
        """The result of an interrupted create whose search a second interruption ended (or
        an exception no search expects: ``why`` is then an ``Exception``)."""
        search = progress.search
        ended = "failed" if isinstance(why, Exception) else "was skipped"
        failure = f"the search {ended} ({type(why).__name__})"
        return InterruptedCreate(search.key_name, None, search.revoke_hint, failure=failure)

    def _report_interruption(self, interruption: BaseException, found: InterruptedCreate) -> None:
        """Log what an interrupted create left at WARNING; attach it to the interruption."""
        text = self._redact(found.describe())
        found.attach(interruption, text)  # first: a signal during the log line loses nothing
        logger.warning("%s", text)

    def _create_outcome_unknown(
        self, search: OrphanSearch, error: NeonError, sent_at: float, attempt: int
    ) -> Flow[NoReturn]:
        """List the keys, then raise ``CreateOutcomeUnknownError`` naming any candidates."""
        try:
            candidates: list[APIKey] | None = yield from self._find_orphans(search, sent_at)
        except NeonError as err:
            logger.warning("could not list keys to look for an orphaned create: %s", err)
            candidates = None
        unknown = CreateOutcomeUnknownError(search.key_name, candidates, error, search.revoke_hint)
        unknown.attempts = attempt
        raise unknown from error

    def _find_orphans(
        self, search: OrphanSearch, sent_at: float, deadline: float | None = None
    ) -> Flow[list[APIKey]]:
        """The keys of the searched name created since ``sent_at`` (a ``time.monotonic()``).

        ``created_at`` is Neon's clock, so the moment the create left is put on Neon's
        clock too: the listing's ``Date`` less the time elapsed here since then (see
        ``search_start``). A key this client, or a copy of it, created and returned is
        never a candidate: its secret was delivered. Raises the listing's ``NeonError``.
        """
        answers: list[httpx.Response] = []  # the listing's responses, for their Date
        keys = yield from _watching(self._flow(search.listing, deadline=deadline), answers)
        since = search_start(
            server_now=_server_time(answers[-1]) if answers else None,
            local_now=time.time(),
            elapsed=time.monotonic() - sent_at,
        )
        return candidates_of(search, keys, since, self._shared.delivered)

    def _parse_success(self, operation: Operation[T], answer: Answer, attempt: int) -> T:
        response, body, problem = answer
        if problem is not None:
            text = f"the body cannot be read: {problem}"
        else:
            try:
                return operation.parse(json.loads(body))
            except ShapeError as err:
                text = str(err)
            except RecursionError:
                text = "body is not JSON the client can read (nested too deeply)"
            except ValueError as err:
                text = f"body is not JSON ({err})"
        error = UnexpectedResponseError(
            self._redact(text),
            method=operation.method,
            path=operation.path,
            status_code=response.status_code,
            request_id=self._response_request_id(response),
        )
        error.attempts = attempt
        raise error from None

    def _error_for(
        self,
        operation: Operation[Any],
        outcome: Answer | httpx.RequestError,
        request: httpx.Request,
    ) -> NeonError:
        if isinstance(outcome, Answer):
            return self._status_error(operation, outcome)
        kind = (
            APITimeoutError if isinstance(outcome, httpx.TimeoutException) else APIConnectionError
        )
        # The transport error is chained to the one raised; it may quote what the server sent.
        redact_chain(outcome, self._api_key.reveal())
        detail = transport_failure(outcome, request)
        return kind(
            self._redact(
                f"{operation.method} {operation.path}: {detail} ({type(outcome).__name__})"
            ),
            method=operation.method,
            path=operation.path,
            request_sent=request_was_sent(outcome),
        )

    def _status_error(self, operation: Operation[Any], answer: Answer) -> APIError:
        response, body, problem = answer
        code, message, request_id = "", "", None
        try:
            code, message, request_id = error_fields(json.loads(body))
        except (ValueError, RecursionError, ShapeError):
            message = _excerpt(response.reason_phrase, body, problem, self._redact)
        if not message:
            message = response.reason_phrase or "error"
        if 300 <= response.status_code < 400:
            message = f"redirect not followed ({message})"
        cls = error_class_for(response.status_code)
        common: dict[str, Any] = {
            "status_code": response.status_code,
            "code": self._redact(code),
            "request_id": (
                self._redact(request_id) if request_id else self._response_request_id(response)
            ),
            "method": operation.method,
            "path": operation.path,
        }
        if cls is RateLimitError:
            return RateLimitError(
                self._redact(message), retry_after=_retry_after(response), **common
            )
        return cls(self._redact(message), **common)

    def _response_request_id(self, response: httpx.Response) -> str | None:
        """Neon's id of the request, from the answer's header, redacted; None without one."""
        request_id = response.headers.get(RESPONSE_REQUEST_ID_HEADER)
        return self._redact(request_id) if request_id else None

    def _redact(self, text: str) -> str:
        """``text`` without this client's API key, any live secret, or any ``Bearer`` value."""
        return redact(text, self._api_key.reveal())

    def _log_attempt(
        self,
        operation: Operation[Any],
        attempt: int,
        request_id: str,
        outcome: Answer | httpx.RequestError,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        result = (
            str(outcome.response.status_code)
            if isinstance(outcome, Answer)
            else type(outcome).__name__
        )
        logger.debug(
            "%s %s -> %s (attempt %d, request %s)",
            operation.method,
            operation.path,
            result,
            attempt,
            request_id,
        )


# -- settings ------------------------------------------------------------------------------

_API_KEY_HELP = (
    f"pass api_key=... or set {API_KEY_ENV}; create a key in the Neon Console "
    "(Account settings > API keys)"
)


_QUOTES = "\"'`"
"""Quotes that an env file or a shell may leave around a key; no Neon key holds one."""


def resolve_api_key(api_key: str | Secret | None) -> Secret:
    """The API key to call with: ``api_key``, else ``NEON_API_KEY``, stripped and checked.

    Raises ``ConfigurationError`` for no key, an empty one, or one that cannot be a key
    (quotes, a ``Bearer`` prefix, spaces, control or non-ASCII characters), never showing it.
    """
    if isinstance(api_key, Secret):
        value: str | None = api_key.reveal()
    elif api_key is None:
        value = os.environ.get(API_KEY_ENV)
    elif isinstance(api_key, str):
        value = api_key
    else:
        raise ConfigurationError(f"api_key must be a str or Secret, not {type(api_key).__name__}")
    if value is None:
        raise ConfigurationError(f"no Neon API key: {_API_KEY_HELP}")
    # Keys read from files or pasted into variables often carry a newline or spaces.
    value = value.strip()
    if not value:
        raise ConfigurationError(f"the Neon API key is empty: {_API_KEY_HELP}")
    # Two ways a key goes wrong on its way into a variable, each worth saying plainly
    # rather than as Neon's 401 after the key was sent (the key itself is never shown).
    if value[0] in _QUOTES or value[-1] in _QUOTES:
        raise ConfigurationError(
            "the Neon API key begins or ends with a quote: an env file or a shell kept the "
            "quotes around it; set the key alone"
        )
    if value[:7].lower() == "bearer ":
        raise ConfigurationError(
            "the Neon API key begins with 'Bearer ', the word of an Authorization header; "
            "set the key alone"
        )
    if not value.isascii() or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(
            "the Neon API key contains spaces, control or non-ASCII characters; "
            "check how it was copied"
        )
    return Secret(value)


def _resolve_base_url(base_url: str | None) -> str:
    raw = base_url if base_url is not None else os.environ.get(API_HOST_ENV) or DEFAULT_BASE_URL
    if not isinstance(raw, str):
        raise ConfigurationError(f"base_url must be a str, not {type(raw).__name__}")
    raw = raw.strip()
    # The paths of the operations are appended to the base URL as text: anything after a
    # "?" or "#", even an empty query or fragment, would swallow them (a DELETE of one key
    # would reach the API root).
    if "?" in raw or "#" in raw:
        raise ConfigurationError(
            f"base_url must not carry a query or a fragment ('?' or '#'), got {raw!r}"
        )
    if any(unicodedata.category(char)[0] in "CZ" for char in raw):
        raise ConfigurationError(
            f"base_url must not contain spaces or control characters, got {raw!r}"
        )
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError) as err:
        raise ConfigurationError(f"invalid base_url {raw!r}: {err}") from None
    if url.scheme not in ("https", "http") or not url.host:
        raise ConfigurationError(
            f"base_url must be an absolute http(s) URL such as {DEFAULT_BASE_URL}, got {raw!r}"
        )
    if url.userinfo or url.query or url.fragment:
        raise ConfigurationError("base_url must not carry credentials, a query or a fragment")
    if url.scheme == "http" and not is_loopback(url.host):
        raise InsecureTransportError(
            f"refusing to send the API key over plain http to {url.host}; use https "
            "(plain http is allowed only to loopback addresses, for local emulators)"
        )
    return str(url).rstrip("/")


@functools.lru_cache(maxsize=256)  # pragma: no mutate (a cache size)
def _url(text: str) -> httpx.URL:
    """``httpx.URL(text)``, remembered: parsing a URL is a good part of building a request,
    and a client calls the same few (its listings, say) again and again."""
    return httpx.URL(text)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1).

    ``localhost.`` (with the root's dot) is not: a resolver looks a fully qualified name
    up in DNS, not in the hosts file, so it may lead anywhere.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def pool_options(verify: Verify, timeout: Timeout, base_url: str) -> dict[str, Any]:
    """The options of a connection pool a client makes for itself.

    ``FIXED_HEADERS`` become the pool's defaults, which httpx merges once instead of into
    every request. Redirects are never followed, so the token never travels to another
    host. Proxy settings from the environment (``HTTP_PROXY`` ...) apply to https only:
    plain http goes to loopback only, and a proxy would receive the token in clear text.
    """
    tls = ssl_verify(verify)  # checked whatever the scheme: a bad bundle is an error
    return {
        # Plain http (loopback only, never redirected) makes no TLS connection: loading the
        # CA bundle would cost start-up time (~20 ms) for nothing.
        "verify": tls if base_url.startswith("https://") else False,  # pragma: no mutate
        "timeout": timeout,
        "follow_redirects": False,  # pragma: no mutate (each send says False too)
        "headers": FIXED_HEADERS,
        "trust_env": not base_url.startswith("http://"),
    }


def headers_missing_from(http: httpx.Client | httpx.AsyncClient) -> dict[str, str]:
    """The ``FIXED_HEADERS`` that ``http`` does not send by itself, to add to each request."""
    return {name: value for name, value in FIXED_HEADERS.items() if http.headers.get(name) != value}


_TIMEOUT_PHASES = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


def transport_failure(error: httpx.RequestError, request: httpx.Request) -> str:
    """What went wrong with a request that got no answer, in words, with its time limit.

    A read timeout and a connect timeout read differently: the first waited for Neon's
    answer, the second never reached Neon. The seconds are the request's own limits.
    """
    limits: dict[str, float | None] = request.extensions.get("timeout") or {}
    phase = next((name for kind, name in _TIMEOUT_PHASES if isinstance(error, kind)), None)
    if phase is None:
        return str(error) or type(error).__name__
    seconds = limits.get(phase)
    within = f" after {seconds:g} s" if isinstance(seconds, int | float) else ""
    if phase == "connect":
        return f"could not connect to {request.url.host}: timed out{within}"
    if phase == "read":
        return f"timed out{within} waiting for Neon to answer"
    if phase == "write":
        return f"timed out{within} sending the request"
    return f"timed out{within} waiting for a free connection in the pool"


def ssl_verify(verify: Verify) -> bool | ssl.SSLContext:
    """Turn the ``verify`` option into what httpx takes (a path becomes an SSLContext)."""
    if isinstance(verify, bool | ssl.SSLContext):
        return verify
    path = os.fspath(verify)
    if not os.path.isfile(path):
        raise ConfigurationError(f"verify: CA bundle {path!r} is not a file")
    try:
        return ssl.create_default_context(cafile=path)
    except ssl.SSLError as err:
        raise ConfigurationError(f"verify: cannot load CA bundle {path!r}: {err}") from None


def check_max_retries(value: object) -> int:
    """Validate ``max_retries``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"max_retries must be an integer >= 0, got {value!r}")
    return value


_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _watching(flow: Flow[T], answers: list[httpx.Response]) -> Flow[T]:
    """``flow`` unchanged, with every HTTP response it receives appended to ``answers``."""
    reply: Any = None
    while True:
        try:
            step = flow.send(reply)
        except StopIteration as done:
            result: T = done.value
            return result
        reply = yield step
        if isinstance(reply, Answer):
            answers.append(reply.response)


def _judge(method: str, outcome: Answer | httpx.RequestError) -> tuple[Verdict, float | None]:
    """What a failed attempt means for the call, and the seconds its ``Retry-After`` asks
    for (None without one). The header is honoured whatever the status: Neon, or a proxy,
    may send it with 503 or 423 too."""
    if isinstance(outcome, Answer):
        return judge(method, outcome.response), _retry_after(outcome.response)
    return judge(method, outcome), None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds an answer's ``Retry-After`` asks for, or None. An HTTP date is read against
    the answer's own ``Date`` when it has one: the two come from one clock, which may be
    far from this machine's."""
    return parse_retry_after(response.headers.get("Retry-After"), now=_server_time(response))


def _server_time(response: httpx.Response) -> float | None:
    """The POSIX time of a response's ``Date`` header, or None without a readable one."""
    try:
        moment = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _excerpt(reason: str, body: bytes, problem: str | None, redact: Callable[[str], str]) -> str:
    """A short, single-line excerpt of a non-JSON error body (an HTML page from a proxy).

    ``redact`` runs on the whole text before it is cut: a page that echoes the request's
    headers must not leave half a token at the cut, where no search for the whole one
    would find it.
    """
    reason = reason or "error"
    text = redact(_SPACE.sub(" ", _TAGS.sub(" ", body.decode("utf-8", "replace"))).strip())
    if not text:
        return f"{reason} (body unreadable: {problem})" if problem else f"{reason} (empty body)"
    if len(text) > ERROR_EXCERPT_LENGTH:
        text = text[: ERROR_EXCERPT_LENGTH - 3] + "..."
    return f"{reason}: {text}"
