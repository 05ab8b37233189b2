"""``--deliver-cmd``: a secret store's command gets the secret on stdin, and only there.

The secret-store recipes of docs/rotation.md run here against stand-ins: executables of the
same names (``gh``, ``vault``, ``aws``, ``kubectl``, ``op``, ``doppler``) on a ``PATH`` under
``tmp_path``, which record their arguments, environment and stdin.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_support import Neon, lines
from neon_keys import CommandSink, Secret, SinkError
from neon_keys import _command_sink as command_sink

_RECORDER = """#!{python}
import json, os, sys
data = sys.stdin.buffer.read() if {reads} else b""
with open(os.path.join({folder!r}, "calls.jsonl"), "a") as log:
    record = {{"argv": sys.argv, "stdin": data.decode(), "env": dict(os.environ)}}
    log.write(json.dumps(record) + "\\n")
{body}
"""


def _stand_in(folder: Path, name: str, *, body: str = "", reads: bool = True) -> None:
    """An executable ``name`` in ``folder`` that records each call to ``calls.jsonl``."""
    path = folder / name
    path.write_text(
        _RECORDER.format(python=sys.executable, folder=str(folder.parent), body=body, reads=reads)
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _calls(tmp_path: Path) -> list[dict[str, object]]:
    log = tmp_path / "calls.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A folder of stand-ins, first on PATH (the system's tools after it, for sh and jq)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def _env(bin_dir: Path) -> dict[str, str | None]:
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def _only_on_stdin(calls: list[dict[str, object]], token: str) -> None:
    """The token reached each command on stdin only: never in an argument or the environment."""
    for call in calls:
        assert token not in json.dumps(call["argv"])
        assert token not in json.dumps(call["env"])
        assert "NEON_API_KEY" not in call["env"]  # type: ignore[operator]


# -- recipes ---------------------------------------------------------------------------------

RECIPES = {
    "github": (["gh"], "gh secret set NEON_API_KEY --repo acme/app"),
    "vault": (["vault"], "vault kv put secret/ci/neon token=-"),
    "aws": (
        ["aws"],
        "aws secretsmanager put-secret-value --secret-id ci/neon --secret-string file:///dev/stdin",
    ),
    "doppler": (["doppler"], "doppler secrets set NEON_API_KEY --project app --config prd"),
}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_each_store_recipe_gets_the_secret_on_stdin(
    neon: Neon, tmp_path: Path, bin_dir: Path, recipe: str
) -> None:
    """The recipe's command runs once, with the documented arguments and the token on stdin."""
    programs, command = RECIPES[recipe]
    for program in programs:
        _stand_in(bin_dir, program)
    result = neon("create", "ci", "--deliver-cmd", command, env=_env(bin_dir))
    assert result.exit_code == 0, result.stderr
    (call,) = _calls(tmp_path)
    assert call["argv"][1:] == command.split()[1:]  # type: ignore[index]
    (key,) = [k for k in neon.world.personal_keys(neon.world.seed.admin_id) if k.name == "ci"]
    token = str(call["stdin"])
    assert neon.world.key_for_token(token).id == key.id  # type: ignore[union-attr]
    _only_on_stdin([call], token)
    assert token not in result.stdout + result.stderr
    assert f"passed to `{command}`" in result.stderr + result.stdout


