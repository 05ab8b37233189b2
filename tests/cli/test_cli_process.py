"""``neon-keys`` as a real process: fast start, the entry point, stdout and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli_support import Neon

HEAVY = ("httpx", "neon_api_keys_client")


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEON_") and k not in ("GITHUB_ENV", "COLUMNS")
    }
    env.update(extra)
    return env


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neon_keys.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=_env(**env),
        timeout=30,
        check=False,
        cwd=Path.cwd(),  # the calling test's tmp_path (tests/hygiene.py)
    )


_EVERY_HELP = """
import sys
from neon_keys.cli import main
pages = 0
for args in {runs!r}:
    sys.argv = ["neon-keys", *args]
    try:
        main()
    except SystemExit:
        pass
    pages += 1
loaded = [m for m in {heavy!r} if m in sys.modules]
print("PAGES=%d LOADED=%s" % (pages, ",".join(loaded)), file=sys.stderr)
"""


def test_no_help_page_imports_httpx() -> None:
    """Through the entry point, no help page nor --version loads httpx or the generated client."""
    from neon_keys.cli import cli

    runs = [[], ["--help"], ["--version"]] + [[name, "--help"] for name in sorted(cli.commands)]
    probe = _EVERY_HELP.format(runs=runs, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
        check=False,
        cwd=Path.cwd(),  # this test's tmp_path (tests/hygiene.py)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"PAGES={len(runs)} LOADED="
    for name in cli.commands:
        assert f"Usage: neon-keys {name} " in done.stdout


def _closed_stdout(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``neon-keys ARGS`` with a stdout whose reader has gone (``| head`` after it exits)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "neon_keys.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_env(**env),
            timeout=30,
            check=False,
            cwd=Path.cwd(),  # the calling test's tmp_path (tests/hygiene.py)
        )
    finally:
        os.close(write_end)


def test_a_closed_stdout_ends_quietly(neon: Neon) -> None:
    """list into a pipe whose reader has gone exits 1 without a traceback or an error line."""
    done = _closed_stdout(
        "list", NEON_API_KEY=neon.world.seed.admin_token, NEON_API_HOST=neon.server.base_url
    )
    assert done.returncode == 1
    assert done.stderr == ""


def test_a_closed_stdout_never_loses_a_new_secret(neon: Neon) -> None:
    """create into a closed pipe shows the new key's secret once on stderr, with its id."""
    done = _closed_stdout(
        "create", "ci", NEON_API_KEY=neon.world.seed.admin_token, NEON_API_HOST=neon.server.base_url
    )
    assert done.returncode == 1
    (token,) = [line for line in done.stderr.splitlines() if line.startswith("napi_")]
    info = neon.world.key_for_token(token)
    assert info is not None and f"neon-keys revoke {info.id}" in done.stderr
    assert done.stderr.count(token) == 1 and "Traceback" not in done.stderr


def test_console_script_prints_the_version(tmp_path: Path) -> None:
    """The installed ``neon-keys`` script runs and prints its version."""
    script = Path(sys.executable).with_name("neon-keys")
    done = subprocess.run(
        [str(script), "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("neon-keys ")


def test_create_prints_only_the_token(neon: Neon) -> None:
    """KEY=$(neon-keys create ci) captures exactly the token; the details go to stderr."""
    done = _run(
        "create",
        "ci",
        NEON_API_KEY=neon.world.seed.admin_token,
        NEON_API_HOST=neon.server.base_url,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.removesuffix("\n")
    assert "\n" not in token and neon.world.key_for_token(token) is not None
    assert "Created personal key" in done.stderr and token not in done.stderr


def test_invalid_id_exits_2(neon: Neon) -> None:
    """revoke abc exits 2 in a real process, and nothing is sent."""
    done = _run(
        "revoke",
        "abc",
        NEON_API_KEY=neon.world.seed.admin_token,
        NEON_API_HOST=neon.server.base_url,
    )
    assert done.returncode == 2
    assert len(neon.world.log) == 0


def test_revoke_without_a_terminal_needs_yes(neon: Neon) -> None:
    """With stdin not a terminal and no --yes, revoke exits 2 and sends nothing."""
    done = _run(
        "revoke",
        str(neon.world.seed.admin_key_id),
        NEON_API_KEY=neon.world.seed.admin_token,
        NEON_API_HOST=neon.server.base_url,
    )
    assert done.returncode == 2 and "--yes" in done.stderr
    assert len(neon.world.log) == 0


def test_auth_failure_exits_3_without_traceback(neon: Neon) -> None:
    """A refused key exits 3 with a single line on stderr."""
    done = _run("whoami", NEON_API_KEY="napi_" + "x" * 60, NEON_API_HOST=neon.server.base_url)
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1


def test_importing_the_cli_without_click_names_click(tmp_path: Path) -> None:
    """Where click is missing, importing the CLI says what to install."""
    code = (
        "import sys\n"
        "sys.modules['click'] = None\n"
        "try:\n"
        "    import neon_keys.cli\n"
        "except ImportError as err:\n"
        "    print(err.name, err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert done.stdout.startswith("click the neon-keys command line (neon_keys.cli) needs click")
    assert "pip install 'click>=8.1'" in done.stdout


def _closed_stderr(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``neon-keys ARGS`` with stderr closed (``2>&-``), stdout captured."""
    return subprocess.run(
        ["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, "-m", "neon_keys.cli", *args],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=_env(**env),
        timeout=30,
        check=False,
        cwd=Path.cwd(),  # the calling test's tmp_path (tests/hygiene.py)
    )


def test_with_stderr_closed_an_error_never_reaches_stdout(neon: Neon) -> None:
    """A usage error or a failure with stderr closed keeps its exit code and leaves stdout
    (which a program may be reading) empty, instead of printing the error there."""
    usage = _closed_stderr("list", "--org", "BAD")
    refused = _closed_stderr(
        "whoami", NEON_API_KEY="napi_unknown", NEON_API_HOST=neon.server.base_url
    )
    assert (usage.returncode, usage.stdout) == (2, "")
    assert (refused.returncode, refused.stdout) == (3, "")


def test_exec_with_stderr_closed_runs_the_command(neon: Neon) -> None:
    """exec with stderr closed runs COMMAND and exits with its status (it crashed before)."""
    done = _closed_stderr(
        "exec",
        "--name",
        "ci",
        "--",
        sys.executable,
        "-c",
        "print('child ran'); raise SystemExit(7)",
        NEON_API_KEY=neon.world.seed.admin_token,
        NEON_API_HOST=neon.server.base_url,
    )
    assert (done.returncode, done.stdout) == (7, "child ran\n")
