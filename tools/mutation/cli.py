"""The command line of ``make mutate``: mutants of the core modules, the kill rate, survivors.

    python tools/mutate.py [--modules _retry,cli/_sinks] [--tests PATH ...] [--jobs N]
                           [--json FILE] [--list]

Prints a character per mutant as it settles (``.`` killed, ``T`` killed by a timeout, ``S``
survived, ``-`` no test reaches it, ``E`` the run itself failed), then the rate per module,
every mutant that was not killed (``file:line  change``), and the last line
``Mutation kill rate: NN% (K of N mutants killed)``. Exit status 0, or 2 when it cannot run
(the suite fails without mutants, an unknown module).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from .operators import Mutant, mutants_of
from .run import (
    TIME_SLACK,
    Coverage,
    MutateError,
    Result,
    describe,
    preload,
    run_mutants,
    trace,
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "overlay" / "neon_keys"
# The core: the request flow, retries and pacing, reading answers, secrets, input checks,
# bulk work, durations, the CLI's secret sinks, and the operations, errors, models and
# resources around them. Paths relative to overlay/neon_keys, without ".py".
CORE = (
    "_retry",
    "_base_client",
    "_parsing",
    "_pacing",
    "_secret",
    "_validation",
    "_bulk",
    "_durations",
    "cli/_sinks",
    "_operations",
    "_exceptions",
    "_client",
    "_resources",
    "_models",
    "_scope",
    "_lazy",
)
MARKS = {"killed": ".", "timeout": "T", "survived": "S", "not reached": "-", "error": "E"}


def collect(package: Path, modules: list[str]) -> list[Mutant]:
    """Every mutant of the named modules of ``package``."""
    found: list[Mutant] = []
    for module in modules:
        path = package / f"{module}.py"
        if not path.is_file():
            raise MutateError(f"no module {module} under {package}")
        found.extend(mutants_of(path.read_text(encoding="utf-8"), f"{module}.py"))
    return found


def report(results: list[Result], modules: list[str]) -> str:
    """Rates per module, the mutants not killed, and the kill rate line."""
    lines = ["", "Per module (killed of mutants):"]
    for module in modules:
        mine = [r for r in results if r.mutant.path == f"{module}.py"]
        if mine:
            summary = describe(mine)
            lines.append(
                f"  {module:<16} {summary['killed']:>4} of {summary['total']:<4} {summary['rate']:>3}%"
            )
    alive = [r for r in results if not r.killed]
    if alive:
        lines += ["", "Not killed (file:line  change  [outcome, tests run]):"]
        for r in alive:
            lines.append(
                f"  {r.mutant.path}:{r.mutant.line}  {r.mutant.change}  [{r.outcome}, {r.tests}]"
            )
            if r.detail:
                lines.append(f"      {r.detail[:300]}")
    summary = describe(results)
    lines += [
        "",
        f"Mutation kill rate: {summary['rate']}% ({summary['killed']} of {summary['total']} "
        "mutants killed)",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run mutation testing; return the exit status."""
    parser = argparse.ArgumentParser(prog="mutate.py", description=__doc__.split("\n")[0])
    parser.add_argument("--modules", help="comma-separated modules (default: the core)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel runs")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, default=PACKAGE, help=argparse.SUPPRESS)
    parser.add_argument("--slack", type=float, default=TIME_SLACK, help=argparse.SUPPRESS)
    parser.add_argument(
        "--tests",
        type=Path,
        nargs="+",
        default=None,
        help="the tests to trace and choose from (default: the whole suite)",
    )
    args = parser.parse_args(argv)
    modules = args.modules.split(",") if args.modules else list(CORE)
    root, package = args.root.resolve(), args.package.resolve()
    tests = args.tests or [root / "tests"]
    try:
        mutants = collect(package, modules)
        if args.list:
            for mutant in mutants:
                print(f"{mutant.path}:{mutant.line}  {mutant.change}")
            print(f"{len(mutants)} mutants")
            return 0
        with tempfile.TemporaryDirectory(prefix="neon-keys-mutate-") as folder:
            work = Path(folder)
            started = time.monotonic()
            files = sorted({package / m.path for m in mutants})
            print(f"Tracing the suite over {len(modules)} modules ({len(mutants)} mutants)...")
            coverage: Coverage = trace(root, files, work, tests)
            print(f"  {len(coverage.durations)} tests traced in {time.monotonic() - started:.0f} s")
            preload(coverage.modules, package.name)
            done = 0

            def progress(result: Result) -> None:
                nonlocal done
                done += 1
                end = "\n" if done % 72 == 0 else ""
                print(MARKS[result.outcome], end=end, flush=True)

            results = run_mutants(
                mutants,
                coverage,
                root=root,
                package=package,
                work=work,
                jobs=max(1, args.jobs),
                progress=progress,
                slack=args.slack,
            )
            print(f"\n{len(results)} mutants in {time.monotonic() - started:.0f} s")
    except MutateError as exc:
        print(f"mutate: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report(results, modules))
    if args.json:
        records = [
            {
                "file": r.mutant.path,
                "line": r.mutant.line,
                "change": r.mutant.change,
                "outcome": r.outcome,
                "tests": r.tests,
                "seconds": round(r.seconds, 2),
                "detail": r.detail,
            }
            for r in results
        ]
        args.json.write_text(
            json.dumps({"summary": describe(results), "mutants": records}, indent=1) + "\n",
            encoding="utf-8",
        )
    return 0
