"""A guided tour of the key lifecycle against the emulator: ``python -m neon_keys.testing.demo``.

It starts the emulator on a loopback port (nothing leaves this machine), then uses the
library as a real program would: who am I, create, list, scope a key to a project, rotate,
revoke, and show that a revoked key is refused. Secrets are printed masked, as the library
prints them; none is ever revealed on screen.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from neon_keys import APIKey, AuthenticationError, NeonKeys

from ._server import EmulatorServer
from ._world import World

__all__ = ["main"]


def _when(key: APIKey) -> str:
    if key.last_used_at is None:
        return "never used"
    where = ", ".join(str(address) for address in key.last_used_from) or "?"
    return f"last used {key.last_used_at:%Y-%m-%d %H:%M:%S} UTC from {where}"


def _row(key: APIKey) -> str:
    project = getattr(key, "project_id", None)
    scope = f" (project {project})" if project else ""
    return f"    {key.id:>8}  {key.kind.value:<8}  {key.name:<14} {_when(key)}{scope}"


class _Tour:
    """Prints numbered steps. Strictly private."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.step = 0

    def title(self, text: str) -> None:
        self.step += 1
        print(f"\n{self.step}. {text}", file=self.out)

    def say(self, text: str) -> None:
        print(f"   {text}", file=self.out)

    def keys(self, keys: Sequence[APIKey]) -> None:
        print(f"    {'id':>8}  {'kind':<8}  {'name':<14} usage", file=self.out)
        for key in keys:
            print(_row(key), file=self.out)


def run(out: TextIO) -> None:
    """Walk the lifecycle against a fresh emulator, writing the account to ``out``."""
    tour = _Tour(out)
    world = World.seeded()
    seed = world.seed
    with EmulatorServer(world) as server:
        print(f"Neon emulator serving on {server.base_url} (loopback only).", file=out)
        print(f"Organization {seed.org_id}, project {seed.project_id}.", file=out)
        with NeonKeys(api_key=server.api_key, base_url=server.base_url) as neon:
            tour.title("Who am I? (GET /auth with the admin's personal key)")
            me = neon.whoami()
            tour.say(f"account {me.account_id}, credential {me.auth_method}")

            tour.title("Create a personal key")
            ci = neon.personal_keys.create("ci")
            tour.say(f"created key {ci.id} {ci.name!r}; secret {ci.secret} (shown once by Neon)")

            tour.title("List personal keys (listings never carry secrets)")
            tour.keys(neon.personal_keys.list())

            org = neon.org(seed.org_id)
            tour.title(f"Create an organization key and a project-scoped key in {org.id}")
            deploy = org.keys.create("deploy")
            tour.say(f"created {deploy.kind.value} key {deploy.id} {deploy.name!r}")
            preview = org.keys.create("preview", project_id=seed.project_id)
            tour.say(f"created {preview.kind.value} key {preview.id} {preview.name!r}")

            tour.title("List the organization's keys, with their kinds")
            tour.keys(org.keys.list())

            tour.title(f"Rotate {deploy.name!r}: create a replacement, verify it, revoke the old")
            fresh = org.keys.create("deploy")
            assert fresh.secret is not None
            tour.say(f"replacement key {fresh.id}; secret {fresh.secret}")
            check = neon.with_options(api_key=fresh.secret).whoami()
            tour.say(f"the new secret works: account {check.account_id}, {check.auth_method}")
            old = org.keys.revoke(deploy.id)
            tour.say(f"revoked the old key {old.id} (revoked={old.revoked})")

            tour.title(f"Revoke the personal key {ci.id}, then try to use it")
            assert ci.secret is not None
            neon.personal_keys.revoke(ci.id)
            try:
                neon.with_options(api_key=ci.secret, max_retries=0).whoami()
            except AuthenticationError as err:
                tour.say(f"refused as expected: HTTP {err.status_code}, {err.message!r}")
            else:  # pragma: no cover - the emulator refuses revoked keys
                raise RuntimeError("a revoked key was accepted")

            tour.title("What is left")
            tour.keys([*neon.personal_keys.list(), *org.keys.list()])
    print(f"\nThe emulator saw {len(world.log)} requests; it has stopped.", file=out)


def main() -> int:
    """Run the tour on stdout; the exit status is 0 when every step went as described."""
    run(sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
