"""The findings of a policy file's rules (``plan`` and ``check``): which keys, and in what order.

The plan is computed from keys and a time, without a client: the rules are the library's
(``neon_keys._findings``), the same that ``neon-keys audit`` judges with.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from neon_keys import LeaseName, PersonalKey
from neon_keys.policy import Policy, loads
from neon_keys.policy._plan import compute

NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def _policy(folder: Path, rules: str, *declared: str) -> Policy:
    text = f"version = 1\n[rules]\n{rules}\n[scopes]\npersonal = true\n"
    for name in declared:
        text += f'[[keys]]\nname = "{name}"\nscope = "personal"\nsave = "{name}.token"\n'
    return loads(text, folder=folder)


def _key(
    key_id: int, name: str, *, created_days_ago: float, used_days_ago: float | None = None
) -> PersonalKey:
    return PersonalKey(
        id=key_id,
        name=name,
        created_at=NOW - created_days_ago * DAY,
        created_by=None,
        last_used_at=None if used_days_ago is None else NOW - used_days_ago * DAY,
    )


def _findings(policy: Policy, keys: list[PersonalKey]) -> list[tuple[int, str]]:
    plan = compute(policy, {None: keys}, NOW)
    return [(finding.key.id, finding.code.value) for finding in plan.findings]


def test_a_declared_key_beside_a_newer_one_never_used_is_still_judged(tmp_path: Path) -> None:
    """The generation in service is judged though a newer one exists that was never used
    (a rotation that did not finish): its staleness and age are findings."""
    policy = _policy(tmp_path, 'max_age = "180d"\nmax_unused = "90d"', "ci")
    in_service = _key(1, "ci", created_days_ago=200, used_days_ago=100)
    abandoned = _key(2, "ci", created_days_ago=50)
    assert _findings(policy, [in_service, abandoned]) == [
        (1, "unused"),
        (1, "too_old"),
        (2, "never_used"),
    ]


def test_an_undeclared_key_replaced_by_a_newer_one_in_service_is_retiring(
    tmp_path: Path,
) -> None:
    """An undeclared key replaced by a newer key in service is reported as undeclared, not
    for its age or use: it is retiring, as in ``audit``."""
    policy = _policy(tmp_path, 'max_age = "30d"\nmax_unused = "30d"')
    old = _key(1, "stray", created_days_ago=200, used_days_ago=100)
    new = _key(2, "stray", created_days_ago=5, used_days_ago=1)
    assert _findings(policy, [old, new]) == [(1, "undeclared"), (2, "undeclared")]


def test_a_key_s_findings_are_undeclared_or_expired_then_the_rules(tmp_path: Path) -> None:
    """Per key: ``undeclared`` (an ordinary key) or an expired lease first, then the other
    rules in their order."""
    policy = _policy(tmp_path, 'max_age = "30d"\npersonal_keys = "forbid"')
    lease = _key(1, LeaseName.new("job", NOW - DAY).name, created_days_ago=40)
    stray = _key(2, "stray", created_days_ago=40)
    assert _findings(policy, [lease, stray]) == [
        (1, "expired_lease"),
        (1, "never_used"),
        (1, "too_old"),
        (1, "personal_key"),
        (2, "undeclared"),
        (2, "never_used"),
        (2, "too_old"),
        (2, "personal_key"),
    ]
