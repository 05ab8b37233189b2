"""Shell completion: ``neon-keys completion SHELL`` and the candidates a Tab gets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import write_config
from click.testing import CliRunner
from neon_keys.cli import cli

VENV_BIN = Path(sys.executable).parent
BASH = shutil.which("bash")
TIMEOUT = 60.0  # seconds for a whole bash session (each Tab runs neon-keys once)

CONFIG = """\
[profiles.work]
org = "org-cool-breeze-12345678"
[profiles.ci]
org = "org-ci-deploys-1"
[profiles.personal]
"""


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    """An XDG config folder whose config file has three profiles, two with an org."""
    write_config(tmp_path / "config", CONFIG)
    return tmp_path / "config"


def _complete(words: str, config_home: Path | None = None, shell: str = "bash") -> list[str]:
    """What click answers for the last word of ``words`` (the value of each candidate)."""
    last = words.rsplit(" ", maxsplit=1)[-1]
    env = {
        "_NEON_KEYS_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        # fish passes the word being typed; bash and zsh its index
        "COMP_CWORD": last if shell == "fish" else str(len(words.split(" ")) - 1),
    }
    if config_home is not None:
        env["XDG_CONFIG_HOME"] = str(config_home)
    result = CliRunner().invoke(cli, [], prog_name="neon-keys", env=env)
    assert result.exit_code == 0, result.output
    answer = [line for line in result.stdout.splitlines() if line]
    if shell == "bash":
        return [line.split(",", 1)[1] for line in answer]
    return answer


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_bash_completes_commands_options_choices_and_profiles(
    config_home: Path, tmp_path: Path
) -> None:
    """In a real bash, the script from ``neon-keys completion bash`` registers itself and a
    Tab on each kind of word gets the program's own candidates."""
    cases = {
        "neon-keys li": ["list"],
        "neon-keys list --ki": ["--kind"],
        "neon-keys list --kind ": ["personal", "org", "project"],
        "neon-keys list --kind p": ["personal", "project"],
        "neon-keys --profile ": ["ci", "personal", "work"],
        "neon-keys revoke --org ": ["org-ci-deploys-1", "org-cool-breeze-12345678"],
        "neon-keys sandbox st": ["start", "status", "stop"],
        "neon-keys completion ": ["bash", "zsh", "fish"],
    }
    script = ['eval "$(neon-keys completion bash)"', "complete -p neon-keys"]
    for words in cases:
        empty_last = ' ""' if words.endswith(" ") else ""  # the word being typed is empty
        script += [
            f"COMP_WORDS=({words}{empty_last})",
            "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))",
            "COMPREPLY=()",
            "_neon_keys_completion neon-keys",
            'printf "%s\\n" "${COMPREPLY[*]}"',
        ]
    env = {
        "PATH": os.pathsep.join([str(VENV_BIN), "/usr/bin", "/bin"]),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(config_home),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [BASH, "--noprofile", "--norc", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    registered, *answers = done.stdout.splitlines()
    assert registered == "complete -o nosort -F _neon_keys_completion neon-keys"
    assert dict(zip(cases, [answer.split() for answer in answers], strict=True)) == cases


def test_every_command_completes(config_home: Path) -> None:
    """The first word completes to every command of the program."""
    assert set(_complete("neon-keys ", config_home)) == set(cli.commands)


def test_global_options_complete_after_a_command() -> None:
    """Options given after the command (-o, --profile, ...) are offered there too."""
    offered = _complete("neon-keys list --")
    assert {"--org", "--all-orgs", "--quiet", "--profile", "--output", "--api-key"} <= set(offered)


def test_output_choices_complete() -> None:
    """-o completes to table and json."""
    assert _complete("neon-keys list -o ") == ["table", "json"]


def test_without_a_config_file_profiles_complete_to_nothing() -> None:
    """No config file (or a broken one) gives no candidates, and no error."""
    assert _complete("neon-keys --profile ") == []


def test_a_broken_config_file_completes_to_nothing(tmp_path: Path) -> None:
    """A config file that cannot be read never breaks a Tab."""
    write_config(tmp_path, "[profiles.x\n")
    assert _complete("neon-keys --profile ", tmp_path) == []
    assert _complete("neon-keys list --org ", tmp_path) == []


def test_project_ids_are_not_completed_from_profiles(config_home: Path) -> None:
    """--project is not an organization: the profiles' orgs are not offered for it."""
    assert _complete("neon-keys create ci --org x --project ", config_home) == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_of_each_shell_calls_neon_keys_back(shell: str) -> None:
    """``completion SHELL`` prints click's script for that shell, calling neon-keys back."""
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert f"_NEON_KEYS_COMPLETE={shell}_source" not in result.stdout
    assert f"{shell}_complete" in result.stdout and "neon-keys" in result.stdout


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_get_candidates_too(shell: str, config_home: Path) -> None:
    """The zsh and fish protocols answer with the same candidates."""
    answer = "\n".join(_complete("neon-keys list --kind ", config_home, shell=shell))
    assert all(choice in answer for choice in ("personal", "org", "project"))


def test_an_unknown_shell_is_a_usage_error() -> None:
    """``completion tcsh`` exits 2 naming the shells there are."""
    result = CliRunner().invoke(cli, ["completion", "tcsh"])
    assert result.exit_code == 2 and "'bash', 'zsh', 'fish'" in result.stderr


def test_the_help_gives_each_shells_startup_line() -> None:
    """``completion --help`` says which line goes in which startup file."""
    result = CliRunner().invoke(cli, ["completion", "--help"])
    for line in (
        'eval "$(neon-keys completion bash)"',
        'eval "$(neon-keys completion zsh)"',
        "neon-keys completion fish | source",
    ):
        assert line in result.stdout
