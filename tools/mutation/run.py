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

import pytest

from .cache import Cache, digest, unmarked
from .operators import Mutant

# A module's own tests run first (and inside any ``--most`` bound): the test file named for
# it (test_secret.py for _secret.py) and, for modules whose tests are named for what they
# check, these (parts of test file names, by the module's path in the package).
OWN_TESTS: dict[str, tuple[str, ...]] = {
    "_client.py": ("test_config", "test_interrupts", "test_transport_security"),
    "_base_client.py": ("test_retry", "test_config", "test_fault_suite", "test_leaks"),
    "_exceptions.py": ("test_errors",),
    "_body.py": ("test_bodies", "test_fuzz"),
    "_sinks.py": ("test_rotation", "test_cli_sinks", "test_cli_sink_plugins"),
    "cli/_sinks.py": ("test_cli_deliver_cmd", "test_cli_secrets"),
    "_resources.py": ("test_retire", "test_leases", "test_rotation"),
    "_models.py": ("test_parsing",),
}

# pytest's exit codes after which a mutant counts as killed, once a control run of the
# unmutated package agrees: a test failed (1); collecting stopped at an error, such as a test
# module that no longer imports (2); a plugin or conftest failed to load (3); the selected
# tests were not found, because the mutant changed how they are parametrised (4).
KILLING_CODES = frozenset({1, 2, 3, 4})
# A control that collects the same tests instead of running one: its key starts with this.
COLLECTS = "collects: "
CHILD_FAILED = 70  # the forked child could not run pytest at all
# A mutant's run may take this many times its tests' traced duration, plus the slack.
TIME_FACTOR = 4.0
TIME_SLACK = 15.0  # seconds: start-up and collection
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
    # Tests never selected: they failed under the tracer or in a control run.
    failed: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, path: Path) -> Coverage:
        """Load the tracing plugin's JSON file."""
        return cls.merge([json.loads(path.read_text(encoding="utf-8"))])

    @classmethod
    def merge(cls, traces: Iterable[dict[str, Any]]) -> Coverage:
        """One coverage out of several traces (of the tracing plugin's form)."""
        coverage = cls({}, {}, {}, [])
        modules: set[str] = set()
        for data in traces:
            for nodeid, test in data["tests"].items():
                coverage.durations[nodeid] = test["duration"]
                coverage.lines[nodeid] = {file: set(lines) for file, lines in test["lines"].items()}
            for file, lines in data["import"].items():
                coverage.import_lines.setdefault(file, set()).update(lines)
            modules.update(data["modules"])
            coverage.failed.update(data.get("failed", ()))
        coverage.modules.extend(sorted(modules))
        return coverage

    def duration(self, nodeid: str) -> float:
        """The traced time of a test (seconds); of all its parameters for a whole test."""
        if nodeid in self.durations:
            return self.durations[nodeid]
        return sum(
            t for n, t in self.durations.items() if n.startswith((nodeid + "[", nodeid + "::"))
        )

    def tests_for(self, file: str, lines: Iterable[int]) -> list[str]:
        """The tests that reach any of ``lines`` of ``file``, and every test of the module's
        own test file that reaches the module: those of the own file first, each group
        fastest first.

        A line run at import (a module constant, a default value, a decorator) may shape
        everything the module does: every test that reaches the module is selected. So may
        a line run once per process (the first test to get there is the only one traced
        there): the own test file's tests run too, unless no test reaches the lines at all.
        A test in ``failed`` is never selected, nor a whole file holding one.
        """
        wanted = set(lines)
        everything = bool(wanted & self.import_lines.get(file, set()))
        # The module's own test files: test_secret.py for _secret.py, and OWN_TESTS.
        inside = file.replace("\\", "/").rsplit("/neon_keys/", 1)[-1]
        own = (Path(file).stem.lstrip("_"), *OWN_TESTS.get(inside, ()))

        def mine(nodeid: str) -> bool:
            name = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
            return any(part in name for part in own)

        direct = [n for n, files in self.lines.items() if wanted & files.get(file, set())]
        if not (everything or direct):
            return []  # no test reaches these lines
        chosen = [
            n
            for n, files in self.lines.items()
            if files.get(file) and (everything or mine(n) or wanted & files[file])
        ]
        # Own tests first: the likeliest to notice, and a run stops at the first failure.
        ordered = sorted(chosen, key=lambda n: (not mine(n), self.durations[n], n))
        picked = dict.fromkeys(addressable(n) for n in ordered if n not in self.failed)
        return [t for t in picked if not any(self._within(f, t) for f in self.failed)]

    @staticmethod
    def _within(failed: str, selection: str) -> bool:
        """Whether running ``selection`` (a node id or a whole file) runs ``failed``."""
        return (
            failed == selection
            or failed.startswith((selection + "::", selection + "["))
            or selection.startswith(failed + "::")
        )


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
    by: str = ""  # for a kill: the test that failed first (empty for a hang or an import)
    reused: bool = False  # taken from the cache of an earlier run, not run now

    @property
    def killed(self) -> bool:
        """Whether the suite noticed the mutant (a timeout counts)."""
        return self.outcome in ("killed", "timeout")


