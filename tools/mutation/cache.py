"""What a run keeps for the next one (``.mutate-cache`` under the checkout, never committed).

- ``traces/``: what the tracing plugin saw, one file per test file. An entry is reused while
  the test file, every file of the tests that is not a test file (``conftest.py``, helpers),
  ``pyproject.toml`` and each core module its tests reached are unchanged; a test file whose
  tests failed under the tracer is never kept. A changed core module is traced again only
  through the test files that reached it, so a module no test reached before stays unreached
  until ``--fresh`` (a change elsewhere can only make a selection smaller, never a kill wrong).
- ``results.json``: each mutant's outcome, keyed by its module's path and its whole mutated
  source. Only kills are reused: a survivor, an unreached mutant or a failed run is run
  again, so a rerun after new tests costs the survivors and the changed modules only.

Comments carrying ``pragma: no mutate`` are left out of every hash: marking an equivalent
mutant changes no line number and invalidates nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

PRAGMA_COMMENT = re.compile(r"[ \t]*#[^\n#]*pragma: no mutate[^\n]*")
REUSED = frozenset({"killed", "timeout"})


def unmarked(text: str) -> str:
    """``text`` without its ``# pragma: no mutate ...`` comments."""
    return PRAGMA_COMMENT.sub("", text)


def digest(*parts: str) -> str:
    """A short hex digest of ``parts``, in order."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode("utf-8", "surrogateescape"))
        hashed.update(b"\0")
    return hashed.hexdigest()[:24]


def _write(path: Path, data: object) -> None:
    """Write JSON whole or not at all (a run may be interrupted at any moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Cache:
    """The cache folder; with ``folder`` None, a cache that keeps nothing (``--fresh``)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._results: dict[str, dict[str, Any]] = {}
        if folder is not None:
            self._results = _read(folder / "results.json") or {}

    def outcome(self, key: str) -> dict[str, Any] | None:
        """The kept result of a mutant that was killed, else None."""
        kept = self._results.get(key)
        return kept if kept is not None and kept.get("outcome") in REUSED else None

    def keep(self, key: str, record: dict[str, Any]) -> None:
        """Remember one mutant's result at once, so that an interrupted run resumes."""
        if self.folder is None:
            return
        self._results[key] = record
        _write(self.folder / "results.json", self._results)

    def _trace_path(self, test_file: str) -> Path:
        assert self.folder is not None
        return self.folder / "traces" / f"{digest(test_file)}.json"

    def trace(self, test_file: str) -> dict[str, Any] | None:
        """The kept trace entry of one test file (path relative to the root), if any."""
        if self.folder is None:
            return None
        entry = _read(self._trace_path(test_file))
        return entry if isinstance(entry, dict) and entry.get("file") == test_file else None

    def keep_trace(self, test_file: str, entry: dict[str, Any]) -> None:
        """Remember the trace entry of one test file."""
        if self.folder is not None:
            _write(self._trace_path(test_file), {**entry, "file": test_file})
