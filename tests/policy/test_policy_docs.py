"""The policy files and messages the documentation shows are what the program reads and prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from neon_keys.policy import PolicyFileError, loads

DOCS = Path(__file__).resolve().parents[2] / "docs"
_TOML = re.compile(r"^```toml[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_TEXT = re.compile(r"^```text\n(neon-keys\.toml:.*?)^```", re.MULTILINE | re.DOTALL)

BAD = """\
version = 1

[rules]
max_age = "ninety days"

[scopes]
personal = true
orgs = ["org-cool-breeze-12345678"]

[[keys]]
name = "ci"
scope = "org:org-wild-fog-87654321"
save = "ci.token"

[[keys]]
name = "deploy"
scope = "personal"
save = "deploy.token"

[[keys]]
name = "deploy"
scope = "personal"
save = "deploy2.token"
colour = "blue"
"""


@pytest.mark.parametrize("page", ["policy-files.md", "policy.md"])
def test_every_policy_file_shown_is_valid(page: str, tmp_path: Path) -> None:
    """Each TOML policy file on the page loads without a problem."""
    blocks = [b for b in _TOML.findall((DOCS / page).read_text()) if "version = 1" in b]
    assert blocks or page == "policy.md"
    for block in blocks:
        wanted = loads(block, folder=tmp_path)
        assert wanted.keys


def test_the_team_file_declares_what_the_page_says(tmp_path: Path) -> None:
    """The team example has CI keys per repository, a preview lease, a deploy key into Vault."""
    team = _TOML.findall((DOCS / "policy-files.md").read_text())[0]
    wanted = loads(team, folder=tmp_path)
    by_name = {key.name: key for key in wanted.keys}
    assert by_name["ci-app"].deliver and by_name["ci-web"].deliver
    assert by_name["preview"].is_lease and by_name["preview"].target.project_id
    deploy = by_name["deploy"]
    assert deploy.rotate_every is not None and deploy.rotate_every.days == 30
    assert deploy.grace is not None and deploy.deliver[0].startswith("vault ")


def test_the_error_example_is_what_load_prints(tmp_path: Path) -> None:
    """docs/policy.md shows exactly the problems load finds in the file it describes."""
    (shown,) = _TEXT.findall((DOCS / "policy.md").read_text())
    with pytest.raises(PolicyFileError) as caught:
        loads(BAD, folder=tmp_path)
    assert str(caught.value).splitlines() == shown.splitlines()[:-1]
    assert shown.splitlines()[-1] == "Error: neon-keys.toml has 4 problems; nothing was sent"
