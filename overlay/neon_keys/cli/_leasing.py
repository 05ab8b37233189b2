"""What the lease commands share (``exec``, ``sweep``, ``create --ttl``): durations, words."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import click

from neon_keys._durations import format_duration, parse_duration
from neon_keys._exceptions import InvalidInputError

from ._output import iso_time

if TYPE_CHECKING:
    from neon_keys._models import APIKey


class DurationType(click.ParamType):  # type: ignore[type-arg]
    """A duration such as ``90s``, ``15m``, ``1h30m`` or ``7d`` (``neon_keys._durations``)."""

    name = "duration"

    def __init__(self, *, minimum: datetime.timedelta = datetime.timedelta(0)) -> None:
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        try:
            duration = parse_duration(value, field=param.opts[0] if param else "duration")
        except InvalidInputError as err:
            self.fail(str(err), param, ctx)
        if duration < self.minimum:
            self.fail(
                f"must be at least {format_duration(self.minimum)}, got {value!r}", param, ctx
            )
        return duration


TTL = DurationType(minimum=datetime.timedelta(seconds=1))
"""A lease's lifetime: at least one second."""

GRACE = DurationType()
"""A sweep's grace: zero or more."""


def expiry_text(key: APIKey) -> str:
    """``, expires 2025-06-01T13:00:00Z`` for a lease; empty for an ordinary key."""
    expires = iso_time(key.expires_at)
    return f", expires {expires}" if expires else ""


def revoke_command(key_id: int, org: str | None) -> str:
    """The command that revokes a key by hand."""
    return f"neon-keys revoke {key_id}" + (f" --org {org}" if org else "") + " --yes"
