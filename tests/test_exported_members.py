"""The public namespace is exactly what ``__all__`` says, sorted, and every name resolves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import neon_keys


def test_all_is_sorted_and_resolves() -> None:
    """Every name in __all__ is importable, and the list is kept sorted."""
    assert neon_keys.__all__ == sorted(neon_keys.__all__)
    for name in neon_keys.__all__:
        assert getattr(neon_keys, name) is not None


def test_public_names_have_docstrings() -> None:
    """Every public class documents itself."""
    for name in neon_keys.__all__:
        value = getattr(neon_keys, name)
        if isinstance(value, type):
            assert value.__doc__, name


def test_import_is_lazy(tmp_path: Path) -> None:
    """Importing neon_keys alone does not load httpx or the generated client."""
    code = (
        "import sys, neon_keys; "
        "print('httpx' in sys.modules, 'neon_api_keys_client' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.stdout.split() == ["False", "False"]


def test_client_and_listing_do_not_load_the_generated_models(tmp_path: Path) -> None:
    """Importing the client and reading any answer leave the generated package unloaded.

    It costs ~30 ms to import (attrs and its models); only building a create's request body
    imports it, when first needed.
    """
    code = (
        "import sys\n"
        "from neon_keys import NeonKeys\n"
        "from neon_keys import _parsing as p\n"
        "key = {'id': 1, 'name': 'ci', 'created_at': '2025-01-01T00:00:00Z'}\n"
        "keys = p.personal_key_list([{**key, 'created_by': {'id': 'u', 'name': 'A',"
        " 'image': ''}, 'last_used_at': None, 'last_used_from_addr': '192.0.2.1'}])\n"
        "assert keys[0].last_used_from\n"
        "p.org_key_list([{**key, 'created_by': 'u'}], 'o')\n"
        "p.personal_key_created({**key, 'key': 'napi_x'})\n"
        "p.org_key_created({**key, 'key': 'napi_x', 'project_id': 'p'}, 'o')\n"
        "p.personal_key_revoked({'id': 1, 'name': 'ci', 'revoked': True})\n"
        "p.org_key_revoked({'id': 1, 'name': 'ci', 'revoked': True}, 'o')\n"
        "p.auth_details({'account_id': 'a', 'auth_method': 'api_key_user'})\n"
        "p.organizations({'organizations': []})\n"
        "p.error_fields({'message': 'm'})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('neon_api_keys_client', 'attr'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.stdout.strip() == "[]"
