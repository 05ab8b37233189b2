"""Bad input is refused before any request, with a message naming the field and the rule."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import ORG_ID, FakeNeon, run
from neon_keys import InvalidInputError


@pytest.mark.parametrize(
    ("name", "rule"),
    [("", "must not be empty"), ("x" * 65, "at most 64"), (None, "must be a string"), (5, "str")],
)
def test_bad_key_names(client: Any, fake: FakeNeon, name: Any, rule: str) -> None:
    """A key name that is not 1 to 64 characters is refused for personal and org keys."""
    for create in (client.personal_keys.create, client.org(ORG_ID).keys.create):
        with pytest.raises(InvalidInputError) as caught:
            run(create(name))
        assert caught.value.field == "key name"
        assert rule in str(caught.value)
    assert fake.requests == []


def test_name_of_64_characters_is_accepted(client: Any, fake: FakeNeon) -> None:
    """The longest allowed name goes through."""
    run(client.personal_keys.create("x" * 64))
    assert len(fake.requests) == 1


@pytest.mark.parametrize("key_id", ["12", True, 0, -3, 1.5, None, 2**63])
def test_bad_key_ids(client: Any, fake: FakeNeon, key_id: Any) -> None:
    """Key ids must be positive ints, not bools or strings."""
    with pytest.raises(InvalidInputError, match="key_id"):
        run(client.personal_keys.revoke(key_id))
    with pytest.raises(InvalidInputError, match="key_id"):
        run(client.org(ORG_ID).keys.revoke(key_id))
    assert fake.requests == []


@pytest.mark.parametrize("org_id", ["", "Org-Upper", "a" * 61, "org_1", "org/../x", "org-1\n", 7])
def test_bad_org_ids(client: Any, fake: FakeNeon, org_id: Any) -> None:
    """org() refuses ids that break the spec's pattern, before anything is sent."""
    with pytest.raises(InvalidInputError) as caught:
        client.org(org_id)
    assert caught.value.field == "org_id"
    assert fake.requests == []


@pytest.mark.parametrize("project_id", ["", "Upper", "p" * 61, "a b"])
def test_bad_project_ids(client: Any, fake: FakeNeon, project_id: str) -> None:
    """A project id that breaks the pattern is refused before the create is sent."""
    with pytest.raises(InvalidInputError) as caught:
        run(client.org(ORG_ID).keys.create("k", project_id=project_id))
    assert caught.value.field == "project_id"
    assert fake.requests == []


def test_invalid_input_is_also_a_value_error() -> None:
    """Callers catching ValueError also catch invalid input."""
    assert issubclass(InvalidInputError, ValueError)


@pytest.mark.anyio
async def test_every_scope_is_called_alike_and_refuses_a_project_for_personal_keys(
    fake: FakeNeon,
) -> None:
    """``create(name, project_id=...)`` is refused for personal keys before anything is sent."""
    from neon_keys import AsyncKeyScope, KeyScope

    sync_scope: KeyScope = fake.sync_client().personal_keys
    async_scope: AsyncKeyScope = fake.async_client().personal_keys
    assert sync_scope.org_id is None and async_scope.org_id is None
    with pytest.raises(InvalidInputError, match="project") as raised:
        sync_scope.create("ci", project_id="summer-haze-17190561")
    assert raised.value.field == "project_id"
    with pytest.raises(InvalidInputError, match="project"):
        await async_scope.create("ci", project_id="summer-haze-17190561")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        (" ", "only whitespace"),
        ("\t \n", "only whitespace"),
        ("\u3000", "only whitespace"),
        ("ci\nrelease", "control character or line break (U+000A)"),
        ("ci\r", "U+000D"),
        ("ci\x1b[31m", "U+001B"),
        ("ci\x00", "U+0000"),
        ("a\u2028b", "U+2028"),
        ("\udcff", "lone surrogate (U+DCFF)"),
        ("ok\ud800ok", "lone surrogate (U+D800)"),
        ("\u200b", "nothing visible"),
        ("\u200b\u200f \ufeff", "nothing visible"),
        ("ci-\u202egorp", "direction override or isolate (U+202E)"),
        ("\u2067ci", "direction override or isolate (U+2067)"),
    ],
)
def test_unprintable_key_names_are_refused(
    client: Any, fake: FakeNeon, name: str, rule: str
) -> None:
    """Names with nothing visible, control characters, line breaks, lone surrogates or
    characters that reorder the rest of the line are refused."""
    for create in (client.personal_keys.create, client.org(ORG_ID).keys.create):
        with pytest.raises(InvalidInputError) as caught:
            run(create(name))
        assert caught.value.field == "key name" and rule in caught.value.rule
    assert fake.requests == []


@pytest.mark.parametrize(
    "name",
    [
        " ci ",
        "déploiement",
        "ci 👨\u200d👩\u200d👧",
        "a\u00a0b",
        "日本",
        "\u05e9\u05dc\u05d5\u05dd\u200f",
    ],
)
def test_printable_names_with_spaces_or_any_script_are_accepted(
    client: Any, fake: FakeNeon, name: str
) -> None:
    """Names with inner or outer spaces, accents, emoji sequences or any script go through."""
    run(client.personal_keys.create(name))
    assert len(fake.requests) == 1