def test_kubernetes_recipe_through_sh(neon: Neon, tmp_path: Path, bin_dir: Path) -> None:
    """kubectl's two commands joined by a pipe, through an explicit sh -c: the first reads
    the token from /dev/stdin, the second gets the manifest; the token is in no argument."""
    # The first kubectl prints a manifest holding what it read from the file it was given.
    _stand_in(
        bin_dir,
        "kubectl",
        reads=False,
        body=(
            "files = [a.split('=', 2)[2] for a in sys.argv if a.startswith('--from-file=')]\n"
            "if files:\n"
            "    sys.stdout.write('data:\\n  token: ' + open(files[0]).read() + '\\n')\n"
            "else:\n"
            "    with open(os.path.join("
            + repr(str(tmp_path))
            + ", 'applied.yaml'), 'w') as out: out.write(sys.stdin.read())\n"
        ),
    )
    command = (
        "sh -c 'kubectl create secret generic neon-api-key --from-file=token=/dev/stdin "
        "--dry-run=client -o yaml | kubectl apply -f -'"
    )
    result = neon("create", "ci", "--deliver-cmd", command, env=_env(bin_dir))
    assert result.exit_code == 0, result.stderr
    calls = _calls(tmp_path)
    # The two ends of the pipe run at once: either may record first.
    assert sorted(c["argv"][1:3] for c in calls) == [["apply", "-f"], ["create", "secret"]]  # type: ignore[index]
    applied = (tmp_path / "applied.yaml").read_text()
    token = applied.split("token: ", 1)[1].strip()
    assert neon.world.key_for_token(token) is not None
    _only_on_stdin(calls, token)


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, which the recipe uses")
def test_1password_recipe_edits_the_item_from_stdin(
    neon: Neon, tmp_path: Path, bin_dir: Path
) -> None:
    """op item get, jq and op item edit: the item goes back with the new credential; the
    token travels through a file descriptor and stdin, never through an argument."""
    item = {"id": "abc", "title": "Neon CI", "fields": [{"id": "credential", "value": "old"}]}
    _stand_in(
        bin_dir,
        "op",
        reads=False,
        body=(
            "if sys.argv[1:3] == ['item', 'get']:\n"
            f"    print({json.dumps(item)!r})\n"
            "else:\n"
            "    with open(os.path.join("
            + repr(str(tmp_path))
            + ", 'edited.json'), 'w') as out: out.write(sys.stdin.read())\n"
        ),
    )
    script = tmp_path / "deliver-1password.sh"
    recipe_text = (Path(__file__).resolve().parents[2] / "docs" / "rotation.md").read_text()
    body = recipe_text.split('```sh title="deliver-1password.sh"\n', 1)[1].split("```", 1)[0]
    script.write_text(body)
    script.chmod(0o700)
    result = neon("create", "ci", "--deliver-cmd", str(script), env=_env(bin_dir))
    assert result.exit_code == 0, result.stderr
    edited = json.loads((tmp_path / "edited.json").read_text())
    token = edited["fields"][0]["value"]
    assert neon.world.key_for_token(token) is not None
    assert edited["title"] == "Neon CI"
    calls = _calls(tmp_path)
    assert sorted(c["argv"][1:3] for c in calls) == [["item", "edit"], ["item", "get"]]  # type: ignore[index]
    _only_on_stdin(calls, token)


# -- the sink's own behaviour ----------------------------------------------------------------


def test_a_failing_command_gets_the_last_resort_and_its_output_is_shown_redacted(
    neon: Neon, tmp_path: Path, bin_dir: Path
) -> None:
    """A command that echoes the secret and exits 1: its output is shown with the secret
    masked, the secret is printed once on stderr as the last resort, exit 1."""
    _stand_in(
        bin_dir,
        "gh",
        body="sys.stdout.write('got ' + data.decode() + '\\n'); sys.stderr.write('HTTP 403\\n')\n"
        "sys.exit(1)",
    )
    result = neon("create", "ci", "--deliver-cmd", "gh secret set X", env=_env(bin_dir))
    assert result.exit_code == 1
    (call,) = _calls(tmp_path)
    token = str(call["stdin"])
    assert result.stderr.count(token) == 1
    assert "gh: got [redacted]" in result.stderr and "gh: HTTP 403" in result.stderr
    assert "exited with status 1: HTTP 403" in result.stderr


def test_several_sinks_in_one_create(neon: Neon, tmp_path: Path, bin_dir: Path) -> None:
    """--save, --dotenv and two commands: each holds the same token; the report names all."""
    _stand_in(bin_dir, "gh")
    _stand_in(bin_dir, "vault")
    result = neon(
        "create",
        "ci",
        "--save",
        str(tmp_path / "ci.token"),
        "--dotenv",
        str(tmp_path / ".env"),
        "--deliver-cmd",
        "gh secret set NEON_API_KEY",
        "--deliver-cmd",
        "vault kv put secret/neon token=-",
        env=_env(bin_dir),
    )
    assert result.exit_code == 0, result.stderr
    token = (tmp_path / "ci.token").read_text().strip()
    assert (tmp_path / ".env").read_text() == f"NEON_API_KEY={token}\n"
    assert [c["stdin"] for c in _calls(tmp_path)] == [token, token]
    assert "saved to" in result.stdout and "passed to `vault kv put" in result.stdout


def test_a_command_not_found_is_refused_before_the_key_exists(neon: Neon, bin_dir: Path) -> None:
    """A --deliver-cmd whose program is not on PATH exits 2 and creates nothing."""
    result = neon(
        "create",
        "ci",
        "--deliver-cmd",
        "gh secret set X",
        env=_env(bin_dir) | {"PATH": str(bin_dir)},
    )
    assert result.exit_code == 2
    assert "'gh': not found on PATH; no key was created" in result.stderr
    assert neon.world.log.count("createApiKey") == 0


def test_a_command_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    """A command that does not finish in time is stopped, with its children, and fails."""
    marker = tmp_path / "still-running"
    sink = CommandSink(["sh", "-c", f"cat >/dev/null; sleep 30; touch {marker}"], timeout=0.5)
    sink.check()
    with pytest.raises(SinkError, match=r"did not finish within 0\.5 s"):
        sink.deliver(Secret("napi_" + "a" * 40))
    assert not marker.exists()


