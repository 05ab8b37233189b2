"""Requests to a running sandbox's control routes (``neon-keys sandbox status`` and the rest).

A sandbox is found through ``--env-file FILE`` (as ``start`` wrote it), else through
``NEON_API_HOST`` and ``NEON_API_KEY`` (or ``--api-host`` and ``--api-key``). Its address must
be plain http on a loopback address, checked before anything is sent, so that a real key
never goes anywhere else; the routes take only the key the sandbox printed. Each request is
bounded by ``CONTROL_TIMEOUT``; httpx is imported only when a request is made.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from neon_keys._constants import API_HOST_ENV, API_KEY_ENV

from ._errors import CliError, ExitCode
from ._session import Session

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CONTROL_TIMEOUT",
    "SandboxControls",
    "process_exited",
    "read_env_file",
    "sandbox_origin",
]

CONTROL_TIMEOUT = 10.0
"""Seconds allowed for each request to the control routes."""

_POLL_SECONDS = 0.1


def read_env_file(path: str, names: tuple[str, ...]) -> dict[str, str]:
    """The ``NAME=value`` lines of a dotenv file for ``names`` (``export`` prefixes allowed)."""
    try:
        with open(path, encoding="utf-8") as source:
            lines = source.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise CliError(f"cannot read --env-file {path}: {reason}", ExitCode.USAGE) from None
    values: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and name.strip() in names:
            values[name.strip()] = value.strip().strip("'\"")
    return values


class SandboxControls:
    """Requests to the control routes of the sandbox a command names.

    Args:
        session: the run's global options (``--api-host``, ``--api-key`` and the variables).
        env_file: the file ``start`` wrote, read instead of the session's settings.
    """

    def __init__(self, session: Session, env_file: str | None) -> None:
        from neon_keys.testing._protocol import CONTROL_PATH  # noqa: PLC0415

        self.path = CONTROL_PATH
        if env_file is not None:
            values = read_env_file(env_file, (API_HOST_ENV, API_KEY_ENV))
            host, key = values.get(API_HOST_ENV), values.get(API_KEY_ENV)
            where = f"--env-file {env_file}"
        else:
            host, key = session.api_host, session.api_key
            where = f"{API_HOST_ENV} and {API_KEY_ENV} (or --api-host and --api-key)"
        if not host or not key:
            raise CliError(
                f"which sandbox? {where} must give its address and key "
                "(as `neon-keys sandbox start` prints them)",
                ExitCode.USAGE,
            )
        self.origin = sandbox_origin(host)
        self.api_host = host
        self.key = key.strip()
        session.remember_secret(self.key)

    def call(self, method: str, path: str = "", body: dict[str, Any] | None = None) -> Any:
        """Send one control request; its JSON answer, or a ``CliError`` saying what failed."""
        import httpx  # noqa: PLC0415  (only commands that call a sandbox need it)

        try:
            with self._client() as http:
                response = http.request(method, self.path + path, json=body)
        except httpx.TransportError as err:
            raise CliError(f"no sandbox is answering at {self.origin}: {err}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code == 401:
            raise CliError(
                f"the sandbox at {self.origin} refused the key: its controls take the key "
                "it printed when it started",
                ExitCode.AUTH,
            )
        if response.status_code != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            detail = error if isinstance(error, str) else f"HTTP {response.status_code}"
            raise CliError(f"the sandbox at {self.origin} refused: {detail}")
        return answer

    def gone(self, pid: object, deadline: float) -> bool:
        """Wait until the server refuses connections and its process ``pid`` has exited.

        False if either is still there by ``deadline`` (a monotonic time).
        """
        import httpx  # noqa: PLC0415

        with self._client(timeout=1.0) as http:
            while time.monotonic() < deadline:
                try:
                    http.get(self.path)
                except httpx.TransportError:
                    break
                time.sleep(_POLL_SECONDS)
            else:
                return False
        while not process_exited(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS / 4)
        return True

    def _client(self, timeout: float = CONTROL_TIMEOUT) -> httpx.Client:
        import httpx  # noqa: PLC0415

        return httpx.Client(
            base_url=self.origin,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=timeout,
            trust_env=False,  # loopback only: never through a proxy from the environment
            follow_redirects=False,
        )


def process_exited(pid: object) -> bool:
    """Whether the process ``pid`` has exited (a zombie counts as exited).

    A pid that is not a positive int, or a process this user may not see, counts as exited:
    the port is closed by then, which is what matters to the caller.
    """
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except FileNotFoundError:
        if os.path.isdir("/proc"):
            return True
    except OSError:
        return True
    try:  # no /proc: ask the kernel
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return True
    return False


def sandbox_origin(api_host: str) -> str:
    """``http://127.0.0.1:PORT`` of a sandbox's ``NEON_API_HOST``; a usage error otherwise."""
    import ipaddress  # noqa: PLC0415
    import urllib.parse  # noqa: PLC0415

    parts = urllib.parse.urlsplit(api_host.strip())
    try:
        loopback = parts.scheme == "http" and ipaddress.ip_address(parts.hostname or "").is_loopback
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        loopback = False
    if not loopback:
        raise CliError(
            f"{api_host!r} is not a sandbox: neon-keys sandbox serves plain http on a "
            "loopback address (http://127.0.0.1:PORT/api/v2)",
            ExitCode.USAGE,
        )
    return f"{parts.scheme}://{parts.netloc}"
