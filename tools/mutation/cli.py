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

from .cache import Cache
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
CACHE_FOLDER = ".mutate-cache"
# The core: the request flow and client, retries and pacing, reading answers (parsing, bounded
# and decoded bodies), redaction and secrets, input checks, bulk work, durations, lease names,
# the operations, errors, models and resources around them, the secret sinks (the
# library's, with their files and dotenv writing, and the CLI's), and the CLI's streams. Paths relative to overlay/neon_keys, without ".py". (``_scope``
# is left out: it holds no line a mutant could change.)
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
    "_lazy",
    "_redaction",
    "_body",
    "_lease_names",
    "_sinks",
    "_files",
    "_dotenv",
    "cli/_streams",
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


def report(results: list[Result], modules: list[str], coverage: Coverage | None = None) -> str:
    """Rates per module, the tests left out, the mutants not killed, and the kill rate line."""
    lines = ["", "Per module (killed of mutants):"]
    for module in modules:
        mine = [r for r in results if r.mutant.path == f"{module}.py"]
        if mine:
            summary = describe(mine)
            lines.append(
                f"  {module:<16} {summary['killed']:>4} of {summary['total']:<4} {summary['rate']:>3}%"
            )
    if coverage is not None and coverage.failed:
        lines += ["", "Tests left out (they fail without mutants, under the tracer or forked):"]
        lines += [f"  {nodeid}" for nodeid in sorted(coverage.failed)]
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
    parser.add_argument(
        "--fresh", action="store_true", help="trace and run everything again (ignore the cache)"
    )
    parser.add_argument(
        "--most",
        type=int,
        help="a quick pass: run each mutant against at most this many of its tests",
    )
    parser.add_argument("--cache", type=Path, help="the cache folder (default: ROOT/.mutate-cache)")
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
    cache = Cache(None if args.fresh else (args.cache or root / CACHE_FOLDER).resolve())
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
            # Every core module is traced whichever are run, so that one trace serves all.
            traced = dict.fromkeys(
                [*modules, *(m for m in CORE if (package / f"{m}.py").is_file())]
            )
            files = [package / f"{module}.py" for module in traced]
            print(f"Tracing the suite over {len(modules)} modules ({len(mutants)} mutants)...")
            coverage: Coverage = trace(root, files, work, tests, cache=cache)
            print(f"  {len(coverage.durations)} tests known in {time.monotonic() - started:.0f} s")
            preload(coverage.modules, package.name)
            results = run_modules(
                modules,
                mutants,
                coverage,
                cache=cache,
                root=root,
                package=package,
                work=work,
                args=args,
            )
            print(f"\n{len(results)} mutants in {time.monotonic() - started:.0f} s")
    except MutateError as exc:
        print(f"mutate: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report(results, modules, coverage))
    if args.json:
        records = [
            {
                "file": r.mutant.path,
                "line": r.mutant.line,
                "change": r.mutant.change,
                "outcome": r.outcome,
                "tests": r.tests,
                "by": r.by,
                "reused": r.reused,
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


class _Marks:
    """Prints a mark per settled mutant, 60 to a line."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def __call__(self, result: Result) -> None:
        self.done += 1
        end = "\n" + " " * 17 if self.done % 60 == 0 and self.done < self.total else ""
        print(MARKS[result.outcome], end=end, flush=True)


def run_modules(
    modules: list[str],
    mutants: list[Mutant],
    coverage: Coverage,
    *,
    cache: Cache,
    root: Path,
    package: Path,
    work: Path,
    args: argparse.Namespace,
) -> list[Result]:
    """Run the mutants one module after another, printing each module's line as it ends."""
    results: list[Result] = []
    verified: set[str] = set()
    for module in modules:
        mine = [m for m in mutants if m.path == f"{module}.py"]
        started = time.monotonic()
        print(f"{module:<16} ", end="", flush=True)
        progress = _Marks(len(mine))

        settled = run_mutants(
            mine,
            coverage,
            root=root,
            package=package,
            work=work,
            jobs=max(1, args.jobs),
            progress=progress,
            slack=args.slack,
            most=args.most,
            cache=cache,
            verified=verified,
        )
        summary = describe(settled)
        print(
            f"\n{'':<16} {summary['killed']} of {summary['total']} killed ({summary['rate']}%) "
            f"in {time.monotonic() - started:.0f} s"
        )
        results += settled
    return results
