"""The lease-name grammar: round trips, strict parsing, ordering, and the base-name rules."""

from __future__ import annotations

import dataclasses
import datetime
import random
import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from neon_keys import InvalidInputError, LeaseName, OrgKey, PersonalKey, _lease_names
from neon_keys._lease_names import LEASE_MARKER, MAX_BASE_NAME_LENGTH, fit_base_name

UTC = datetime.UTC
EXAMPLES = settings(max_examples=200, deadline=None)

base_names = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda text: bool(text) and text.isprintable() and LEASE_MARKER not in text)
)
expiries = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1),
    max_value=datetime.datetime(9000, 1, 1),
    timezones=st.sampled_from([UTC, datetime.timezone(datetime.timedelta(hours=-7))]),
)
randoms = st.text(_lease_names._ALPHABET, min_size=5, max_size=5)
leases = st.builds(LeaseName._compose, base_names, expiries, randoms)
"""Lease names whose random part hypothesis chooses (so that it can replay them)."""


def _ceil_second(moment: datetime.datetime) -> datetime.datetime:
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.replace(microsecond=0) + datetime.timedelta(seconds=1)
    return moment


# -- round trip -------------------------------------------------------------------------------


@EXAMPLES
@given(base=base_names, expiry=expiries)
def test_format_then_parse_gives_back_the_lease(base: str, expiry: datetime.datetime) -> None:
    """A new lease name parses back to its base name and its expiry, in UTC to the second."""
    lease = LeaseName.new(base, expiry)
    parsed = LeaseName.parse(lease.name)
    assert parsed == lease
    assert parsed.base_name == base and parsed.name == str(lease)
    assert parsed.expires_at == _ceil_second(expiry) and parsed.expires_at.tzinfo is UTC
    assert lease.name.startswith(base) and len(lease.name) <= 64


def test_the_documented_example_parses() -> None:
    """The example in the documentation is a valid lease name."""
    lease = LeaseName.parse("preview-42 (lease 20250601T130000Z k7q2xnmy)")
    assert lease is not None
    assert lease.base_name == "preview-42"
    assert lease.expires_at == datetime.datetime(2025, 6, 1, 13, 0, tzinfo=UTC)


def test_same_base_same_second_gives_distinct_names() -> None:
    """A thousand leases of one base name and one expiry share a name only by the chance of
    25 random bits: about 0.015 pairs are expected to, and more than five pairs will not
    in 10**13 runs (a test asking for no pair at all would fail once in 67)."""
    expiry = datetime.datetime(2025, 6, 1, 13, 0, tzinfo=UTC)
    names = {LeaseName.new("ci", expiry).name for _ in range(1000)}
    assert len(names) >= 995


def test_the_token_does_not_follow_the_seed_of_random() -> None:
    """The token comes from ``secrets``: a program (or a test runner) that seeds ``random``
    the same way in two processes still gets distinct leases."""
    expiry = datetime.datetime(2025, 6, 1, 13, 0, tzinfo=UTC)
    names = []
    for _ in range(3):
        random.seed(1234)
        names.append(LeaseName.new("ci", expiry).name)
    assert len(set(names)) == 3  # two alike by chance: about once in 11 million runs


def test_a_fraction_of_a_second_is_rounded_up() -> None:
    """A lease never ends before the moment asked for."""
    lease = LeaseName.new("ci", datetime.datetime(2025, 6, 1, 12, 59, 59, 1, tzinfo=UTC))
    assert lease.expires_at == datetime.datetime(2025, 6, 1, 13, 0, tzinfo=UTC)


# -- nothing else parses ------------------------------------------------------------------------


@EXAMPLES
@given(name=st.text(max_size=80))
def test_arbitrary_text_is_not_a_lease(name: str) -> None:
    """Random names are ordinary names."""
    assert LeaseName.parse(name) is None


@EXAMPLES
@given(
    base=st.text(max_size=40),
    stamp=st.text(string.digits + "TZ", min_size=14, max_size=18),
    token=st.text(string.ascii_letters + string.digits, min_size=6, max_size=10),
)
def test_names_shaped_like_leases_by_hand_are_not_leases(base: str, stamp: str, token: str) -> None:
    """Someone imitating the shape (without the check) does not make a lease."""
    assert LeaseName.parse(f"{base} (lease {stamp} {token})") is None


