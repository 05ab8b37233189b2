"""SIGINT, SIGTERM and SIGHUP: one way to stop a command, and sections nothing may cut short.

The three signals become ``Interrupted``, a ``KeyboardInterrupt``, so the library treats
Ctrl-C, a ``kill`` and a hang-up alike: a create interrupted after its request left looks
for the key it may have made and says so on the exception (``neon_keys.interrupted_create``).

A command that changes keys runs its own code inside ``GUARD.hold()``. There a signal is
remembered instead of raised, so a created key's secret is always delivered and the report
of what exists is always printed; the command then stops where it chooses
(``GUARD.check()``) and exits 128 + the signal's number, as shells expect (130, 143, 129). A
library call made inside the hold (a request in flight) is still interrupted at once: the
library knows what an interrupted call may have done and says it. The line between the two
is drawn by where the signal finds the program, not by a flag the command would have to
switch (switching it would leave a moment, between the library's return and the switch, in
which a new key's only copy of its secret could be lost). One place is never interrupted:
httpcore taking or releasing a lock (see ``_LOCKS``); the signal is sent again a moment later.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else []))
"""The signals a command reports and exits on: Ctrl-C, a ``kill`` (a CI runner cancelling
a job), and the hang-up of a closed terminal or a dropped ssh session, whose default
would end the process on the spot, with a new key's secret undelivered."""

_CLI = __name__.rsplit(".", 1)[0]  # neon_keys.cli
_LIBRARY = _CLI.split(".", 1)[0] + "."  # neon_keys.

_LOCKS = "httpcore._synchronization"
"""The module of httpcore's locks, whose ``__enter__`` and ``__exit__`` are Python code: an
exception raised there by a signal leaves the lock held for ever, and httpcore's own
clean-up then waits on it (the process hangs until the next signal)."""

REDELIVERY_DELAY = 0.005
"""Seconds after which a signal that found httpcore taking or releasing a lock is sent again."""


class Interrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM during a command; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_of(interrupt: BaseException) -> int:
    """The signal behind an interruption: its own for ``Interrupted``, else SIGINT."""
    return interrupt.signum if isinstance(interrupt, Interrupted) else int(signal.SIGINT)


def signal_name(signum: int) -> str:
    """``SIGINT``, ``SIGTERM``, ... for a signal number."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_code(signum: int) -> int:
    """The exit status shells give a process stopped by ``signum``: 128 + its number."""
    return 128 + signum


class SignalGuard:
    """Turns SIGINT and SIGTERM into ``Interrupted`` and holds them over critical sections.

    ``pending`` is the first signal received while installed (None before any).
    """

    def __init__(self) -> None:
        self.pending: int | None = None
        self._holds = 0
        self._installed = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Handle both signals while the block runs (main thread only; else a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self.pending = None
        previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}
        self._installed = True
        try:
            yield
        finally:
            self._installed = False
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Remember, rather than raise, a signal arriving while the CLI's own code runs."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1

    def check(self) -> None:
        """Raise ``Interrupted`` if a signal came (a point where the command may stop)."""
        if self.pending is not None:
            raise Interrupted(self.pending)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.pending is None:
            self.pending = signum
        if frame is not None and frame.f_globals.get("__name__") == _LOCKS:
            # Not here (see _LOCKS): a moment later the lock is taken or released.
            timer = threading.Timer(REDELIVERY_DELAY, self._deliver_again, (signum,))
            timer.daemon = True
            timer.start()
            return
        if self._holds and not _inside_library(frame):
            return
        raise Interrupted(signum)

    def _deliver_again(self, signum: int) -> None:
        """Send ``signum`` to the main thread again (a real signal: it ends a blocking call)."""
        if self._installed:
            signal.pthread_kill(threading.main_thread().ident or 0, signum)


def _inside_library(frame: FrameType | None) -> bool:
    """Whether the code a signal found is a library call (not the CLI's own code).

    The innermost frame of the CLI or of the library decides: httpx or the standard
    library called by the library count as the library; called by the CLI, as the CLI.
    A secret being delivered to a sink (anywhere under ``neon_keys._sinks.deliver_secret``,
    a library rotation's deliveries included) counts as the CLI's own: never cut short.
    """
    if _delivering(frame):
        return False
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module == _CLI or module.startswith(_CLI + "."):
            return False
        if module.startswith(_LIBRARY):
            return True
        frame = frame.f_back
    return False


def _delivering(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside the delivery of a secret to a sink."""
    while frame is not None:
        if frame.f_code.co_name == _DELIVERY[1] and frame.f_globals.get("__name__") == _DELIVERY[0]:
            return True
        frame = frame.f_back
    return False


_DELIVERY = (_LIBRARY + "_sinks", "deliver_secret")
"""The library function through which every secret reaches a sink."""

GUARD = SignalGuard()
"""The process's guard (signal handlers are the process's too)."""
