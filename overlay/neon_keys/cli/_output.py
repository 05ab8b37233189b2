"""Rendering results: plain-text tables for people, JSON records for programs.

The JSON records are a documented, stable interface (docs/cli.md): fields are only ever
added. Times are ISO 8601 in UTC, absent values are ``null``, key ids are integers.
"""

from __future__ import annotations

import datetime
import json
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from neon_keys._models import OrgKey, ProjectKey

from ._color import paint
from ._streams import StdoutUnwritable, write_stderr, write_stdout

if TYPE_CHECKING:
    from neon_keys._models import APIKey, AuthDetails, Creator, Organization

NEVER = "never"
NONE = "-"


def clean(text: str) -> str:
    """``text`` safe to show on a terminal: control characters (escape sequences) become ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def fmt_time(value: datetime.datetime | None, missing: str = NONE) -> str:
    """A time for a table, in UTC to the minute; ``missing`` when there is none."""
    if value is None:
        return missing
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M")


def iso_time(value: datetime.datetime | None) -> str | None:
    """A time for JSON: ISO 8601 in UTC, or None."""
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    colors: Sequence[Sequence[str | None]] | None = None,
) -> str:
    """Left-aligned columns separated by two spaces, under an upper-case header line.

    ``colors`` gives a colour (a click colour name, or None) for each cell of ``rows``: for
    a terminal only (``_color``); None leaves the table plain.
    """
    cells = [[clean(str(cell)) for cell in row] for row in [list(headers), *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        painted = colors[number - 1] if colors is not None and number else [None] * len(row)
        lines.append(
            "  ".join(
                paint(cell, color, on=True) + " " * (widths[i] - len(cell))
                for i, (cell, color) in enumerate(zip(row, painted, strict=True))
            ).rstrip()
        )
    lines[0] = lines[0].upper()
    return "\n".join(lines)


def render_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    """``label  value`` lines with the values aligned (for single objects)."""
    width = max(len(label) for label, _ in pairs)
    return "\n".join(f"{label.ljust(width)}  {clean(value)}" for label, value in pairs)


def plural(count: int, noun: str) -> str:
    """``1 key``, ``2 keys``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def emit(text: str, *, err: bool = False) -> None:
    """Print ``text`` and a newline to stdout (or stderr).

    A stdout that cannot be written (closed, a broken pipe, a full disk) raises
    ``StdoutUnwritable``; stderr failures are ignored (there is nowhere left to say so).
    """
    if err:
        write_stderr(text)
    else:
        write_stdout(text)


def emit_json(data: Any, *, err: bool = False) -> None:
    """Print ``data`` as indented JSON to stdout (or stderr); see ``emit``."""
    emit(json.dumps(data, indent=2, ensure_ascii=False), err=err)


def emit_report(text: str, *, err: bool = False) -> StdoutUnwritable | None:
    """Print what a command that changed keys did; if stdout fails, on stderr instead.

    Returns the failure (None if stdout took it): the caller ends with it (exit 1) once it
    has said everything else.
    """
    try:
        emit(text, err=err)
    except StdoutUnwritable as failure:
        write_stderr(text)
        return StdoutUnwritable(failure.reason, report_on_stderr=True)
    return None


def emit_json_report(data: Any, *, err: bool = False) -> StdoutUnwritable | None:
    """``emit_report`` for a JSON document."""
    return emit_report(json.dumps(data, indent=2, ensure_ascii=False), err=err)


# -- records ---------------------------------------------------------------------------------


def project_of(key: APIKey) -> str | None:
    """The project a key is scoped to (None but for a ``ProjectKey``)."""
    return key.project_id if isinstance(key, ProjectKey) else None


def creator_record(creator: Creator | None) -> dict[str, Any] | None:
    """``created_by`` as JSON."""
    if creator is None:
        return None
    return {"id": creator.id, "name": creator.name, "image": creator.image}


def key_record(key: APIKey) -> dict[str, Any]:
    """A key as JSON (never with its secret): the schema of ``list``'s array items."""
    return {
        "id": key.id,
        "name": key.name,
        "kind": key.kind.value,
        "org_id": org_of(key),
        "project_id": project_of(key),
        "created_at": iso_time(key.created_at),
        "created_by": creator_record(key.created_by),
        "last_used_at": iso_time(key.last_used_at),
        "last_used_from": [str(address) for address in key.last_used_from],
        "revoked": key.revoked,
        "base_name": key.base_name,
        "expires_at": iso_time(key.expires_at),
    }


