"""What ``neon-keys sandbox`` and the sandbox's control routes agree on.

It holds no server code, so that the command line can read it without the ``sandbox``
extra (the commands that act on a running sandbox need httpx only).
"""

from __future__ import annotations

__all__ = ["CONTROL_PATH"]

CONTROL_PATH = "/_sandbox"
"""Where the control routes live, at the server's root (outside the API's base path)."""