def test_files(tests: Iterable[Path]) -> list[Path]:
    """The test files among ``tests`` (files, or folders searched as pytest does by name)."""
    found: set[Path] = set()
    for path in (p.resolve() for p in tests):
        if path.is_file():
            found.add(path)
            continue
        for file in path.rglob("*.py"):
            if "__pycache__" not in file.parts and _is_test_file(file):
                found.add(file)
    return sorted(found)


def _is_test_file(file: Path) -> bool:
    return file.name.startswith("test_") or file.name.endswith("_test.py")


def support_digest(root: Path, tests: Iterable[Path]) -> str:
    """A digest of what every test depends on besides its own file: ``pyproject.toml`` and
    every Python file of the test folders that is not a test file (``conftest.py``, helpers).

    The same whichever tests are chosen (``tests`` only adds folders outside ``root/tests``).
    """
    folders = [root / "tests", *(p if p.is_dir() else p.parent for p in tests)]
    found: set[Path] = set()
    for folder in (f.resolve() for f in folders if f.is_dir()):
        found.update(
            file
            for file in folder.rglob("*.py")
            if "__pycache__" not in file.parts and not _is_test_file(file)
        )
    config = root / "pyproject.toml"
    parts = [config.read_text(encoding="utf-8")] if config.is_file() else []
    for file in sorted(found):
        parts += [str(file), file.read_text(encoding="utf-8", errors="replace")]
    return digest(*parts)


def trace(
    root: Path,
    files: list[Path],
    work: Path,
    tests: list[Path],
    *,
    cache: Cache | None = None,
    say: Callable[[str], None] = print,
) -> Coverage:
    """Which test reaches which line of ``files``: from the cache where it still holds, else
    from one run of the stale test files under the tracing plugin.

    Tests that fail under the tracer are left out of every selection (and said); the run
    stops only when the suite cannot run at all.
    """
    cache = cache or Cache(None)
    support = support_digest(root, tests)
    targets = {
        str(f): digest(unmarked(f.read_text(encoding="utf-8")))
        for f in (p.resolve() for p in files)
    }
    kept: list[dict[str, Any]] = []
    stale: list[Path] = []
    for file in test_files(tests):
        name = _relative(file, root)
        entry = cache.trace(name)
        own = digest(file.read_text(encoding="utf-8", errors="replace"), support)
        if entry is not None and entry.get("digest") == own and _still_holds(entry, targets):
            kept.append(entry)
        else:
            stale.append(file)
    say(f"  {len(kept)} test files traced before, {len(stale)} to trace")
    if stale:
        data = _trace_run(root, files, work, stale)
        for file in stale:
            name = _relative(file, root)
            mine = {
                nodeid: test
                for nodeid, test in data["tests"].items()
                if nodeid.split("::", 1)[0] == name
            }
            failed = [n for n in data["failed"] if n.split("::", 1)[0] == name]
            entry = {
                "digest": digest(file.read_text(encoding="utf-8", errors="replace"), support),
                "targets": targets,
                "tests": mine,
                "import": data["import"],
                "modules": data["modules"],
                "failed": failed,
            }
            if not failed:  # a failure may be a flake: trace the file again next time
                cache.keep_trace(name, entry)
            kept.append(entry)
    coverage = Coverage.merge(kept)
    if coverage.failed:
        say(f"  {len(coverage.failed)} tests failed under the tracer and are left out:")
        for nodeid in sorted(coverage.failed):
            say(f"    {nodeid}")
    return coverage