def org_record(org: Organization) -> dict[str, Any]:
    """An organization as JSON."""
    return {
        "id": org.id,
        "name": org.name,
        "handle": org.handle,
        "plan": org.plan,
        "managed_by": org.managed_by,
        "created_at": iso_time(org.created_at),
        "updated_at": iso_time(org.updated_at),
        "require_mfa": org.require_mfa,
    }


def auth_record(auth: AuthDetails) -> dict[str, Any]:
    """``whoami``'s answer as JSON."""
    kind = auth.key_kind
    return {
        "key_kind": kind.value if kind is not None else None,
        "account_id": auth.account_id,
        "auth_method": auth.auth_method,
        "auth_data": auth.auth_data,
    }


_CREDENTIALS = {
    "personal": "personal API key",
    "org": "organization API key (or project-scoped)",
}


def auth_pairs(record: dict[str, Any]) -> list[tuple[str, str]]:
    """``whoami``'s answer (an ``auth_record``) as labelled lines."""
    pairs = [
        ("credential", _CREDENTIALS.get(record["key_kind"] or "", "not an API key")),
        ("account", record["account_id"]),
        ("auth method", record["auth_method"]),
    ]
    if record["auth_data"]:
        pairs.append(("auth data", record["auth_data"]))
    return pairs


# -- table cells -----------------------------------------------------------------------------


def creator_cell(creator: Creator | None) -> str:
    """Who created a key: the name when Neon gave one, else the user id."""
    if creator is None:
        return NONE
    return creator.name or creator.id


def key_label(key: APIKey) -> str:
    """``personal key 12 "ci"``, ``project key 12 "ci" (project p-1)``: for messages."""
    text = f'{key.kind.value} key {key.id} "{clean(key.name)}"'
    project = project_of(key)
    return f"{text} (project {project})" if project else text


KEY_HEADERS = ("id", "name", "kind", "created", "created by", "last used", "last used from")
ORG_KEY_HEADERS = ("id", "name", "kind", "project", *KEY_HEADERS[3:])
ALL_KEY_HEADERS = ("id", "name", "kind", "org", "project", *KEY_HEADERS[3:])


def org_of(key: APIKey) -> str | None:
    """The organization of an organization or project-scoped key (None for a personal key)."""
    return key.org_id if isinstance(key, OrgKey | ProjectKey) else None


def key_row(key: APIKey, *, org: bool, orgs: bool = False, expires: bool = False) -> list[str]:
    """The cells of a key's row under ``KEY_HEADERS``, ``ORG_KEY_HEADERS`` when ``org``,
    ``ALL_KEY_HEADERS`` when ``orgs``, with an expiry cell after ``created`` when
    ``expires``."""
    scope = [project_of(key) or NONE] if org or orgs else []
    if orgs:
        scope.insert(0, org_of(key) or NONE)
    expiry = [fmt_time(key.expires_at)] if expires else []
    return [
        str(key.id),
        key.name,
        key.kind.value,
        *scope,
        fmt_time(key.created_at),
        *expiry,
        creator_cell(key.created_by),
        fmt_time(key.last_used_at, NEVER),
        ", ".join(str(address) for address in key.last_used_from) or NONE,
    ]


def keys_table(keys: Sequence[APIKey], *, org: bool, orgs: bool = False) -> str:
    """A table of keys, with a project column for an organization's keys, an org column too
    for keys of several scopes (``orgs``), and an EXPIRES column when any of them is a
    lease (``-`` for the others)."""
    headers = list(ALL_KEY_HEADERS if orgs else ORG_KEY_HEADERS if org else KEY_HEADERS)
    expires = any(key.expires_at is not None for key in keys)
    if expires:
        headers.insert(headers.index("created") + 1, "expires")
    rows = [key_row(key, org=org, orgs=orgs, expires=expires) for key in keys]
    return render_table(headers, rows)


def revoke_command(key_ids: Sequence[int | str], org_id: str | None) -> str:
    """The command that revokes ``key_ids`` (``neon-keys revoke 12 13 --org ORG``)."""
    org = f" --org {org_id}" if org_id else ""
    return f"neon-keys revoke {' '.join(map(str, key_ids))}{org}"


def list_command(name: str, org_id: str | None) -> str:
    """The command that lists the keys named ``name`` (quoted for a POSIX shell)."""
    org = f" --org {org_id}" if org_id else ""
    return f"neon-keys list --name {shlex.quote(clean(name))}{org}"
