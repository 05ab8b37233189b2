"""Every error the library raises on purpose.

    NeonError
    ├── ConfigurationError            the client cannot be set up as asked
    │   └── InsecureTransportError    the token would travel over plain http to another host
    ├── InvalidInputError             an argument breaks the API's rules; nothing was sent
    ├── APIConnectionError            no HTTP response: connection failed, dropped or timed out
    │   └── APITimeoutError
    ├── UnexpectedResponseError       a 2xx response that cannot be read as the spec describes
    ├── CreateOutcomeUnknownError     a create may or may not have happened; see ``candidates``
    └── APIError                      Neon answered with an error status
        ├── BadRequestError           400, 422
        ├── AuthenticationError       401
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── ConflictError             409
        ├── LockedError               423
        ├── RateLimitError            429
        └── ServerError               5xx

Messages never contain the API key or a secret: every text that comes from an answer, or
shows a value, is redacted (``_redaction``) before it is cut short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._redaction import redact

if TYPE_CHECKING:
    from ._models import APIKey

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CreateOutcomeUnknownError",
    "InsecureTransportError",
    "InvalidInputError",
    "LockedError",
    "NeonError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ServerTimeUnknownError",
    "UnexpectedResponseError",
    "error_class_for",
]


class NeonError(Exception):
    """Base class of every error this library raises on purpose."""

    attempts: int = 0
    """How many HTTP requests were sent for the failed call (0 when none was)."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (a process pool sending an error back, say) would call the class with the
        # message alone, which the subclasses' keyword-only arguments refuse: rebuild the
        # error from its message and attributes instead.
        return (_rebuild, (type(self), self.args), self.__dict__)


def _rebuild(cls: type[NeonError], args: tuple[Any, ...]) -> NeonError:
    """An error of class ``cls`` with ``args``, its ``__init__`` not run (pickle sets the rest)."""
    error = cls.__new__(cls)
    error.args = args
    return error


class ConfigurationError(NeonError):
    """The client cannot be set up as asked (no API key, a malformed base URL, ...)."""


class InsecureTransportError(ConfigurationError):
    """The API key would be sent over plain ``http://`` to a host that is not loopback."""


class InvalidInputError(NeonError, ValueError):
    """An argument breaks the API's rules; the request was not sent.

    ``field`` names the argument and ``rule`` the rule it breaks.
    """

    def __init__(self, field: str, rule: str, value: object | None = None) -> None:
        self.field = field
        self.rule = rule
        shown = "" if value is None else f" (got {_short_repr(value)})"
        super().__init__(f"invalid {field}: {rule}{shown}")


class APIConnectionError(NeonError):
    """No HTTP response was received: the connection failed, dropped or timed out.

    ``request_sent`` is False when the request certainly never left (a failed connect), True
    when it certainly did (the answer was being read, or never came), None when writing it
    failed part way.
    """

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool | None) -> None:
        self.method = method
        self.path = path
        self.request_sent = request_sent
        super().__init__(message)  # pragma: no mutate (BaseException.__new__ keeps it too)


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class UnexpectedResponseError(NeonError):
    """A successful response whose body does not have the shape the spec describes."""

    def __init__(
        self, message: str, *, method: str, path: str, status_code: int, request_id: str | None
    ) -> None:
        self.method = method
        self.path = path
        self.status_code = status_code
        self.request_id = request_id
        suffix = f" [request {request_id}]" if request_id else ""
        super().__init__(f"{method} {path}: unexpected response: {message}{suffix}")


class ServerTimeUnknownError(NeonError):
    """Neon's current time was needed, but none of its answers carried a readable ``Date``,
    or their ``Date`` runs implausibly far ahead of the times Neon's records show.

    Raised before anything is changed by code that judges time by Neon's clock only
    (``retire``; ``sweep`` for a ``Date`` its records contradict), never by this machine's.
    """


class CreateOutcomeUnknownError(NeonError):
    """A create was sent but its answer was lost or unreadable: the key may or may not exist.

    ``candidates`` are the keys with the requested name created since the attempt began
    (found by listing afterwards); their secrets cannot be recovered, so revoke them and
    create again. ``cause`` is the original failure.
    """

    def __init__(
        self,
        key_name: str,
        candidates: Sequence[APIKey] | None,
        cause: NeonError,
        revoke_hint: str,
    ) -> None:
        self.key_name = key_name
        self.candidates: tuple[APIKey, ...] | None = (
            tuple(candidates) if candidates is not None else None
        )
        self.cause = cause
        if candidates is None:
            found = "the keys could not be listed to check for it"
        elif not candidates:
            found = "no key of that name was found since the attempt began"
        else:
            ids = ", ".join(str(key.id) for key in candidates)
            found = (
                f"found key id(s) {ids} of that name created since the attempt began; "
                f"their secret is lost: revoke them ({revoke_hint}) and create again"
            )
        super().__init__(f"create of key {key_name!r} may have happened ({cause}); {found}")


class APIError(NeonError):
    """Neon answered with an error status.

    Attributes: ``status_code``; ``code`` and ``message`` from the error body (``code`` may
    be empty); ``request_id`` from the body or the ``x-neon-ret-request-id`` header;
    ``method`` and ``path`` of the request.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str = "",
        request_id: str | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.method = method
        self.path = path
        details = [f"HTTP {status_code}"]
        if code:
            details.append(f"code {code}")
        if request_id:
            details.append(f"request {request_id}")
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{message or 'no message'} ({', '.join(details)})")


class BadRequestError(APIError):
    """400 or 422: Neon refused the request as invalid."""


class AuthenticationError(APIError):
    """401: the API key is missing, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the API key is valid but may not do this."""


class NotFoundError(APIError):
    """404: no such key, organization or project (or not visible to this API key)."""


class ConflictError(APIError):
    """409: the request conflicts with the current state."""


class LockedError(APIError):
    """423: the resource is busy with another operation; safe to retry later."""


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the wait Neon asked for, in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class ServerError(APIError):
    """5xx: Neon (or a proxy in front of it) failed."""


_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    423: LockedError,
    429: RateLimitError,
}


def error_class_for(status_code: int) -> type[APIError]:
    """The ``APIError`` subclass that stands for an HTTP error status."""
    if status_code >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status_code, APIError)


def _short_repr(value: object) -> str:
    # Redacted before it is cut: an API key passed by mistake (``neon.org(token)``) must not
    # show, not even its first characters.
    text = redact(repr(value))
    return text if len(text) <= 40 else text[:37] + "..."