def test_the_command_gets_the_exact_token_and_no_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stdin holds the token and nothing else (no newline); NEON_API_KEY is not passed on."""
    monkeypatch.setenv("NEON_API_KEY", "napi_caller_key_never_passed_on_0000")
    out = tmp_path / "got"
    sink = CommandSink(["sh", "-c", f"cat > {out}; env > {out}.env"])
    token = "napi_" + "b" * 40
    sink.deliver(Secret(token))
    assert out.read_bytes() == token.encode()
    assert "NEON_API_KEY" not in (tmp_path / "got.env").read_text()


def test_a_command_line_that_cannot_be_split_is_refused() -> None:
    """An unbalanced quote or an empty command is refused when the sink is made."""
    for bad in ("gh 'secret", "", "   "):
        with pytest.raises(SinkError):
            CommandSink(bad)


def test_output_beyond_the_limit_keeps_the_end(tmp_path: Path) -> None:
    """A chatty command's output is kept in bounded memory: its last bytes, with a count."""
    shown: list[str] = []
    sink = CommandSink(
        ["sh", "-c", "cat >/dev/null; head -c 300000 /dev/zero | tr '\\0' x; echo; echo END"],
        show=lambda _stream, text: shown.append(text),
    )
    sink.deliver(Secret("napi_" + "c" * 40))
    (text,) = shown
    assert text.rstrip().endswith("END") and "earlier bytes not kept" in text
    assert len(text) < 70_000
    assert lines(text)[-1] == "END"


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie nobody reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _helper_pid(sink: CommandSink) -> int:
    (line,) = [ln for ln in sink.output["stdout"].splitlines() if ln.startswith("helper ")]
    return int(line.split()[1])


def test_a_helper_left_holding_the_output_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that exits 0 but leaves a process of its group holding its output (``sh -c
    'helper & ...'``) is delivered, its output kept, and the leftover stopped."""
    monkeypatch.setattr(command_sink, "_DRAIN_WAIT", 0.3)
    sink = CommandSink(["sh", "-c", 'cat >/dev/null; sleep 60 & echo "helper $!"'])
    sink.deliver(Secret("napi_" + "d" * 40))
    pid = _helper_pid(sink)
    try:
        assert sink.returncode == 0 and not _running(pid)
    finally:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "start",
    ["setsid sleep 60 </dev/null >/dev/null 2>&1 &", "sleep 60 </dev/null >/dev/null 2>&1 &"],
    ids=["own-session", "output-let-go"],
)
def test_a_daemon_that_let_go_of_the_output_runs_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    """A helper the command started that let go of its output (a daemonising tool: its own
    session, or stdio on /dev/null) is never stopped."""
    monkeypatch.setattr(command_sink, "_DRAIN_WAIT", 0.3)
    sink = CommandSink(["sh", "-c", f'cat >/dev/null; {start} echo "helper $!"'])
    sink.deliver(Secret("napi_" + "e" * 40))
    pid = _helper_pid(sink)
    try:
        assert sink.returncode == 0 and _running(pid)
    finally:
        os.kill(pid, signal.SIGKILL)


class _StuckThread:
    """A thread stand-in that never ends; each join moves the fake clock by its timeout."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def join(self, timeout: float) -> None:
        self.waits.append(timeout)
        self.clock[0] += timeout

    def is_alive(self) -> bool:
        return True


