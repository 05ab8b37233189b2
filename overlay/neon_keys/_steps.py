"""Multi-step operations written once for sync and async key scopes.

A flow is a generator that yields the calls it needs (``Call``) and receives their results;
``run`` performs them directly, ``arun`` awaits them. An exception a call raises is thrown
into the flow, which may record it and re-raise. A ``Call`` marked ``blocking`` is plain
sync code on both sides (a sink's delivery): ``arun`` runs it on a worker thread, and waits
for it to finish even when the task is cancelled, so it is never cut short.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["Call", "Flow", "arun", "run"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One step: ``function(*args, **kwargs)``; ``blocking`` for sync code in either mode."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    blocking: bool = False


Flow = Generator[Call, Any, T]
"""A flow that returns ``T``."""


def run(flow: Flow[T]) -> T:
    """Perform ``flow``'s calls in turn."""
    reply: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = flow.send(reply) if failure is None else flow.throw(failure)
        except StopIteration as done:
            result: T = done.value
            return result
        reply, failure = None, None
        try:
            reply = step.function(*step.args, **step.kwargs)
        except BaseException as err:  # the flow decides: it may record it, then re-raise
            failure = err


async def arun(flow: Flow[T]) -> T:
    """``run`` for async scopes: calls are awaited, blocking ones run on a worker thread."""
    reply: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = flow.send(reply) if failure is None else flow.throw(failure)
        except StopIteration as done:
            result: T = done.value
            return result
        reply, failure = None, None
        try:
            if step.blocking:
                import anyio.to_thread  # noqa: PLC0415  (an httpx dependency; only here)

                reply = await anyio.to_thread.run_sync(
                    functools.partial(step.function, *step.args, **step.kwargs)
                )
            else:
                reply = await step.function(*step.args, **step.kwargs)
        except BaseException as err:  # the flow decides: it may record it, then re-raise
            failure = err
