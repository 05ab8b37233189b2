"""Argument types that check input against the API's rules while the command line is parsed.

A bad value is a usage error (exit 2) raised before any request is sent; the checks are the
library's own (``neon_keys._validation``), so the CLI and the library agree on every rule.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import click
from click.shell_completion import CompletionItem

from neon_keys import _validation
from neon_keys._durations import parse_duration
from neon_keys._exceptions import InvalidInputError

from ._profiles import profile_orgs

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_MAX_KEY_ID_DIGITS = len(str(2**63 - 1))
"""Digits of the largest key id (a positive 64-bit integer)."""


class _Checked(click.ParamType):  # type: ignore[type-arg]
    """A string checked by one of the library's validators. Strictly private.

    ``ParamType`` is subscripted for type checkers in recent click only, hence the ignores.
    """

    def check(self, value: str) -> Any:
        raise NotImplementedError

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.check(value)
        except InvalidInputError as err:
            self.fail(str(err), param, ctx)


class KeyIdType(_Checked):
    """A key id: a positive 64-bit integer."""

    name = "key_id"

    def check(self, value: str) -> int:
        if isinstance(value, int):
            return _validation.key_id(value)
        text = value.strip()
        if not text.isascii() or not text.isdecimal():
            raise InvalidInputError("key_id", "must be a positive integer", value)
        if len(text.lstrip("0")) > _MAX_KEY_ID_DIGITS:
            # Python refuses to read an integer of thousands of digits: say why it is no id.
            raise InvalidInputError("key_id", "must be a positive 64-bit integer", value)
        return _validation.key_id(int(text))


class ResourceIdType(_Checked):
    """An organization or project id (``^[a-z0-9-]{1,60}$``)."""

    def __init__(self, field: str) -> None:
        self.name = field
        self.field = field

    def check(self, value: str) -> str:
        return _validation.resource_id(self.field, value)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """The organizations the config file's profiles name (organization ids only)."""
        if self.field != "org_id":
            return []
        return [CompletionItem(org) for org in profile_orgs() if org.startswith(incomplete)]


class KeyNameType(_Checked):
    """A key name: 1 to 64 characters."""

    name = "name"

    def check(self, value: str) -> str:
        return _validation.key_name(value)


class DurationType(_Checked):
    """A duration such as ``90s``, ``12h``, ``1h30m`` or ``7d`` (``neon_keys._durations``)."""

    name = "duration"

    def check(self, value: str) -> datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        return parse_duration(value, field="duration")


class EnvNameType(click.ParamType):  # type: ignore[type-arg]
    """An environment variable name (letters, digits, underscores; not starting with a digit)."""

    name = "var"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
            self.fail(f"{value!r} is not a valid variable name", param, ctx)
        return value


KEY_ID = KeyIdType()
ORG_ID = ResourceIdType("org_id")
PROJECT_ID = ResourceIdType("project_id")
KEY_NAME = KeyNameType()
DURATION = DurationType()
ENV_NAME = EnvNameType()
