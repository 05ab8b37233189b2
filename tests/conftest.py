"""Shared fixtures: a fake Neon behind ``httpx.MockTransport``, for both clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import neon_keys
import pytest
from fakes import FakeNeon

# Each test in its own working folder, the checkout left as it was, the random order's seed.
pytest_plugins = ["hygiene"]


@pytest.fixture(scope="session")
def _empty_config_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configuration folder holding no neon-keys config file."""
    return tmp_path_factory.mktemp("xdg-config")


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, _empty_config_home: Path) -> None:
    """Tests never pick up a developer's real key, host, profile or config file."""
    monkeypatch.delenv("NEON_API_KEY", raising=False)
    monkeypatch.delenv("NEON_API_HOST", raising=False)
    monkeypatch.delenv("NEON_KEYS_PROFILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(_empty_config_home))


@pytest.fixture(autouse=True)
def skipped_waits() -> Iterator[neon_keys.SkippedWaits]:
    """The library's test mode is on for every test: no client sleeps; the waits are kept."""
    with neon_keys.set_testing() as skipped:
        yield skipped


@pytest.fixture
def fake() -> FakeNeon:
    """A fresh fake Neon."""
    return FakeNeon()


@pytest.fixture(params=["sync", "async"])
def make_client(request: pytest.FixtureRequest, fake: FakeNeon) -> Callable[..., Any]:
    """Build a ``NeonKeys`` or an ``AsyncNeonKeys`` (each test runs with both) on ``fake``."""

    def build(**options: Any) -> Any:
        if request.param == "sync":
            return fake.sync_client(**options)
        return fake.async_client(**options)

    return build


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    """A client with default options on the fake Neon; sync and async in turn."""
    return make_client()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio."""
    return "asyncio"
