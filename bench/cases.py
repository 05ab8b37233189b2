"""The figures of ``make bench``, one function each; every one returns ``Figure`` rows.

Times are medians of interleaved rounds (see ``measure.interleave``); each row compares
ours with a baseline measured in the same rounds, so a busy machine slows both alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import HERE, Figure, Worker, interleave, median, spread, wall_time
from server import FixedServer
from worker import TOKEN

SMALL = 10
LARGE = 10_000


@dataclass
class Context:
    """What every case may use: the server, the workers and the run's settings."""

    server: FixedServer
    ours: Worker
    raw: Worker
    peer: Worker | None
    peer_python: str | None
    peer_note: str
    quick: bool

    def rounds(self, full: int, quick: int) -> int:
        """``full`` rounds, or ``quick`` ones with ``--quick``."""
        return quick if self.quick else full


# -- call overhead and large listings -----------------------------------------------------


def _batch(worker: Worker, contender: str, url: str, calls: int, expected: int) -> float:
    seconds, items = worker.time(contender, url, calls)
    if items != expected:
        raise RuntimeError(f"{contender} listed {items} keys, expected {expected}")
    return seconds / calls


def call_overhead(ctx: Context) -> list[Figure]:
    """``personal_keys.list()`` of 10 keys against raw httpx GET + ``.json()``."""
    url = ctx.server.base_url(SMALL)
    calls = 300
    samples = interleave(
        {
            "neon-keys": lambda: _batch(ctx.ours, "neon-keys", url, calls, SMALL),
            "raw-httpx": lambda: _batch(ctx.raw, "raw-httpx", url, calls, SMALL),
        },
        rounds=ctx.rounds(25, 5),
    )
    ours, raw = median(samples["neon-keys"]), median(samples["raw-httpx"])
    ratio = ours / raw
    return [
        Figure(
            "call_overhead",
            "list() of 10 keys vs raw httpx GET + .json()",
            ours * 1e6,
            raw * 1e6,
            "µs",
            goal="≤ 1.10x",
            met=ratio <= 1.10,
            detail={"calls_per_round": calls, **_spreads(samples)},
        )
    ]


def listing(ctx: Context) -> list[Figure]:
    """Listing 10,000 keys: ours against raw httpx + json, and against neon-api."""
    url = ctx.server.base_url(LARGE)
    calls = 2
    runners = {
        "neon-keys": lambda: _batch(ctx.ours, "neon-keys", url, calls, LARGE),
        "raw-httpx": lambda: _batch(ctx.raw, "raw-httpx", url, calls, LARGE),
    }
    peer = ctx.peer
    if peer is not None:
        runners["neon-api"] = lambda: _batch(peer, "neon-api", url, calls, LARGE)
    samples = interleave(runners, rounds=ctx.rounds(15, 3))
    ours, raw = median(samples["neon-keys"]), median(samples["raw-httpx"])
    detail = {"calls_per_round": calls, **_spreads(samples)}
    rows = [
        Figure(
            "list_10k_vs_httpx",
            "list() of 10,000 keys vs raw httpx + json.loads",
            ours * 1e3,
            raw * 1e3,
            "ms",
            goal="≤ 3x",
            met=ours / raw <= 3.0,
            detail=detail,
        )
    ]
    if "neon-api" in samples:
        peer_time = median(samples["neon-api"])
        rows.append(
            Figure(
                "list_10k_vs_neon_api",
                "list() of 10,000 keys vs neon-api 0.3.0 api_keys()",
                ours * 1e3,
                peer_time * 1e3,
                "ms",
                goal="< 1x",
                met=ours < peer_time,
                detail=detail,
            )
        )
    else:
        rows.append(_missing_peer(ctx, "list_10k_vs_neon_api", "list() of 10,000 keys vs neon-api"))
    return rows


def _spreads(samples: dict[str, list[float]]) -> dict[str, Any]:
    return {
        "rounds": len(next(iter(samples.values()))),
        "spread": {name: round(spread(values), 4) for name, values in samples.items()},
        "median_seconds": {name: median(values) for name, values in samples.items()},
    }


def _missing_peer(ctx: Context, key: str, title: str) -> Figure:
    return Figure(key, title, float("nan"), None, "", goal="", met=None, note=ctx.peer_note)


# -- start-up ----------------------------------------------------------------------------


