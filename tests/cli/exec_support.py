"""Running ``neon-keys exec`` as a real process, with a child command that reports what it saw.

``CHILD`` is a small program ``exec`` runs; it writes what it received (its arguments, the
Neon variables of its environment, the signals it got) as JSON to a file the test names,
so the test can check it after the fact. Every file lives under the test's ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CHILD = r"""
import json, os, signal, sys, time
from pathlib import Path

report, mode = Path(sys.argv[1]), sys.argv[2]
seen = {
    "argv": sys.argv,
    "pid": os.getpid(),
    "env": {k: v for k, v in os.environ.items() if k.startswith(("NEON_", "DEPLOY_"))},
    "signals": [],
}

def write(name=None):
    target = report if name is None else report.with_name(name)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(seen))
    temporary.rename(target)

def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)

if mode == "exit":
    write()
    sys.exit(int(sys.argv[3]))
if mode == "print":
    print("child-started", flush=True)
    write()
    sys.exit(0)
if mode == "die":
    write()
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "signals":
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, lambda number, frame: seen["signals"].append(number))
    write(report.name + ".ready")
    wait_for(lambda: seen["signals"])
    wait_for(lambda: False, 0.5)  # long enough for a second delivery to arrive, if any
    write()
    sys.exit(10)
if mode == "wait":
    write(report.name + ".ready")
    go = Path(sys.argv[3])
    wait_for(go.exists)
    write()
    sys.exit(0)
"""


def write_child(folder: Path) -> Path:
    """The child program, saved in ``folder``."""
    path = folder / "child.py"
    path.write_text(CHILD)
    return path


def environment(**extra: str) -> dict[str, str]:
    """This environment without Neon or CI settings, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEON_", "GITHUB_")) and key != "COLUMNS"
    }
    env.update(extra)
    return env


def start_exec(
    folder: Path, *args: str, env: dict[str, str], **options: Any
) -> subprocess.Popen[str]:
    """``neon-keys ARGS`` in its own session (no terminal: signals reach it only when sent)."""
    return subprocess.Popen(
        [sys.executable, "-m", "neon_keys.cli", *args],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **options,
    )


def wait_for_file(
    path: Path, process: subprocess.Popen[str] | None = None, seconds: float = 30
) -> None:
    """Wait (bounded) until ``path`` exists; fail early if ``process`` has ended."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"exited {process.returncode} first: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} did not appear within {seconds} s")
        time.sleep(0.01)


def report(path: Path) -> dict[str, Any]:
    """What the child wrote."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data
