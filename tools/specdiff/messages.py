"""The wording of the report: a schema's facts in a few words, a change in one line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Change


def describe(facts: Any) -> str:
    """A short human description of a schema's facts."""
    if not isinstance(facts, dict):
        return json.dumps(facts)
    kind = str(facts.get("$ref") or facts.get("type", "any"))
    if kind == "array" and isinstance(facts.get("items"), dict):
        kind = f"array of {describe(facts['items'])}"
    elif "properties" in facts:
        kind = f"object {{{', '.join(sorted(facts['properties']))}}}"
    extras = [
        "required" if key == "required" and value is True else f"{key} {json.dumps(value)}"
        for key, value in sorted(facts.items())
        if key not in ("$ref", "type", "items", "properties")
    ]
    return ", ".join([kind, *extras])


def _fmt(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, sort_keys=True)


def change_message(change: Change) -> str:
    """One line saying what ``change`` is, where it is."""
    place = " ".join(part for part in (change.where, change.at) if part)
    prefix = f"{place}: " if place else ""
    p, u = change.pinned, change.upstream
    added = change.change == "added"
    match change.fact:
        case "operation" if added:
            return (
                f"new upstream operation in covered tag(s) {', '.join(u['tags'])}: cover it in "
                "the pinned description or list it in the excluded operations file"
            )
        case "operation":
            return f"missing upstream; {p} is now {u}" if u else "missing upstream"
        case "schema" if not place:
            return f"new upstream: {describe(u)}" if added else "missing upstream"
        case "schema":
            return f"{prefix}schema {describe(p)} -> {describe(u)}"
        case "used":
            return (
                "used by the covered operations only upstream" if u else "no longer used upstream"
            )
        case "required":
            return f"{prefix}{'now required' if u else 'no longer required'}"
        case "property":
            return (
                f"{prefix}new property ({describe(u)})"
                if added
                else (f"{prefix}property missing upstream (was {describe(p)})")
            )
        case "media type":
            return (
                f"{prefix}media type {u if added else p} {'new' if added else 'missing'} upstream"
            )
        case "parameter" | "response" | "header" | "request body" if change.change != "changed":
            return f"{prefix}{'new' if added else 'missing'} upstream"
    if isinstance(p, list) and isinstance(u, list):
        gained = [item for item in u if item not in p]
        lost = [item for item in p if item not in u]
        parts = [f"added {_fmt(gained)}"] if gained else []
        parts += [f"removed {_fmt(lost)}"] if lost else []
        return f"{prefix}{change.fact}: {'; '.join(parts) or f'{_fmt(p)} -> {_fmt(u)}'}"
    return f"{prefix}{change.fact}: {_fmt(p)} -> {_fmt(u)}"
