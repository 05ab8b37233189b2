"""Running the mutants: which tests reach each one, and a forked pytest run per mutant.

The suite runs once under ``mutation.tracing`` to learn which tests reach which line. Each
mutant then runs in a child process forked from this one (the libraries the suite uses are
imported here once, ``neon_keys`` never), with its mutated module first on ``sys.path`` (and
on ``PYTHONPATH``, for the subprocesses tests start): only the tests that reach the mutated
lines, fastest first, stopping at the first failure. A mutant is killed when a test fails or
errors (an import that breaks counts), or when its run outlives its time limit (a hang).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .operators import Mutant

# pytest's exit codes that mean a test saw the mutant: a test failed (1), or the run stopped
# at an error, such as a test module that no longer imports (2). An internal error (3), a
# usage error (4) or no test collected (5) is a fault of the run, not a kill.
KILLING_CODES = frozenset({1, 2})
CHILD_FAILED = 70  # the forked child could not run pytest at all
# A mutant's run may take this many times its tests' traced duration, plus the slack.
TIME_FACTOR = 4.0
TIME_SLACK = 15.0  # seconds: start-up and collection
CONTROL_SLACK = 600.0  # seconds: the control run holds every selected test
# A mutation run lasts long enough for someone to edit the tree meanwhile: the suite's check
# that the checkout is unchanged (tests/hygiene.py) would blame the mutant.
# (A project without that option is told nothing of it.)
GUARD_OFF = (
    "-o",
    "checkout_guard=false",
    "-W",
    "ignore:Unknown config option:pytest.PytestConfigWarning",
)


class MutateError(Exception):
    """Mutation testing cannot proceed; the message says why."""


@dataclass(frozen=True)
class Coverage:
    """What the traced run saw: each test's duration and lines, lines run at import."""

    durations: dict[str, float]
    lines: dict[str, dict[str, set[int]]]  # nodeid -> file -> lines
    import_lines: dict[str, set[int]]
    modules: list[str]

    @classmethod
    def read(cls, path: Path) -> Coverage:
        """Load the tracing plugin's JSON file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            {nodeid: test["duration"] for nodeid, test in data["tests"].items()},
            {
                nodeid: {file: set(lines) for file, lines in test["lines"].items()}
                for nodeid, test in data["tests"].items()
            },
            {file: set(lines) for file, lines in data["import"].items()},
            data["modules"],
        )

    def duration(self, nodeid: str) -> float:
        """The traced time of a test (seconds); of all its parameters for a whole test."""
        if nodeid in self.durations:
            return self.durations[nodeid]
        return sum(
            t for n, t in self.durations.items() if n.startswith((nodeid + "[", nodeid + "::"))
        )

    def tests_for(self, file: str, lines: Iterable[int]) -> list[str]:
        """The tests that reach any of ``lines`` of ``file``, fastest first.

        A line run at import (a module constant, a default value, a decorator) may shape
        everything the module does: every test that reaches the module is selected.
        """
        wanted = set(lines)
        if wanted & self.import_lines.get(file, set()):
            chosen = [n for n, files in self.lines.items() if files.get(file)]
        else:
            chosen = [n for n, files in self.lines.items() if wanted & files.get(file, set())]
        ordered = sorted(chosen, key=lambda nodeid: (self.durations[nodeid], nodeid))
        return list(dict.fromkeys(addressable(nodeid) for nodeid in ordered))


def addressable(nodeid: str) -> str:
    """``nodeid`` as pytest's command line surely selects it.

    A parameter id holding characters an argument file or the id parser may read otherwise
    (``::``, ``#``, ``?``, spaces: ``[http://[::1]:9]``, ``[https://h/api?#]``) is replaced by
    its test file, which runs that test among others.
    """
    bracket = nodeid.find("[")
    if bracket != -1 and any(c in nodeid[bracket:] for c in ("::", "#", "?", " ", "@")):
        return nodeid.split("::", 1)[0]
    return nodeid


@dataclass
class Result:
    """What became of one mutant."""

    mutant: Mutant
    outcome: str  # "killed", "timeout", "survived", "not reached", "error"
    tests: int  # how many tests were selected
    seconds: float = 0.0
    detail: str = ""  # for an error: the last lines the run printed

    @property
    def killed(self) -> bool:
        """Whether the suite noticed the mutant (a timeout counts)."""
        return self.outcome in ("killed", "timeout")


def trace(root: Path, files: list[Path], work: Path, tests: list[Path]) -> Coverage:
    """Run the suite (``tests``) once under the tracing plugin; fail if it does not pass."""
    out = work / "trace.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(
                None, [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")]
            )
        ),
        "MUTATE_TARGETS": os.pathsep.join(str(f) for f in files),
        "MUTATE_TRACE": str(out),
        "MUTATE_ROOT": str(root),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "mutation.tracing",
        *GUARD_OFF,
        f"--rootdir={root}",
        "-c",
        str(root / "pyproject.toml"),
        *(str(path.resolve()) for path in tests),
    ]
    log = work / "trace.log"
    with log.open("w", encoding="utf-8") as sink:
        code = subprocess.run(command, cwd=work, env=env, stdout=sink, stderr=sink, check=False)
    if code.returncode != 0 or not out.exists():
        tail = "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-15:])
        raise MutateError(f"the suite does not pass without mutants (see {log}):\n{tail}")
    return Coverage.read(out)


def preload(modules: Iterable[str], package: str) -> None:
    """Import the suite's libraries once (never ``package``), so that each forked run starts
    warm."""
    for name in modules:
        # Private modules (C accelerators such as _asyncio) are imported by their packages;
        # imported on their own first, some leave their package half set up.
        if name == package or name.startswith("_") or name == "__main__":
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(name)


@dataclass
class Slot:
    """One worker: its own copy of the package folder and the mutant it runs, if any."""

    folder: Path  # holds a copy of neon_keys
    work: Path
    pid: int = 0
    result: Result | None = None
    target: Path | None = None
    original: str = ""
    started: float = 0.0
    deadline: float = 0.0
    log: list[str] = field(default_factory=list)


def _no_shrinking() -> None:
    """Hypothesis stops at the first failing example: a mutant is killed, not explained."""
    try:
        from hypothesis import Phase, settings
    except ImportError:
        return
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    settings.register_profile("mutate", phases=phases, print_blob=False)
    settings.load_profile("mutate")


def _child(slot: Slot, root: Path, tests: list[str]) -> None:
    """In the forked child: run the selected tests against the mutated copy, then exit."""
    code = CHILD_FAILED
    try:
        os.setpgid(0, 0)
        os.chdir(slot.work)
        quiet = os.open(os.devnull, os.O_RDONLY)
        log = os.open(slot.work / "pytest.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(quiet, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.path.insert(0, str(slot.folder))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(slot.folder), os.environ.get("PYTHONPATH")])
        )
        import pytest

        _no_shrinking()
        args_file = slot.work / "tests.txt"
        args_file.write_text("\n".join(str(root / t) for t in tests) + "\n", encoding="utf-8")
        code = int(
            pytest.main(
                [
                    "-x",
                    "-q",
                    "-p",
                    "no:randomly",
                    "-p",
                    "no:cacheprovider",
                    # The libraries imported before the fork include pytest plugins, which
                    # pytest can then no longer rewrite: say nothing of it.
                    "-W",
                    "ignore::pytest.PytestAssertRewriteWarning",
                    *GUARD_OFF,
                    f"--rootdir={root}",
                    "-c",
                    str(root / "pyproject.toml"),
                    f"@{args_file}",
                ]
            )
        )
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_mutants(
    mutants: list[Mutant],
    coverage: Coverage,
    *,
    root: Path,
    package: Path,
    work: Path,
    jobs: int,
    progress: Callable[[Result], None],
    slack: float = TIME_SLACK,
) -> list[Result]:
    """Run every mutant, ``jobs`` at a time; return the results in the mutants' order.

    A control run comes first: the unmutated package, forked like a mutant, over every test
    any mutant selects. It must pass, or no kill could be trusted.
    """
    results: dict[int, Result] = {}
    queue: list[tuple[int, Mutant, list[str]]] = []
    for index, mutant in enumerate(mutants):
        tests = coverage.tests_for(
            str(package / mutant.path), range(mutant.line, mutant.end_line + 1)
        )
        if tests:
            queue.append((index, mutant, tests))
        else:
            results[index] = Result(mutant, "not reached", 0)
            progress(results[index])
    slots = []
    for number in range(jobs):
        folder = work / f"slot{number}" / "src"
        shutil.copytree(
            package, folder / package.name, ignore=shutil.ignore_patterns("__pycache__")
        )
        (work / f"slot{number}" / "run").mkdir()
        slots.append(Slot(folder, work / f"slot{number}" / "run"))
    everything = sorted(
        {test for _, _, tests in queue for test in tests},
        key=lambda nodeid: (coverage.duration(nodeid), nodeid),
    )
    if queue:
        _control(slots[0], queue[0][1], everything, coverage, root=root, package=package)
    running: dict[int, tuple[Slot, int]] = {}
    queue.reverse()
    try:
        while queue or running:
            for slot in slots:
                if slot.pid == 0 and queue:
                    index, mutant, tests = queue.pop()
                    _start(slot, mutant, tests, coverage, root=root, package=package, slack=slack)
                    running[slot.pid] = (slot, index)
            _reap(running, results, progress)
            time.sleep(0.02)
    finally:
        for slot, _ in running.values():
            _kill(slot)
            _restore(slot)
    return [results[index] for index in range(len(mutants))]


def _control(
    slot: Slot, mutant: Mutant, tests: list[str], coverage: Coverage, *, root: Path, package: Path
) -> None:
    """Run ``tests`` against the unmutated package as a mutant would be; fail if they fail."""
    source = (package / mutant.path).read_text(encoding="utf-8")
    unchanged = Mutant(mutant.path, 0, 0, "(none: control run)", source)
    results: dict[int, Result] = {}
    running: dict[int, tuple[Slot, int]] = {}
    _start(slot, unchanged, tests, coverage, root=root, package=package, slack=CONTROL_SLACK)
    running[slot.pid] = (slot, 0)
    while running:
        _reap(running, results, lambda result: None)
        time.sleep(0.05)
    if results[0].outcome != "survived":
        log = (slot.work / "pytest.log").read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(log.strip().splitlines()[-20:])
        raise MutateError(
            f"the unmutated package fails its tests when run as a mutant is "
            f"({results[0].outcome}); no result could be trusted:\n{tail}"
        )


def _start(
    slot: Slot,
    mutant: Mutant,
    tests: list[str],
    coverage: Coverage,
    *,
    root: Path,
    package: Path,
    slack: float,
) -> None:
    slot.target = slot.folder / package.name / mutant.path
    slot.original = slot.target.read_text(encoding="utf-8")
    slot.target.write_text(mutant.source, encoding="utf-8")
    for cache in slot.folder.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    budget = sum(coverage.duration(t) for t in tests)
    slot.started = time.monotonic()
    slot.deadline = slot.started + slack + TIME_FACTOR * budget
    slot.result = Result(mutant, "error", len(tests))
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(slot, root, tests)
    slot.pid = pid


def _reap(
    running: dict[int, tuple[Slot, int]],
    results: dict[int, Result],
    progress: Callable[[Result], None],
) -> None:
    now = time.monotonic()
    for pid, (slot, index) in list(running.items()):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0 and now < slot.deadline:
            continue
        if done == 0:
            _kill(slot)
            outcome = "timeout"
        else:
            code = os.waitstatus_to_exitcode(status)
            _kill(slot)  # servers or subprocesses a test left behind
            outcome = "survived" if code == 0 else "killed" if code in KILLING_CODES else "error"
        assert slot.result is not None
        if outcome == "error":
            log = (slot.work / "pytest.log").read_text(encoding="utf-8", errors="replace")
            slot.result.detail = " | ".join(log.strip().splitlines()[-3:])
        slot.result.outcome = outcome
        slot.result.seconds = now - slot.started
        results[index] = slot.result
        progress(slot.result)
        _restore(slot)
        del running[pid]
        slot.pid = 0


def _kill(slot: Slot) -> None:
    if slot.pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(slot.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(slot.pid, 0)


def _restore(slot: Slot) -> None:
    if slot.target is not None:
        slot.target.write_text(slot.original, encoding="utf-8")
        slot.target = None


def describe(results: list[Result]) -> dict[str, Any]:
    """Counts per outcome and the kill rate (a whole percentage), for the report."""
    killed = sum(r.killed for r in results)
    total = len(results)
    return {
        "total": total,
        "killed": killed,
        "rate": round(100 * killed / total) if total else 100,
        "outcomes": {
            outcome: sum(r.outcome == outcome for r in results)
            for outcome in ("killed", "timeout", "survived", "not reached", "error")
        },
    }
