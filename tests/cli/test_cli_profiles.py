"""Profiles: a config file's named settings, a command that prints the key, and precedence."""

from __future__ import annotations

import datetime
import json
import os
import pty
import pwd
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_support import Neon, lines, write_config
from click.testing import CliRunner
from neon_keys.cli import cli
from neon_keys.cli._errors import CliError
from neon_keys.cli._profiles import (
    Profile,
    config_path,
    load_profile,
    profile_names,
    profile_orgs,
)

KEY_SCRIPT = """\
import pathlib, sys
folder = pathlib.Path(sys.argv[1])
(folder / "runs").open("a").write(repr(sys.argv[2:]) + " stdin=" + repr(sys.stdin.read()) + "\\n")
sys.stdout.buffer.write((folder / "token").read_bytes())
sys.exit(int((folder / "status").read_text()) if (folder / "status").exists() else 0)
"""
"""A stand-in for ``op read``: prints the token of its folder, notes each run and its words."""


class KeyCommand:
    """A key command of a profile, in a folder of its own: what it prints, how it ends."""

    def __init__(self, folder: Path, token: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        (folder / "key.py").write_text(KEY_SCRIPT)
        self.prints(token + "\n")

    def prints(self, text: str) -> None:
        """Make the command print ``text`` on stdout."""
        (self.folder / "token").write_text(text)

    def exits(self, status: int) -> None:
        """Make the command exit with ``status``."""
        (self.folder / "status").write_text(str(status))

    def words(self, *extra: str) -> list[str]:
        """The command's argv."""
        return [sys.executable, str(self.folder / "key.py"), str(self.folder), *extra]

    def toml(self, *extra: str) -> str:
        """The command as a TOML string (split as a shell would, no shell run)."""
        return json.dumps(shlex.join(self.words(*extra)))

    @property
    def runs(self) -> list[str]:
        """One line per run: the extra words it got and what it read on stdin."""
        path = self.folder / "runs"
        return path.read_text().splitlines() if path.exists() else []


class Config:
    """The config file under a test's own XDG_CONFIG_HOME."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "neon-keys" / "config.toml"

    def write(self, text: str) -> None:
        """Write the config file (only its owner may write it, or its folder)."""
        write_config(self.home, text)

    @property
    def env(self) -> dict[str, str | None]:
        """Environment of a run that uses this config file and no ambient key."""
        return {"XDG_CONFIG_HOME": str(self.home), "NEON_API_KEY": None}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """An empty config folder of this test."""
    return Config(tmp_path / "config")


@pytest.fixture
def admin_command(tmp_path: Path, neon: Neon) -> KeyCommand:
    """A key command that prints the seeded admin's token."""
    return KeyCommand(tmp_path / "admin-cmd", neon.world.seed.admin_token)


@pytest.fixture
def member_command(tmp_path: Path, neon: Neon) -> KeyCommand:
    """A key command that prints the seeded member's token."""
    return KeyCommand(tmp_path / "member-cmd", neon.world.seed.member_token)


def _account(neon: Neon, *args: str, env: dict[str, str | None]) -> str:
    """Whose key ``whoami`` ran with, given ``args`` and ``env``."""
    result = neon("-o", "json", *args, "whoami", env=env)
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["account_id"])


