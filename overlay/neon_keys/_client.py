"""``NeonKeys`` and ``AsyncNeonKeys``: the clients. They only drive ``BaseClient._flow``.

Each performs an operation by sending the requests and sleeping the waits its flow asks
for. When something from outside interrupts a create (Ctrl-C, a cancelled task), the
driver runs the flow's bounded search for the key it may have made (shielded from a
cancellation, skipped on a second interruption), reports it and re-raises.
"""

from __future__ import annotations

import threading
import time
from functools import cached_property
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from . import _operations as ops
from ._base_client import (
    NOT_GIVEN,
    BaseClient,
    Flow,
    NotGiven,
    Pool,
    Progress,
    Send,
    Shared,
    Step,
    Timeout,
    Verify,
    headers_missing_from,
    pool_options,
)
from ._body import Answer, aread_answer, read_answer
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, INTERRUPTED_SEARCH_SECONDS
from ._exceptions import NeonError
from ._interrupts import InterruptedCreate
from ._lazy import FIRST_USE_IMPORTS
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
        timeout: seconds for each phase of a request (or an ``httpx.Timeout``; None: no
            limit); the read timeout also bounds the time an answer's body takes to arrive.
        max_retries: retries after the first attempt, for failures Neon says are safe to retry.
        backoff: waits between attempts (``Backoff.immediate()``: none).
        rate_limits: the limits this client paces itself by (Neon's documented ones by
            default; None turns pacing off).
        verify: TLS verification: True, a CA bundle path, an ``ssl.SSLContext``, or False.
        http_client: an ``httpx.Client`` to use instead of a new one (it is not closed here).

    Use it as a context manager, or call ``close()``, to release the connection pool. One
    client may be shared by many threads.
    """

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
        _shared: Shared | None = None,
        _pool: Pool[httpx.Client] | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            rate_limits=rate_limits,
            shared=_shared,
        )
        base = self.base_url
        # A copy (with_options) shares its original's pool, and never closes it.
        self._owns_pool = _pool is None
        self._pool = _pool or Pool(
            http_client, lambda: httpx.Client(**pool_options(verify, timeout, base))
        )
        self._headers = headers_missing_from(self._http)

    @property
    def _http(self) -> httpx.Client:
        return self._pool.client

    @cached_property
    def personal_keys(self) -> PersonalKeys:
        """The caller's personal API keys."""
        return PersonalKeys(self._execute, self.server_now)

    def org(self, org_id: str) -> Org:
        """An organization by id (checked against the API's id pattern, nothing is sent)."""
        return Org(self._execute, org_id, self.server_now)

    def whoami(self) -> AuthDetails:
        """Which credential is calling: its kind and account (``GET /auth``).

        For an organization or project-scoped key, ``organization`` also names the
        organization that owns it, when Neon says (see ``AuthDetails``).
        """
        return self._drive(self._whoami())

    def organizations(self) -> list[Organization]:
        """The caller's organizations (``GET /users/me/organizations``).

        With a personal key, the user's organizations; with an organization or
        project-scoped key, Neon's newest service answers the one that owns the key.
        """
        return self._execute(ops.list_organizations())

    def with_options(
        self,
        *,
        api_key: str | Secret | NotGiven = NOT_GIVEN,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        backoff: Backoff | NotGiven = NOT_GIVEN,
    ) -> NeonKeys:
        """A client with some settings changed that shares this one's connection pool.

        It is built by the constructor (every setting is checked again) and shares the
        pool (which it does not close), the pacing and the memory of delivered keys.
        """
        options = self._copy_options(api_key, timeout, max_retries, backoff)
        return type(self)(_pool=self._pool, **options)

    def close(self) -> None:
        """Close the connection pool (unless it came from ``http_client``)."""
        if self._owns_pool and self._pool.owned:
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
        """Perform ``operation``; see the module docstring for interruptions."""
        if operation.orphan_search is None:
            return self._drive(self._flow(operation))
        progress = Progress(operation.orphan_search)
        try:
            return self._drive(self._flow(operation, progress))
        except NeonError:
            raise
        except BaseException as interruption:
            self._report_interruption(interruption, self._search_for(progress))
            raise

    def _search_for(self, progress: Progress) -> InterruptedCreate:
        """The bounded search after an interrupted create; a second interruption skips it.

        The search runs on a thread of its own, which this one waits for at most
        ``INTERRUPTED_SEARCH_SECONDS``: its requests obey that deadline, and the wait also
        bounds what no request timeout reaches (a lock an interruption left held in a pool
        given as ``http_client``, a name server that does not answer).
        """
        # (A shortcut: on the search's thread, the flow would find nothing to look for too.)
        if progress.created is not None or progress.sent_at is None:  # pragma: no mutate
            return self._drive(self._interrupted(progress))  # nothing to look for
        found: list[InterruptedCreate] = []

        def search() -> None:
            try:
                found.append(self._drive(self._interrupted(progress)))
            except BaseException as failure:  # a transport raising KeyboardInterrupt, say
                found.append(self._search_skipped(progress, failure))

        worker = threading.Thread(target=search, name="neon-keys-search", daemon=True)
        try:
            worker.start()
            worker.join(INTERRUPTED_SEARCH_SECONDS)
        except BaseException as second:  # Ctrl-C again: the user wants out
            return self._search_skipped(progress, second)
        return found[0] if found else self._search_out_of_time(progress)

    def _drive(self, flow: Flow[T]) -> T:
        reply: Any = None
        try:
            while True:
                try:
                    step = flow.send(reply)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                reply = self._perform_step(step)
        finally:
            flow.close()  # pragma: no mutate (no flow holds a finally or a with)

    def _perform_step(self, step: Step) -> Answer | httpx.RequestError | None:
        if isinstance(step, Send):
            http = self._http
            try:
                response = http.send(step.request, follow_redirects=False, stream=True)
                return read_answer(response)  # within a bound on its decoded size; closes it
            except httpx.RequestError as err:
                return err
            except BaseException:
                self._replace_pool(http)
                raise
        time.sleep(step.seconds)
        return None

    def _replace_pool(self, spoilt: httpx.Client) -> None:
        """After an interruption inside a request, send the next ones through a new pool.

        httpcore is not safe against an exception raised from outside (Ctrl-C) while it
        runs: one landing just after it takes a connection's lock leaves the lock held for
        ever, and the next request on that connection (the search for the key, the caller's
        next call) would wait on it for good. A pool the client made is replaced; the old
        one is closed on a thread of its own, since closing may wait on that very lock.
        """
        old = self._pool.renew(spoilt)
        if old is not None:
            threading.Thread(target=old.close, name="neon-keys-close", daemon=True).start()


