"""One client, many threads: safe from the very first call, in a fresh process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# Eight threads wait on a barrier, then each makes a first call that loads code on first
# use (a create, an error body, an unusual listing, ...), all on one client. Before the
# imports were serialised, one of them died with a deadlock error from the import system
# in every run (or hung).
SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    import httpx
    from neon_keys import NeonKeys

    CREATED = {"id": 7, "key": "fake_secret_for_threads", "name": "ci",
               "created_at": "2024-05-01T10:00:00Z"}
    ODD = [{"id": 1, "name": "odd", "created_at": "2024-05-01T10:00:00Z",
            "created_by": 12, "last_used_at": None, "last_used_from_addr": ""}]
    ORGS = {"organizations": []}

    def answer(request):
        path = request.url.path
        if request.method == "POST":
            return httpx.Response(200, json={**CREATED, "project_id": None})
        if request.method == "DELETE":
            return httpx.Response(404, json={"code": "", "message": "gone"})
        if path.endswith("/auth"):
            return httpx.Response(200, json={"account_id": "org-a", "auth_method": "api_key_org"})
        if path.endswith("/organizations"):
            return httpx.Response(200, json=ORGS)
        return httpx.Response(200, json=ODD)

    neon = NeonKeys(api_key="napi_threads", base_url="https://neon.test/api/v2",
                    rate_limits=None,
                    http_client=httpx.Client(transport=httpx.MockTransport(answer)))
    org = neon.org("org-a")
    calls = [
        lambda: neon.personal_keys.create("ci"),
        lambda: org.keys.create("ci"),
        neon.whoami,
        neon.organizations,
        lambda: neon.personal_keys.revoke(5),
        lambda: org.keys.revoke(5),
        neon.personal_keys.list,
        org.keys.list,
    ]
    barrier = threading.Barrier(len(calls))
    failures = []

    def run(call):
        barrier.wait()
        try:
            call()
        except Exception as err:  # a NeonError is an answer; anything else is a failure
            from neon_keys import NeonError
            if not isinstance(err, NeonError):
                failures.append(repr(err))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    hung = sum(thread.is_alive() for thread in threads)
    print(json.dumps({"failures": failures, "hung": hung}))
    sys.stdout.flush()
    import os
    os._exit(0)
    """
)

RUNS = 6
"""Fresh processes tried: the first-use race struck in every one before the fix."""


def test_eight_threads_share_one_client_from_its_first_call(tmp_path: Path) -> None:
    """Eight threads starting together on one new client all get answers, in every run."""
    script = tmp_path / "threads.py"
    script.write_text(SCRIPT)
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert done.stdout.strip() == '{"failures": [], "hung": 0}', done.stdout + done.stderr
