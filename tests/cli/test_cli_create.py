"""``neon-keys create``: key kinds, and each place a secret can go."""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path

import pytest
from cli_support import Neon, lines, mode
from neon_keys import _sinks
from neon_keys.testing import FakeClock, Fault


def _token(result_stdout: str) -> str:
    (token,) = lines(result_stdout)
    return token


def test_default_sink_is_the_bare_token_on_stdout(neon: Neon) -> None:
    """By default stdout holds only the token (for KEY=$(...)) and stderr the key's details."""
    result = neon("create", "ci")
    assert result.exit_code == 0
    token = result.stdout.removesuffix("\n")
    assert result.stdout == token + "\n" and token.startswith("napi_")
    info = neon.world.key_for_token(token)
    assert info is not None and info.name == "ci" and info.kind == "personal"
    assert f'personal key {info.id} "ci"' in result.stderr
    assert token not in result.stderr


def test_creates_an_org_key(neon: Neon) -> None:
    """--org creates an organization key."""
    result = neon("create", "deploy", "--org", neon.org)
    assert result.exit_code == 0
    info = neon.world.key_for_token(_token(result.stdout))
    assert info is not None and info.kind == "org" and info.owner_id == neon.org


def test_creates_a_project_key(neon: Neon) -> None:
    """--org with --project creates a key scoped to that project."""
    result = neon("create", "preview", "--org", neon.org, "--project", neon.project)
    assert result.exit_code == 0
    info = neon.world.key_for_token(_token(result.stdout))
    assert info is not None and info.kind == "project" and info.project_id == neon.project
    assert f"(project {neon.project})" in result.stderr


def test_json_details_go_to_stderr_when_stdout_holds_the_secret(neon: Neon) -> None:
    """With --output json and the stdout sink, the JSON details (without secret) go to stderr."""
    result = neon("-o", "json", "create", "ci")
    assert result.exit_code == 0
    token = _token(result.stdout)
    record = json.loads(result.stderr)
    assert record["name"] == "ci" and record["kind"] == "personal"
    assert record["secret_delivered_to"] == "stdout"
    assert token not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["create", "x" * 65],
        ["create", ""],
        ["create", "ci", "--project", "summer-haze-17190561"],
        ["create", "ci", "--org", "Not_An_Org"],
        ["create", "ci", "--org", "org-cool-breeze-12345678", "--project", "bad project"],
        ["create", "ci", "--save", "a", "--dotenv", "a"],  # one file, two sinks
        ["create", "ci", "--save", "a", "--github-env"],
        ["create", "ci", "--force"],
        ["create", "ci", "--var", "X"],
        ["create", "ci", "--dotenv", "a", "--var", "1BAD"],
        ["create", "ci", "--dotenv", "a", "--var", "A-B"],
    ],
)
def test_bad_input_is_refused_before_any_request(
    neon: Neon, args: list[str], tmp_path: Path
) -> None:
    """Invalid names, ids and option combinations exit 2 without sending or writing anything."""
    sinks = ("--save", "--dotenv")
    args = [str(tmp_path / a) if p in sinks else a for p, a in zip(["", *args], args, strict=False)]
    result = neon(*args)
    assert result.exit_code == 2, result.stderr
    assert len(neon.world.log) == 0
    assert list(tmp_path.iterdir()) == []


# -- --save ----------------------------------------------------------------------------------


def test_save_writes_a_0600_file(neon: Neon, tmp_path: Path) -> None:
    """--save writes the token and a newline to a new file of mode 0600; details on stdout."""
    target = tmp_path / "ci.token"
    result = neon("create", "ci", "--save", str(target))
    assert result.exit_code == 0
    token = target.read_text().removesuffix("\n")
    assert neon.world.key_for_token(token) is not None
    assert mode(target) == 0o600
    assert f"saved to {target}" in result.stdout
    assert token not in result.stdout + result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["ci.token"]


def test_save_is_0600_whatever_the_umask(neon: Neon, tmp_path: Path) -> None:
    """A permissive umask does not loosen the saved file's mode."""
    old = os.umask(0)
    try:
        assert neon("create", "ci", "--save", str(tmp_path / "k")).exit_code == 0
    finally:
        os.umask(old)
    assert mode(tmp_path / "k") == 0o600


