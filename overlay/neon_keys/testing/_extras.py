"""The message given when the emulator's optional dependencies are missing."""

from __future__ import annotations

__all__ = ["SANDBOX_HINT", "missing_extra"]

SANDBOX_HINT = (
    "the Neon emulator (neon_keys.testing) needs starlette and uvicorn, which come with the "
    "sandbox extra: pip install 'neon-api-keys[sandbox]'"
)
"""What to install, in the words an ImportError shows."""


def missing_extra(err: ImportError) -> ImportError:
    """An ImportError naming the ``sandbox`` extra, for a failed import of ``err.name``."""
    missing = f" (cannot import {err.name})" if err.name else ""
    return ImportError(SANDBOX_HINT + missing, name=err.name)
