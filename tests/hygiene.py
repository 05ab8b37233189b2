"""Hygiene of the test suite itself, as a pytest plugin (``tests/conftest.py`` loads it).

- Every test runs with its working directory in its own ``tmp_path``: a relative path that a
  test or the code under test writes (``--save a``) lands there, and so does anything a
  subprocess started without ``cwd`` writes.
- The checkout must not change while the suite runs: its files are listed at the start of the
  session and again at the end, and any file created, changed or deleted (caches aside) fails
  the run, naming the files. This is what stops a regression from writing a live token into
  the checkout. ``-o checkout_guard=false`` switches the check off for runs that last while
  someone edits the tree (``make mutate`` passes it).
- A socket a test drops unclosed fails that test, not a later one at random: after each
  test that left open a socket it made, the garbage is collected there and then, so the
  unclosed socket's ResourceWarning (an error in this suite) lands in the teardown of the
  test that leaked it rather than wherever the collector happened to run next. What
  collection made is frozen (``gc.freeze``) first, so each such collection takes
  milliseconds.
- No test fails on a clock: hypothesis's deadline per example and its check that data
  is generated fast enough are off for every test, as speed is measured in
  ``make bench``, never asserted here.
- The order of the tests is random (pytest-randomly). The seed is printed at the end of every
  run, ``-q`` included, with the command that replays that order.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

CHECKOUT = Path(__file__).resolve().parents[1]
# Folders no test may care about: version control, the environment, and the caches that
# Python, hypothesis, the linters and make mutate keep (none holds what a test wrote).
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "__pycache__",
        ".hypothesis",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".mutate-cache",  # make mutate's, written while it runs the suite
    }
)
SKIPPED_SUFFIXES = (".pyc", ".pyo")

Snapshot = dict[str, tuple[int, int]]
_SNAPSHOT = pytest.StashKey[Snapshot]()


def snapshot(root: Path | None = None) -> Snapshot:
    """Every file under ``root`` (default: the checkout; skipped folders aside): its size and
    modification time."""
    root = CHECKOUT if root is None else root
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS]
        for name in files:
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            path = Path(folder, name)
            try:
                stat = path.lstat()
            except FileNotFoundError:  # removed while we looked
                continue
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What happened to the files between two snapshots, one line per file, sorted."""
    lines = [f"created  {path}" for path in after.keys() - before.keys()]
    lines += [f"deleted  {path}" for path in before.keys() - after.keys()]
    lines += [
        f"changed  {path}" for path in before.keys() & after.keys() if before[path] != after[path]
    ]
    return sorted(lines, key=lambda line: line[9:])


@pytest.fixture(autouse=True)
def _cwd_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test runs in its own folder, so a relative path never reaches the checkout."""
    monkeypatch.chdir(tmp_path)
    yield


# Weak references, so that watching keeps no socket alive; no lock (a list's append is
# atomic), so that a process forked while another thread made a socket is not left stuck.
_MADE: list[weakref.ref[socket.socket]] = []


def _note_sockets(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook: remember each socket made, in any thread."""
    if event == "socket.__new__":
        with contextlib.suppress(TypeError):  # a bare _socket.socket takes no weak reference
            _MADE.append(weakref.ref(args[0]))


def _a_socket_is_open() -> bool:
    """Whether a socket made since the last call is still open; forget them all."""
    global _MADE
    made, _MADE = _MADE, []
    return any((sock := ref()) is not None and sock.fileno() != -1 for ref in made)


@pytest.fixture(autouse=True)
def _leaked_sockets_fail_their_test() -> Iterator[None]:
    """After a test that left a socket it made open, collect the garbage, so a socket it
    dropped unclosed is reported in its own teardown."""
    _a_socket_is_open()
    yield
    if _a_socket_is_open():
        gc.collect()


def pytest_configure(config: pytest.Config) -> None:
    """Watch for new sockets (an audit hook lasts as long as the process); switch off
    hypothesis's checks of time everywhere (a busy machine is not a failure)."""
    sys.addaudithook(_note_sockets)
    settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("suite")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Set aside what collection made (the test modules and what they import) for good, so
    that each collection after a test looks at what the tests made only (milliseconds)."""
    # Only after hypothesis is imported (this module imports it): on import it checks what
    # its plug-ins register with gc.get_referrers, which does not see frozen objects.
    gc.collect()
    gc.freeze()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini option that can switch the checkout check off."""
    parser.addini(
        "checkout_guard",
        "fail a run that changed the checkout (default true)",
        type="bool",
        default=True,
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    """List the checkout's files before any test runs (unless the check is off)."""
    if session.config.getini("checkout_guard"):
        session.stash[_SNAPSHOT] = snapshot()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if the checkout changed while the tests ran, naming each file."""
    before = session.stash.get(_SNAPSHOT, None)
    if before is None:
        return
    found = changes(before, snapshot())
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "the checkout changed while the tests ran", red=True, bold=True)
        for line in found:
            reporter.write_line(line)
        reporter.write_line("Every file a test writes belongs under its tmp_path.")
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """Say which random order this run used and how to run that order again."""
    seed = getattr(config.option, "randomly_seed", None)
    if not config.pluginmanager.has_plugin("randomly") or not isinstance(seed, int):
        return
    terminalreporter.write_line(
        f"Random test order, seed {seed}; replay it with: "
        f"make test PYTEST_ARGS=--randomly-seed={seed}"
    )
