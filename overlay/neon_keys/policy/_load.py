"""``load``: read a policy file and check all of it before anything is sent.

Every problem of the file is collected (not only the first), each as
``FILE:LINE: field: message``, and raised together as ``PolicyFileError``. The checks:
the TOML syntax (``tomllib``), unknown fields, types, durations (``neon_keys._durations``),
networks (``ipaddress``), ids (Neon's pattern), key and lease names (Neon's rules and the
lease grammar), scopes that the file does not manage, contradictory settings, and
duplicate declarations, organizations or files.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path as FilePath
from typing import Any, TypeVar

from .. import _validation
from .._durations import format_duration, parse_duration
from .._exceptions import InvalidInputError
from .._lease_names import check_base_name
from .._models import KeyKind
from ._model import (
    ExpiredLeases,
    IPNetwork,
    KeyDeclaration,
    PersonalKeys,
    Policy,
    Rules,
    Scopes,
    Target,
    Undeclared,
)
from ._toml_lines import Path, line_of, locate

__all__ = ["DEFAULT_FILE", "PolicyFileError", "Problem", "load", "loads"]

DEFAULT_FILE = "neon-keys.toml"
"""The file ``plan``, ``apply`` and ``check`` read when none is named."""

SUPPORTED_VERSION = 1

_TOP = ("version", "rules", "scopes", "keys")
_RULES = (
    "max_age",
    "max_unused",
    "min_age",
    "allowed_networks",
    "personal_keys",
    "undeclared",
    "expired_leases",
)
_SCOPES = ("personal", "orgs")
_KEY = ("name", "scope", "rotate_every", "grace", "quiet", "ttl", "deliver", "save")
_SYNTAX_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = " (at end of document)"
_E = TypeVar("_E")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file.

    Attributes:
        file: the file, as it was named.
        line: the line (from 1).
        field: the field, as a path (``rules.max_age``, ``keys[2].deliver[0]``).
        message: what is wrong.
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class PolicyFileError(InvalidInputError):
    """A policy file that cannot be used; nothing was sent.

    Its message is one line per problem, ``FILE:LINE: field: message``, in the order of
    the file.

    Attributes:
        problems: every problem found.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.line, p.field)))
        self.field = "policy file"
        self.rule = "\n".join(map(str, self.problems))
        Exception.__init__(self, self.rule)


