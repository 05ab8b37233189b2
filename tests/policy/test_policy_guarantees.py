"""The guarantees of ``apply`` over random worlds and policies: idempotent, crash-safe.

A hypothesis state machine builds a world (two organizations with projects, personal,
organization and project-scoped keys of every age, used or not, leases live and expired,
older generations of declared keys) and a policy (declared keys of every kind, with and
without rotate_every, grace, quiet and ttl; undeclared and expired leases reported or
revoked). Then, in any order: ``apply`` killed right after any request, ``apply`` to the
end, time passing. A reference world, built the same, gets the same steps without kills.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from neon_keys import policy
from neon_keys._lease_names import LeaseName
from neon_keys.policy import Policy
from neon_keys.testing import World
from policy_support import (
    ORGS,
    PROJECTS,
    Killed,
    KillingTransport,
    build_world,
    client_for,
    policy_text,
)

NAMES = ("ci", "deploy", "preview")

key_events = st.lists(
    st.tuples(
        st.integers(0, 199),  # created on day
        st.sampled_from(["personal", "org", "project"]),
        st.sampled_from([*NAMES, "stray"]),
        st.sampled_from(ORGS),
        st.one_of(st.none(), st.integers(0, 199)),  # last used on day
        st.one_of(st.none(), st.none(), st.sampled_from([8, 24 * 400])),  # lease ttl hours
    ),
    max_size=8,
)


@st.composite
def declarations(
    draw: st.DrawFn,
) -> list[tuple[str, str, str | None, str | None, str | None, str | None]]:
    found = []
    seen = set()
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(NAMES))
        kind = draw(st.sampled_from(["personal", "org", "project"]))
        org = draw(st.sampled_from(ORGS))
        scope = {
            "personal": "personal",
            "org": f"org:{org}",
            "project": f"project:{org}/{PROJECTS[org]}",
        }[kind]
        if (name, scope) in seen:
            continue
        seen.add((name, scope))
        lease = draw(st.booleans())
        ttl = "8h" if lease else None
        rotate_every = draw(st.sampled_from([None, "6h"] if lease else [None, "30d"]))
        grace = draw(st.sampled_from([None, "0s", "1d"]))
        quiet = draw(st.sampled_from([None, "2h"])) if grace else None
        found.append((name, scope, rotate_every, grace, quiet, ttl))
    return found


def group_of_info(world: World, key_id: int) -> tuple[str, str, str | None, str, bool]:
    info = world.key(key_id)
    lease = LeaseName.parse(info.name)
    name = lease.base_name if lease else info.name
    return (info.kind, info.owner_id, info.project_id, name, lease is not None)


def group_of_declaration(
    world: World, wanted: Policy, index: int
) -> tuple[str, str, str | None, str, bool]:
    declaration = wanted.keys[index]
    target = declaration.target
    owner = target.org_id or world.seed.admin_id
    return (target.kind.value, owner, target.project_id, declaration.name, declaration.is_lease)


class Side:
    """One world, its client, and what its sinks hold."""

    def __init__(self, events: list, text: str, folder: Path) -> None:
        self.world, self.clock = build_world(events)
        self.folder = folder
        (folder / "neon-keys.toml").write_text(text)
        self.policy = policy.load(folder / "neon-keys.toml")
        self.violations: list[str] = []
        self.transport = KillingTransport(self.world, self.before_revoke)
        self.client = client_for(self.world, self.transport)
        self.original = max(k.id for k in self.all_keys())

    def all_keys(self) -> list:
        world = self.world
        keys = world.personal_keys(world.seed.admin_id, include_revoked=True)
        for org in ORGS:
            keys += world.org_keys(org, include_revoked=True)
        return keys

    def before_revoke(self, key_id: int) -> None:
        """A declared key's generation is revoked only once a newer one is in service, and a
        replacement this policy made is first held, verified, by the entry's sink."""
        group = group_of_info(self.world, key_id)
        live = [k for k in self.all_keys() if not k.revoked and k.id != key_id]
        newer = [k for k in live if group_of_info(self.world, k.id) == group and k.id > key_id]
        for index in range(len(self.policy.keys)):
            if group_of_declaration(self.world, self.policy, index) != group:
                continue
            if not any(k.last_used_at is not None for k in newer):
                self.violations.append(f"key {key_id} revoked with no newer key in service")
                continue
            if not any(k.id > self.original for k in newer):
                continue  # replaced by a key made before the policy, already in service
            sink = self.folder / f"key{index}.token"
            token = sink.read_text().strip() if sink.exists() else ""
            holder = self.world.key_for_token(token) if token else None
            if (
                holder is None
                or holder.revoked
                or holder.id <= key_id
                or holder.last_used_at is None
                or group_of_info(self.world, holder.id) != group
            ):
                self.violations.append(
                    f"key {key_id} revoked before its replacement was delivered and verified"
                )

    def apply(self, kill_after: int | None = None) -> bool:
        """Plan and apply; True if it ran to the end (False: killed)."""
        self.transport.count = 0
        self.transport.kill_after = kill_after
        try:
            shown = policy.plan(self.client, self.policy)
            done = policy.apply(self.client, shown)
        except Killed:
            return False
        self.transport.kill_after = None
        assert done.ok, [(o.action.describe(), o.status, o.message) for o in done.outcomes]
        return True

    def summary(self) -> dict:
        """Which original keys are live, and how many live keys each declared group has."""
        live = [k for k in self.all_keys() if not k.revoked]
        originals = sorted(k.id for k in live if k.id <= self.original)
        groups = {}
        for index in range(len(self.policy.keys)):
            group = group_of_declaration(self.world, self.policy, index)
            groups[index] = sum(1 for k in live if group_of_info(self.world, k.id) == group)
        return {"originals": originals, "groups": groups}

    def secrets_held(self) -> list[str]:
        """Each declared key's sink holds the token of its newest live generation, in service."""
        problems = []
        live = [k for k in self.all_keys() if not k.revoked]
        for index in range(len(self.policy.keys)):
            group = group_of_declaration(self.world, self.policy, index)
            members = sorted(
                (k for k in live if group_of_info(self.world, k.id) == group), key=lambda k: k.id
            )
            sink = self.folder / f"key{index}.token"
            holder = self.world.key_for_token(sink.read_text().strip()) if sink.exists() else None
            if not members:
                problems.append(f"keys[{index}]: no live key")
            elif members[-1].id <= self.original:
                continue  # a key made before the policy, adopted: its secret is not ours to hold
            elif holder is None or holder.id != members[-1].id or holder.last_used_at is None:
                problems.append(f"keys[{index}]: its sink does not hold its current key")
        return problems