class AsyncNeonKeys(BaseClient):
    """The asyncio (or trio) twin of ``NeonKeys``; every method is awaited.

    Takes the same arguments as ``NeonKeys``, with ``http_client`` an ``httpx.AsyncClient``.
    Use it as an async context manager, or await ``aclose()``.
    """

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
        _shared: Shared | None = None,
        _pool: Pool[httpx.AsyncClient] | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            rate_limits=rate_limits,
            shared=_shared,
        )
        base = self.base_url
        self._owns_pool = _pool is None
        self._pool = _pool or Pool(
            http_client, lambda: httpx.AsyncClient(**pool_options(verify, timeout, base))
        )
        self._headers = headers_missing_from(self._http)

    @property
    def _http(self) -> httpx.AsyncClient:
        return self._pool.client

    @cached_property
    def personal_keys(self) -> AsyncPersonalKeys:
        """The caller's personal API keys."""
        return AsyncPersonalKeys(self._execute, self.server_now)

    def org(self, org_id: str) -> AsyncOrg:
        """An organization by id (checked against the API's id pattern, nothing is sent)."""
        return AsyncOrg(self._execute, org_id, self.server_now)

    async def whoami(self) -> AuthDetails:
        """Which credential is calling; see ``NeonKeys.whoami``."""
        return await self._drive(self._whoami())

    async def organizations(self) -> list[Organization]:
        """The caller's organizations; see ``NeonKeys.organizations``."""
        return await self._execute(ops.list_organizations())

    def with_options(
        self,
        *,
        api_key: str | Secret | NotGiven = NOT_GIVEN,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        backoff: Backoff | NotGiven = NOT_GIVEN,
    ) -> AsyncNeonKeys:
        """A client with some settings changed; see ``NeonKeys.with_options``."""
        options = self._copy_options(api_key, timeout, max_retries, backoff)
        return type(self)(_pool=self._pool, **options)

    async def aclose(self) -> None:
        """Close the connection pool (unless it came from ``http_client``)."""
        if self._owns_pool and self._pool.owned:
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
        """Perform ``operation``; see the module docstring for interruptions."""
        if operation.orphan_search is None:
            return await self._drive(self._flow(operation))
        progress = Progress(operation.orphan_search)
        try:
            return await self._drive(self._flow(operation, progress))
        except NeonError:
            raise
        except BaseException as interruption:
            self._report_interruption(interruption, await self._search_for(progress))
            raise

    async def _search_for(self, progress: Progress) -> InterruptedCreate:
        """The bounded search after an interrupted create, shielded from the cancellation.

        The cancellation that interrupted the create stays pending (trio, anyio) or was
        delivered once (asyncio): the search runs in a shielded scope, for at most
        ``INTERRUPTED_SEARCH_SECONDS``. A further interruption (a second Ctrl-C, another
        ``Task.cancel()``) skips it.
        """
        with FIRST_USE_IMPORTS:
            import anyio  # noqa: PLC0415  (an httpx dependency, needed only here)

        with anyio.move_on_after(INTERRUPTED_SEARCH_SECONDS, shield=True) as scope:
            try:
                return await self._drive(self._interrupted(progress))
            except anyio.get_cancelled_exc_class() as cancelled:
                if scope.cancel_called:
                    raise  # the search's own deadline: the scope absorbs it
                return self._search_skipped(progress, cancelled)
            except BaseException as second:  # interrupted again: get out
                return self._search_skipped(progress, second)
        return self._search_out_of_time(progress)

    async def _drive(self, flow: Flow[T]) -> T:
        reply: Any = None
        try:
            while True:
                try:
                    step = flow.send(reply)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                reply = await self._perform_step(step)
        finally:
            flow.close()  # pragma: no mutate (no flow holds a finally or a with)

    async def _perform_step(self, step: Step) -> Answer | httpx.RequestError | None:
        if isinstance(step, Send):
            try:
                response = await self._http.send(step.request, follow_redirects=False, stream=True)
                # Within a bound on its decoded size; closes the response.
                return await aread_answer(response)
            except httpx.RequestError as err:
                return err
        with FIRST_USE_IMPORTS:
            import anyio  # noqa: PLC0415  (httpx depends on it; imported when a wait happens)

        await anyio.sleep(step.seconds)
        return None
