"""Keeping credentials out of what people and tools read: error messages and log records.

``redact`` removes from a text the tokens it is given, the token of every live ``Secret``
(the API key of every client, every secret a create returned) and any credential that
follows ``Bearer``. Every string that reaches an exception of this library passes through
it, whatever field of an answer it came from, and always before it is cut short: a cut
token would no longer be found whole.

httpx and httpcore log what a server sent back (a reason phrase at INFO, the response
headers at DEBUG), where a server or proxy echoing the token would put it in a log record.
``protect_logs`` gives their loggers, and this library's own, a filter that redacts each
record the same way. It only runs for records a logger emits (when logging is configured to
show them), and changes none that holds no credential.
"""

from __future__ import annotations

import logging
import re
import threading

from ._secret import live_tokens

__all__ = ["LOGGERS", "REDACTED", "protect_logs", "redact", "redact_chain"]

REDACTED = "[redacted]"
"""What stands in a text where a credential was."""

_BEARER = re.compile(r"\bBearer\s+[^\s\"'<>,;]+", re.IGNORECASE)

LOGGERS = (
    "neon_keys",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
"""The loggers whose records ``protect_logs`` redacts: this library's, httpx's, httpcore's."""


def redact(text: str, *tokens: str) -> str:
    """``text`` without ``tokens``, the token of any live ``Secret``, nor any ``Bearer`` value.

    Args:
        text: what may hold a credential.
        tokens: credentials to remove whatever their length (a client's own API key);
            empty strings are ignored. Live secrets shorter than 8 characters are not
            removed unless given here.
    """
    candidates = sorted({token for token in tokens if token}, key=len, reverse=True)
    for token in (*candidates, *live_tokens()):
        if token in text:
            text = text.replace(token, REDACTED)
    return _BEARER.sub(f"Bearer {REDACTED}", text)


def redact_chain(error: BaseException, *tokens: str) -> None:
    """Redact, in place, the text arguments of ``error`` and of the exceptions it chains.

    A transport error (httpx's, and httpcore's and h11's behind it) may quote what the
    server sent; the library raises its own errors ``from`` it, so a traceback prints it.
    """
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(
            redact(arg, *tokens) if isinstance(arg, str) else arg for arg in current.args
        )
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]


class _RedactingFilter(logging.Filter):
    """Rewrites a record whose message holds a credential; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            redact_chain(record.exc_info[1])
            record.exc_text = None
        return True


_FILTER = _RedactingFilter()
_installed = False
_install_lock = threading.Lock()


def protect_logs() -> None:
    """Give each logger of ``LOGGERS`` the redacting filter (once per process)."""
    global _installed  # noqa: PLW0603  (the filter is installed once for the process)
    if _installed:
        return
    with _install_lock:
        for name in LOGGERS:
            logging.getLogger(name).addFilter(_FILTER)
        _installed = True  # pragma: no mutate (addFilter never adds a filter twice)
