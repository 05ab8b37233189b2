"""Durations as written on command lines and in policy files: ``90s``, ``1h30m``, ``7d``."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from neon_keys import InvalidInputError
from neon_keys._durations import MAX_DURATION, format_duration, parse_duration

td = datetime.timedelta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", td(seconds=90)),
        ("15m", td(minutes=15)),
        ("1h", td(hours=1)),
        ("7d", td(days=7)),
        ("1h30m", td(hours=1, minutes=30)),
        ("2d3h4m5s", td(days=2, hours=3, minutes=4, seconds=5)),
        ("0s", td(0)),
        ("36500d", MAX_DURATION),
    ],
)
def test_the_documented_forms_are_read(text: str, expected: datetime.timedelta) -> None:
    """Each unit alone and combined in order gives the duration it writes."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "h",
        "1h 30m",
        " 1h",
        "1h\n",
        "30m1h",
        "1d1d",
        "1H",
        "-1h",
        "+1h",
        "1.5h",
        "1w",
        "\uff11h",
        "1h30",
        "36501d",
        "9" * 13 + "s",
        "1_0s",
    ],
)
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    """Any other text is an ``InvalidInputError`` that names the option it came from."""
    with pytest.raises(InvalidInputError) as raised:
        parse_duration(text, field="--ttl")
    assert raised.value.field == "--ttl"
    assert "--ttl" in str(raised.value)


def test_non_strings_are_refused() -> None:
    """A number is not a duration: the unit must be written."""
    with pytest.raises(InvalidInputError, match="must be a string"):
        parse_duration(3600)


@given(st.integers(min_value=0, max_value=int(MAX_DURATION.total_seconds())))
def test_format_and_parse_round_trip(seconds: int) -> None:
    """Every whole number of seconds is written in the grammar and read back unchanged."""
    value = td(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


def test_format_is_canonical() -> None:
    """The written form uses the largest units, in order, and says ``0s`` for nothing."""
    assert format_duration(td(seconds=90)) == "1m30s"
    assert format_duration(td(days=1, seconds=1)) == "1d1s"
    assert format_duration(td(0)) == "0s"
    assert format_duration(td(seconds=-90)) == "-1m30s"
