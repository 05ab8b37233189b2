"""Neon's clock, checked against Neon's own records before anything is revoked by it.

``retire`` and ``sweep`` revoke what is due by Neon's clock, the ``Date`` of its answers.
A ``Date`` can lie while looking sane: a proxy or a server whose clock reads year 2300
makes every grace period and every lease look over. The keys of a listing carry times
Neon's database wrote (``created_at``, ``last_used_at``), which no proxy in between
rewrites, so the ``Date`` must not run implausibly far beyond them:

- **The calling key.** Every call marks its key used (the listing just read did), so when
  the listing holds the caller's keys (``_calling``) the newest use among them is Neon's
  "now", give or take how late Neon records a use. A ``Date`` more than ``CALLER_LEAD``
  beyond it is refused.
- **Any listing.** Otherwise (a personal key acting on an organization's keys, or ``sweep``,
  which does not ask who is calling) the newest time among the keys is the only record:
  keys can sit idle for months, so only a ``Date`` more than ``RECORD_LEAD`` beyond it is
  refused.

A refusal is a ``ServerTimeUnknownError`` naming both times, raised before any revoke.
A ``Date`` behind the records is not refused here: by it, less is due, never more.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from ._durations import format_duration
from ._exceptions import ServerTimeUnknownError

if TYPE_CHECKING:
    from ._models import APIKey

__all__ = ["CALLER_LEAD", "RECORD_LEAD", "check_neon_now"]

CALLER_LEAD = datetime.timedelta(days=1)
"""How far Neon's ``Date`` may run ahead of the calling key's last recorded use: a day,
room for a service that records uses late or in batches."""

RECORD_LEAD = datetime.timedelta(days=366)
"""How far Neon's ``Date`` may run ahead of the newest time a listing records, when the
calling key is not in it: a year of keys nobody created or used."""


def check_neon_now(
    now: datetime.datetime,
    keys: Sequence[APIKey],
    *,
    calling: Collection[int] = (),
    acting: str,
) -> None:
    """Raise ``ServerTimeUnknownError`` if ``now`` runs implausibly far ahead of ``keys``.

    Args:
        now: Neon's time by the ``Date`` of its answers, as of the listing ``keys``.
        keys: the listing, as Neon answered it.
        calling: ids among ``keys`` that may be the key making the call (none: unknown).
        acting: what is about to act on ``now`` (``"retire"``), for the message.

    With no time recorded in ``keys`` there is nothing to contradict ``now``.
    """
    caller_uses = [k.last_used_at for k in keys if k.id in calling and k.last_used_at is not None]
    if caller_uses:
        seen = max(caller_uses)
        if now - seen > CALLER_LEAD:
            _refuse(now, seen, "the key making this call was last used", acting, hint="")
        return
    records = [t for k in keys for t in (k.created_at, k.last_used_at) if t is not None]
    if not records:
        return
    newest = max(records)
    if now - newest > RECORD_LEAD:
        _refuse(
            now,
            newest,
            f"the newest time Neon records among these {len(keys)} keys is",
            acting,
            hint=(
                " If these keys have simply not been created or used for over a year, run it "
                "with a key of this scope: Neon records the use of the key making the call."
            ),
        )


def _refuse(
    now: datetime.datetime, seen: datetime.datetime, what: str, acting: str, *, hint: str
) -> None:
    raise ServerTimeUnknownError(
        f"Neon's clock, by the Date of its answers, reads {_when(now)}, but {what} "
        f"{_when(seen)}: {format_duration(now - seen)} earlier, more than Neon's records "
        f"allow. A proxy or a server with a wrong clock? {acting} judges what is due by "
        f"Neon's clock, so nothing was revoked.{hint}"
    )


def _when(moment: datetime.datetime) -> str:
    """A time in messages: UTC, to the second (``2025-06-01 12:00:00 UTC``)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
