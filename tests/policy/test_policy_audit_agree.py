"""``neon-keys audit`` and ``neon-keys check`` report the same findings for the same keys.

Both judge with the library's rules (``neon_keys._findings``): a property test over random
worlds (personal, organization and project-scoped keys of every age, used or not, several
generations of a name, leases live and expired) runs ``audit`` on every scope and ``check``
with a policy file of the equivalent rules, through the CLI, and compares what each flags.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neon_keys import Backoff
from neon_keys.cli import cli
from neon_keys.cli._session import Session
from neon_keys.testing import EmulatorTransport, World
from policy_support import ORGS, PROJECTS, build_world

NAMES = ("ci", "deploy")
SCOPES = (None, *ORGS)
AUDIT_ONLY = {"duplicate_name"}
"""Judged by ``audit`` only: a policy file declares generations instead."""
CHECK_ONLY = {"undeclared"}
"""Judged by ``check`` only: without a file, nothing is declared."""
SWEEP_HINT = "; neon-keys sweep revokes it"
"""What ``audit`` adds to an expired lease's message."""

key_events = st.lists(
    st.tuples(
        st.integers(0, 199),  # created on day
        st.sampled_from(["personal", "org", "project"]),
        st.sampled_from(NAMES),
        st.sampled_from(ORGS),
        st.one_of(st.none(), st.integers(0, 199)),  # last used on day
        st.one_of(st.none(), st.none(), st.sampled_from([8, 24 * 150, 24 * 400])),  # ttl hours
    ),
    max_size=8,
)

declared = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.sampled_from(
            ["personal", *(f"org:{o}" for o in ORGS), *(f"project:{o}/{PROJECTS[o]}" for o in ORGS)]
        ),
        st.booleans(),  # a lease
    ),
    max_size=3,
    unique_by=lambda entry: (entry[0], entry[1]),
)


def _policy(
    folder: Path, unused_days: int, min_age: str, keys: list[tuple[str, str, bool]]
) -> Path:
    lines = [
        "version = 1",
        "[rules]",
        f'max_unused = "{unused_days}d"',
        f'min_age = "{min_age}"',
        "[scopes]",
        "personal = true",
        "orgs = [" + ", ".join(f'"{org}"' for org in ORGS) + "]",
    ]
    for index, (name, scope, lease) in enumerate(keys):
        lines += ["[[keys]]", f'name = "{name}"', f'scope = "{scope}"', f'save = "k{index}.token"']
        if lease:
            lines.append('ttl = "8h"')
    path = folder / "neon-keys.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(world: World, *args: str) -> Any:
    """``neon-keys -o json ARGS`` in process against ``world``, as its admin; the JSON."""
    wrong = datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)  # this machine's clock: unused
    with httpx.Client(transport=EmulatorTransport(world)) as http:
        session = Session(
            client_options={"backoff": Backoff.immediate(), "http_client": http},
            clock=lambda: wrong,
        )
        result = CliRunner().invoke(
            cli,
            ["-o", "json", *args],
            obj=session,
            env={"NEON_API_KEY": world.seed.admin_token, "NEON_API_HOST": None},
            catch_exceptions=False,
        )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


Found = dict[tuple[str | None, int], list[tuple[str, str]]]


def _by_audit(world: World, unused_days: int, min_age: str) -> Found:
    found: Found = {}
    for org in SCOPES:
        where = ["--org", org] if org else []
        report = _run(
            world, "audit", *where, "--unused-days", str(unused_days), "--min-age", min_age
        )
        for flagged in report["findings"]:
            for finding in flagged["findings"]:
                if finding["code"] not in AUDIT_ONLY:
                    message = finding["message"].removesuffix(SWEEP_HINT)
                    found.setdefault((org, flagged["id"]), []).append((finding["code"], message))
    return {place: sorted(items) for place, items in found.items()}


def _by_check(world: World, path: Path) -> Found:
    found: Found = {}
    for finding in _run(world, "check", "-f", str(path))["findings"]:
        if finding["code"] not in CHECK_ONLY:
            place = (finding["org_id"], finding["key"]["id"])
            found.setdefault(place, []).append((finding["code"], finding["message"]))
    return {place: sorted(items) for place, items in found.items()}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=key_events,
    keys=declared,
    unused_days=st.integers(1, 200),
    min_age=st.sampled_from(["0s", "12h", "1d", "30d", "150d"]),
)
def test_audit_and_check_report_the_same_findings(
    tmp_path: Path,
    events: list[tuple[float, str, str, str | None, float | None, float | None]],
    keys: list[tuple[str, str, bool]],
    unused_days: int,
    min_age: str,
) -> None:
    """For any keys, audit --unused-days N --min-age D flags each key for the same reasons,
    in the same words, as check with max_unused = N days and min_age = D (what only one of
    them judges aside: duplicate names, undeclared keys)."""
    world, _ = build_world(events)
    path = _policy(tmp_path, unused_days, min_age, keys)
    assert _by_audit(world, unused_days, min_age) == _by_check(world, path)
