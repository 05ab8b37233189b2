"""The findings rules (``neon_keys._findings``): what ``audit`` and ``check`` both flag, and why.

Pure functions over keys and a time: no client, no emulator.
"""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from neon_keys import LeaseName, PersonalKey, ProjectKey
from neon_keys._findings import FindingCode, RuleSet, judge, retiring

NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
AUDIT = RuleSet(max_unused=90 * DAY, duplicate_names=True)
"""The rules of ``neon-keys audit`` with its default options."""


def _key(
    key_id: int,
    name: str,
    *,
    used_days_ago: float | None = None,
    created_days_ago: float = 200,
    project: str | None = None,
) -> PersonalKey | ProjectKey:
    used = None if used_days_ago is None else NOW - used_days_ago * DAY
    common = {
        "id": key_id,
        "name": name,
        "created_at": NOW - created_days_ago * DAY,
        "created_by": None,
        "last_used_at": used,
        "last_used_from": () if used is None else (ipaddress.ip_address("198.51.100.7"),),
    }
    if project:
        return ProjectKey(org_id="org-a", project_id=project, **common)  # type: ignore[arg-type]
    return PersonalKey(**common)  # type: ignore[arg-type]


def _codes(keys: list[PersonalKey | ProjectKey], rules: RuleSet = AUDIT) -> dict[int, list[str]]:
    return {item.key.id: [f.code.value for f in item.findings] for item in judge(keys, NOW, rules)}


def test_audit_rules() -> None:
    """Never used, unused beyond the threshold, and duplicates newer than the key in use are
    flagged; keys replaced by a newer key in use are retiring, not flagged."""
    keys = [
        _key(1, "fresh", used_days_ago=1),
        _key(2, "stale", used_days_ago=91),
        _key(3, "never"),
        _key(4, "dup", used_days_ago=5),
        _key(5, "dup", used_days_ago=2),
        _key(6, "dup", created_days_ago=3),
    ]
    assert _codes(keys) == {2: ["unused"], 3: ["never_used"], 6: ["never_used", "duplicate_name"]}
    assert set(retiring(keys, NOW)) == {4}


@pytest.mark.parametrize(
    ("created_hours_ago", "min_age", "flagged"),
    [
        (0.0, datetime.timedelta(days=1), False),
        (23.99, datetime.timedelta(days=1), False),
        (24.0, datetime.timedelta(days=1), True),
        (30.0, datetime.timedelta(days=1), True),
        (0.5, datetime.timedelta(minutes=20), True),
        (0.5, datetime.timedelta(hours=1), False),
        (0.0, datetime.timedelta(0), True),
    ],
)
def test_keys_younger_than_the_minimum_age_are_never_findings(
    created_hours_ago: float, min_age: datetime.timedelta, flagged: bool
) -> None:
    """A never-used key is flagged only once it is at least min_age old (the boundary counts)."""
    key = _key(1, "n", created_days_ago=created_hours_ago / 24)
    found = judge([key], NOW, RuleSet(min_age=min_age, max_unused=90 * DAY))
    assert bool(found) is flagged


def test_the_old_half_of_a_rotation_is_retiring_not_a_duplicate() -> None:
    """The new half of a rotation is never flagged; the old key it replaces is retiring."""
    old = _key(1, "ci", used_days_ago=2, created_days_ago=30)
    new = _key(2, "ci", used_days_ago=0.5 / 24, created_days_ago=1 / 24)
    assert judge([old, new], NOW, AUDIT) == []
    (replaced,) = retiring([old, new], NOW).values()
    assert (replaced.key.id, replaced.replacement.id) == (1, 2)  # type: ignore[union-attr]


def test_a_key_of_unknown_age_is_not_flagged() -> None:
    """A key whose creation time Neon did not give counts as young: never flagged."""
    key = PersonalKey(id=1, name="n", created_at=None, created_by=None)
    assert judge([key], NOW, RuleSet(max_unused=90 * DAY, max_age=DAY, duplicate_names=True)) == []


def test_duplicates_without_use_keep_the_newest() -> None:
    """Among never-used duplicates the most recently created one is kept."""
    keys = [_key(1, "d", created_days_ago=3), _key(2, "d", created_days_ago=1)]
    assert _codes(keys) == {1: ["never_used", "duplicate_name"], 2: ["never_used"]}


def test_duplicates_are_per_scope() -> None:
    """Keys of one name in different projects are not duplicates."""
    keys = [
        _key(1, "ci", used_days_ago=1, project="p-1"),
        _key(2, "ci", used_days_ago=1, project="p-2"),
    ]
    assert judge(keys, NOW, AUDIT) == []