def _relative(file: Path, root: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def _still_holds(entry: dict[str, Any], targets: dict[str, str]) -> bool:
    """Whether a kept trace entry still tells which lines of ``targets`` its tests reach:
    every target was traced, and none its tests reached has changed since."""
    reached = {file for test in entry["tests"].values() for file in test["lines"]}
    traced: dict[str, str] = entry.get("targets", {})
    return all(
        file in traced and (traced[file] == now or file not in reached)
        for file, now in targets.items()
    )


def _trace_run(root: Path, files: list[Path], work: Path, tests: list[Path]) -> dict[str, Any]:
    """Run ``tests`` once under the tracing plugin; the plugin's JSON."""
    out = work / "trace.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(
                None, [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")]
            )
        ),
        "MUTATE_TARGETS": os.pathsep.join(str(f.resolve()) for f in files),
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
        *(str(path) for path in tests),
    ]
    log = work / "trace.log"
    with log.open("w", encoding="utf-8") as sink:
        code = subprocess.run(command, cwd=work, env=env, stdout=sink, stderr=sink, check=False)
    # 0: all passed; 1: some failed (left out); 5: the files hold no test.
    if code.returncode not in (0, 1, 5) or not out.exists():
        tail = "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-15:])
        raise MutateError(f"the suite cannot run without mutants (see {log}):\n{tail}")
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


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
    """One worker: its own copy of the package folder and the run it holds, if any."""

    folder: Path  # holds a copy of neon_keys
    work: Path
    pid: int = 0
    job: Job | None = None
    result: Result | None = None
    target: Path | None = None
    original: str = ""
    started: float = 0.0
    deadline: float = 0.0


@dataclass(frozen=True)
class Job:
    """One run: a mutant against its tests, or a control run of one test (``control``)."""

    index: int
    mutant: Mutant
    tests: list[str]
    control: str = ""  # the test a control run checks; its mutant is the unchanged module


def _no_shrinking() -> None:
    """Hypothesis stops at the first failing example: a mutant is killed, not explained."""
    try:
        from hypothesis import Phase, settings
    except ImportError:
        return
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    settings.register_profile("mutate", phases=phases, print_blob=False)
    settings.load_profile("mutate")