@pytest.mark.parametrize(
    "name",
    [
        "preview-42 (lease 20250601T130000Z k7q2xa1)",  # token too short
        "preview-42 (lease 20250601T130000Z k7q2xnmyz)",  # token too long
        "preview-42 (lease 20250601T130000Z K7Q2XA1F)",  # upper case
        "preview-42 (lease 20250601T130000Z k7q2xa1u)",  # u is not in the alphabet
        "preview-42 (lease 20250601T130000 k7q2xnmy)",  # no Z
        "preview-42 (lease 2025-06-01T13:00:00Z k7q2xnmy)",  # extended format
        "preview-42 (Lease 20250601T130000Z k7q2xnmy)",  # keyword case
        "preview-42 (lease2 20250601T130000Z k7q2xnmy)",  # another version
        "preview-42 (lease 20250601T130000Z k7q2xnmy) ",  # trailing space
        "preview-42  (lease 20250601T130000Z k7q2xnmy)",  # base ends with a space
        " (lease 20250601T130000Z k7q2xnmy)",  # empty base
        "preview-42 (lease \u0662\u0660\u0662\u0665\u0660\u0666\u0660\u0661T130000Z k7q2xnmy)",
        "preview-42\n(lease 20250601T130000Z k7q2xnmy)",
        "preview-42 (lease 20250601T130000Z k7q2xnmy)\n",
    ],
)
def test_near_misses_are_ordinary_names(name: str) -> None:
    """Names one detail away from the grammar are ordinary names."""
    assert LeaseName.parse(name) is None


@pytest.mark.parametrize("base", [" ci", "ci ", "ci\tbuild", "ci\x00", "a (lease b"])
def test_a_bad_base_name_with_a_right_check_is_not_a_lease(base: str) -> None:
    """A name whose check is right but whose base name breaks a rule is an ordinary name."""
    body = f"{base}{LEASE_MARKER}20250601T130000Z k7q2x"
    name = f"{body}{_lease_names._check(body)})"
    assert len(name) <= 64 and LeaseName.parse(name) is None
    good = f"ci{LEASE_MARKER}20250601T130000Z k7q2x"
    assert LeaseName.parse(f"{good}{_lease_names._check(good)})") is not None


@pytest.mark.parametrize(
    "stamp", ["20251301T000000Z", "20250230T000000Z", "20250601T240000Z", "20250601T126000Z"]
)
def test_an_impossible_time_is_not_a_lease(stamp: str) -> None:
    """Month 13, February 30, hour 24 or minute 60 are refused, even with a right check."""
    body = f"ci{LEASE_MARKER}{stamp} k7q2x"
    name = f"{body}{_lease_names._check(body)})"
    assert LeaseName.parse(name) is None


@EXAMPLES
@given(lease=leases, data=st.data())
def test_a_changed_character_is_never_a_lease(lease: LeaseName, data: st.DataObject) -> None:
    """Any single character changed (by less than 32749 code points) breaks the name."""
    name = lease.name
    index = data.draw(st.integers(0, len(name) - 1))
    old = ord(name[index])
    new = data.draw(st.integers(max(0, old - 32_748), min(0x10FFFF, old + 32_748)))
    assume(new != old and not 0xD800 <= new <= 0xDFFF)
    changed = name[:index] + chr(new) + name[index + 1 :]
    assert LeaseName.parse(changed) is None


@EXAMPLES
@given(lease=leases, data=st.data())
def test_two_swapped_neighbours_are_never_a_lease(lease: LeaseName, data: st.DataObject) -> None:
    """Swapping two different adjacent characters breaks the name."""
    name = lease.name
    index = data.draw(st.integers(0, len(name) - 2))
    assume(name[index] != name[index + 1])
    swapped = name[:index] + name[index + 1] + name[index] + name[index + 2 :]
    assert LeaseName.parse(swapped) is None


@EXAMPLES
@given(lease=leases, data=st.data())
def test_a_cut_or_extended_suffix_is_never_a_lease(lease: LeaseName, data: st.DataObject) -> None:
    """Dropping or adding a character after the base name breaks the name."""
    name = lease.name
    index = data.draw(st.integers(len(lease.base_name), len(name) - 1))
    dropped = name[:index] + name[index + 1 :]
    added = name[:index] + data.draw(st.characters()) + name[index:]
    assert LeaseName.parse(dropped) is None
    assert LeaseName.parse(added) is None


# -- ordering -----------------------------------------------------------------------------------


