"""Defaults and limits, named in one place."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://console.neon.tech/api/v2"
"""Neon's public API v2."""

API_KEY_ENV = "NEON_API_KEY"
"""Environment variable read when no ``api_key`` is passed."""

API_HOST_ENV = "NEON_API_HOST"
"""Environment variable read when no ``base_url`` is passed."""

ORG_ID_ENV = "NEON_ORG_ID"
"""Environment variable naming an organization (``neon-keys sandbox`` sets it)."""

PROJECT_ID_ENV = "NEON_PROJECT_ID"
"""Environment variable naming a project (``neon-keys sandbox`` sets it)."""

DEFAULT_TIMEOUT = 30.0
"""Seconds allowed for each phase of a request (connect, write, read, pool); an answer's
body must also arrive whole within the read timeout (``_body``)."""

DEFAULT_MAX_RETRIES = 2
"""Retries after the first attempt, for failures that are safe to retry."""

INITIAL_RETRY_DELAY = 0.5
"""Seconds before the first retry when the server gives no ``Retry-After``."""

MAX_RETRY_DELAY = 8.0
"""Upper bound, in seconds, of the exponential backoff."""

MAX_RETRY_AFTER = 60.0
"""Longest ``Retry-After`` (seconds) the client waits for; longer waits are left to the caller."""

KEY_NAME_MAX_LENGTH = 64
"""``maxLength`` of ``key_name`` in the spec."""

ID_PATTERN = r"^[a-z0-9-]{1,60}$"
"""Pattern of organization and project ids in the spec."""

REQUEST_ID_HEADER = "X-Request-ID"
"""Header carrying the client-chosen id of a request."""

RESPONSE_REQUEST_ID_HEADER = "x-neon-ret-request-id"
"""Header in which Neon returns the id of a request."""

ERROR_EXCERPT_LENGTH = 200
"""Characters of a non-JSON error body kept in the error message."""

ORPHAN_SERVER_SLACK = 2.0
"""Seconds the orphan search reaches back before a create left, on Neon's clock.

The moment the create left is put on Neon's clock as the listing's ``Date`` less the time
elapsed here since then (an overestimate: it includes the listing's own round trip, so
the moment comes out early, never late). Two whole seconds cover what remains: one for
``created_at``, written to the second and so up to a second before the key was made, and
one for the separate Neon machines stamping ``Date`` and ``created_at``, whose clocks
NTP keeps within milliseconds of each other. A key made by the lost create is never left
out; a key of the same name made more than two seconds before it is never blamed."""

ORPHAN_CLOCK_SKEW = 120.0
"""Seconds the orphan search reaches back before a create left when Neon's answer has no
``Date``: the local clock stands in for Neon's, and two minutes cover a machine whose
clock is not kept by NTP (a container or a laptop after sleep drifts by tens of seconds).
Neon and the proxies before it send ``Date`` with every answer, so this is a fallback."""

DELIVERED_KEYS_REMEMBERED = 1024
"""How many of the keys it created and returned a client remembers, so that the orphan
search never names one: far more than the creations that fit in the search's few
seconds under Neon's rate limits (40 a second)."""

INTERRUPTED_SEARCH_SECONDS = 5.0
"""Deadline, in seconds, of the search for a key whose create was interrupted (Ctrl-C, a
cancelled task): long enough for one listing on a slow link, short enough for a user who
is waiting to get out."""

NEON_REQUESTS_PER_MINUTE = 700
"""Neon's documented limit of requests per minute for one account."""

NEON_BURST_PER_ROUTE = 40
"""Neon's documented burst limit, in requests per second, for one route."""

NEON_ORG_CREATE_PER_SECOND = 10
"""Neon's documented limit of organization-key creations per second."""

BULK_CONCURRENCY = 8
"""Requests in flight at once during bulk work (``revoke_many``)."""


# -- the covered operations ------------------------------------------------------------------
# One table for the client, its pacing and the emulator (routes, fault injection).

ORG_KEY_CREATE_OPERATION = "createOrgApiKey"
"""The operation Neon limits separately (``NEON_ORG_CREATE_PER_SECOND``)."""

ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("listApiKeys", "GET", "/api_keys"),
    ("createApiKey", "POST", "/api_keys"),
    ("revokeApiKey", "DELETE", "/api_keys/{key_id}"),
    ("listOrgApiKeys", "GET", "/organizations/{org_id}/api_keys"),
    (ORG_KEY_CREATE_OPERATION, "POST", "/organizations/{org_id}/api_keys"),
    ("revokeOrgApiKey", "DELETE", "/organizations/{org_id}/api_keys/{key_id}"),
    ("getAuthDetails", "GET", "/auth"),
    ("getCurrentUserOrganizations", "GET", "/users/me/organizations"),
)
"""``(operationId, method, path template)`` of each operation of ``openapi.yaml``."""

OPERATION_IDS: tuple[str, ...] = tuple(operation_id for operation_id, _, _ in ENDPOINTS)
"""The covered operations, by ``operationId``, in the order of ``ENDPOINTS``."""


# -- leases ----------------------------------------------------------------------------------

DEFAULT_LEASE_TTL = 3_600.0
"""Seconds a lease lives when no ``ttl`` is given (``lease()``, ``neon-keys exec``)."""

LEASE_SWEEP_GRACE = 300.0
"""Seconds past its expiry, on Neon's clock, before a sweep revokes a lease: room for the
clock of the machine that stamped it to differ from Neon's."""

LEASE_CLOCK_TOLERANCE = 60.0
"""Seconds by which a lease's stamp may miss Neon's clock before it is made again: a lease
stamped by a clock further off would expire that much too early or too late."""

LEASE_REVOKE_TIMEOUT = 30.0
"""Seconds an async lease waits for its revoke when the block was cancelled (shielded)."""
