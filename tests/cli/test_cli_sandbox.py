"""``neon-keys sandbox``: a loopback emulator with ready-made settings."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import neon_keys.testing
import pytest
from click.testing import CliRunner
from neon_keys import NeonKeys
from neon_keys.cli import _sandbox, cli

NAMES = ["NEON_API_HOST", "NEON_API_KEY", "NEON_ORG_ID", "NEON_PROJECT_ID"]


def _read_lines(stream: object, count: int, deadline: float) -> list[str]:
    """Read ``count`` lines from a pipe, failing after ``deadline`` (a monotonic time)."""
    fd = stream.fileno()  # type: ignore[attr-defined]
    buffer = b""
    while buffer.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"sandbox printed only {buffer!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"sandbox exited after {buffer!r}"
        buffer += chunk
    return buffer.decode().splitlines()[:count]


def test_serves_until_interrupted(tmp_path: Path) -> None:
    """The process prints working settings in dotenv form, serves, and exits 0 on Ctrl-C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEON_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "neon_keys.cli", "sandbox"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    try:
        lines = _read_lines(proc.stdout, 4, time.monotonic() + 20)
        settings = dict(line.split("=", 1) for line in lines)
        assert list(settings) == NAMES
        assert settings["NEON_API_HOST"].startswith("http://127.0.0.1:")
        with NeonKeys(api_key=settings["NEON_API_KEY"], base_url=settings["NEON_API_HOST"]) as neon:
            assert neon.whoami().auth_method == "api_key_user"
            keys = neon.org(settings["NEON_ORG_ID"]).keys
            key = keys.create("sandboxed", project_id=settings["NEON_PROJECT_ID"])
            assert key.kind == "project"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        stderr = proc.stderr.read().decode()  # type: ignore[union-attr]
        assert "Traceback" not in stderr and "Aborted" not in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _wait(result: bool) -> Callable[[Callable[[], bool]], bool]:
    def wait(running: Callable[[], bool]) -> bool:
        assert running()
        return result

    return wait


def test_prints_settings_then_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, the four settings are printed one per line and the command exits 0."""
    monkeypatch.setattr(_sandbox, "wait_for_stop", _wait(True))
    result = CliRunner().invoke(cli, ["sandbox"])
    assert result.exit_code == 0, result.stderr
    assert [line.split("=", 1)[0] for line in result.stdout.splitlines()] == NAMES
    assert "Ctrl-C" in result.stderr


def test_a_server_that_dies_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the server stops by itself, the command exits 1."""
    monkeypatch.setattr(_sandbox, "wait_for_stop", _wait(False))
    result = CliRunner().invoke(cli, ["sandbox"])
    assert result.exit_code == 1
    assert "stopped unexpectedly" in result.stderr


def test_a_busy_port_is_one_line() -> None:
    """A port already in use gives a one-line error and exit 1."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["sandbox", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot serve on 127.0.0.1:{port}:")
    assert len(result.stderr.splitlines()) == 1


def test_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without uvicorn, the error names the sandbox extra in one line."""
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    monkeypatch.delitem(sys.modules, "neon_keys.testing._server", raising=False)
    monkeypatch.delattr(neon_keys.testing, "EmulatorServer", raising=False)
    result = CliRunner().invoke(cli, ["sandbox"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: neon-keys sandbox needs starlette and uvicorn: "
        "pip install 'neon-api-keys[sandbox]' (cannot import uvicorn)\n"
    )


def test_port_out_of_range_is_a_usage_error() -> None:
    """--port must be 0 to 65535."""
    assert CliRunner().invoke(cli, ["sandbox", "--port", "70000"]).exit_code == 2
