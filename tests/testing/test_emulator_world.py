"""The World: seeding, configuration from Python, tokens, inspection and the fake clock."""

from __future__ import annotations

import datetime
import math
import re
import uuid
from collections.abc import Iterator

import pytest
from neon_keys.testing import FakeClock, OffsetClock, World

TOKEN = re.compile(r"napi_[a-z0-9]{60}")


def test_seeded_world_has_an_org_a_project_an_admin_and_a_member(world: World) -> None:
    """World.seeded() creates the documented organization, project and two users."""
    seed = world.seed
    assert seed.org_id == "org-cool-breeze-12345678"
    assert seed.project_id == "summer-haze-17190561"
    assert seed.admin_id.startswith("user_")
    assert str(uuid.UUID(seed.member_id)) == seed.member_id
    assert [key.name for key in world.personal_keys(seed.admin_id)] == ["seed-admin"]
    assert [key.name for key in world.personal_keys(seed.member_id)] == ["seed-member"]
    assert world.key(seed.admin_key_id).owner_id == seed.admin_id
    assert world.org_keys(seed.org_id) == []


def test_seed_repr_hides_the_tokens(world: World) -> None:
    """Printing the seed shows ids but not the working tokens."""
    text = repr(world.seed)
    assert world.seed.admin_id in text
    assert world.seed.admin_token not in text
    assert world.seed.member_token not in text


def test_unseeded_world_has_no_seed() -> None:
    """Asking a plain World for its seed says how to get one."""
    with pytest.raises(LookupError, match="seeded"):
        _ = World().seed


def test_tokens_look_like_neons_and_differ(world: World) -> None:
    """Issued tokens are napi_ plus 60 lowercase letters and digits, each one new."""
    user = world.add_user()
    tokens = {world.issue_personal_key(user, f"k{i}") for i in range(50)}
    assert len(tokens) == 50
    assert all(TOKEN.fullmatch(token) for token in tokens)


def _strings(value: object, seen: dict[int, object] | None = None) -> Iterator[str]:
    """Every string reachable from ``value`` through containers and object attributes."""
    seen = {} if seen is None else seen
    if id(value) in seen:
        return
    seen[id(value)] = value  # kept alive, so that no later object reuses its id
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.items():
            yield from _strings(item, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item, seen)
    else:
        names = list(getattr(value, "__dict__", {}))
        names += [n for cls in type(value).__mro__ for n in getattr(cls, "__slots__", ())]
        for name in names:
            if hasattr(value, name):
                yield from _strings(getattr(value, name), seen)


def test_tokens_are_kept_only_as_hashes(world: World) -> None:
    """No issued token appears anywhere in the world's records; a lookup by token still works."""
    token = world.issue_org_key(world.seed.org_id, "deploy")
    admin_token = world.seed.admin_token
    world.store.seed = None  # the seed keeps the seeded tokens on purpose, for the test author
    state = list(_strings(world))
    assert "deploy" in state  # the walk does reach the records
    assert not any(token in text or admin_token in text for text in state)
    info = world.key_for_token(token)
    assert info is not None and info.kind == "org" and info.name == "deploy"
    assert world.key_for_token("napi_" + "0" * 60) is None


def test_configuring_users_orgs_projects_and_keys(clock: FakeClock) -> None:
    """A world built from Python holds what it was given, with generated ids when omitted."""
    world = World(clock=clock)
    alice = world.add_user(name="Alice")
    bob = world.add_user("8d3b4c6e-0c1a-4f4e-9a57-2b1f0e6c9d21")
    org = world.add_org(admins=[alice], members=[bob])
    project = world.add_project(org)
    assert alice.startswith("user_") and re.fullmatch(r"[a-z0-9-]{1,60}", org)
    assert re.fullmatch(r"[a-z0-9-]{1,60}", project)
    world.issue_org_key(org, "scoped", project_id=project)
    [key] = world.org_keys(org)
    assert (key.kind, key.project_id, key.created_by) == ("project", project, alice)
    assert key.created_at == clock.now()


def test_org_keys_record_the_given_creator(world: World) -> None:
    """issue_org_key(created_by=...) records that user; the default is the first admin."""
    world.issue_org_key(world.seed.org_id, "by-member", created_by=world.seed.member_id)
    world.issue_org_key(world.seed.org_id, "by-default")
    creators = {key.name: key.created_by for key in world.org_keys(world.seed.org_id)}
    assert creators == {"by-member": world.seed.member_id, "by-default": world.seed.admin_id}


