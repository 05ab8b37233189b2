"""A long-lived process that times one library's listing calls when asked.

The parent sends one JSON object per line on stdin and reads one per line on stdout:

    {"contender": "neon-keys", "url": "http://127.0.0.1:PORT/k10/api/v2", "calls": 200}
    -> {"seconds": 0.031, "cpu": 0.024, "items": 10}
    total wall time and this process's CPU time of the calls, and the size of the last result

Each contender keeps its client (and so its connection) between requests, as a real
program would; the parent discards the first round as warm-up. Each call is timed alone,
and its result dropped outside the timed part. This file runs under this
project's interpreter and under the neon-api one, so each contender imports its library
only when first asked.

Contenders, all calling the same server, getting the same bytes:

- ``raw-httpx``: ``httpx.Client().get(url).json()``, the floor any httpx-based client has.
- ``neon-keys``: ``NeonKeys(...).personal_keys.list()``, pacing on but with limits far
  above the load (its bookkeeping is measured, no wait ever happens).
- ``neon-keys-async``: the same through ``AsyncNeonKeys`` in one event loop.
- ``neon-api``: ``NeonAPI(...).api_keys()`` from neon-api 0.3.0, Neon's Python SDK.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

TOKEN = "napi_benchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbench"


def _raw_httpx(base_url: str) -> Callable[[], object]:
    import httpx

    client = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})
    url = base_url + "/api_keys"

    def call() -> object:
        response = client.get(url)
        response.raise_for_status()
        return response.json()

    return call


def _unpaced_limits() -> Any:
    from neon_keys import RateLimits

    return RateLimits(per_minute=1e12, burst_per_route=1e12, org_create_per_second=1e12)


def _neon_keys(base_url: str) -> Callable[[], object]:
    from neon_keys import NeonKeys

    client = NeonKeys(api_key=TOKEN, base_url=base_url, rate_limits=_unpaced_limits())
    return client.personal_keys.list


def _neon_keys_async(base_url: str) -> Callable[[], object]:
    import asyncio

    from neon_keys import AsyncNeonKeys

    loop = asyncio.new_event_loop()
    client = AsyncNeonKeys(api_key=TOKEN, base_url=base_url, rate_limits=_unpaced_limits())

    def call() -> object:
        return loop.run_until_complete(client.personal_keys.list())

    return call


def _neon_api(base_url: str) -> Callable[[], object]:
    from neon_api import NeonAPI

    client = NeonAPI(TOKEN, base_url=base_url + "/")
    return client.api_keys


CONTENDERS: dict[str, Callable[[str], Callable[[], object]]] = {
    "raw-httpx": _raw_httpx,
    "neon-keys": _neon_keys,
    "neon-keys-async": _neon_keys_async,
    "neon-api": _neon_api,
}


def main() -> None:
    """Answer timing requests until stdin closes."""
    calls: dict[tuple[str, str], Callable[[], object]] = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["contender"], request["url"])
        if key not in calls:
            calls[key] = CONTENDERS[key[0]](key[1])
        call = calls[key]
        seconds = cpu = 0.0
        size = -1
        for _ in range(request["calls"]):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = call()
            seconds += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            # Dropped outside the timed part: freeing one listing while timing the next
            # would charge each call with its predecessor's deallocation.
            size = len(result) if isinstance(result, list) else -1
            del result
        print(json.dumps({"seconds": seconds, "cpu": cpu, "items": size}), flush=True)


if __name__ == "__main__":
    main()