class _Failures:
    """A pytest plugin for the child: writes which tests failed, and whether collecting did."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tests: list[str] = []
        self.collection = False

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.nodeid not in self.tests:
            self.tests.append(report.nodeid)

    def pytest_sessionfinish(self) -> None:
        data = {"tests": self.tests, "collection": self.collection}
        self.path.write_text(json.dumps(data), encoding="utf-8")


def _child(
    slot: Slot, root: Path, tests: list[str], *, stop_first: bool, collect_only: bool
) -> None:
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
        _no_shrinking()
        args_file = slot.work / "tests.txt"
        # Joined as text: a Path would fold the "//" of an id such as test[http://host].
        lines = (os.path.join(root, t) for t in tests)
        args_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        code = int(
            pytest.main(
                [
                    *(["-x"] if stop_first else []),
                    *(["--collect-only"] if collect_only else []),
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
                ],
                plugins=[_Failures(slot.work / "failed.json")],
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
    most: int | None = None,
    cache: Cache | None = None,
    verified: set[str] | None = None,
    say: Callable[[str], None] = print,
) -> list[Result]:
    """Run every mutant, ``jobs`` at a time; return the results in the mutants' order.

    A kill counts only when the test that failed passes on the unmutated package, run the
    same way (a control run, once per test, remembered in ``verified``). A test that fails
    there is left out of every selection (and said), and the mutants it "killed" run again
    without it. A mutant killed before (``cache``, same module, same mutant) is not run.
    With ``most``, a mutant runs at most that many of its tests (its module's own first,
    then the fastest): a quick pass whose survivors a full run may still kill.
    """
    run = _Run(
        mutants,
        coverage,
        root=root,
        package=package,
        cache=cache or Cache(None),
        verified=set() if verified is None else verified,
        progress=progress,
        say=say,
        most=most,
    )
    for index, mutant in enumerate(mutants):
        kept = run.cache.outcome(mutant_key(mutant))
        if kept is None:
            run.enqueue(index, mutant)
        else:
            run.results[index] = Result(
                mutant, kept["outcome"], kept["tests"], by=kept["by"], reused=True
            )
            progress(run.results[index])
    if run.queue:
        run.go(_slots(package, work, jobs), slack)
    return [run.results[index] for index in range(len(mutants))]


def _slots(package: Path, work: Path, jobs: int) -> list[Slot]:
    """``jobs`` workers, each with a fresh copy of the package."""
    slots = []
    for number in range(jobs):
        folder = work / f"slot{number}" / "src"
        shutil.rmtree(work / f"slot{number}", ignore_errors=True)
        shutil.copytree(
            package, folder / package.name, ignore=shutil.ignore_patterns("__pycache__")
        )
        (work / f"slot{number}" / "run").mkdir()
        slots.append(Slot(folder, work / f"slot{number}" / "run"))
    return slots


class _Run:
    """The bookkeeping of one ``run_mutants``: the queue, the kills awaiting a control run."""

    def __init__(
        self,
        mutants: list[Mutant],
        coverage: Coverage,
        *,
        root: Path,
        package: Path,
        cache: Cache,
        verified: set[str],
        progress: Callable[[Result], None],
        say: Callable[[str], None],
        most: int | None,
    ) -> None:
        self.most = most
        self.coverage, self.root, self.package = coverage, root, package
        self.cache, self.verified, self.progress, self.say = cache, verified, progress, say
        self.results: dict[int, Result] = {}
        self.queue: list[Job] = []  # popped from the end
        self.waiting: dict[str, list[Result]] = {}  # a test under control -> kills it decides
        self.indices = {id(m): i for i, m in enumerate(mutants)}

    def settle(self, result: Result) -> None:
        self.results[self.indices[id(result.mutant)]] = result
        record = {"outcome": result.outcome, "tests": result.tests, "by": result.by}
        self.cache.keep(mutant_key(result.mutant), record)
        self.progress(result)

    def enqueue(self, index: int, mutant: Mutant) -> None:
        tests = self.coverage.tests_for(
            str(self.package / mutant.path), range(mutant.line, mutant.end_line + 1)
        )
        if tests:
            self.queue.insert(0, Job(index, mutant, tests[: self.most]))
        else:
            self.settle(Result(mutant, "not reached", 0))

    def finished(self, job: Job, result: Result) -> None:
        if job.control:
            waiting = self.waiting.pop(job.control, [])
            if result.outcome == "survived":
                self.verified.add(job.control)
                for kill in waiting:
                    self.settle(kill)
            elif job.control.startswith(COLLECTS):
                for kill in waiting:
                    kill.outcome = "error"
                    kill.detail = "the same tests do not collect without the mutant either"
                    self.settle(kill)
            else:
                self.coverage.failed.add(job.control)
                self.say(f"\n  {job.control} fails without mutants ({result.outcome}): left out")
                for kill in waiting:
                    self.enqueue(self.indices[id(kill.mutant)], kill.mutant)
        elif result.outcome != "killed" or not result.by or result.by in self.verified:
            self.settle(result)
        elif result.by in self.waiting:
            self.waiting[result.by].append(result)
        else:
            self.waiting[result.by] = [result]
            source = (self.package / job.mutant.path).read_text(encoding="utf-8")
            unchanged = Mutant(job.mutant.path, 0, 0, "(none: control run)", source)
            collects = result.by.startswith(COLLECTS)
            tests = job.tests if collects else [addressable(result.by)]
            self.queue.append(Job(-1, unchanged, tests, control=result.by))

    def go(self, slots: list[Slot], slack: float) -> None:
        running: dict[int, Slot] = {}
        try:
            while self.queue or running:
                for slot in slots:
                    if slot.pid == 0 and self.queue:
                        job = self.queue.pop()
                        _start(
                            slot,
                            job,
                            self.coverage,
                            root=self.root,
                            package=self.package,
                            slack=slack,
                        )
                        running[slot.pid] = slot
                for job, result in _reap(running):
                    self.finished(job, result)
                time.sleep(0.02)
        finally:
            for slot in running.values():
                _kill(slot)
                _restore(slot)


def mutant_key(mutant: Mutant) -> str:
    """What identifies a mutant's result across runs: its module and its whole source."""
    return digest(mutant.path, unmarked(mutant.source))


