"""Sends the process a signal when a chosen function is entered (CLI signal tests only).

The tests put this folder on ``PYTHONPATH`` of a ``neon-keys`` subprocess and name the
function in ``NEON_KEYS_TEST_SIGNAL_AT`` (``module:Qualified.name``) and the signal in
``NEON_KEYS_TEST_SIGNAL`` (``SIGINT`` or ``SIGTERM``). The first call of the function sends
the signal to the process itself, then runs the function: a real signal, delivered at a
point of the program no timing could hit reliably. Name a method, or a function as the
module that calls it sees it (``neon_keys.cli._create:emit_report``).
``NEON_KEYS_TEST_SIGNAL_COUNT`` (default 1) sends it that many times, a moment apart, as an
impatient user does;
``NEON_KEYS_TEST_SIGNAL_SKIP`` (default 0) lets that many calls pass first.
``NEON_KEYS_TEST_SIGNAL_WHEN=return`` sends it as the function returns instead, for the
instant after a step is done.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import time
from typing import Any


def _arm(target: str, signum: int, count: int, skip: int, on_return: bool) -> None:
    module_name, _, qualname = target.partition(":")
    module = importlib.import_module(module_name)
    *owners, name = qualname.split(".")
    owner: Any = module
    for part in owners:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = 0

    def send() -> None:
        for number in range(count):
            if number:
                time.sleep(0.05)
            os.kill(os.getpid(), signum)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls != skip + 1:
            return original(*args, **kwargs)
        if not on_return:
            send()
            return original(*args, **kwargs)
        result = original(*args, **kwargs)
        send()
        return result

    setattr(owner, name, wrapper)


def _install() -> None:
    target = os.environ.get("NEON_KEYS_TEST_SIGNAL_AT")
    if not target:
        return
    signum = int(getattr(signal, os.environ.get("NEON_KEYS_TEST_SIGNAL", "SIGINT")))
    count = int(os.environ.get("NEON_KEYS_TEST_SIGNAL_COUNT", "1"))
    skip = int(os.environ.get("NEON_KEYS_TEST_SIGNAL_SKIP", "0"))
    on_return = os.environ.get("NEON_KEYS_TEST_SIGNAL_WHEN", "enter") == "return"
    _arm(target, signum, count, skip, on_return)


_install()
