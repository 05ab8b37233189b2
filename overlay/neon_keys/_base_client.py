"""What the sync and async clients share: settings, request building, the retry flow.

The whole life of a call (attempts, waits, error mapping, the search for a key whose create
may have happened) is one generator, ``BaseClient._flow``. It yields *steps*, a request to
send or a wait, and receives the outcome of each send. ``NeonKeys`` and ``AsyncNeonKeys``
only drive it, with blocking or awaiting I/O, so every decision is made in one place.
"""

from __future__ import annotations

import datetime
import email.utils
import functools
import ipaddress
import json
import logging
import os
import re
import ssl
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import httpx

from ._body import ACCEPT_ENCODING, body_problem, error_body
from ._constants import (
    API_HOST_ENV,
    API_KEY_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ERROR_EXCERPT_LENGTH,
    ORPHAN_CLOCK_SKEW,
    ORPHAN_SERVER_SLACK,
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
    RateLimitError,
    UnexpectedResponseError,
    error_class_for,
)
from ._models import APIKey
from ._operations import Operation, OrphanSearch, candidates_of
from ._pacing import Pacer, RateLimits
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


@dataclass(frozen=True, slots=True)
class Send:
    """A step of a call: send this request and reply with the response or transport error."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    """A step of a call: wait this many seconds, then reply with None."""

    seconds: float


Step = Send | Sleep
Flow = Generator[Step, "httpx.Response | httpx.RequestError | None", T]


class NotGiven:
    """Marks an option left out of ``with_options`` (as opposed to one set to None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


class BaseClient:
    """Settings and decisions shared by ``NeonKeys`` and ``AsyncNeonKeys``. Strictly private."""

    _http: httpx.Client | httpx.AsyncClient
    _owns_http: bool
    _CACHED = ("personal_keys",)

    def __init__(
        self,
        api_key: str | Secret | None,
        *,
        base_url: str | None,
        timeout: Timeout,
        max_retries: int,
        backoff: Backoff,
        rate_limits: RateLimits | None,
    ) -> None:
        self._api_key = _resolve_api_key(api_key)
        protect_logs()
        self.base_url = _resolve_base_url(base_url)
        self.timeout = timeout
        self.max_retries = check_max_retries(max_retries)
        self.backoff = backoff
        self._pacer = Pacer(rate_limits) if rate_limits is not None else None
        self._server_clock = ServerClock()  # shared with with_options() copies
        self._fixed_headers = {
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,  # the codings _body inflates within bounds
            "User-Agent": f"neon-api-keys/{__version__} python-httpx/{httpx.__version__}",
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def server_now(self) -> datetime.datetime | None:
        """Neon's current time (UTC), from the ``Date`` of its latest answer; no request.

        Leases expire by Neon's clock, not this machine's. The estimate is that answer's
        time plus the time elapsed here since (on a monotonic clock); it errs early by up
        to a second, never late. None until an answer with a ``Date`` has arrived.
        """
        return self._server_clock.now()

    def _clone(self, api_key: Any, timeout: Any, max_retries: Any, backoff: Any) -> Any:
        """A copy with some settings changed, sharing this client's connection pool."""
        clone = object.__new__(type(self))
        clone.__dict__.update(
            {name: value for name, value in self.__dict__.items() if name not in self._CACHED}
        )
        clone._owns_http = False
        if not isinstance(api_key, NotGiven):
            clone._api_key = _resolve_api_key(api_key)
        if not isinstance(timeout, NotGiven):
            clone.timeout = timeout
        if not isinstance(max_retries, NotGiven):
            clone.max_retries = check_max_retries(max_retries)
        if not isinstance(backoff, NotGiven):
            clone.backoff = backoff
        return clone

    # -- one call ----------------------------------------------------------------------

    def _own_pool_options(self, verify: Verify, timeout: Timeout) -> dict[str, Any]:
        """The options of a connection pool this client makes for itself.

        The fixed headers become the pool's defaults, which httpx merges once instead of
        into every request. Redirects are never followed, so the token never travels to
        another host. Proxy settings from the environment (``HTTP_PROXY`` ...) apply to
        https only: plain http goes to loopback only, and a proxy would receive the token
        in clear text.
        """
        headers, self._fixed_headers = self._fixed_headers, {}
        tls = ssl_verify(verify)  # checked whatever the scheme: a bad bundle is an error
        return {
            # Plain http (loopback only, never redirected) makes no TLS connection: loading
            # the CA bundle would cost start-up time (~20 ms) for nothing.
            "verify": tls if self.base_url.startswith("https://") else False,
            "timeout": timeout,
            "follow_redirects": False,
            "headers": headers,
            "trust_env": not self.base_url.startswith("http://"),
        }

    def _build_request(self, operation: Operation[Any], request_id: str) -> httpx.Request:
        headers = {
            **self._fixed_headers,  # empty unless the pool came from the caller
            # The token is kept in its Secret only, and put in each request's headers.
            "Authorization": f"Bearer {self._api_key.reveal()}",
            REQUEST_ID_HEADER: request_id,
        }
        return self._http.build_request(
            operation.method,
            _url(self.base_url + operation.path),
            json=operation.json,
            headers=headers,
            timeout=self.timeout,
        )

    def _flow(self, operation: Operation[T]) -> Flow[T]:
        """Perform ``operation`` with retries; see the module docstring."""
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        attempt = 0
        # Backoff.immediate() promises never to wait, so it does not pace either (a 429 would
        # otherwise slow every later call of the client down in real time).
        pacer = self._pacer if self.backoff.scale > 0 else None
        while True:
            attempt += 1
            if pacer is not None and (wait := pacer.reserve(operation.operation_id)) > 0:
                yield Sleep(wait)
            outcome = yield Send(self._build_request(operation, request_id))
            assert outcome is not None
            if isinstance(outcome, httpx.Response):
                self._server_clock.observe(outcome.headers.get("date"))
            self._log_attempt(operation, attempt, request_id, outcome)
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                if pacer is not None:
                    pacer.recovered()
                try:
                    return self._parse_success(operation, outcome, attempt)
                except UnexpectedResponseError as unreadable:
                    if operation.orphan_search is None:
                        raise
                    # Created, but the answer (its id, its only copy of the secret) is
                    # unreadable: as good as lost, so look for the key like any lost create.
                    yield from self._create_outcome_unknown(
                        operation.orphan_search, unreadable, started, attempt
                    )
            error = self._error_for(operation, outcome)
            error.attempts = attempt
            verdict = judge(operation.method, outcome)
            # Honoured whatever the status: Neon (or a proxy) may send it with 503 or 423 too.
            retry_after = (
                parse_retry_after(outcome.headers.get("Retry-After"))
                if isinstance(outcome, httpx.Response)
                else None
            )
            delay = self.backoff.delay(attempt, retry_after)
            if pacer is not None and isinstance(error, RateLimitError):
                # Hold every call of this client, not only this one, until Neon allows more;
                # a longer Retry-After than the client waits for is the caller's to honour.
                cap = self.backoff.max_retry_after * self.backoff.scale
                pacer.backoff(delay if delay is not None else cap)
            if verdict is Verdict.RETRY and attempt <= self.max_retries and delay is not None:
                if delay > 0 and (pacer is None or not isinstance(error, RateLimitError)):
                    yield Sleep(delay)
                continue
            cause = outcome if isinstance(outcome, httpx.RequestError) else None
            if verdict is Verdict.AMBIGUOUS and operation.orphan_search is not None:
                error.__cause__ = cause  # as "raise error from cause" would: kept in the chain
                yield from self._create_outcome_unknown(
                    operation.orphan_search, error, started, attempt
                )
            raise error from cause

    def _create_outcome_unknown(
        self, search: OrphanSearch, error: NeonError, started: float, attempt: int
    ) -> Flow[NoReturn]:
        """List the keys, then raise ``CreateOutcomeUnknownError`` naming any candidates."""
        candidates = yield from self._find_orphans(search, started)
        unknown = CreateOutcomeUnknownError(search.key_name, candidates, error, search.revoke_hint)
        unknown.attempts = attempt
        raise unknown from error

    def _find_orphans(self, search: OrphanSearch, started: float) -> Flow[list[APIKey] | None]:
        """The keys of the searched name created since ``started`` (a ``time.monotonic()``).

        ``created_at`` is Neon's clock, so the attempt's start is put on Neon's clock too:
        the listing's ``Date`` minus the time elapsed here since the attempt began, less a
        little for the one-second resolution of both. Without a ``Date``, the local clock
        stands in, with a wide allowance for the difference between the two.
        """
        answers: list[httpx.Response] = []
        try:
            keys = yield from _watching(self._flow(search.listing), answers)
        except NeonError as err:
            logger.warning("could not list keys to look for an orphaned create: %s", err)
            return None
        elapsed = time.monotonic() - started
        server_now = _server_time(answers[-1]) if answers else None
        if server_now is None:
            since = time.time() - elapsed - ORPHAN_CLOCK_SKEW
        else:
            since = server_now - elapsed - ORPHAN_SERVER_SLACK
        return candidates_of(search, keys, since)

    def _parse_success(self, operation: Operation[T], response: httpx.Response, attempt: int) -> T:
        problem = body_problem(response)
        if problem is not None:
            text = f"the body cannot be read: {problem}"
        else:
            try:
                return operation.parse(json.loads(response.content))
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
        self, operation: Operation[Any], outcome: httpx.Response | httpx.RequestError
    ) -> NeonError:
        if isinstance(outcome, httpx.Response):
            return self._status_error(operation, outcome)
        kind = (
            APITimeoutError if isinstance(outcome, httpx.TimeoutException) else APIConnectionError
        )
        # The transport error is chained to the one raised; it may quote what the server sent.
        redact_chain(outcome, self._api_key.reveal())
        detail = str(outcome) or type(outcome).__name__
        return kind(
            self._redact(
                f"{operation.method} {operation.path}: {detail} ({type(outcome).__name__})"
            ),
            method=operation.method,
            path=operation.path,
            request_sent=request_was_sent(outcome),
        )

    def _status_error(self, operation: Operation[Any], response: httpx.Response) -> APIError:
        code, message, request_id = "", "", None
        body = error_body(response)
        try:
            code, message, request_id = error_fields(json.loads(body))
        except (ValueError, RecursionError, ShapeError):
            message = _excerpt(response.reason_phrase, body, body_problem(response), self._redact)
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
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimitError(self._redact(message), retry_after=retry_after, **common)
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
        outcome: httpx.Response | httpx.RequestError,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        result = (
            str(outcome.status_code)
            if isinstance(outcome, httpx.Response)
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


def _resolve_api_key(api_key: str | Secret | None) -> Secret:
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
    if not value.isascii() or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(
            "the Neon API key contains spaces, control or non-ASCII characters; "
            "check how it was copied"
        )
    return Secret(value)


def _resolve_base_url(base_url: str | None) -> str:
    raw = base_url if base_url is not None else os.environ.get(API_HOST_ENV) or DEFAULT_BASE_URL
    raw = raw.strip()
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as err:
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


@functools.lru_cache(maxsize=256)
def _url(text: str) -> httpx.URL:
    """``httpx.URL(text)``, remembered: parsing a URL is a good part of building a request,
    and a client calls the same few (its listings, say) again and again."""
    return httpx.URL(text)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
        if isinstance(reply, httpx.Response):
            answers.append(reply)


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


__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "BaseClient",
    "NotGiven",
]
