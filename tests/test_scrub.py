"""The cassette scrubber removes what it must, and the leak check would notice if it did not."""

from __future__ import annotations

import json

from scrub import (
    DOC_ADDRESS,
    DOC_ORG_ID,
    SECRET_PLACEHOLDER,
    Scrubber,
    find_leaks,
    sensitive_fields,
)

REAL_TOKEN = "napi_" + "k3" * 30


def test_sensitive_fields_come_from_the_spec() -> None:
    """The x-sensitive lists of openapi.yaml drive the scrubbing."""
    assert {"key", "name"} <= sensitive_fields()


def test_create_response_is_scrubbed() -> None:
    """Secrets, personal data and real ids leave a create response; the shape stays."""
    body = {
        "id": 5,
        "key": REAL_TOKEN,
        "name": "deploy",
        "created_by": "user_real",
        "project_id": "real-project-1",
    }
    response = {
        "status": {"code": 200},
        "headers": {"Set-Cookie": ["s=1"], "Content-Length": ["999"]},
        "body": {"string": json.dumps(body).encode()},
    }
    out = Scrubber(org_id="real-org-1", project_id="real-project-1").scrub_response(response)
    data = json.loads(out["body"]["string"])
    assert data["key"] == SECRET_PLACEHOLDER and data["id"] == 5
    assert data["project_id"] == "summer-haze-17190561"
    assert data["created_by"] != "user_real"
    assert "Set-Cookie" not in out["headers"]
    assert out["headers"]["Content-Length"] == [str(len(out["body"]["string"]))]


def test_listing_addresses_and_creators_are_scrubbed() -> None:
    """Addresses and creator names in listings become documentation values."""
    body = [
        {
            "id": 1,
            "name": "ci",
            "created_by": {"id": "u1", "name": "Real Person", "image": "https://img/real"},
            "last_used_from_addr": "8.8.8.8,1.1.1.1",
        }
    ]
    data = Scrubber().scrub_json(body)
    assert data[0]["last_used_from_addr"] == DOC_ADDRESS
    assert data[0]["created_by"]["name"] != "Real Person"
    assert data[0]["name"] == "ci"


def test_request_uri_ids_are_replaced() -> None:
    """The real organization id in a recorded URI becomes the documentation id."""

    class Request:
        uri = "https://console.neon.tech/api/v2/organizations/real-org-1/api_keys"
        body = b'{"key_name": "x", "project_id": "real-project-1"}'

    out = Scrubber(org_id="real-org-1", project_id="real-project-1").scrub_request(Request())
    assert DOC_ORG_ID in out.uri and b"real-project-1" not in out.body


def test_request_uri_gets_the_canonical_host() -> None:
    """A recording target's host and port never reach the cassette."""

    class Request:
        uri = "http://127.0.0.1:43123/api/v2/api_keys/7"
        body = b""

    out = Scrubber(base_url="http://127.0.0.1:43123/api/v2/").scrub_request(Request())
    assert out.uri == "https://console.neon.tech/api/v2/api_keys/7"


def test_leak_check_finds_tokens_and_addresses() -> None:
    """The leak check flags a token, an Authorization header and a non-documentation address."""
    text = (
        f'{{"key": "{REAL_TOKEN}"}}\n'
        "    authorization: ['Bearer abcdefghijkl']\n"
        '"last_used_from_addr": "8.8.8.8"'
    )
    leaks = find_leaks(text)
    assert len(leaks) >= 3
    assert find_leaks('"last_used_from_addr": "192.0.2.1,2001:db8::5"') == []
