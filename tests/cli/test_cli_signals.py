"""The signal guard and the reports of interrupted work, in process (signals sent to itself)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from cli_support import Neon, lines
from neon_keys import _bulk
from neon_keys.cli import _revoking, _signals
from neon_keys.cli._revoking import Result, Revocation, Settled
from neon_keys.cli._session import Session
from neon_keys.cli._signals import Interrupted, SignalGuard
from neon_keys.testing import Fault

_CODE = """
def run(step):
    return step()
"""


def _frame_of(module: str) -> Callable[[Callable[[], Any]], Any]:
    """A function whose frame belongs to ``module`` (the guard decides by module name)."""
    scope: dict[str, Any] = {"__name__": module}
    exec(compile(_CODE, f"<{module}>", "exec"), scope)  # noqa: S102 - a fixed snippet
    runner: Callable[[Callable[[], Any]], Any] = scope["run"]
    return runner


library = _frame_of("neon_keys._client")
cli_code = _frame_of("neon_keys.cli._create")


def _kill(sig: int = signal.SIGINT) -> None:
    os.kill(os.getpid(), sig)
    # The handler runs at the next check Python makes; a call is one.
    _ = len("x")


@pytest.fixture
def guard() -> Iterator[SignalGuard]:
    """A guard whose handlers are installed for the test (the test runs in the main thread)."""
    assert threading.current_thread() is threading.main_thread()
    guard = SignalGuard()
    with guard.installed():
        yield guard


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_both_signals_raise_one_kind_of_interruption(guard: SignalGuard, sig: int) -> None:
    """Outside a hold, SIGINT and SIGTERM raise Interrupted (a KeyboardInterrupt) at once."""
    with pytest.raises(Interrupted) as caught:
        cli_code(lambda: _kill(sig))
    assert isinstance(caught.value, KeyboardInterrupt)
    assert caught.value.signum == sig and guard.pending == sig


def test_a_hold_remembers_a_signal_in_the_clis_own_code(guard: SignalGuard) -> None:
    """Inside a hold, a signal that finds the CLI's code waits until check()."""
    done = []
    with guard.hold():
        cli_code(lambda: _kill(signal.SIGTERM))
        done.append("delivered")
        assert guard.pending == signal.SIGTERM
        with pytest.raises(Interrupted) as caught:
            guard.check()
    assert done == ["delivered"] and caught.value.signum == signal.SIGTERM


def test_a_hold_lets_a_library_call_be_interrupted(guard: SignalGuard) -> None:
    """Inside a hold, a signal that finds a library call is raised there, for it to report."""
    with guard.hold(), pytest.raises(Interrupted):
        cli_code(lambda: library(_kill))


def test_a_callback_from_the_library_into_the_cli_is_held(guard: SignalGuard) -> None:
    """The innermost of the CLI and the library decides: a CLI callback run by the library holds."""
    with guard.hold():
        cli_code(lambda: library(lambda: cli_code(_kill)))
    assert guard.pending == signal.SIGINT


def test_code_of_neither_counts_as_its_caller(guard: SignalGuard) -> None:
    """Code of neither (httpx, the standard library, this test) takes the side of its caller."""
    elsewhere = _frame_of("httpx._client")
    with guard.hold():
        cli_code(lambda: elsewhere(_kill))
        with pytest.raises(Interrupted):
            library(lambda: elsewhere(_kill))
        with pytest.raises(Interrupted):
            elsewhere(lambda: library(_kill))


_KILL_HERE = """
import os
def run(sig):
    os.kill(os.getpid(), sig)
    return len("x")  # the handler runs at this call, in this module's frame
"""


def test_a_signal_finding_httpcore_at_a_lock_comes_again_a_moment_later(
    guard: SignalGuard,
) -> None:
    """A signal that finds httpcore taking or releasing a lock is not raised there (the lock
    would stay held for ever, and httpcore's clean-up would wait on it): it comes again."""
    scope: dict[str, Any] = {"__name__": "httpcore._synchronization"}
    exec(compile(_KILL_HERE, "<httpcore._synchronization>", "exec"), scope)  # noqa: S102
    scope["run"](signal.SIGTERM)  # returns: nothing raised inside the lock's code
    assert guard.pending == signal.SIGTERM
    with pytest.raises(Interrupted) as caught:
        cli_code(lambda: threading.Event().wait(5))  # ended by the signal sent again
    assert caught.value.signum == signal.SIGTERM


