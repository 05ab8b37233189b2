"""tools/record.py picks its target from the environment and never records half-configured."""

from __future__ import annotations

import record


def test_live_target_without_org_records_only_personal_cassettes() -> None:
    """With a key but no organization, the organization cassettes are left alone."""
    target = record.live_target({"NEON_API_KEY": " napi_fake \n"})
    assert target == {
        "NEON_RECORD_API_KEY": "napi_fake",
        "NEON_RECORD_API_HOST": record.DEFAULT_HOST,
    }
    command = record.pytest_command(target)
    assert command[-2:] == ["-k", f"not {record.ORG_TESTS}"]
    assert "napi_fake" not in " ".join(command)


def test_live_target_with_org_and_project_records_everything() -> None:
    """An organization and a project (both) turn the organization cassettes on."""
    environ = {
        "NEON_API_KEY": "napi_fake",
        "NEON_API_HOST": "https://staging.example.com/api/v2",
        "NEON_ORG_ID": "org-a-1",
        "NEON_PROJECT_ID": "proj-a-1",
    }
    target = record.live_target(environ)
    assert target["NEON_RECORD_ORG_ID"] == "org-a-1"
    assert target["NEON_RECORD_API_HOST"] == "https://staging.example.com/api/v2"
    assert "-k" not in record.pytest_command(target)
    del environ["NEON_PROJECT_ID"]
    assert "NEON_RECORD_ORG_ID" not in record.live_target(environ)


def test_emulator_target_serves_a_seeded_world_on_loopback() -> None:
    """Without a key, recording goes to a seeded emulator on 127.0.0.1."""
    with record.emulator_target() as target:
        assert target["NEON_RECORD_API_HOST"].startswith("http://127.0.0.1:")
        assert set(target) == {
            "NEON_RECORD_API_KEY",
            "NEON_RECORD_API_HOST",
            "NEON_RECORD_ORG_ID",
            "NEON_RECORD_PROJECT_ID",
        }
