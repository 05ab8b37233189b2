"""``neon-keys sandbox``: served here or in the background, moved in time, given faults, stopped.

The commands run as a reader would type them (``neon-keys`` and bash in ``tmp_path``);
``shell`` kills any sandbox a test leaves running and fails that test.
"""

from __future__ import annotations

import datetime
import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import neon_keys.testing
import pytest
from click.testing import CliRunner
from neon_keys import NeonKeys
from neon_keys.cli import _sandbox, _sandbox_process, cli
from sandbox_support import SETTINGS, Shell, alive, clean_environment, settings_of


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    """Commands in ``tmp_path``; afterwards, no sandbox may be left running from there."""
    runner = Shell(tmp_path)
    yield runner
    orphans = runner.kill_leftovers()
    assert orphans == [], f"the test left sandbox processes running: {orphans}"


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


def _foreground(shell: Shell, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "neon_keys.cli", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=shell.folder,
        env=shell.env,
    )


def _finish(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=20)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


# -- in the foreground ----------------------------------------------------------------------


def test_serves_until_interrupted(shell: Shell) -> None:
    """The process prints working settings in dotenv form, serves, and exits 0 on Ctrl-C."""
    proc = _foreground(shell)
    try:
        lines = _read_lines(proc.stdout, 4, time.monotonic() + 30)
        settings = dict(line.split("=", 1) for line in lines)
        assert list(settings) == SETTINGS
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
        _finish(proc)


def test_foreground_env_file_exists_exactly_while_serving(shell: Shell) -> None:
    """--env-file appears (0600, the printed settings) once the server answers, and goes at exit."""
    proc = _foreground(shell, "--env-file", "sandbox.env")
    env_file = shell.folder / "sandbox.env"
    try:
        printed = dict(
            line.split("=", 1) for line in _read_lines(proc.stdout, 4, time.monotonic() + 30)
        )
        assert settings_of(env_file.read_text()) == printed
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        with NeonKeys(api_key=printed["NEON_API_KEY"], base_url=printed["NEON_API_HOST"]) as neon:
            neon.whoami()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not env_file.exists()
    finally:
        _finish(proc)


