"""The six key operations replayed from recorded exchanges (``tests/cassettes/``).

Replay is offline (vcrpy's ``none`` record mode, with pytest-recording's network block in
force) and matches method, path and body.
``make record`` re-records: against Neon when ``NEON_API_KEY`` is set, else against the
emulator; ``tools/record.py`` passes the target to this module as ``NEON_RECORD_*``.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from neon_keys import KeyKind, NeonKeys, OrgKey, PersonalKey, ProjectKey
from scrub import (
    CANONICAL_BASE_URL,
    DOC_ORG_ID,
    DOC_PROJECT_ID,
    SECRET_PLACEHOLDER,
    Scrubber,
    find_leaks,
)

pytestmark = pytest.mark.block_network

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY_BASE_URL = CANONICAL_BASE_URL
REPLAY_API_KEY = "napi_replay_placeholder"


def _recording(config: pytest.Config) -> bool:
    return config.getoption("--record-mode", "none") not in (None, "none")


@pytest.fixture(scope="module")
def vcr_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Scrub while recording; match on method, path and body when replaying."""
    scrubber = Scrubber(
        os.environ.get("NEON_RECORD_ORG_ID"),
        os.environ.get("NEON_RECORD_PROJECT_ID"),
        os.environ.get("NEON_RECORD_API_HOST"),
    )
    return {
        "filter_headers": ["authorization", "cookie", "host"],
        "decode_compressed_response": True,
        "before_record_request": scrubber.scrub_request,
        "before_record_response": scrubber.scrub_response,
        "match_on": ["method", "path", "body"],
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """Cassettes live in tests/cassettes/, one per test."""
    return str(CASSETTES)


@pytest.fixture
def neon(pytestconfig: pytest.Config) -> Iterator[NeonKeys]:
    """The recording target while recording; the replay placeholders otherwise."""
    if _recording(pytestconfig):
        client = NeonKeys(
            api_key=os.environ["NEON_RECORD_API_KEY"],
            base_url=os.environ["NEON_RECORD_API_HOST"],
            max_retries=0,
        )
    else:
        client = NeonKeys(api_key=REPLAY_API_KEY, base_url=REPLAY_BASE_URL, max_retries=0)
    with client:
        yield client


@pytest.fixture
def org_id(pytestconfig: pytest.Config) -> str:
    """The organization used: real while recording, the documentation id on replay."""
    return os.environ["NEON_RECORD_ORG_ID"] if _recording(pytestconfig) else DOC_ORG_ID


@pytest.fixture
def project_id(pytestconfig: pytest.Config) -> str:
    """The project used: real while recording, the documentation id on replay."""
    return os.environ["NEON_RECORD_PROJECT_ID"] if _recording(pytestconfig) else DOC_PROJECT_ID


@pytest.mark.vcr
def test_create_api_key(neon: NeonKeys) -> None:
    """createApiKey: a personal key with its (scrubbed) secret; then cleaned up."""
    key = neon.personal_keys.create("cassette-create")
    assert isinstance(key, PersonalKey) and key.id > 0
    assert key.secret is not None and key.secret.reveal()
    neon.personal_keys.revoke(key.id)


@pytest.mark.vcr
def test_list_api_keys(neon: NeonKeys) -> None:
    """listApiKeys: the new key is listed, without a secret."""
    key = neon.personal_keys.create("cassette-list")
    listed = {k.id: k for k in neon.personal_keys.list()}
    assert key.id in listed
    assert listed[key.id].name == "cassette-list" and listed[key.id].secret is None
    assert listed[key.id].created_by is not None
    neon.personal_keys.revoke(key.id)


@pytest.mark.vcr
def test_revoke_api_key(neon: NeonKeys) -> None:
    """revokeApiKey: the key comes back revoked and leaves the listing."""
    key = neon.personal_keys.create("cassette-revoke")
    gone = neon.personal_keys.revoke(key.id)
    assert gone.revoked and gone.id == key.id
    assert key.id not in {k.id for k in neon.personal_keys.list()}


@pytest.mark.vcr
def test_create_org_api_key(neon: NeonKeys, org_id: str, project_id: str) -> None:
    """createOrgApiKey: with and without project_id, giving both kinds."""
    keys = neon.org(org_id).keys
    org_key = keys.create("cassette-org")
    project_key = keys.create("cassette-project", project_id=project_id)
    assert type(org_key) is OrgKey and org_key.kind is KeyKind.ORG
    assert type(project_key) is ProjectKey and project_key.project_id == project_id
    assert project_key.secret is not None
    keys.revoke(org_key.id)
    keys.revoke(project_key.id)


@pytest.mark.vcr
def test_list_org_api_keys(neon: NeonKeys, org_id: str, project_id: str) -> None:
    """listOrgApiKeys: project-scoped keys are told apart from organization keys."""
    keys = neon.org(org_id).keys
    made = keys.create("cassette-org-list", project_id=project_id)
    listed = {k.id: k for k in keys.list()}
    assert isinstance(listed[made.id], ProjectKey)
    assert listed[made.id].project_id == project_id
    keys.revoke(made.id)


@pytest.mark.vcr
def test_revoke_org_api_key(neon: NeonKeys, org_id: str) -> None:
    """revokeOrgApiKey: the organization key comes back revoked."""
    keys = neon.org(org_id).keys
    made = keys.create("cassette-org-revoke")
    gone = keys.revoke(made.id)
    assert gone.revoked and gone.org_id == org_id


def test_replay_cannot_reach_the_network(pytestconfig: pytest.Config) -> None:
    """On replay a real connection is refused, so a missing recording cannot fall through."""
    if _recording(pytestconfig):
        pytest.skip("recording needs the network")
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(RuntimeError, match="Network is disabled"),
    ):
        sock.settimeout(1)
        sock.connect(("127.0.0.1", 9))


def _replayed_tests() -> set[str]:
    """The names of this module's tests that replay a cassette (marked ``vcr``)."""
    return {
        name
        for name, value in globals().items()
        if name.startswith("test_")
        and any(mark.name == "vcr" for mark in getattr(value, "pytestmark", ()))
    }


def test_cassettes_exist_for_every_key_operation() -> None:
    """Each cassette-backed test above has its recording checked in, and nothing else is."""
    names = {p.stem for p in CASSETTES.glob("*.yaml")}
    expected = _replayed_tests()
    assert len(expected) == 6
    assert names == expected, (expected - names, names - expected)


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassette_holds_no_secret(path: Path) -> None:
    """No cassette holds a token, an Authorization header or a real address."""
    text = path.read_text(encoding="utf-8")
    assert find_leaks(text) == []
    # Every cassette records a create; its secret must be there, replaced by the placeholder
    # (a scrubber that dropped the field, or let another value through, fails here).
    creates = [
        json.loads(interaction["response"]["body"]["string"])
        for interaction in yaml.safe_load(text)["interactions"]
        if interaction["request"]["method"] == "POST"
        and interaction["response"]["status"]["code"] < 300
    ]
    assert creates
    assert [body["key"] for body in creates] == [SECRET_PLACEHOLDER] * len(creates)