def test_save_never_exposes_the_secret_in_a_readable_file(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is 0600 and complete at the moment it gets its name."""
    seen: list[tuple[int, str]] = []
    real_link = os.link

    def spy(src: str, dst: str) -> None:
        seen.append((mode(src), Path(src).read_text()))
        real_link(src, dst)

    monkeypatch.setattr(os, "link", spy)
    assert neon("create", "ci", "--save", str(tmp_path / "k")).exit_code == 0
    ((file_mode, text),) = seen
    assert file_mode == 0o600 and text.startswith("napi_") and text.endswith("\n")


def test_save_refuses_an_existing_file_before_creating(neon: Neon, tmp_path: Path) -> None:
    """An existing --save file without --force exits 2, untouched, and no key is created."""
    target = tmp_path / "ci.token"
    target.write_text("keep me\n")
    result = neon("create", "ci", "--save", str(target))
    assert result.exit_code == 2
    assert "--force" in result.stderr and "no key was created" in result.stderr
    assert target.read_text() == "keep me\n"
    assert neon.world.log.count("createApiKey") == 0
    assert len(neon.world.personal_keys(neon.world.seed.admin_id)) == 1


def test_save_with_force_replaces_the_file_as_0600(neon: Neon, tmp_path: Path) -> None:
    """--force replaces an existing file, which ends up 0600 even if it was world-readable."""
    target = tmp_path / "ci.token"
    target.write_text("old\n")
    target.chmod(0o644)
    result = neon("create", "ci", "--save", str(target), "--force")
    assert result.exit_code == 0
    assert target.read_text().startswith("napi_")
    assert mode(target) == 0o600


def test_save_into_a_missing_folder_is_refused_before_creating(neon: Neon, tmp_path: Path) -> None:
    """A --save path in a folder that does not exist exits 2 without creating a key."""
    result = neon("create", "ci", "--save", str(tmp_path / "nope" / "k"))
    assert result.exit_code == 2
    assert neon.world.log.count("createApiKey") == 0


def test_save_to_a_directory_is_refused(neon: Neon, tmp_path: Path) -> None:
    """A --save path that is a directory is refused, even with --force."""
    assert neon("create", "ci", "--save", str(tmp_path), "--force").exit_code == 2
    assert neon.world.log.count("createApiKey") == 0


# -- --dotenv --------------------------------------------------------------------------------


def test_dotenv_creates_a_0600_file(neon: Neon, tmp_path: Path) -> None:
    """--dotenv on a new file writes one VAR=token line with mode 0600."""
    target = tmp_path / ".env"
    result = neon("create", "ci", "--dotenv", str(target), "--var", "CI_NEON_KEY")
    assert result.exit_code == 0
    (line,) = target.read_text().splitlines()
    name, token = line.split("=", 1)
    assert name == "CI_NEON_KEY" and neon.world.key_for_token(token) is not None
    assert mode(target) == 0o600
    assert "set as CI_NEON_KEY" in result.stdout


def test_dotenv_replaces_one_line_and_keeps_the_others(neon: Neon, tmp_path: Path) -> None:
    """An existing assignment is replaced in place (export kept), duplicates go, the rest stays."""
    target = tmp_path / ".env"
    target.write_text(
        "# settings\nDATABASE_URL=postgres://x\nexport NEON_API_KEY=old\nOTHER=1\n"
        "NEON_API_KEY=older\nLAST=2"
    )
    target.chmod(0o640)
    result = neon("create", "ci", "--dotenv", str(target))
    assert result.exit_code == 0
    text = target.read_text()
    token = text.split("export NEON_API_KEY=", 1)[1].split("\n", 1)[0]
    assert text == (
        f"# settings\nDATABASE_URL=postgres://x\nexport NEON_API_KEY={token}\nOTHER=1\nLAST=2"
    )
    assert mode(target) == 0o640


def test_dotenv_appends_when_the_variable_is_absent(neon: Neon, tmp_path: Path) -> None:
    """A file without the variable gets the line appended after a completed last line."""
    target = tmp_path / ".env"
    target.write_text("A=1")
    assert neon("create", "ci", "--dotenv", str(target)).exit_code == 0
    first, second = target.read_text().splitlines()
    assert first == "A=1" and second.startswith("NEON_API_KEY=napi_")


def test_dotenv_follows_a_symlink(neon: Neon, tmp_path: Path) -> None:
    """A dotenv path that is a symlink updates the file it points to and stays a link."""
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    link = tmp_path / ".env"
    link.symlink_to(real)
    assert neon("create", "ci", "--dotenv", str(link)).exit_code == 0
    assert link.is_symlink()
    assert "NEON_API_KEY=napi_" in real.read_text()


def test_dotenv_refuses_a_directory_before_creating(neon: Neon, tmp_path: Path) -> None:
    """A --dotenv path that is a directory exits 2 without creating a key."""
    assert neon("create", "ci", "--dotenv", str(tmp_path)).exit_code == 2
    assert neon.world.log.count("createApiKey") == 0


# -- --github-env ----------------------------------------------------------------------------


def test_github_env_masks_then_appends(neon: Neon, tmp_path: Path) -> None:
    """--github-env prints ::add-mask:: first on stdout and appends VAR=token to $GITHUB_ENV."""
    env_file = tmp_path / "github_env"
    env_file.write_text("EARLIER=1\n")
    result = neon("create", "ci", "--github-env", env={"GITHUB_ENV": str(env_file)})
    assert result.exit_code == 0
    first, *_ = result.stdout.splitlines()
    assert first.startswith("::add-mask::napi_")
    token = first.removeprefix("::add-mask::")
    assert env_file.read_text() == f"EARLIER=1\nNEON_API_KEY={token}\n"
    assert token not in result.stderr
    assert "masked" in result.stderr


def test_github_env_creates_the_file_0600(neon: Neon, tmp_path: Path) -> None:
    """A $GITHUB_ENV file that does not exist yet is created with mode 0600."""
    env_file = tmp_path / "github_env"
    result = neon("create", "ci", "--github-env", "--var", "KEY", env={"GITHUB_ENV": str(env_file)})
    assert result.exit_code == 0
    assert env_file.read_text().startswith("KEY=napi_")
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_github_env_unset_is_refused_before_creating(neon: Neon) -> None:
    """--github-env without $GITHUB_ENV exits 2 and creates nothing."""
    result = neon("create", "ci", "--github-env")
    assert result.exit_code == 2
    assert "GITHUB_ENV" in result.stderr
    assert neon.world.log.count("createApiKey") == 0


# -- when delivery fails ---------------------------------------------------------------------


def test_failed_delivery_shows_the_secret_once_on_stderr(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing fails after the key exists, its secret is shown once on stderr with its id."""

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_sinks, "write_private", disk_full)
    target = tmp_path / "ci.token"
    result = neon("create", "ci", "--save", str(target))
    assert result.exit_code == 1
    assert result.stdout == ""
    (key_id,) = [k for k in neon.personal_ids() if k != neon.world.seed.admin_key_id]
    token = result.stderr.splitlines()[2]
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]
    assert result.stderr.count(token) == 1
    assert f"key {key_id}" in result.stderr
    assert "No space left on device" in result.stderr
    assert f"neon-keys revoke {key_id}" in result.stderr
    assert not target.exists()


