"""Which key is making the call: ``revoke`` and ``audit --revoke`` spare it unless told.

Neon does not say which key is calling. ``GET /auth`` says whose it is: a personal key is
among its user's personal keys, an organization (or project-scoped) key among its
organization's keys. Every call marks its key as used, so of those the key used last (the
command's own listing used it) is the caller, with any key used in the same second: Neon
records uses to the second. ``find_calling_keys`` breaks such a tie when it matters.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence

from neon_keys._calling import calling_keys
from neon_keys._models import APIKey, AuthDetails
from neon_keys._scope import KeyScope

from ._errors import CliError, ExitCode
from ._output import clean

NEON_TIME_RESOLUTION = datetime.timedelta(seconds=1)
"""Neon records when a key was last used to the second: two uses in the same second cannot
be told apart."""


def find_calling_keys(
    keys: KeyScope,
    listing: Sequence[APIKey],
    ids: Sequence[int],
    *,
    whoami: Callable[[], AuthDetails],
) -> set[int]:
    """The ids of ``listing`` (``keys``' keys) that may be the key making this call.

    ``calling_keys`` on the listing; when that leaves several keys, some of them to be
    revoked (``ids``), the tie is broken once: after a wait longer than Neon's one-second
    resolution the caller is used again (``whoami``) and the keys listed again, and only
    the keys used since remain. A key used again meanwhile by someone else stays in doubt.
    """
    caller = whoami()
    calling = calling_keys(caller, keys.org_id, listing)
    if len(calling) < 2 or not calling & set(ids):
        return calling
    time.sleep(NEON_TIME_RESOLUTION.total_seconds() + 0.1)
    whoami()
    return calling & calling_keys(caller, keys.org_id, keys.list())


def refuse_self(ids: Sequence[int], calling: set[int], names: dict[int, str]) -> None:
    """Refuse (exit 2, nothing revoked) to revoke a key that may be the calling one."""
    own = [key_id for key_id in ids if key_id in calling]
    if not own:
        return
    labels = ", ".join(f'{key_id} "{clean(names.get(key_id, ""))}"' for key_id in own)
    raise CliError(
        f"key {labels} may be the key making this call (the API key this command runs with: "
        "--api-key, NEON_API_KEY or a profile's): "
        "revoking it ends this key's access; pass --including-self to revoke it anyway; "
        "no key was revoked",
        ExitCode.USAGE,
    )
