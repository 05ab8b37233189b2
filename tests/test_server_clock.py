"""``server_now()``: Neon's time as its answers' ``Date`` headers show it, not this machine's."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
from fakes import BASE_URL, LISTED_PERSONAL, run
from neon_keys import AsyncNeonKeys, NeonKeys
from neon_keys._server_clock import ServerClock

UTC = datetime.UTC
NEON_TIME = datetime.datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
"""Far from any real clock, so a test passes only if Neon's time is the one used."""


def _http_date(moment: datetime.datetime) -> str:
    import email.utils

    return email.utils.format_datetime(moment, usegmt=True)


def _clients(dates: list[str | None]) -> tuple[Any, Any]:
    """A sync and an async client whose answers carry ``dates`` in turn (last one repeats)."""

    def answer(request: httpx.Request) -> httpx.Response:
        date = dates.pop(0) if len(dates) > 1 else dates[0]
        headers = {"Date": date} if date is not None else {}
        return httpx.Response(200, json=LISTED_PERSONAL, headers=headers)

    transport = httpx.MockTransport(answer)
    sync = NeonKeys(
        api_key="napi_x", base_url=BASE_URL, http_client=httpx.Client(transport=transport)
    )
    asynchronous = AsyncNeonKeys(
        api_key="napi_x", base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport)
    )
    return sync, asynchronous


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_server_now_follows_neons_date_not_this_clock(kind: str) -> None:
    """After an answer dated 2031, server_now() says 2031, plus the time elapsed since."""
    sync, asynchronous = _clients([_http_date(NEON_TIME)])
    client = sync if kind == "sync" else asynchronous
    assert client.server_now() is None  # no answer yet: nothing is made up
    run(client.personal_keys.list())
    now = client.server_now()
    assert now is not None and now.tzinfo is not None
    assert NEON_TIME <= now < NEON_TIME + datetime.timedelta(seconds=5)


def test_each_new_date_moves_the_clock_and_copies_share_it() -> None:
    """A later Date replaces the earlier one; with_options() copies read the same clock."""
    later = NEON_TIME + datetime.timedelta(hours=2)
    client, _ = _clients([_http_date(NEON_TIME), _http_date(later)])
    copy = client.with_options(timeout=5)
    client.personal_keys.list()
    assert copy.server_now() is not None and copy.server_now() < later
    copy.personal_keys.list()
    assert later <= client.server_now() < later + datetime.timedelta(seconds=5)


def test_answers_without_a_readable_date_change_nothing() -> None:
    """A missing or garbled Date keeps the last good reading."""
    client, _ = _clients([_http_date(NEON_TIME), None, "yesterday, probably"])
    client.personal_keys.list()
    client.personal_keys.list()
    client.personal_keys.list()
    now = client.server_now()
    assert now is not None and NEON_TIME <= now < NEON_TIME + datetime.timedelta(seconds=5)


def test_the_clock_runs_on_between_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Time elapsed here (monotonic) is added to the last Date; the same Date keeps its anchor."""
    ticks = iter([100.0, 130.0, 160.0, 190.0])
    monkeypatch.setattr("neon_keys._server_clock.time.monotonic", lambda: next(ticks))
    clock = ServerClock()
    clock.observe(_http_date(NEON_TIME))  # read at 100
    clock.observe(_http_date(NEON_TIME))  # same text: the first reading stays
    assert clock.now() == NEON_TIME + datetime.timedelta(seconds=30)  # asked at 130
    assert clock.now() == NEON_TIME + datetime.timedelta(seconds=60)  # asked at 160


@pytest.mark.parametrize("date", ["", "Tue, 15 Nov 1994 08:12:31 -0000", "not a date"])
def test_an_unusable_date_is_ignored(date: str) -> None:
    """Dates without a zone or that do not parse leave the clock unset."""
    clock = ServerClock()
    clock.observe(date)
    assert clock.now() is None


@pytest.mark.parametrize(
    "date",
    [
        "Thu, 01 Jan 1970 00:00:00 GMT",  # a proxy whose clock was never set
        "Fri, 31 Dec 9999 23:59:59 GMT",  # the end of datetime: would overflow a second later
        "Sat, 01 Jan 9000 00:00:00 GMT",
    ],
)
def test_an_absurd_date_is_ignored(date: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Date no clock of Neon's could show leaves the last good reading, and asking for the
    time later never fails."""
    ticks = iter([100.0, 200.0, 200.0])
    monkeypatch.setattr("neon_keys._server_clock.time.monotonic", lambda: next(ticks))
    clock = ServerClock()
    clock.observe(_http_date(NEON_TIME))
    clock.observe(date)
    assert clock.now() == NEON_TIME + datetime.timedelta(seconds=100)
