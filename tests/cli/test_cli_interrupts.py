"""SIGINT and SIGTERM, sent to a real ``neon-keys`` process at each step that matters.

Whatever the step, the process ends with 130 (SIGINT) or 143 (SIGTERM), says what exists,
never prints a bare ``Aborted!`` or a traceback, and loses nothing: a key that exists has its
secret delivered (or shown once on stderr) or is named with the command that revokes it;
bulk work reports every id.
"""

from __future__ import annotations

import datetime
import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Neon, lines
from neon_keys.testing import FakeClock, Fault
from signal_support import (
    SIGNALS,
    Child,
    Done,
    clean_end,
    in_flight,
    reap,
    run,
    signal_at,
    struck,
    wait_until,
)

DELAY = 3.0
"""Seconds the emulator holds a slow answer (it stops early once the client has gone)."""


@pytest.fixture(autouse=True)
def _no_child_left() -> Iterator[None]:
    """A test that fails while a child runs does not leave it running."""
    yield
    reap()


@pytest.fixture
def clock() -> FakeClock:
    """The emulator's clock, at this machine's time: the child process reads the real one."""
    return FakeClock(datetime.datetime.now(datetime.UTC))


def _new_keys(neon: Neon, name: str) -> list[int]:
    return [k.id for k in neon.world.personal_keys(neon.world.seed.admin_id) if k.name == name]


def _token_of(neon: Neon, text: str) -> str:
    (token,) = re.findall(r"napi_\w+", text)
    assert neon.world.key_for_token(token) is not None
    return token


# -- create ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", SIGNALS)
def test_create_interrupted_in_flight_names_the_key_it_made(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """A create stopped while Neon answers: the key it made is named, with its revoke command."""
    slow = neon.world.faults.inject("createApiKey", Fault.delay(DELAY))
    child = Child(neon, tmp_path, "create", "slow", "--save", "slow.token")
    wait_until(struck(neon, slow), "the create")
    child.send(sig)
    done = child.finish()
    clean_end(done, sig)
    (key_id,) = _new_keys(neon, "slow")
    assert f'found personal key {key_id} "slow"' in done.stderr
    assert f"revoke it with neon-keys revoke {key_id}" in done.stderr
    assert not (tmp_path / "slow.token").exists()


def test_a_hang_up_during_a_create_still_delivers_or_names_the_key(
    neon: Neon, tmp_path: Path
) -> None:
    """SIGHUP (the terminal closed) while Neon answers a create: the report and exit 129,
    as for Ctrl-C, not a silent death that leaves the key undelivered and unnamed."""
    slow = neon.world.faults.inject("createApiKey", Fault.delay(DELAY))
    child = Child(neon, tmp_path, "create", "slow", "--save", "slow.token")
    wait_until(struck(neon, slow), "the create")
    child.send(signal.SIGHUP)
    done = child.finish()
    clean_end(done, signal.SIGHUP)
    (key_id,) = _new_keys(neon, "slow")
    assert f"revoke it with neon-keys revoke {key_id}" in done.stderr


def test_a_hang_up_once_the_key_exists_saves_its_secret(neon: Neon, tmp_path: Path) -> None:
    """SIGHUP once the key exists: its secret is saved before the command stops (exit 129)."""
    hook = signal_at("neon_keys._sinks:FileSink.deliver", signal.SIGHUP)
    done = run(neon, tmp_path, "create", "ci", "--save", "ci.token", **hook)
    clean_end(done, signal.SIGHUP)
    (key_id,) = _new_keys(neon, "ci")
    token = (tmp_path / "ci.token").read_text().strip()
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]


def test_a_second_ctrl_c_skips_the_search(neon: Neon, tmp_path: Path) -> None:
    """Ctrl-C again while the key is looked for: no search, but the way to find it is given."""
    slow = neon.world.faults.inject("createOrgApiKey", Fault.delay(DELAY))
    search = neon.world.faults.inject("listOrgApiKeys", Fault.delay(DELAY, committed=False))
    child = Child(neon, tmp_path, "create", "slow", "--org", neon.org, "--save", "slow.token")
    wait_until(struck(neon, slow), "the create")
    child.send(signal.SIGINT)
    wait_until(struck(neon, search), "the search")
    child.send(signal.SIGINT)
    done = child.finish()
    clean_end(done, signal.SIGINT)
    assert "the search was skipped (Interrupted): find it with" in done.stderr
    assert f"neon-keys list --name slow --org {neon.org}" in done.stderr


