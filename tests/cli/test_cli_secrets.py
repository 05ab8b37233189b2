"""No secret reaches stderr or a log record, except on the documented last-resort path."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from cli_support import Neon
from click.testing import Result
from neon_keys import _sinks
from neon_keys.testing import Fault


class Recorder:
    """Runs commands with --verbose and keeps every stderr and every secret seen."""

    def __init__(self, neon: Neon, tmp_path: Path) -> None:
        self.neon = neon
        self.tmp = tmp_path
        self.stderr: list[str] = []
        self.secrets: set[str] = {neon.world.seed.admin_token, neon.world.seed.member_token}

    def run(self, *args: str, **options: object) -> Result:
        result = self.neon("--verbose", *args, **options)  # type: ignore[arg-type]
        self.stderr.append(result.stderr)
        self.secrets.update(word for word in result.stdout.split() if "napi_" in word)
        return result

    def harvest(self, path: Path) -> None:
        """Collect the tokens written to a file."""
        self.secrets.update(
            part for part in path.read_text().replace("=", " ").split() if "napi_" in part
        )


def _secrets_in(text: str, secrets: set[str]) -> list[str]:
    return [s for s in secrets if s.removeprefix("::add-mask::") in text]


def test_no_secret_on_stderr_or_in_logs(
    neon: Neon, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Across every command, sink and failure, stderr and log records never hold a token."""
    caplog.set_level(logging.DEBUG)
    rec = Recorder(neon, tmp_path)
    github_env = tmp_path / "github_env"
    rec.run("create", "ci")
    rec.run("-o", "json", "create", "ci-json")
    rec.run("create", "saved", "--save", str(tmp_path / "k"))
    rec.harvest(tmp_path / "k")
    rec.run("create", "dot", "--dotenv", str(tmp_path / ".env"))
    rec.harvest(tmp_path / ".env")
    rec.run("create", "gh", "--github-env", env={"GITHUB_ENV": str(github_env)})
    rec.harvest(github_env)
    rec.run("create", "proj", "--org", neon.org, "--project", neon.project)
    rec.run("list")
    rec.run("-o", "json", "list", "--org", neon.org)
    rec.run("whoami")
    rec.run("orgs")
    old = neon.personal_ids()[1]
    rec.run("rotate", str(old))
    neon.world.faults.inject("getAuthDetails", Fault.status(401))
    rec.run("rotate", str(neon.personal_ids()[1]), "--save", str(tmp_path / "r"))
    rec.harvest(tmp_path / "r")
    neon.world.faults.inject("revokeApiKey", Fault.status(500))
    rec.run("rotate", str(neon.personal_ids()[1]))
    rec.run("audit", "--revoke", "--yes")
    rec.run("revoke", "1", "--yes", "--missing-ok")
    bad = "napi_" + "q" * 60
    rec.secrets.add(bad)
    rec.run("whoami", key=bad)
    rec.run("whoami", "--api-key", bad)
    rec.run("--api-host", "http://example.com/api/v2", "whoami")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/api/v2"
    rec.run("list", env={"NEON_API_HOST": dead})
    shared = tmp_path / "shared.env"
    shared.write_text("A=1\n")
    shared.chmod(0o644)
    rec.run("create", "shared", "--dotenv", str(shared))
    rec.harvest(shared)

    assert len(rec.secrets) >= 13
    for stderr in rec.stderr:
        assert _secrets_in(stderr, rec.secrets) == []
    for record in caplog.records:
        assert _secrets_in(record.getMessage(), rec.secrets) == []
        assert _secrets_in(str(record.__dict__), rec.secrets) == []


def test_last_resort_is_the_only_way_to_stderr(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When delivery fails the secret reaches stderr once, after a warning, and no log record."""
    caplog.set_level(logging.DEBUG)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(_sinks, "write_private", fail)
    result = neon("--verbose", "create", "ci", "--save", str(tmp_path / "k"))
    assert result.exit_code == 1
    stderr = result.stderr.splitlines()
    (index,) = [i for i, line in enumerate(stderr) if line.startswith("napi_")]
    assert stderr[index - 2].startswith("Error: could not deliver the secret of new personal key")
    assert "shows a secret only once" in stderr[index - 1]
    token = stderr[index]
    assert result.stderr.count(token) == 1
    assert all(token not in record.getMessage() for record in caplog.records)