def test_duplicate_names_are_judged_only_when_asked() -> None:
    """Without ``duplicate_names`` (a policy file's rules) sharing a name is no finding."""
    keys = [_key(1, "d", created_days_ago=3), _key(2, "d", created_days_ago=1)]
    assert _codes(keys, RuleSet()) == {1: ["never_used"], 2: ["never_used"]}


@pytest.mark.parametrize(
    ("min_age", "created_hours_ago", "wording"),
    [
        (datetime.timedelta(hours=1), 2, "never used (created less than a day ago)"),
        (datetime.timedelta(days=1), 24, "never used (created 1 day ago)"),
        (datetime.timedelta(days=1), 24 * 40, "never used (created 40 days ago)"),
    ],
)
def test_never_used_age_wording(
    min_age: datetime.timedelta, created_hours_ago: int, wording: str
) -> None:
    """The age of a never-used key reads as people say it, not "0 days"."""
    key = _key(1, "n", created_days_ago=created_hours_ago / 24)
    (flagged,) = judge([key], NOW, RuleSet(min_age=min_age))
    assert [f.message for f in flagged.findings] == [wording]


# -- retiring keys: replaced by a newer key in service ----------------------------------------


def test_a_key_whose_newer_generation_was_never_used_is_still_judged() -> None:
    """An older key in service beside a newer one never used (a rotation that did not
    finish) is not retiring: its staleness and its age are findings."""
    in_service = _key(1, "ci", used_days_ago=100, created_days_ago=200)
    abandoned = _key(2, "ci", created_days_ago=50)
    rules = RuleSet(max_unused=90 * DAY, max_age=180 * DAY)
    assert retiring([in_service, abandoned], NOW) == {}
    assert _codes([in_service, abandoned], rules) == {
        1: ["unused", "too_old"],
        2: ["never_used"],
    }


def test_a_retiring_key_is_no_finding_of_age_or_use() -> None:
    """A key replaced by a newer key in service is neither unused, never used, too old
    nor a duplicate, whatever the rules."""
    old = _key(1, "ci", created_days_ago=300)
    new = _key(2, "ci", used_days_ago=1, created_days_ago=2)
    rules = RuleSet(min_age=datetime.timedelta(0), max_unused=DAY, max_age=DAY)
    assert _codes([old, new], rules) == {2: ["too_old"]}


def test_a_retiring_key_still_breaks_the_rules_of_place_and_kind() -> None:
    """Networks and forbidden personal keys are judged for retiring keys too."""
    old = _key(1, "ci", used_days_ago=3, created_days_ago=30)
    new = _key(2, "ci", used_days_ago=1, created_days_ago=2)
    rules = RuleSet(
        allowed_networks=(ipaddress.ip_network("203.0.113.0/24"),), forbid_personal=True
    )
    assert set(retiring([old, new], NOW)) == {1}
    assert _codes([old, new], rules) == {
        1: ["outside_networks", "personal_key"],
        2: ["outside_networks", "personal_key"],
    }


def test_an_expired_lease_is_a_finding_even_when_retiring() -> None:
    """A lease past its expiry is flagged though a newer lease in service replaced it: its
    expiry is a promise of its own."""
    old = _key(1, LeaseName.new("ci", NOW - 2 * DAY).name, used_days_ago=3, created_days_ago=4)
    new = _key(2, LeaseName.new("ci", NOW + DAY).name, used_days_ago=1, created_days_ago=2)
    assert set(retiring([old, new], NOW)) == {1}
    (flagged,) = judge([old, new], NOW, AUDIT)
    assert flagged.key.id == 1
    assert [(f.code, f.message) for f in flagged.findings] == [
        (FindingCode.EXPIRED_LEASE, "lease expired 2d ago")
    ]


def test_a_key_s_findings_come_in_the_order_of_their_codes() -> None:
    """Every rule that a key breaks is reported, in the order of ``FindingCode``."""
    lease = LeaseName.new("ci", NOW - DAY).name
    in_service = _key(1, lease, used_days_ago=120)
    abandoned = _key(2, lease, created_days_ago=100)
    rules = RuleSet(
        max_unused=90 * DAY,
        max_age=DAY,
        allowed_networks=(),
        forbid_personal=True,
        duplicate_names=True,
    )
    assert _codes([in_service, abandoned], rules) == {
        1: ["unused", "expired_lease", "too_old", "outside_networks", "personal_key"],
        2: ["never_used", "duplicate_name", "expired_lease", "too_old", "personal_key"],
    }


def test_revoked_keys_are_never_findings() -> None:
    """A revoked key is not judged at all."""
    key = PersonalKey(id=1, name="n", created_at=NOW - 400 * DAY, created_by=None, revoked=True)
    rules = RuleSet(max_age=DAY, forbid_personal=True, duplicate_names=True)
    assert judge([key], NOW, rules) == []
