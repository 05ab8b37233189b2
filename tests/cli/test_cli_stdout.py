"""A stdout that cannot be written (closed, its reader gone, a full disk) loses nothing.

Each case runs ``neon-keys`` as a real process. Whatever the command, it never crashes (no
traceback, no "Exception ignored" from Python's exit-time flush, no exit status 120): a new
secret reaches the last resort, a command that changed keys prints its report on stderr
instead, a read-only command exits 1 (silently for a pipe whose reader has gone).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Neon
from signal_support import Child, Done, child_env, reap

MODES = ["closed", "broken", "full"]
_FULL_AVAILABLE = Path("/dev/full").exists()


@pytest.fixture(autouse=True)
def _no_child_left() -> Iterator[None]:
    """A test that fails while a child runs does not leave it running."""
    yield
    reap()


def _run(neon: Neon, tmp_path: Path, mode: str, *args: str, **env: str) -> Done:
    """Run ``neon-keys ARGS`` with its stdout closed, broken or on a full disk."""
    if mode == "closed":
        return Child(neon, tmp_path, *args, close_stdout=True, **env).finish()
    if mode == "full":
        if not _FULL_AVAILABLE:
            pytest.skip("needs /dev/full (Linux)")
        with open("/dev/full", "w") as full:
            return Child(neon, tmp_path, *args, stdout=full.fileno(), **env).finish()
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return Child(neon, tmp_path, *args, stdout=write_end, **env).finish()
    finally:
        os.close(write_end)


def _never_crashed(done: Done) -> None:
    assert done.code in (1, 2), done.stderr
    for sign in ("Traceback", "Exception ignored", "Aborted"):
        assert sign not in done.stderr, done.stderr


def _reason(mode: str) -> str:
    return {"closed": "stdout is closed", "broken": "Broken pipe", "full": "No space left"}[mode]


def _created(neon: Neon, name: str) -> list[int]:
    return [k.id for k in neon.world.personal_keys(neon.world.seed.admin_id) if k.name == name]


@pytest.mark.parametrize("mode", MODES)
def test_create_to_stdout_never_loses_the_secret(neon: Neon, tmp_path: Path, mode: str) -> None:
    """No stdout at all is refused before creating; a failing one sends the secret to stderr."""
    done = _run(neon, tmp_path, mode, "create", "ci")
    _never_crashed(done)
    if mode == "closed":
        assert done.code == 2 and "stdout is closed" in done.stderr
        assert _created(neon, "ci") == []
        return
    assert done.code == 1
    (key_id,) = _created(neon, "ci")
    (token,) = re.findall(r"napi_\w+", done.stderr)
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]
    assert f"neon-keys revoke {key_id}" in done.stderr and _reason(mode) in done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_github_env_with_no_stdout_never_loses_the_secret(
    neon: Neon, tmp_path: Path, mode: str
) -> None:
    """--github-env needs stdout for the mask: refused if closed, else the last resort."""
    env_file = tmp_path / "github_env"
    done = _run(neon, tmp_path, mode, "create", "ci", "--github-env", GITHUB_ENV=str(env_file))
    _never_crashed(done)
    if mode == "closed":
        assert done.code == 2 and _created(neon, "ci") == []
        return
    (token,) = re.findall(r"napi_\w+", done.stderr)
    assert neon.world.key_for_token(token) is not None
    assert "masks it in the job's log" not in done.stderr  # the mask never reached the runner
    assert not env_file.exists()


@pytest.mark.parametrize("mode", MODES)
def test_a_created_key_is_reported_on_stderr_when_stdout_fails(
    neon: Neon, tmp_path: Path, mode: str
) -> None:
    """-o json create --save: the secret is in the file, the JSON report on stderr, exit 1."""
    done = _run(neon, tmp_path, mode, "-o", "json", "create", "ci", "--save", "ci.token")
    _never_crashed(done)
    assert done.code == 1
    record = json.JSONDecoder().raw_decode(done.stderr)[0]
    token = (tmp_path / "ci.token").read_text().strip()
    assert neon.world.key_for_token(token).id == record["id"]  # type: ignore[union-attr]
    assert token not in done.stderr
    assert "the report above went to stderr instead" in done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_revoke_reports_on_stderr_when_stdout_fails(neon: Neon, tmp_path: Path, mode: str) -> None:
    """revoke with a failing stdout: the keys are revoked and every outcome shown on stderr."""
    ids = []
    for name in ("a", "b"):
        neon.world.issue_personal_key(neon.world.seed.admin_id, name)
        ids.append(neon.personal_ids()[-1])
    done = _run(neon, tmp_path, mode, "revoke", *map(str, ids), "--yes")
    _never_crashed(done)
    assert done.code == 1
    for key_id in ids:
        assert neon.world.key(key_id).revoked
        assert re.search(rf"^{key_id} +\w+ +revoked$", done.stderr, re.MULTILINE)
    assert "cannot write to stdout: " in done.stderr and _reason(mode) in done.stderr


def test_rotate_reports_on_stderr_when_stdout_fails(neon: Neon, tmp_path: Path) -> None:
    """rotate --save on a full disk's stdout: rotated, and the summary shown on stderr."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "ci")
    old = neon.personal_ids()[-1]
    done = _run(neon, tmp_path, "full", "rotate", str(old), "--save", "new.token")
    _never_crashed(done)
    assert done.code == 1
    assert f"Rotated personal key {old}" in done.stderr and neon.world.key(old).revoked
    assert neon.world.key_for_token((tmp_path / "new.token").read_text().strip()) is not None


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("closed", "Error: cannot write to stdout: [Errno 9] stdout is closed\n"),
        ("broken", ""),
        ("full", "Error: cannot write to stdout: [Errno 28] No space left on device\n"),
    ],
)
def test_a_read_only_command_exits_1(neon: Neon, tmp_path: Path, mode: str, says: str) -> None:
    """list exits 1: silently when the reader of its pipe has gone (| head), else saying why."""
    done = _run(neon, tmp_path, mode, "list")
    _never_crashed(done)
    assert done.code == 1
    assert done.stderr == says


@pytest.mark.skipif(not _FULL_AVAILABLE, reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [["list"], ["create", "ci", "--save", "ci.token"]])
def test_with_stderr_full_too_the_exit_code_still_says_it(
    neon: Neon, tmp_path: Path, args: list[str]
) -> None:
    """stdout and stderr both on a full disk: no crash (status 120), exit 1 all the same."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "neon_keys.cli", *args],
            cwd=tmp_path,
            env=child_env(neon),
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=full,
            timeout=30,
            check=False,
        )
    assert done.returncode == 1