def test_create_interrupted_before_it_was_sent_creates_nothing(neon: Neon, tmp_path: Path) -> None:
    """A signal while the sink is being checked: nothing was sent, nothing exists."""
    hook = signal_at("neon_keys._sinks:FileSink.check", signal.SIGTERM)
    done = run(neon, tmp_path, "create", "ci", "--save", "ci.token", **hook)
    clean_end(done, signal.SIGTERM)
    assert neon.world.log.count("createApiKey") == 0
    assert not (tmp_path / "ci.token").exists()


_AFTER_CREATE = [
    # (the function entered, calls of it to let pass first)
    ("neon_keys.cli._session:Session.remember_secret", 1),  # created, not yet delivered
    ("neon_keys._sinks:FileSink.deliver", 0),  # delivering
    ("neon_keys._sinks:write_private", 0),  # writing the file
    ("neon_keys.cli._create:emit_report", 0),  # delivered, reporting
]


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize(("target", "skip"), _AFTER_CREATE)
def test_a_created_key_is_always_delivered(
    neon: Neon, tmp_path: Path, target: str, skip: int, sig: int
) -> None:
    """Signals once the key exists (three Ctrl-C, or one SIGTERM): the secret is saved first."""
    count = 3 if sig == signal.SIGINT else 1
    hook = signal_at(target, sig, count=count, skip=skip)
    done = run(neon, tmp_path, "create", "ci", "--save", "ci.token", **hook)
    clean_end(done, sig)
    (key_id,) = _new_keys(neon, "ci")
    token = (tmp_path / "ci.token").read_text().strip()
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]
    assert f'personal key {key_id} "ci" was created; its secret saved to ci.token' in done.stderr
    assert token not in done.stderr + done.stdout


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_signal_once_neons_answer_was_read_still_delivers_the_secret(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """A signal in the instant between Neon's answer being read and create returning: the
    library hands the key back and its secret is saved, never called "not created"."""
    hook = signal_at("neon_keys._operations:DeliveredKeys.add", sig, on_return=True)
    done = run(neon, tmp_path, "create", "ci", "--save", "ci.token", **hook)
    clean_end(done, sig)
    (key_id,) = _new_keys(neon, "ci")
    token = (tmp_path / "ci.token").read_text().strip()
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]
    assert f'personal key {key_id} "ci" was created; its secret saved to ci.token' in done.stderr
    assert neon.world.log.count("listApiKeys") == 0  # handed back, not searched for