def _start(
    slot: Slot, job: Job, coverage: Coverage, *, root: Path, package: Path, slack: float
) -> None:
    slot.job = job
    slot.target = slot.folder / package.name / job.mutant.path
    slot.original = slot.target.read_text(encoding="utf-8")
    slot.target.write_text(job.mutant.source, encoding="utf-8")
    _forget_bytecode(slot.target)
    (slot.work / "failed.json").unlink(missing_ok=True)
    budget = sum(coverage.duration(t) for t in job.tests)
    slot.started = time.monotonic()
    slot.deadline = slot.started + slack + TIME_FACTOR * budget
    slot.result = Result(job.mutant, "error", len(job.tests))
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        # A control run goes through all its tests: a failure is then read as a fact.
        collect = job.control.startswith(COLLECTS)
        _child(slot, root, job.tests, stop_first=not job.control, collect_only=collect)
    slot.pid = pid


def _forget_bytecode(source: Path) -> None:
    """Remove the cached bytecode of one module (its other modules' stays valid)."""
    for compiled in (source.parent / "__pycache__").glob(f"{source.stem}.*.pyc"):
        compiled.unlink(missing_ok=True)


def _reap(running: dict[int, Slot]) -> list[tuple[Job, Result]]:
    """The runs that ended (or outlived their deadline: a hang), with their results."""
    now = time.monotonic()
    ended: list[tuple[Job, Result]] = []
    for pid, slot in list(running.items()):
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
        result, job = slot.result, slot.job
        assert result is not None and job is not None
        if outcome == "error":
            log = (slot.work / "pytest.log").read_text(encoding="utf-8", errors="replace")
            result.detail = " | ".join(log.strip().splitlines()[-3:])
        if outcome == "killed":
            failures = _read_failures(slot.work / "failed.json")
            failed = next(iter(failures["tests"]), "")
            # No test failed (collecting did, or pytest could not start): the control run
            # collects the same tests from the unmutated package.
            result.by = failed if failed and not failures["collection"] else _collects(job.tests)
        result.outcome = outcome
        result.seconds = now - slot.started
        ended.append((job, result))
        _restore(slot)
        del running[pid]
        slot.pid = 0
    return ended


def _collects(tests: list[str]) -> str:
    return f"{COLLECTS}{len(tests)} tests ({digest(*tests)})"


def _read_failures(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"tests": [], "collection": True}
    return data


def _kill(slot: Slot) -> None:
    if slot.pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(slot.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(slot.pid, 0)


def _restore(slot: Slot) -> None:
    if slot.target is not None:
        slot.target.write_text(slot.original, encoding="utf-8")
        _forget_bytecode(slot.target)
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