def test_failed_stdout_delivery_uses_the_last_resort(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stdout that cannot be written (a closed pipe) falls back to the last resort."""

    def broken(self: _sinks.StdoutSink, secret: str) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(_sinks.StdoutSink, "deliver", broken)
    result = neon("create", "ci")
    assert result.exit_code == 1
    token = result.stderr.splitlines()[2]
    assert token.startswith("napi_") and neon.world.key_for_token(token) is not None


def test_lost_create_response_reports_the_candidate(neon: Neon, clock: FakeClock) -> None:
    """A create whose answer was lost exits 1 naming the key that was made and how to revoke it."""
    # The library looks for keys created since the attempt, by the real clock.
    clock.advance((datetime.datetime.now(datetime.UTC) - clock.now()).total_seconds())
    neon.world.faults.inject("createApiKey", Fault.lost_response())
    result = neon("create", "ci")
    assert result.exit_code == 1
    (key_id,) = [k for k in neon.personal_ids() if k != neon.world.seed.admin_key_id]
    assert str(key_id) in result.stderr
    assert "neon-keys revoke" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_json_details_go_to_stdout_with_a_file_sink(neon: Neon, tmp_path: Path) -> None:
    """With --output json and --save, stdout is one JSON object naming the file, without secret."""
    target = tmp_path / "ci.token"
    result = neon("-o", "json", "create", "ci", "--save", str(target))
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["secret_delivered_to"] == str(target) and record["kind"] == "personal"
    assert target.read_text().strip() not in result.stdout + result.stderr


def test_save_refuses_a_special_file_even_with_force(neon: Neon, tmp_path: Path) -> None:
    """A FIFO (or device) at the --save path is never replaced, and no key is created."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = neon("create", "ci", "--save", str(fifo), "--force")
    assert result.exit_code == 2
    assert "not a regular file" in result.stderr and "no key was created" in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert neon.world.log.count("createApiKey") == 0


def test_save_with_force_replaces_a_symlink_not_its_target(neon: Neon, tmp_path: Path) -> None:
    """--force on a symlink replaces the link with a 0600 file; what it pointed to is untouched."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("unrelated\n")
    link = tmp_path / "ci.token"
    link.symlink_to(elsewhere)
    assert neon("create", "ci", "--save", str(link), "--force").exit_code == 0
    assert not link.is_symlink() and mode(link) == 0o600
    assert elsewhere.read_text() == "unrelated\n"


def test_folder_gone_after_the_check_uses_the_last_resort(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the --save folder disappears while the key is created, the secret is shown once."""
    folder = tmp_path / "keys"
    folder.mkdir()
    real_check = _sinks.FileSink.check

    def check_then_lose_the_folder(self: _sinks.FileSink) -> None:
        real_check(self)
        folder.rmdir()

    monkeypatch.setattr(_sinks.FileSink, "check", check_then_lose_the_folder)
    result = neon("create", "ci", "--save", str(folder / "ci.token"))
    assert result.exit_code == 1
    (key_id,) = [k for k in neon.personal_ids() if k != neon.world.seed.admin_key_id]
    (token,) = [line for line in result.stderr.splitlines() if line.startswith("napi_")]
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]
    assert result.stderr.count(token) == 1 and result.stdout == ""
    assert f'personal key {key_id} "ci"' in result.stderr
    assert f"neon-keys revoke {key_id}" in result.stderr


