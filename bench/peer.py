"""neon-api 0.3.0, Neon's official Python SDK, in a virtual environment of its own.

It is installed for the benchmark only, under ``bench/.work/`` (ignored by git), never into
the project's environment: it brings requests and pydantic, which the project does not use.
The first run creates it (about half a minute); later runs reuse it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PEER_REQUIREMENT = "neon-api==0.3.0"
WORK = Path(__file__).resolve().parent / ".work"
VENV = WORK / "neon-api-0.3.0"


def peer_python() -> tuple[str | None, str]:
    """The interpreter that has neon-api 0.3.0, creating it if needed; or None and why not."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if marker.exists() and python.exists():
        return str(python), "neon-api 0.3.0"
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(VENV)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PEER_REQUIREMENT,
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [str(python), "-c", "import neon_api"], check=True, capture_output=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as err:
        detail = getattr(err, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(err)]
        return None, f"neon-api could not be installed: {last[0][:160]}"
    marker.write_text(PEER_REQUIREMENT + "\n")
    return str(python), "neon-api 0.3.0"
