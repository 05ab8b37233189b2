"""Request bodies the overlay writes itself are exactly what the generated models write."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from neon_api_keys_client.models.api_key_create_request import ApiKeyCreateRequest
from neon_api_keys_client.models.org_api_key_create_request import OrgApiKeyCreateRequest
from neon_keys import InvalidInputError, _operations, _validation


def _valid(name: str) -> bool:
    try:
        _validation.key_name(name)
    except InvalidInputError:
        return False
    return True


names = st.text(min_size=1, max_size=64).filter(_valid)
"""Every name the library sends (the others are refused before any body is made)."""
projects = st.none() | st.from_regex(r"[a-z0-9-]{1,60}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(name=names, project=projects)
def test_create_bodies_match_the_generated_models(name: str, project: str | None) -> None:
    """The JSON of each create is the generated request model's, for any name and project."""
    personal = _operations.create_personal_key(name)
    assert personal.json == ApiKeyCreateRequest(key_name=name).to_dict()
    org = _operations.create_org_key("org-x", name, project)
    model = OrgApiKeyCreateRequest(key_name=name)
    if project is not None:
        model.project_id = project
    assert org.json == model.to_dict()
