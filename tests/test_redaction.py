"""Redaction: credentials leave every text before it is cut, and every third-party log record."""

from __future__ import annotations

import logging

import httpx
import pytest
from neon_keys import InvalidInputError, NeonKeys, Secret
from neon_keys._redaction import LOGGERS, REDACTED, protect_logs, redact, redact_chain

TOKEN = "napi_" + "r3d4c" * 12


def test_redact_removes_given_tokens_live_secrets_and_bearer_values() -> None:
    """Given tokens (any length), living secrets and anything after Bearer are masked."""
    live = Secret("napi_" + "l1v3" * 10)
    text = f"a {TOKEN} b {live.reveal()} c bearer someone_elses.token/1=; d k1"
    assert redact(text, TOKEN, "k1") == (
        f"a {REDACTED} b {REDACTED} c Bearer {REDACTED}; d {REDACTED}"
    )
    assert redact("nothing to hide") == "nothing to hide"
    assert redact("x", "") == "x"


def test_a_token_inside_another_is_masked_whole() -> None:
    """The longer of two overlapping tokens is masked first, so none of it shows."""
    inner = TOKEN[:20]
    assert redact(f"[{TOKEN}]", inner, TOKEN) == f"[{REDACTED}]"
    assert redact(f"[{TOKEN}] [{inner}]", inner, TOKEN) == f"[{REDACTED}] [{REDACTED}]"


def test_redact_chain_cleans_every_linked_exception() -> None:
    """The text arguments of an error, its cause and its context are redacted in place."""
    inner = ValueError(f"inner {TOKEN}", 7)
    middle = KeyError(f"middle {TOKEN}")
    middle.__cause__ = inner
    outer = RuntimeError(f"outer {TOKEN}")
    outer.__context__ = middle
    middle.__context__ = outer  # a cycle: must not loop forever
    redact_chain(outer, TOKEN)
    assert outer.args == (f"outer {REDACTED}",)
    assert middle.args == (f"middle {REDACTED}",)
    assert middle.__cause__ is not None
    assert middle.__cause__.args == (f"inner {REDACTED}", 7)


def test_invalid_input_never_shows_a_piece_of_a_token() -> None:
    """A token passed where an id belongs is masked before the value shown is cut short."""
    with NeonKeys(api_key=TOKEN) as neon:
        with pytest.raises(InvalidInputError) as caught:
            neon.org(TOKEN * 2)
        assert TOKEN[:12] not in str(caught.value)
        assert "(got '[redacted][redacted]')" in str(caught.value)
        with pytest.raises(InvalidInputError) as long_value:
            neon.org("x" * 80)
    assert str(long_value.value).endswith(f"(got '{'x' * 36}...)")


@pytest.mark.parametrize("name", LOGGERS)
def test_log_records_of_http_libraries_are_redacted(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A record of httpx, httpcore or neon_keys holding a live secret is rewritten; other
    records pass unchanged."""
    secret = Secret(TOKEN)
    protect_logs()
    protect_logs()  # idempotent: one filter per logger
    logger = logging.getLogger(name)
    assert sum(1 for f in logger.filters if type(f).__name__ == "_RedactingFilter") == 1
    caplog.set_level(logging.DEBUG, logger=name)
    logger.debug("headers=%r", [(b"x-neon-ret-request-id", secret.reveal().encode())])
    logger.info("plain %s", "message")
    try:
        raise httpx.RemoteProtocolError(f"illegal header line: {secret.reveal()}")
    except httpx.RemoteProtocolError:
        logger.exception("failed")
    first, second, third = caplog.records
    assert first.getMessage() == f"headers=[(b'x-neon-ret-request-id', b'{REDACTED}')]"
    assert first.args is None
    assert (second.msg, second.args) == ("plain %s", ("message",))
    assert secret.reveal() not in caplog.text
    assert third.exc_info is not None and f"line: {REDACTED}" in caplog.text


def test_a_malformed_record_passes_untouched(caplog: pytest.LogCaptureFixture) -> None:
    """A record whose arguments do not fit its format is left for logging to report."""
    protect_logs()
    caplog.set_level(logging.DEBUG, logger="httpx")
    logger = logging.getLogger("httpx")
    for handler in logger.filters:
        record = logging.LogRecord("httpx", logging.DEBUG, __file__, 1, "%d", ("x",), None)
        assert handler.filter(record) is True
        assert (record.msg, record.args) == ("%d", ("x",))


def test_an_exception_logged_without_being_raised_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """exc_info given an exception that was never raised (no traceback) is cleaned too."""
    secret = Secret(TOKEN)
    protect_logs()
    caplog.set_level(logging.DEBUG, logger="neon_keys")
    error = httpx.RemoteProtocolError(f"illegal header line: {secret.reveal()}")
    logging.getLogger("neon_keys").error("failed", exc_info=error)
    assert error.__traceback__ is None
    assert f"line: {REDACTED}" in caplog.text and secret.reveal() not in caplog.text
