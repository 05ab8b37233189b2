"""``neon-keys sandbox``: serve the emulator on loopback (needs the ``[sandbox]`` extra)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from ._errors import CliError, ExitCode

SANDBOX_EXTRA = "pip install 'neon-api-keys[sandbox]'"
HOST = "127.0.0.1"
_POLL_SECONDS = 0.5


def serve(port: int, *, as_json: bool = False) -> None:
    """Serve a freshly seeded emulator on 127.0.0.1:``port`` until SIGINT or SIGTERM.

    Prints ``NEON_API_HOST``, ``NEON_API_KEY`` (the personal key of an organization admin),
    ``NEON_ORG_ID`` and ``NEON_PROJECT_ID`` on stdout in dotenv form (or, ``as_json``, as
    one JSON object), then serves.
    """
    try:
        from neon_keys.testing import EmulatorServer, World  # noqa: PLC0415
    except ImportError as err:
        missing = f" (cannot import {err.name})" if err.name else ""
        raise CliError(
            f"neon-keys sandbox needs starlette and uvicorn: {SANDBOX_EXTRA}{missing}"
        ) from None

    server = EmulatorServer(World.seeded(), host=HOST, port=port)
    try:
        server.start()
    except OSError as err:
        raise CliError(f"cannot serve on {HOST}:{port}: {err.strerror or err}") from None
    except KeyboardInterrupt:
        server.stop()
        return
    try:
        settings = {
            "NEON_API_HOST": server.base_url,
            "NEON_API_KEY": server.api_key,
            "NEON_ORG_ID": server.org_id,
            "NEON_PROJECT_ID": server.project_id,
        }
        if as_json:
            click.echo(json.dumps(settings, indent=2))
        else:
            for name, value in settings.items():
                click.echo(f"{name}={value}")
        sys.stdout.flush()
        click.echo(f"Serving the Neon emulator at {server.base_url}; Ctrl-C stops it.", err=True)
        if not wait_for_stop(lambda: server.running):
            raise CliError("the emulator stopped unexpectedly", ExitCode.FAILURE)
    except KeyboardInterrupt:
        pass  # Ctrl-C before the signal handlers were in place: stop quietly all the same.
    finally:
        server.stop()


def wait_for_stop(running: Callable[[], bool]) -> bool:
    """Block until SIGINT or SIGTERM (True), or until ``running()`` turns false (False)."""
    stop = threading.Event()
    with _stop_on_signals(stop):
        while not stop.wait(_POLL_SECONDS):
            if not running():
                return False
    return True


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT and SIGTERM instead of raising, while the block runs."""

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
