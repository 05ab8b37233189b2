"""Response bodies shaped like Neon's ``GET /api_keys``, the same on every run.

A listing is a JSON array of keys with ``id``, ``name``, ``created_at``, ``created_by``
(``{id, name, image}``, a few creators shared by many keys, some with empty name and image),
``last_used_at`` (null for about a third of the keys, which were never used) and
``last_used_from_addr`` (``""`` for those, else one or two comma-joined addresses, a quarter
of them IPv6). Addresses come from a large pool, so most keys have their own, as keys used
from CI runners and cloud machines do.
"""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

_CREATORS = (
    {
        "id": "user_01hq7mzx4c2v9e6t8r3n5b1k0d",
        "name": "Ada Admin",
        "image": "https://avatars.example.com/ada.png",
    },
    {"id": "6f1c2b9e-8a47-4d3e-b5c1-2e7d9a0f4b36", "name": "", "image": ""},
    {
        "id": "629982cc-de05-43db-ae16-28f2399c4910",
        "name": "John Smith",
        "image": "http://link.to.image",
    },
    {
        "id": "user_01h84bfr2npa81rn8h8jzz8mx4",
        "name": "Release Bot",
        "image": "https://avatars.example.com/bot.png",
    },
)
_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def _stamp(seconds: int) -> str:
    moment = _EPOCH + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _address(rng: random.Random) -> str:
    if rng.random() < 0.25:
        groups = (rng.randrange(0x10000), rng.randrange(0x10000), rng.randrange(1, 0x10000))
        return "2600:1f18:{:x}:{:x}::{:x}".format(*groups)
    first = rng.choice((3, 18, 34, 35, 52, 54))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def api_keys(count: int, seed: int = 2026) -> list[dict[str, Any]]:
    """``count`` personal keys as Neon lists them, oldest first."""
    rng = random.Random(seed)
    keys = []
    for index in range(count):
        created = index * 3_600 + rng.randrange(3_600)
        used = rng.random() < 0.65
        addresses = ""
        if used:
            addresses = ",".join(_address(rng) for _ in range(1 if rng.random() < 0.7 else 2))
        keys.append(
            {
                "id": 1_000_001 + index,
                "name": f"ci-deploy-{index:05d}",
                "created_at": _stamp(created),
                "created_by": dict(rng.choice(_CREATORS)),
                "last_used_at": _stamp(created + rng.randrange(1, 10_000_000)) if used else None,
                "last_used_from_addr": addresses,
            }
        )
    return keys


def api_keys_body(count: int) -> bytes:
    """The JSON body of a listing of ``count`` keys, as compact as Neon sends it."""
    return json.dumps(api_keys(count), separators=(",", ":")).encode()
