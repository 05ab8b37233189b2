"""``Secret``: masked everywhere, equal by token, false when empty, never pickled."""

from __future__ import annotations

import copy
import gc
import pickle
from unittest import mock

import pytest
from neon_keys import PersonalKey, Secret
from neon_keys._secret import live_tokens

TOKEN = "napi_" + "t0k3n" * 12


def test_masked_in_every_rendering() -> None:
    """str, repr and format (with a spec) show the mask, never the token."""
    secret = Secret(TOKEN)
    assert str(secret) == "**********"
    assert repr(secret) == "Secret('**********')"
    assert f"{secret}" == "**********"
    assert f"{secret:>12}" == "  **********"
    assert secret.reveal() == TOKEN


def test_only_a_str_is_a_secret() -> None:
    """Bytes, None or numbers are refused with TypeError naming the type."""
    for value in (TOKEN.encode(), None, 5):
        with pytest.raises(TypeError, match=f"Secret takes a str, not {type(value).__name__}"):
            Secret(value)  # type: ignore[arg-type]


def test_equality_and_hash_follow_the_token() -> None:
    """Secrets with the same token are equal and hash alike; a str is never equal to one."""
    assert Secret(TOKEN) == Secret(TOKEN)
    assert Secret(TOKEN) != Secret(TOKEN + "x")
    assert hash(Secret(TOKEN)) == hash(Secret(TOKEN))
    assert Secret(TOKEN) != TOKEN
    assert len({Secret(TOKEN), Secret(TOKEN), Secret("other-token")}) == 2


def test_comparing_with_another_type_defers_to_it() -> None:
    """Against a non-secret, == is plainly False, and an object's own __eq__ (mock.ANY) decides."""
    assert (Secret(TOKEN) == TOKEN) is False
    assert Secret(TOKEN) == mock.ANY


def test_an_empty_secret_is_false() -> None:
    """bool() says whether there is a token at all."""
    assert not Secret("")
    assert Secret("x")


def test_a_secret_cannot_be_pickled_but_copies_are_itself() -> None:
    """Pickling fails with a TypeError that says what to do; copy and deepcopy share it."""
    secret = Secret(TOKEN)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match=r"cannot be pickled; store secret\.reveal\(\)"):
            pickle.dumps(secret, protocol=protocol)
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [secret]})
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"k": secret})["k"] is secret


def test_live_tokens_are_those_of_living_secrets() -> None:
    """live_tokens lists each living secret's token once, longest first, and only while the
    secret lives; tokens shorter than the minimum are left out."""
    short, long_ = Secret("s" * 7 + "1"), Secret("l" * 30 + "2")
    twin = Secret("l" * 30 + "2")
    tokens = live_tokens()
    assert tokens.count(long_.reveal()) == 1 and short.reveal() in tokens
    assert tokens.index(long_.reveal()) < tokens.index(short.reveal())
    assert "s" * 7 + "1" not in live_tokens(min_length=9)
    tiny = Secret("abc1234")
    assert tiny.reveal() not in live_tokens()
    del long_, twin
    gc.collect()
    assert "l" * 30 + "2" not in live_tokens()
    assert short.reveal() in live_tokens()


def test_a_token_stays_live_while_any_secret_holding_it_lives() -> None:
    """Two secrets with one token: the token stays live until the last of them is gone."""
    token = "napi_" + "tw1n" * 12
    first, second = Secret(token), Secret(token)
    del first
    gc.collect()
    assert token in live_tokens()
    del second
    gc.collect()
    assert token not in live_tokens()


def test_a_created_key_equals_the_same_key_listed() -> None:
    """The secret is not part of a key's equality or hash: the key a create returns equals
    (and finds in a set) the same key as a listing shows it, without its secret."""
    created = PersonalKey(id=7, name="ci", created_at=None, created_by=None, secret=Secret(TOKEN))
    listed = PersonalKey(id=7, name="ci", created_at=None, created_by=None)
    assert created == listed
    assert created in {listed}
