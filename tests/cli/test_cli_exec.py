"""``neon-keys exec``: a lease for one command, in its environment only, revoked at its end."""

from __future__ import annotations

import contextlib
import datetime
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import Neon
from exec_support import environment, report, start_exec, wait_for_file, write_child
from neon_keys import LeaseName
from neon_keys.testing import FakeClock, Fault, World

TIMEOUT = 60


def _exec_env(neon: Neon, **extra: str) -> dict[str, str]:
    return environment(
        NEON_API_KEY=neon.world.seed.admin_token, NEON_API_HOST=neon.server.base_url, **extra
    )


def _run(neon: Neon, tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    process = start_exec(tmp_path, *args, env=_exec_env(neon, **extra))
    out, err = process.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _leases(world: World, *, include_revoked: bool = True) -> list[int]:
    """Ids of the admin's personal keys that are leases."""
    return [
        key.id
        for key in world.personal_keys(world.seed.admin_id, include_revoked=include_revoked)
        if LeaseName.parse(key.name) is not None
    ]


# -- the command and its environment ---------------------------------------------------------


def test_the_command_gets_a_working_lease_in_one_variable(neon: Neon, tmp_path: Path) -> None:
    """COMMAND sees the token in --var only (not the caller's key, not on its command line)."""
    child, out = write_child(tmp_path), tmp_path / "seen.json"
    done = _run(
        neon,
        tmp_path,
        "exec",
        "--org",
        neon.org,
        "--project",
        neon.project,
        "--name",
        "preview-42",
        "--var",
        "DEPLOY_KEY",
        "--",
        sys.executable,
        str(child),
        str(out),
        "exit",
        "0",
    )
    assert done.returncode == 0, done.stderr
    seen = report(out)
    token = seen["env"]["DEPLOY_KEY"]
    assert "NEON_API_KEY" not in seen["env"]  # the caller's long-lived key stays behind
    assert token not in " ".join(seen["argv"]) and token not in done.stdout + done.stderr
    info = neon.world.key_for_token(token)
    assert info is not None and info.kind == "project" and info.project_id == neon.project
    assert info.revoked and info.name.startswith("preview-42 (lease ")
    assert done.stdout == ""  # exec itself prints nothing on success


@pytest.mark.parametrize(("child_exit", "expected"), [(0, 0), (7, 7)])
def test_exec_exits_with_the_commands_status(
    neon: Neon, tmp_path: Path, child_exit: int, expected: int
) -> None:
    """exec reports COMMAND's exit status, and revokes the lease in every case."""
    child, out = write_child(tmp_path), tmp_path / "seen.json"
    done = _run(
        neon, tmp_path, "exec", "--", sys.executable, str(child), str(out), "exit", str(child_exit)
    )
    assert done.returncode == expected, done.stderr
    info = neon.world.key_for_token(report(out)["env"]["NEON_API_KEY"])
    assert info is not None and info.revoked and info.name.startswith("python")


def test_death_by_a_signal_is_128_plus_n(neon: Neon, tmp_path: Path) -> None:
    """A command killed by signal 9 makes exec exit 137, after revoking the lease."""
    child, out = write_child(tmp_path), tmp_path / "seen.json"
    done = _run(neon, tmp_path, "exec", "--", sys.executable, str(child), str(out), "die")
    assert done.returncode == 128 + signal.SIGKILL
    assert neon.world.key_for_token(report(out)["env"]["NEON_API_KEY"]).revoked  # type: ignore[union-attr]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_are_forwarded_to_the_command(neon: Neon, tmp_path: Path, signum: int) -> None:
    """A signal sent to exec reaches COMMAND once; exec waits, revokes, reports its status."""
    child, out = write_child(tmp_path), tmp_path / "seen.json"
    process = start_exec(
        tmp_path,
        "exec",
        "--",
        sys.executable,
        str(child),
        str(out),
        "signals",
        env=_exec_env(neon),
    )
    try:
        wait_for_file(tmp_path / "seen.json.ready", process)
        process.send_signal(signum)
        _out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 10, err
    seen = report(out)
    assert seen["signals"] == [signum]
    assert neon.world.key_for_token(seen["env"]["NEON_API_KEY"]).revoked  # type: ignore[union-attr]


def _in_a_terminal(tmp_path: Path, argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Start ``argv`` as a session leader whose controlling terminal is a new pty."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: exec at once (the parent has threads)
        try:
            os.chdir(tmp_path)
            os.execve(argv[0], argv, env)  # noqa: S606 - no shell wanted
        finally:
            os._exit(127)
    return pid, terminal


def _wait_in_terminal(pid: int, terminal: int) -> tuple[int | None, bytes]:
    """Wait (bounded) for a process started by ``_in_a_terminal``: its status and output."""
    output = b""
    deadline = time.monotonic() + TIMEOUT
    while (ended := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        output += _drain(terminal)
    output += _drain(terminal)
    return (os.waitstatus_to_exitcode(ended[1]) if ended[0] else None), output


def test_a_ctrl_c_at_a_terminal_reaches_the_command(neon: Neon, tmp_path: Path) -> None:
    """Ctrl-C at a terminal reaches COMMAND; exec survives it, waits, revokes, reports."""
    child, out = write_child(tmp_path), tmp_path / "seen.json"
    argv = [sys.executable, "-m", "neon_keys.cli", "exec", "--", sys.executable, str(child)]
    pid, terminal = _in_a_terminal(tmp_path, [*argv, str(out), "signals"], _exec_env(neon))
    try:
        wait_for_file(tmp_path / "seen.json.ready")
        os.write(terminal, b"\x03")  # what Ctrl-C types
        status, _output = _wait_in_terminal(pid, terminal)
    finally:
        if not out.exists():
            os.kill(pid, signal.SIGKILL)
        os.close(terminal)
    assert status == 10
    seen = report(out)
    assert seen["signals"] == [signal.SIGINT]
    assert neon.world.key_for_token(seen["env"]["NEON_API_KEY"]).revoked  # type: ignore[union-attr]


def test_exec_knows_when_a_terminal_signals_its_whole_group(tmp_path: Path) -> None:
    """In a terminal's foreground group exec sees that Ctrl-C reached COMMAND too; elsewhere not."""
    probe = "from neon_keys.cli._exec import _terminal_sent_to_us as t; print('FOREGROUND', t())"
    argv = [sys.executable, "-c", probe]
    pid, terminal = _in_a_terminal(tmp_path, argv, environment())
    try:
        status, seen = _wait_in_terminal(pid, terminal)
    finally:
        os.close(terminal)
    assert status == 0 and b"FOREGROUND True" in seen
    detached = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=TIMEOUT,
        check=True,
        cwd=tmp_path,
    )
    assert detached.stdout.strip() == "FOREGROUND False"


class _FakeChild:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send_signal(self, signum: int) -> None:
        self.sent.append(signum)


@pytest.mark.parametrize("at_terminal", [True, False])
def test_a_terminals_ctrl_c_is_not_sent_twice(
    monkeypatch: pytest.MonkeyPatch, at_terminal: bool
) -> None:
    """SIGINT and SIGQUIT a terminal already sent to COMMAND are not forwarded; others are."""
    from neon_keys.cli import _exec

    monkeypatch.setattr(_exec, "_terminal_sent_to_us", lambda: at_terminal)
    child = _FakeChild()
    signals = _exec._Signals()
    signals.attach(child)  # type: ignore[arg-type]
    for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):
        signals._handle(signum, None)
    expected = [signal.SIGTERM, signal.SIGHUP]
    assert child.sent == (expected if at_terminal else [signal.SIGINT, signal.SIGQUIT, *expected])


def _drain(terminal: int) -> bytes:
    """Read what the pty holds, so that nobody blocks writing to it."""
    import select

    if select.select([terminal], [], [], 0.05)[0]:
        with contextlib.suppress(OSError):  # EIO once the other end has closed
            return os.read(terminal, 4096)
    return b""


def test_github_actions_masks_the_token_before_the_command_starts(
    neon: Neon, tmp_path: Path
) -> None:
    """With GITHUB_ACTIONS=true, ::add-mask::TOKEN is the first line on stdout."""
    child, out = write_child(tmp_path), tmp_path / "seen.json"
    done = _run(
        neon,
        tmp_path,
        "exec",
        "--",
        sys.executable,
        str(child),
        str(out),
        "print",
        GITHUB_ACTIONS="true",
    )
    assert done.returncode == 0, done.stderr
    token = report(out)["env"]["NEON_API_KEY"]
    assert done.stdout.splitlines() == [f"::add-mask::{token}", "child-started"]


# -- when the lease cannot be made ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--ttl", "0s"], 2, "--ttl"),
        (["--ttl", "soon"], 2, "--ttl"),
        (["--name", "x" * 31], 2, "at most 30 characters"),
        (["--project", "summer-haze-17190561"], 2, "--project needs --org"),
        (["--var", "1BAD"], 2, "not a valid variable name"),
    ],
)
def test_bad_options_run_nothing_and_create_nothing(
    neon: Neon, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    """Invalid options exit 2 before any request, and COMMAND never runs."""
    marker = tmp_path / "ran"
    result = neon("exec", *args, "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert result.exit_code == code and message in result.stderr
    assert not marker.exists() and len(neon.world.log) == 0


def test_an_unknown_command_creates_nothing(neon: Neon) -> None:
    """A COMMAND that cannot be found exits 2 before any key is made."""
    result = neon("exec", "--", "no-such-command-anywhere")
    assert result.exit_code == 2 and "command not found" in result.stderr
    assert len(neon.world.log) == 0


def test_a_refused_key_exits_3_and_runs_nothing(neon: Neon, tmp_path: Path) -> None:
    """When Neon refuses the caller's key, exec exits 3 and COMMAND never runs."""
    marker = tmp_path / "ran"
    result = neon(
        "exec", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')", key="napi_" + "x" * 60
    )
    assert result.exit_code == 3 and not marker.exists()


def test_a_failed_create_exits_1_runs_nothing_and_leaves_nothing(
    neon: Neon, tmp_path: Path
) -> None:
    """A create whose answer is lost exits 1; the lease it made is found and revoked."""
    neon.world.faults.inject("createApiKey", Fault.lost_response())
    marker = tmp_path / "ran"
    result = neon("exec", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert result.exit_code == 1 and not marker.exists()
    assert "revoked" in result.stderr
    assert _leases(neon.world, include_revoked=False) == []


# -- verification and revocation -------------------------------------------------------------


def test_verify_checks_the_new_key_before_running(neon: Neon, tmp_path: Path) -> None:
    """--verify calls GET /auth with the lease; if that fails, COMMAND does not run."""
    marker = tmp_path / "ran"
    command = ["--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    assert neon("exec", "--verify", *command).exit_code == 0 and marker.exists()
    assert neon.world.log.count("getAuthDetails") == 1
    marker.unlink()
    neon.world.faults.inject("getAuthDetails", Fault.status(500), times=None)
    result = neon("exec", "--verify", *command)
    assert result.exit_code == 1 and not marker.exists()
    assert "failed verification" in result.stderr and "was revoked" in result.stderr
    assert _leases(neon.world, include_revoked=False) == []


@pytest.fixture
def true_clock_neon(neon: Neon) -> Neon:
    """The emulator on a clock that agrees with this machine's, so a lease is made once."""
    world = World.seeded(clock=FakeClock(datetime.datetime.now(datetime.UTC)))
    neon.server.world = world
    return Neon(world, neon.server)


@pytest.mark.parametrize("child_exit", [0, 5])
def test_a_failed_revoke_is_reported_and_never_exits_0(
    true_clock_neon: Neon, tmp_path: Path, child_exit: int
) -> None:
    """If the lease cannot be revoked, exec names the key and fails even when COMMAND succeeded."""
    neon = true_clock_neon
    neon.world.faults.inject("revokeApiKey", Fault.status(500), times=None)
    result = neon("exec", "--", sys.executable, "-c", f"raise SystemExit({child_exit})")
    (lease,) = _leases(neon.world, include_revoked=False)
    assert result.exit_code == (child_exit or 1)
    assert f"could not revoke lease personal key {lease}" in result.stderr
    assert f"neon-keys revoke {lease}" in result.stderr and "neon-keys sweep" in result.stderr


# -- crash safety --------------------------------------------------------------------------------


def test_kill_9_leaves_a_lease_that_sweep_removes_after_expiry(
    neon: Neon, clock: FakeClock, tmp_path: Path
) -> None:
    """exec killed with SIGKILL cannot revoke; sweep revokes its lease once expired, not before."""
    child, out, go = write_child(tmp_path), tmp_path / "seen.json", tmp_path / "go"
    process = start_exec(
        tmp_path,
        "exec",
        "--ttl",
        "10m",
        "--",
        sys.executable,
        str(child),
        str(out),
        "wait",
        str(go),
        env=_exec_env(neon),
    )
    try:
        wait_for_file(tmp_path / "seen.json.ready", process)
        process.kill()  # kill -9: no chance to clean up
    finally:
        go.touch()  # the orphaned command ends too (it holds exec's pipes open till then)
        process.communicate(timeout=TIMEOUT)
    (lease,) = _leases(neon.world, include_revoked=False)
    expires = neon.world.key(lease)
    assert LeaseName.parse(expires.name).expires_at - clock.now() <= datetime.timedelta(
        minutes=10, seconds=2
    )  # type: ignore[union-attr]

    def sweep() -> str:
        result = neon("sweep")
        assert result.exit_code == 0, result.stderr
        return result.stderr

    assert "No expired leases" in sweep()  # 10 minutes to go
    clock.advance(10 * 60)
    assert "No expired leases" in sweep()  # expired, but within the 5-minute grace
    clock.advance(5 * 60 - 2)
    assert "No expired leases" in sweep() and not neon.world.key(lease).revoked
    clock.advance(4)
    assert "Swept 1 of 1 expired lease" in sweep()
    assert neon.world.key(lease).revoked


def test_twenty_parallel_execs_get_twenty_leases(true_clock_neon: Neon, tmp_path: Path) -> None:
    """20 runs with one base name: 20 distinct leases, one per child, all revoked at the end."""
    neon = true_clock_neon
    child, go = write_child(tmp_path), tmp_path / "go"
    runs = []
    try:
        for index in range(20):
            out = tmp_path / f"seen-{index}.json"
            process = start_exec(
                tmp_path,
                "exec",
                "--name",
                "job",
                "--",
                sys.executable,
                str(child),
                str(out),
                "wait",
                str(go),
                env=_exec_env(neon),
            )
            runs.append((process, out))
        for process, out in runs:
            wait_for_file(out.with_name(out.name + ".ready"), process, seconds=TIMEOUT)
        live = _leases(neon.world, include_revoked=False)
        assert len(live) == 20  # all 20 running at once, none revoked early
    finally:
        go.touch()
        for process, _ in runs:
            try:
                process.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
    assert [process.returncode for process, _ in runs] == [0] * 20
    tokens = [report(out)["env"]["NEON_API_KEY"] for _, out in runs]
    infos = [neon.world.key_for_token(token) for token in tokens]
    assert len(set(tokens)) == 20 and neon.world.seed.admin_token not in tokens
    assert sorted(info.id for info in infos if info) == sorted(live)  # each child had its own
    assert len({info.name for info in infos if info}) == 20
    assert all(info is not None and info.revoked for info in infos)
