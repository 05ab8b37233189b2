"""The responses the emulator sends: a small value type and the two shapes Neon answers in.

Every regular response is JSON (``application/json; charset=utf-8``) with a
``Content-Length`` and the request's id in ``x-neon-ret-request-id``; an error body is a
``GeneralError``: ``{"code": "", "message": ..., "request_id": ...}``. Faults build altered
copies of these (another body, another ``Content-Type``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._constants import RESPONSE_REQUEST_ID_HEADER

__all__ = ["JSON_CONTENT_TYPE", "Response", "error_response", "json_response"]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
"""The ``Content-Type`` of every regular response."""


@dataclass(frozen=True, slots=True)
class Response:
    """A whole response: status, headers (lower-case names, in order) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def build(
        cls,
        status: int,
        body: bytes,
        request_id: str,
        *,
        media_type: str = JSON_CONTENT_TYPE,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A response with the emulator's usual headers, then ``headers`` (names lower-cased)."""
        listed = [
            ("content-type", media_type),
            ("content-length", str(len(body))),
            (RESPONSE_REQUEST_ID_HEADER, request_id),
        ]
        listed.extend((name.lower(), value) for name, value in (headers or {}).items())
        return cls(status, tuple(listed), body)

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (lower case), or None."""
        return next((value for key, value in self.headers if key == name), None)

    def with_header(self, name: str, value: str) -> Response:
        """A copy whose header ``name`` (lower case) is ``value`` wherever it appears."""
        headers = tuple((key, value if key == name else old) for key, old in self.headers)
        return Response(self.status, headers, self.body)

    def with_body(self, body: bytes) -> Response:
        """A copy with another body and a ``Content-Length`` that matches it."""
        return Response(self.status, self.headers, body).with_header(
            "content-length", str(len(body))
        )


def json_response(
    status: int, payload: Any, request_id: str, headers: Mapping[str, str] | None = None
) -> Response:
    """``payload`` as compact UTF-8 JSON, with the usual headers."""
    return Response.build(status, _json(payload), request_id, headers=headers)


def error_response(
    status: int,
    message: str,
    request_id: str,
    *,
    code: str = "",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A ``GeneralError`` body (``code``, ``message``, ``request_id``) with ``status``."""
    body = {"code": code, "message": message, "request_id": request_id}
    return Response.build(status, _json(body), request_id, headers=headers)


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