def startup(ctx: Context) -> list[Figure]:
    """Fresh processes: imports, ``neon-keys --help``, and a first call from cold."""
    python = sys.executable
    script = Path(python).with_name("neon-keys")
    cli = [str(script)] if script.exists() else [python, "-m", "neon_keys.cli"]
    small = ctx.server.base_url(SMALL)
    commands = {
        "python": [python, "-c", "pass"],
        "import httpx": [python, "-c", "import httpx"],
        "import neon_keys": [python, "-c", "import neon_keys"],
        "from neon_keys import NeonKeys": [python, "-c", "from neon_keys import NeonKeys"],
        "neon-keys --help": [*cli, "--help"],
        "httpx first call": [
            python,
            "-c",
            "import httpx; httpx.Client(headers={'Authorization': 'Bearer "
            f"{TOKEN}'}}).get('{small}/api_keys').json()",
        ],
        "neon-keys first call": [
            python,
            "-c",
            "from neon_keys import NeonKeys; "
            f"NeonKeys(api_key='{TOKEN}', base_url='{small}').personal_keys.list()",
        ],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEON_", "PYTHON"))}
    samples = interleave(
        {name: (lambda c=command: wall_time(c, env)) for name, command in commands.items()},
        rounds=ctx.rounds(30, 5),
        warmup=2,
    )
    m = {name: median(values) * 1e3 for name, values in samples.items()}
    detail = {"rounds": len(samples["python"]), "median_ms": m, **_spreads(samples)}
    del detail["median_seconds"]
    return [
        Figure(
            "import_neon_keys",
            "python -c 'import neon_keys' vs 'import httpx'",
            m["import neon_keys"],
            m["import httpx"],
            "ms",
            note="names load on first use; see the next row for what a caller needs",
            detail=detail,
        ),
        Figure(
            "import_client",
            "python -c 'from neon_keys import NeonKeys' vs 'import httpx'",
            m["from neon_keys import NeonKeys"],
            m["import httpx"],
            "ms",
            goal="≤ 1.3x",
            met=m["from neon_keys import NeonKeys"] / m["import httpx"] <= 1.3,
        ),
        Figure(
            "cli_help",
            "neon-keys --help vs python -c 'import httpx'",
            m["neon-keys --help"],
            m["import httpx"],
            "ms",
            goal="≤ 1.5x",
            met=m["neon-keys --help"] / m["import httpx"] <= 1.5,
        ),
        Figure(
            "first_call",
            "fresh process: import + list() of 10 keys vs httpx import + GET",
            m["neon-keys first call"],
            m["httpx first call"],
            "ms",
            note=f"an interpreter alone starts in {m['python']:.0f} ms",
        ),
    ]


# -- bulk work against the emulator ------------------------------------------------------

BULK_KEYS = 1_000
BULK_CONCURRENCY = 8


def _unpaced() -> Any:
    from neon_keys import RateLimits

    return RateLimits(per_minute=1e12, burst_per_route=1e12, org_create_per_second=1e12)


def _revoke_all(
    emulator: Any, keys: int, concurrency: int | None, limits: Any, server_limits: Any
) -> tuple[float, list[float], list[Any], dict[str, Any]]:
    """Revoke ``keys`` fresh keys; seconds, settle times, outcomes and the server's stats."""
    from neon_keys import AsyncNeonKeys, NeonKeys

    world = emulator.send(op="reset", keys=keys, limits=server_limits)
    settled: list[float] = []
    options = {"api_key": world["api_key"], "base_url": world["base_url"], "rate_limits": limits}

    def note(_outcome: Any) -> None:
        settled.append(time.perf_counter())

    started = time.perf_counter()
    if concurrency is None:
        with NeonKeys(**options) as neon:
            outcomes = neon.personal_keys.revoke_many(world["ids"], on_outcome=note)
    else:

        async def revoke() -> list[Any]:
            async with AsyncNeonKeys(**options) as neon:
                return await neon.personal_keys.revoke_many(
                    world["ids"], on_outcome=note, concurrency=concurrency
                )

        outcomes = asyncio.run(revoke())
    seconds = time.perf_counter() - started
    return seconds, [t - started for t in settled], outcomes, emulator.send(op="stats")


def bulk(ctx: Context, emulator: Any) -> list[Figure]:
    """Revoking 1,000 keys: ``AsyncNeonKeys`` (8 in flight) against ``NeonKeys``."""
    keys = BULK_KEYS if not ctx.quick else 200
    limits = _unpaced()

    def run(concurrency: int | None) -> float:
        seconds, _times, outcomes, stats = _revoke_all(emulator, keys, concurrency, limits, None)
        if len(outcomes) != keys or stats["revoked"] != keys:
            raise RuntimeError(f"bulk revoke left keys behind: {stats}")
        return seconds

    samples = interleave(
        {"async": lambda: run(BULK_CONCURRENCY), "sync": lambda: run(None)},
        rounds=ctx.rounds(3, 1),
    )
    ours, sync = median(samples["async"]), median(samples["sync"])
    return [
        Figure(
            "bulk_async_vs_sync",
            f"revoke_many of {keys:,} keys: AsyncNeonKeys "
            f"({BULK_CONCURRENCY} in flight) vs NeonKeys",
            ours,
            sync,
            "s",
            note=f"{keys / ours:.0f} vs {keys / sync:.0f} revokes/s; emulator in its own process",
            detail=_spreads(samples),
        )
    ]


PACED_RATE = 40.0  # Neon's per-route limit, requests per second, as documented
PACED_KEYS = 240


def pacing(ctx: Context, emulator: Any) -> list[Figure]:
    """Bulk revoke against an emulator enforcing the same limit the client paces by."""
    from neon_keys import RateLimits

    keys = PACED_KEYS if not ctx.quick else 120
    server_limits = {"per_minute": 1e9, "burst_per_route": PACED_RATE}
    client_limits = RateLimits(per_minute=1e9, burst_per_route=PACED_RATE)
    rows = []
    for label, concurrency in (("NeonKeys", None), ("AsyncNeonKeys", BULK_CONCURRENCY)):
        seconds, times, outcomes, stats = _revoke_all(
            emulator, keys, concurrency, client_limits, server_limits
        )
        burst = int(PACED_RATE)
        steady = (len(times) - 1 - burst) / (times[-1] - times[burst])
        refused = stats["statuses"].get("429", 0)
        share = refused / stats["requests"]
        statuses = Counter(str(outcome.status) for outcome in outcomes)
        complete = len(outcomes) == keys and statuses.get("revoked", 0) == keys
        rows.append(
            Figure(
                f"pacing_{label.lower()}",
                f"{label}.revoke_many of {keys} keys, emulator limit {PACED_RATE:.0f}/s: "
                "achieved rate vs allowed",
                steady,
                PACED_RATE,
                "req/s",
                goal="≥ 95%, 429s ≤ 1%, all outcomes",
                met=steady >= 0.95 * PACED_RATE and share <= 0.01 and complete,
                note=f"{refused} of {stats['requests']} requests got 429 ({share:.1%}); "
                f"outcomes {dict(statuses)}; {seconds:.1f} s",
                detail={"seconds": seconds, "statuses": stats["statuses"]},
            )
        )
    return rows


# -- memory --------------------------------------------------------------------------------


def memory(ctx: Context) -> list[Figure]:
    """Peak memory of listing 10,000 keys in a fresh process, ours against neon-api."""
    warm, big = ctx.server.base_url(SMALL), ctx.server.base_url(LARGE)
    pythons = {"neon-keys": sys.executable, "raw-httpx": sys.executable}
    if ctx.peer_python is not None:
        pythons["neon-api"] = ctx.peer_python
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}

    def probe(contender: str, mode: str) -> float:
        done = _run_json(
            [pythons[contender], str(HERE / "memprobe.py"), contender, warm, big, mode], env
        )
        if done["items"] != LARGE:
            raise RuntimeError(f"{contender} listed {done['items']} keys")
        return float(done["peak_bytes"]) / 2**20

    rows = []
    for mode, what in (("rss", "resident memory"), ("traced", "Python allocations")):
        samples = interleave(
            {name: (lambda n=name, m=mode: probe(n, m)) for name in pythons},
            rounds=ctx.rounds(3, 1),
            warmup=0,
        )
        m = {name: median(values) for name, values in samples.items()}
        note = f"raw httpx + json.loads: {m['raw-httpx']:.1f} MiB"
        if "neon-api" in m:
            rows.append(
                Figure(
                    f"memory_{mode}",
                    f"peak {what} listing 10,000 keys vs neon-api",
                    m["neon-keys"],
                    m["neon-api"],
                    "MiB",
                    goal="< 1x",
                    met=m["neon-keys"] < m["neon-api"],
                    note=note,
                )
            )
        else:
            rows.append(
                Figure(
                    f"memory_{mode}",
                    f"peak {what} listing 10,000 keys",
                    m["neon-keys"],
                    m["raw-httpx"],
                    "MiB",
                    note=f"vs raw httpx; {ctx.peer_note}",
                )
            )
    return rows


def _run_json(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    import subprocess

    done = subprocess.run(
        command, check=False, capture_output=True, text=True, env=env, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[1]} failed: {done.stderr.strip()[-400:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
