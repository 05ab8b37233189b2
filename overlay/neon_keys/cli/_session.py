"""The state of one ``neon-keys`` run: global options and the client, built on first use."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neon_keys._constants import API_HOST_ENV, API_KEY_ENV
from neon_keys._exceptions import ConfigurationError

from ._errors import CliError, ExitCode

if TYPE_CHECKING:
    from neon_keys._client import NeonKeys
    from neon_keys._scope import KeyScope


def utc_now() -> datetime.datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Session:
    """Global options of one run and the ``NeonKeys`` client they configure. Strictly private.

    ``timeout`` is in seconds per phase of a request (None: the library's default), from
    ``--timeout`` or ``NEON_API_TIMEOUT``.
    ``client_options`` (extra ``NeonKeys`` arguments: ``backoff``, ``http_client``, ...) and
    ``clock`` (the current time, for audits) are seams for tests.
    """

    api_key: str | None = None
    api_host: str | None = None
    output: str = "table"
    verbose: bool = False
    timeout: float | None = None
    client_options: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime.datetime] = utc_now
    _client: NeonKeys | None = field(default=None, repr=False)
    _secrets: list[str] = field(default_factory=list, repr=False)

    @property
    def base_url(self) -> str | None:
        """The API root the client calls (None before it is built)."""
        return self._client.base_url if self._client is not None else None

    @property
    def json(self) -> bool:
        """Whether results are printed as JSON rather than tables."""
        return self.output == "json"

    def client(self) -> NeonKeys:
        """The client, built on first use (importing httpx only then)."""
        if self._client is not None:
            return self._client
        from neon_keys._base_client import resolve_api_key  # noqa: PLC0415  (imports httpx)
        from neon_keys._client import NeonKeys  # noqa: PLC0415  (imports httpx: not for --help)

        api_key = (self.api_key or "").strip()
        if not api_key:
            raise CliError(
                f"no Neon API key: pass --api-key or set {API_KEY_ENV} "
                "(create one in the Neon Console: Account settings > API keys)",
                ExitCode.AUTH,
            )
        self.remember_secret(api_key)
        try:
            resolve_api_key(api_key)
        except ConfigurationError as err:
            message = f"{self.redact(str(err))} (--api-key / {API_KEY_ENV})"
            raise CliError(message, ExitCode.USAGE) from None
        options = dict(self.client_options)
        if self.timeout is not None:
            options["timeout"] = self.timeout
        try:
            self._client = NeonKeys(api_key=api_key, base_url=self.api_host or None, **options)
        except ConfigurationError as err:
            message = f"{self.redact(str(err))} (--api-host / {API_HOST_ENV})"
            raise CliError(message, ExitCode.USAGE) from None
        return self._client

    def scope(self, org_id: str | None) -> KeyScope:
        """The keys a command works on: ``org(org_id).keys``, or the personal keys."""
        neon = self.client()
        return neon.org(org_id).keys if org_id else neon.personal_keys

    def close(self) -> None:
        """Release the client's connection pool, if a client was built."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def remember_secret(self, value: str) -> None:
        """Note a token that ``redact`` must hide from every message."""
        if value:
            self._secrets.append(value)

    def redact(self, text: str) -> str:
        """``text`` with the API key and every secret seen in this run masked."""
        for value in self._secrets:
            text = text.replace(value, "[redacted]")
        return text