def test_an_env_file_changed_meanwhile_is_left_alone(shell: Shell) -> None:
    """The sandbox removes its env file only if it still holds what it wrote; stop ends it."""
    proc = _foreground(shell, "--env-file", "sandbox.env")
    env_file = shell.folder / "sandbox.env"
    try:
        _read_lines(proc.stdout, 4, time.monotonic() + 30)
        with env_file.open("a") as out:
            out.write("MINE=1\n")
        stopped = shell.neon_keys("sandbox", "stop", "--env-file", "sandbox.env")
        assert stopped.returncode == 0, stopped.stderr
        assert proc.poll() == 0  # stop returned once the foreground server had exited
        assert env_file.read_text().endswith("MINE=1\n")
    finally:
        _finish(proc)


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
    assert [line.split("=", 1)[0] for line in result.stdout.splitlines()] == SETTINGS
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
    monkeypatch.delitem(sys.modules, "neon_keys.testing._control", raising=False)
    monkeypatch.delattr(neon_keys.testing, "EmulatorServer", raising=False)
    result = CliRunner().invoke(cli, ["sandbox"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: neon-keys sandbox needs starlette and uvicorn: "
        "pip install 'neon-api-keys[sandbox]' (cannot import uvicorn)\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["sandbox", "--port", "70000"],
        ["sandbox", "--port", "8080", "start"],
        ["sandbox", "--env-file", "x.env", "stop"],
        ["sandbox", "--env-file", "no-such-folder/x.env"],
        ["sandbox", "advance", "1y"],
        ["sandbox", "advance", "-5m"],
        ["sandbox", "fault", "createKey", "reset"],
        ["sandbox", "fault", "createApiKey", "explode"],
        ["sandbox", "fault", "createApiKey", "reset", "--seconds", "2"],
        ["sandbox", "fault", "createApiKey"],
        ["sandbox", "fault", "createApiKey", "reset", "--clear"],
        ["sandbox", "status"],
        ["sandbox", "status", "--api-host", "https://console.neon.tech/api/v2"],
        ["sandbox", "stop", "--api-host", "http://10.0.0.1:8080/api/v2"],
    ],
)
def test_usage_errors_exit_2_before_anything_is_sent(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Bad options, durations, faults, or a host that is no sandbox: exit 2, nothing sent."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_sandbox, "serve", _unexpected)
    monkeypatch.setattr(_sandbox, "start_detached", _unexpected)
    monkeypatch.setattr(_sandbox.SandboxControls, "call", _unexpected)
    result = CliRunner().invoke(cli, args, env={"NEON_API_KEY": "napi_" + "k" * 60})
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "napi_kkkk" not in result.stdout + result.stderr


def _unexpected(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("nothing may start or be sent")


# -- in the background ----------------------------------------------------------------------


def test_start_returns_a_sandbox_that_already_answers(shell: Shell) -> None:
    """eval "$(neon-keys sandbox start)" then any command works at once; stop ends it all."""
    result = shell.bash(
        'eval "$(neon-keys sandbox start)"\n'
        "neon-keys whoami\n"
        "neon-keys -o json orgs\n"
        "neon-keys -o json sandbox status > status.json\n"
        "neon-keys sandbox stop\n"
    )
    assert result.returncode == 0, result.stderr
    assert "api_key_user" in result.stdout
    assert "org-cool-breeze-12345678" in result.stdout
    assert result.stderr.startswith("Sandbox serving at http://127.0.0.1:")
    assert not alive(json.loads((shell.folder / "status.json").read_text())["pid"])


def test_start_writes_the_env_file_before_it_returns(shell: Shell) -> None:
    """start --env-file: the file works (0600) when start returns; stop removes it."""
    started = shell.neon_keys("sandbox", "start", "--env-file", "sandbox.env")
    assert started.returncode == 0, started.stderr
    env_file = shell.folder / "sandbox.env"
    exported = settings_of(started.stdout)
    assert [line.split("=")[0] for line in started.stdout.splitlines()] == [
        f"export {name}" for name in SETTINGS
    ]
    assert settings_of(env_file.read_text()) == exported
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    pid = _state(
        shell,
        env={"NEON_API_HOST": exported["NEON_API_HOST"], "NEON_API_KEY": exported["NEON_API_KEY"]},
    )["pid"]
    used = shell.bash("set -a; . ./sandbox.env; set +a; neon-keys whoami")
    assert used.returncode == 0 and "api_key_user" in used.stdout
    stopped = shell.neon_keys("sandbox", "stop", "--env-file", "sandbox.env")
    assert stopped.returncode == 0, stopped.stderr
    assert not env_file.exists()
    assert not alive(pid)


def test_start_as_json_prints_one_object(shell: Shell) -> None:
    """start -o json prints the four settings as one JSON object."""
    started = shell.neon_keys("-o", "json", "sandbox", "start")
    assert started.returncode == 0, started.stderr
    settings = json.loads(started.stdout)
    assert list(settings) == SETTINGS
    stopped = shell.neon_keys(
        "sandbox",
        "stop",
        env={"NEON_API_HOST": settings["NEON_API_HOST"], "NEON_API_KEY": settings["NEON_API_KEY"]},
    )
    assert stopped.returncode == 0, stopped.stderr


def test_start_on_a_busy_port_fails_and_leaves_nothing_running(shell: Shell) -> None:
    """start on a port in use says so in one line, exits 1, and no server process remains."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = shell.neon_keys("sandbox", "start", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot serve on 127.0.0.1:{port}:")
    assert result.stdout == ""
    assert shell.leftovers() == []


def test_start_gives_up_after_its_timeout_and_kills_the_server(shell: Shell) -> None:
    """A server not ready within --timeout is killed; start exits 1 and nothing is left."""
    result = shell.neon_keys("sandbox", "start", "--timeout", "0.001", "--env-file", "s.env")
    assert result.returncode == 1
    assert "did not start within 0.001 s" in result.stderr
    assert shell.leftovers() == []
    assert not (shell.folder / "s.env").exists()


def test_a_server_that_dies_before_it_is_ready_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """start says the server exited, with its status and last words, and leaves nothing."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sandbox", "start"], env={"PYTHONHOME": str(tmp_path)})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the sandbox exited before it was ready (status 1): ")
    assert Shell(tmp_path).leftovers() == []


def test_interrupting_start_leaves_no_sandbox_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Ctrl-C while start waits kills the server it was starting."""
    monkeypatch.chdir(tmp_path)

    def interrupted(fd: int, deadline: float) -> tuple[bytes, bool]:
        # The server is starting (its command line shows once its exec has completed).
        assert _eventually(lambda: Shell(tmp_path).leftovers() != [])
        raise KeyboardInterrupt

    monkeypatch.setattr(_sandbox_process, "read_until_closed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _sandbox.start_detached(0, env_file=None, timeout=30)
    assert Shell(tmp_path).leftovers() == []


def _eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_starts_in_a_loop_are_never_racy(shell: Shell) -> None:
    """Three start/use/stop rounds in a row: each first request succeeds, each stop is complete."""
    result = shell.bash(
        "for round in 1 2 3; do\n"
        '  eval "$(neon-keys sandbox start --env-file sandbox.env)"\n'
        "  neon-keys create round-$round > /dev/null\n"
        "  neon-keys sandbox stop --env-file sandbox.env\n"
        "  test ! -e sandbox.env\n"
        "done\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("stopped.") == 3


# -- moving the clock, planning faults -------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    """One sandbox in the background for this module's clock and fault tests; stopped after."""
    runner = Shell(tmp_path_factory.mktemp("sandbox"))
    started = runner.neon_keys("sandbox", "start")
    assert started.returncode == 0, started.stderr
    runner.env.update(settings_of(started.stdout))
    yield runner
    stopped = runner.neon_keys("sandbox", "stop")
    orphans = runner.kill_leftovers()
    assert stopped.returncode == 0 and orphans == [], (stopped.stderr, orphans)


