# ruff: noqa: E501  (the table of files and their problems reads best one case a line)
"""Policy files: read with tomllib, checked whole, every problem at its own line."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from neon_keys import KeyKind
from neon_keys.policy import (
    ExpiredLeases,
    PersonalKeys,
    PolicyFileError,
    Undeclared,
    load,
    loads,
)

TEAM = """\
version = 1

[rules]
max_age = "90d"
max_unused = "30d"
min_age = "1d"
allowed_networks = ["203.0.113.0/24", "2001:db8::/32"]
personal_keys = "allow"
undeclared = "report"
expired_leases = "revoke"

[scopes]
personal = true
orgs = ["org-cool-breeze-12345678"]

[[keys]]
name = "ci"
scope = "personal"
rotate_every = "30d"
grace = "1d"
quiet = "2h"
deliver = ["gh secret set NEON_API_KEY --repo acme/app"]
save = "secrets/ci.token"

[[keys]]
name = "preview"
scope = "project:org-cool-breeze-12345678/summer-haze-17190561"
ttl = "8h"
rotate_every = "6h"
save = "secrets/preview.token"
"""


def problems(text: str) -> list[str]:
    """The problems ``loads`` finds in ``text``, as printed."""
    with pytest.raises(PolicyFileError) as caught:
        loads(text)
    return str(caught.value).splitlines()


def test_a_complete_file_is_read_field_by_field(tmp_path: Path) -> None:
    """Every field of a complete file lands in the policy, durations and networks parsed."""
    path = tmp_path / "neon-keys.toml"
    path.write_text(TEAM)
    policy = load(path)
    rules = policy.rules
    assert rules.max_age == datetime.timedelta(days=90)
    assert rules.max_unused == datetime.timedelta(days=30)
    assert rules.allowed_networks == (
        ipaddress.ip_network("203.0.113.0/24"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert rules.personal_keys is PersonalKeys.ALLOW
    assert rules.undeclared is Undeclared.REPORT
    assert rules.expired_leases is ExpiredLeases.REVOKE
    assert rules.lines["max_age"] == 4
    assert policy.scopes.personal and policy.scopes.orgs == ("org-cool-breeze-12345678",)
    ci, preview = policy.keys
    assert (ci.name, ci.target.kind, ci.line, ci.scope_line) == ("ci", KeyKind.PERSONAL, 16, 18)
    assert ci.rotate_every == datetime.timedelta(days=30)
    assert ci.grace == datetime.timedelta(days=1) and ci.quiet == datetime.timedelta(hours=2)
    assert ci.deliver == ("gh secret set NEON_API_KEY --repo acme/app",)
    assert ci.save == tmp_path / "secrets" / "ci.token"
    assert preview.target.kind is KeyKind.PROJECT
    assert preview.target.project_id == "summer-haze-17190561"
    assert preview.is_lease and preview.ttl == datetime.timedelta(hours=8)


def test_orgs_all_and_defaults() -> None:
    """``orgs = "all"`` manages every organization; unset rules take their defaults."""
    policy = loads('version = 1\n[scopes]\norgs = "all"\n')
    assert policy.scopes.all_orgs and not policy.scopes.personal
    assert policy.rules.max_age is None and policy.rules.min_age == datetime.timedelta(days=1)
    assert policy.rules.undeclared is Undeclared.REPORT
    assert policy.rules.expired_leases is ExpiredLeases.REPORT
    assert policy.keys == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[scopes]\npersonal = true\n", "neon-keys.toml:1: version: missing"),
        ("version = 2\n[scopes]\npersonal = true\n", "neon-keys.toml:1: version: must be 1"),
        ("version = 1\n", "neon-keys.toml:1: scopes: missing"),
        ("version = 1\n[scopes]\npersonal = false\n", "neon-keys.toml:2: scopes: manages nothing"),
        (
            "version = 1\nextra = 1\n[scopes]\npersonal = true\n",
            "neon-keys.toml:2: extra: unknown field",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n\n[rules]\nmax_age = "3 days"\n',
            "neon-keys.toml:6: rules.max_age: must be a duration",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[rules]\nmax_unused = "0s"\n',
            "neon-keys.toml:5: rules.max_unused: must be at least 1s",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[rules]\nallowed_networks = [\n  "10.0.0.0/8",\n  "10.0.0.1/8",\n]\n',
            "neon-keys.toml:7: rules.allowed_networks[1]: not a network in CIDR notation",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[rules]\nallowed_networks = ["10.0.0.0/8", "10.0.0.0/8"]\n',
            "neon-keys.toml:5: rules.allowed_networks[1]: 10.0.0.0/8 is listed twice",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[rules]\nundeclared = "delete"\n',
            'neon-keys.toml:5: rules.undeclared: must be "report" or "revoke"',
        ),
        (
            'version = 1\n[scopes]\norgs = ["org-ok", "Org_Bad"]\n',
            "neon-keys.toml:3: scopes.orgs[1]: must be 1 to 60 lowercase letters",
        ),
        (
            'version = 1\n[scopes]\norgs = "some"\n',
            'neon-keys.toml:3: scopes.orgs: must be "all" or a list',
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\n',
            "neon-keys.toml:4: keys[0]: its secret would go nowhere",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "org:org-x"\nsave = "a"\n',
            "neon-keys.toml:6: keys[0].scope: organization org-x is not managed",
        ),
        (
            'version = 1\n[scopes]\norgs = ["org-x"]\n[[keys]]\nname = "ci"\nscope = "personal"\nsave = "a"\n',
            "neon-keys.toml:6: keys[0].scope: personal keys are not managed",
        ),
        (
            'version = 1\n[scopes]\norgs = ["org-x"]\n[[keys]]\nname = "ci"\nscope = "project:org-x"\nsave = "a"\n',
            'neon-keys.toml:6: keys[0].scope: must be "personal", "org:ORG_ID"',
        ),
        (
            'version = 1\n[scopes]\norgs = ["org-x"]\n[[keys]]\nname = "ci"\nscope = "project:org-x/BAD"\nsave = "a"\n',
            "neon-keys.toml:6: keys[0].scope: must be 1 to 60 lowercase letters",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "'
            + "x" * 65
            + '"\nscope = "personal"\nsave = "a"\n',
            "neon-keys.toml:5: keys[0].name: must be at most 64 characters",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "'
            + "x" * 31
            + '"\nttl = "1h"\nscope = "personal"\nsave = "a"\n',
            "neon-keys.toml:5: keys[0].name: must be at most 30 characters",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\nsave = "a"\nttl = "1h"\nrotate_every = "2h"\n',
            "neon-keys.toml:9: keys[0].rotate_every: must be shorter than ttl (1h)",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\nsave = "a"\nquiet = "1h"\n',
            "neon-keys.toml:8: keys[0].quiet: applies to a staged rotation only",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\ndeliver = ["gh \'unclosed"]\n',
            "neon-keys.toml:7: keys[0].deliver[0]: cannot be split as a shell would",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\ndeliver = "gh secret set X"\n',
            "neon-keys.toml:7: keys[0].deliver: must be a list of commands",
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[rules]\npersonal_keys = "forbid"\n[[keys]]\nname = "ci"\nscope = "personal"\nsave = "a"\n',
            'neon-keys.toml:8: keys[0].scope: a personal key, but rules.personal_keys is "forbid"',
        ),
        (
            'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\nsave = "a"\nrotate = "1d"\n',
            "neon-keys.toml:8: keys[0].rotate: unknown field",
        ),
        (
            "version = 1\n[scopes]\npersonal = true\nx = [1, 2\n",
            "neon-keys.toml:4: syntax: not valid TOML",
        ),
    ],
)
def test_each_problem_names_its_line_and_field(text: str, expected: str) -> None:
    """A problem is reported as FILE:LINE: field: message, at the line of the culprit."""
    found = problems(text)
    assert any(line.startswith(expected) for line in found), found


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    """All problems of a file come together, sorted by line, not only the first."""
    text = """\
