"""Reading descriptions: fetch the bytes of a path or an http(s) URL, parse YAML or JSON, check
it is an OpenAPI 3 document; and the list of operations deliberately left out."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from .model import SpecError
from .refs import Document

FETCH_TIMEOUT = 30.0  # seconds, for a description fetched over http(s)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def fetch(source: str, *, timeout: float = FETCH_TIMEOUT) -> bytes:
    """The bytes at a path, a ``file://`` URL or an http(s) URL."""
    scheme = _SCHEME.match(source)
    if scheme is None:
        return _read_file(source, source)
    kind = scheme.group(1).lower()
    if kind == "file":
        return _read_file(unquote(urlsplit(source).path), source)
    if kind not in ("http", "https"):
        raise SpecError(f"{source}: only http and https URLs are supported")
    try:
        with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        raise SpecError(f"{source}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SpecError(f"{source}: cannot fetch ({reason})") from None


def _read_file(path: str, source: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SpecError(f"{source}: cannot read ({exc.strerror or exc})") from None


def parse(text: str, source: str = "<text>") -> dict[str, Any]:
    """Parse YAML or JSON text and check it is an OpenAPI 3 document."""
    doc = _parse_data(text, source)
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3."):
        raise SpecError(f"{source}: not an OpenAPI 3 document (no 'openapi: 3.x' field)")
    if not isinstance(doc.get("paths"), dict):
        raise SpecError(f"{source}: not an OpenAPI 3 document (no 'paths' mapping)")
    return doc


def _parse_data(text: str, source: str) -> Any:
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise SpecError(f"{source}: not valid YAML or JSON ({problem}{where})") from None


def _text(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{source}: not UTF-8 text") from None


def load(source: str, *, timeout: float = FETCH_TIMEOUT) -> dict[str, Any]:
    """Read an OpenAPI 3 description (YAML or JSON) from a path or an http(s) URL."""
    return parse(_text(fetch(source, timeout=timeout), source), source)


def uri_of(source: str) -> str:
    """The absolute URI of a path or URL, against which its relative references resolve."""
    if _SCHEME.match(source):
        return source
    return Path(source).resolve().as_uri()


def open_document(source: str, *, timeout: float = FETCH_TIMEOUT) -> Document:
    """A description and the files or URLs its ``$ref`` reach, fetched when first needed."""

    def retrieve(uri: str) -> Any:
        # A referenced file is any YAML or JSON document, not necessarily a whole description.
        return _parse_data(_text(fetch(uri, timeout=timeout), uri), uri)

    return Document(load(source, timeout=timeout), uri_of(source), retrieve)


def load_excluded(path: Path) -> list[str]:
    """Read the operationIds deliberately left out: one a line, ``#`` starts a comment."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    names = (line.split("#", 1)[0].strip() for line in lines)
    return [name for name in names if name]