@pytest.mark.parametrize("bad", ["Org-Upper", "org_underscore", "", "o" * 61])
def test_ids_the_api_could_not_address_are_refused(bad: str) -> None:
    """Organization and project ids must match the spec's ^[a-z0-9-]{1,60}$."""
    world = World()
    with pytest.raises(ValueError, match="must match"):
        world.add_org(bad)
    org = world.add_org()
    with pytest.raises(ValueError, match="must match"):
        world.add_project(org, bad)


def test_duplicates_and_unknown_references_are_refused(world: World) -> None:
    """Adding an existing user or org, or naming unknown ones, raises at once."""
    with pytest.raises(ValueError, match="already exists"):
        world.add_user(world.seed.admin_id)
    with pytest.raises(ValueError, match="already exists"):
        world.add_org(world.seed.org_id)
    with pytest.raises(ValueError, match="already exists"):
        world.add_project(world.add_org(), world.seed.project_id)
    with pytest.raises(KeyError):
        world.issue_personal_key("user_nobody", "x")
    with pytest.raises(KeyError):
        world.issue_org_key(world.seed.org_id, "x", project_id="not-a-project")
    with pytest.raises(KeyError):
        world.key(1)


def test_an_org_without_admins_needs_an_explicit_creator() -> None:
    """issue_org_key cannot guess a creator when the organization has no admin."""
    world = World()
    org = world.add_org()
    with pytest.raises(ValueError, match="created_by"):
        world.issue_org_key(org, "x")


def test_revoking_from_python_hides_the_key_from_listings(world: World) -> None:
    """world.revoke marks the key revoked; it stays inspectable with include_revoked."""
    world.revoke(world.seed.admin_key_id)
    assert world.personal_keys(world.seed.admin_id) == []
    [revoked] = world.personal_keys(world.seed.admin_id, include_revoked=True)
    assert revoked.revoked and revoked.id == world.seed.admin_key_id


def test_fake_clock_moves_only_when_advanced() -> None:
    """FakeClock.now() and monotonic() change by exactly what advance() adds."""
    start = datetime.datetime(2024, 2, 29, 12, 0, tzinfo=datetime.UTC)
    clock = FakeClock(start)
    assert clock.now() == start and clock.monotonic() == 0.0
    clock.advance(90.5)
    assert clock.now() == start + datetime.timedelta(seconds=90.5)
    assert clock.monotonic() == 90.5
    with pytest.raises(ValueError, match="back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone"):
        FakeClock(datetime.datetime(2024, 1, 1))


def test_system_clock_is_the_default() -> None:
    """A World made without a clock reports real, timezone-aware time."""
    now = World().clock.now()
    assert now.tzinfo is not None
    assert abs((now - datetime.datetime.now(datetime.UTC)).total_seconds()) < 60


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.5])
def test_clocks_refuse_steps_that_are_not_forward_and_finite(bad: float) -> None:
    """FakeClock and OffsetClock refuse to go back, by NaN or by infinity, and stay put."""
    for clock in (FakeClock(), OffsetClock()):
        before = clock.now()
        with pytest.raises(ValueError, match=r"back|finite"):
            clock.advance(bad)
        assert clock.now() - before < datetime.timedelta(seconds=60)


def test_a_clock_cannot_be_moved_past_what_a_datetime_holds() -> None:
    """A step beyond the year 9999 is a ValueError, not an OverflowError on the next read."""
    clock = FakeClock()
    with pytest.raises(ValueError, match="cannot go"):
        clock.advance(1e12)
    assert clock.now() == FakeClock().now()


def test_offset_clock_follows_real_time_and_jumps_when_advanced() -> None:
    """OffsetClock shows the real time until advanced, then the real time plus the steps."""
    clock = OffsetClock()
    real = datetime.datetime.now(datetime.UTC)
    assert abs((clock.now() - real).total_seconds()) < 5
    start = clock.monotonic()
    clock.advance(120 * 86_400)
    clock.advance(30)
    assert clock.offset == 120 * 86_400 + 30
    moved = clock.now() - datetime.datetime.now(datetime.UTC)
    assert abs(moved.total_seconds() - (120 * 86_400 + 30)) < 5
    assert clock.monotonic() - start >= 120 * 86_400 + 30


def test_world_advance_clock_moves_timestamps_of_keys_used_later() -> None:
    """world.advance_clock makes time pass for the world; a system clock refuses to move."""
    world = World.seeded(clock=OffsetClock())
    token = world.issue_personal_key(world.seed.admin_id, "old")
    info = world.key_for_token(token)
    assert info is not None
    now = world.advance_clock(120 * 86_400)
    assert (now - info.created_at).days == 120
    with pytest.raises(TypeError, match="cannot be moved"):
        World().advance_clock(1)