version = 1
[rules]
max_age = "ninety days"
personal_keys = "never"
[scopes]
personal = true
[[keys]]
name = "ci"
scope = "personal"
save = "ci.token"
[[keys]]
name = "deploy"
scope = "personal"
save = "ci.token"
[[keys]]
name = "ci"
scope = "personal"
save = "other.token"
"""
    found = problems(text)
    assert [line.split(": ")[0] for line in found] == [
        "neon-keys.toml:3",
        "neon-keys.toml:4",
        "neon-keys.toml:14",
        "neon-keys.toml:15",
    ]
    assert "keys[1].save: " in found[2] and "also the file of" in found[2]
    assert found[3].endswith('"ci" (personal) is declared twice (first at line 7)')


def test_a_file_that_cannot_be_read_is_a_problem_of_line_one(tmp_path: Path) -> None:
    """A missing file or one that is not UTF-8 is refused with its name, before any request."""
    with pytest.raises(PolicyFileError, match=r"missing\.toml:1: file: cannot be read"):
        load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"version = 1\n# caf\xe9\n")
    with pytest.raises(PolicyFileError, match=r"bad\.toml:2: file: is not UTF-8"):
        load(bad)


def test_the_error_is_invalid_input() -> None:
    """A bad file is invalid input: the CLI exits 2 for it, as for any input refused unsent."""
    from neon_keys import InvalidInputError

    with pytest.raises(InvalidInputError):
        loads("version = 1\n")
