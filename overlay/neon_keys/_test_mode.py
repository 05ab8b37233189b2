"""The library's test mode: every decision as usual, no wait ever slept.

While it is on, no client of the process sleeps: not between retries, not to pace itself
under Neon's rate limits, not after a 429. Every decision stays what it would be (which
attempts are made, how long each wait would be, which calls a 429 slows down), because
the pacing clock moves on by each skipped wait as if it had been slept, and time stands
still otherwise. The skipped waits are recorded for tests to check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

__all__ = ["SkippedWaits", "is_testing", "monotonic", "set_testing", "skip"]


class SkippedWaits:
    """What ``set_testing`` returns: the waits skipped since, and a context manager.

    ``waits`` lists the seconds of each wait a client skipped while this switch was the
    last one set, in order. Leaving the ``with`` block (or calling ``restore()``) puts
    back the mode that was in force before ``set_testing`` was called.
    """

    def __init__(
        self, testing: bool, on_wait: Callable[[float], None] | None, previous: SkippedWaits | None
    ) -> None:
        self.testing = testing
        self.on_wait = on_wait
        self.waits: list[float] = []
        self.previous = previous

    def restore(self) -> None:
        """Put back the test mode that was in force before this switch was set."""
        _switch_to(self.previous)

    def __enter__(self) -> SkippedWaits:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()

    def __repr__(self) -> str:
        return f"SkippedWaits(testing={self.testing}, waits={len(self.waits)})"


class _Mode:
    """The process-wide mode and the pacing clock. Strictly private."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: SkippedWaits | None = None
        # The pacing clock: time.monotonic() + offset while the mode is off; while it is
        # on, ``frozen``, moved on by each skipped wait only. The offset keeps the clock
        # from ever going back when the mode is switched off.
        self.offset = 0.0
        self.frozen = 0.0


_MODE = _Mode()


def set_testing(
    testing: bool = True, *, on_wait: Callable[[float], None] | None = None
) -> SkippedWaits:
    """Turn the library's test mode on (or off) for every client of the process.

    While it is on, clients never sleep: backoff waits, pacing waits and the pause after a
    429 are skipped, and every decision (retries, attempts, which waits a 429 lengthens)
    stays the same. Use it in a test suite's fixture, or as a context manager::

        with neon_keys.set_testing() as skipped:
            neon.personal_keys.revoke_many(ids)
        assert all(wait < 1 for wait in skipped.waits)

    Args:
        testing: True to turn the mode on, False to turn it off.
        on_wait: called with the seconds of each wait skipped (to move a fake clock that
            an emulator shares, say); None for nothing.

    Returns:
        A ``SkippedWaits`` recording the waits skipped while it is the mode in force; as a
        context manager it restores the previous mode on exit.
    """
    with _MODE.lock:
        switch = SkippedWaits(testing, on_wait, _MODE.current)
    _switch_to(switch)
    return switch


def _switch_to(switch: SkippedWaits | None) -> None:
    with _MODE.lock:
        was_on = _is_on(_MODE.current)
        now_on = _is_on(switch)
        if now_on and not was_on:
            _MODE.frozen = time.monotonic() + _MODE.offset
        elif was_on and not now_on:
            _MODE.offset = _MODE.frozen - time.monotonic()
        _MODE.current = switch


def _is_on(switch: SkippedWaits | None) -> bool:
    return switch is not None and switch.testing


def is_testing() -> bool:
    """True while the test mode is on (``set_testing``)."""
    return _is_on(_MODE.current)


def skip(seconds: float) -> bool:
    """Skip a wait of ``seconds`` if the test mode is on, recording it; False if it is off."""
    with _MODE.lock:
        switch = _MODE.current
        if switch is None or not switch.testing:
            return False
        _MODE.frozen += seconds
        switch.waits.append(seconds)
    if switch.on_wait is not None:
        switch.on_wait(seconds)
    return True


def monotonic() -> float:
    """Seconds of the pacing clock: ``time.monotonic()``, which the test mode holds still.

    While the test mode is on, the clock moves only by the waits it skips, so a pacer
    reading it sees every skipped wait as slept; it never goes back.
    """
    mode = _MODE
    if _is_on(mode.current):
        return mode.frozen
    return time.monotonic() + mode.offset
