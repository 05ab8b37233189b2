"""Which key is making the call: Neon does not say, so it is worked out from a listing.

``GET /auth`` says whose key it is: a personal key is among its user's personal keys, an
organization (or project-scoped) key among its organization's keys. Every call marks its
key as used, so of those the key used last is the caller, with any key used in the same
second: Neon records uses to the second. Code that revokes keys on its own (``retire``)
spares every such key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._models import KeyKind

if TYPE_CHECKING:
    from ._models import APIKey, AuthDetails

__all__ = ["calling_keys"]


def calling_keys(caller: AuthDetails, scope_org: str | None, listing: Sequence[APIKey]) -> set[int]:
    """The ids of ``listing`` (a scope's keys) that may be the key making this call.

    Neon does not say which key is calling. ``GET /auth`` says whose it is: a personal key
    is among its user's personal keys, an organization (or project-scoped) key among its
    organization's keys. Every call marks its key as used, so of those the key used last
    (this very call's listing used it) is the caller, with any key used in the same second.
    """
    if caller.key_kind is KeyKind.PERSONAL:
        mine = scope_org is None
    else:
        mine = caller.key_kind is KeyKind.ORG and scope_org == caller.account_id
    seconds = {
        key.id: key.last_used_at.replace(microsecond=0)
        for key in (listing if mine else ())
        if key.last_used_at is not None
    }
    if not seconds:
        return set()
    newest = max(seconds.values())
    return {key_id for key_id, second in seconds.items() if second == newest}
