"""Re-record the cassettes in ``tests/cassettes/`` (``make record``).

The target is Neon itself when ``NEON_API_KEY`` is set (``NEON_API_HOST`` optional), and the
built-in emulator on a loopback port otherwise. The organization cassettes need an
organization and one of its projects: ``NEON_ORG_ID`` and ``NEON_PROJECT_ID`` with a live
key (the key must be an organization admin's personal key); without them only the personal
cassettes are re-recorded and the others are left as they are.

The recording itself is ``tests/test_cassettes.py`` run in pytest-recording's ``rewrite``
mode: the target reaches it as ``NEON_RECORD_*`` variables and its scrubber removes the
Authorization header, every secret and personal data before anything is written. Every test
there creates its keys and revokes them again, so a live account is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOST = "https://console.neon.tech/api/v2"
CASSETTE_TESTS = "tests/test_cassettes.py"
ORG_TESTS = "org_api_key"


@contextlib.contextmanager
def emulator_target() -> Iterator[dict[str, str]]:
    """A seeded emulator on 127.0.0.1 for the duration, as ``NEON_RECORD_*`` variables."""
    from neon_keys.testing import EmulatorServer, World

    with EmulatorServer(World.seeded()) as server:
        yield {
            "NEON_RECORD_API_KEY": server.api_key,
            "NEON_RECORD_API_HOST": server.base_url,
            "NEON_RECORD_ORG_ID": server.org_id,
            "NEON_RECORD_PROJECT_ID": server.project_id,
        }


def live_target(environ: dict[str, str]) -> dict[str, str]:
    """Neon itself, from ``NEON_API_KEY`` and friends, as ``NEON_RECORD_*`` variables."""
    target = {
        "NEON_RECORD_API_KEY": environ["NEON_API_KEY"].strip(),
        "NEON_RECORD_API_HOST": environ.get("NEON_API_HOST") or DEFAULT_HOST,
    }
    if environ.get("NEON_ORG_ID") and environ.get("NEON_PROJECT_ID"):
        target["NEON_RECORD_ORG_ID"] = environ["NEON_ORG_ID"]
        target["NEON_RECORD_PROJECT_ID"] = environ["NEON_PROJECT_ID"]
    return target


def pytest_command(target: dict[str, str]) -> list[str]:
    """The pytest run that records: every cassette, or the personal ones without an org."""
    command = [sys.executable, "-m", "pytest", "-q", CASSETTE_TESTS, "--record-mode=rewrite"]
    if "NEON_RECORD_ORG_ID" not in target:
        command += ["-k", f"not {ORG_TESTS}"]
    return command


def record(target: dict[str, str], what: str) -> int:
    """Run the recording against ``target``; return pytest's exit status."""
    print(f"recording {CASSETTE_TESTS} against {what}", file=sys.stderr)
    if "NEON_RECORD_ORG_ID" not in target:
        print(
            "NEON_ORG_ID and NEON_PROJECT_ID are not both set: "
            "the organization cassettes are left as they are",
            file=sys.stderr,
        )
    # The API key travels in the environment of the child only, never on its command line.
    environ = {**os.environ, **target}
    return subprocess.run(pytest_command(target), cwd=ROOT, env=environ, check=False).returncode


def main() -> int:
    """Record against Neon when ``NEON_API_KEY`` is set, else against the emulator."""
    if os.environ.get("NEON_API_KEY", "").strip():
        target = live_target(dict(os.environ))
        return record(target, f"Neon at {target['NEON_RECORD_API_HOST']}")
    with emulator_target() as target:
        return record(target, f"the emulator at {target['NEON_RECORD_API_HOST']}")


if __name__ == "__main__":
    raise SystemExit(main())
