"""A scripted stand-in for Neon's API, for unit tests over ``httpx.MockTransport``.

Responses are the shapes the live service sends (see docs/spec-deviations.md, "When the
API disagrees with its spec"), not only the spec's examples. Tokens are obviously fake.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from typing import Any

import httpx
from neon_keys import AsyncNeonKeys, Backoff, NeonKeys

BASE_URL = "https://console.neon.tech/api/v2"
API_KEY = "napi_fake_caller_token_for_tests"
USER_ID = "user_01h84bfr2npa81rn8h8jzz8mx4"
USER_UUID = "629982cc-de05-43db-ae16-28f2399c4910"
ORG_ID = "org-cool-breeze-12345678"
PROJECT_ID = "summer-haze-17190561"
FAKE_SECRET = "fake_secret_" + "x" * 20

LISTED_PERSONAL = [
    {
        "id": 165432,
        "name": "ci",
        "created_at": "2022-11-15T20:13:35Z",
        "created_by": {"id": USER_UUID, "name": "Alice Example", "image": ""},
        "last_used_at": "2022-11-15T20:22:51Z",
        "last_used_from_addr": "192.0.2.255",
    },
    {
        "id": 165433,
        "name": "never-used",
        "created_at": "2022-11-15T20:12:36Z",
        "created_by": {"id": USER_ID, "name": "", "image": ""},
        "last_used_at": None,
        "last_used_from_addr": "",
    },
    {
        "id": 165434,
        "name": "busy",
        "created_at": "2023-01-02T03:04:05Z",
        "created_by": {"id": USER_ID, "name": "", "image": ""},
        "last_used_at": "2024-02-03T04:05:06Z",
        "last_used_from_addr": "203.0.113.7,2001:db8::1",
        "some_new_field": {"nested": True},
    },
]

LISTED_ORG = [
    {
        "id": 200,
        "name": "deploy",
        "created_at": "2024-05-01T10:00:00Z",
        "created_by": {"id": USER_ID, "name": "", "image": ""},
        "last_used_at": None,
        "last_used_from_addr": "",
    },
    {
        "id": 201,
        "name": "preview",
        "created_at": "2024-05-01T10:00:01Z",
        "created_by": {"id": USER_ID, "name": "", "image": ""},
        "last_used_at": None,
        "last_used_from_addr": "",
        "project_id": PROJECT_ID,
    },
]


def created(key_id: int, name: str, project_id: str | None = None) -> dict[str, Any]:
    """A create response as recorded in 2024: no ``created_by``."""
    body: dict[str, Any] = {
        "id": key_id,
        "key": FAKE_SECRET,
        "name": name,
        "created_at": "2024-05-01T10:00:00Z",
    }
    if project_id:
        body["project_id"] = project_id
    return body


def revoked(key_id: int, name: str = "ci") -> dict[str, Any]:
    """A revoke response as the live service sends it: no ``created_at``/``created_by``."""
    return {
        "id": key_id,
        "name": name,
        "last_used_at": None,
        "last_used_from_addr": "",
        "revoked": True,
    }


Handler = Callable[[httpx.Request], httpx.Response]


class FakeNeon:
    """Routes requests to canned answers and records every request it sees."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler | list[Handler]] = {
            ("GET", "/api/v2/api_keys"): lambda r: json_response(LISTED_PERSONAL),
            ("POST", "/api/v2/api_keys"): lambda r: json_response(
                created(7, json.loads(r.content)["key_name"])
            ),
            ("GET", f"/api/v2/organizations/{ORG_ID}/api_keys"): lambda r: json_response(
                LISTED_ORG
            ),
            ("POST", f"/api/v2/organizations/{ORG_ID}/api_keys"): lambda r: json_response(
                created(
                    8,
                    json.loads(r.content)["key_name"],
                    json.loads(r.content).get("project_id"),
                )
            ),
            ("GET", "/api/v2/auth"): lambda r: json_response(
                {"account_id": USER_ID, "auth_method": "api_key_user"}
            ),
            ("GET", "/api/v2/users/me/organizations"): lambda r: json_response(
                {
                    "organizations": [
                        {
                            "id": ORG_ID,
                            "name": "Cool Breeze",
                            "handle": "cool-breeze",
                            "plan": "scale",
                            "created_at": "2024-01-01T00:00:00Z",
                            "updated_at": "2024-02-01T00:00:00Z",
                            "managed_by": "console",
                        }
                    ]
                }
            ),
        }

    def route(self, method: str, path: str, *answers: Handler | httpx.Response) -> None:
        """Answer ``method path`` with ``answers`` in turn (the last one repeats)."""
        handlers = [a if callable(a) else (lambda r, a=a: a) for a in answers]
        self.routes[(method, "/api/v2" + path)] = handlers

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "DELETE" and (request.method, path) not in self.routes:
            key_id = int(path.rsplit("/", 1)[1])
            return json_response(revoked(key_id))
        handler = self.routes.get((request.method, path))
        if handler is None:
            return json_response({"code": "", "message": "not found"}, status=404)
        if isinstance(handler, list):
            current = handler[0] if len(handler) == 1 else handler.pop(0)
            return current(request)
        return handler(request)

    def sync_client(self, **options: Any) -> NeonKeys:
        """A ``NeonKeys`` whose requests reach this fake."""
        options.setdefault("backoff", Backoff.immediate())
        return NeonKeys(
            api_key=API_KEY,
            base_url=BASE_URL,
            http_client=httpx.Client(transport=httpx.MockTransport(self)),
            **options,
        )

    def async_client(self, **options: Any) -> AsyncNeonKeys:
        """An ``AsyncNeonKeys`` whose requests reach this fake."""
        options.setdefault("backoff", Backoff.immediate())
        return AsyncNeonKeys(
            api_key=API_KEY,
            base_url=BASE_URL,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self)),
            **options,
        )


def json_response(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    """A JSON response with Neon's content type and a request id header."""
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={
            "content-type": "application/json; charset=utf-8",
            "x-neon-ret-request-id": "req-from-header",
            **headers,
        },
    )


def run(value: Any) -> Any:
    """Await ``value`` if it is awaitable, so one test body serves both clients."""
    if inspect.isawaitable(value):
        return asyncio.run(_await(value))
    return value


async def _await(value: Any) -> Any:
    return await value