@EXAMPLES
@given(base=base_names, first=expiries, second=expiries, randoms=st.tuples(randoms, randoms))
def test_leases_of_a_base_sort_by_expiry(
    base: str, first: datetime.datetime, second: datetime.datetime, randoms: tuple[str, str]
) -> None:
    """Sorted by name, the leases of one base name come in the order they expire."""
    a = LeaseName._compose(base, first, randoms[0])
    b = LeaseName._compose(base, second, randoms[1])
    if a.expires_at != b.expires_at:
        assert (a.name < b.name) == (a.expires_at < b.expires_at)
    assert base < a.name  # right after the base name itself


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(base_names, expiries), min_size=2, max_size=8))
def test_leases_of_a_base_sort_together(pairs: list[tuple[str, datetime.datetime]]) -> None:
    """In a sorted listing, the leases of each base name form one unbroken run."""
    # Bases often share prefixes in practice ("ci", "ci-2"); draw some that do.
    bases = {base for base, _ in pairs}
    names = sorted(LeaseName.new(base, expiry).name for base, expiry in pairs)
    for base in bases:
        for suffix in (" !", "!", " (", " (lease"):
            if len(base + suffix) <= MAX_BASE_NAME_LENGTH:
                names.append(LeaseName.new(base + suffix, pairs[0][1]).name)
    names.sort()
    owners = [LeaseName.parse(name).base_name for name in names]  # type: ignore[union-attr]
    runs = [owner for index, owner in enumerate(owners) if index == 0 or owners[index - 1] != owner]
    assert len(runs) == len(set(owners))


# -- base names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "problem"),
    [
        ("x" * 31, "at most 30 characters"),
        ("", "must not be empty"),
        (" ci", "whitespace"),
        ("ci ", "whitespace"),
        ("ci\tbuild", "control characters"),
        ("a (lease b", "must not contain"),
        (42, "must be a string"),
    ],
)
def test_a_bad_base_name_is_refused(base: object, problem: str) -> None:
    """A base name that cannot make a valid, unambiguous lease is refused, naming the rule."""
    with pytest.raises(InvalidInputError, match="lease base name") as caught:
        LeaseName.new(base, datetime.datetime(2025, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert problem in str(caught.value)


def test_the_longest_base_name_fits_in_64_characters() -> None:
    """A 30-character base name makes a 64-character name, Neon's maximum."""
    lease = LeaseName.new("x" * MAX_BASE_NAME_LENGTH, datetime.datetime(2025, 1, 1, tzinfo=UTC))
    assert MAX_BASE_NAME_LENGTH == 30 and len(lease.name) == 64


def test_a_lease_of_the_longest_base_name_parses() -> None:
    """A lease name of exactly 64 characters (a 30-character base) is read back as a lease."""
    lease = LeaseName.new("x" * MAX_BASE_NAME_LENGTH, datetime.datetime(2025, 1, 1, tzinfo=UTC))
    assert LeaseName.parse(lease.name) == lease
    assert LeaseName.parse("y" + lease.name) is None


def test_a_lease_name_cannot_be_changed_once_made() -> None:
    """A parsed lease is immutable: its expiry cannot be moved after the fact."""
    lease = LeaseName.new("ci", datetime.datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(dataclasses.FrozenInstanceError):
        lease.expires_at = datetime.datetime(2099, 1, 1, tzinfo=UTC)  # type: ignore[misc]
    assert hash(lease) == hash(LeaseName.parse(lease.name))


def test_a_naive_expiry_is_refused() -> None:
    """An expiry without a time zone is ambiguous, so it is refused."""
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        LeaseName.new("ci", datetime.datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deploy.sh", "deploy.sh"),
        ("x" * 40, "x" * 30),
        ("a" * 29 + " b", "a" * 29),
        ("  \t ", "exec"),
        ("", "exec"),
        ("run (lease now", "run now"),
    ],
)
def test_fit_base_name_makes_any_text_a_base_name(text: str, expected: str) -> None:
    """A name derived by a program is cut and cleaned into a valid base name, never refused."""
    fitted = fit_base_name(text, "exec")
    assert fitted == expected
    LeaseName.new(fitted, datetime.datetime(2025, 1, 1, tzinfo=UTC))


# -- on key objects -----------------------------------------------------------------------------


def test_key_objects_read_their_expiry_from_their_name() -> None:
    """A lease key has expires_at and its base name; an ordinary key None and its own name."""
    lease = LeaseName.new("preview", datetime.datetime(2025, 6, 1, 13, tzinfo=UTC))
    key = OrgKey(id=1, name=lease.name, created_at=None, created_by=None, org_id="o")
    assert key.expires_at == lease.expires_at and key.base_name == "preview"
    plain = PersonalKey(id=2, name="preview (lease soon)", created_at=None, created_by=None)
    assert plain.expires_at is None and plain.base_name == "preview (lease soon)"
