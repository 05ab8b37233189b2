"""What the lease commands share (``exec``, ``sweep``, ``create --ttl``): options, words."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import click

from neon_keys import interrupted_create
from neon_keys._lease_names import LeaseName, check_base_name

from ._interrupts import interrupted_create_report
from ._output import iso_time
from ._params import DurationType

if TYPE_CHECKING:
    from neon_keys._models import APIKey
    from neon_keys._scope import KeyScope

    from ._session import Session

__all__ = [
    "TTL",
    "check_lease_base",
    "create_lease_for",
    "expiry_text",
    "lease_interrupted_report",
]


class LifetimeType(DurationType):
    """A duration of at least a second: the lifetime of a lease."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime.timedelta:
        duration: datetime.timedelta = super().convert(value, param, ctx)
        if duration < datetime.timedelta(seconds=1):
            self.fail(f"must be at least 1s, got {value!r}", param, ctx)
        return duration


TTL = LifetimeType()
"""``--ttl``: how long a lease lives."""


def check_lease_base(name: str) -> str:
    """``name`` if it can be a lease's base name; ``InvalidInputError`` (exit 2) otherwise."""
    return check_base_name(name)


def create_lease_for(
    session: Session,
    scope: KeyScope,
    base_name: str,
    *,
    ttl: datetime.timedelta,
    project_id: str | None,
) -> APIKey:
    """A new lease in ``scope``, stamped on Neon's clock (see ``neon_keys._leases``)."""
    from neon_keys._leases import create_lease  # noqa: PLC0415  (imports the client's modules)

    return create_lease(
        scope, session.client().server_now, base_name, ttl=ttl, project_id=project_id
    )


def expiry_text(key: APIKey) -> str:
    """``, expires 2025-06-01T13:00:00Z`` for a lease; empty for an ordinary key."""
    expires = iso_time(key.expires_at)
    return f", expires {expires}" if expires else ""


def lease_interrupted_report(
    interrupt: BaseException, *, base_name: str, org_id: str | None
) -> str:
    """What exists after a signal stopped the create of a lease of ``base_name``.

    As for any create (``interrupted_create_report``), under the lease's full name; a lease
    that was made is also one that a sweep removes once it has expired.
    """
    found = interrupted_create(interrupt)
    name = found.key_name if found is not None else base_name
    report = interrupted_create_report(interrupt, name=name, org_id=org_id)
    lease = LeaseName.parse(name)
    if found is not None and found.candidates and lease is not None:
        sweep = "neon-keys sweep" + (f" --org {org_id}" if org_id else "")
        report += (
            f"; it is a lease: if nobody revokes it, `{sweep}` removes it after "
            f"{iso_time(lease.expires_at)}"
        )
    return report