def load(path: str | os.PathLike[str]) -> Policy:
    """Read and check the policy file ``path``; ``PolicyFileError`` lists what is wrong.

    Relative ``save`` paths and ``deliver`` commands are taken relative to the file's folder.
    """
    name = os.fspath(path)
    try:
        data = FilePath(name).read_bytes()
    except OSError as err:
        reason = err.strerror or str(err)
        raise PolicyFileError([Problem(name, 1, "file", f"cannot be read: {reason}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise PolicyFileError([Problem(name, line, "file", "is not UTF-8 text")]) from None
    return loads(text, path=name, folder=FilePath(name).parent)


def loads(text: str, *, path: str = DEFAULT_FILE, folder: FilePath | None = None) -> Policy:
    """Check the policy written in ``text`` (named ``path`` in messages); see ``load``.

    Args:
        text: the file's contents.
        path: its name, for messages.
        folder: the folder relative ``save`` paths are resolved against (default: the
            current folder).
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        match = _SYNTAX_POSITION.search(message)
        line = int(match.group(1)) if match else 1
        if match:
            message = f"{message[: match.start()]} (column {match.group(2)})"
        elif message.endswith(_AT_END):
            line = len(text.rstrip("\n").split("\n"))
            message = f"{message.removesuffix(_AT_END)} (at the end of the file)"
        raise PolicyFileError(
            [Problem(path, line, "syntax", f"not valid TOML: {message}")]
        ) from None
    checker = _Checker(path, locate(text), folder or FilePath())
    policy = checker.policy(document)
    if checker.problems or policy is None:
        raise PolicyFileError(checker.problems)
    return policy


class _Failed(Exception):
    """A value that cannot be used; already recorded as a problem. Strictly private."""


class _Checker:
    """Collects the problems of one document while building its ``Policy``. Strictly private."""

    def __init__(self, file: str, lines: Mapping[Path, int], folder: FilePath) -> None:
        self.file = file
        self.lines = lines
        self.folder = folder
        self.problems: list[Problem] = []

    # -- recording -------------------------------------------------------------------------

    def line(self, path: Path) -> int:
        return line_of(self.lines, path)

    def fail(self, path: Path, message: str) -> _Failed:
        self.problems.append(Problem(self.file, self.line(path), _field(path), message))
        return _Failed()

    def attempt(self, check: Callable[[], _E]) -> _E | None:
        """``check()``, or None if it recorded a problem."""
        try:
            return check()
        except _Failed:
            return None

    # -- types -----------------------------------------------------------------------------

    def table(self, value: object, path: Path, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, not {_type(value)}")
        for name in value:
            if name not in allowed:
                self.fail((*path, name), f"unknown field (known: {', '.join(allowed)})")
        return value

    def string(self, value: object, path: Path) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, not {_type(value)}")
        return value

    def choice(self, value: object, path: Path, kind: type[_E]) -> _E:
        text = self.string(value, path)
        options = [member.value for member in kind]  # type: ignore[attr-defined]
        if text not in options:
            shown = " or ".join(f'"{option}"' for option in options)
            raise self.fail(path, f"must be {shown}, not {text!r}")
        return kind(text)  # type: ignore[call-arg]

    def duration(
        self, value: object, path: Path, *, least: datetime.timedelta = datetime.timedelta(0)
    ) -> datetime.timedelta:
        try:
            parsed = parse_duration(value, field=_field(path))
        except InvalidInputError as err:
            raise self.fail(path, _rule(err)) from None
        if parsed < least:
            raise self.fail(
                path, f"must be at least {format_duration(least)}, not {format_duration(parsed)}"
            )
        return parsed

    def optional_duration(
        self, table: dict[str, Any], path: Path, name: str, *, positive: bool
    ) -> datetime.timedelta | None:
        if name not in table:
            return None
        least = datetime.timedelta(seconds=1 if positive else 0)
        return self.attempt(lambda: self.duration(table[name], (*path, name), least=least))

    def strings(self, value: object, path: Path, *, what: str) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list of {what}, not {_type(value)}")
        found = []
        for index, item in enumerate(value):
            text = self.attempt(partial(self.string, item, (*path, index)))
            if text is not None:
                found.append(text)
        return found

    # -- the document ----------------------------------------------------------------------

    def policy(self, document: dict[str, Any]) -> Policy | None:
        self.attempt(lambda: self.table(document, (), _TOP))
        version = self.attempt(lambda: self.version(document))
        rules = self.attempt(lambda: self.rules(document.get("rules", {}))) or Rules()
        scopes = self.attempt(lambda: self.scopes(document))
        keys = self.attempt(lambda: self.keys(document.get("keys", []), rules, scopes))
        if version is None or scopes is None or keys is None:
            return None
        return Policy(self.file, version, rules, scopes, keys, self.line(("scopes",)))

    def version(self, document: dict[str, Any]) -> int:
        if "version" not in document:
            raise self.fail(("version",), "missing: a policy file starts with version = 1")
        value = document["version"]
        if value != SUPPORTED_VERSION or isinstance(value, bool):
            raise self.fail(
                ("version",),
                f"must be {SUPPORTED_VERSION} (the version this program reads), not {value!r}",
            )
        return SUPPORTED_VERSION

    def rules(self, value: object) -> Rules:
        path: Path = ("rules",)
        table = self.table(value, path, _RULES)
        lines = {name: self.line((*path, name)) for name in table if name in _RULES}
        networks = None
        if "allowed_networks" in table:
            networks = self.attempt(lambda: self.networks(table["allowed_networks"]))
        min_age = self.optional_duration(table, path, "min_age", positive=False)
        settings: dict[str, Any] = {
            "max_age": self.optional_duration(table, path, "max_age", positive=True),
            "max_unused": self.optional_duration(table, path, "max_unused", positive=True),
            "allowed_networks": networks,
            "lines": lines,
        }
        if min_age is not None:
            settings["min_age"] = min_age
        for name, kind in (
            ("personal_keys", PersonalKeys),
            ("undeclared", Undeclared),
            ("expired_leases", ExpiredLeases),
        ):
            if name in table:
                chosen = self.attempt(partial(self.choice, table[name], (*path, name), kind))
                if chosen is not None:
                    settings[name] = chosen
        return Rules(**settings)

    def networks(self, value: object) -> tuple[IPNetwork, ...]:
        path: Path = ("rules", "allowed_networks")
        texts = self.strings(value, path, what='networks such as "203.0.113.0/24"')
        if isinstance(value, list) and not value:
            raise self.fail(path, "must name at least one network (leave it out to allow any)")
        networks: list[IPNetwork] = []
        for index, text in enumerate(value if isinstance(value, list) else []):
            if not isinstance(text, str):
                continue
            try:
                network = ipaddress.ip_network(text, strict=True)
            except ValueError as err:
                self.fail((*path, index), f"not a network in CIDR notation: {err}")
                continue
            if network in networks:
                self.fail((*path, index), f"{text} is listed twice")
                continue
            networks.append(network)
        if len(networks) != len(texts):
            raise _Failed()
        return tuple(networks)

    def scopes(self, document: dict[str, Any]) -> Scopes:
        path: Path = ("scopes",)
        if "scopes" not in document:
            raise self.fail(
                path, "missing: say which keys the file manages ([scopes] personal, orgs)"
            )
        table = self.table(document["scopes"], path, _SCOPES)
        personal = False
        if "personal" in table:
            value = table["personal"]
            if not isinstance(value, bool):
                raise self.fail((*path, "personal"), f"must be true or false, not {_type(value)}")
            personal = value
        orgs: tuple[str, ...] = ()
        all_orgs = False
        if "orgs" in table:
            value = table["orgs"]
            if value == "all":
                all_orgs = True
            elif isinstance(value, str):
                raise self.fail(
                    (*path, "orgs"), f'must be "all" or a list of organization ids, not {value!r}'
                )
            else:
                orgs = self.org_ids(value)
        if not personal and not orgs and not all_orgs:
            raise self.fail(path, "manages nothing: set personal = true, or list orgs")
        return Scopes(personal=personal, orgs=orgs, all_orgs=all_orgs)

    def org_ids(self, value: object) -> tuple[str, ...]:
        path: Path = ("scopes", "orgs")
        if not isinstance(value, list):
            raise self.fail(
                path, f'must be "all" or a list of organization ids, not {_type(value)}'
            )
        found: list[str] = []
        failed = False
        for index, item in enumerate(value):
            org_id = self.attempt(partial(self.resource_id, item, (*path, index)))
            if org_id is None:
                failed = True
            elif org_id in found:
                self.fail((*path, index), f"{org_id} is listed twice")
                failed = True
            else:
                found.append(org_id)
        if failed:
            raise _Failed()
        return tuple(found)

    def resource_id(self, value: object, path: Path) -> str:
        text = self.string(value, path)
        try:
            return _validation.resource_id(_field(path), text)
        except InvalidInputError as err:
            raise self.fail(path, _rule(err)) from None

    # -- [[keys]] ----------------------------------------------------------------------------

    def keys(
        self, value: object, rules: Rules, scopes: Scopes | None
    ) -> tuple[KeyDeclaration, ...]:
        if not isinstance(value, list):
            raise self.fail(("keys",), "must be an array of tables ([[keys]] entries)")
        declared: list[KeyDeclaration] = []
        first: dict[tuple[str, str], KeyDeclaration] = {}
        saved: dict[FilePath, KeyDeclaration] = {}
        failed = False
        for index, entry in enumerate(value):
            key = self.attempt(partial(self.key, index, entry, rules, scopes))
            if key is None:
                failed = True
                continue
            identity = (key.name, str(key.target))
            if identity in first:
                self.fail(
                    ("keys", index),
                    f"{key.label} is declared twice (first at line {first[identity].line})",
                )
                failed = True
                continue
            first[identity] = key
            if key.save is not None and key.save in saved:
                self.fail(
                    ("keys", index, "save"),
                    f"{key.save} is also the file of {saved[key.save].label} "
                    f"(line {saved[key.save].line}): one file holds one secret",
                )
                failed = True
            elif key.save is not None:
                saved[key.save] = key
            declared.append(key)
        if failed:
            raise _Failed()
        return tuple(declared)

    def key(self, index: int, entry: object, rules: Rules, scopes: Scopes | None) -> KeyDeclaration:
        path: Path = ("keys", index)
        table = self.table(entry, path, _KEY)
        problems = len(self.problems)
        ttl = self.optional_duration(table, path, "ttl", positive=True)
        name = self.attempt(lambda: self.key_name(table, path, lease=ttl is not None))
        target = self.attempt(lambda: self.target(table, path, rules, scopes))
        rotate_every = self.optional_duration(table, path, "rotate_every", positive=True)
        grace = self.optional_duration(table, path, "grace", positive=False)
        quiet = self.optional_duration(table, path, "quiet", positive=True)
        deliver = self.attempt(lambda: self.commands(table, path)) or ()
        save = self.attempt(lambda: self.save_path(table, path))
        if "quiet" in table and "grace" not in table:
            self.fail((*path, "quiet"), "applies to a staged rotation only: set grace as well")
        if ttl is not None and rotate_every is not None and rotate_every >= ttl:
            self.fail(
                (*path, "rotate_every"),
                f"must be shorter than ttl ({format_duration(ttl)}): a lease expires at its "
                "ttl, so it would be replaced only once expired",
            )
        if not deliver and save is None and "deliver" not in table and "save" not in table:
            self.fail(path, "its secret would go nowhere: set deliver, save or both")
        if len(self.problems) > problems or name is None or target is None:
            raise _Failed()
        return KeyDeclaration(
            index=index,
            line=self.line(path),
            name=name,
            target=target,
            rotate_every=rotate_every,
            grace=grace,
            quiet=quiet,
            ttl=ttl,
            deliver=tuple(deliver),
            save=save,
            scope_line=self.line((*path, "scope")),
        )

    def key_name(self, table: dict[str, Any], path: Path, *, lease: bool) -> str:
        if "name" not in table:
            raise self.fail(path, "name is missing")
        where = (*path, "name")
        name = self.string(table["name"], where)
        try:
            if lease:
                return check_base_name(name)
            _validation.key_name(name)
        except InvalidInputError as err:
            raise self.fail(where, _rule(err)) from None
        if " (lease " in name:
            raise self.fail(where, "must not contain ' (lease ': set ttl to declare a lease")
        return name

    def target(
        self, table: dict[str, Any], path: Path, rules: Rules, scopes: Scopes | None
    ) -> Target:
        if "scope" not in table:
            raise self.fail(
                path, 'scope is missing ("personal", "org:ORG_ID" or "project:ORG_ID/PROJECT_ID")'
            )
        where = (*path, "scope")
        text = self.string(table["scope"], where)
        kind, _, rest = text.partition(":")
        if text == "personal":
            target = Target(KeyKind.PERSONAL)
        elif kind == "org" and rest:
            target = Target(KeyKind.ORG, self.resource_id(rest, where))
        elif kind == "project" and "/" in rest:
            org_id, _, project_id = rest.partition("/")
            target = Target(
                KeyKind.PROJECT,
                self.resource_id(org_id, where),
                self.resource_id(project_id, where),
            )
        else:
            raise self.fail(
                where,
                f'must be "personal", "org:ORG_ID" or "project:ORG_ID/PROJECT_ID", not {text!r}',
            )
        if scopes is None:
            return target
        if target.kind is KeyKind.PERSONAL:
            if not scopes.personal:
                raise self.fail(
                    where, "personal keys are not managed: set [scopes] personal = true"
                )
            if rules.personal_keys is PersonalKeys.FORBID:
                raise self.fail(where, 'a personal key, but rules.personal_keys is "forbid"')
        elif not scopes.all_orgs and target.org_id not in scopes.orgs:
            raise self.fail(
                where, f"organization {target.org_id} is not managed: add it to [scopes] orgs"
            )
        return target

    def commands(self, table: dict[str, Any], path: Path) -> list[str]:
        if "deliver" not in table:
            return []
        where = (*path, "deliver")
        commands = self.strings(table["deliver"], where, what="commands")
        if isinstance(table["deliver"], list) and not table["deliver"]:
            raise self.fail(where, "is empty: name a command, or leave deliver out")
        failed = len(commands) != len(table["deliver"])
        for index, command in enumerate(commands):
            try:
                words = shlex.split(command)
            except ValueError as err:
                self.fail((*where, index), f"cannot be split as a shell would: {err}")
                failed = True
                continue
            if not words:
                self.fail((*where, index), "is empty")
                failed = True
        if failed:
            raise _Failed()
        return commands

    def save_path(self, table: dict[str, Any], path: Path) -> FilePath | None:
        if "save" not in table:
            return None
        where = (*path, "save")
        text = self.string(table["save"], where)
        if not text or "\0" in text:
            raise self.fail(where, "must name a file")
        if text.endswith(("/", os.sep)) or os.path.basename(text) in (".", ".."):
            raise self.fail(where, f"{text} names a folder, not a file")
        return FilePath(os.path.normpath(self.folder / text))


def _field(path: Path) -> str:
    """``keys[2].deliver[0]``: a path as the messages write it."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "file"


def _type(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def _rule(err: InvalidInputError) -> str:
    """An ``InvalidInputError``'s message without its ``invalid FIELD:`` lead."""
    return str(err).removeprefix(f"invalid {err.field}: ")
