"""Helpers for the emulator's tests: a thin httpx wrapper that calls as one credential."""

from __future__ import annotations

from typing import Any

import httpx

ORG_ID = "org-cool-breeze-12345678"
PROJECT_ID = "summer-haze-17190561"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class Api:
    """An ``httpx.Client`` on the emulator, sending ``token`` as the bearer credential."""

    def __init__(self, http: httpx.Client, token: str | None) -> None:
        self.http = http
        self.token = token

    def as_(self, token: str | None) -> Api:
        """The same connection, calling with another token (None: no Authorization)."""
        return Api(self.http, token)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request to ``path`` (relative to the base URL)."""
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.http.request(method, path.lstrip("/"), headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET ``path``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST ``path``."""
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        """DELETE ``path``."""
        return self.request("DELETE", path, **kwargs)

    def create_personal(self, name: str) -> httpx.Response:
        """POST /api_keys with ``key_name``."""
        return self.post("/api_keys", json={"key_name": name})

    def create_org(
        self, name: str, *, org_id: str = ORG_ID, project_id: str | None = None
    ) -> httpx.Response:
        """POST /organizations/{org_id}/api_keys with ``key_name`` (and ``project_id``)."""
        body: dict[str, Any] = {"key_name": name}
        if project_id is not None:
            body["project_id"] = project_id
        return self.post(f"/organizations/{org_id}/api_keys", json=body)


def assert_general_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check that ``response`` is a JSON GeneralError with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON_CONTENT_TYPE
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "request_id"}
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response.headers["x-neon-ret-request-id"]
    return body
