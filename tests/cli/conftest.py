"""Fixtures for the CLI tests: ``neon-keys`` run in process against the loopback emulator."""

from __future__ import annotations

import pytest
from cli_support import START, Neon
from neon_keys.testing import EmulatorServer, FakeClock, World


@pytest.fixture(autouse=True)
def _no_ambient_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never write to a real GitHub Actions environment file."""
    monkeypatch.delenv("GITHUB_ENV", raising=False)


@pytest.fixture
def clock() -> FakeClock:
    """The emulator's clock, which the CLI reads too; it moves only when a test says so."""
    return FakeClock(START)


@pytest.fixture
def neon_world(clock: FakeClock) -> World:
    """A seeded world on the fake clock (overrides the plugin's fixture of the same name)."""
    return World.seeded(clock=clock)


@pytest.fixture
def neon(neon_emulator: EmulatorServer, neon_world: World) -> Neon:
    """``neon("list", ...)`` runs the CLI against this test's emulated Neon."""
    return Neon(neon_world, neon_emulator)