def test_the_first_signal_is_the_one_remembered(guard: SignalGuard) -> None:
    """Of several signals the first decides the exit status; later ones still interrupt a call."""
    with guard.hold():
        cli_code(lambda: _kill(signal.SIGTERM))
        with pytest.raises(Interrupted) as caught:
            library(lambda: _kill(signal.SIGINT))
    assert caught.value.signum == signal.SIGINT and guard.pending == signal.SIGTERM


def test_handlers_are_put_back_and_threads_are_left_alone() -> None:
    """The previous handlers return after the run; off the main thread nothing is installed."""
    before = {sig: signal.getsignal(sig) for sig in _signals.SIGNALS}
    guard = SignalGuard()
    with guard.installed():
        assert all(signal.getsignal(sig) != before[sig] for sig in _signals.SIGNALS)
    assert {sig: signal.getsignal(sig) for sig in _signals.SIGNALS} == before
    seen: list[object] = []

    def elsewhere() -> None:
        with guard.installed():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(5)
    assert seen == [before[signal.SIGINT]]


def test_names_and_exit_codes() -> None:
    """Shells' convention: 128 + the signal number; a plain KeyboardInterrupt is SIGINT."""
    assert _signals.exit_code(signal.SIGINT) == 130 and _signals.exit_code(signal.SIGTERM) == 143
    assert _signals.signal_of(KeyboardInterrupt()) == signal.SIGINT
    assert _signals.signal_of(Interrupted(signal.SIGTERM)) == signal.SIGTERM
    assert _signals.signal_name(signal.SIGTERM) == "SIGTERM"
    assert _signals.signal_name(999) == "signal 999"
    assert str(Interrupted(signal.SIGINT)) == "SIGINT"


# -- reports of interrupted work, in process -------------------------------------------------


def _personal(neon: Neon, count: int) -> list[int]:
    for number in range(count):
        neon.world.issue_personal_key(neon.world.seed.admin_id, f"k{number}")
    return neon.personal_ids()[1:]