def test_github_env_that_cannot_be_written_uses_the_last_resort(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A $GITHUB_ENV that fails on write (a full disk) gets the last resort, with a masking note."""
    real_write = os.write

    def disk_full(fd: int, data: bytes | memoryview) -> int:
        if bytes(data).startswith(b"NEON_API_KEY="):
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(_sinks.os, "write", disk_full)
    env_file = tmp_path / "github_env"
    result = neon("create", "ci", "--github-env", env={"GITHUB_ENV": str(env_file)})
    assert result.exit_code == 1
    (mask,) = result.stdout.splitlines()
    token = mask.removeprefix("::add-mask::")
    assert neon.world.key_for_token(token) is not None
    assert result.stderr.count(token) == 1
    assert "No space left on device" in result.stderr
    assert "masks it in the job's log" in result.stderr
    assert "neon-keys revoke" in result.stderr


def test_github_env_directory_is_refused_before_creating(neon: Neon, tmp_path: Path) -> None:
    """A $GITHUB_ENV naming a directory exits 2 without creating a key."""
    result = neon("create", "ci", "--github-env", env={"GITHUB_ENV": str(tmp_path)})
    assert result.exit_code == 2 and "is a directory" in result.stderr
    assert neon.world.log.count("createApiKey") == 0


@pytest.mark.parametrize(("file_mode", "warned"), [(0o644, True), (0o600, False)])
def test_dotenv_readable_by_others_is_warned_about(
    neon: Neon, tmp_path: Path, file_mode: int, warned: bool
) -> None:
    """An existing dotenv file others can read keeps its mode, with a warning (no secret)."""
    target = tmp_path / ".env"
    target.write_text("A=1\n")
    target.chmod(file_mode)
    result = neon("create", "ci", "--dotenv", str(target))
    assert result.exit_code == 0
    assert ("Warning: " in result.stderr) is warned
    assert mode(target) == file_mode
    assert target.read_text().split("NEON_API_KEY=")[1].strip() not in result.stderr
