"""``NeonKeys`` and ``AsyncNeonKeys``: the clients. They only drive ``BaseClient._flow``."""

from __future__ import annotations

import time
from functools import cached_property
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from . import _operations as ops
from ._base_client import (
    NOT_GIVEN,
    BaseClient,
    NotGiven,
    Send,
    Timeout,
    Verify,
)
from ._body import aread_body, read_body
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._models import AuthDetails, Organization
from ._operations import Operation
from ._pacing import RateLimits
from ._resources import AsyncOrg, AsyncPersonalKeys, Org, PersonalKeys
from ._retry import Backoff
from ._secret import Secret

T = TypeVar("T")

_NEON_LIMITS = RateLimits()


class NeonKeys(BaseClient):
    """A client of Neon's API-key operations.

    Args:
        api_key: the key to call with; default ``NEON_API_KEY``. Surrounding whitespace
            (a newline from a file) is ignored.
        base_url: the API root; default ``NEON_API_HOST``, else
            ``https://console.neon.tech/api/v2``. Plain ``http://`` only to loopback.
        timeout: seconds for each phase of a request (or an ``httpx.Timeout``; None: no limit).
        max_retries: retries after the first attempt, for failures Neon says are safe to retry.
        backoff: waits between attempts (``Backoff.immediate()`` for tests).
        rate_limits: the limits this client paces itself by (Neon's documented ones by
            default; None turns pacing off).
        verify: TLS verification: True, a CA bundle path, an ``ssl.SSLContext``, or False.
        http_client: an ``httpx.Client`` to use instead of a new one (it is not closed here).

    Use it as a context manager, or call ``close()``, to release the connection pool.
    """

    _http: httpx.Client

    def __init__(
        self,
        api_key: str | Secret | None = None,
        *,
        base_url: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff: Backoff | None = None,
        rate_limits: RateLimits | None = _NEON_LIMITS,
        verify: Verify = True,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff or Backoff(),
            rate_limits=rate_limits,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(**self._own_pool_options(verify, timeout))

    @cached_property
    def personal_keys(self) -> PersonalKeys:
        """The caller's personal API keys."""
        return PersonalKeys(self)

    def org(self, org_id: str) -> Org:
        """An organization by id (checked against the API's id pattern, nothing is sent)."""
        return Org(self, org_id)

    def whoami(self) -> AuthDetails:
        """Which credential is calling: its kind and account (``GET /auth``)."""
        return self._execute(ops.get_auth_details())

    def organizations(self) -> list[Organization]:
        """The organizations the calling user belongs to (``GET /users/me/organizations``)."""
        return self._execute(ops.list_organizations())

    def with_options(
        self,
        *,
        api_key: str | Secret | NotGiven = NOT_GIVEN,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        backoff: Backoff | NotGiven = NOT_GIVEN,
    ) -> NeonKeys:
        """A client with some settings changed that shares this one's connection pool."""
        clone: NeonKeys = self._clone(api_key, timeout, max_retries, backoff)
        return clone

    def close(self) -> None:
        """Close the connection pool (unless it came from ``http_client``)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _execute(self, operation: Operation[T]) -> T:
        flow = self._flow(operation)
        reply: Any = None
        while True:
            try:
                step = flow.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(step, Send):
                try:
                    reply = self._http.send(step.request, follow_redirects=False, stream=True)
                    try:
                        read_body(reply)  # within a bound on its decoded size
                    finally:
                        reply.close()
                except httpx.RequestError as err:
                    reply = err
            else:
                self._sleep(step.seconds)
                reply = None

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class AsyncNeonKeys(BaseClient):
    """The asyncio (or trio) twin of ``NeonKeys``; every method is awaited.

    Takes the same arguments as ``NeonKeys``, with ``http_client`` an ``httpx.AsyncClient``.
    Use it as an async context manager, or await ``aclose()``.
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        api_key: str | Secret | None = None,
        *,
        base_url: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff: Backoff | None = None,
        rate_limits: RateLimits | None = _NEON_LIMITS,
        verify: Verify = True,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff or Backoff(),
            rate_limits=rate_limits,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(**self._own_pool_options(verify, timeout))

    @cached_property
    def personal_keys(self) -> AsyncPersonalKeys:
        """The caller's personal API keys."""
        return AsyncPersonalKeys(self)

    def org(self, org_id: str) -> AsyncOrg:
        """An organization by id (checked against the API's id pattern, nothing is sent)."""
        return AsyncOrg(self, org_id)

    async def whoami(self) -> AuthDetails:
        """Which credential is calling: its kind and account (``GET /auth``)."""
        return await self._execute(ops.get_auth_details())

    async def organizations(self) -> list[Organization]:
        """The organizations the calling user belongs to (``GET /users/me/organizations``)."""
        return await self._execute(ops.list_organizations())

    def with_options(
        self,
        *,
        api_key: str | Secret | NotGiven = NOT_GIVEN,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        backoff: Backoff | NotGiven = NOT_GIVEN,
    ) -> AsyncNeonKeys:
        """A client with some settings changed that shares this one's connection pool."""
        clone: AsyncNeonKeys = self._clone(api_key, timeout, max_retries, backoff)
        return clone

    async def aclose(self) -> None:
        """Close the connection pool (unless it came from ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _execute(self, operation: Operation[T]) -> T:
        flow = self._flow(operation)
        reply: Any = None
        while True:
            try:
                step = flow.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(step, Send):
                try:
                    reply = await self._http.send(step.request, follow_redirects=False, stream=True)
                    try:
                        await aread_body(reply)  # within a bound on its decoded size
                    finally:
                        await reply.aclose()
                except httpx.RequestError as err:
                    reply = err
            else:
                await self._sleep(step.seconds)
                reply = None

    async def _sleep(self, seconds: float) -> None:
        import anyio  # noqa: PLC0415  (httpx depends on it; imported only when a wait happens)

        await anyio.sleep(seconds)