def _settle_then(action: Callable[[], None], after: int) -> Callable[..., Any]:
    """A stand-in for ``_bulk.settle`` that runs ``action`` on the call after ``after`` calls."""
    real = _bulk.settle
    calls = 0

    def settle(key_id: int, revoke: Callable[[int], Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls == after + 1:
            action()
        return real(key_id, revoke)

    return settle


def test_a_bulk_revoke_interrupted_mid_request(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """A signal inside the library's fourth revoke: three revoked, one in doubt, the rest left."""

    def interrupted() -> None:
        raise Interrupted(signal.SIGTERM)

    ids = _personal(neon, 6)
    monkeypatch.setattr(_bulk, "settle", _settle_then(interrupted, after=3))
    result = neon("-o", "json", "revoke", *map(str, ids), "--yes")
    assert result.exit_code == 143
    records = json.loads(result.stdout)
    assert [r["outcome"] for r in records] == ["revoked"] * 3 + ["interrupted"] + [
        "not_attempted"
    ] * 2
    assert [r["ok"] for r in records] == [True] * 3 + [False] * 3
    assert records[3]["error"] == (
        "SIGTERM came with its request in flight: it may or may not be revoked"
    )
    assert records[4]["error"] == "not attempted: stopped by SIGTERM"
    assert [r["name"] for r in records] == [f"k{n}" for n in range(6)]
    left = " ".join(map(str, ids[3:]))
    (line,) = lines(result.stderr)
    assert json.loads(line) == {
        "error": {
            "message": "Interrupted by SIGTERM: 3 of 6 keys revoked, 1 interrupted (may or "
            f"may not be revoked), 2 not attempted; to finish: neon-keys revoke {left} "
            "--missing-ok",
            "exit_code": 143,
            "kind": "interrupted",
            "signal": "SIGTERM",
            "library_error": None,
        }
    }
    assert [neon.world.key(key_id).revoked for key_id in ids] == [True] * 3 + [False] * 3


def test_a_bulk_revoke_stopped_between_requests(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal held while the CLI records an outcome stops the work before the next request."""

    def signal_arrives() -> None:
        _signals.GUARD.pending = signal.SIGINT

    ids = _personal(neon, 5)
    monkeypatch.setattr(_bulk, "settle", _settle_then(signal_arrives, after=2))
    result = neon("revoke", *map(str, ids), "--yes")
    assert result.exit_code == 130
    rows = [row.split(None, 2)[2] for row in lines(result.stdout)[1:]]
    assert rows == ["revoked"] * 3 + ["not attempted"] * 2
    assert neon.world.log.count("revokeApiKey") == 3
    assert "3 of 5 keys revoked, 2 not attempted" in result.stderr


def test_a_signal_after_the_create_is_held_until_the_secret_is_saved(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process too: a real SIGTERM once the key exists waits for the file to be written."""
    real = Session.remember_secret

    def remember_then_signal(self: Session, value: str) -> None:
        real(self, value)
        if value.startswith("napi_") and value != neon.world.seed.admin_token:
            _kill(signal.SIGTERM)

    monkeypatch.setattr(Session, "remember_secret", remember_then_signal)
    result = neon("create", "ci", "--save", str(tmp_path / "k"))
    assert result.exit_code == 143, result.stderr
    token = (tmp_path / "k").read_text().strip()
    info = neon.world.key_for_token(token)
    assert info is not None
    assert lines(result.stderr) == [
        f'Interrupted by SIGTERM: personal key {info.id} "ci" was created; its secret saved '
        f"to {tmp_path / 'k'} (mode 0600)"
    ]


@pytest.mark.parametrize(
    ("settled", "report"),
    [
        (
            [Result.REVOKED, Result.ALREADY_GONE, Result.FAILED, Result.NOT_ATTEMPTED],
            "1 of 4 keys revoked, 1 already gone, 1 failed, 1 not attempted; "
            "to finish: neon-keys revoke 4 --org org-a --missing-ok",
        ),
        ([Result.REVOKED], "1 of 1 key revoked, 0 not attempted"),
    ],
)
def test_the_interruption_report_counts_every_outcome(settled: list[Result], report: str) -> None:
    """The one-line report counts each kind of outcome and gives the command that finishes."""
    done = Revocation(
        tuple(Settled(n, result) for n, result in enumerate(settled, 1)), signal.SIGINT
    )
    assert done.interruption_report("org-a") == report


def test_a_stack_of_neither_is_not_the_library() -> None:
    """With no CLI or library frame (a thread of its own, or no frame), nothing is let through."""
    seen: list[bool] = []
    elsewhere = _frame_of("httpx._client")
    thread = threading.Thread(
        target=lambda: seen.append(elsewhere(lambda: _signals._inside_library(sys._getframe())))
    )
    thread.start()
    thread.join(5)
    assert seen == [False]
    assert _signals._inside_library(None) is False


def test_ctrl_c_at_the_prompt_is_an_interruption(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal while the question waits for an answer: exit 130, nothing revoked."""

    def interrupted_prompt(*_args: object, **_kwargs: object) -> bool:
        _signals.GUARD.pending = signal.SIGINT
        raise click.Abort

    (key_id,) = _personal(neon, 1)
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(click, "confirm", interrupted_prompt)
    result = neon("revoke", str(key_id))
    assert result.exit_code == 130
    assert "Interrupted by SIGINT" in result.stderr and "Aborted" not in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0


def test_revokes_all_refused_as_unauthenticated_exit_3(neon: Neon) -> None:
    """When Neon refuses every revoke with 401 (the listing went through), the exit code is 3."""
    ids = _personal(neon, 2)
    neon.world.faults.inject("revokeApiKey", Fault.status(401), times=None)
    result = neon("revoke", *map(str, ids), "--yes")
    assert result.exit_code == 3
    assert "2 of 2 keys not revoked" in result.stderr
