"""The pytest plugin: its fixtures, and that it costs nothing where the emulator is unused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from neon_keys import AsyncNeonKeys, KeyKind, NeonKeys
from neon_keys.testing import EmulatorServer, World


def test_neon_world_is_a_fresh_seeded_world(neon_world: World) -> None:
    """neon_world is World.seeded(), untouched."""
    assert neon_world.seed.org_id == "org-cool-breeze-12345678"
    assert len(neon_world.log) == 0


def test_neon_emulator_serves_this_tests_world(
    neon_emulator: EmulatorServer, neon_world: World
) -> None:
    """neon_emulator is a loopback server over neon_world, with the seeded credentials."""
    assert neon_emulator.world is neon_world
    assert neon_emulator.base_url.startswith("http://127.0.0.1:")
    assert neon_emulator.api_key == neon_world.seed.admin_token
    assert (neon_emulator.org_id, neon_emulator.project_id) == (
        neon_world.seed.org_id,
        neon_world.seed.project_id,
    )
    headers = {"Authorization": f"Bearer {neon_emulator.api_key}"}
    assert httpx.get(neon_emulator.base_url + "/auth", headers=headers).status_code == 200
    assert neon_world.log.count("getAuthDetails") == 1


def test_neon_client_acts_as_the_seeded_admin(neon_client: NeonKeys, neon_world: World) -> None:
    """neon_client is a NeonKeys on the emulator using the admin's personal key."""
    assert neon_client.whoami().account_id == neon_world.seed.admin_id
    key = neon_client.org(neon_world.seed.org_id).keys.create(
        "preview", project_id=neon_world.seed.project_id
    )
    assert key.kind is KeyKind.PROJECT
    assert neon_world.key(key.id).project_id == neon_world.seed.project_id


@pytest.mark.anyio
async def test_async_neon_client_acts_as_the_seeded_admin(
    async_neon_client: AsyncNeonKeys, neon_world: World
) -> None:
    """async_neon_client is the AsyncNeonKeys twin on the same emulator."""
    key = await async_neon_client.personal_keys.create("ci")
    listed = await async_neon_client.personal_keys.list()
    assert [k.name for k in listed] == ["seed-admin", "ci"]
    assert neon_world.key(key.id).owner_id == neon_world.seed.admin_id


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path.cwd(),  # the calling test's tmp_path (tests/hygiene.py)
    )
    return result.stdout.strip()


def test_importing_the_plugin_loads_no_server_or_http_code() -> None:
    """The plugin (imported by every pytest run) pulls in no starlette, uvicorn or httpx."""
    code = (
        "import sys, neon_keys.testing.pytest_plugin\n"
        "heavy = {'starlette', 'uvicorn', 'httpx', 'anyio', 'neon_api_keys_client'}\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & heavy))"
    )
    assert _python(code) == "[]"


def test_fixtures_without_the_sandbox_extra_fail_with_advice(tmp_path: Path) -> None:
    """Without starlette and uvicorn, a test using the fixtures fails naming the extra."""
    (tmp_path / "conftest.py").write_text(
        "import sys\nsys.modules['starlette'] = None\nsys.modules['uvicorn'] = None\n",
        encoding="utf-8",
    )
    (tmp_path / "test_downstream.py").write_text(
        textwrap.dedent(
            """
            def test_uses_the_emulator(neon_emulator):
                pass

            def test_unrelated():
                pass
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout and "1 error" in result.stdout
    assert "pip install 'neon-api-keys[sandbox]'" in result.stdout
    assert "Traceback" not in result.stdout