@pytest.mark.parametrize("sig", SIGNALS)
def test_the_stdout_sink_is_delivered_before_the_command_stops(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """With the default sink, a signal during delivery still leaves the token alone on stdout."""
    hook = signal_at("neon_keys._sinks:StdoutSink.deliver", sig, count=2)
    done = run(neon, tmp_path, "-o", "json", "create", "ci", **hook)
    clean_end(done, sig)
    assert done.stdout == _token_of(neon, done.stdout) + "\n"
    record = json.JSONDecoder().raw_decode(done.stderr)[0]
    assert record["secret_delivered_to"] == "stdout" and record["name"] == "ci"


def test_a_signal_as_the_create_is_called_never_loses_the_secret(
    neon: Neon, tmp_path: Path
) -> None:
    """A signal just as the library is called: nothing is made, or the key is fully delivered."""
    hook = signal_at("neon_keys._resources:PersonalKeys.create", signal.SIGINT)
    done = run(neon, tmp_path, "create", "ci", "--save", "ci.token", **hook)
    clean_end(done, signal.SIGINT)
    made = _new_keys(neon, "ci")
    if made:
        token = (tmp_path / "ci.token").read_text().strip()
        assert neon.world.key_for_token(token).id == made[0]  # type: ignore[union-attr]
    else:
        assert not (tmp_path / "ci.token").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("sig", SIGNALS)
def test_a_failed_delivery_and_a_signal_still_show_the_secret(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """stdout on a full disk and signals during the last resort: the secret is shown, once."""
    hook = signal_at("neon_keys.cli._create:last_resort", sig, count=2)
    with open("/dev/full", "w") as full:
        done = Child(neon, tmp_path, "create", "ci", stdout=full.fileno(), **hook).finish()
    clean_end(done, sig)
    (key_id,) = _new_keys(neon, "ci")
    token = _token_of(neon, done.stderr)
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]
    assert done.stderr.count(token) == 1
    assert "could not be delivered and was shown above, once" in done.stderr


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_failed_delivery_beside_a_saved_file_and_a_signal_never_show_the_secret(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """--save works, --deliver-cmd fails, signals arrive while that is reported: the report
    says the secret is in the file, and the secret is shown nowhere."""
    hook = signal_at("neon_keys.cli._create:last_resort", sig, count=2)
    args = ("create", "ci", "--save", "ci.token", "--deliver-cmd", "sh -c 'exit 3'")
    done = run(neon, tmp_path, *args, **hook)
    clean_end(done, sig)
    (key_id,) = _new_keys(neon, "ci")
    token = (tmp_path / "ci.token").read_text().strip()
    assert neon.world.key_for_token(token).id == key_id  # type: ignore[union-attr]
    assert token not in done.stdout + done.stderr
    assert "its secret could not be delivered everywhere; it is in ci.token" in done.stderr


# -- revoke ----------------------------------------------------------------------------------


def _many(neon: Neon, count: int) -> list[int]:
    for number in range(count):
        neon.world.issue_personal_key(neon.world.seed.admin_id, f"bulk-{number}")
    return [k for k in neon.personal_ids() if k != neon.world.seed.admin_key_id]


def _check_bulk(neon: Neon, ids: list[int], rows: list[tuple[int, str]]) -> dict[str, int]:
    """Every id is reported once, in order, and the world agrees with each report."""
    assert [key_id for key_id, _ in rows] == ids
    counts: dict[str, int] = {}
    for key_id, outcome in rows:
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "revoked":
            assert neon.world.key(key_id).revoked
        elif outcome == "not_attempted":
            assert not neon.world.key(key_id).revoked
        else:
            assert outcome == "interrupted", outcome
    return counts


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("output", ["table", "json"])
def test_bulk_revoke_interrupted_reports_every_id(
    neon: Neon, tmp_path: Path, sig: int, output: str
) -> None:
    """Stopped mid-way through 150 revokes: each id is revoked, interrupted or not attempted."""
    ids = _many(neon, 150)
    neon.world.faults.inject("revokeApiKey", Fault.delay(0.02), times=None)
    child = Child(neon, tmp_path, "-o", output, "revoke", *map(str, ids), "--yes")
    wait_until(in_flight(neon, "revokeApiKey", done=5), "five revokes")
    child.send(sig)
    done = child.finish()
    clean_end(done, sig)
    if output == "json":
        rows = [(r["id"], r["outcome"]) for r in json.loads(done.stdout)]
    else:
        rows = [
            (int(row.split()[0]), row.split(None, 2)[2].split(":")[0].replace(" ", "_"))
            for row in lines(done.stdout)[1:]
        ]
    counts = _check_bulk(neon, ids, rows)
    # Five revokes were carried out when the signal was sent; the answer of the fifth may
    # still have been held by the delay fault, so that one may read "interrupted".
    interrupted = counts.get("interrupted", 0)
    assert counts["revoked"] + interrupted >= 5 and interrupted <= 1
    assert counts["not_attempted"] >= 1
    assert f"{counts['revoked']} of 150 keys revoked" in done.stderr
    assert "to finish: neon-keys revoke " in done.stderr and "--missing-ok" in done.stderr


@pytest.mark.parametrize("sig", SIGNALS)
def test_bulk_revoke_stopped_between_two_requests(neon: Neon, tmp_path: Path, sig: int) -> None:
    """A signal between two revokes: the rest are not attempted, and none is left unreported."""
    ids = _many(neon, 12)
    hook = signal_at("neon_keys._bulk:settle", sig, skip=4)
    done = run(neon, tmp_path, "-o", "json", "revoke", *map(str, ids), "--yes", **hook)
    clean_end(done, sig)
    rows = [(r["id"], r["outcome"]) for r in json.loads(done.stdout)]
    counts = _check_bulk(neon, ids, rows)
    assert (
        counts["revoked"] == 4
        and counts["revoked"] + counts["not_attempted"] + counts.get("interrupted", 0) == 12
    )


def test_revoke_interrupted_before_any_revoke_changes_nothing(neon: Neon, tmp_path: Path) -> None:
    """A signal while the keys are listed first: exit 130 and nothing revoked."""
    ids = _many(neon, 3)
    listing = neon.world.faults.inject("listApiKeys", Fault.delay(DELAY, committed=False))
    child = Child(neon, tmp_path, "revoke", *map(str, ids), "--yes")
    wait_until(struck(neon, listing), "the listing")
    child.send(signal.SIGINT)
    done = child.finish()
    clean_end(done, signal.SIGINT)
    assert neon.world.log.count("revokeApiKey") == 0


@pytest.mark.parametrize("sig", SIGNALS)
def test_audit_revoke_interrupted_reports_every_flagged_key(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """audit --revoke stopped mid-way: the JSON report gives each flagged key's outcome."""
    ids = _many(neon, 20)
    neon.world.faults.inject("revokeApiKey", Fault.delay(0.02), times=None)
    args = ["-o", "json", "audit", "--min-age", "0s", "--revoke", "--yes"]
    child = Child(neon, tmp_path, *args)
    wait_until(in_flight(neon, "revokeApiKey", done=3), "three revokes")
    child.send(sig)
    done = child.finish()
    clean_end(done, sig)
    findings = json.loads(done.stdout)["findings"]
    rows = [(f["id"], f["revocation"]["outcome"]) for f in findings]
    _check_bulk(neon, ids, rows)


# -- rotate ----------------------------------------------------------------------------------


def _old(neon: Neon) -> int:
    neon.world.issue_personal_key(neon.world.seed.admin_id, "ci")
    return neon.personal_ids()[-1]


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize(
    ("operation", "committed", "says"),
    [
        ("listApiKeys", False, "nothing changed"),
        ("getAuthDetails", False, "not verified; old key {old} NOT revoked"),
        ("revokeApiKey", True, "revoking old key {old} was interrupted: it may or may not be"),
    ],
)
def test_rotate_interrupted_in_flight_says_what_exists(
    neon: Neon, tmp_path: Path, *, sig: int, operation: str, committed: bool, says: str
) -> None:
    """Stopped while Neon answers any request of a rotation: the report fits that step."""
    old = _old(neon)
    slow = neon.world.faults.inject(operation, Fault.delay(DELAY, committed=committed))
    child = Child(neon, tmp_path, "-o", "json", "rotate", str(old), "--save", "new.token")
    wait_until(struck(neon, slow), operation)
    child.send(sig)
    done = child.finish()
    clean_end(done, sig)
    assert says.format(old=old) in done.stderr
    report = json.loads(done.stdout)
    assert report["interrupted"] == signal.Signals(sig).name
    assert report["old_revoked"] is False
    if operation == "listApiKeys":
        assert report["new"] is None and not (tmp_path / "new.token").exists()
        return
    new = report["new"]["id"]
    token = (tmp_path / "new.token").read_text().strip()
    assert neon.world.key_for_token(token).id == new  # type: ignore[union-attr]
    assert not neon.world.key(new).revoked
    if operation == "getAuthDetails":
        assert not neon.world.key(old).revoked and report["verified"] is False


@pytest.mark.parametrize("sig", SIGNALS)
def test_rotate_interrupted_while_creating(neon: Neon, tmp_path: Path, sig: int) -> None:
    """Stopped while the replacement is created: it is named for revoking; the old key stays."""
    old = _old(neon)
    slow = neon.world.faults.inject("createApiKey", Fault.delay(DELAY))
    child = Child(neon, tmp_path, "rotate", str(old), "--save", "new.token")
    wait_until(struck(neon, slow), "the create")
    child.send(sig)
    done = child.finish()
    clean_end(done, sig)
    new = max(_new_keys(neon, "ci"))
    # The old key, made a moment before and of the same name, is never offered for revoking.
    assert f"revoke it with neon-keys revoke {new}\n" in done.stderr.replace(";", "\n")
    assert f"old key {old} NOT revoked" in done.stderr
    assert not neon.world.key(old).revoked and not (tmp_path / "new.token").exists()


def test_rotate_stopped_once_the_new_keys_answer_was_read_names_it(
    neon: Neon, tmp_path: Path
) -> None:
    """A signal just after the replacement's answer was read: it is named for revoking as
    made (not as "may have happened"), and the old key stays."""
    old = _old(neon)
    hook = signal_at("neon_keys._operations:DeliveredKeys.add", signal.SIGTERM, on_return=True)
    done = run(neon, tmp_path, "rotate", str(old), "--save", "new.token", **hook)
    clean_end(done, signal.SIGTERM)
    new = max(_new_keys(neon, "ci"))
    assert f'Neon made personal key {new} "ci", but the command stopped' in done.stderr
    assert f"revoke it with neon-keys revoke {new}\n" in done.stderr.replace(";", "\n")
    assert f"old key {old} NOT revoked" in done.stderr
    assert not neon.world.key(old).revoked and not (tmp_path / "new.token").exists()


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize(
    ("target", "says", "old_revoked"),
    [
        ("neon_keys._sinks:write_private", "not verified; old key {old} NOT revoked", False),
        ("neon_keys.cli._rotate:emit_report", "the rotation is complete", True),
    ],
)
def test_rotate_signalled_in_its_own_steps(
    neon: Neon, tmp_path: Path, *, sig: int, target: str, says: str, old_revoked: bool
) -> None:
    """A signal during delivery stops the rotation after it; one while reporting, after that."""
    old = _old(neon)
    done = run(neon, tmp_path, "rotate", str(old), "--save", "new.token", **signal_at(target, sig))
    clean_end(done, sig)
    assert says.format(old=old) in done.stderr
    token = (tmp_path / "new.token").read_text().strip()
    assert neon.world.key_for_token(token) is not None
    assert neon.world.key(old).revoked is old_revoked


# -- commands that change nothing ------------------------------------------------------------


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_read_only_command_ends_with_the_signal_status(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """list stopped while Neon answers: exit 130 or 143, a short line, no traceback."""
    slow = neon.world.faults.inject("listApiKeys", Fault.delay(DELAY, committed=False))
    child = Child(neon, tmp_path, "list")
    wait_until(struck(neon, slow), "the listing")
    child.send(sig)
    done: Done = child.finish()
    clean_end(done, sig)
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("target", "sig"),
    [
        ("neon_keys.cli._revoke:read_ids", signal.SIGINT),  # reading ids from stdin
        ("neon_keys.cli._revoke:find_calling_keys", signal.SIGTERM),  # checking who calls
        ("neon_keys.cli._revoke:confirm", signal.SIGHUP),  # about to ask or go ahead
    ],
)
def test_revoke_interrupted_before_revoking_says_no_key_was_revoked(
    neon: Neon, tmp_path: Path, target: str, sig: int
) -> None:
    """A signal before the first revoke (reading stdin, listing, confirming) ends the run
    saying that no key was revoked, and none was."""
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "victim")
    key = neon.world.key_for_token(token)
    assert key is not None
    key_id = key.id
    hook = signal_at(target, sig)
    ids = "-" if target.endswith("read_ids") else str(key_id)
    args = ["revoke", ids, "--yes"]
    done = run(neon, tmp_path, *args, **hook)
    clean_end(done, sig)
    assert f"Interrupted by {signal.Signals(sig).name}: no key was revoked" in done.stderr
    assert neon.world.log.count("revokeApiKey") == 0 and not neon.world.key(key_id).revoked


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_a_rotation_stopped_after_a_failed_delivery_names_only_where_the_secret_is(
    neon: Neon, tmp_path: Path, sig: int
) -> None:
    """A signal during a staged rotation whose first delivery command fails and second one
    succeeds: the report says the secret reached the second only, never the first, and
    never shows the secret (the second holds it)."""
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "ci")
    old = neon.world.key_for_token(token)
    assert old is not None
    hook = signal_at("neon_keys._command_sink:CommandSink.deliver", sig)
    done = run(
        neon,
        tmp_path,
        "rotate",
        str(old.id),
        "--grace",
        "1d",
        "--deliver-cmd",
        "sh -c 'cat > /dev/null; exit 7'",
        "--deliver-cmd",
        "sh -c 'cat > got.token'",
        **hook,
    )
    clean_end(done, sig)
    report = lines(done.stderr)[-1]
    assert "and its secret passed to `sh -c 'cat > got.token'`, NOT delivered to" in report
    assert "passed to `sh -c 'cat > /dev/null; exit 7'`" not in report
    assert f"old key {old.id} NOT revoked" in report and not neon.world.key(old.id).revoked
    new = _new_keys(neon, "ci")[-1]
    secret = (tmp_path / "got.token").read_text()
    assert neon.world.key_for_token(secret).id == new
    assert secret not in done.stdout + done.stderr and "shown above" not in done.stderr
