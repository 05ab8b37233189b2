"""What a cassette may hold: scrubbing applied while recording, and the check run on replay.

Recording (``make record``) passes every exchange through ``scrub_request`` and
``scrub_response``: the Authorization header goes, every ``x-sensitive`` field of the
response schemas (read from ``openapi.yaml``) becomes a fixed placeholder, and personal data
(user names, avatars, addresses, the real organization and project ids) becomes
documentation values. ``find_leaks`` is what a test runs over every cassette.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "scrubbed-secret"
SENSITIVE_PLACEHOLDER = "scrubbed"
DOC_ORG_ID = "org-cool-breeze-12345678"
DOC_PROJECT_ID = "summer-haze-17190561"
DOC_USER_ID = "629982cc-de05-43db-ae16-28f2399c4910"
DOC_USER_NAME = "Example User"
DOC_IMAGE = "https://example.com/avatar.png"
DOC_ADDRESS = "192.0.2.1"
CANONICAL_BASE_URL = "https://console.neon.tech/api/v2"

_TOKEN_SHAPES = (
    re.compile(r"napi_[a-z0-9]{20,}"),
    re.compile(r"[Bb]earer\s+[A-Za-z0-9_\-.]{8,}"),
    re.compile(r"\b[a-z0-9]{64}\b"),
)
_DOC_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
_ADDRESS_FIELDS = ("last_used_from_addr",)


@functools.cache
def sensitive_fields() -> frozenset[str]:
    """Every property named in an ``x-sensitive`` list of ``openapi.yaml``."""
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(node.get("x-sensitive", ()))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return frozenset(found)


class Scrubber:
    """Rewrites recorded exchanges.

    ``org_id``/``project_id`` are the real ids to hide; ``base_url`` is the recording
    target's base URL, written as Neon's canonical one so that a cassette recorded against
    an emulator port or a staging host looks like any other.
    """

    def __init__(
        self,
        org_id: str | None = None,
        project_id: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.replacements = {
            real: doc
            for real, doc in ((org_id, DOC_ORG_ID), (project_id, DOC_PROJECT_ID))
            if real and real != doc
        }
        self.base_url = base_url.rstrip("/") if base_url else None

    def _ids(self, text: str) -> str:
        for real, doc in self.replacements.items():
            text = text.replace(real, doc)
        return text

    def scrub_request(self, request: Any) -> Any:
        """vcrpy ``before_record_request``: the canonical host; real ids hidden in URI and body."""
        if self.base_url and request.uri.startswith(self.base_url):
            request.uri = CANONICAL_BASE_URL + request.uri[len(self.base_url) :]
        request.uri = self._ids(request.uri)
        if request.body:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            request.body = self._ids(body).encode()
        return request

    def scrub_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy ``before_record_response``: secrets, personal data, cookies."""
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in ("set-cookie", "authorization"):
                del headers[name]
        body = response.get("body", {}).get("string", b"")
        text = body.decode() if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            response["body"]["string"] = self._ids(text).encode()
            return response
        cleaned = json.dumps(self.scrub_json(data)).encode()
        response["body"]["string"] = cleaned
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(cleaned))]
        return response

    def scrub_json(self, data: Any) -> Any:
        """Scrub a decoded JSON body."""
        if isinstance(data, list):
            return [self.scrub_json(item) for item in data]
        if isinstance(data, str):
            return self._ids(data)
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for field, value in data.items():
            if field == "key" and isinstance(value, str):
                out[field] = SECRET_PLACEHOLDER
            elif field in sensitive_fields() and isinstance(value, str) and "key" in data:
                out[field] = SENSITIVE_PLACEHOLDER
            elif field in _ADDRESS_FIELDS and isinstance(value, str):
                out[field] = DOC_ADDRESS if value else ""
            elif field == "created_by":
                out[field] = self._creator(value)
            else:
                out[field] = self.scrub_json(value)
        return out

    def _creator(self, value: Any) -> Any:
        if isinstance(value, str):
            return DOC_USER_ID
        if isinstance(value, dict):
            return {
                **value,
                "id": DOC_USER_ID,
                "name": DOC_USER_NAME if value.get("name") else "",
                "image": DOC_IMAGE if value.get("image") else "",
            }
        return value


def find_leaks(text: str) -> list[str]:
    """Token-shaped strings and addresses outside documentation ranges found in ``text``."""
    leaks = [m.group(0)[:12] + "..." for shape in _TOKEN_SHAPES for m in shape.finditer(text)]
    if re.search(r"(?im)^\s*-?\s*authorization\s*:", text):
        leaks.append("an Authorization header")
    for match in re.finditer(r"last_used_from_addr\\?\"\s*:\s*\\?\"([^\"\\]*)", text):
        for part in filter(None, (p.strip() for p in match.group(1).split(","))):
            try:
                address = ipaddress.ip_address(part)
            except ValueError:
                leaks.append(f"unparseable address {part[:20]!r}")
                continue
            if not any(address in network for network in _DOC_NETWORKS):
                leaks.append(f"address {address}")
    return leaks
