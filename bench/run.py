"""``make bench``: neon_keys against raw httpx and neon-api, side by side, in one run.

    .venv/bin/python bench/run.py [--quick] [--only NAME ...] [--output PATH]

Starts a fixed-response server and the emulator in their own processes, times every
contender in interleaved rounds, prints a table of ratios and writes ``bench/results.json``.
BENCHMARKS.md says what each figure measures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases
from cases import Context
from emulator import EmulatorProcess
from measure import HERE, Figure, Worker
from peer import peer_python
from server import FixedServer

CASES = ("overhead", "listing", "startup", "exec", "bulk", "pacing", "policy", "memory")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            models = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": load,
    }


def versions() -> dict[str, str]:
    """Versions of the libraries compared."""
    from importlib import metadata

    found = {}
    for name in ("neon-api-keys", "httpx"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _cell(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def print_table(figures: list[Figure]) -> None:
    """The figures as a plain-text table."""
    header = ("figure", "ours", "baseline", "ratio", "goal", "")
    rows = []
    for figure in figures:
        ratio = figure.ratio
        status = {True: "ok", False: "MISSED", None: ""}[figure.met]
        rows.append(
            (
                figure.title,
                _cell(figure.ours, figure.unit),
                "" if figure.baseline is None else _cell(figure.baseline, figure.unit),
                "" if ratio is None else f"{ratio:.2f}x",
                figure.goal,
                status,
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row, figure in zip(rows, figures, strict=True):
        print(line.format(*row))
        if figure.note:
            print(f"    {figure.note}")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen cases, print the table, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test)")
    parser.add_argument("--only", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print("neon-api 0.3.0: preparing bench/.work/ ...", flush=True)
    peer, peer_note = peer_python()
    print(f"  {peer_note}" if peer else f"  {peer_note}; its rows are skipped", flush=True)

    figures: list[Figure] = []
    with ExitStack() as stack:
        server = stack.enter_context(FixedServer([cases.SMALL, cases.LARGE]))
        ours = stack.enter_context(Worker())
        raw = stack.enter_context(Worker())
        peer_worker = stack.enter_context(Worker(peer)) if peer else None
        ctx = Context(server, ours, raw, peer_worker, peer, peer_note, args.quick)
        emulator = None
        if {"bulk", "pacing", "exec", "policy"} & set(args.only):
            emulator = stack.enter_context(EmulatorProcess())
        steps: dict[str, Callable[[], list[Figure]]] = {
            "overhead": lambda: cases.call_overhead(ctx),
            "listing": lambda: cases.listing(ctx),
            "startup": lambda: cases.startup(ctx),
            "exec": lambda: cases.exec_lease(ctx, emulator),
            "bulk": lambda: cases.bulk(ctx, emulator),
            "pacing": lambda: cases.pacing(ctx, emulator),
            "policy": lambda: cases.policy_plan(ctx, emulator) + cases.policy_apply(ctx, emulator),
            "memory": lambda: cases.memory(ctx),
        }
        for name in CASES:
            if name in args.only:
                print(f"{name} ...", flush=True)
                figures.extend(steps[name]())

    elapsed = time.perf_counter() - started
    print()
    print_table(figures)
    print(f"\n{elapsed:.0f} s; results in {args.output}")
    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": {**versions(), "neon-api": peer_note if peer else "unavailable"},
        "quick": args.quick,
        "seconds": round(elapsed, 1),
        "figures": [figure.as_json() for figure in figures],
    }
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
