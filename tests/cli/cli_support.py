"""Helpers of the CLI tests: running ``neon-keys`` in process against the loopback emulator."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result
from neon_keys import Backoff, NeonKeys
from neon_keys.cli import cli
from neon_keys.cli._session import Session
from neon_keys.testing import EmulatorServer, World

START = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.UTC)
"""When the fake clock starts."""

DAY = 86_400.0
"""Seconds in a day, for ``clock.advance``."""

KEY_FIELDS = [
    "id",
    "name",
    "kind",
    "org_id",
    "project_id",
    "created_at",
    "created_by",
    "last_used_at",
    "last_used_from",
    "revoked",
    "base_name",
    "expires_at",
]
"""The fields of a key in ``--output json``, in their documented order (docs/cli.md)."""


@dataclass
class Neon:
    """Runs ``neon-keys`` against the emulator, as the seeded org admin by default."""

    world: World
    server: EmulatorServer
    local_clock: Callable[[], datetime.datetime] | None = None
    """This machine's clock as the CLI sees it (None: the emulator's, which Neon's follows)."""

    @property
    def org(self) -> str:
        """The seeded organization's id."""
        return self.world.seed.org_id

    @property
    def project(self) -> str:
        """The seeded project's id."""
        return self.world.seed.project_id

    def __call__(
        self,
        *args: str,
        key: str | None = None,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        """Run ``neon-keys ARGS`` with ``NEON_API_KEY``/``NEON_API_HOST`` set for the emulator."""
        session = Session(
            client_options={"backoff": Backoff.immediate()},
            clock=self.local_clock or self.world.clock.now,
        )
        environment: dict[str, str | None] = {
            "NEON_API_KEY": key if key is not None else self.world.seed.admin_token,
            "NEON_API_HOST": self.server.base_url,
            "GITHUB_ENV": None,
        }
        environment.update(env or {})
        return CliRunner().invoke(
            cli, list(args), obj=session, env=environment, input=input, catch_exceptions=False
        )

    def use(self, token: str) -> None:
        """Make one request with ``token`` now, so its key counts as used at this time."""
        with NeonKeys(api_key=token, base_url=self.server.base_url) as client:
            client.whoami()

    def personal_ids(self) -> list[int]:
        """Ids of the admin's live personal keys, oldest first."""
        return [k.id for k in self.world.personal_keys(self.world.seed.admin_id)]

    def org_ids(self) -> list[int]:
        """Ids of the organization's live keys, oldest first."""
        return [k.id for k in self.world.org_keys(self.org)]

    def changes(self) -> int:
        """How many requests so far created or revoked a key."""
        return sum(record.changed for record in self.world.log)


def mode(path: str | os.PathLike[str]) -> int:
    """The permission bits of a file."""
    return os.stat(path).st_mode & 0o777


def lines(text: str) -> list[str]:
    """Non-empty lines of ``text``."""
    return [line for line in text.splitlines() if line.strip()]


def write_config(home: str | os.PathLike[str], text: str) -> Path:
    """Write ``home``/neon-keys/config.toml as a careful user would: only they may write it
    (neon-keys refuses a config file others could change, whatever this process's umask)."""
    folder = Path(home) / "neon-keys"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path
