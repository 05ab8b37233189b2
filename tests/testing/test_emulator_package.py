"""The public namespace of neon_keys.testing, its laziness, and the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import neon_keys.testing
import pytest
from neon_keys.testing import demo


def test_all_is_sorted_resolves_and_is_documented() -> None:
    """Every name in __all__ is importable and documented, and the list is sorted."""
    names = neon_keys.testing.__all__
    assert names == sorted(names)
    for name in names:
        value = getattr(neon_keys.testing, name)
        assert value.__doc__, name
    assert set(names) <= set(dir(neon_keys.testing))


def test_unknown_names_raise_attribute_error() -> None:
    """Asking the package for a name it lacks is an AttributeError, as usual."""
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        neon_keys.testing.Nope  # noqa: B018


def test_importing_the_package_loads_no_server_code(tmp_path: Path) -> None:
    """import neon_keys.testing stays cheap: the app and server load on first use."""
    code = (
        "import sys, neon_keys.testing as t\n"
        "print('starlette' in sys.modules, 'uvicorn' in sys.modules)\n"
        "t.World.seeded()\n"
        "print('starlette' in sys.modules)\n"
        "t.EmulatorServer\n"
        "print('uvicorn' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.stdout.split() == ["False", "False", "False", "True"]


def test_demo_walks_the_lifecycle_with_masked_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo prints every step, masks every secret and shows the revoked key refused."""
    assert demo.main() == 0
    out = capsys.readouterr().out
    for step in (
        "1. Who am I?",
        "2. Create a personal key",
        "3. List personal keys",
        "4. Create an organization key and a project-scoped key",
        "5. List the organization's keys",
        "6. Rotate 'deploy'",
        "7. Revoke the personal key",
        "8. What is left",
    ):
        assert step in out
    assert "napi_" not in out
    assert out.count("**********") == 2
    assert "the new secret works: account org-cool-breeze-12345678, api_key_org" in out
    assert "refused as expected: HTTP 401" in out
    assert "project   preview" in out and "org       deploy" in out
    assert "it has stopped" in out
