"""The modules that read answers and keep secrets say exactly what they offer in ``__all__``."""

from __future__ import annotations

import importlib
from typing import TypeVar

import pytest

MODULES = ["_parsing", "_body", "_redaction", "_secret", "_exceptions"]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_every_public_name_and_only_those(name: str) -> None:
    """Every name in __all__ exists, and every public function, class or constant the
    module defines is in it (a stale __all__ fails here; ruff keeps it sorted)."""
    module = importlib.import_module(f"neon_keys.{name}")
    listed = module.__all__
    assert len(set(listed)) == len(listed)
    assert all(hasattr(module, n) for n in listed)
    defined = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_")
        and n != "TYPE_CHECKING"
        and not isinstance(value, TypeVar)
        and getattr(value, "__module__", module.__name__) == module.__name__
        and (callable(value) or n.isupper())
    }
    assert defined == set(listed)
