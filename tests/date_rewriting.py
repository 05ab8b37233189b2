"""The emulator in process behind a proxy that gets Neon's clock wrong."""

from __future__ import annotations

import httpx
from neon_keys.testing import AsyncEmulatorTransport, EmulatorTransport, World


class DateRewriting(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves a sync or an async client from ``world`` in process, each answer's ``Date``
    header replaced by ``date`` (a proxy with a wrong clock), or removed when ``date`` is
    None (a proxy that strips it)."""

    def __init__(self, world: World, date: str | None) -> None:
        self.date = date
        self.sync_inner = EmulatorTransport(world)
        self.async_inner = AsyncEmulatorTransport(world)

    def _rewrite(self, response: httpx.Response) -> httpx.Response:
        del response.headers["Date"]
        if self.date is not None:
            response.headers["Date"] = self.date
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """The emulator's answer to ``request``, its ``Date`` rewritten."""
        return self._rewrite(self.sync_inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The emulator's answer to ``request``, its ``Date`` rewritten."""
        return self._rewrite(await self.async_inner.handle_async_request(request))

    def close(self) -> None:
        """Stop the sync transport's event loop, if it started one."""
        self.sync_inner.close()

    async def aclose(self) -> None:
        """Close the async transport."""
        await self.async_inner.aclose()