def test_streams_held_open_are_waited_for_against_one_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """stdin, stdout and stderr all held open cost one drain wait in all, not one each."""
    clock = [100.0]
    monkeypatch.setattr(command_sink, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    threads = [_StuckThread(clock) for _ in range(3)]
    assert not command_sink._join_by(clock[0] + 2.0, threads)  # type: ignore[arg-type]
    assert clock[0] == 102.0
    assert [t.waits for t in threads] == [[2.0], [0.0], [0.0]]


# -- --deliver-timeout and what the report says --------------------------------------------


@pytest.mark.parametrize("seconds", ["0", "-1", "86400.5"])
def test_a_deliver_timeout_out_of_range_is_refused_before_any_request(
    neon: Neon, bin_dir: Path, seconds: str
) -> None:
    """--deliver-timeout must be over 0 and at most a day (86,400 s): exit 2, nothing sent."""
    _stand_in(bin_dir, "gh")
    result = neon(
        "create",
        "ci",
        "--deliver-cmd",
        "gh secret set X",
        "--deliver-timeout",
        seconds,
        env=_env(bin_dir),
    )
    assert result.exit_code == 2, result.stderr
    assert "--deliver-timeout" in result.stderr
    assert len(neon.world.log) == 0


@pytest.mark.parametrize("seconds", ["0.5", "86400"])
def test_a_deliver_timeout_within_range_delivers(
    neon: Neon, tmp_path: Path, bin_dir: Path, seconds: str
) -> None:
    """Half a second and a whole day are both accepted with --deliver-cmd; the command runs."""
    _stand_in(bin_dir, "gh")
    result = neon(
        "create",
        "ci",
        "--deliver-cmd",
        "gh secret set X",
        "--deliver-timeout",
        seconds,
        env=_env(bin_dir),
    )
    assert result.exit_code == 0, result.stderr
    (call,) = _calls(tmp_path)
    assert neon.world.key_for_token(str(call["stdin"])) is not None


def test_a_deliver_timeout_without_a_command_is_refused(neon: Neon) -> None:
    """--deliver-timeout alone has nothing to time: a usage error, nothing sent."""
    result = neon("create", "ci", "--deliver-timeout", "5")
    assert result.exit_code == 2
    assert "--deliver-timeout only applies to --deliver-cmd" in result.stderr
    assert len(neon.world.log) == 0


def test_the_deliver_timeout_stops_a_command_that_runs_longer(neon: Neon) -> None:
    """A command still running after --deliver-timeout seconds is stopped; the delivery
    fails and the secret is shown once, as the last resort."""
    result = neon(
        "create",
        "ci",
        "--deliver-cmd",
        "sh -c 'cat >/dev/null; exec sleep 30'",
        "--deliver-timeout",
        "0.2",
    )
    assert result.exit_code == 1
    assert "did not finish within 0.2 s and was stopped" in result.stderr
    (token,) = [line for line in lines(result.stderr) if line.startswith("napi_")]
    assert neon.world.key_for_token(token) is not None


def test_a_command_named_by_its_path_is_shown_by_its_program_name(
    neon: Neon, tmp_path: Path, bin_dir: Path
) -> None:
    """The output of ``/path/to/gh ...`` is shown on lines prefixed ``gh: ``, not the path."""
    _stand_in(bin_dir, "gh", body="sys.stderr.write('HTTP 403\\n'); sys.exit(1)")
    result = neon("create", "ci", "--deliver-cmd", f"{bin_dir / 'gh'} secret set X")
    assert result.exit_code == 1
    assert "gh: HTTP 403" in lines(result.stderr)


def test_a_failed_command_beside_a_saved_file_says_where_the_secret_is(
    neon: Neon, tmp_path: Path, bin_dir: Path
) -> None:
    """--save works and --deliver-cmd fails: stderr names the command with its failure, then
    the file that holds the secret, and never shows the secret (the file is its copy)."""
    _stand_in(bin_dir, "gh", body="sys.exit(3)")
    saved = tmp_path / "ci.token"
    result = neon(
        "create",
        "ci",
        "--save",
        str(saved),
        "--deliver-cmd",
        "gh secret set X",
        env=_env(bin_dir),
    )
    assert result.exit_code == 1
    token = saved.read_text().strip()
    new = neon.world.key_for_token(token)
    assert new is not None
    assert lines(result.stderr)[:2] == [
        f'Error: could not deliver the secret of new personal key {new.id} "ci" to '
        "gh secret set X: `gh secret set X` exited with status 3",
        f"It was delivered to: {saved} (not shown here: keep that copy, or revoke the key "
        f"with: neon-keys revoke {new.id})",
    ]
    assert token not in result.stdout + result.stderr
    assert lines(result.stderr)[-1].endswith(
        f"could not be delivered to gh secret set X "
        f"(`gh secret set X` exited with status 3); it is in {saved}"
    )


def test_a_rotation_whose_command_fails_beside_a_saved_file_never_shows_the_secret(
    neon: Neon, tmp_path: Path, bin_dir: Path
) -> None:
    """rotate --save works and --deliver-cmd fails: the old key stays, stderr says the new
    secret is in the file and how to finish, and the secret is shown nowhere."""
    _stand_in(bin_dir, "gh", body="sys.exit(3)")
    old = neon.world.key_for_token(neon.world.issue_personal_key(neon.world.seed.admin_id, "ci"))
    assert old is not None
    saved = tmp_path / "ci.token"
    result = neon(
        "rotate",
        str(old.id),
        "--save",
        str(saved),
        "--deliver-cmd",
        "gh secret set X",
        env=_env(bin_dir),
    )
    assert result.exit_code == 1
    token = saved.read_text().strip()
    new = neon.world.key_for_token(token)
    assert new is not None and new.id != old.id
    assert token not in result.stdout + result.stderr
    assert f"It was delivered to: {saved} (not shown here" in result.stderr
    last = lines(result.stderr)[-1]
    assert f"(`gh secret set X` exited with status 3); it is in {saved}; old key" in last
    assert "shown above" not in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0