@pytest.fixture
def running(sandbox_shell: Shell) -> Iterator[Shell]:
    """The module's sandbox, with no fault planned before or after the test."""
    assert sandbox_shell.neon_keys("sandbox", "fault", "--clear").returncode == 0
    yield sandbox_shell
    sandbox_shell.neon_keys("sandbox", "fault", "--clear")


def _state(shell: Shell, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = shell.neon_keys("-o", "json", "sandbox", "status", env=env)
    assert result.returncode == 0, result.stderr
    state: dict[str, Any] = json.loads(result.stdout)
    return state


def test_advance_ages_every_key(running: Shell) -> None:
    """advance 120d: a key made before it was created 120 days before the sandbox's now."""
    assert running.neon_keys("create", "old").returncode == 0
    before = _state(running)["clock_offset_seconds"]
    moved = running.neon_keys("-o", "json", "sandbox", "advance", "120d")
    assert moved.returncode == 0, moved.stderr
    state = json.loads(moved.stdout)
    assert state["clock_offset_seconds"] - before == 120 * 86_400
    listed = json.loads(running.neon_keys("-o", "json", "list").stdout)
    old = [key for key in listed if key["name"] == "old"][-1]
    now = datetime.datetime.fromisoformat(state["now"])
    age = now - datetime.datetime.fromisoformat(old["created_at"])
    assert datetime.timedelta(days=120) <= age < datetime.timedelta(days=120, minutes=5)
    shown = running.neon_keys("sandbox", "status")
    assert "forward)" in shown.stdout and "clock" in shown.stdout


def test_a_planned_lost_response_loses_the_next_create(running: Shell) -> None:
    """fault createApiKey lost-response: the next create fails yet the key exists; one only."""
    planned = running.neon_keys("sandbox", "fault", "createApiKey", "lost-response")
    assert planned.returncode == 0, planned.stderr
    assert "createApiKey: disconnect after acting (next 1 request)" in planned.stdout
    lost = running.neon_keys("create", "nightly")
    assert lost.returncode == 1
    listed = json.loads(running.neon_keys("-o", "json", "list").stdout)
    assert [key["name"] for key in listed].count("nightly") == 1
    again = running.neon_keys("create", "nightly-2")
    assert again.returncode == 0, again.stderr


def test_faults_can_be_planned_for_every_request_and_cleared(running: Shell) -> None:
    """fault '*' status --status 503 --always refuses everything until fault --clear."""
    always = running.neon_keys("sandbox", "fault", "*", "status", "--status", "503", "--always")
    assert always.returncode == 0, always.stderr
    refused = running.neon_keys("whoami")
    assert refused.returncode == 1 and "503" in refused.stderr
    assert _state(running)["faults"] == [
        {"operation_id": "*", "fault": "response 503 before acting", "remaining": None}
    ]
    cleared = running.neon_keys("sandbox", "fault", "--clear")
    assert "none planned" in cleared.stdout
    assert running.neon_keys("whoami").returncode == 0


def test_controls_refuse_any_key_but_the_printed_one(running: Shell) -> None:
    """A key the sandbox did not print (even a working one) cannot move its clock: exit 3."""
    before = _state(running)["clock_offset_seconds"]
    other = running.neon_keys("create", "other").stdout.strip()
    assert other.startswith("napi_")
    refused = running.neon_keys("sandbox", "advance", "1d", env={"NEON_API_KEY": other})
    assert refused.returncode == 3
    assert other not in refused.stdout + refused.stderr
    assert _state(running)["clock_offset_seconds"] == before


def test_stop_waits_until_the_server_is_gone(shell: Shell) -> None:
    """When stop returns, the port refuses connections and the process has exited."""
    started = shell.neon_keys("sandbox", "start")
    assert started.returncode == 0, started.stderr
    shell.env.update(settings_of(started.stdout))
    pid = _state(shell)["pid"]
    assert shell.neon_keys("sandbox", "stop").returncode == 0
    assert not alive(pid)
    port = int(shell.env["NEON_API_HOST"].split(":")[2].split("/")[0])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass
    gone = shell.neon_keys("sandbox", "status")
    assert gone.returncode == 1 and "no sandbox is answering" in gone.stderr


def test_the_environment_of_the_tests_is_clean() -> None:
    """The helpers never hand a subprocess the caller's Neon credentials."""
    assert not any(name.startswith("NEON_") for name in clean_environment())
