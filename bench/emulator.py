"""The emulator (``neon_keys.testing``) in its own process, driven over stdin and stdout.

Bulk work is measured against it; running it in another process keeps its request
handling off the client's interpreter. One JSON object per line each way:

    {"op": "reset", "keys": 1000, "limits": null, "latency": 0, "latency_everywhere": 0}
        -> {"base_url": ..., "api_key": ..., "ids": [...]}
    a fresh seeded world (rate limits: null, or ServerRateLimits keyword arguments) with
    ``keys`` more personal keys of the seeded admin; ``ids`` are theirs. With ``latency``
    (seconds), every revoke is answered that much later, as a distant server would; with
    ``latency_everywhere``, every request of every operation. With ``orgs`` (a count) and
    ``org_keys``, that many organizations (the admin an admin of each) of that many keys
    each, all used once (``org_ids`` in the reply); ``limits`` may be "neon" (Neon's own).
    {"op": "stats"}
        -> {"requests": n, "statuses": {"200": n, "429": n, ...}, "revoked": n}

It binds 127.0.0.1 only and stops when its standard input closes.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from child import Child


def serve() -> None:
    """Run the emulator until stdin closes, answering commands."""
    from neon_keys.testing import EmulatorServer, Fault, ServerRateLimits, World

    server = EmulatorServer(World.seeded()).start()
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "reset":
                limits = command.get("limits")
                if limits == "neon":
                    enforced = ServerRateLimits()
                else:
                    enforced = ServerRateLimits(**limits) if limits is not None else None
                world = World.seeded(rate_limits=enforced)
                admin = world.seed.admin_id
                org_ids = _organizations(world, command.get("orgs", 0), command.get("org_keys", 0))
                ids = []
                for index in range(command.get("keys", 0)):
                    token = world.issue_personal_key(admin, f"bulk-{index:05d}")
                    info = world.key_for_token(token)
                    assert info is not None
                    ids.append(info.id)
                if command.get("latency"):
                    fault = Fault.delay(command["latency"])
                    world.faults.inject("revokeApiKey", fault, times=None)
                if command.get("latency_everywhere"):
                    fault = Fault.delay(command["latency_everywhere"])
                    world.faults.inject("*", fault, times=None)
                server.world = world
                reply: dict[str, Any] = {
                    "base_url": server.base_url,
                    "api_key": world.seed.admin_token,
                    "ids": ids,
                    "org_ids": org_ids,
                }
            elif command["op"] == "stats":
                # Requests still in flight (abandoned by a client) are logged once they end.
                server.world.log.settle()
                records = server.world.log.records
                statuses = Counter(str(record.status) for record in records)
                reply = {
                    "requests": len(records),
                    "statuses": dict(statuses),
                    "revoked": sum(1 for record in records if record.changed),
                    "operations": dict(Counter(record.operation_id for record in records)),
                    "live_keys": len(server.world.personal_keys(server.world.seed.admin_id)),
                }
            else:
                reply = {"error": f"unknown op {command['op']!r}"}
            print(json.dumps(reply), flush=True)
    finally:
        server.stop()


def _organizations(world: Any, count: int, keys: int) -> list[str]:
    """``count`` organizations of ``keys`` organization keys each, every key used once."""
    org_ids = []
    for number in range(count):
        org_id = f"org-bench-{number:08d}"
        world.add_org(org_id, admins=[world.seed.admin_id])
        for index in range(keys):
            token = world.issue_org_key(org_id, f"svc-{index:05d}")
            info = world.key_for_token(token)
            with world.store.transaction():
                world.store.touch(world.store.key(info.id), "203.0.113.7")
        org_ids.append(org_id)
    return org_ids


class EmulatorProcess(Child):
    """The emulator in a child process; a context manager. ``send`` runs one command."""

    def __init__(self, python: str = sys.executable) -> None:
        super().__init__([python, str(Path(__file__).resolve())], "emulator process")

    def send(self, **command: Any) -> dict[str, Any]:
        """Send a command and return the emulator's answer."""
        return self.request(command)


if __name__ == "__main__":
    serve()