def test_a_profile_supplies_host_org_and_key(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """With --profile, the host, the key (from its command) and the org come from the file."""
    config.write(
        f"""
[profiles.ci]
api_host = "{neon.server.base_url}"
org = "{neon.org}"
api_key_command = {admin_command.toml()}
"""
    )
    neon.world.issue_org_key(neon.org, "deploy")
    result = neon("--profile", "ci", "list", env={**config.env, "NEON_API_HOST": None})
    assert result.exit_code == 0, result.stderr
    assert "deploy" in result.stdout and "PROJECT" in result.stdout  # the org's keys
    assert neon.world.seed.admin_token not in result.stdout + result.stderr
    assert len(admin_command.runs) == 1


def test_the_key_command_runs_without_a_shell_and_without_stdin(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """Its words reach it as written (no expansion), and it reads nothing of the CLI's stdin."""
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml('$HOME', 'a;b', '*')}\n")
    result = neon("--profile", "ci", "whoami", env=config.env, input="100001\n")
    assert result.exit_code == 0, result.stderr
    assert admin_command.runs == ["['$HOME', 'a;b', '*'] stdin=''"]


def test_the_key_command_may_be_an_array(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """An array gives the command's words exactly."""
    config.write(f"[profiles.ci]\napi_key_command = {json.dumps(admin_command.words('x y'))}\n")
    assert _account(neon, "--profile", "ci", env=config.env) == neon.world.seed.admin_id
    assert admin_command.runs == ["['x y'] stdin=''"]


def test_a_malformed_key_from_the_key_command_names_the_profile(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """A key command printing a quoted key is refused before sending, naming the profile."""
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    admin_command.prints('"napi_quoted_by_the_vault"\n')
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 2
    (line,) = lines(result.stderr)
    assert "quote" in line and "profile" in line and "ci" in line and "--api-host" not in line
    assert "napi_quoted_by_the_vault" not in line
    assert len(neon.world.log) == 0


Case = tuple[list[str], dict[str, str], str]
"""A precedence case: the command line's arguments, the environment, the expected source."""


@pytest.mark.parametrize(
    "case",
    [
        # the option wins over everything
        (
            ["--api-key", "MEMBER"],
            {"NEON_API_KEY": "ADMIN", "NEON_KEYS_PROFILE": "admin"},
            "member",
        ),
        (["--api-key", "MEMBER", "--profile", "admin"], {}, "member"),
        # a profile picked on the command line wins over the environment's key
        (["--profile", "admin"], {"NEON_API_KEY": "MEMBER"}, "admin"),
        # the environment's key wins over a profile picked by the environment
        ([], {"NEON_API_KEY": "MEMBER", "NEON_KEYS_PROFILE": "admin"}, "member"),
        ([], {"NEON_KEYS_PROFILE": "admin"}, "admin"),
        # --profile wins over NEON_KEYS_PROFILE
        (["--profile", "member"], {"NEON_KEYS_PROFILE": "admin"}, "member"),
    ],
)
def test_where_the_api_key_comes_from(
    neon: Neon,
    config: Config,
    admin_command: KeyCommand,
    member_command: KeyCommand,
    case: Case,
) -> None:
    """Option, then a profile named on the command line, then the environment, then a
    profile named by the environment (docs/cli.md's precedence table)."""
    args, env, expected = case
    config.write(
        f"[profiles.admin]\napi_key_command = {admin_command.toml()}\n"
        f"[profiles.member]\napi_key_command = {member_command.toml()}\n"
    )
    tokens = {"ADMIN": neon.world.seed.admin_token, "MEMBER": neon.world.seed.member_token}
    args = [tokens.get(arg, arg) for arg in args]
    environment: dict[str, str | None] = {**config.env}
    environment.update({name: tokens.get(value, value) for name, value in env.items()})
    ids = {"admin": neon.world.seed.admin_id, "member": neon.world.seed.member_id}
    assert _account(neon, *args, env=environment) == ids[expected]


@pytest.mark.parametrize(
    "case",
    [
        (["--api-host", "GOOD"], {"NEON_API_HOST": "DEAD", "NEON_KEYS_PROFILE": "dead"}, "GOOD"),
        (["--profile", "good"], {"NEON_API_HOST": "DEAD"}, "GOOD"),
        (["--profile", "dead"], {"NEON_API_HOST": "GOOD"}, "DEAD"),
        ([], {"NEON_API_HOST": "GOOD", "NEON_KEYS_PROFILE": "dead"}, "GOOD"),
        ([], {"NEON_API_HOST": "DEAD", "NEON_KEYS_PROFILE": "good"}, "DEAD"),
        ([], {"NEON_KEYS_PROFILE": "good"}, "GOOD"),
    ],
)
def test_where_the_api_host_comes_from(
    neon: Neon,
    config: Config,
    admin_command: KeyCommand,
    case: Case,
) -> None:
    """The API root follows the same precedence as the key."""
    args, env, expected = case
    hosts = {"GOOD": neon.server.base_url, "DEAD": "http://127.0.0.1:1/api/v2"}
    config.write(
        f'[profiles.good]\napi_host = "{hosts["GOOD"]}"\napi_key_command = {admin_command.toml()}\n'
        f'[profiles.dead]\napi_host = "{hosts["DEAD"]}"\napi_key_command = {admin_command.toml()}\n'
    )
    environment: dict[str, str | None] = {**config.env}
    environment.update({name: hosts.get(value, value) for name, value in env.items()})
    result = neon(*[hosts.get(arg, arg) for arg in args], "whoami", env=environment)
    if expected == "GOOD":
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 1
        assert "cannot reach the Neon API at http://127.0.0.1:1/api/v2" in result.stderr


def test_a_profile_named_after_the_command_counts_too(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """``neon-keys whoami --profile NAME`` uses the profile like ``neon-keys --profile NAME``."""
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    result = neon("whoami", "--profile", "ci", env=config.env)
    assert result.exit_code == 0, result.stderr
    assert admin_command.runs


def test_the_org_option_wins_over_the_profiles_org(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """--org names the organization even when the profile has a default one."""
    other = neon.world.add_org("org-other-1", admins=[neon.world.seed.admin_id])
    neon.world.issue_org_key(other, "elsewhere")
    neon.world.issue_org_key(neon.org, "default-org-key")
    config.write(f'[profiles.ci]\norg = "{neon.org}"\napi_key_command = {admin_command.toml()}\n')
    result = neon("--profile", "ci", "list", "--org", other, env=config.env)
    assert result.exit_code == 0, result.stderr
    assert "elsewhere" in result.stdout and "default-org-key" not in result.stdout


def test_the_profiles_org_reaches_every_command_that_takes_org(
    neon: Neon, config: Config, admin_command: KeyCommand, tmp_path: Path
) -> None:
    """create, audit and revoke also work on the profile's organization by default."""
    config.write(f'[profiles.ci]\norg = "{neon.org}"\napi_key_command = {admin_command.toml()}\n')
    run = ["--profile", "ci", "-o", "json"]
    created = neon(*run, "create", "deploy", "--save", str(tmp_path / "t"), env=config.env)
    assert created.exit_code == 0, created.stderr
    assert json.loads(created.stdout)["org_id"] == neon.org
    audit = neon(*run, "audit", env=config.env)
    assert json.loads(audit.stdout)["org_id"] == neon.org
    key_id = str(json.loads(created.stdout)["id"])
    assert neon(*run, "revoke", key_id, "--yes", env=config.env).exit_code == 0
    assert neon.org_ids() == []


def test_neon_org_id_does_not_change_which_keys_list_shows(neon: Neon) -> None:
    """NEON_ORG_ID, which the sandbox exports, is never read: list shows personal keys."""
    neon.world.issue_org_key(neon.org, "deploy")
    result = neon("-o", "json", "list", env={"NEON_ORG_ID": neon.org})
    assert result.exit_code == 0, result.stderr
    assert [key["kind"] for key in json.loads(result.stdout)] == ["personal"]


def test_without_a_profile_the_file_is_not_read(neon: Neon, config: Config) -> None:
    """A broken config file does not matter until a profile is chosen."""
    config.write("this is not toml [")
    assert neon("whoami", env={"XDG_CONFIG_HOME": str(config.home)}).exit_code == 0


def test_the_key_command_runs_only_when_a_key_is_needed(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """--help and --api-key do not run the profile's key command."""
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    assert neon("--profile", "ci", "list", "--help", env=config.env).exit_code == 0
    token = neon.world.seed.admin_token
    assert neon("--profile", "ci", "--api-key", token, "whoami", env=config.env).exit_code == 0
    assert admin_command.runs == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[profiles.ci]\napi_key = "KEY"\n', "profiles.ci.api_key holds what looks like"),
        ('[profiles.ci]\ntoken = "abc"\n', "profiles.ci.token holds what looks like an API key"),
        (
            '[profiles.ci]\napi_key_command = "echo KEY"\n',
            "profiles.ci.api_key_command holds what looks like an API key",
        ),
        (
            '[profiles.ci]\napi_key_command = ["echo", "KEY"]\n',
            "profiles.ci.api_key_command[1] holds what looks like an API key",
        ),
        ('[profiles.other]\nnote = "KEY"\n[profiles.ci]\n', "profiles.other.note holds what"),
        ('[profiles.ci]\napi_hots = "https://x"\n', "profiles.ci.api_hots is not a profile field"),
        ("[profiles.ci]\norg = 12\n", "profiles.ci.org must be a string"),
        ('[profiles.ci]\norg = "Not An Org"\n', "profiles.ci.org: invalid org"),
        ("[profiles.ci]\napi_key_command = 12\n", "must be a string or an array of strings"),
        ('[profiles.ci]\napi_key_command = ""\n', "profiles.ci.api_key_command is empty"),
        ('[profiles.ci]\napi_key_command = "op \'read"\n', "cannot split it into words"),
        ('[profiles.ci]\napi_key_command_timeout = "soon"\n', "must be a duration"),
        ('[profiles.ci]\napi_key_command_timeout = "0s"\n', "must be more than 0s"),
        ('[profiles.ci]\n[other]\nx = "y"\n', "unknown top-level entry 'other'"),
        ("[profiles.ci\n", "not valid TOML"),
        ('[profiles.dev]\norg = "org-1"\n', 'no profile "ci" in the file (profiles: dev)'),
    ],
)
def test_a_bad_config_file_is_refused_before_any_request(
    neon: Neon, config: Config, text: str, message: str
) -> None:
    """A config file that is wrong, or holds a key, exits 2 naming the file; nothing is sent."""
    token = "napi_" + "k" * 60
    config.write(text.replace("KEY", token))
    result = neon("--profile", "ci", "list", env=config.env)
    assert result.exit_code == 2, result.stderr
    (line,) = lines(result.stderr)
    assert line.startswith(f"Error: {config.path}: ") and message in line
    assert token not in result.stdout + result.stderr
    assert len(neon.world.log) == 0


def test_a_neon_key_of_the_older_shape_is_refused_too(neon: Neon, config: Config) -> None:
    """A 64-character key without the napi_ prefix is a plain key in the file as well."""
    token = "a1b2c3d4" * 8
    config.write(f'[profiles.ci]\napi_key_command = "printf {token}"\n')
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 2
    assert token not in result.stderr and "looks like an API key" in result.stderr


def test_a_missing_config_file_is_named(neon: Neon, config: Config) -> None:
    """Choosing a profile without a config file says where the file was looked for."""
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 2
    assert f"{config.path}: the config file does not exist" in result.stderr


def test_the_environment_may_name_a_missing_profile_too(neon: Neon, config: Config) -> None:
    """NEON_KEYS_PROFILE naming no profile is an error, not a silent fallback."""
    config.write('[profiles.dev]\norg = "org-1"\n')
    result = neon("whoami", env={**config.env, "NEON_KEYS_PROFILE": "prod"})
    assert result.exit_code == 2 and 'no profile "prod"' in result.stderr


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("exit", "exited with status 1"),
        ("empty", "printed no key"),
        ("lines", "printed more than the key"),
        ("binary", "not UTF-8"),
        ("missing", "was not found"),
    ],
)
def test_a_failing_key_command_exits_3_and_shows_nothing_it_printed(
    neon: Neon, config: Config, admin_command: KeyCommand, setup: str, message: str
) -> None:
    """When the key command fails, the run exits 3 without a request and shows none of its
    output (which may hold the key)."""
    token = neon.world.seed.admin_token
    command = admin_command.toml()
    if setup == "exit":
        admin_command.exits(1)
    elif setup == "empty":
        admin_command.prints("\n")
    elif setup == "lines":
        admin_command.prints(f"{token}\nsecond line\n")
    elif setup == "binary":
        admin_command.prints("")
        (admin_command.folder / "token").write_bytes(b"\xff" + token.encode())
    else:
        command = json.dumps("/nonexistent/op read op://ci/neon/token")
    config.write(f"[profiles.ci]\napi_key_command = {command}\n")
    result = neon("--profile", "ci", "list", env=config.env)
    assert result.exit_code == 3
    (line,) = lines(result.stderr)
    assert line.startswith('Error: no Neon API key: the api_key_command of profile "ci"')
    assert message in line
    assert token not in result.stdout + result.stderr
    assert len(neon.world.log) == 0


def test_a_key_command_that_hangs_is_stopped(neon: Neon, config: Config, tmp_path: Path) -> None:
    """The key command gets api_key_command_timeout, then is stopped (exit 3)."""
    script = tmp_path / "hang.py"
    script.write_text("import time\ntime.sleep(60)\n")
    command = json.dumps(shlex.join([sys.executable, str(script)]))
    config.write(f'[profiles.ci]\napi_key_command = {command}\napi_key_command_timeout = "1s"\n')
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 3
    assert "did not finish within 1s (api_key_command_timeout); it was stopped" in result.stderr


def test_profile_names_complete(config: Config) -> None:
    """Shell completion offers the config file's profile names after --profile."""
    config.write("[profiles.ci]\n[profiles.cd]\n[profiles.prod]\n")
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="neon-keys",
        env={
            "XDG_CONFIG_HOME": str(config.home),
            "_NEON_KEYS_COMPLETE": "bash_complete",
            "COMP_WORDS": "neon-keys --profile c",
            "COMP_CWORD": "2",
        },
    )
    assert result.stdout.split() == ["plain,cd", "plain,ci"]


@pytest.mark.parametrize(
    ("xdg", "expected"),
    [
        ("/etc/xdg-home", "/etc/xdg-home/neon-keys/config.toml"),
        ("", "HOME/.config/neon-keys/config.toml"),
        ("relative/path", "HOME/.config/neon-keys/config.toml"),
        (None, "HOME/.config/neon-keys/config.toml"),
    ],
)
def test_the_config_file_is_where_xdg_puts_it(
    xdg: str | None, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """$XDG_CONFIG_HOME/neon-keys/config.toml when it is an absolute path, else ~/.config."""
    monkeypatch.setenv("HOME", str(tmp_path))
    env = {"HOME": str(tmp_path)}
    if xdg is not None:
        env["XDG_CONFIG_HOME"] = xdg
    assert config_path(env) == Path(expected.replace("HOME", str(tmp_path)))
    assert os.path.isabs(config_path(env))


def test_a_blank_key_in_the_environment_leaves_the_profile_to_give_one(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """NEON_API_KEY set to spaces counts as unset: the environment's profile gives the key."""
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    env = {**config.env, "NEON_API_KEY": "  ", "NEON_KEYS_PROFILE": "ci"}
    assert _account(neon, env=env) == neon.world.seed.admin_id


def test_a_refused_api_host_names_the_profile_it_came_from(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """A profile's api_host the client refuses (plain http elsewhere) exits 2 naming it."""
    config.write(
        f'[profiles.ci]\napi_host = "http://neon.example.com/api/v2"\n'
        f"api_key_command = {admin_command.toml()}\n"
    )
    result = neon("--profile", "ci", "whoami", env={**config.env, "NEON_API_HOST": None})
    assert result.exit_code == 2
    assert f'(api_host of profile "ci" ({config.path}))' in result.stderr
    assert len(neon.world.log) == 0


@pytest.mark.parametrize(("where", "mode"), [("file", 0o620), ("file", 0o602), ("folder", 0o777)])
def test_a_config_file_others_could_write_is_refused(
    neon: Neon, config: Config, admin_command: KeyCommand, where: str, mode: int
) -> None:
    """The file names a command to run: writable by group or others (it or its folder), it
    is refused with exit 2 and the chmod that fixes it, and its command never runs."""
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    (config.path if where == "file" else config.path.parent).chmod(mode)
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 2
    assert "is writable by others" in result.stderr and "chmod go-w" in result.stderr
    assert admin_command.runs == [] and len(neon.world.log) == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_config_file_of_another_user_is_refused(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """A config file that belongs to another user is not read (its command never runs)."""
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    os.chown(config.path, 4242, 4242)
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 2 and "belongs to another user (uid 4242)" in result.stderr
    assert admin_command.runs == []


def test_a_key_command_printing_too_much_is_refused(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """One line longer than any key (a file dumped by mistake) is not taken for a key."""
    admin_command.prints("x" * 5000 + "\n")
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 3 and "printed 5000 characters, more than a key" in result.stderr
    assert "xxxx" not in result.stderr and len(neon.world.log) == 0


HOLDER_SCRIPT = """\
import pathlib, subprocess, sys
folder = pathlib.Path(sys.argv[1])
holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
(folder / "holder.pid").write_text(str(holder.pid))
sys.stdout.write((folder / "token").read_text())
"""
"""A key command that prints the key and exits, leaving a process (an agent it started)
that keeps its stdout open."""


def test_a_process_the_key_command_leaves_behind_does_not_hold_the_run(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """The key is taken once the command exits, even if something it started keeps its
    stdout open (the run does not wait for the timeout and then call the command hung)."""
    script = admin_command.folder / "holder.py"
    script.write_text(HOLDER_SCRIPT)
    command = json.dumps(shlex.join([sys.executable, str(script), str(admin_command.folder)]))
    config.write(f'[profiles.ci]\napi_key_command = {command}\napi_key_command_timeout = "5s"\n')
    try:
        result = neon("-o", "json", "--profile", "ci", "whoami", env=config.env)
    finally:
        holder = int((admin_command.folder / "holder.pid").read_text())
        os.kill(holder, signal.SIGKILL)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["account_id"] == neon.world.seed.admin_id


def test_a_key_command_flooding_its_output_is_stopped_at_once(
    neon: Neon, config: Config, tmp_path: Path
) -> None:
    """A command printing megabytes (a file or a device by mistake) is stopped once its
    output is more than any key, not read into memory until its timeout."""
    script = tmp_path / "flood.py"
    script.write_text(
        "import sys, time\nsys.stdout.write('x' * 4_000_000)\nsys.stdout.flush()\ntime.sleep(60)\n"
    )
    command = json.dumps(shlex.join([sys.executable, str(script)]))
    config.write(f'[profiles.ci]\napi_key_command = {command}\napi_key_command_timeout = "5s"\n')
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 3
    (line,) = lines(result.stderr)
    assert "printed more than 64 KiB, more than a key; it was stopped" in line
    assert "xxxx" not in line and len(neon.world.log) == 0


def _neon_keys(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``neon-keys ARGS`` as a process with ``env`` (bounded: a run that blocks fails)."""
    return subprocess.run(
        [sys.executable, "-m", "neon_keys.cli", *args],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _plain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEON_", "XDG_"))}
    env.update(extra)
    return env


def test_a_config_file_that_is_a_fifo_is_refused_not_waited_on(
    config: Config, tmp_path: Path
) -> None:
    """A FIFO at the config file's place is refused (exit 2) at once, for a --profile run and
    for completion alike, instead of waiting for ever for a writer."""
    config.path.parent.mkdir(parents=True, mode=0o700)
    os.mkfifo(config.path, 0o600)
    env = _plain_env(XDG_CONFIG_HOME=str(config.home))
    run = _neon_keys(tmp_path, env, "--profile", "ci", "whoami")
    assert run.returncode == 2
    assert f"{config.path}: the config file is not a regular file" in run.stderr
    completion = _neon_keys(
        tmp_path,
        {
            **env,
            "_NEON_KEYS_COMPLETE": "bash_complete",
            "COMP_WORDS": "neon-keys --profile ",
            "COMP_CWORD": "2",
        },
    )
    assert completion.returncode == 0 and completion.stdout.split() == []


def test_a_config_file_larger_than_any_config_is_refused(config: Config) -> None:
    """A config file of megabytes (a log written there by mistake) is refused, not read whole."""
    config.write("# padding\n" * 200_000)
    assert profile_names(config.path) == []
    with pytest.raises(CliError, match="larger than 1024 KiB"):
        load_profile("ci", config.path)


def test_without_home_or_a_passwd_entry_completion_offers_no_profiles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HOME unset and the user unknown to passwd (a container's arbitrary uid): completion
    offers no profile and --profile says how to name the config folder, no traceback."""
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)

    def unknown_user(uid: int) -> object:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", unknown_user)
    assert profile_names() == [] and profile_orgs() == []
    with pytest.raises(CliError, match="HOME is unset") as caught:
        load_profile("ci")
    assert "XDG_CONFIG_HOME" in caught.value.message and caught.value.exit_code == 2


def test_a_relative_home_is_not_taken_for_the_config_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """HOME empty or relative: the config file is looked for under the home folder the system
    records, never under the working folder."""
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: SimpleNamespace(pw_dir=str(tmp_path)))
    for home in ("", "relative"):
        assert config_path({"HOME": home}) == tmp_path / ".config" / "neon-keys" / "config.toml"


GROUP_SCRIPT = """\
import pathlib, subprocess, sys, time
folder = pathlib.Path(sys.argv[1])
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
(folder / "helper.pid").write_text(str(helper.pid))
time.sleep(60)
"""
"""A key command that hangs, and has started a helper that hangs too (``sh -c 'op ...'``)."""


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs (an exited one not yet collected does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_key_command_that_times_out_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    """On its timeout, the key command and every process it started are stopped, not only
    the command itself (its helpers would otherwise run on, holding the terminal or a lock)."""
    script = tmp_path / "group.py"
    script.write_text(GROUP_SCRIPT)
    profile = Profile(
        name="ci",
        path=tmp_path / "config.toml",
        api_key_command=(sys.executable, str(script), str(tmp_path)),
        api_key_command_timeout=datetime.timedelta(seconds=1),
    )
    helper = 0
    try:
        with pytest.raises(CliError, match="did not finish within 1s"):
            profile.read_api_key()
        helper = int((tmp_path / "helper.pid").read_text())
        deadline = time.monotonic() + 10
        while _running(helper) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _running(helper)
    finally:
        if helper and _running(helper):
            os.kill(helper, signal.SIGKILL)


@pytest.mark.parametrize("after", ["\n\n", "\n \n\n", "\r\n\r\n", "\n\t\n"])
def test_blank_lines_after_the_key_are_not_content(
    neon: Neon, config: Config, admin_command: KeyCommand, after: str
) -> None:
    """A key command printing the key then blank lines (a tool's trailing newline) is taken:
    only lines with something on them count as more than the key."""
    admin_command.prints(neon.world.seed.admin_token + after)
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    assert _account(neon, "--profile", "ci", env=config.env) == neon.world.seed.admin_id


def test_a_key_between_blank_lines_is_taken_but_two_keys_are_not(
    neon: Neon, config: Config, admin_command: KeyCommand
) -> None:
    """Blank lines before the key are not content either; a second non-blank line still is."""
    token = neon.world.seed.admin_token
    config.write(f"[profiles.ci]\napi_key_command = {admin_command.toml()}\n")
    admin_command.prints(f"\n\n{token}\n\n")
    assert _account(neon, "--profile", "ci", env=config.env) == neon.world.seed.admin_id
    admin_command.prints(f"{token}\n\n{token}\n")
    result = neon("--profile", "ci", "whoami", env=config.env)
    assert result.exit_code == 3 and "printed more than the key" in result.stderr
    assert token not in result.stderr


TERMINAL_RUN = """\
import os, sys
from pathlib import Path
os.close(os.open(os.ttyname(0), os.O_RDWR))  # a session leader opening it: its terminal
from neon_keys.cli._profiles import Profile
prompt = sys.argv[1]
profile = Profile(name="ci", path=Path("config.toml"), api_key_command=(sys.executable, prompt))
key = profile.read_api_key()
print("got", key, "foreground again:", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
"""
"""Runs a key command as a user at a terminal would: the terminal is this process's, and it
is in the foreground."""

PROMPT = """\
with open("/dev/tty", "w") as out, open("/dev/tty") as typed:
    out.write("passphrase: ")
    out.flush()
    print(typed.readline().strip().upper())
"""
"""A password manager asking on the terminal: prints what is typed there, upper-cased."""


def _read_until(master: int, text: bytes, seen: bytearray) -> None:
    deadline = time.monotonic() + 20
    start = len(seen)
    while text not in seen[start:]:
        assert time.monotonic() < deadline, f"no {text!r} on the terminal: {bytes(seen)!r}"
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:  # the terminal's last user left
                break


def test_a_key_command_may_prompt_on_the_terminal(tmp_path: Path) -> None:
    """Run from a terminal, the key command (in a group of its own) may still ask on it: the
    terminal is lent to it while it runs, and given back to neon-keys after."""
    (tmp_path / "run.py").write_text(TERMINAL_RUN)
    (tmp_path / "prompt.py").write_text(PROMPT)
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, str(tmp_path / "run.py"), str(tmp_path / "prompt.py")],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"passphrase: ", seen)
        os.write(master, b"napi_typed\n")
        _read_until(master, b"again: ", seen)
        _read_until(master, b"\n", seen)
        assert child.wait(20) == 0, bytes(seen).decode()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
    assert seen.splitlines()[-1].strip() == b"got NAPI_TYPED foreground again: True"
