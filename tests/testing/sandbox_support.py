"""Helpers of the sandbox tests: ``neon-keys`` and bash run as a reader would, in ``tmp_path``.

Every process runs with ``cwd`` in the test's folder and an environment without the
caller's ``NEON_*`` variables. ``Shell.leftovers()`` finds every ``neon-keys`` process still
running from that folder (a sandbox started in the background and never stopped), so a
fixture can kill them and fail the test that left them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
"""The folder of this Python, where the ``neon-keys`` console script is installed too."""

SETTINGS = ["NEON_API_HOST", "NEON_API_KEY", "NEON_ORG_ID", "NEON_PROJECT_ID"]
"""What the sandbox prints, in order."""

TIMEOUT = 90.0
"""Seconds any one command of a test may take before the test fails."""


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without ``NEON_*`` variables, ``neon-keys`` on PATH."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("NEON_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr interleave as on a terminal
    env.update(extra)
    return env


@dataclass
class Shell:
    """Runs ``neon-keys`` commands and bash scripts in one folder, as a reader would."""

    folder: Path
    env: dict[str, str] = field(default_factory=clean_environment)

    def neon_keys(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``neon-keys ARGS`` and wait for it (at most ``TIMEOUT`` seconds)."""
        return subprocess.run(
            [str(BIN / "neon-keys"), *args],
            cwd=self.folder,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def bash(self, script: str, *, merge: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``script`` with ``bash -eu -o pipefail``; ``merge``: stderr into stdout."""
        return subprocess.run(
            ["bash", "-eu", "-o", "pipefail", "-c", script],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def leftovers(self) -> list[int]:
        """Ids of ``neon-keys`` processes still running with their working folder here."""
        found = []
        proc = Path("/proc")
        if not proc.is_dir():  # pragma: no cover - Linux-only bookkeeping
            return found
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
                here = os.readlink(entry / "cwd") == str(self.folder)
            except OSError:
                continue
            if here and (b"neon_keys.cli" in command or b"neon-keys" in command):
                found.append(int(entry.name))
        return found

    def kill_leftovers(self) -> list[int]:
        """Kill what ``leftovers`` finds (SIGKILL), wait for it to go, return the ids."""
        pids = self.leftovers()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        return pids


def settings_of(text: str) -> dict[str, str]:
    """The ``NAME=value`` (or ``export NAME=value``) lines of ``text``, as a dict."""
    pairs = (
        line.removeprefix("export ").split("=", 1) for line in text.splitlines() if "=" in line
    )
    return {name: value for name, value in pairs}


def alive(pid: int) -> bool:
    """Whether a process is running (not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