class ApplyMachine(RuleBasedStateMachine):
    """``apply`` killed anywhere, then run again, ends where an unbroken run ends."""

    def __init__(self) -> None:
        super().__init__()
        self.base = Path(tempfile.mkdtemp(prefix="policy-machine-", dir=Path.cwd()))

    @initialize(
        events=key_events,
        wanted=declarations(),
        undeclared=st.sampled_from(["report", "revoke"]),
        expired=st.sampled_from(["report", "revoke"]),
    )
    def build(self, events: list, wanted: list, undeclared: str, expired: str) -> None:
        """Two identical worlds, each with the same policy file and sinks of its own."""
        sides = []
        for name in ("tested", "reference"):
            folder = self.base / name
            folder.mkdir()
            sides.append(Side(events, policy_text(wanted, undeclared, expired, folder), folder))
        self.tested, self.reference = sides
        self.killed = False

    @rule(kills=st.lists(st.integers(1, 30), min_size=1, max_size=2))
    def apply_killed(self, kills: list[int]) -> None:
        """apply dies right after its n-th request (or ends first), once or twice in a row,
        then runs to the end; the reference world runs once, unbroken, at the same moment."""
        for kill_after in kills:
            if not self.tested.apply(kill_after):
                self.killed = True
        self.apply_both()

    @rule()
    def apply_both(self) -> None:
        """A full apply on both sides: after it, plan shows no change, and both agree."""
        assert self.tested.apply()
        assert self.reference.apply()
        for side in (self.tested, self.reference):
            again = policy.plan(side.client, side.policy)
            assert not again.changes, [a.describe() + ": " + a.reason for a in again.actions]
            assert side.secrets_held() == []
        tested, reference = self.tested.summary(), self.reference.summary()
        assert tested["originals"] == reference["originals"]
        if not self.killed:
            assert tested == reference

    @rule(hours=st.sampled_from([1, 7, 30, 24 * 31]))
    def time_passes(self, hours: int) -> None:
        """Neon's clock moves on for both worlds alike."""
        for side in (self.tested, self.reference):
            side.clock.advance(hours * 3600)

    @rule()
    def graces_end(self) -> None:
        """Past every grace period, a full apply leaves both worlds with the same keys."""
        for side in (self.tested, self.reference):
            side.clock.advance(2 * 86400)
        self.apply_both()
        assert self.tested.summary() == self.reference.summary()

    @invariant()
    def nothing_revoked_early(self) -> None:
        """No declared key was revoked before a replacement in service (delivered, verified)."""
        if hasattr(self, "tested"):
            assert self.tested.violations == [] and self.reference.violations == []

    def teardown(self) -> None:
        for side in (getattr(self, "tested", None), getattr(self, "reference", None)):
            if side is not None:
                side.client.close()
                side.transport.close()
        shutil.rmtree(self.base, ignore_errors=True)


TestApplyMachine = ApplyMachine.TestCase
TestApplyMachine.settings = settings(
    max_examples=int(os.environ.get("POLICY_EXAMPLES", "20")),
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
