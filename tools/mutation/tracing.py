"""A pytest plugin that records which test runs which line of the mutated modules.

Loaded by ``tools/mutate.py`` for one run of the suite (``-p mutation.tracing``), with
``MUTATE_TARGETS`` naming the module files (``os.pathsep``-separated absolute paths) and
``MUTATE_TRACE`` the JSON file to write::

    {"tests": {nodeid: {"duration": seconds, "lines": {file: [line, ...]}}},
     "import": {file: [line, ...]}, "modules": [name, ...], "failed": [nodeid, ...]}

Lines of module and class bodies (run at import, whichever test first imports the module)
and lines run while no test is running are under ``"import"``. Tracing starts when pytest
loads this plugin, before the plugins and tests that import the package. Only frames of the
target files are traced line by line, in every thread, so the run costs a little more than
a plain one. Code run by a subprocess of a test is not seen.

``"failed"`` names the tests that failed under the tracer (a timing test may, under its
load): the runner leaves them out of every mutant's selection and says so.

``"modules"`` names the top-level modules the run imported from outside ``MUTATE_ROOT`` (the
checkout): the mutation runner imports them once, before it forks a run per mutant.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import threading
import time
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

_TARGETS = frozenset(filter(None, os.environ.get("MUTATE_TARGETS", "").split(os.pathsep)))
_IMPORT = "<import>"
_current = [_IMPORT]  # the test running now (one item, so that hooks may change it)
_hits: dict[str, dict[str, set[int]]] = {_IMPORT: {}}
_durations: dict[str, float] = {}
_failed: set[str] = set()


def _local(frame: FrameType, event: str, arg: Any) -> Any:
    if event == "line":
        code = frame.f_code
        # A module or class body (not an optimised function frame) runs once, at import.
        owner = _current[0] if code.co_flags & inspect.CO_OPTIMIZED else _IMPORT
        _hits[owner].setdefault(code.co_filename, set()).add(frame.f_lineno)
    return _local


def _global(frame: FrameType, event: str, arg: Any) -> Any:
    return _local if frame.f_code.co_filename in _TARGETS else None


# Start now: pytest loads ``-p`` plugins before the entry-point plugins (``neon_keys``'s
# own among them) and long before the tests import anything.
sys.settrace(_global)
threading.settrace(_global)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """Attribute the lines run during one test (setup, call, teardown) to it."""
    _current[0] = item.nodeid
    _hits.setdefault(item.nodeid, {})
    started = time.perf_counter()
    yield
    _durations[item.nodeid] = time.perf_counter() - started
    _current[0] = _IMPORT


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember a test that failed in any of its phases."""
    if report.failed:
        _failed.add(report.nodeid)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop tracing and write what was seen."""
    sys.settrace(None)
    threading.settrace(None)  # type: ignore[arg-type]
    root = os.environ.get("MUTATE_ROOT", "")
    outside = sorted(
        {
            name.split(".")[0]
            for name, module in list(sys.modules.items())
            if getattr(module, "__file__", None) and not str(module.__file__).startswith(root)
        }
    )
    out = {
        "tests": {
            nodeid: {
                "duration": _durations.get(nodeid, 0.0),
                "lines": {file: sorted(lines) for file, lines in files.items()},
            }
            for nodeid, files in _hits.items()
            if nodeid != _IMPORT
        },
        "import": {file: sorted(lines) for file, lines in _hits[_IMPORT].items()},
        "modules": outside,
        "failed": sorted(_failed),
    }
    Path(os.environ["MUTATE_TRACE"]).write_text(json.dumps(out), encoding="utf-8")
