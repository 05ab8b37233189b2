"""The state of one ``neon-keys`` run: global options, the profile, and the client.

Where each setting comes from, first match wins: its own option on the command line
(``--api-key``, ``--api-host``, ``--org``); the profile named on the command line
(``--profile``); the environment (``NEON_API_KEY``, ``NEON_API_HOST``); the profile named by
``NEON_KEYS_PROFILE``; the default. What is typed wins over what is ambient, and a profile
picked on the command line counts as typed. ``NEON_ORG_ID`` is never read: it is exported
by ``neon-keys sandbox`` for commands to pass on (``--org $NEON_ORG_ID``), and a variable
left in a shell must not change which keys a command lists or revokes.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neon_keys._constants import API_HOST_ENV, API_KEY_ENV
from neon_keys._exceptions import ConfigurationError

from ._errors import CliError, ExitCode

if TYPE_CHECKING:
    from pathlib import Path

    from neon_keys._client import NeonKeys
    from neon_keys._scope import KeyScope

    from ._profiles import Profile


def utc_now() -> datetime.datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Session:
    """Global options of one run and the ``NeonKeys`` client they configure. Strictly private.

    ``api_key`` and ``api_host`` are the options' values (from the command line, or the
    environment when their names are in ``from_env``); ``profile_name`` the profile chosen
    (by ``NEON_KEYS_PROFILE`` when ``profile_from_env``). ``timeout`` is in seconds per
    phase of a request (None: the library's default), from ``--timeout`` or
    ``NEON_API_TIMEOUT``. ``client_options`` (extra ``NeonKeys`` arguments: ``backoff``,
    ``http_client``, ...), ``clock`` (this machine's time, which ``now`` falls back on) and
    ``config`` (the config file; None: the XDG location) are seams for tests.
    """

    api_key: str | None = None
    api_host: str | None = None
    from_env: frozenset[str] = frozenset()
    profile_name: str | None = None
    profile_from_env: bool = False
    config: Path | None = None
    output: str = "table"
    verbose: bool = False
    timeout: float | None = None
    client_options: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime.datetime] = utc_now
    _client: NeonKeys | None = field(default=None, repr=False)
    _profile: Profile | None = field(default=None, repr=False)
    _secrets: list[str] = field(default_factory=list, repr=False)

    @property
    def base_url(self) -> str | None:
        """The API root the client calls (None before it is built)."""
        return self._client.base_url if self._client is not None else None

    @property
    def json(self) -> bool:
        """Whether results are printed as JSON rather than tables."""
        return self.output == "json"

    def choose_profile(self, name: str | None, *, from_env: bool) -> None:
        """Use the profile ``name`` (None: none), chosen on the command line or by the
        environment (``from_env``); it is read when a setting first needs it."""
        self.profile_name = name or None
        self.profile_from_env = from_env
        self._profile = None

    def set_option(self, name: str, value: str | None, *, from_env: bool) -> None:
        """Set ``api_key`` or ``api_host``, noting whether it came from the environment."""
        setattr(self, name, value)
        self.from_env = (self.from_env | {name}) if from_env else (self.from_env - {name})

    def profile(self) -> Profile | None:
        """The chosen profile, read and checked on first use (None when none was chosen)."""
        if self.profile_name is None:
            return None
        if self._profile is None:
            from ._profiles import load_profile  # noqa: PLC0415  (tomllib, subprocess: not for --help)

            self._profile = load_profile(self.profile_name, self.config)
        return self._profile

    def default_org(self) -> str | None:
        """The organization commands work on when ``--org`` is not given: the profile's."""
        profile = self.profile()
        return profile.org if profile is not None else None

    def _pick(
        self, name: str, option: str, env: str, from_profile: Callable[[], str | None] | None
    ) -> tuple[str | None, str]:
        """The value of ``name`` from the first source that gives one, and that source's
        name for messages (see the module docstring); blank values count as none.

        ``from_profile`` reads the profile's value (None: the profile has none).
        """
        given = (getattr(self, name) or "").strip() or None
        typed = given if name not in self.from_env else None
        ambient = given if name in self.from_env else None
        profile = self.profile()
        by_profile = f"{name} of {profile.label}" if profile is not None else ""
        sources: list[tuple[Callable[[], str | None] | None, str]] = [
            (lambda: typed, option),
            (None if self.profile_from_env else from_profile, by_profile),
            (lambda: ambient, env),
            (from_profile if self.profile_from_env else None, by_profile),
        ]
        for source, where in sources:
            if source is not None and (value := source()):
                return value.strip(), where
        return None, f"{option} / {env}"

    def _api_key(self) -> tuple[str | None, str]:
        """The API key and where it came from (the profile's command runs only if no source
        before it gives one)."""
        profile = self.profile()
        command = profile.read_api_key if profile and profile.api_key_command else None
        return self._pick("api_key", "--api-key", API_KEY_ENV, command)

    def _api_host(self) -> tuple[str | None, str]:
        """The API root (None: the library's default) and where it came from."""
        profile = self.profile()
        host = (lambda: profile.api_host) if profile is not None else None
        return self._pick("api_host", "--api-host", API_HOST_ENV, host)

    def client(self) -> NeonKeys:
        """The client, built on first use (importing httpx only then)."""
        if self._client is not None:
            return self._client
        from neon_keys._base_client import resolve_api_key  # noqa: PLC0415  (imports httpx)
        from neon_keys._client import NeonKeys  # noqa: PLC0415  (imports httpx: not for --help)

        api_key, key_from = self._api_key()
        if not api_key:
            raise CliError(
                f"no Neon API key: pass --api-key, set {API_KEY_ENV}, or use a --profile "
                "with an api_key_command "
                "(create a key in the Neon Console: Account settings > API keys)",
                ExitCode.AUTH,
            )
        self.remember_secret(api_key)
        try:
            resolve_api_key(api_key)
        except ConfigurationError as err:
            message = f"{self.redact(str(err))} ({key_from})"
            raise CliError(message, ExitCode.USAGE) from None
        api_host, where = self._api_host()
        options = dict(self.client_options)
        if self.timeout is not None:
            options["timeout"] = self.timeout
        try:
            self._client = NeonKeys(api_key=api_key, base_url=api_host or None, **options)
        except ConfigurationError as err:
            raise CliError(f"{self.redact(str(err))} ({where})", ExitCode.USAGE) from None
        return self._client

    def now(self) -> datetime.datetime:
        """Neon's current time, from the ``Date`` of its latest answer (this machine's clock
        only before any answer, or if Neon's carried no readable ``Date``).

        The ages a command judges (``audit``, ``list --unused-days``) are measured on the
        clock that stamped ``created_at`` and ``last_used_at``: a wrong local clock then
        flags nothing wrongly, and a sandbox's moved clock ages its keys for the CLI too.
        """
        neon = self._client.server_now() if self._client is not None else None
        return neon if neon is not None else self.clock()

    def scope(self, org_id: str | None) -> KeyScope:
        """The keys a command works on: ``org(org_id).keys``, or the personal keys."""
        neon = self.client()
        return neon.org(org_id).keys if org_id else neon.personal_keys

    def every_scope(self) -> list[tuple[str | None, KeyScope]]:
        """Every scope the calling key reaches (``--all-orgs``), as (org id, keys) pairs.

        With a personal API key: its user's personal keys (org id None), then each
        organization the user belongs to. With an organization's (or project-scoped) key,
        which has no personal keys: the one organization that owns it, as Neon answers it.
        """
        from neon_keys._models import KeyKind  # noqa: PLC0415  (not for --help)

        neon = self.client()
        scopes: list[tuple[str | None, KeyScope]] = []
        if neon.whoami().key_kind is KeyKind.PERSONAL:
            scopes.append((None, neon.personal_keys))
        scopes += [(found.id, neon.org(found.id).keys) for found in neon.organizations()]
        return scopes

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
