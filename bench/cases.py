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

from measure import HERE, Figure, Worker, interleave, median, paired_ratio, spread, wall_time
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


def _timed(
    contenders: dict[str, Worker], url: str, calls: int, expected: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Interleaved rounds of ``calls`` listings per contender: seconds per call, per round,
    and each contender's median CPU seconds per call (its own process's, server excluded)."""
    cpu: dict[str, list[float]] = {name: [] for name in contenders}

    def batch(name: str) -> float:
        seconds, cpu_seconds, items = contenders[name].time(name, url, calls)
        if items != expected:
            raise RuntimeError(f"{name} listed {items} keys, expected {expected}")
        cpu[name].append(cpu_seconds / calls)
        return seconds / calls

    samples = interleave({name: (lambda n=name: batch(n)) for name in contenders}, rounds)
    return samples, {name: median(values[1:]) for name, values in cpu.items()}


def _details(samples: dict[str, list[float]], cpu: dict[str, float], calls: int) -> dict[str, Any]:
    return {"calls_per_round": calls, "cpu_seconds_per_call": cpu, **_spreads(samples)}


def call_overhead(ctx: Context) -> list[Figure]:
    """``personal_keys.list()`` of 10 keys against raw httpx GET + ``.json()``."""
    calls = 300
    samples, cpu = _timed(
        {"neon-keys": ctx.ours, "raw-httpx": ctx.raw},
        ctx.server.base_url(SMALL),
        calls,
        SMALL,
        ctx.rounds(30, 5),
    )
    ratio = paired_ratio(samples, "neon-keys", "raw-httpx")
    return [
        Figure(
            "call_overhead",
            "list() of 10 keys vs raw httpx GET + .json()",
            median(samples["neon-keys"]) * 1e6,
            median(samples["raw-httpx"]) * 1e6,
            "µs",
            goal="≤ 1.10x",
            met=ratio <= 1.10,
            paired=ratio,
            note=f"client CPU per call: {cpu['neon-keys'] * 1e6:.0f} vs "
            f"{cpu['raw-httpx'] * 1e6:.0f} µs",
            detail=_details(samples, cpu, calls),
        )
    ]


def listing(ctx: Context) -> list[Figure]:
    """Listing 10,000 keys: ours against raw httpx + json, and against neon-api."""
    calls = 2
    contenders = {"neon-keys": ctx.ours, "raw-httpx": ctx.raw}
    if ctx.peer is not None:
        contenders["neon-api"] = ctx.peer
    samples, cpu = _timed(contenders, ctx.server.base_url(LARGE), calls, LARGE, ctx.rounds(15, 3))
    ours = median(samples["neon-keys"])
    detail = _details(samples, cpu, calls)
    ratio = paired_ratio(samples, "neon-keys", "raw-httpx")
    rows = [
        Figure(
            "list_10k_vs_httpx",
            "list() of 10,000 keys vs raw httpx + json.loads",
            ours * 1e3,
            median(samples["raw-httpx"]) * 1e3,
            "ms",
            goal="≤ 3x",
            met=ratio <= 3.0,
            paired=ratio,
            detail=detail,
        )
    ]
    if "neon-api" in samples:
        ratio = paired_ratio(samples, "neon-keys", "neon-api")
        rows.append(
            Figure(
                "list_10k_vs_neon_api",
                "list() of 10,000 keys vs neon-api 0.3.0 api_keys()",
                ours * 1e3,
                median(samples["neon-api"]) * 1e3,
                "ms",
                goal="< 1x",
                met=ratio < 1.0,
                paired=ratio,
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


def _child_env() -> dict[str, str]:
    """This environment for fresh processes, less what would skew them: a set
    PYTHONDONTWRITEBYTECODE makes every import compile from source, and NEON_ variables
    would change what the CLI does."""
    skip = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONTRACEMALLOC")
    return {k: v for k, v in os.environ.items() if k not in skip and not k.startswith("NEON_")}


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
    env = _child_env()
    samples = interleave(
        {name: (lambda c=command: wall_time(c, env)) for name, command in commands.items()},
        rounds=ctx.rounds(30, 5),
        warmup=2,
    )
    m = {name: median(values) * 1e3 for name, values in samples.items()}
    detail = {"median_ms": m, **_spreads(samples)}
    del detail["median_seconds"]

    def row(
        key: str, title: str, ours: str, base: str, *, goal: float | None = None, note: str = ""
    ) -> Figure:
        ratio = paired_ratio(samples, ours, base)
        return Figure(
            key,
            title,
            m[ours],
            m[base],
            "ms",
            goal="" if goal is None else f"≤ {goal}x",
            met=None if goal is None else ratio <= goal,
            paired=ratio,
            note=note,
            detail=detail,
        )

    return [
        row(
            "import_neon_keys",
            "python -c 'import neon_keys' vs 'import httpx'",
            "import neon_keys",
            "import httpx",
            note="names load on first use; the next row is what a caller needs",
        ),
        row(
            "import_client",
            "python -c 'from neon_keys import NeonKeys' vs 'import httpx'",
            "from neon_keys import NeonKeys",
            "import httpx",
            goal=1.3,
        ),
        row(
            "cli_help",
            "neon-keys --help vs python -c 'import httpx'",
            "neon-keys --help",
            "import httpx",
            goal=1.5,
        ),
        row(
            "first_call",
            "fresh process: import + list() of 10 keys vs httpx import + GET",
            "neon-keys first call",
            "httpx first call",
            note=f"an interpreter alone starts in {m['python']:.0f} ms",
        ),
    ]


# -- bulk work against the emulator ------------------------------------------------------

BULK_KEYS = 1_000
BULK_SLOW_KEYS = 200
BULK_LATENCY = 0.020
BULK_CONCURRENCY = 8


def _unpaced() -> Any:
    from neon_keys import RateLimits

    return RateLimits(per_minute=1e12, burst_per_route=1e12, org_create_per_second=1e12)


def _revoke_all(
    emulator: Any,
    keys: int,
    concurrency: int | None,
    *,
    limits: Any,
    server_limits: Any = None,
    latency: float = 0.0,
) -> tuple[float, list[float], list[Any], dict[str, Any]]:
    """Revoke ``keys`` fresh keys; seconds, settle times, outcomes and the server's stats.

    ``concurrency`` None means ``NeonKeys``, else ``AsyncNeonKeys`` with that many in flight.
    """
    from neon_keys import AsyncNeonKeys, NeonKeys

    world = emulator.send(op="reset", keys=keys, limits=server_limits, latency=latency)
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
    """``AsyncNeonKeys`` (8 in flight) against ``NeonKeys`` revoking keys, pacing out of play.

    Twice: on loopback, where the emulator answers in well under a millisecond and the
    client's CPU is all there is to save; and with every answer 20 ms late, like a server
    across a network, which is what concurrency is for.
    """
    rows = []
    for full, latency, rounds in ((BULK_KEYS, 0.0, 3), (BULK_SLOW_KEYS, BULK_LATENCY, 2)):
        keys = full if not ctx.quick else full // 5

        def run(concurrency: int | None, keys: int = keys, latency: float = latency) -> float:
            seconds, _times, outcomes, stats = _revoke_all(
                emulator, keys, concurrency, limits=_unpaced(), latency=latency
            )
            if len(outcomes) != keys or stats["revoked"] != keys:
                raise RuntimeError(f"bulk revoke left keys behind: {stats}")
            return seconds

        samples = interleave(
            {"async": lambda run=run: run(BULK_CONCURRENCY), "sync": lambda run=run: run(None)},
            rounds=ctx.rounds(rounds, 1),
        )
        ours, sync = median(samples["async"]), median(samples["sync"])
        where = "loopback" if not latency else f"answers {latency * 1e3:.0f} ms late"
        rows.append(
            Figure(
                "bulk_async_vs_sync" + ("" if not latency else "_latency"),
                f"revoke_many of {keys:,} keys ({where}): AsyncNeonKeys "
                f"({BULK_CONCURRENCY} in flight) vs NeonKeys",
                ours,
                sync,
                "s",
                paired=paired_ratio(samples, "async", "sync"),
                note=f"{keys / ours:.0f} vs {keys / sync:.0f} revokes/s",
                detail=_spreads(samples),
            )
        )
    return rows


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
            emulator, keys, concurrency, limits=client_limits, server_limits=server_limits
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
    """Memory of listing 10,000 keys in a fresh process: ours, neon-api, raw httpx."""
    warm, big = ctx.server.base_url(SMALL), ctx.server.base_url(LARGE)
    pythons = {"neon-keys": sys.executable, "raw-httpx": sys.executable}
    if ctx.peer_python is not None:
        pythons["neon-api"] = ctx.peer_python
    env = _child_env()
    retained: dict[str, list[float]] = {name: [] for name in pythons}

    def probe(contender: str, mode: str) -> float:
        done = _run_json(
            [pythons[contender], str(HERE / "memprobe.py"), contender, warm, big, mode], env
        )
        if done["items"] != LARGE:
            raise RuntimeError(f"{contender} listed {done['items']} keys")
        if mode == "traced":
            retained[contender].append(done["retained_bytes"] / 2**20)
        return float(done["peak_bytes"]) / 2**20

    peaks = {}
    for mode in ("rss", "traced"):
        samples = interleave(
            {name: (lambda n=name, m=mode: probe(n, m)) for name in pythons},
            rounds=ctx.rounds(3, 1),
            warmup=0,
        )
        peaks[mode] = {name: median(values) for name, values in samples.items()}
    kept = {name: median(values) for name, values in retained.items()}
    base = "neon-api" if "neon-api" in pythons else "raw-httpx"
    versus = "neon-api" if base == "neon-api" else f"raw httpx ({ctx.peer_note})"
    rows = []
    for key, what, values in (
        ("memory_rss", "peak resident memory added", peaks["rss"]),
        ("memory_traced", "peak Python allocations", peaks["traced"]),
        ("memory_retained", "result kept (Python allocations)", kept),
    ):
        others = ", ".join(
            f"{n} {v:.1f}" for n, v in values.items() if n not in ("neon-keys", base)
        )
        rows.append(
            Figure(
                key,
                f"listing 10,000 keys, {what} vs {versus}",
                values["neon-keys"],
                values[base],
                "MiB",
                note=f"{others} MiB" if others else "",
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


# -- neon-keys exec ----------------------------------------------------------------------------

EXEC_LATENCY = 0.050
"""Seconds the emulator holds every answer in the ``exec`` case, like a distant server."""


def _round_trip(base_url: str, api_key: str, samples: int = 15) -> float:
    """Median seconds of one request on a warm httpx connection: what a round trip costs."""
    import httpx

    times = []
    with httpx.Client(headers={"Authorization": f"Bearer {api_key}"}) as client:
        client.get(base_url + "/auth").raise_for_status()
        for _ in range(samples):
            started = time.perf_counter()
            client.get(base_url + "/auth").raise_for_status()
            times.append(time.perf_counter() - started)
    return median(times)


def exec_lease(ctx: Context, emulator: Any) -> list[Figure]:
    """``neon-keys exec -- true`` against its floor: importing httpx plus the round trips.

    The emulator (its own process) answers every request 50 ms late. The floor is what no
    implementation can avoid: a cold ``python -c 'import httpx'`` and the requests exec
    must wait for (create and revoke; and ``GET /auth`` with ``--verify``), each costing a
    measured round trip. Each round runs the three commands; the ratio is per round.
    """
    world = emulator.send(op="reset", keys=0, limits=None, latency_everywhere=EXEC_LATENCY)
    rtt = _round_trip(world["base_url"], world["api_key"])
    python = sys.executable
    script = Path(python).with_name("neon-keys")
    cli = [str(script)] if script.exists() else [python, "-m", "neon_keys.cli"]
    env = {**_child_env(), "NEON_API_KEY": world["api_key"], "NEON_API_HOST": world["base_url"]}
    commands = {
        "import httpx": [python, "-c", "import httpx"],
        "exec": [*cli, "exec", "--", "true"],
        "exec --verify": [*cli, "exec", "--verify", "--", "true"],
    }
    samples = interleave(
        {name: (lambda c=command: wall_time(c, env)) for name, command in commands.items()},
        rounds=ctx.rounds(20, 4),
        warmup=2,
    )
    stats = emulator.send(op="stats")
    operations = stats["operations"]
    if operations.get("createApiKey") != operations.get("revokeApiKey") or stats["live_keys"] != 1:
        raise RuntimeError(f"exec left keys behind or made extra ones: {stats}")
    m = {name: median(values) * 1e3 for name, values in samples.items()}
    rows = []
    for name, trips in (("exec", 2), ("exec --verify", 3)):
        floors = [base + trips * rtt for base in samples["import httpx"]]
        ratio = paired_ratio({"ours": samples[name], "floor": floors}, "ours", "floor")
        rows.append(
            Figure(
                "exec" if trips == 2 else "exec_verify",
                f"neon-keys {name} -- true, answers 50 ms late, vs import httpx + "
                f"{trips} round trips",
                m[name],
                m["import httpx"] + trips * rtt * 1e3,
                "ms",
                goal="≤ 1.3x",
                met=ratio <= 1.3,
                paired=ratio,
                note=f"import httpx {m['import httpx']:.0f} ms, round trip {rtt * 1e3:.1f} ms",
                detail={"median_ms": m, "round_trip_ms": rtt * 1e3, **_spreads(samples)},
            )
        )
    return rows


# -- policy files ----------------------------------------------------------------------------

POLICY_ORGS = 20
POLICY_ORG_KEYS = 500
POLICY_LATENCY = 0.050
POLICY_ROTATIONS = 100
POLICY_SETTLE = 1.1  # seconds between runs: a route's bucket refills 40 tokens a second


def _policy_file(folder: Path, org_ids: list[str], declared: list[str]) -> Path:
    """A policy managing ``org_ids`` that declares ``declared`` in the first, rotated at 1s."""
    lines = [
        "version = 1",
        "[rules]",
        'max_age = "90d"',
        "[scopes]",
        "orgs = [" + ", ".join(f'"{org_id}"' for org_id in org_ids) + "]",
    ]
    for name in declared:
        lines += [
            "[[keys]]",
            f'name = "{name}"',
            f'scope = "org:{org_ids[0]}"',
            'rotate_every = "1s"',
            f'save = "{name}.token"',
        ]
    path = folder / "neon-keys.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def policy_plan(ctx: Context, emulator: Any) -> list[Figure]:
    """``policy.plan`` over many organizations against the floor: the same listings at once.

    The emulator answers every request 50 ms late and enforces Neon's limits. The floor is
    raw httpx sending the requests a plan needs (``GET /auth`` and one listing per
    organization) all at once, which those limits allow, and parsing the answers. Each run
    starts after ``POLICY_SETTLE`` seconds, untimed, so that it finds the emulator's buckets
    as full as the first run did: the runs share one account.
    """
    import tempfile

    import httpx
    from neon_keys import NeonKeys, policy

    orgs = POLICY_ORGS if not ctx.quick else 5
    keys = POLICY_ORG_KEYS if not ctx.quick else 100
    world = emulator.send(
        op="reset", orgs=orgs, org_keys=keys, limits="neon", latency_everywhere=POLICY_LATENCY
    )
    base, token, org_ids = world["base_url"], world["api_key"], world["org_ids"]
    found: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        wanted = policy.load(_policy_file(Path(folder), org_ids, []))

        def ours(limits: Any = "default") -> float:
            options = {} if limits == "default" else {"rate_limits": limits}
            time.sleep(POLICY_SETTLE)
            started = time.perf_counter()
            with NeonKeys(api_key=token, base_url=base, **options) as neon:
                made = policy.plan(neon, wanted)
            seconds = time.perf_counter() - started
            found["keys"] = sum(len(listed) for _, listed in made.scopes)
            return seconds

        async def listings() -> int:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=base, headers=headers) as client:
                paths = ["/auth", *(f"/organizations/{org}/api_keys" for org in org_ids)]
                answers = await asyncio.gather(*(client.get(path) for path in paths))
            for answer in answers:
                answer.raise_for_status()
            return sum(len(answer.json()) for answer in answers[1:])

        def floor() -> float:
            time.sleep(POLICY_SETTLE)
            started = time.perf_counter()
            listed = asyncio.run(listings())
            seconds = time.perf_counter() - started
            found["floor_keys"] = listed
            return seconds

        samples = interleave(
            {"plan": ours, "unpaced": lambda: ours(None), "floor": floor},
            rounds=ctx.rounds(9, 2),
        )
    stats = emulator.send(op="stats")
    refused = stats["statuses"].get("429", 0)
    if found["keys"] != orgs * keys or found["floor_keys"] != orgs * keys:
        raise RuntimeError(f"the plan did not read every key: {found}")
    ratio = paired_ratio(samples, "plan", "floor")
    return [
        Figure(
            "policy_plan",
            f"policy.plan over {orgs} organizations of {keys} keys, answers "
            f"{POLICY_LATENCY * 1e3:.0f} ms late: vs the listings at once (raw httpx)",
            median(samples["plan"]),
            median(samples["floor"]),
            "s",
            goal="≤ 1.5x",
            met=ratio <= 1.5 and refused == 0,
            paired=ratio,
            note=f"{orgs * keys:,} keys read per plan; {refused} requests got 429",
            detail=_spreads(samples),
        ),
        Figure(
            "policy_plan_unpaced",
            "the same plan with the client's pacing off (rate_limits=None), vs the same floor",
            median(samples["unpaced"]),
            median(samples["floor"]),
            "s",
            paired=paired_ratio(samples, "unpaced", "floor"),
            note="what the plan costs besides the client's pacing: threads, parsing, rules",
        ),
    ]


def policy_apply(ctx: Context, emulator: Any) -> list[Figure]:
    """``policy.apply`` of many rotations in one organization under Neon's limits.

    Each rotation finds the key, creates its replacement, saves it, verifies it; then
    each old key is retired. Against an emulator enforcing Neon's limits, the binding
    one for this sequence is the account's 700 requests a minute (the client paces by
    its steady rate, leaving the burst to other processes of the account). The figure is
    the request rate once the first tenth of the actions is done, against that rate;
    every request is counted for 429s.
    """
    import tempfile

    from neon_keys import NeonKeys, policy
    from neon_keys._constants import NEON_REQUESTS_PER_MINUTE

    allowed = NEON_REQUESTS_PER_MINUTE / 60.0
    rotations = POLICY_ROTATIONS if not ctx.quick else 40
    world = emulator.send(op="reset", orgs=1, org_keys=rotations, limits="neon")
    base, token, org_ids = world["base_url"], world["api_key"], world["org_ids"]
    names = [f"svc-{index:05d}" for index in range(rotations)]
    settled: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        wanted = policy.load(_policy_file(Path(folder), org_ids, names))
        time.sleep(1.1)  # every key is now older than rotate_every (1s)
        with NeonKeys(api_key=token, base_url=base) as neon:
            shown = policy.plan(neon, wanted)
            before = emulator.send(op="stats")["requests"]
            started = time.perf_counter()

            def note(outcome: Any) -> None:
                settled.append((time.perf_counter() - started, outcome.action.kind))

            done = policy.apply(neon, shown, on_outcome=note)
            seconds = time.perf_counter() - started
    stats = emulator.send(op="stats")
    refused = stats["statuses"].get("429", 0)
    operations = stats["operations"]
    revokes = operations.get("revokeOrgApiKey", 0)
    # What each action sent: the apply's own reading of the world (2 requests) aside.
    per_rotation = (stats["requests"] - before - revokes - 2) / rotations
    cost = {"rotate": per_rotation, "retire": 1.0}
    skip = len(settled) // 10
    span = settled[-1][0] - settled[skip][0]
    achieved = sum(cost[kind] for _, kind in settled[skip + 1 :]) / span
    outcomes = Counter(f"{o.action.kind} {o.status}" for o in done.outcomes)
    complete = done.ok and outcomes.get("rotate done", 0) == rotations and revokes == rotations
    return [
        Figure(
            "policy_apply",
            f"policy.apply of {rotations} rotations in one organization, Neon's limits: "
            f"achieved request rate vs the account's {NEON_REQUESTS_PER_MINUTE}/min",
            achieved,
            allowed,
            "req/s",
            goal="≥ 95%, no 429, all done",
            met=achieved >= 0.95 * allowed and refused == 0 and complete,
            note=f"{stats['requests'] - before} requests ({per_rotation:.0f} a rotation, 1 a "
            f"retire), {refused} got 429; outcomes {dict(outcomes)}; {seconds:.1f} s",
            detail={"seconds": seconds, "statuses": stats["statuses"], "operations": operations},
        )
    ]
