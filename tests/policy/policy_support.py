"""Random worlds and policies for the policy tests, and a transport that kills after any request."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import httpx
from neon_keys import NeonKeys
from neon_keys._lease_names import LeaseName
from neon_keys.testing import EmulatorTransport, FakeClock, World

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
ORGS = ("org-alpha-1", "org-beta-2")
PROJECTS = {"org-alpha-1": "proj-alpha-1", "org-beta-2": "proj-beta-2"}


class Killed(BaseException):
    """The process running ``apply`` died right after a request reached Neon."""


class KillingTransport(httpx.BaseTransport):
    """The emulator in process; after ``kill_after`` requests it answers none (a kill).

    ``before_revoke`` is called with each key id a request is about to revoke.
    """

    def __init__(self, world: World, before_revoke: Callable[[int], None]) -> None:
        self.inner = EmulatorTransport(world)
        self.kill_after: int | None = None
        self.count = 0
        self.before_revoke = before_revoke

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            self.before_revoke(int(request.url.path.rsplit("/", 1)[1]))
        response = self.inner.handle_request(request)
        self.count += 1
        if self.kill_after is not None and self.count >= self.kill_after:
            self.kill_after = None
            response.read()
            raise Killed(f"killed after request {self.count}")
        return response

    def close(self) -> None:
        self.inner.close()


def client_for(world: World, transport: httpx.BaseTransport) -> NeonKeys:
    """A client acting as the seeded admin, unpaced (the test mode skips waits anyway)."""
    return NeonKeys(
        api_key=world.seed.admin_token,
        base_url="http://127.0.0.1/api/v2",
        http_client=httpx.Client(transport=transport, base_url="http://127.0.0.1/api/v2"),
        rate_limits=None,
    )


def build_world(
    events: list[tuple[float, str, str, str | None, float | None, float | None]],
) -> tuple[World, FakeClock]:
    """A seeded world with two organizations and keys made and used at the given days.

    Each event: (created on day, kind, name, org, used on day or None, lease ttl hours or None).
    """
    clock = FakeClock(START)
    world = World.seeded(clock=clock)
    admin = world.seed.admin_id
    for org in ORGS:
        world.add_org(org, admins=[admin])
        world.add_project(org, PROJECTS[org])
    timeline: list[tuple[float, int, str, object]] = []
    for index, event in enumerate(sorted(events, key=lambda e: e[0])):
        timeline.append((event[0], 0, "create", (index, event)))
        if event[4] is not None:
            timeline.append((max(event[0], event[4]), 1, "use", index))
    timeline.sort(key=lambda item: (item[0], item[1]))
    tokens: dict[int, str] = {}
    for day, _, what, payload in timeline:
        target = START + datetime.timedelta(days=day)
        if target > clock.now():
            clock.advance((target - clock.now()).total_seconds())
        if what == "create":
            index, (_, kind, name, org, _, ttl) = payload  # type: ignore[misc]
            if ttl is not None:
                name = LeaseName.new(name, clock.now() + datetime.timedelta(hours=ttl)).name
            if kind == "personal":
                tokens[index] = world.issue_personal_key(admin, name)
            else:
                project = PROJECTS[org] if kind == "project" else None
                tokens[index] = world.issue_org_key(org, name, project_id=project)
        else:
            record = world.key_for_token(tokens[payload])  # type: ignore[index]
            assert record is not None
            with world.store.transaction():
                stored = world.store.key(record.id)
                assert stored is not None
                world.store.touch(stored, "127.0.0.1")
    end = START + datetime.timedelta(days=200)
    clock.advance((end - clock.now()).total_seconds())
    # The admin's own key is the one calling: used now.
    with world.store.transaction():
        stored = world.store.key(world.seed.admin_key_id)
        assert stored is not None
        world.store.touch(stored, "127.0.0.1")
    return world, clock


def policy_text(
    declarations: list[tuple[str, str, str | None, str | None, str | None, str | None]],
    undeclared: str,
    expired: str,
    folder: Path,
) -> str:
    """A policy file; each declaration (name, scope, rotate_every, grace, quiet, ttl) saves
    its secret to a file of its own."""
    lines = [
        "version = 1",
        "[rules]",
        'max_age = "90d"',
        f'undeclared = "{undeclared}"',
        f'expired_leases = "{expired}"',
        "[scopes]",
        "personal = true",
        f"orgs = {list(ORGS)!r}".replace("'", '"'),
    ]
    for index, (name, scope, rotate_every, grace, quiet, ttl) in enumerate(declarations):
        lines += ["[[keys]]", f'name = "{name}"', f'scope = "{scope}"']
        for field, value in (
            ("rotate_every", rotate_every),
            ("grace", grace),
            ("quiet", quiet),
            ("ttl", ttl),
        ):
            if value is not None:
                lines.append(f'{field} = "{value}"')
        lines.append(f'save = "{folder / f"key{index}.token"}"')
    return "\n".join(lines) + "\n"
